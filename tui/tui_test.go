package tui

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// harness drives a Model the way the program would, running commands
// synchronously; timers and the event stream are off.
type harness struct {
	t    testing.TB
	m    *Model
	fake *fakeService
}

func newHarness(t testing.TB, fake *fakeService, w, h int) *harness {
	t.Helper()
	m := New(fake, Options{NoColor: true})
	m.live = false
	m.c.blink = false
	m.c.now = func() time.Time { return t0 }
	hs := &harness{t: t, m: m, fake: fake}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(m.Init())
	return hs
}

// run executes cmd and every command that follows from it.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10000 {
			h.t.Fatal("commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := h.exec(c)
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
		default:
			_, next := h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

func (h *harness) exec(c tea.Cmd) tea.Msg {
	h.t.Helper()
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(5 * time.Second):
		h.t.Fatal("a command blocked")
		return nil
	}
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// press sends keys: single characters as typed text, or named keys.
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types s one rune at a time.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: unicode.ToLower(r), ShiftedCode: r, Text: k}
}

// screen is the frame as plain text.
func (h *harness) screen() string {
	h.t.Helper()
	return ansi.Strip(h.m.View().Content)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	got = strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestReposList(t *testing.T) {
	h := newHarness(t, newFake(), 80, 24)
	golden(t, "repos", h.screen())
	for _, want := range []string{"murmur", "dotfiles", "ONLINE", "alice"} {
		if !strings.Contains(h.screen(), want) {
			t.Errorf("repos screen lacks %q", want)
		}
	}
}

func TestNavigateToIssue(t *testing.T) {
	h := newHarness(t, newFake(), 80, 24)
	h.press("enter")
	golden(t, "repo_issues", h.screen())
	h.press("enter")
	golden(t, "issue", h.screen())
	if s := h.screen(); !strings.Contains(s, "TUI crashes on resize") || !strings.Contains(s, "Fixed on my branch.") {
		t.Errorf("issue view lacks title or comments:\n%s", s)
	}
	h.press("esc", "esc")
	if _, ok := h.m.top().(*reposScreen); !ok {
		t.Errorf("after esc esc top = %T, want *reposScreen", h.m.top())
	}
}

func TestCommentSubmit(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter", "enter", "c")
	h.typeText("Looks good to me")
	golden(t, "issue_compose", h.screen())
	h.press("ctrl+s")
	want := []commentCall{{repo: "r1aaaaaaaaaa", id: "i100000000001", c: api.NewComment{Body: "Looks good to me"}}}
	if diff := cmp.Diff(want, f.comments, cmp.AllowUnexported(commentCall{})); diff != "" {
		t.Fatalf("Comment calls (-want +got):\n%s", diff)
	}
	s := h.screen()
	if !strings.Contains(s, "Looks good to me") || !strings.Contains(s, "comment posted") {
		t.Errorf("after submit the issue lacks the comment or the notice:\n%s", s)
	}
	if h.m.top().Capturing() {
		t.Error("composer still open after a successful submit")
	}
}

func TestCommentFailureKeepsText(t *testing.T) {
	f := newFake()
	f.failWith["Comment"] = api.Errorf(api.CodeForbidden, "not allowed")
	h := newHarness(t, f, 80, 24)
	h.press("enter", "enter", "c")
	h.typeText("draft text")
	h.press("ctrl+s")
	is := h.m.top().(*issueScreen)
	if is.comp == nil || is.comp.Value() != "draft text" {
		t.Fatalf("composer after failed submit = %+v, want text kept", is.comp)
	}
	if s := h.screen(); !strings.Contains(s, "not allowed") {
		t.Errorf("status bar lacks the error:\n%s", s)
	}
}

func TestReplyAndReact(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter", "enter", "j", "R")
	h.typeText("me too")
	h.press("ctrl+s")
	if len(f.comments) != 1 || f.comments[0].c.ReplyTo != "c1" {
		t.Fatalf("comments = %+v, want a reply to c1", f.comments)
	}
	h.press("j", "j", "j", "+") // c1 → c2 → the reply → c3
	golden(t, "react_picker", h.screen())
	h.press("1", "+", "6")
	if diff := cmp.Diff([]string{"c3 👍 remove=true", "c3 ❤️ remove=false"}, f.reactions); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	h.press("x")
	if len(f.edits) != 0 {
		t.Fatalf("x closed without asking: %+v", f.edits)
	}
	h.press("c")
	if len(f.edits) != 1 || f.edits[0].State != "closed" || f.edits[0].Reason != "completed" {
		t.Errorf("edits = %+v, want a close as completed", f.edits)
	}
}

func TestLiveEventKeepsCursor(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter", "j", "j")
	rs := h.m.top().(*repoScreen)
	before, _ := rs.issues.SelectedID()
	f.mu.Lock()
	f.addIssue("r1aaaaaaaaaa", "i4new0000004", "Arrived from a peer", t0)
	f.mu.Unlock()
	h.send(eventMsg{api.Event{Repo: "r1aaaaaaaaaa", Kind: "issue.open", Object: "i4new0000004"}})
	after, _ := rs.issues.SelectedID()
	if after != before {
		t.Errorf("selected after event = %s, want %s", after, before)
	}
	if !strings.Contains(h.screen(), "Arrived from a peer") {
		t.Errorf("new issue not shown:\n%s", h.screen())
	}

	// A half-written comment survives a refetch of the issue.
	h.press("enter", "c")
	h.typeText("half")
	f.mu.Lock()
	f.issues["r1aaaaaaaaaa"][2].Title = "Document the op format (v2)"
	f.mu.Unlock()
	h.send(eventMsg{api.Event{Repo: "r1aaaaaaaaaa", Kind: "title.set"}})
	is := h.m.top().(*issueScreen)
	if is.comp == nil || is.comp.Value() != "half" {
		t.Errorf("composer after event = %+v, want text kept", is.comp)
	}
	if !strings.Contains(h.screen(), "(v2)") {
		t.Errorf("issue not refetched:\n%s", h.screen())
	}
}

func TestHelpView(t *testing.T) {
	h := newHarness(t, newFake(), 80, 24)
	h.press("enter", "?")
	s := h.screen()
	golden(t, "help_repo", s)
	for _, b := range []string{"next tab", "search", "state: open/closed/all", "refresh", "quit", "back"} {
		if !strings.Contains(s, b) {
			t.Errorf("help lacks %q", b)
		}
	}
	h.press("?")
	if h.m.helpOn {
		t.Error("? did not close the help")
	}
}

func TestFirstRun(t *testing.T) {
	f := newFake()
	f.identity = nil
	f.repos = nil
	h := newHarness(t, f, 80, 24)
	golden(t, "first_run_alias", h.screen())
	h.typeText("carol")
	h.press("enter")
	if f.identity == nil || f.identity.Alias != "carol" {
		t.Fatalf("identity = %+v, want alias carol", f.identity)
	}
	golden(t, "first_run_repo", h.screen())
	h.typeText("garden")
	h.press("enter")
	h.typeText("plants")
	h.press("enter")
	if len(f.repos) != 1 || f.repos[0].Name != "garden" || f.repos[0].Description != "plants" {
		t.Fatalf("repos = %+v, want garden", f.repos)
	}
	if _, ok := h.m.top().(*repoScreen); !ok {
		t.Errorf("after creating, top = %T, want *repoScreen", h.m.top())
	}
}

func TestFirstRunAliasless(t *testing.T) {
	// The node made a key when it joined the mesh: the identity exists,
	// without an alias.
	f := newFake()
	f.identity = &api.Identity{Person: api.Person{ID: "did:key:z6MkAnon", Short: "z6MkAnon"}}
	f.status.Identity = f.identity.Person
	h := newHarness(t, f, 80, 24)
	golden(t, "first_run_aliasless", h.screen())
	h.typeText("dora")
	h.press("enter")
	if f.identity.Alias != "dora" {
		t.Fatalf("alias = %q, want dora", f.identity.Alias)
	}
	if _, ok := h.m.top().(*reposScreen); !ok || h.m.state != stateReady {
		t.Fatalf("after the alias, state %v top %T, want the repos screen", h.m.state, h.m.top())
	}
	if bar := lastLine(h.screen()); !strings.Contains(bar, "dora") || !strings.Contains(bar, "alias set") {
		t.Errorf("status bar = %q, want dora and the note", bar)
	}

	t.Run("skip", func(t *testing.T) {
		f := newFake()
		f.identity = &api.Identity{Person: api.Person{ID: "did:key:z6MkAnon", Short: "z6MkAnon"}}
		h := newHarness(t, f, 80, 24)
		h.press("esc")
		if _, ok := h.m.top().(*reposScreen); !ok {
			t.Fatalf("esc: top %T, want the repos screen", h.m.top())
		}
		if f.identity.Alias != "" {
			t.Errorf("skipping set alias %q", f.identity.Alias)
		}
	})
	t.Run("new identity cannot skip", func(t *testing.T) {
		f := newFake()
		f.identity = nil
		h := newHarness(t, f, 80, 24)
		h.press("esc")
		if h.m.state != stateFirstRun {
			t.Errorf("esc without an identity left the first run: state %v", h.m.state)
		}
	})
}

func TestStatusBarFollowsAlias(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	if bar := lastLine(h.screen()); !strings.Contains(bar, "alice") {
		t.Fatalf("status bar = %q, want alice", bar)
	}
	// Another process renames the identity; the next status poll tells.
	f.SetAlias(t.Context(), "alicia")
	h.send(statusTickMsg{})
	if bar := lastLine(h.screen()); !strings.Contains(bar, "alicia") {
		t.Errorf("after the alias changed, status bar = %q, want alicia", bar)
	}
}

func TestErrors(t *testing.T) {
	t.Run("status bar", func(t *testing.T) {
		f := newFake()
		f.failWith["Issues"] = api.Errorf(api.CodeInternal, "disk on fire")
		h := newHarness(t, f, 80, 24)
		h.press("enter")
		last := lastLine(h.screen())
		if !strings.Contains(last, "disk on fire") {
			t.Errorf("status bar = %q, want the error", last)
		}
	})
	t.Run("unreachable node", func(t *testing.T) {
		f := newFake()
		f.failWith["Identity"] = errors.New("dial unix murmur.sock: connection refused")
		h := newHarness(t, f, 80, 24)
		if h.m.state != stateError || !strings.Contains(h.screen(), "connection refused") {
			t.Fatalf("state = %v, screen:\n%s", h.m.state, h.screen())
		}
		delete(f.failWith, "Identity")
		h.press("r")
		if h.m.state != stateReady {
			t.Errorf("after retry state = %v, want ready", h.m.state)
		}
	})
	t.Run("offline", func(t *testing.T) {
		f := newFake()
		f.status.Online = false
		h := newHarness(t, f, 80, 24)
		if last := lastLine(h.screen()); !strings.Contains(last, "OFFLINE") {
			t.Errorf("status bar = %q, want OFFLINE", last)
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

func TestFilters(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter", "s")
	if got := f.filters[len(f.filters)-1].State; got != "closed" {
		t.Errorf("after s the filter state = %q, want closed", got)
	}
	h.press("s", "s") // closed → all → open
	// The issues tab's / searches (search_test.go); lists such as the
	// repos filter what they hold.
	h.press("esc", "/")
	h.typeText("dtf")
	h.press("enter")
	rs := h.m.top().(*reposScreen)
	if rs.list.Len() != 1 {
		t.Errorf("fuzzy filter dtf: %d repos, want 1", rs.list.Len())
	}
	if id, _ := rs.list.SelectedID(); id != "r2bbbbbbbbbb" {
		t.Errorf("selected = %s, want dotfiles", id)
	}
	h.press("esc")
	if rs.list.Len() != 2 {
		t.Errorf("after esc %d repos, want 2", rs.list.Len())
	}
}

func TestPatchAndTabs(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter", "tab")
	golden(t, "repo_patches", h.screen())
	h.press("enter")
	golden(t, "patch", h.screen())
	h.press("A", "ctrl+s")
	h.press("X")
	h.typeText("needs tests")
	h.press("ctrl+s")
	h.press("i")
	h.typeText("tui/list.go:20-22 clamp here")
	h.press("enter")
	want := []api.NewReview{
		{Verdict: "approve"},
		{Verdict: "request-changes", Summary: "needs tests"},
		{Verdict: "comment", Path: "tui/list.go", Start: 20, End: 22, Comment: "clamp here"},
	}
	if diff := cmp.Diff(want, f.reviews); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
	h.press("esc", "tab", "tab")
	if !strings.Contains(h.screen(), "issue.open") {
		t.Errorf("activity tab:\n%s", h.screen())
	}
	h.press("shift+tab")
	if !strings.Contains(h.screen(), "refs/heads/main") {
		t.Errorf("refs tab:\n%s", h.screen())
	}
}

func TestPeers(t *testing.T) {
	h := newHarness(t, newFake(), 80, 24)
	h.press("p")
	golden(t, "peers", h.screen())
}

func TestSizes(t *testing.T) {
	paths := map[string][]string{
		"repos":    nil,
		"issues":   {"enter"},
		"issue":    {"enter", "enter"},
		"compose":  {"enter", "enter", "c"},
		"patch":    {"enter", "tab", "enter"},
		"diff":     {"enter", "tab", "enter", "f", "tab", "j", "c"},
		"diffhelp": {"enter", "tab", "enter", "f", "?"},
		"peers":    {"p"},
		"help":     {"enter", "?"},
	}
	for _, size := range [][2]int{{80, 24}, {40, 10}, {5, 3}, {200, 60}} {
		for name, keys := range paths {
			t.Run(name, func(t *testing.T) {
				f := newFake()
				f.issues["r1aaaaaaaaaa"][0].Title = strings.Repeat("very long title ", 20)
				f.issues["r1aaaaaaaaaa"][0].Body = strings.Repeat("x", 500) + "\x1b[31m red \x07"
				h := newHarness(t, f, size[0], size[1])
				h.press(keys...)
				w, hh := max(size[0], minWidth), max(size[1], minHeight)
				lines := strings.Split(h.screen(), "\n")
				if len(lines) != hh {
					t.Errorf("%dx%d: %d lines, want %d", size[0], size[1], len(lines), hh)
				}
				for i, l := range lines {
					if n := ansi.StringWidth(l); n > w {
						t.Errorf("%dx%d: line %d is %d cells wide: %q", size[0], size[1], i, n, l)
					}
				}
				if strings.ContainsAny(h.m.View().Content, "\x07") {
					t.Error("a control character from a peer reached the terminal")
				}
			})
		}
	}
}

func TestMouseWheel(t *testing.T) {
	h := newHarness(t, bigFake(100), 80, 24)
	h.press("enter")
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	rs := h.m.top().(*repoScreen)
	if rs.issues.cursor != 3 {
		t.Errorf("after a wheel step down cursor = %d, want 3", rs.issues.cursor)
	}
}

func TestEventStream(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 24)
	h.press("enter")
	// Subscribe as the live model does, and deliver one event through the
	// channel.
	msg := h.exec(subscribe(h.m.c))
	f.mu.Lock()
	f.addIssue("r1aaaaaaaaaa", "i9live000009", "Live from the stream", t0)
	f.events <- api.Event{Repo: "r1aaaaaaaaaa", Kind: "issue.open"}
	close(f.events)
	f.mu.Unlock()
	h.send(msg)
	if !strings.Contains(h.screen(), "Live from the stream") {
		t.Errorf("event from the stream not applied:\n%s", h.screen())
	}
}
