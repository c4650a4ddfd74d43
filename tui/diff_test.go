package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

// openDiff opens the fake patch's files & diff screen.
func openDiff(t testing.TB, f *fakeService, w, h int) (*harness, *diffScreen) {
	t.Helper()
	hs := newHarness(t, f, w, h)
	hs.press("enter", "tab", "enter", "f")
	ds, ok := hs.m.top().(*diffScreen)
	if !ok {
		t.Fatalf("f on a patch: top = %T, want the diff screen\n%s", hs.m.top(), hs.screen())
	}
	return hs, ds
}

// cursorLine is the diff line under the cursor.
func cursorLine(t testing.TB, ds *diffScreen) api.DiffLine {
	t.Helper()
	if ds.cursor < 0 {
		t.Fatal("no line under the cursor")
	}
	r := ds.rows[ds.cursor]
	return ds.full.diff.Files[r.file].Hunks[r.hunk].Lines[r.line]
}

func TestDiffFilesAndLines(t *testing.T) {
	f := newFake()
	h, _ := openDiff(t, f, 100, 30)
	golden(t, "patch_diff", h.screen())
	want := []api.DiffQuery{{Stat: true}, {}}
	if diff := cmp.Diff(want, f.diffAsks); diff != "" {
		t.Errorf("PatchDiff queries (-want +got):\n%s", diff)
	}
	s := h.screen()
	for _, w := range []string{"r2 of 2", "tui/list.go", "+3 −1", "docs/tiny.md", "@@ -10,6 +10,7 @@", "l.cols = max(w/8, 1)", "# Tiny terminals"} {
		if !strings.Contains(s, w) {
			t.Errorf("diff screen lacks %q:\n%s", w, s)
		}
	}
	// The files pane picks one file: the other leaves the diff.
	h.press("j", "j")
	if s := h.screen(); !strings.Contains(s, "Diff · docs/tiny.md") || strings.Contains(s, "l.cols") {
		t.Errorf("second file selected:\n%s", s)
	}
	h.press("k", "k")
	if s := h.screen(); !strings.Contains(s, "l.cols") || !strings.Contains(s, "Every width") {
		t.Errorf("all files selected again:\n%s", s)
	}
	h.press("esc")
	if _, ok := h.m.top().(*patchScreen); !ok {
		t.Errorf("esc: top = %T, want the patch", h.m.top())
	}
}

func TestDiffInlineComment(t *testing.T) {
	f := newFake()
	h, ds := openDiff(t, f, 100, 30)
	h.press("c")
	if ds.comp != nil || !strings.Contains(lastLine(h.screen()), "pick a line") {
		t.Fatalf("c in the files pane: bar %q", lastLine(h.screen()))
	}
	h.press("tab", "j", "j")
	if l := cursorLine(t, ds); l.Kind != "-" {
		t.Fatalf("cursor on %+v, want the deleted line", l)
	}
	h.press("c")
	if ds.comp != nil || !strings.Contains(lastLine(h.screen()), "a deleted line is not in r2") {
		t.Fatalf("c on a deleted line: bar %q", lastLine(h.screen()))
	}
	h.press("j")
	if l := cursorLine(t, ds); l.New != 12 {
		t.Fatalf("cursor on %+v, want new line 12", l)
	}
	h.press("c")
	if !strings.Contains(h.screen(), "Comment on tui/list.go:12 (r2)") {
		t.Fatalf("composer prompt:\n%s", h.screen())
	}

	// The node refuses the anchor: the reason shows and the draft stays.
	f.failWith["Review"] = api.Errorf(api.CodeInvalid, "tui/list.go has no line 12 at r2")
	h.typeText("clamp here")
	h.press("ctrl+s")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "tui/list.go has no line 12 at r2") {
		t.Errorf("refused comment: bar %q", bar)
	}
	if ds.comp == nil || ds.comp.Value() != "clamp here" || ds.comp.busy {
		t.Fatalf("refused comment: the draft is gone or stuck")
	}

	delete(f.failWith, "Review")
	h.press("ctrl+s")
	want := api.NewReview{Verdict: "comment", Revision: 2, Path: "tui/list.go", Start: 12, End: 12, Comment: "clamp here"}
	if len(f.reviews) != 2 {
		t.Fatalf("reviews = %+v, want two tries", f.reviews)
	}
	if diff := cmp.Diff(want, f.reviews[1]); diff != "" {
		t.Errorf("review (-want +got):\n%s", diff)
	}
	if ds.comp != nil {
		t.Error("the composer stayed open after the comment was sent")
	}
	// The comment shows under its line, and the cursor stayed there.
	s := h.screen()
	i, j := strings.Index(s, "l.cols = max(w/8, 1)"), strings.Index(s, "clamp here")
	if i < 0 || j < i || strings.Contains(s[i:j], "a tiny terminal") {
		t.Errorf("the comment is not under line 12:\n%s", s)
	}
	if l := cursorLine(t, ds); l.New != 12 {
		t.Errorf("after the comment the cursor is on %+v, want new line 12", l)
	}
}

func TestDiffRevisions(t *testing.T) {
	f := newFake()
	h, _ := openDiff(t, f, 100, 30)
	if strings.Contains(h.screen(), "Off by one here.") {
		t.Errorf("r1's comment shown on r2:\n%s", h.screen())
	}
	h.press("[")
	s := h.screen()
	if !strings.Contains(s, "r1 of 2") || strings.Contains(s, "l.rows") {
		t.Errorf("r1:\n%s", s)
	}
	// r1's inline comment on lines 12-14 shows under line 14.
	i, j := strings.Index(s, "l.clamp()"), strings.Index(s, "Off by one here.")
	if i < 0 || j < i {
		t.Errorf("r1's comment is not under its last line:\n%s", s)
	}
	h.press("[")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "revisions run from r1 to r2") {
		t.Errorf("[ on r1: bar %q", bar)
	}
	h.press("]", "}")
	s = h.screen()
	if !strings.Contains(s, "r1 → r2") || !strings.Contains(s, "l.rows = max(h-2, 1)") || strings.Contains(s, "docs/tiny.md") {
		t.Errorf("r1 → r2:\n%s", s)
	}
	h.press("{")
	want := []api.DiffQuery{{Stat: true}, {}, {Revision: 1, Stat: true}, {Revision: 1}, {Revision: 2, Stat: true}, {Revision: 2},
		{From: 1, To: 2, Stat: true}, {From: 1, To: 2}, {Revision: 2, Stat: true}, {Revision: 2}}
	if diff := cmp.Diff(want, f.diffAsks); diff != "" {
		t.Errorf("PatchDiff queries (-want +got):\n%s", diff)
	}
	if s := h.screen(); !strings.Contains(s, "r2 of 2") || !strings.Contains(s, "docs/tiny.md") {
		t.Errorf("back to r2 from its base:\n%s", s)
	}
}

func TestDiffKeepsFileAndLineInView(t *testing.T) {
	f := newFake()
	h, _ := openDiff(t, f, 100, 30)
	h.press("j", "j", "[")
	if s := h.screen(); !strings.Contains(s, "r1 of 2") || !strings.Contains(s, "Diff · docs/tiny.md") {
		t.Errorf("the selected file is not kept across revisions:\n%s", s)
	}

	f.diffs[2] = bigDiff(500)
	h, ds := openDiff(t, f, 80, 24)
	h.press("tab", "G", "c")
	if ds.comp == nil {
		t.Fatalf("no composer on the last line:\n%s", h.screen())
	}
	if s := h.screen(); !strings.Contains(s, "line 500 of") || !strings.Contains(s, "Comment on gen/big.txt:500") {
		t.Errorf("the line commented on is out of view:\n%s", s)
	}
}

func TestDiffFollowsANewRevision(t *testing.T) {
	f := newFake()
	h, _ := openDiff(t, f, 100, 30)
	f.mu.Lock()
	p := &f.patches["r1aaaaaaaaaa"][0]
	p.Revisions = append(p.Revisions, api.Revision{ID: "rev3", Number: 3, Commit: "3333333333cc", Author: bob, Created: t0})
	d := bigDiff(3)
	d.Revision = 3
	f.diffs[3] = d
	f.mu.Unlock()
	h.send(eventMsg{api.Event{Repo: "r1aaaaaaaaaa", Kind: "patch.revision", Object: p.ID}})
	if s := h.screen(); !strings.Contains(s, "r3 of 3") || !strings.Contains(s, "line 3 of the generated file") {
		t.Errorf("after a new revision:\n%s", s)
	}
	// One asked for stays shown.
	h.press("[")
	h.send(eventMsg{api.Event{Repo: "r1aaaaaaaaaa", Kind: "patch.comment", Object: p.ID}})
	if s := h.screen(); !strings.Contains(s, "r2 of 3") {
		t.Errorf("after an event on r2:\n%s", s)
	}
}

func TestDiffUnavailable(t *testing.T) {
	f := newFake()
	f.failWith["PatchDiff"] = api.Errorf(api.CodeUnavailable, "the objects of r2 are missing; fetching them from peers")
	h, ds := openDiff(t, f, 100, 30)
	s := h.screen()
	if !strings.Contains(s, "no diff to show") || !strings.Contains(s, "the objects of r2 are missing") {
		t.Errorf("failed diff:\n%s", s)
	}
	h.press("tab", "c")
	if ds.comp != nil {
		t.Error("a composer opened without a diff")
	}
	// Once the objects arrive, r shows the diff.
	delete(f.failWith, "PatchDiff")
	h.press("r")
	if s := h.screen(); !strings.Contains(s, "l.cols = max(w/8, 1)") {
		t.Errorf("after r:\n%s", s)
	}
}

func TestPatchChecks(t *testing.T) {
	f := newFake()
	p := &f.patches["r1aaaaaaaaaa"][0]
	p.Checks = []api.Check{
		{Revision: "rev1", RevNumber: 1, Name: "ci/test", State: api.CheckFailure, Summary: "2 tests failed", Reporter: bob, At: t0.Add(-time.Hour)},
		{Revision: "rev2", RevNumber: 2, Name: "ci/test", State: api.CheckSuccess, URL: "https://ci.example/42", Reporter: bob, At: t0.Add(-time.Minute)},
		{Revision: "rev2", RevNumber: 2, Name: "ci/lint", State: api.CheckPending, Reporter: alice, At: t0},
	}
	h := newHarness(t, f, 120, 40)
	h.press("enter", "tab", "enter")
	golden(t, "patch_checks", h.screen())
	h.press("f")
	if s := h.screen(); !strings.Contains(s, "checks ✓1 ●1") {
		t.Errorf("diff header lacks r2's checks:\n%s", s)
	}
}

func TestDiffCleansPeerText(t *testing.T) {
	f := newFake()
	f.diffs[2] = countDiff(api.Diff{Revision: 2, Files: []api.DiffFile{{Path: "a\x07b\x1b]0;owned\x07.go", Status: "\x1b[2J", Hunks: []api.DiffHunk{{
		Header: "@@ -1 +1 @@ \x1b[2J", Lines: []api.DiffLine{{Kind: "+", New: 1, Text: "x\x1b]0;title\x07\x1b[2Jy\r\x00z"}},
	}}}}})
	h, _ := openDiff(t, f, 100, 30)
	h.press("tab")
	raw := h.m.View().Content
	for _, bad := range []string{"\x07", "\x1b]", "\x1b[2J", "\r", "\x00"} {
		if strings.Contains(raw, bad) {
			t.Errorf("%q from a peer's diff reached the terminal", bad)
		}
	}
	if s := h.screen(); !strings.Contains(s, "? ab") {
		t.Errorf("cleaned file entry missing:\n%s", s)
	}
}

func TestDiffCutByTheNode(t *testing.T) {
	f := newFake()
	d := revDiff(2)
	d.Files[1].Hunks, d.Truncated = nil, true
	f.diffs[2] = d
	h, _ := openDiff(t, f, 120, 30)
	s := h.screen()
	if !strings.Contains(s, "cut to fit") || !strings.Contains(s, "this file is past the cut") || !strings.Contains(s, "A docs/tiny.md") {
		t.Errorf("a diff the node cut:\n%s", s)
	}
}

// bigDiff is a one-file diff of n added lines.
func bigDiff(n int) api.Diff {
	ls := make([]api.DiffLine, n)
	for i := range ls {
		ls[i] = api.DiffLine{Kind: "+", New: i + 1, Text: fmt.Sprintf("line %d of the generated file", i+1)}
	}
	return api.Diff{Patch: "p1000000000a", Revision: 2, Base: "0000000000aa", Head: "2222222222aa", Added: n, Files: []api.DiffFile{{
		Path: "gen/big.txt", Status: "added", Added: n,
		Hunks: []api.DiffHunk{{Header: fmt.Sprintf("@@ -0,0 +1,%d @@", n), NewStart: 1, NewLines: n, Lines: ls}},
	}}}
}

func TestDiffLargeRendersAWindow(t *testing.T) {
	f := newFake()
	f.diffs[2] = bigDiff(20000)
	h, ds := openDiff(t, f, 80, 24)
	h.press("tab")
	view := ds.View()
	if n := strings.Count(view, "\n") + 1; n > 24 {
		t.Errorf("the diff view is %d lines, want at most the screen's 24", n)
	}
	if len(view) > 24*400 {
		t.Errorf("the diff view is %d bytes for 24 lines", len(view))
	}
	if !strings.Contains(view, "line 1 of") || strings.Contains(view, "line 20000 of") {
		t.Errorf("first window:\n%s", view)
	}
	h.press("G")
	if s := h.screen(); !strings.Contains(s, "line 20000 of") || strings.Contains(s, "line 1 of") {
		t.Errorf("after G:\n%s", s)
	}
	if l := cursorLine(t, ds); l.New != 20000 {
		t.Errorf("after G the cursor is on %+v, want the last line", l)
	}
	h.press("ctrl+u")
	if l := cursorLine(t, ds); l.New >= 20000 || l.New < 19900 {
		t.Errorf("after a page up the cursor is on line %d", l.New)
	}
}

func TestDiffCutAtTheBound(t *testing.T) {
	f := newFake()
	f.diffs[2] = bigDiff(maxDiffRows + 10)
	h, ds := openDiff(t, f, 80, 24)
	if len(ds.rows) > maxDiffRows+1 {
		t.Errorf("%d rows laid out, want at most %d", len(ds.rows), maxDiffRows+1)
	}
	h.press("tab", "G")
	// The file and hunk headers take two rows of the bound.
	if s := h.screen(); !strings.Contains(s, "12 more lines; read them with murmur patch diff p1000000") {
		t.Errorf("after G:\n%s", s)
	}
}

// BenchmarkDiffKeystroke is one cursor move in a 20,000-line diff: Update
// of a `j` and the View that follows.
func BenchmarkDiffKeystroke(b *testing.B) {
	f := newFake()
	f.diffs[2] = bigDiff(20000)
	h := newHarness(b, f, 100, 30)
	h.press("enter", "tab", "enter", "f", "tab")
	if _, ok := h.m.top().(*diffScreen); !ok {
		b.Fatalf("top = %T, want the diff screen", h.m.top())
	}
	j, g := keyMsg("j"), keyMsg("g")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%19000 == 18999 {
			h.m.Update(g)
		}
		h.m.Update(j)
		_ = h.m.View()
	}
}

// BenchmarkDiffLayout is laying out a 20,000-line diff as it arrives.
func BenchmarkDiffLayout(b *testing.B) {
	f := newFake()
	f.diffs[2] = bigDiff(20000)
	h := newHarness(b, f, 100, 30)
	h.press("enter", "tab", "enter", "f")
	ds := h.m.top().(*diffScreen)
	b.ReportAllocs()
	for b.Loop() {
		ds.layoutRows()
	}
}

func TestPatchReviewRequested(t *testing.T) {
	f := newFake()
	f.patches["r1aaaaaaaaaa"][0].Reviewers = []api.Person{bob, alice}
	h := newHarness(t, f, 160, 40)
	h.press("enter", "tab", "enter")
	if s := h.screen(); !strings.Contains(s, "review requested: "+displayName(bob)+", "+displayName(alice)) {
		t.Errorf("the patch view does not name the reviewers requested:\n%s", s)
	}
}
