package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/node"
	"murmur/op"
)

// TestE2EModeration runs three real nodes: A owns a repo, B (bob) and C
// (carol) follow it. A bans bob: bob's own node refuses his next comment,
// and a comment signed with his key that comes causally after the ban
// (as a modified client would make it) is stored but rejected on every
// replica, while his earlier comment stays. A locks an issue: carol's
// comment is refused. A restricts opening to maintainers: carol's issue
// is refused. After the unban bob may comment again.
func TestE2EModeration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	all, da, db, dc := threeNodes(t)
	ca, cb, cc := all[0], all[1], all[2]

	ca.ok("id", "alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "modded", "--json")
	issue := ca.id("issue", "create", "-t", "Crash on start")
	db.start()
	dc.start()
	var bob api.Identity
	for i, c := range []*cli{cb, cc} {
		c.ok("id", "alias", []string{"bob", "carol"}[i])
		c.ok("repo", "follow", repo.ID, "--peer", da.addr)
	}
	cb.json(&bob, "id", "show", "--json")
	cb.id("issue", "comment", issue, "-b", "early words")
	converge := func(what string, args ...string) {
		t.Helper()
		eventually(t, what, 30*time.Second, func() error {
			syncAll(all)
			return same(all, args...)
		})
	}
	converge("bob's early comment replicated", "issue", "view", issue, "--json")

	// The ban. A's next op is the ban itself.
	ca.ok("repo", "ban", "bob", "--reason", "spam")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recent, err := da.client().Activity(ctx, repo.ID, 1)
	if err != nil || len(recent) != 1 || recent[0].Kind != forge.KindBan {
		t.Fatalf("A's newest op = %+v, %v; want the ban", recent, err)
	}
	converge("ban replicated", "repo", "view", "--jq", "del(.git_dir)")
	var seen api.Repo
	cb.json(&seen, "repo", "view", "--json")
	if len(seen.Bans) != 1 || seen.Bans[0].ID != bob.ID || seen.Bans[0].Reason != "spam" {
		t.Fatalf("bans on B = %+v, want bob for spam", seen.Bans)
	}
	cb.fail(exitFailure, "are banned from this repo", "issue", "comment", issue, "-b", "let me in")

	// A comment by bob's key whose causal past has the ban.
	key, err := identity.Load(filepath.Join(cb.home, node.KeyFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	var full api.Issue
	ca.json(&full, "issue", "view", issue, "--json")
	target, _ := op.ParseID(full.ID)
	banID, _ := op.ParseID(recent[0].Op)
	repoID, _ := op.ParseID(repo.ID)
	act, err := forge.NewAction(forge.KindCommentAdd, target, forge.CommentAdd{Body: "after the ban"})
	if err != nil {
		t.Fatal(err)
	}
	wall := max(time.Now().UnixMilli(), recent[0].At.UnixMilli()+1)
	late, err := op.Sign(key, act.Unsigned(repoID, []op.ID{banID}, crdt.NewTimestamp(wall, 0)))
	if err != nil {
		t.Fatal(err)
	}
	inject(ctx, t, late, da)
	daemons := []*daemon{da, db, dc}
	eventually(t, "the late comment reaches every replica and is rejected there", 30*time.Second, func() error {
		syncAll(all)
		var errs []error
		for _, d := range daemons {
			acts, err := d.client().Activity(ctx, repo.ID, 50)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(acts, func(a api.Activity) bool { return a.Op == late.ID().String() })
			switch {
			case i < 0:
				errs = append(errs, fmt.Errorf("%s lacks the late comment", d.c.home))
			case acts[i].Accepted || !strings.Contains(acts[i].Reason, "banned"):
				t.Fatalf("late comment on %s: accepted=%v reason %q; want rejected because bob is banned", d.c.home, acts[i].Accepted, acts[i].Reason)
			}
		}
		return errors.Join(errs...)
	})
	for _, c := range all {
		var is api.Issue
		c.json(&is, "issue", "view", issue, "--json")
		var bodies []string
		for _, cm := range is.Comments {
			bodies = append(bodies, cm.Body)
		}
		if !slices.Equal(bodies, []string{"early words"}) {
			t.Errorf("comments on %s = %q, want bob's early comment only", c.home, bodies)
		}
	}

	// A lock.
	ca.ok("issue", "lock", issue)
	converge("lock replicated", "issue", "view", issue, "--json")
	var locked api.Issue
	cc.json(&locked, "issue", "view", issue, "--json")
	if !locked.Locked {
		t.Fatalf("issue on C is not locked after the lock replicated")
	}
	cc.fail(exitFailure, "is locked", "issue", "comment", issue, "-b", "me too")
	ca.id("issue", "comment", issue, "-b", "maintainers still may")

	// Who may open.
	ca.ok("repo", "edit", "--who-can-open", "maintainers")
	converge("policy replicated", "repo", "view", "--jq", "del(.git_dir)")
	cc.fail(exitFailure, "only maintainers may open issues", "issue", "create", "-t", "Spam")

	// The unban and the unlock.
	ca.ok("repo", "unban", bob.ID)
	ca.ok("issue", "unlock", issue)
	converge("unban and unlock replicated", "issue", "view", issue, "--json")
	cb.id("issue", "comment", issue, "-b", "back again")

	for _, d := range daemons {
		d.stop()
	}
}
