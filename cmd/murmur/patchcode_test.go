package main

import (
	"strings"
	"testing"

	"murmur/api"
)

// sampleDiff has a modified, an added, a renamed and a binary file, and a
// line that tries to drive the terminal.
func sampleDiff() api.Diff {
	return api.Diff{Revision: 1, Base: sha1, Head: sha1, Added: 4, Deleted: 1, Files: []api.DiffFile{
		{Path: "main.go", Status: "modified", Added: 2, Deleted: 1, Hunks: []api.DiffHunk{{
			Header: "@@ -1,3 +1,4 @@ package main", OldStart: 1, OldLines: 3, NewStart: 1, NewLines: 4,
			Lines: []api.DiffLine{
				{Kind: " ", Old: 1, New: 1, Text: "func main() {"},
				{Kind: "-", Old: 2, Text: "\tprintln(\"old\")"},
				{Kind: "+", New: 2, Text: "\tprintln(\"new\")"},
				{Kind: "+", New: 3, Text: "\tprintln(\"\x1b[31mred\x1b[0m\")"},
				{Kind: " ", Old: 3, New: 4, Text: "}"},
			},
		}}},
		{Path: "doc.txt", Status: "added", Added: 2, Hunks: []api.DiffHunk{{
			Header: "@@ -0,0 +1,2 @@", NewStart: 1, NewLines: 2,
			Lines: []api.DiffLine{{Kind: "+", New: 1, Text: "one"}, {Kind: "+", New: 2, Text: "two"}},
		}}},
		{Path: "new/name.go", OldPath: "old.go", Status: "renamed"},
		{Path: "logo.png", Status: "modified", Binary: true},
	}}
}

func TestDiffOutput(t *testing.T) {
	for _, tt := range []struct {
		name string
		tty  bool
		stat bool
	}{
		{name: "patch-diff.txt"},
		{name: "patch-diff.term", tty: true},
		{name: "patch-diff-stat.txt", stat: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{env: env{StdoutTTY: tt.tty, Getenv: func(string) string { return "" }}}
			if tt.stat {
				a.writeDiffStat(sampleDiff())
			} else {
				a.writeDiff(sampleDiff())
			}
			out := a.out.String()
			if tt.tty && strings.Contains(out, "\x1b[31mred") {
				t.Errorf("a terminal gets the escape sequences of a diff line:\n%q", out)
			}
			if tt.tty != strings.Contains(out, "\x1b[32m+") {
				t.Errorf("added lines coloured = %v, want %v", !tt.tty, tt.tty)
			}
			golden(t, tt.name, out)
		})
	}
}

func TestScaleStat(t *testing.T) {
	for _, tt := range []struct{ n, most, want int }{
		{0, 100, 0}, {1, 1000, 1}, {100, 100, diffStatWidth}, {50, 100, diffStatWidth / 2},
	} {
		if got := scaleStat(tt.n, tt.most); got != tt.want {
			t.Errorf("scaleStat(%d, %d) = %d, want %d", tt.n, tt.most, got, tt.want)
		}
	}
}
