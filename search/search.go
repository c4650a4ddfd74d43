// Package search owns the text side of full-text search: how text is cut
// into index tokens, how a user's query (words and gh-style qualifiers)
// is parsed, and how a snippet around a hit is cut. It is a leaf package:
// storage keeps the inverted index with these tokens, node runs queries
// with them, and it imports nothing of ours.
package search

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTokenLen bounds a token in bytes; a longer word is indexed and
// searched by its first MaxTokenLen bytes (cut at a rune boundary).
const MaxTokenLen = 40

// MaxQueryLen bounds a query in bytes, and MaxTerms the words in it.
const (
	MaxQueryLen = 1 << 10
	MaxTerms    = 16
)

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// word is one word of a text: its byte span and its token.
type word struct {
	start, end int
	token      string
}

// words calls f with each word of text, in order, until f returns false.
func words(text string, f func(w word) bool) {
	var b strings.Builder
	start := -1
	flush := func(end int) bool {
		if start < 0 {
			return true
		}
		w := word{start: start, end: end, token: b.String()}
		start = -1
		b.Reset()
		return f(w)
	}
	for i, r := range text {
		if !isWordRune(r) {
			if !flush(i) {
				return
			}
			continue
		}
		if start < 0 {
			start = i
		}
		r = unicode.ToLower(r)
		if b.Len()+utf8.RuneLen(r) <= MaxTokenLen {
			b.WriteRune(r)
		}
	}
	flush(len(text))
}

// Tokens returns the distinct tokens of text, in order of first use:
// maximal runs of letters and digits, lowercased, each cut to MaxTokenLen
// bytes. A token never contains a zero byte.
func Tokens(text string) []string {
	var out []string
	seen := map[string]bool{}
	words(text, func(w word) bool {
		if !seen[w.token] {
			seen[w.token] = true
			out = append(out, w.token)
		}
		return true
	})
	return out
}

// Query is a parsed search query. Every term must match (AND); the last
// term matches as a prefix when Prefix is set. Empty filters match all.
type Query struct {
	Terms   []string // tokens, in query order
	Prefix  bool     // the last term matches any token it begins
	States  []string // open, closed, merged, draft: any of them
	Types   []string // issue, patch: any of them
	Labels  []string // every label must be set
	Authors []string // alias or did:key: any of them
	Repo    string   // repo name, ID or prefix; "" for every followed repo
}

// ErrEmpty is returned by Parse for a query without words.
var ErrEmpty = errors.New("search: the query has no words to look for; give at least one word, such as `crash is:open`")

// Parse parses a query such as `crash parser is:open label:bug author:ana`.
// Qualifiers follow gh: is:open|closed|merged|draft, is:issue|patch (also
// is:pr), label:NAME, author:ALIAS|DID, repo:NAME. A value with spaces is
// quoted: label:"good first issue". Words may be quoted too; a quoted word
// list is searched word by word. The last word matches as a prefix unless
// the query ends in a space or a quote. Errors say what to change.
func Parse(q string) (Query, error) {
	var out Query
	if len(q) > MaxQueryLen {
		return out, fmt.Errorf("search: the query is %d bytes; keep it under %d", len(q), MaxQueryLen)
	}
	if !utf8.ValidString(q) {
		return out, errors.New("search: the query is not valid UTF-8")
	}
	fields, err := split(q)
	if err != nil {
		return out, err
	}
	lastIsWord := false // the query ends in an unquoted word
	for _, f := range fields {
		name, value, ok := qualifier(f)
		lastIsWord = !ok && !f.quoted
		if !ok {
			out.Terms = append(out.Terms, Tokens(f.text)...)
			continue
		}
		if value == "" {
			return out, fmt.Errorf("search: %s: needs a value, such as %s", name, example(name))
		}
		switch name {
		case "is", "state":
			switch v := strings.ToLower(value); v {
			case "open", "closed", "merged", "draft":
				out.States = appendNew(out.States, v)
			case "issue", "patch", "pr":
				if v == "pr" {
					v = "patch"
				}
				out.Types = appendNew(out.Types, v)
			default:
				return out, fmt.Errorf("search: %s:%s: use one of open, closed, merged, draft, issue or patch", name, value)
			}
		case "type":
			switch v := strings.ToLower(value); v {
			case "issue", "patch", "pr":
				if v == "pr" {
					v = "patch"
				}
				out.Types = appendNew(out.Types, v)
			default:
				return out, fmt.Errorf("search: type:%s: use issue or patch", value)
			}
		case "label":
			out.Labels = appendNew(out.Labels, value)
		case "author":
			out.Authors = appendNew(out.Authors, value)
		case "repo":
			if out.Repo != "" && out.Repo != value {
				return out, fmt.Errorf("search: repo:%s and repo:%s: search one repo at a time, or none to search all", out.Repo, value)
			}
			out.Repo = value
		}
	}
	if len(out.Terms) == 0 {
		return out, ErrEmpty
	}
	if len(out.Terms) > MaxTerms {
		return out, fmt.Errorf("search: the query has %d words; use at most %d", len(out.Terms), MaxTerms)
	}
	out.Prefix = lastIsWord && isWordRune(lastRune(q))
	return out, nil
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func example(name string) string {
	switch name {
	case "is", "state":
		return "is:open"
	case "type":
		return "type:issue"
	case "label":
		return "label:bug"
	case "author":
		return "author:ana"
	default:
		return "repo:murmur"
	}
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

type field struct {
	text   string
	quoted bool // the field ended in a closing quote
}

// split cuts q at spaces outside double quotes. Quotes are removed.
func split(q string) ([]field, error) {
	var out []field
	var b strings.Builder
	inQuote, any, quoted := false, false, false
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
			any = true
			quoted = !inQuote
		case unicode.IsSpace(r) && !inQuote:
			if any {
				out = append(out, field{b.String(), quoted})
			}
			b.Reset()
			any, quoted = false, false
		default:
			b.WriteRune(r)
			any = true
			quoted = false
		}
	}
	if inQuote {
		return nil, errors.New(`search: a quote is not closed; close it, as in label:"good first issue"`)
	}
	if any {
		out = append(out, field{b.String(), quoted})
	}
	return out, nil
}

var qualifiers = map[string]bool{"is": true, "state": true, "type": true, "label": true, "author": true, "repo": true}

// qualifier reports whether f is a known qualifier, name:value. Other
// text with a colon, such as a URL, is searched as words.
func qualifier(f field) (name, value string, ok bool) {
	name, value, ok = strings.Cut(f.text, ":")
	if !ok || !qualifiers[strings.ToLower(name)] {
		return "", "", false
	}
	return strings.ToLower(name), value, true
}

// Matches reports whether token matches term: equal, or, when prefix is
// set, beginning with it.
func Matches(token, term string, prefix bool) bool {
	if prefix {
		return strings.HasPrefix(token, term)
	}
	return token == term
}

// Snippet returns about width runes of text around the first word that
// matches one of q's terms, on one line, with "…" where text was cut. It
// returns "" when no word matches.
func Snippet(text string, q Query, width int) string {
	hit := -1
	var hitEnd int
	words(text, func(w word) bool {
		for i, t := range q.Terms {
			if Matches(w.token, t, q.Prefix && i == len(q.Terms)-1) {
				hit, hitEnd = w.start, w.end
				return false
			}
		}
		return true
	})
	if hit < 0 {
		return ""
	}
	// Take up to width/3 runes before the hit, and fill the rest after.
	start := hit
	for n := 0; start > 0 && n < width/3; n++ {
		_, size := utf8.DecodeLastRuneInString(text[:start])
		start -= size
	}
	end := hitEnd
	for n := utf8.RuneCountInString(text[start:hitEnd]); end < len(text) && n < width; n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	// Cut at spaces, not inside words, where the text allows.
	if start > 0 {
		if i := strings.IndexFunc(text[start:hit], unicode.IsSpace); i >= 0 {
			start += i + 1
		}
	}
	if end < len(text) {
		if i := strings.LastIndexFunc(text[hitEnd:end], unicode.IsSpace); i >= 0 {
			end = hitEnd + i
		}
	}
	s := strings.Join(strings.Fields(text[start:end]), " ")
	if start > 0 {
		s = "…" + s
	}
	if end < len(text) {
		s += "…"
	}
	return s
}
