package tui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

// commentOps are the comment calls the fake recorded.
func commentOps(f *fakeService) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.edits {
		if e.Comment != "" {
			out = append(out, e.Comment)
		}
	}
	return out
}

func TestCommentActions(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string // after opening the first issue
		text    string   // typed, then ctrl+s
		wantOps []string
		screen  string // shown afterwards
	}{
		{name: "edit own comment", keys: []string{"j", "j", "E", "ctrl+a", "ctrl+k"}, text: "Fixed on main.", wantOps: []string{"edit c2"}, screen: "Fixed on main."},
		{name: "edit another's comment", keys: []string{"j", "E"}, screen: "only its author can edit a comment"},
		{name: "edit with nothing selected", keys: []string{"E"}, screen: "select a comment first"},
		{name: "hide", keys: []string{"j", "H"}, wantOps: []string{"hide=true c1"}, screen: "comment hidden"},
		{name: "resolve", keys: []string{"j", "j", "j", "v"}, wantOps: []string{"resolve=true c3"}, screen: "(resolved)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			h := newHarness(t, f, 80, 30)
			h.press("enter", "enter")
			h.press(tt.keys...)
			if tt.text != "" {
				h.typeText(tt.text)
				h.press("ctrl+s")
			}
			if diff := cmp.Diff(tt.wantOps, commentOps(f)); diff != "" {
				t.Errorf("comment calls (-want +got):\n%s", diff)
			}
			if s := h.screen(); !strings.Contains(s, tt.screen) {
				t.Errorf("screen lacks %q:\n%s", tt.screen, s)
			}
		})
	}
}

func TestHideForbidden(t *testing.T) {
	f := newFake()
	f.failWith["HideComment"] = api.Errorf(api.CodeForbidden, "only maintainers can hide comments")
	h := newHarness(t, f, 80, 30)
	h.press("enter", "enter", "j", "H")
	if s := h.screen(); !strings.Contains(s, "only maintainers can hide comments") {
		t.Errorf("status bar lacks the refusal:\n%s", s)
	}
}

func TestEditLabelsAndAssignees(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 120, 30)
	h.press("enter", "enter", "l")
	is := h.m.top().(*issueScreen)
	if is.comp == nil || is.comp.Value() != "bug, tui" {
		t.Fatalf("label field starts with %+v, want the current labels", is.comp)
	}
	// Delete "tui", add "needs info".
	is.comp.line.SetValue("bug, needs info")
	h.press("enter")
	h.press("a")
	if is.comp == nil || is.comp.Value() != "bob" {
		t.Fatalf("assignee field starts with %+v, want bob", is.comp)
	}
	is.comp.line.SetValue("carol")
	h.press("enter")
	f.mu.Lock()
	edits := f.edits
	f.mu.Unlock()
	want := []api.Edit{
		{AddLabels: []string{"needs info"}, RemoveLabels: []string{"tui"}},
		{AddAssignees: []string{"carol"}, RemoveAssignees: []string{bob.ID}},
	}
	if diff := cmp.Diff(want, edits); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	if s := h.screen(); !strings.Contains(s, "labels: bug, needs info · assignees: carol") {
		t.Errorf("issue not refreshed after the edits:\n%s", s)
	}
}

func TestListDiff(t *testing.T) {
	tests := []struct {
		name                string
		keys, shown, edited []string
		add, remove         []string
	}{
		{"unchanged", []string{"a", "b"}, nil, []string{"b", "a"}, nil, nil},
		{"add and remove", []string{"a", "b"}, nil, []string{"a", "c", "c"}, []string{"c"}, []string{"b"}},
		{"by shown name", []string{"did:1", "did:2"}, []string{"bob", "carol"}, []string{"carol", "dave"}, []string{"dave"}, []string{"did:1"}},
		{"all removed", []string{"a"}, nil, nil, nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, remove := listDiff(tt.keys, tt.shown, tt.edited)
			if diff := cmp.Diff(tt.add, add); diff != "" {
				t.Errorf("add (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.remove, remove); diff != "" {
				t.Errorf("remove (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRepoConflictShown(t *testing.T) {
	f := newFake()
	f.repos[0].Conflicts = []api.Conflict{{Value: "murmur-forge", Author: bob, At: t0}}
	h := newHarness(t, f, 80, 24)
	h.press("enter")
	if s := h.screen(); !strings.Contains(s, "also set concurrently by bob: murmur-forge") {
		t.Errorf("repo screen lacks the conflict:\n%s", s)
	}
}
