package tui

import (
	"strings"
	"testing"

	"murmur/api"
)

// TestRefsTab: the refs tab shows, like 'murmur refs list', each ref's
// namespace (canonical, the owner's alias, or a short key), whether the
// objects are here (and why not), forced updates and the values set
// concurrently.
func TestRefsTab(t *testing.T) {
	f := newFake()
	const carol = "did:key:z6MkCarolCarolCarolCarol9xYz"
	f.refs["r1aaaaaaaaaa"] = []api.Ref{
		{Name: "refs/heads/main", Commit: "2222222222bb", Objects: true, Forced: true,
			Conflicts: []api.Conflict{{Value: "3333333333cc", Author: bob}}},
		{Name: "refs/heads/old", Conflicts: []api.Conflict{{Value: "4444444444dd", Author: alice}}},
		{Name: api.NamespaceRef(bob.ID, "refs/heads/topic"), Commit: "5555555555ee", Namespace: bob.ID, Owner: &bob,
			MissingReason: "not fetched yet: gitstore: peer sent a bad pack"},
		{Name: api.NamespaceRef(carol, "refs/tags/v1"), Commit: "6666666666ff", Namespace: carol, Objects: true},
	}
	h := newHarness(t, f, 100, 16)
	h.press("enter", "tab", "tab")
	screen := h.screen()
	golden(t, "repo_refs", screen)
	for _, want := range []string{
		"main", "canonical", "present", "forced", "also 33333333 by bob",
		"old", "(deleted)", "also 44444444 by alice",
		"topic", "bob", "missing",
		"objects missing for 1", "objects missing: not fetched yet: gitstore: peer sent a bad pack",
		"v1", "z6MkCaro…9xYz",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the refs tab lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "refs/namespaces") {
		t.Errorf("the refs tab shows namespace prefixes:\n%s", screen)
	}
	// The filter finds a participant's refs by alias.
	h.press("/")
	h.typeText("bob")
	h.press("enter")
	if rs := h.m.top().(*repoScreen); rs.refs.Len() != 1 {
		t.Errorf("filter bob: %d refs, want Bob's one", rs.refs.Len())
	}
}
