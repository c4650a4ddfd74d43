package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"murmur/api"
)

// healBound is how long a woken replica may take to catch up with no
// command typed. Its stale connections end at the first packet (QUIC
// stateless reset), memberlist's view is repaired by a rejoin within a
// few seconds, and the mesh's anti-entropy timer (30 s) backs both up;
// on loopback it takes well under a second. Before, the woken replica
// kept sending into connections its peers had forgotten for another
// idle timeout (30 s), and after a 60 s pause never caught up.
const healBound = 20 * time.Second

// TestE2EHealAfterPause stops a replica (SIGSTOP, what a laptop's sleep
// looks like) while the others write, long enough for memberlist to mark
// it failed, wakes it and checks that it catches up by itself: no sync
// command is run. The pause is 45 s, longer than the peers' QUIC idle
// timeout (30 s), which is what used to strand a woken replica; shorter
// pauses healed before too. MURMUR_LONG=1 makes it 60 s and MURMUR_PAUSE=D
// sets it.
func TestE2EHealAfterPause(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes and pauses one")
	}
	pause := 45 * time.Second
	if os.Getenv("MURMUR_LONG") == "1" {
		pause = 60 * time.Second
	}
	if v := os.Getenv("MURMUR_PAUSE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MURMUR_PAUSE=%q: %v", v, err)
		}
		pause = d
	}
	t.Parallel()
	ca, cb, cc := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	db, dc := newDaemon(t, cb, da.addr), newDaemon(t, cc, da.addr)
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "sleepy", "--json")
	ca.id("issue", "create", "-t", "Before the pause")
	db.start()
	dc.start()
	for _, c := range []*cli{cb, cc} {
		c.ok("repo", "follow", repo.ID, "--peer", da.addr)
	}
	ops := func(c *cli) (int, error) {
		var st api.Status
		out, err := c.jsonOf("status", "--json")
		if err != nil {
			return 0, err
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Repos) != 1 {
			return 0, fmt.Errorf("status on %s: %v (%d repos)", c.home, err, len(st.Repos))
		}
		return st.Repos[0].Ops, nil
	}
	eventually(t, "B and C have the repo", 20*time.Second, func() error {
		return same([]*cli{ca, cb, cc}, "issue", "list", "-s", "all", "--json")
	})

	if err := dc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// A and B write while C sleeps.
	for i := 0; time.Since(stopped) < pause; i++ {
		c := []*cli{ca, cb}[i%2]
		c.id("issue", "create", "-t", "Written while C slept "+strconv.Itoa(i))
		time.Sleep(time.Second)
	}
	if !strings.Contains(da.logs.String(), "as failed") {
		t.Logf("A's log does not show C marked failed; the pause may be too short for this machine")
	}
	if err := dc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	woke := time.Now()
	want, err := ops(ca)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, fmt.Sprintf("C catches up within %v of waking, with no command", healBound), healBound, func() error {
		got, err := ops(cc)
		if err != nil {
			return err
		}
		if got < want {
			return fmt.Errorf("C has %d of %d ops", got, want)
		}
		return errors.Join(same([]*cli{ca, cb, cc}, "issue", "list", "-s", "all", "--json"))
	})
	t.Logf("paused %v; C converged %.1f s after waking", pause.Round(time.Second), time.Since(woke).Seconds())
	for _, d := range []*daemon{da, db, dc} {
		for _, l := range strings.Split(d.logs.String(), "\n") {
			if strings.Contains(l, "rejoining") || strings.Contains(l, "anti-entropy repaired") {
				t.Logf("%s: %s", filepath.Base(d.c.home), l)
			}
		}
	}
	for _, d := range []*daemon{da, db, dc} {
		d.stop()
	}
}
