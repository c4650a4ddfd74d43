package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// printJSON writes v as one indented JSON document.
func (a *app) printJSON(v any) error {
	if a.json.shaped() {
		return a.printShaped(v)
	}
	enc := json.NewEncoder(&a.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// printJSONList writes a list as one indented JSON array. Elements are
// encoded one at a time into a reused buffer, which for long lists costs a
// fraction of indenting one large document.
func printJSONList[T any](a *app, list []T) error {
	if a.json.shaped() {
		return a.printShaped(nonNil(list))
	}
	if len(list) == 0 {
		a.out.WriteString("[]\n")
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	a.out.WriteString("[\n")
	for i := range list {
		buf.Reset()
		if err := enc.Encode(&list[i]); err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		a.out.WriteString("  ")
		a.out.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if i < len(list)-1 {
			a.out.WriteString(",")
		}
		a.out.WriteString("\n")
	}
	a.out.WriteString("]\n")
	return nil
}

// nonNil makes a nil list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// pretty reports whether stdout gets the terminal form (aligned tables,
// relative times) rather than tab-separated lines.
func (a *app) pretty() bool { return a.StdoutTTY }

// colour reports whether output may carry ANSI colours: stdout is a
// terminal, NO_COLOR is unset and TERM is not "dumb".
func (a *app) colour() bool {
	return a.StdoutTTY && a.Getenv("NO_COLOR") == "" && a.Getenv("TERM") != "dumb"
}

// Styles: SGR parameters.
const (
	styleNone    = ""
	styleBold    = "1"
	styleDim     = "2"
	styleRed     = "31"
	styleGreen   = "32"
	styleYellow  = "33"
	styleMagenta = "35"
	styleCyan    = "36"
)

// paint wraps s in the style when colours are on.
func (a *app) paint(style, s string) string {
	if style == "" || s == "" || !a.colour() {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// stateStyle colours an issue or patch state.
func stateStyle(state string) string {
	switch state {
	case "open":
		return styleGreen
	case "closed":
		return styleRed
	case "merged":
		return styleMagenta
	case "draft":
		return styleDim
	case "approve":
		return styleGreen
	case "request-changes":
		return styleRed
	}
	return styleNone
}

// cell is one table cell: plain text and a style.
type cell struct {
	text  string
	style string
}

// table renders rows on a terminal as aligned columns (two spaces apart,
// colours applied after measuring so they never shift alignment) and off a
// terminal as tab-separated lines without header or colour.
type table struct {
	header []string
	rows   [][]cell
	// flex is the column shrunk to fit the terminal width, or -1.
	flex int
}

func newTable(flex int, header ...string) *table {
	return &table{header: header, flex: flex}
}

// add appends a row; cells are sanitized for a single line.
func (t *table) add(cells ...cell) {
	for i := range cells {
		cells[i].text = sanitizeLine(cells[i].text)
	}
	t.rows = append(t.rows, cells)
}

// write prints the table for a.
func (a *app) writeTable(w io.Writer, t *table) {
	if !a.pretty() {
		for _, r := range t.rows {
			parts := make([]string, len(r))
			for i, c := range r {
				parts[i] = c.text
			}
			fmt.Fprintln(w, strings.Join(parts, "\t"))
		}
		return
	}
	cols := len(t.header)
	for _, r := range t.rows {
		cols = max(cols, len(r))
	}
	widths := make([]int, cols)
	for i, h := range t.header {
		widths[i] = ansi.StringWidth(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], ansi.StringWidth(c.text))
		}
	}
	const gap = 2
	if a.Width > 0 && t.flex >= 0 && t.flex < cols {
		total := 0
		for _, w := range widths {
			total += w
		}
		total += gap * (cols - 1)
		if over := total - a.Width; over > 0 {
			widths[t.flex] = max(widths[t.flex]-over, min(widths[t.flex], 12))
		}
	}
	line := func(cells []cell) {
		var b strings.Builder
		// Trailing empty cells are not padded.
		last := len(cells) - 1
		for last >= 0 && cells[last].text == "" {
			last--
		}
		for i := 0; i <= last; i++ {
			c := cells[i]
			text := c.text
			if ansi.StringWidth(text) > widths[i] {
				text = ansi.Truncate(text, widths[i], "…")
			}
			b.WriteString(a.paint(c.style, text))
			if i < last {
				b.WriteString(strings.Repeat(" ", widths[i]-ansi.StringWidth(text)+gap))
			}
		}
		fmt.Fprintln(w, b.String())
	}
	if len(t.header) > 0 {
		hc := make([]cell, len(t.header))
		for i, h := range t.header {
			hc[i] = cell{text: h, style: styleBold}
		}
		line(hc)
	}
	for _, r := range t.rows {
		line(r)
	}
}

// kv prints "key value" lines: aligned on a terminal, "key:\tvalue" off it.
func (a *app) writeFields(w io.Writer, fields [][2]string) {
	if !a.pretty() {
		for _, f := range fields {
			fmt.Fprintf(w, "%s:\t%s\n", f[0], sanitizeLine(f[1]))
		}
		return
	}
	width := 0
	for _, f := range fields {
		width = max(width, len(f[0]))
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%s%s  %s\n", a.paint(styleDim, f[0]+":"), strings.Repeat(" ", width-len(f[0])), sanitizeLine(f[1]))
	}
}

// shortLen is the length of a short ID.
const shortLen = 8

// short is the display form of an object ID: its first 8 hex digits.
func short(id string) string { return prefix(id, shortLen) }

func prefix(id string, n int) string {
	if len(id) > n {
		return id[:n]
	}
	return id
}

// uniqueLen is the shortest prefix length, at least shortLen, at which
// the IDs of a list are all distinct, so that every ID a list prints can
// be typed back (as git abbreviates hashes).
func uniqueLen(ids []string) int {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	n := shortLen
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		common := 0
		for common < len(a) && common < len(b) && a[common] == b[common] {
			common++
		}
		n = max(n, common+1)
	}
	return n
}

// personName is how a person is shown: alias and short key, or the key.
func personName(p api.Person) string {
	s := p.Short
	if s == "" {
		s = shortDID(p.ID)
	}
	if p.Alias != "" {
		return p.Alias + " (" + s + ")"
	}
	return s
}

// personShort is the compact form for tables: the alias, else short key.
func personShort(p api.Person) string {
	if p.Alias != "" {
		return p.Alias
	}
	if p.Short != "" {
		return p.Short
	}
	return shortDID(p.ID)
}

// shortDID shortens did:key:z6Mk…abcd.
func shortDID(did string) string {
	const pre = "did:key:"
	k := strings.TrimPrefix(did, pre)
	if len(k) <= 12 {
		return k
	}
	return k[:8] + "…" + k[len(k)-4:]
}

func people(ps []api.Person) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = personShort(p)
	}
	return strings.Join(names, ", ")
}

// when formats a time: relative on a terminal, RFC 3339 UTC off it.
func (a *app) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if !a.pretty() {
		return t.UTC().Format(time.RFC3339)
	}
	return ago(a.Now(), t)
}

// ago is a short relative time.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return t.Local().Format("2006-01-02 15:04")
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
	return t.Local().Format("2006-01-02")
}

// sanitizeLine makes untrusted text safe on one terminal line or one TSV
// field: tabs and line breaks become spaces, other control characters and
// bidirectional overrides are dropped, so text from a peer can neither
// forge table columns nor drive the terminal.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unsafeRune(r):
			return -1
		}
		return r
	}, s)
}

// sanitizeText is sanitizeLine for multi-line text: it keeps line breaks
// and tabs.
func sanitizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' || unsafeRune(r) {
			return -1
		}
		return r
	}, s)
}

// unsafeRune reports control characters (C0, DEL, C1) and bidirectional
// formatting characters.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
