package gitstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// write writes text to name in the working copy and stages it.
func (w *work) write(name, text string) {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(w.dir, name)), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.git("add", name)
}

func TestDiff(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	w := newWork(t, s.git)
	w.write("keep.txt", "one\ntwo\nthree\nfour\nfive\n")
	w.write("gone.txt", "bye\n")
	w.write("moved.txt", "a\nb\nc\nd\ne\nf\ng\nh\n")
	w.write("bin", "\x00\x01\x02")
	w.git("commit", "-q", "-m", "base")
	base := w.git("rev-parse", "HEAD")
	w.write("keep.txt", "one\n2\nthree\nfour\nfive\nsix")
	w.git("rm", "-q", "gone.txt")
	if err := os.Mkdir(filepath.Join(w.dir, "dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	w.git("mv", "moved.txt", "dir/moved.txt")
	w.write("new.txt", "fresh\n")
	w.write("bin", "\x00\x03")
	w.git("commit", "-q", "-m", "change")
	head := w.git("rev-parse", "HEAD")
	w.push(s, "r", "refs/heads/main")

	d, err := s.Diff(ctx, "r", base, head, false)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]FileDiff{}
	for _, f := range d.Files {
		byPath[f.Path] = f
	}
	if len(d.Files) != 5 || d.Truncated {
		t.Fatalf("Diff = %+v, want 5 files", d)
	}
	keep := byPath["keep.txt"]
	want := []Hunk{{Header: "@@ -1,5 +1,6 @@", OldStart: 1, OldLines: 5, NewStart: 1, NewLines: 6, Lines: []Line{
		{Kind: ' ', Old: 1, New: 1, Text: "one"},
		{Kind: '-', Old: 2, Text: "two"},
		{Kind: '+', New: 2, Text: "2"},
		{Kind: ' ', Old: 3, New: 3, Text: "three"},
		{Kind: ' ', Old: 4, New: 4, Text: "four"},
		{Kind: ' ', Old: 5, New: 5, Text: "five"},
		{Kind: '+', New: 6, Text: "six"},
	}}}
	if keep.Status != "modified" || keep.Added != 2 || keep.Deleted != 1 {
		t.Errorf("keep.txt = %+v", keep)
	}
	if diff := cmp.Diff(want, keep.Hunks); diff != "" {
		t.Errorf("keep.txt hunks (-want +got):\n%s", diff)
	}
	if f := byPath["gone.txt"]; f.Status != "deleted" || f.Deleted != 1 || len(f.Hunks) != 1 {
		t.Errorf("gone.txt = %+v", f)
	}
	if f := byPath["dir/moved.txt"]; f.Status != "renamed" || f.OldPath != "moved.txt" || len(f.Hunks) != 0 {
		t.Errorf("dir/moved.txt = %+v", f)
	}
	if f := byPath["new.txt"]; f.Status != "added" || f.Added != 1 || len(f.Hunks) != 1 || f.Hunks[0].Lines[0].New != 1 {
		t.Errorf("new.txt = %+v", f)
	}
	if f := byPath["bin"]; !f.Binary || len(f.Hunks) != 0 {
		t.Errorf("bin = %+v", f)
	}

	st, err := s.Diff(ctx, "r", base, head, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Files {
		if len(f.Hunks) != 0 {
			t.Errorf("stat diff has hunks for %s", f.Path)
		}
	}
	if len(st.Files) != 5 {
		t.Errorf("stat diff has %d files, want 5", len(st.Files))
	}
	root, err := s.Diff(ctx, "r", "", base, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Files) != 4 || root.Files[0].Status != "added" {
		t.Errorf("diff from the empty tree = %+v", root.Files)
	}

	if mb, err := s.MergeBase(ctx, "r", base, head); err != nil || mb != base {
		t.Errorf("MergeBase = %q, %v; want %s", mb, err, base)
	}
	if p, err := s.FirstParent(ctx, "r", head); err != nil || p != base {
		t.Errorf("FirstParent = %q, %v; want %s", p, err, base)
	}
	if p, err := s.FirstParent(ctx, "r", base); err != nil || p != "" {
		t.Errorf("FirstParent of the root = %q, %v; want none", p, err)
	}
}

func TestLineCount(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	w := newWork(t, s.git)
	w.write("three", "a\nb\nc\n")
	w.write("open", "a\nb")
	w.write("empty", "")
	w.write("dir/f", "x\n")
	w.git("commit", "-q", "-m", "files")
	head := w.git("rev-parse", "HEAD")
	w.push(s, "r", "refs/heads/main")
	for _, tc := range []struct {
		path string
		want int
		err  error
	}{
		{"three", 3, nil}, {"open", 2, nil}, {"empty", 0, nil}, {"dir/f", 1, nil},
		{"dir", 0, ErrNoPath}, {"nope", 0, ErrNoPath}, {"./three", 0, ErrNoPath}, {"../x", 0, ErrNoPath}, {"/three", 0, ErrNoPath},
	} {
		n, err := s.LineCount(ctx, "r", head, tc.path)
		if n != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("LineCount(%q) = %d, %v; want %d, %v", tc.path, n, err, tc.want, tc.err)
		}
	}
}

func TestParsePatchMalformed(t *testing.T) {
	for _, in := range []string{
		"@@ -1 +1 @@\n",
		"diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n",
		"diff --git a/x b/x\n@@ -1,x +1 @@\n",
		"diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\ngarbage\n",
	} {
		if _, _, err := ParsePatch([]byte(in), 100); err == nil {
			t.Errorf("ParsePatch(%q) = nil error, want one", in)
		}
	}
	files, complete, err := ParsePatch([]byte("diff --git a/x b/x\n@@ -1,3 +1,3 @@\n a\n-b\n"), 100)
	if err != nil || complete || len(files) != 1 {
		t.Errorf("ParsePatch of a cut hunk = %v, %v, %v; want incomplete", files, complete, err)
	}
}

func FuzzParsePatch(f *testing.F) {
	f.Add([]byte("diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@ f\n a\n-b\n+c\n\\ No newline at end of file\n"))
	f.Add([]byte("diff --git a/b b/b\nBinary files a/b and b/b differ\ndiff --git a/y b/y\nnew file mode 100644\n@@ -0,0 +1 @@\n+z\n"))
	f.Add([]byte("diff --git a/x b/x\n@@ -5 +5,0 @@\n-q\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, _, _ := ParsePatch(data, 1000)
		kept := 0
		for _, hunks := range files {
			for _, h := range hunks {
				oldN, newN := h.OldStart, h.NewStart
				var old, nw int
				for _, l := range h.Lines {
					kept++
					switch l.Kind {
					case ' ':
						if l.Old != oldN+old || l.New != newN+nw {
							t.Fatalf("context line numbered %d/%d, want %d/%d", l.Old, l.New, oldN+old, newN+nw)
						}
						old, nw = old+1, nw+1
					case '-':
						if l.Old != oldN+old || l.New != 0 {
							t.Fatalf("deleted line numbered %d/%d", l.Old, l.New)
						}
						old++
					case '+':
						if l.New != newN+nw || l.Old != 0 {
							t.Fatalf("added line numbered %d/%d", l.Old, l.New)
						}
						nw++
					default:
						t.Fatalf("line kind %q", l.Kind)
					}
					if strings.Contains(l.Text, "\n") {
						t.Fatalf("line text %q holds a newline", l.Text)
					}
				}
				if old > h.OldLines || nw > h.NewLines {
					t.Fatalf("hunk %q holds %d/%d lines", h.Header, old, nw)
				}
			}
		}
		if kept > 1000 {
			t.Fatalf("kept %d lines, bound 1000", kept)
		}
	})
}
