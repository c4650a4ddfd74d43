package main

import (
	"context"
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
	"murmur/node"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it when the test ends. It skips the test when mounting is not permitted.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("needs a small tmpfs to fill, and mounting one is not permitted here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a filler file in dir that leaves about free bytes of the
// file system free, and returns its path.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for n := int64(0); n+int64(len(buf)) <= avail-free; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			break // the disk is as full as it gets
		}
	}
	return name
}

// cpuTime returns the user and system time process pid has used.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// bulkBodies creates n issues with bodies of size bytes in the only repo
// of home, with a node in this process.
func bulkBodies(t *testing.T, home string, n, size int) {
	t.Helper()
	ctx := context.Background()
	nd, err := node.Open(ctx, node.Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	body := strings.Repeat("a full disk must not lose a write. ", size/35+1)[:size]
	for i := range n {
		if _, err := nd.CreateIssue(ctx, "", api.NewIssue{Title: fmt.Sprintf("bulk %d", i), Body: body}); err != nil {
			t.Fatal(err)
		}
	}
}

func repoOps(c *cli, repoID string) (int, error) {
	out, err := c.jsonOf("repo", "view", "-R", repoID, "--json")
	if err != nil {
		return 0, err
	}
	var r api.Repo
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return 0, err
	}
	return r.Ops, nil
}

// TestE2EDiskFull fills the disk under a daemon while it receives a sync
// and takes local writes, then under a command that opens the store
// itself: writes fail with a clear error, nothing panics or spins, SIGTERM
// stops the daemon, writes resume once the filler is removed, and nothing
// acknowledged is lost.
func TestE2EDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes and fills a tmpfs")
	}
	small := mountTmpfs(t, 64<<20)
	ca := newCLI(t, mountTmpfs(t, 256<<20))
	cb := newCLI(t, filepath.Join(small, "home"))
	da := newDaemon(t, ca)
	db := newDaemon(t, cb, da.addr)

	// A has a repo with enough issues that syncing them needs more than
	// the space B will have left: more than a memtable, so that B rotates
	// its WAL and flushes.
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "big", "--json")
	bulkBodies(t, ca.home, 3000, 4<<10)
	da.start()
	wantOps, err := repoOps(ca, repo.ID)
	if err != nil {
		t.Fatal(err)
	}

	db.start()
	cb.ok("id", "alias", "bob") // B's daemon has written, so its WAL has its first space
	filler := fill(t, small, 512<<10)

	// The sync into B's daemon runs out of space. Following fetches the
	// first ops; the daemon syncs the rest in the background.
	cb.run("repo", "follow", repo.ID, "--peer", da.addr)
	eventually(t, "the daemon's sync runs out of space", 30*time.Second, func() error {
		select {
		case <-db.done:
			t.Fatalf("murmur serve exited during a sync onto a full disk:\n%s", db.logs)
		default:
		}
		if !strings.Contains(db.logs.String(), "the store cannot write") {
			cb.run("sync", "--timeout", "10s")
			return errors.New("no write failure logged yet")
		}
		return nil
	})
	// A local write through the daemon fails with a clear error, and the
	// daemon keeps answering reads.
	r := cb.run("issue", "create", "-R", repo.ID, "-t", "while full")
	checkFailure(t, r, 1, "disk full: free space on")
	cb.ok("repo", "list")

	// No spin: the failed daemon idles.
	before := cpuTime(t, db.cmd.Process.Pid)
	time.Sleep(3 * time.Second)
	used := cpuTime(t, db.cmd.Process.Pid) - before
	t.Logf("murmur serve used %v of CPU in 3s on a full disk", used)
	if used > 1500*time.Millisecond {
		t.Errorf("murmur serve used %v of CPU in 3s on a full disk", used)
	}
	if n := strings.Count(db.logs.String(), "the store cannot write"); n != 1 {
		t.Errorf("daemon logged the write failure %d times, want once:\n%s", n, db.logs)
	}

	// Space returns: the running daemon writes again and catches up.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's daemon catching up with A after space returned", 30*time.Second, func() error {
		cb.run("repo", "follow", repo.ID, "--peer", da.addr)
		cb.run("sync", "--timeout", "10s")
		n, err := repoOps(cb, repo.ID)
		if err == nil && n < wantOps {
			err = fmt.Errorf("B has %d ops, want %d", n, wantOps)
		}
		return err
	})
	var acked []string
	eventually(t, "a write through the daemon after space returned", 30*time.Second, func() error {
		r := cb.run("issue", "create", "-R", repo.ID, "-t", "after space returned")
		if r.code != 0 {
			return fmt.Errorf("exit %d: %s", r.code, r.stderr)
		}
		acked = append(acked, strings.TrimSpace(r.stdout))
		return nil
	})
	if strings.Contains(db.logs.String(), "panic") {
		t.Errorf("daemon log mentions a panic:\n%s", db.logs)
	}
	db.stop()

	// A command that opens the store itself on a full disk fails clearly
	// and exits; after space returns it writes.
	filler = fill(t, small, 0)
	r = cb.run("issue", "create", "-R", repo.ID, "-t", "no daemon, full")
	checkFailure(t, r, 1, "disk full: free space on")
	cb.ok("issue", "view", acked[0])
	// A daemon starts on the full disk, serves reads, and stops on SIGTERM.
	db.start()
	cb.ok("issue", "view", acked[0])
	db.stop()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, cb.id("issue", "create", "-R", repo.ID, "-t", "no daemon, space returned"))

	// Nothing acknowledged is lost.
	for _, id := range acked {
		cb.ok("issue", "view", id)
	}
	n, err := repoOps(cb, repo.ID)
	if err != nil || n < wantOps+len(acked) {
		t.Errorf("B has %d ops (%v), want at least %d", n, err, wantOps+len(acked))
	}
}
