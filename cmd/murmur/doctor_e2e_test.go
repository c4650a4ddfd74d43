package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"murmur/api"
)

// TestE2EDamagedStore damages a replica's store four ways while a peer
// runs 'murmur serve': its marker.manifest removed, its MANIFEST removed,
// bytes flipped in its newest table, that table truncated. Each time a command refuses with a
// message naming the file and 'murmur doctor --repair', without a panic and
// without deleting the tables; 'murmur doctor' exits 1; 'murmur doctor
// --repair', with --peer or with the peer from the salvaged address book,
// restores everything, fetching from the peer what the damaged files lost; 'murmur doctor' then exits 0.
func TestE2EDamagedStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs murmur serve and repairs four damaged stores")
	}
	ca := newCLI(t, t.TempDir())
	da := newDaemon(t, ca)
	da.start()
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "heal", "--json")
	for i := range 3 {
		ca.id("issue", "create", "-t", fmt.Sprintf("first %d", i))
	}
	// doctor never works beside a running node.
	checkFailure(t, ca.run("doctor"), 1, "another murmur process uses", "Stop 'murmur serve'")

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, store string)
		want   string // in the refusal
		// lost: the damage loses ops that only the peer gives back
		lost bool
		// fromBook: repair without --peer
		fromBook bool
	}{
		{"marker removed", func(t *testing.T, store string) { removeFiles(t, store, "marker.manifest.*") }, "marker.manifest", false, true},
		{"manifest removed", func(t *testing.T, store string) { removeFiles(t, store, "MANIFEST-*") }, "MANIFEST-", false, false},
		{"bytes flipped", func(t *testing.T, store string) {
			tables := tableFiles(t, store)
			flip(t, tables[len(tables)-1])
		}, ".sst", true, false},
		{"table truncated", func(t *testing.T, store string) {
			tables := tableFiles(t, store)
			if err := os.Truncate(tables[len(tables)-1], 100); err != nil {
				t.Fatal(err)
			}
		}, ".sst", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := newCLI(t, t.TempDir())
			cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
			cb.ok("issue", "list")
			// Ops that reach B later are in a newer table of their own:
			// flipping bytes there loses them, and the repair fetches
			// them again.
			for i := range 2 {
				ca.id("issue", "create", "-t", fmt.Sprintf("%s %d", tc.name, i))
			}
			cb.ok("sync", "--peer", da.addr)
			cb.ok("issue", "list")
			if err := same([]*cli{ca, cb}, "issue", "list", "-s", "all", "--json"); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(cb.home, "store")
			tables := tableFiles(t, store)
			if len(tables) < 2 {
				t.Fatalf("B has %d table files, want at least 2", len(tables))
			}
			tc.damage(t, store)

			r := cb.run("issue", "list", "-s", "all")
			checkFailure(t, r, 1, tc.want, "murmur doctor --repair")
			if strings.Contains(r.stderr, "panic") {
				t.Fatalf("issue list on a damaged store panicked:\n%s", r.stderr)
			}
			for _, f := range tables {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("table file gone after the refusal: %v", err)
				}
			}
			r = cb.run("doctor")
			if r.code != 1 || !strings.Contains(r.stdout, tc.want) || !strings.Contains(r.stderr, "murmur doctor --repair") {
				t.Fatalf("doctor on the damaged store: exit %d, want 1 and the file named\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}

			// Without --peer the repair finds the peer in the salvaged
			// address book.
			repair := []string{"doctor", "--repair", "--timeout", "20s"}
			if !tc.fromBook {
				repair = append(repair, "--peer", da.addr)
			}
			r = cb.run(repair...)
			if r.code != 0 || !strings.Contains(r.stdout, "moved the damaged store aside") || !strings.Contains(r.stdout, "synced with 1 peers") {
				t.Fatalf("doctor --repair: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			t.Logf("doctor --repair:\n%s", r.stdout)
			if tc.lost && strings.Contains(r.stdout, "fetched 0 ops") {
				t.Errorf("the repair fetched nothing from the peer, want the ops of the damaged table")
			}
			aside, _ := filepath.Glob(store + ".damaged-*")
			if len(aside) != 1 {
				t.Errorf("moved-aside stores = %v, want one", aside)
			}
			var rep struct {
				Clean bool `json:"clean"`
				Ops   int  `json:"ops"`
			}
			cb.json(&rep, "doctor", "--json")
			if !rep.Clean {
				t.Errorf("doctor after the repair: %+v, want clean", rep)
			}
			if err := same([]*cli{ca, cb}, "issue", "list", "-s", "all", "--json"); err != nil {
				t.Fatalf("after the repair: %v", err)
			}
		})
	}
	// The peer served throughout and stops cleanly.
	da.stop()
}

// TestE2EServeOverCorruptTables flips bytes in the tables of a store that
// 'murmur serve' has open, then has a peer fetch from it and a command read
// it: the reads fail with an error naming the way out, and serve keeps
// running and stops cleanly on SIGTERM.
func TestE2EServeOverCorruptTables(t *testing.T) {
	if testing.Short() {
		t.Skip("runs murmur serve")
	}
	cb := newCLI(t, t.TempDir())
	var repo api.Repo
	cb.json(&repo, "repo", "create", "--name", "served", "--json")
	bulk(t, cb.home, 40)
	cb.ok("issue", "list")
	db := newDaemon(t, cb)
	db.start()
	for _, f := range tableFiles(t, filepath.Join(cb.home, "store")) {
		flip(t, f)
	}

	ca := newCLI(t, t.TempDir())
	r := ca.run("repo", "follow", repo.ID, "--peer", db.addr)
	t.Logf("follow from the damaged peer: exit %d: %s", r.code, r.stderr)
	r = cb.run("issue", "list", "-s", "all")
	t.Logf("issue list on the damaged store: exit %d: %s", r.code, r.stderr)
	if r.code != 0 {
		checkFailure(t, r, 1, "murmur doctor --repair")
	}
	select {
	case <-db.done:
		t.Fatalf("murmur serve over corrupt tables exited:\n%s", db.logs)
	default:
	}
	if strings.Contains(db.logs.String(), "panic") {
		t.Fatalf("murmur serve over corrupt tables panicked:\n%s", db.logs)
	}
	db.stop()
}

func removeFiles(t *testing.T, dir, pattern string) {
	t.Helper()
	fs, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(fs) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	for _, f := range fs {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

// tableFiles lists a store's .sst files, oldest first.
func tableFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(fs)
	return fs
}

// flip inverts bytes all through a file but its last 256 bytes (the
// footer), so that every data block fails its checksum.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 16; i < len(b)-256; i += 64 {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
