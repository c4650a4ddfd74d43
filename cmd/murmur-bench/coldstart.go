package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"murmur/internal/workload"
	"murmur/node"
	"murmur/storage"
)

func init() {
	register("coldstart", "`murmur serve` from process start to ready over a store of 100k and 1M ops, and its memory", coldstart)
}

// coldstartRuns is how many times each store is started; the median is
// reported.
const coldstartRuns = 3

// coldstart fills a data directory with n signed ops of one repo, then
// starts the real `murmur serve` on it several times and measures the time
// from exec to its "ready" log line (store open, follow set, Merkle trees,
// mesh listening, local API socket) and the process's resident memory once
// ready. The store was just written, so its files are in the page cache.
func coldstart() ([]Result, error) {
	dir, bin, err := workspace("murmur-bench-coldstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []Result
	for _, n := range []int{100_000, 1_000_000} {
		home := filepath.Join(dir, strconv.Itoa(n))
		if err := fillStore(filepath.Join(home, node.StoreDir), n); err != nil {
			return nil, err
		}
		var ready, rss []float64
		for range coldstartRuns {
			r, m, err := serveUntilReady(bin, home)
			if err != nil {
				return nil, fmt.Errorf("coldstart n=%d: %w", n, err)
			}
			ready = append(ready, r.Seconds())
			rss = append(rss, float64(m))
		}
		slices.Sort(ready)
		slices.Sort(rss)
		c := fmt.Sprintf("n=%d", n)
		out = append(out,
			Result{"coldstart", c, "ready_seconds", ready[len(ready)/2], "s"},
			Result{"coldstart", c, "rss_bytes", rss[len(rss)/2], "bytes"},
		)
	}
	return out, nil
}

// fillStore writes n workload ops into a new store at dir through the
// ingest path, so that it holds exactly what a replica that received them
// holds.
func fillStore(dir string, n int) error {
	raw, err := workload.Ops(n, 1)
	if err != nil {
		return err
	}
	st, err := storage.Open(dir, nil)
	if err != nil {
		return err
	}
	if err := workload.IngestPipeline(st, raw, 1000); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

// serveUntilReady runs `murmur serve` on home until it logs "ready",
// reads its resident set size, stops it with SIGTERM and returns both.
func serveUntilReady(bin, home string) (time.Duration, int64, error) {
	sv, err := startServe(bin, home)
	if err != nil {
		return 0, 0, err
	}
	defer sv.stop()
	rss, err := residentBytes(sv.cmd.Process.Pid)
	return sv.ready, rss, err
}

// server is a running `murmur serve`.
type server struct {
	cmd   *exec.Cmd
	addr  string        // its mesh address
	ready time.Duration // from exec to its "ready" log line
}

// startServe runs `murmur serve` on home on a free loopback port, with
// extra flags, and returns once it logs "ready". The caller stops it.
func startServe(bin, home string, extra ...string) (*server, error) {
	addr, err := freeUDPAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"--home", home, "serve", "--listen", addr}, extra...)...)
	cmd.Env = append(os.Environ(), "MURMUR_PASSPHRASE=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sv := &server{cmd: cmd, addr: addr}
	lines := bufio.NewScanner(stderr)
	var logs bytes.Buffer
	for lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "msg=ready") {
			sv.ready = time.Since(start)
			go func() { // keep draining, so the process never blocks on stderr
				for lines.Scan() {
				}
			}()
			return sv, nil
		}
	}
	sv.stop()
	return nil, fmt.Errorf("murmur serve exited before it was ready:\n%s", logs.String())
}

// stop ends the server with SIGTERM and waits for it.
func (sv *server) stop() {
	_ = sv.cmd.Process.Signal(syscall.SIGTERM)
	_ = sv.cmd.Wait()
}

// freeUDPAddr returns a loopback UDP address no one listens on now.
func freeUDPAddr() (string, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

// residentBytes reads VmRSS of a process from /proc.
func residentBytes(pid int) (int64, error) { return procMemory(pid, "VmRSS") }

// procMemory reads a memory field of a process's /proc status, such as
// VmRSS (resident now) or VmHWM (the most it has been resident), in
// bytes.
func procMemory(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of murmur serve (needs /proc): %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}
