package gitremote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"murmur/api"
)

// Scheme is the URL scheme of murmur remotes.
const Scheme = "murmur://"

// Bounds of the helper.
const (
	// DefaultWait bounds the wait for a repo's code to arrive from peers.
	DefaultWait = 2 * time.Minute
	// maxLine bounds one command line from git.
	maxLine = 64 << 10
	// maxPushes bounds the push lines of one batch.
	maxPushes = 10000
	// pollEvery is how often the node is asked whether the code arrived.
	pollEvery = 200 * time.Millisecond
	// remindEvery is how often a long wait says it is still waiting.
	remindEvery = 10 * time.Second
	// syncTimeout bounds the sync with peers before a fetch.
	syncTimeout = 15 * time.Second
)

// Node is the local node as the helper reaches it.
type Node struct {
	api.Service
	// Embedded reports that the node runs in this process (no daemon).
	Embedded bool
	// Close releases the node; for an embedded node it stops it.
	Close func() error
}

// Helper is one run of the remote helper.
type Helper struct {
	// URL is the remote's URL (murmur://<repo>).
	URL string
	// GitDir is the local repository git runs the helper for ($GIT_DIR).
	GitDir string
	// Connect reaches the local node; network asks that a node started in
	// this process joins peers (a fetch needs them, a push does not).
	// It is called at most once per run.
	Connect func(ctx context.Context, network bool) (*Node, error)
	// Peers are peer addresses to fetch from ($MURMUR_JOIN); empty: the
	// node's own peers and address book.
	Peers []string
	// Wait bounds the wait for code from peers; 0: DefaultWait.
	Wait time.Duration
	// Git is the git program; "" finds git in PATH.
	Git string
	// Stderr receives progress and warnings.
	Stderr io.Writer

	node   *Node
	quiet  bool // git asked for no output
	dryRun bool // git push --dry-run: check, change nothing
	// unsynced says why the last sync reached no peer; "" when it did.
	unsynced string
}

// Run serves git's commands from in, answering on out, until git closes
// in or the connection is handed to upload-pack. The node the helper
// reached is released before Run returns.
func (h *Helper) Run(ctx context.Context, in io.Reader, out io.Writer) (err error) {
	if h.Stderr == nil {
		h.Stderr = io.Discard
	}
	if h.Wait <= 0 {
		h.Wait = DefaultWait
	}
	if h.Git == "" {
		h.Git = "git"
	}
	defer func() {
		if h.node != nil && h.node.Close != nil {
			if cerr := h.node.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close the node: %w", cerr)
			}
		}
	}()
	target, err := ParseURL(h.URL)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(in, 4096)
	w := bufio.NewWriter(out)
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "":
			return nil // git is done
		case "capabilities":
			fmt.Fprint(w, "connect\npush\noption\n\n")
		case "option":
			fmt.Fprintln(w, h.option(arg))
		case "connect":
			switch arg {
			case "git-upload-pack":
				return h.uploadPack(ctx, target, in, br, w, out)
			case "git-receive-pack":
				fmt.Fprint(w, "fallback\n")
			default:
				return fmt.Errorf("git asked for the service %q; murmur remotes serve fetch (git-upload-pack) and push", arg)
			}
		case "list":
			if err := h.list(ctx, target, w, arg == "for-push"); err != nil {
				return err
			}
		case "push":
			if err := h.pushBatch(ctx, target, line, br, w); err != nil {
				return err
			}
		default:
			return fmt.Errorf("git sent the command %q, which this helper does not know; is git older than 2.29?", cmd)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// readLine reads one line of at most maxLine bytes, without its newline.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("git sent a line over %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				return strings.TrimRight(string(b), "\n"), nil
			}
			return "", err
		}
		return strings.TrimSuffix(string(b), "\n"), nil
	}
}

// option answers one "option NAME VALUE".
func (h *Helper) option(arg string) string {
	name, value, _ := strings.Cut(arg, " ")
	switch name {
	case "progress":
		return "ok" // the helper's few lines are status, not progress
	case "verbosity":
		h.quiet = value == "0"
		return "ok"
	case "dry-run":
		h.dryRun = value == "true"
		return "ok"
	}
	return "unsupported"
}

// say writes a status line to stderr unless git asked for quiet. It
// does not wait for a terminal (git asks for progress only on one): a
// wait for peers can be long and must say why.
func (h *Helper) say(format string, args ...any) {
	if h.quiet {
		return
	}
	fmt.Fprintf(h.Stderr, "murmur: "+format+"\n", args...)
}

// warn writes a line to stderr unless git asked for quiet.
func (h *Helper) warn(format string, args ...any) {
	if h.quiet {
		return
	}
	fmt.Fprintf(h.Stderr, "murmur: "+format+"\n", args...)
}

var repoArgRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)

// ParseURL returns the repo a murmur:// URL names: an ID, ID prefix or
// name, as a user types it.
func ParseURL(u string) (string, error) {
	rest, ok := strings.CutPrefix(u, Scheme)
	if !ok {
		return "", fmt.Errorf("%q is not a murmur URL; use murmur://<repo-id>", u)
	}
	rest = strings.TrimSuffix(strings.TrimRight(rest, "/"), ".git")
	if !repoArgRE.MatchString(rest) {
		return "", fmt.Errorf("%q does not name a repo; use murmur://<repo-id> (64 hex digits, or a prefix or name of a repo this node has)", u)
	}
	return rest, nil
}

// fullIDRE matches a full repo ID (64 hex digits).
var fullIDRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// connect reaches the node once.
func (h *Helper) connect(ctx context.Context, network bool) (*Node, error) {
	if h.node != nil {
		return h.node, nil
	}
	n, err := h.Connect(ctx, network)
	if err != nil {
		return nil, err
	}
	h.node = n
	return n, nil
}

// repo finds the repo the URL names. With follow, a full ID of a repo the
// node does not have or does not follow is followed and fetched from
// peers, and a followed repo is synced with them.
func (h *Helper) repo(ctx context.Context, n *Node, target string, follow bool) (api.Repo, error) {
	r, err := n.Repo(ctx, target)
	switch {
	case err == nil && (!follow || r.Following):
		if follow {
			if h.sync(ctx, n, r.ID); h.unsynced != "" {
				h.warn("could not sync repo %s with peers (%s); using what this machine has", short(r.ID), h.unsynced)
			}
		}
		return r, nil
	case err != nil && api.ErrorCode(err) != api.CodeNotFound:
		return api.Repo{}, err
	case err != nil && !fullIDRE.MatchString(strings.ToLower(target)):
		return api.Repo{}, fmt.Errorf("no repo %q on this machine's node; clone it by its full ID: murmur://<64 hex digits>", target)
	case !follow:
		return api.Repo{}, fmt.Errorf("repo %s is not on this machine's node; fetch it first (git fetch, or git clone murmur://%s)", target, target)
	}
	id := strings.ToLower(target)
	if err == nil {
		id = r.ID
	}
	h.say("following repo %s…", short(id))
	if _, ferr := n.Follow(ctx, id, h.Peers); ferr != nil {
		return api.Repo{}, ferr
	}
	if len(h.Peers) == 0 {
		h.sync(ctx, n, id)
	}
	r, err = n.Repo(ctx, id)
	if api.ErrorCode(err) == api.CodeNotFound {
		why := ""
		if h.unsynced != "" {
			why = " (" + h.unsynced + ")"
		}
		return api.Repo{}, fmt.Errorf("repo %s did not arrive from any peer%s; check that a peer that has it runs 'murmur serve' and is reachable, or name one in MURMUR_JOIN=HOST:PORT (murmur repo clone --peer HOST:PORT)", short(id), why)
	}
	return r, err
}

// sync reconciles the node's repos with peers once. It records why no
// peer was reached for repo (h.unsynced), which ends a wait for code
// that no peer can bring; otherwise a failure is only a warning, since
// what the node holds can still be served.
func (h *Helper) sync(ctx context.Context, n *Node, repo string) {
	res, err := n.Sync(ctx, api.SyncRequest{Peers: h.Peers, Timeout: api.Duration(syncTimeout)})
	if err != nil {
		h.unsynced = oneLine(err.Error())
		return
	}
	for _, r := range res {
		if r.Repo == repo && !r.InSync && r.Err != "" {
			h.unsynced = oneLine(r.Err)
		}
	}
}

// canonical returns the repo's canonical refs that name a commit.
func canonical(refs []api.Ref) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		if token, name := owner(r); token == "" && r.Commit != "" && strings.HasPrefix(name, "refs/") {
			out[name] = r.Commit
		}
	}
	return out
}

// owner returns the namespace token of a ref ("" for a canonical ref)
// and its name inside the namespace.
func owner(r api.Ref) (token, name string) {
	token, name = api.SplitNamespace(r.Name)
	if r.Namespace != "" {
		token = api.NamespaceToken(r.Namespace)
	}
	return token, name
}

// waitForCode waits until the node holds the objects of every canonical
// ref and the bare repository mirrors them, and returns its directory.
func (h *Helper) waitForCode(ctx context.Context, n *Node, r api.Repo) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, h.Wait)
	defer cancel()
	said, reminded := false, time.Now()
	for {
		refs, err := n.Refs(ctx, r.ID)
		if err != nil {
			return "", err
		}
		var missing []api.Ref
		want := canonical(refs)
		for _, ref := range refs {
			if token, name := owner(ref); token == "" && want[name] != "" && !ref.Objects {
				missing = append(missing, ref)
			}
		}
		if len(missing) == 0 {
			r, err = n.Repo(ctx, r.ID)
			if err != nil {
				return "", err
			}
			if r.GitDir == "" {
				return "", errors.New("this machine's node cannot store code; run 'murmur status' to see why")
			}
			ok, err := h.mirrors(ctx, r.GitDir, want)
			if err != nil {
				return "", err
			}
			if ok {
				return r.GitDir, nil
			}
		}
		if len(missing) > 0 && h.unsynced != "" {
			return "", fmt.Errorf("the code of repo %s is not on this machine (%s) and no peer could be reached (%s); check that a peer that has it runs 'murmur serve' (or name one in MURMUR_JOIN=HOST:PORT), then try again", short(r.ID), missingReason(missing), h.unsynced)
		}
		switch {
		case !said && len(missing) > 0:
			h.say("fetching code from peers…")
			said, reminded = true, time.Now()
		case said && time.Since(reminded) >= remindEvery:
			h.say("still fetching: %d refs' commits are missing (%s)", len(missing), missingReason(missing))
			reminded = time.Now()
		}
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			if len(missing) > 0 {
				return "", fmt.Errorf("the code of repo %s did not arrive within %v: %s; check that a peer that has it runs 'murmur serve' (or name one in MURMUR_JOIN=HOST:PORT), then try again", short(r.ID), h.Wait, missingReason(missing))
			}
			return "", fmt.Errorf("the code of repo %s arrived but its git repository was not updated within %v; run 'murmur status' and try again", short(r.ID), h.Wait)
		case <-t.C:
		}
	}
}

func missingReason(missing []api.Ref) string {
	for _, m := range missing {
		if m.MissingReason != "" {
			return m.MissingReason
		}
	}
	return "no peer has served them yet"
}

// mirrors reports whether the bare repository at dir has every ref of
// want at its commit.
func (h *Helper) mirrors(ctx context.Context, dir string, want map[string]string) (bool, error) {
	if len(want) == 0 {
		return true, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return false, nil
	}
	out, err := h.git(ctx, "--git-dir", dir, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return false, err
	}
	have := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if oid, ref, ok := strings.Cut(line, " "); ok {
			have[ref] = oid
		}
	}
	for name, commit := range want {
		if have[name] != commit {
			return false, nil
		}
	}
	return true, nil
}

// uploadPack serves a fetch: it readies the code, tells git the
// connection is up, and runs git upload-pack on the node's bare
// repository with this process's stdin and stdout.
func (h *Helper) uploadPack(ctx context.Context, target string, in io.Reader, br *bufio.Reader, w *bufio.Writer, out io.Writer) error {
	n, err := h.connect(ctx, true)
	if err != nil {
		return err
	}
	r, err := h.repo(ctx, n, target, true)
	if err != nil {
		return err
	}
	dir, err := h.waitForCode(ctx, n, r)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		// No code yet: serve an empty repository whose HEAD names the
		// default branch, so that git clones an empty repo.
		tmp, err := os.MkdirTemp("", "murmur-empty-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		branch := r.DefaultBranch
		if branch == "" {
			branch = "main"
		}
		if _, err := h.git(ctx, "init", "--quiet", "--bare", "--initial-branch="+branch, tmp); err != nil {
			return err
		}
		dir = tmp
	}
	if _, err := w.WriteString("\n"); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, h.Git, "upload-pack", "--strict", dir)
	cmd.Env = serverEnv(os.Environ(), h.protocolV2(ctx))
	cmd.Stdout, cmd.Stderr = out, h.Stderr
	if f, ok := in.(*os.File); ok && br.Buffered() == 0 {
		// git sends nothing before the empty line: hand over the file.
		cmd.Stdin = f
	} else {
		cmd.Stdin = br
		cmd.WaitDelay = time.Second
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("git upload-pack: %w", err)
	}
	return nil
}

// serverEnv is the environment of git upload-pack: the helper's without
// the variables that name the local repository (git sets them for the
// helper), with protocol v2 when the client speaks it.
func serverEnv(env []string, v2 bool) []string {
	drop := []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
		"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_PROTOCOL"}
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, k)
	})
	if v2 {
		out = append(out, "GIT_PROTOCOL=version=2")
	}
	return out
}

// protocolV2 reports whether the local git speaks protocol v2 (its
// default) rather than an older protocol.version it was told to use.
func (h *Helper) protocolV2(ctx context.Context) bool {
	v, err := h.git(ctx, "config", "--get", "protocol.version")
	return err != nil || strings.TrimSpace(v) == "" || strings.TrimSpace(v) == "2"
}

// git runs git in the local repository and returns its trimmed output.
func (h *Helper) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.Git, args...)
	if h.GitDir != "" {
		cmd.Env = append(os.Environ(), "GIT_DIR="+h.GitDir)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &limited{w: &stdout, n: 64 << 20}, &limited{w: &stderr, n: 4 << 10}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), oneLine(msg))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// limited writes at most n bytes to w and drops the rest.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	if k > 0 {
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
