package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// titles returns the titles of the issues a node lists.
func titles(t *testing.T, c *cli, extra ...string) []string {
	t.Helper()
	var is []api.IssueSummary
	c.json(&is, append([]string{"issue", "list", "-s", "all", "-L", "0", "--json"}, extra...)...)
	var out []string
	for _, i := range is {
		out = append(out, i.Title)
	}
	return out
}

func hasTitle(ts []string, want string) bool {
	for _, t := range ts {
		if t == want {
			return true
		}
	}
	return false
}

// logsContain waits until the daemon's log holds every string.
func logsContain(t *testing.T, d *daemon, what string, want ...string) {
	t.Helper()
	eventually(t, what, 20*time.Second, func() error {
		logs := d.logs.String()
		for _, w := range want {
			if !strings.Contains(logs, w) {
				return fmt.Errorf("the log of %s lacks %q:\n%s", d.addr, w, logs)
			}
		}
		return nil
	})
}

// TestE2EPolicyBlock: a blocked identity's stored ops are hidden, its new
// ops are refused with the reason in the sender's log and not offered
// again; unblocking brings them; a blocked peer's connection is refused.
func TestE2EPolicyBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes")
	}
	t.Parallel()
	ca, cm := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	ca.ok("id", "alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "blocky", "--json")

	dm := newDaemon(t, cm, da.addr)
	dm.start()
	var mallory api.Identity
	cm.json(&mallory, "id", "show", "--json")
	cm.ok("repo", "follow", repo.ID, "--peer", da.addr)
	old := cm.id("issue", "create", "-t", "Old issue by mallory")
	eventually(t, "mallory's issue reaches A", 20*time.Second, func() error {
		cm.run("sync", "--timeout", "10s")
		if !hasTitle(titles(t, ca), "Old issue by mallory") {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// Blocked: what is stored is hidden.
	ca.ok("block", mallory.ID)
	eventually(t, "mallory's issue hidden on A", 10*time.Second, func() error {
		if ts := titles(t, ca); hasTitle(ts, "Old issue by mallory") {
			return fmt.Errorf("A still lists %q", ts)
		}
		return nil
	})
	if r := ca.run("issue", "view", old); r.code == 0 || !strings.Contains(r.stderr, "blocks") {
		t.Fatalf("issue view of a blocked author's issue: exit %d, %s; want not found, saying the author is blocked", r.code, r.stderr)
	}

	// New ops are refused, and the sender's log says why.
	var before api.Repo
	ca.json(&before, "repo", "view", repo.ID, "--json")
	cm.id("issue", "create", "-t", "New issue by mallory")
	cm.run("sync", "--timeout", "10s")
	logsContain(t, dm, "the refusal in mallory's log", "peer refused our ops by its policy", "is blocked by this node")
	logsContain(t, da, "the refusal in A's log", "refused ops by local policy")
	var after api.Repo
	ca.json(&after, "repo", "view", repo.ID, "--json")
	if after.Ops != before.Ops {
		t.Fatalf("A stores %d ops after mallory's new issue, want %d: the blocked op was stored", after.Ops, before.Ops)
	}
	// The refused op is in A's summary: the next sync sends nothing.
	var res []api.SyncResult
	cm.json(&res, "sync", "--timeout", "10s", "--json")
	if len(res) != 1 || res[0].Sent != 0 || !res[0].InSync {
		t.Fatalf("second sync = %+v, want in sync with nothing sent", res)
	}

	// Unblocked: both issues show on A.
	ca.ok("unblock", mallory.ID)
	eventually(t, "mallory's issues back on A", 20*time.Second, func() error {
		cm.run("sync", "--timeout", "10s")
		ts := titles(t, ca)
		if !hasTitle(ts, "Old issue by mallory") || !hasTitle(ts, "New issue by mallory") {
			return fmt.Errorf("A lists %q", ts)
		}
		return nil
	})

	// A blocked peer: its connections are refused at the handshake.
	ca.ok("block", "--peer", mallory.ID)
	logsContain(t, da, "A closes mallory's connection", "blocked_peers=1")
	cm.id("issue", "create", "-t", "Issue while the peer is blocked")
	eventually(t, "mallory's connection refused", 20*time.Second, func() error {
		r := cm.run("sync", "--peer", da.addr, "--timeout", "5s")
		if !strings.Contains(r.stdout+r.stderr, "blocked by local policy") {
			return fmt.Errorf("sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return nil
	})
	logsContain(t, da, "A's log names the refused peer", "refusing connection of peer", mallory.ID)
	if hasTitle(titles(t, ca), "Issue while the peer is blocked") {
		t.Fatal("an op reached A from a blocked peer")
	}
	da.stop()
	dm.stop()
}

// TestE2EPolicySeedTrusted: a seed whose config file trusts alice
// follows alice's repo and not carol's, both announced to it.
func TestE2EPolicySeedTrusted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	ca, cc, cs := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	var alice api.Identity
	ca.json(&alice, "id", "init", "--alias", "alice", "--json")
	var ra, rc api.Repo
	ca.json(&ra, "repo", "create", "--name", "alices", "--json")
	cc.json(&rc, "repo", "create", "--name", "carols", "--json")
	da, dc := newDaemon(t, ca), newDaemon(t, cc)
	da.start()
	dc.start()

	conf := filepath.Join(t.TempDir(), "seed.conf")
	if err := os.WriteFile(conf, []byte("seed = trusted\ntrust = "+alice.ID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cs.env["MURMUR_CONFIG"] = conf
	ds := newDaemon(t, cs, da.addr, dc.addr)
	ds.start()
	eventually(t, "the seed follows alice's repo", 30*time.Second, func() error {
		var rs []api.Repo
		cs.json(&rs, "repo", "list", "--json")
		for _, r := range rs {
			if r.ID == ra.ID && r.Following && r.Ops > 0 {
				return nil
			}
		}
		return fmt.Errorf("seed repos: %+v", rs)
	})
	logsContain(t, ds, "the seed declines carol's repo", "not seeding announced repo", "is not trusted")
	var rs []api.Repo
	cs.json(&rs, "repo", "list", "--json")
	for _, r := range rs {
		if r.ID == rc.ID && r.Following {
			t.Fatalf("the seed follows carol's repo %s, whose owner it does not trust", rc.ID)
		}
	}
	var p struct {
		Seed struct {
			Mode    string   `json:"mode"`
			Trusted []string `json:"trusted"`
		} `json:"seed"`
	}
	cs.json(&p, "policy", "show", "--json")
	if p.Seed.Mode != "trusted" || len(p.Seed.Trusted) != 1 || p.Seed.Trusted[0] != alice.ID {
		t.Fatalf("policy show after the config file = %+v, want seed trusted [%s]", p, alice.ID)
	}
	ds.stop()
}

// TestE2EPolicyFlood: an author flooding a repo is cut at its budget, the
// reason shows in the flooder's log, and an honest author's ops flow.
func TestE2EPolicyFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	ca, cm, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	ca.ok("id", "alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "floody", "--json")
	ca.ok("policy", "set", "--author-ops", "10", "--window", "1h")
	da := newDaemon(t, ca)
	da.start()

	// The flooder writes 40 issues offline, then syncs.
	var mallory api.Identity
	cm.json(&mallory, "id", "init", "--json")
	cm.ok("repo", "follow", repo.ID, "--peer", da.addr)
	bulk(t, cm.home, 40)
	dm := newDaemon(t, cm, da.addr)
	dm.start()
	cm.run("sync", "--timeout", "10s")
	logsContain(t, dm, "the budget refusal in the flooder's log", "peer refused our ops by its policy", "over its ingest budget")

	// An honest author's issues still arrive.
	cb.ok("id", "alias", "bob")
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	db := newDaemon(t, cb, da.addr)
	db.start()
	for i := range 3 {
		cb.id("issue", "create", "-t", fmt.Sprintf("Honest issue %d", i))
	}
	eventually(t, "bob's issues on A", 20*time.Second, func() error {
		cb.run("sync", "--timeout", "10s")
		ts := titles(t, ca)
		for i := range 3 {
			if !hasTitle(ts, fmt.Sprintf("Honest issue %d", i)) {
				return fmt.Errorf("A lists %q", ts)
			}
		}
		return nil
	})
	got := titles(t, ca, "--author", mallory.ID)
	if len(got) == 0 || len(got) > 10 {
		t.Fatalf("A holds %d of the flooder's 40 issues, want 1 to 10 (its budget)", len(got))
	}
	// The refused ops are not offered again in this window.
	var res []api.SyncResult
	cm.json(&res, "sync", "--timeout", "10s", "--json")
	if len(res) != 1 || res[0].Sent != 0 {
		t.Fatalf("the flooder's next sync = %+v, want nothing sent", res)
	}
	da.stop()
}
