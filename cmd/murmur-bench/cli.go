package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"murmur/api"
	"murmur/localapi"
	"murmur/node"
)

func init() {
	register("cli", "`murmur issue create` and `issue list --json` as separate processes against a running node", cli)
}

// workspace makes a temporary directory for a scenario that runs the
// murmur command, and finds that command (murmurBinary). The caller
// removes dir.
func workspace(prefix string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	bin, err = murmurBinary(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, bin, nil
}

// murmurBinary finds the murmur command: beside this benchmark, on PATH,
// or built into dir with the go tool.
func murmurBinary(dir string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "murmur")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("murmur"); err == nil {
		return p, nil
	}
	out := filepath.Join(dir, "murmur")
	build := exec.Command("go", "build", "-o", out, "murmur/cmd/murmur")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build murmur (put a murmur binary beside murmur-bench or on PATH): %w", err)
	}
	return out, nil
}

// cli measures what a user at a shell waits for while a node runs: one
// `issue create` process (start, attach to the node's socket, durable
// write, print) and one `issue list --json` process over 10,000 issues.
func cli() ([]Result, error) {
	const issues = 10_000
	const creates = 30
	ctx := context.Background()
	dir, bin, err := workspace("mb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "h")
	var n *node.Node
	srv, err := localapi.ServeNode(ctx, home, func() (api.Service, func() error, error) {
		var err error
		n, err = node.Open(ctx, node.Config{Home: home, Daemon: true})
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	}, localapi.ServeOptions{Owner: localapi.Owner{Command: "murmur-bench"}})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	if _, err := n.InitIdentity(ctx, "bench", nil); err != nil {
		return nil, err
	}
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "bench"})
	if err != nil {
		return nil, err
	}
	for i := range issues {
		if _, err := n.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "issue " + strconv.Itoa(i), Body: "text"}); err != nil {
			return nil, err
		}
	}
	run := func(args ...string) (time.Duration, error) {
		d, _, err := runMurmur(bin, home, args...)
		return d, err
	}
	var createTimes []float64
	for i := range creates {
		d, err := run("issue", "create", "-R", repo.ID, "-t", "timed "+strconv.Itoa(i), "-b", "x")
		if err != nil {
			return nil, err
		}
		createTimes = append(createTimes, ms(d))
	}
	// The same write through the node's socket from this process: what
	// the node takes, without starting a process.
	client := localapi.NewClient(localapi.DialSocket(srv.SocketPath()))
	defer client.Close()
	var apiTimes []float64
	for i := range creates {
		start := time.Now()
		if _, err := client.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "api " + strconv.Itoa(i), Body: "x"}); err != nil {
			return nil, err
		}
		apiTimes = append(apiTimes, ms(time.Since(start)))
	}
	start := time.Now()
	if _, err := run("--version"); err != nil {
		return nil, err
	}
	startup := ms(time.Since(start))
	var listTimes []float64
	for range 5 {
		d, err := run("issue", "list", "-R", repo.ID, "--json", "-s", "all", "-L", "0")
		if err != nil {
			return nil, err
		}
		listTimes = append(listTimes, ms(d))
	}
	c := fmt.Sprintf("issues=%d", issues)
	return []Result{
		{"cli", c, "create_ms", median(createTimes), "ms"},
		{"cli", c, "create_p90_ms", percentile(createTimes, 0.9), "ms"},
		{"cli", c, "api_create_ms", median(apiTimes), "ms"},
		{"cli", c, "process_start_ms", startup, "ms"},
		{"cli", c, "list_10000_ms", median(listTimes), "ms"},
	}, nil
}

// runMurmur runs the murmur binary on home and returns its wall time and
// output; it fails unless the command exits 0 and prints something.
func runMurmur(bin, home string, args ...string) (time.Duration, []byte, error) {
	return runMurmurIn(bin, home, "", args...)
}

// runMurmurIn is runMurmur in the working directory dir ("" for the
// current one).
func runMurmurIn(bin, home, dir string, args ...string) (time.Duration, []byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MURMUR_HOME="+home, "NO_COLOR=1")
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return 0, nil, fmt.Errorf("murmur %v: %v: %s", args, err, ee.Stderr)
		}
		return 0, nil, fmt.Errorf("murmur %v: %w", args, err)
	}
	if len(out) == 0 {
		return 0, nil, fmt.Errorf("murmur %v printed nothing", args)
	}
	return d, out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 { return percentile(xs, 0.5) }

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(p * float64(len(s)-1))
	return s[i]
}
