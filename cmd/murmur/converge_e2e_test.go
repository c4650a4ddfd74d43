package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"murmur/api"
)

// convergeBound is how long replicas may take to agree after a restart of
// every peer or a peer's change of address, with no command typed. It is
// below the anti-entropy period (30 s), so what is checked is that the
// nodes find each other again from their address books, not that the
// timer eventually runs.
const convergeBound = 15 * time.Second

// meshOf starts three serves, B and C following A's repo, and waits until
// all three hold it. It returns the clis, the daemons and the repo.
func meshOf(t *testing.T, name string) ([]*cli, []*daemon, api.Repo) {
	t.Helper()
	ca, cb, cc := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	db, dc := newDaemon(t, cb, da.addr), newDaemon(t, cc, da.addr)
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", name, "--json")
	ca.id("issue", "create", "-t", "First")
	db.start()
	dc.start()
	for _, c := range []*cli{cb, cc} {
		c.ok("repo", "follow", repo.ID, "--peer", da.addr)
	}
	clis := []*cli{ca, cb, cc}
	eventually(t, "B and C have the repo", 20*time.Second, func() error {
		return same(clis, "issue", "list", "-s", "all", "--json")
	})
	return clis, []*daemon{da, db, dc}, repo
}

// converged waits, with no command but reads, until every cli lists the
// same issues, want of them.
func converged(t *testing.T, clis []*cli, want int, what string) {
	t.Helper()
	start := time.Now()
	eventually(t, fmt.Sprintf("%s within %v, with no command", what, convergeBound), convergeBound, func() error {
		for _, c := range clis {
			var issues []json.RawMessage
			out, err := c.jsonOf("issue", "list", "-s", "all", "--json", "-L", "1000")
			if err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(out), &issues); err != nil {
				return err
			}
			if len(issues) != want {
				return fmt.Errorf("%s has %d of %d issues", c.home, len(issues), want)
			}
		}
		return errors.Join(same(clis, "issue", "list", "-s", "all", "--json", "-L", "1000"))
	})
	t.Logf("%s after %.1f s", what, time.Since(start).Seconds())
}

// TestE2EConvergeAfterRestartOfAll stops every replica, writes on two of
// them offline (no daemon), and starts all three again with no --join:
// they must find each other in their address books and converge.
func TestE2EConvergeAfterRestartOfAll(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes twice")
	}
	t.Parallel()
	clis, ds, _ := meshOf(t, "restarty")
	for _, d := range ds {
		d.stop()
	}
	clis[1].id("issue", "create", "-t", "Written offline on B")
	clis[2].id("issue", "create", "-t", "Written offline on C")
	clis[2].id("issue", "create", "-t", "Written offline on C again")
	// All restart on their old ports, C and B first (A is not up yet),
	// and nobody is told whom to join.
	for _, d := range []*daemon{ds[2], ds[1], ds[0]} {
		d.join = nil
		d.start()
	}
	converged(t, clis, 4, "all three converge after a restart of every peer")
	for _, d := range ds {
		d.stop()
	}
}

// TestE2EConvergeAfterAddressChange moves C to another port while A and B
// write: C is killed (a laptop changing networks says goodbye to no one),
// declared failed by A and B, and comes back on a new address, which their
// address books and memberlist views do not know. C knows theirs and is
// started with no --join; the writes must reach it with no command.
func TestE2EConvergeAfterAddressChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	clis, ds, _ := meshOf(t, "movy")
	dc := ds[2]
	if err := dc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-dc.done
	clis[0].id("issue", "create", "-t", "Written while C moved")
	// A and B declare C failed before it comes back, as they would if it
	// had slept while moving.
	eventually(t, "A and B mark C failed", 30*time.Second, func() error {
		for _, d := range ds[:2] {
			if !strings.Contains(d.logs.String(), "as failed") {
				return fmt.Errorf("%s has not marked C failed", d.c.home)
			}
		}
		return nil
	})
	old := dc.addr
	dc.addr, dc.join = freeUDPAddr(t), nil
	dc.start()
	t.Logf("C moved from %s to %s", old, dc.addr)
	want := 2
	for i := range 6 {
		clis[i%2].id("issue", "create", "-t", "Written after C moved "+strconv.Itoa(i))
		want++
		time.Sleep(500 * time.Millisecond)
	}
	converged(t, clis, want, "C catches up at its new address")
	// Memberlist keeps the old address of a member it has not declared
	// dead and refuses the new one; the writes reach C over the
	// connection it opened, whatever memberlist's view says.
	if strings.Contains(ds[0].logs.String(), "Conflicting address") {
		t.Logf("A's memberlist kept C's old address")
	}
	for _, d := range ds {
		d.stop()
	}
}

// TestE2EOneShotWithoutMembership follows a repo and syncs it from a
// daemon with no daemon of our own: the commands connect and run the
// sessions directly, so the serving node never counts the short-lived
// node as a memberlist member (which it used to, keeping its address and
// gossiping to it after it was gone).
func TestE2EOneShotWithoutMembership(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "oneshot", "--json")
	ca.id("issue", "create", "-t", "From A")
	var fr api.FollowResult
	cb.json(&fr, "repo", "follow", repo.ID, "--peer", da.addr, "--json")
	if fr.Name != "oneshot" || fr.Peers != 1 {
		t.Fatalf("repo follow = %+v, want the repo from 1 peer", fr)
	}
	var idB api.Identity
	cb.json(&idB, "id", "show", "--json")
	cb.id("issue", "create", "-t", "From B")
	var res []api.SyncResult
	cb.json(&res, "sync", "--peer", da.addr, "--json")
	if len(res) != 1 || !res[0].InSync || res[0].Sent != 1 {
		t.Fatalf("sync = %+v, want one op sent", res)
	}
	if err := same([]*cli{ca, cb}, "issue", "list", "-s", "all", "--json"); err != nil {
		t.Fatal(err)
	}
	var st api.Status
	ca.json(&st, "status", "--json")
	for _, p := range st.Peers {
		if p.ID == idB.ID {
			t.Errorf("A lists B as a peer (%+v) after B's commands ended; they must not join memberlist", p)
		}
	}
	da.stop()
}
