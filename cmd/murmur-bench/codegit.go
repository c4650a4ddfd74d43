package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"murmur/gitstore"
	"murmur/internal/repogen"
)

// gitServer serves the repositories under a directory with git's own
// transport: git daemon on loopback, or file:// when git daemon cannot
// run (then transport says so and nothing counts bytes).
type gitServer struct {
	base      string
	transport string // "daemon" (git daemon) or "file://"
	addr      string // git daemon's address
	cmd       *exec.Cmd
}

// startGitServer starts git daemon on a free loopback port, exporting
// the repositories under base; the caller stops it.
func startGitServer(ctx context.Context, base string) (*gitServer, error) {
	gs, err := startGitDaemon(ctx, base)
	if err != nil {
		fmt.Fprintf(os.Stderr, "murmur-bench: code: git daemon is unavailable (%v); git's clone runs over file:// instead, and git's one-commit fetch is not measured\n", err)
		return &gitServer{base: base, transport: "file://"}, nil
	}
	return gs, nil
}

func startGitDaemon(ctx context.Context, base string) (*gitServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	// git-daemon itself rather than `git daemon`, which runs it as a child
	// that would outlive a kill of its parent.
	execPath, err := repogen.Git(ctx, base, "--exec-path")
	if err != nil {
		return nil, err
	}
	daemon := filepath.Join(execPath, "git-daemon")
	if _, err := os.Stat(daemon); err != nil {
		return nil, fmt.Errorf("git-daemon is not installed beside git (%w)", err)
	}
	cmd := exec.Command(daemon, "--export-all", "--reuseaddr", "--informative-errors",
		"--base-path="+base, "--listen=127.0.0.1", "--port="+port, base)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	gs := &gitServer{base: base, transport: "daemon", addr: addr, cmd: cmd}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return gs, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("git daemon exited: %s", strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			gs.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			gs.stop()
			return nil, fmt.Errorf("git daemon did not listen on %s within 10s: %s", addr, strings.TrimSpace(stderr.String()))
		}
	}
}

// url is the address of the repository name under base.
func (gs *gitServer) url(name string) string {
	if gs.cmd == nil {
		return "file://" + filepath.Join(gs.base, name)
	}
	return "git://" + gs.addr + "/" + name
}

// pid is git daemon's process ID, 0 over file://.
func (gs *gitServer) pid() int {
	if gs.cmd == nil {
		return 0
	}
	return gs.cmd.Process.Pid
}

func (gs *gitServer) stop() {
	if gs.cmd != nil {
		_ = gs.cmd.Process.Kill()
	}
}

// fetch runs `git fetch origin` in the clone at dir against the
// repository name, through a proxy that counts what the sessions move,
// and returns that and the number of sessions. Over file:// it fetches
// and counts nothing.
func (gs *gitServer) fetch(ctx context.Context, dir, name string) (gitstore.Traffic, int, error) {
	if gs.cmd == nil {
		_, err := repogen.Git(ctx, dir, "fetch", "-q", "origin")
		return gitstore.Traffic{}, 0, err
	}
	p, err := newCountingProxy(gs.addr)
	if err != nil {
		return gitstore.Traffic{}, 0, err
	}
	// What `git fetch origin` does, from the proxy's address.
	_, err = repogen.Git(ctx, dir, "fetch", "-q", "git://"+p.ln.Addr().String()+"/"+name, "+refs/heads/*:refs/remotes/origin/*")
	t, n := p.close()
	return t, n, err
}

// countingProxy relays TCP connections to a target and measures each
// session with a gitstore.Meter on the target's side, as the node
// measures its own fetches.
type countingProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	// mu guards total and sessions.
	mu       sync.Mutex
	total    gitstore.Traffic
	sessions int
}

func newCountingProxy(target string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.relay(c)
		}
	}()
	return p, nil
}

// relay joins c to a new connection to the target until either side
// ends.
func (p *countingProxy) relay(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	m := gitstore.NewMeter(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(m, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, m); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = m.Close()
	<-done
	t := m.Traffic()
	p.mu.Lock()
	p.total.Sent += t.Sent
	p.total.Received += t.Received
	p.total.RoundTrips += t.RoundTrips
	p.sessions++
	p.mu.Unlock()
}

// close stops the proxy, waits for its sessions to end and returns their
// sum and number.
func (p *countingProxy) close() (gitstore.Traffic, int) {
	_ = p.ln.Close()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.sessions
}

// memorySampler samples every 50 ms the resident memory of a process and
// its descendants (a node and the git processes it runs) and keeps the
// largest sum.
type memorySampler struct {
	stopc, done chan struct{}
	peak        int64
}

// sampleMemory starts sampling pid's tree; pid 0 samples nothing.
func sampleMemory(pid int) *memorySampler {
	s := &memorySampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if pid == 0 {
			return
		}
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.peak = max(s.peak, treeResident(pid))
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak in bytes.
func (s *memorySampler) stop() int64 {
	close(s.stopc)
	<-s.done
	return s.peak
}

// treeResident sums the resident memory of pid and its descendants, as
// /proc shows them now.
func treeResident(pid int) int64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and
		// parentheses, so read after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var sum int64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[0]
		todo = append(todo[1:], children[p]...)
		if rss, err := residentBytes(p); err == nil {
			sum += rss
		}
	}
	return sum
}
