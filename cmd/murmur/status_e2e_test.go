package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// TestE2EStatusTellsTheTruth: status lists the address book's peers
// without a daemon, says when no peer follows a repo, and reports a repo
// in sync as soon as a gossiped op has made the roots equal, not at the
// next push-pull.
func TestE2EStatusTellsTheTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes")
	}
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "truth", "--json")
	var idA api.Identity
	ca.json(&idA, "id", "show", "--json")

	// B, with no daemon, follows and syncs once: A is in its address book.
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	cb.ok("sync", "--peer", da.addr)
	if out := cb.ok("status"); !strings.Contains(out, "0 connected, 1 known") || !strings.Contains(out, da.addr) {
		t.Errorf("status without a daemon:\n%s\nwant A (%s) among the known peers", out, da.addr)
	}
	// A's repo: the one-shot node is gone, nobody follows it now.
	if out := ca.ok("status"); !strings.Contains(out, "no connected peer follows it") {
		t.Errorf("status on A with no follower:\n%s\nwant the repo shown as followed by no peer", out)
	}

	db := newDaemon(t, cb, da.addr)
	db.start()
	ca.id("issue", "create", "-t", "gossiped")
	eventually(t, "the issue reaches B", 20*time.Second, func() error {
		return same([]*cli{ca, cb}, "issue", "list", "--json")
	})
	// The push-pull period is 30 s: in sync well before it says so.
	eventually(t, "both report the repo in sync", 10*time.Second, func() error {
		for _, c := range []*cli{ca, cb} {
			var st api.Status
			c.json(&st, "status", "--json")
			if len(st.Repos) != 1 || !st.Repos[0].InSync || st.Repos[0].Peers != 1 {
				return fmt.Errorf("status on %s: %+v", c.home, st.Repos)
			}
		}
		return nil
	})
	for _, d := range []*daemon{da, db} {
		d.stop()
	}
}
