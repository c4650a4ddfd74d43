package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	gocmp "github.com/google/go-cmp/cmp"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"Parser crash: the parser CRASHED!", []string{"parser", "crash", "the", "crashed"}},
		{"Grüße aus Köln, naïve café", []string{"grüße", "aus", "köln", "naïve", "café"}},
		{"v1.2 x_y foo-bar", []string{"v1", "2", "x", "y", "foo", "bar"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
		{strings.Repeat("a", 100), []string{strings.Repeat("a", MaxTokenLen)}},
		{strings.Repeat("é", 30), []string{strings.Repeat("é", MaxTokenLen/2)}},
	} {
		if got := Tokens(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want Query
	}{
		{"crash", Query{Terms: []string{"crash"}, Prefix: true}},
		{"crash ", Query{Terms: []string{"crash"}}},
		{"Parser crash is:open", Query{Terms: []string{"parser", "crash"}, States: []string{"open"}}},
		{`is:closed is:pr label:"good first" author:ana repo:murmur lexer`, Query{Terms: []string{"lexer"}, Prefix: true, States: []string{"closed"}, Types: []string{"patch"}, Labels: []string{"good first"}, Authors: []string{"ana"}, Repo: "murmur"}},
		{`"exact words"`, Query{Terms: []string{"exact", "words"}}},
		{"https://example.com/x", Query{Terms: []string{"https", "example", "com", "x"}, Prefix: true}},
		{"IS:Merged type:issue fix", Query{Terms: []string{"fix"}, Prefix: true, States: []string{"merged"}, Types: []string{"issue"}}},
	} {
		got, err := Parse(tc.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		if d := gocmp.Diff(tc.want, got); d != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.q, d)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"", "no words"},
		{"is:open", "no words"},
		{"is:shiny crash", "use one of open, closed"},
		{"label: crash", "needs a value"},
		{`label:"open crash`, "quote is not closed"},
		{"repo:a repo:b x", "one repo at a time"},
		{strings.Repeat("word ", 20), "at most"},
		{strings.Repeat("a", MaxQueryLen+1), "keep it under"},
		{"\xff", "UTF-8"},
	} {
		_, err := Parse(tc.q)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.q, err, tc.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	q, _ := Parse("zebra")
	long := strings.Repeat("lorem ipsum ", 20) + "the Zebra\nran " + strings.Repeat("dolor sit ", 20)
	got := Snippet(long, q, 40)
	if !strings.Contains(got, "Zebra ran") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Errorf("Snippet = %q, want the hit on one line with … on both sides", got)
	}
	if n := utf8.RuneCountInString(got); n > 44 {
		t.Errorf("Snippet is %d runes, want about 40", n)
	}
	if got := Snippet("short zebra", q, 40); got != "short zebra" {
		t.Errorf("Snippet(short) = %q", got)
	}
	if got := Snippet("no match", q, 40); got != "" {
		t.Errorf("Snippet(no match) = %q, want empty", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"crash", `is:open label:"a b" x`, "author:ana repo:r y ", `"`, "is:", "日本 is:pr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		if len(q.Terms) == 0 || len(q.Terms) > MaxTerms {
			t.Fatalf("Parse(%q) has %d terms", s, len(q.Terms))
		}
		for _, term := range q.Terms {
			if term == "" || len(term) > MaxTokenLen || strings.ContainsRune(term, 0) || !utf8.ValidString(term) {
				t.Fatalf("Parse(%q) term %q", s, term)
			}
		}
		_ = Snippet(s, q, 40)
	})
}
