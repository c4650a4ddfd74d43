package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"murmur/api"
	"murmur/localapi"
)

// The end-to-end tests of one owner per data directory: `murmur serve`
// started while other murmur processes use the same data directory.

// hammer runs murmur commands on c in loops until stop is called; stop
// returns the IDs of the issues whose creation was acknowledged, and the
// failures seen.
func hammer(t *testing.T, c *cli) (stop func() (created []string, failures []string)) {
	t.Helper()
	var (
		mu       sync.Mutex
		ids      []string
		failures []string
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(name string, args func(i int) []string, ok func(stdout string) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				a := args(i)
				r := c.run(a...)
				err := error(nil)
				if r.code != 0 {
					err = fmt.Errorf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
				} else {
					err = ok(r.stdout)
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: murmur %s: %v", name, strings.Join(a, " "), err))
					mu.Unlock()
				}
			}
		}()
	}
	loop("status", func(int) []string { return []string{"status", "--json"} }, func(out string) error {
		var st api.Status
		return json.Unmarshal([]byte(out), &st)
	})
	loop("list", func(int) []string { return []string{"issue", "list", "-s", "all", "--json"} }, func(out string) error {
		var l []api.IssueSummary
		return json.Unmarshal([]byte(out), &l)
	})
	loop("create", func(i int) []string { return []string{"issue", "create", "-t", fmt.Sprintf("hammer %d", i), "--json"} }, func(out string) error {
		var is api.Issue
		if err := json.Unmarshal([]byte(out), &is); err != nil {
			return err
		}
		mu.Lock()
		ids = append(ids, is.ID)
		mu.Unlock()
		return nil
	})
	var once sync.Once
	stop = func() ([]string, []string) {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
		mu.Lock()
		defer mu.Unlock()
		return ids, failures
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestE2EServeWhileCommandsHammer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many processes")
	}
	t.Parallel()
	c := newCLI(t, shortHome(t))
	c.ok("repo", "create", "--name", "hammered")
	stop := hammer(t, c)
	const starts = 4
	for i := range starts {
		// Start while a command has the store open.
		deadline := time.Now().Add(20 * time.Second)
		for !locked(c.home, localapi.LockName) {
			if time.Now().After(deadline) {
				t.Fatal("no command held the store within 20s")
			}
			time.Sleep(time.Millisecond)
		}
		d := newDaemon(t, c)
		d.start() // fails the test if serve exits
		var st api.Status
		c.json(&st, "status", "--json")
		if !st.Daemon {
			t.Errorf("start %d: status says no daemon serves while murmur serve runs", i)
		}
		d.stop()
	}
	created, failures := stop()
	for _, f := range failures {
		t.Error(f)
	}
	if len(created) == 0 {
		t.Fatal("no issue was created while serve started and stopped")
	}
	var list []api.IssueSummary
	c.json(&list, "issue", "list", "-s", "all", "--json")
	have := map[string]bool{}
	for _, is := range list {
		have[is.ID] = true
	}
	for _, id := range created {
		if !have[id] {
			t.Errorf("acknowledged issue %s is missing", id)
		}
	}
	t.Logf("%d serve starts, %d acknowledged creates, %d issues", starts, len(created), len(list))
}

func TestE2EThreeServesPolledByStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 3 {
		c := newCLI(t, shortHome(t))
		d := newDaemon(t, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Poll as a script waiting for its daemon would, starting
			// before the daemon does.
			polled := make(chan error, 1)
			go func() {
				deadline := time.Now().Add(30 * time.Second)
				for {
					r := c.run("status", "--json")
					var st api.Status
					if r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Daemon {
						polled <- nil
						return
					}
					if time.Now().After(deadline) {
						polled <- fmt.Errorf("node %d: status never reported the daemon; last: exit %d %s", i, r.code, r.stderr)
						return
					}
				}
			}()
			if err := d.launch(); err != nil {
				t.Error(err)
			}
			if err := <-polled; err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// shortHome is a data directory with a short path, so that its socket
// path fits a Unix socket address whatever the temporary directory.
func shortHome(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// holdStore takes the store lock of home as a murmur command that is
// writing would, and returns its release.
func holdStore(t *testing.T, home string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(home, localapi.LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		t.Fatalf("lock the store: %v", err)
	}
	rec := `{"pid":` + strconv.Itoa(os.Getpid()) + `,"command":"murmur issue create","role":"command"}` + "\n"
	if _, err := f.WriteString(rec); err != nil {
		t.Fatal(err)
	}
	once := sync.Once{}
	release = func() {
		once.Do(func() {
			f.Truncate(0)
			f.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// locked reports whether a process holds the lock file name of home.
func locked(home, name string) bool {
	f, err := os.Open(filepath.Join(home, name))
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}

func TestE2ECommandWaitsForStartingDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs murmur serve")
	}
	t.Parallel()
	c := newCLI(t, shortHome(t))
	c.ok("repo", "create", "--name", "waiting")
	// A command is writing when the daemon starts: the daemon waits for
	// it, and a command started meanwhile waits for the daemon.
	release := holdStore(t, c.home)
	d := newDaemon(t, c)
	started := make(chan error, 1)
	go func() { started <- d.launch() }()
	deadline := time.Now().Add(10 * time.Second)
	for !locked(c.home, localapi.DaemonLockName) {
		if time.Now().After(deadline) {
			t.Fatalf("murmur serve did not wait for the store:\n%s", d.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := make(chan result, 1)
	go func() { out <- c.run("issue", "create", "-t", "while the daemon starts", "--json") }()
	time.Sleep(300 * time.Millisecond) // let the command find the daemon pending
	release()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	r := <-out
	if r.code != 0 {
		t.Fatalf("issue create while the daemon started: exit %d: %s", r.code, r.stderr)
	}
	var is api.Issue
	if err := json.Unmarshal([]byte(r.stdout), &is); err != nil {
		t.Fatal(err)
	}
	// The daemon logs each request it serves (--log debug): it served
	// the command, which never opened the store itself.
	if logs := d.logs.String(); !strings.Contains(logs, "method=POST") || !strings.Contains(logs, "/issues") {
		t.Fatalf("the daemon did not serve the command's write; its log:\n%s", logs)
	}
	var st api.Status
	c.json(&st, "status", "--json")
	if !st.Daemon {
		t.Error("status says no daemon serves")
	}
	var got api.Issue
	c.json(&got, "issue", "view", is.ID, "--json")
	if got.ID != is.ID {
		t.Errorf("issue view = %s, want %s", got.ID, is.ID)
	}
	d.stop()
}

func TestE2EServeRefusesWhileTUIRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	c, _ := tuiHome(t)
	s := startTUI(t, c)
	s.waitFor("a demo repo")
	r := c.run("serve", "--listen", freeUDPAddr(t))
	want := fmt.Sprintf("terminal UI) (pid %d)", s.cmd.Process.Pid)
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "Quit the terminal UI") {
		t.Fatalf("murmur serve while the terminal UI runs: exit %d, stderr %q; want a failure naming %q", r.code, r.stderr, want)
	}
	s.send("q")
	s.wait()
	d := newDaemon(t, c)
	d.start()
	d.stop()
}
