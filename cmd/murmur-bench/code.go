package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"murmur/api"
	"murmur/internal/repogen"
	"murmur/localapi"
)

func init() {
	register("code", "a generated repo of 10k commits (--code-commits): murmur's clone and its fetch of one new commit against git's own over git daemon, and the serving node's memory", func() ([]Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		dir, bin, err := workspace("mb-code-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		return codeBench(ctx, bin, dir, codeCommits)
	})
}

// codeCommits is the size of the code scenario's repo (--code-commits).
var codeCommits = 10_000

// codeRuns is how many times each clone runs; the median is reported.
const codeRuns = 3

// codeRef is the branch of the generated repo.
const codeRef = "refs/heads/main"

// codeBench measures, in one run on a repo of the given number of
// commits generated in dir:
//
//   - git's own clone over git daemon on loopback (file:// when git
//     daemon cannot run), and murmur's clone from a `murmur serve` seed to
//     a second `murmur serve` (see murmurClone), and their ratio;
//   - the bytes and round trips that fetch one new commit: git fetch over
//     git daemon through a counting proxy, and the second node's fetch as
//     its status reports it;
//   - the seed's memory while it serves the clone: the peak of the node
//     process (VmHWM) and of the node with the git processes it runs.
func codeBench(ctx context.Context, bin, dir string, commits int) ([]Result, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("the code scenario needs git on PATH; install git and run it again")
	}
	src := filepath.Join(dir, "src")
	start := time.Now()
	head, err := repogen.Generate(ctx, src, repogen.Options{Commits: commits, Seed: 1})
	if err != nil {
		return nil, err
	}
	genTime := time.Since(start)

	// git's own clones, with a working copy when murmur's make one.
	clone := murmurClone(bin)
	gs, err := startGitServer(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer gs.stop()
	var gitClone string
	var gitTimes []float64
	gitMem := sampleMemory(gs.pid())
	for i := range codeRuns {
		gitClone = filepath.Join(dir, fmt.Sprintf("git-clone-%d", i))
		args := []string{"clone", "-q", "--no-local", gs.url("src"), gitClone}
		if !clone.checkout {
			args = append(args, "--no-checkout")
		}
		start = time.Now()
		if _, err := repogen.Git(ctx, dir, args...); err != nil {
			gitMem.stop()
			return nil, err
		}
		gitTimes = append(gitTimes, time.Since(start).Seconds())
	}
	gitPeak := gitMem.stop()

	// murmur's clones: a seed that holds the repo, and each time a new
	// node joined to it that clones it. The last one stays for the fetch
	// of one new commit.
	seedHome := filepath.Join(dir, "seed")
	seed, err := startServe(bin, seedHome)
	if err != nil {
		return nil, err
	}
	defer seed.stop()
	_, out, err := runMurmurIn(bin, seedHome, src, "repo", "init", "--json")
	if err != nil {
		return nil, err
	}
	var repo api.Repo
	if err := json.Unmarshal(out, &repo); err != nil || repo.ID == "" {
		return nil, fmt.Errorf("murmur repo init --json printed %q: %v", out, err)
	}
	if _, _, err := runMurmurIn(bin, seedHome, src, "refs", "push"); err != nil {
		return nil, err
	}
	var second *clonedNode
	var murmurTimes []float64
	seedMem := sampleMemory(seed.cmd.Process.Pid)
	for i := range codeRuns {
		if second != nil {
			second.stop()
		}
		r := cloneRun{bin: bin, home: filepath.Join(dir, fmt.Sprintf("node-%d", i)), dir: filepath.Join(dir, fmt.Sprintf("murmur-clone-%d", i)),
			repo: repo.ID, peer: seed.addr, head: head}
		second, err = cloneOnce(ctx, clone, r)
		if err != nil {
			seedMem.stop()
			return nil, err
		}
		murmurTimes = append(murmurTimes, second.took.Seconds())
	}
	defer second.stop()
	seedPeak := seedMem.stop()
	seedHWM, err := procMemory(seed.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return nil, err
	}
	client := second.client
	cloned, err := waitFetches(ctx, client, 0)
	if err != nil {
		return nil, err
	}
	gitTime, murmurTime := median(gitTimes), median(murmurTimes)

	// One new commit, fetched by git and by the second node.
	next, err := commitOne(ctx, src)
	if err != nil {
		return nil, err
	}
	gitOne, gitSessions, err := gs.fetch(ctx, gitClone, "src")
	if err != nil {
		return nil, err
	}
	start = time.Now()
	if _, _, err := runMurmurIn(bin, seedHome, src, "refs", "push"); err != nil {
		return nil, err
	}
	if err := waitObjects(ctx, client, repo.ID, next); err != nil {
		return nil, fmt.Errorf("the new commit on the second node: %w", err)
	}
	oneTime := time.Since(start)
	fetched, err := waitFetches(ctx, client, cloned.Fetches)
	if err != nil {
		return nil, err
	}
	sessions := fetched.Fetches - cloned.Fetches
	if sessions != 1 || gitSessions != 1 {
		fmt.Fprintf(os.Stderr, "murmur-bench: code: the new commit took %d fetch sessions of murmur and %d of git; round trips are of the last\n", sessions, gitSessions)
	}
	murmurOne := fetched.FetchedBytes - cloned.FetchedBytes
	murmurRounds := fetched.LastFetch.RoundTrips

	c := fmt.Sprintf("commits=%d git:%s murmur:%s runs=%d", commits, gs.transport, clone.how, codeRuns)
	if !clone.checkout {
		c += " no-checkout"
	}
	results := []Result{
		{"code", c, "generate_seconds", genTime.Seconds(), "s"},
		{"code", c, "git_clone_seconds", gitTime, "s"},
		{"code", c, "murmur_clone_seconds", murmurTime, "s"},
		{"code", c, "clone_time_per_git", murmurTime / gitTime, "x"},
		{"code", c, "murmur_clone_received_bytes", float64(cloned.FetchedBytes), "bytes"},
		{"code", c, "murmur_clone_fetch_sessions", float64(cloned.Fetches), "sessions"},
	}
	if gs.transport == "daemon" {
		results = append(results,
			Result{"code", c, "git_one_commit_received_bytes", float64(gitOne.Received), "bytes"},
			Result{"code", c, "git_one_commit_sent_bytes", float64(gitOne.Sent), "bytes"},
			Result{"code", c, "git_one_commit_round_trips", float64(gitOne.RoundTrips), "round trips"},
		)
	}
	results = append(results,
		Result{"code", c, "murmur_one_commit_received_bytes", float64(murmurOne), "bytes"},
		Result{"code", c, "murmur_one_commit_sent_bytes", float64(fetched.LastFetch.Sent), "bytes"},
		Result{"code", c, "murmur_one_commit_round_trips", float64(murmurRounds), "round trips"},
		Result{"code", c, "murmur_one_commit_push_to_present_ms", ms(oneTime), "ms"},
	)
	if gs.transport == "daemon" {
		results = append(results,
			Result{"code", c, "one_commit_bytes_per_git", float64(murmurOne) / float64(gitOne.Received), "x"},
			Result{"code", c, "one_commit_round_trips_per_git", float64(murmurRounds) / float64(gitOne.RoundTrips), "x"},
			Result{"code", c, "git_daemon_peak_rss_bytes", float64(gitPeak), "bytes"},
		)
	}
	return append(results,
		Result{"code", c, "serve_peak_rss_bytes", float64(seedHWM), "bytes"},
		Result{"code", c, "serve_with_git_peak_rss_bytes", float64(seedPeak), "bytes"},
	), nil
}

// cloneRun is what a murmur clone in the code scenario works with.
type cloneRun struct {
	bin    string // the murmur command
	home   string // the cloning node's data directory; its daemon runs
	dir    string // the working copy to make, if the method makes one
	repo   string // the repo's ID
	peer   string // the seed's mesh address
	head   string // the commit codeRef names
	client *localapi.Client
}

// clonedNode is a running `murmur serve` that has cloned the repo.
type clonedNode struct {
	*server
	client *localapi.Client
	took   time.Duration
}

func (n *clonedNode) stop() {
	n.client.Close()
	n.server.stop()
}

// cloneOnce starts a node on r.home joined to the seed and clones the
// repo there with m.
func cloneOnce(ctx context.Context, m cloneMethod, r cloneRun) (*clonedNode, error) {
	sv, err := startServe(r.bin, r.home, "--join", r.peer)
	if err != nil {
		return nil, err
	}
	n := &clonedNode{server: sv, client: localapi.NewClient(localapi.DialSocket(filepath.Join(r.home, localapi.SocketName)))}
	r.client = n.client
	if n.took, err = m.run(ctx, r); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// cloneMethod is a way to clone with murmur.
type cloneMethod struct {
	how      string
	checkout bool // it makes a working copy
	run      func(context.Context, cloneRun) (time.Duration, error)
}

// murmurClone is the one place that chooses how the scenario clones with
// murmur: `git clone murmur://ID` through git-remote-murmur when that
// helper sits beside murmur or on PATH, else `murmur repo follow` and the
// node's own fetch, until the head commit's objects are present.
func murmurClone(bin string) cloneMethod {
	helper := filepath.Join(filepath.Dir(bin), "git-remote-murmur")
	if _, err := os.Stat(helper); err != nil {
		helper, _ = exec.LookPath("git-remote-murmur")
	}
	if helper != "" {
		return cloneMethod{"git clone murmur://", true, func(ctx context.Context, c cloneRun) (time.Duration, error) {
			return helperClone(ctx, c, helper)
		}}
	}
	fmt.Fprintln(os.Stderr, "murmur-bench: code: no git-remote-murmur beside murmur or on PATH; murmur's clone is measured as `murmur repo follow` until the head's objects are present, against `git clone --no-checkout`")
	return cloneMethod{"follow+fetch", false, followClone}
}

// followClone follows the repo from the seed and waits for the head's
// objects.
func followClone(ctx context.Context, c cloneRun) (time.Duration, error) {
	start := time.Now()
	if _, _, err := runMurmur(c.bin, c.home, "repo", "follow", c.repo, "--peer", c.peer); err != nil {
		return 0, err
	}
	if err := waitObjects(ctx, c.client, c.repo, c.head); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// helperClone runs `git clone murmur://ID` through the second node and
// checks the working copy's head.
func helperClone(ctx context.Context, c cloneRun, helper string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, "git", "clone", "-q", "murmur://"+c.repo, c.dir)
	cmd.Env = append(os.Environ(), "MURMUR_HOME="+c.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"PATH="+filepath.Dir(helper)+string(os.PathListSeparator)+os.Getenv("PATH"))
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("git clone murmur://%s: %w: %s", c.repo, err, out)
	}
	d := time.Since(start)
	got, err := repogen.Git(ctx, c.dir, "rev-parse", "HEAD")
	if err != nil {
		return 0, err
	}
	if got != c.head {
		return 0, fmt.Errorf("git clone murmur://%s checked out %s, want %s", c.repo, got, c.head)
	}
	return d, nil
}

// waitObjects polls the node until codeRef of repo names commit and its
// objects are present, for at most ten minutes.
func waitObjects(ctx context.Context, client *localapi.Client, repo, commit string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var last []api.Ref
	for {
		refs, err := client.Refs(ctx, repo)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r.Name == codeRef && r.Namespace == "" && r.Commit == commit && r.Objects {
				return nil
			}
		}
		last = refs
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never had %s with its objects (refs %+v): %w", repo, commit, last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitFetches polls the node's status until a fetch session after the
// first ones has ended, successfully: the objects show before the
// session has ended. It waits at most a minute.
func waitFetches(ctx context.Context, client *localapi.Client, first int64) (api.CodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		st, err := client.Status(ctx)
		if err != nil {
			return st.Code, err
		}
		if st.Code.Fetches > first && st.Code.LastFetch != nil && st.Code.LastFetch.Error == "" {
			return st.Code, nil
		}
		select {
		case <-ctx.Done():
			return st.Code, fmt.Errorf("no fetch session after the %d-th ended (status %+v): %w", first, st.Code, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// commitOne commits a one-line change to the first Go file of the
// working copy at dir and returns the commit.
func commitOne(ctx context.Context, dir string) (string, error) {
	files, err := repogen.Git(ctx, dir, "ls-files", "*.go")
	if err != nil {
		return "", err
	}
	file, _, _ := strings.Cut(files, "\n")
	if file == "" {
		return "", fmt.Errorf("no Go file in %s to change", dir)
	}
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString("return the new line of the benchmark\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if _, err := repogen.Git(ctx, dir, "commit", "-q", "-a", "-m", "one more line"); err != nil {
		return "", err
	}
	return repogen.Git(ctx, dir, "rev-parse", "HEAD")
}
