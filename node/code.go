package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"murmur/api"
	"murmur/forge"
	"murmur/gitstore"
	"murmur/identity"
	"murmur/mesh"
	"murmur/op"
	"murmur/storage"
)

// CodeDir is the directory inside Home that holds one bare git
// repository per repo, named by the repo's 64-hex ID plus ".git".
const CodeDir = "git"

// Timing and bounds of code transfer.
const (
	gitHeaderTimeout = 10 * time.Second // a peer's repo ID on a KindGit stream
	gitFetchTimeout  = 10 * time.Minute // one fetch session
	codeTick         = time.Second      // how often due repos are looked at
	codeRescan       = 30 * time.Second // every followed repo is looked at again
	codeRetryMin     = time.Second      // first backoff after a failed fetch
	codeRetryMax     = 2 * time.Minute  // backoff cap

	defaultRepoCodeQuota = 4 << 30
	maxGitServes         = 8 // git upload-pack processes serving peers at once
)

// codeSide is the node's git side: a gitstore under Home/git whose bare
// repositories mirror the refs the node stores, the KindGit stream
// handler that serves them to peers, and a loop that fetches the commits
// a stored ref names from peers that have them, with backoff. Without a
// usable git it holds only the reason, and metadata replicates as ever.
type codeSide struct {
	n      *Node
	store  *gitstore.Store // nil when code is unavailable
	status api.CodeStatus
	limits gitstore.Limits
	quota  int64 // bytes of objects one repo may hold

	// detecting serializes merge detection (the loop and PushRefs), so
	// a merge is written once, and guards unmerged.
	detecting sync.Mutex
	// unmerged is, per open patch found not merged, its head and the
	// canonical base commit it was checked against.
	unmerged map[op.ID]string

	kick    chan struct{} // wakes the loop; buffered, one pending
	serving chan struct{} // a slot per running serve, maxGitServes

	// mu guards due and retry.
	mu sync.Mutex
	// due are repos to look at once their retry time has come.
	due map[op.ID]bool
	// retry holds the backoff of repos whose last fetch failed.
	retry map[op.ID]*codeRetry
	// blamed is, per repo, the last peer penalized for a pack of it,
	// until a fetch of the repo succeeds: a later retry that finds no
	// peer (the penalized one is ignored) still says what happened.
	blamed map[op.ID]error
	// mirrored is, per repo, the refs its bare repository was last found
	// to mirror in full; a repo whose refs are unchanged needs no git.
	mirrored map[op.ID]string

	// fetchMu guards fetches.
	fetchMu sync.Mutex
	// fetches holds the counters of status: Fetches, FetchedBytes and
	// LastFetch.
	fetches api.CodeStatus
}

// codeRetry is the backoff state of one repo.
type codeRetry struct {
	delay time.Duration
	next  time.Time
	err   error
}

// codes returns the node's code side, finding git on first use: a node
// started for one offline command runs git only if the command needs it.
func (n *Node) codes() *codeSide {
	n.codeOnce.Do(func() { n.code = openCode(n.stopCtx, n) })
	return n.code
}

// openCode finds git and opens the object store. A missing or old git
// is not an error: the node runs without code and says why.
func openCode(ctx context.Context, n *Node) *codeSide {
	c := &codeSide{n: n, kick: make(chan struct{}, 1), serving: make(chan struct{}, maxGitServes), due: map[op.ID]bool{}, retry: map[op.ID]*codeRetry{}, mirrored: map[op.ID]string{}, blamed: map[op.ID]error{}, unmerged: map[op.ID]string{},
		limits: gitstore.Limits{MaxFetchBytes: n.cfg.MaxFetchBytes}, quota: n.cfg.MaxRepoCodeBytes}
	if c.limits.MaxFetchBytes <= 0 {
		c.limits = gitstore.DefaultLimits()
	}
	if c.quota <= 0 {
		c.quota = defaultRepoCodeQuota
	}
	g, err := gitstore.FindGit(ctx)
	if err == nil {
		c.store, err = gitstore.Open(g, filepath.Join(n.cfg.Home, CodeDir))
	}
	if err != nil {
		c.status = api.CodeStatus{Reason: strings.TrimPrefix(err.Error(), "gitstore: ")}
		n.log.Warn("code is unavailable; metadata still replicates", "reason", c.status.Reason)
		return c
	}
	c.status = api.CodeStatus{Available: true, Git: fmt.Sprintf("%d.%d.%d", g.Version[0], g.Version[1], g.Version[2])}
	// The node holds the data directory: no git of its own works on the
	// store yet, so what one left when a node was killed can go.
	if removed, err := c.store.RemoveTemp(); err != nil {
		n.log.Warn("code: cannot remove what an interrupted fetch left", "err", err)
	} else if len(removed) > 0 {
		n.log.Info("code: removed what an interrupted fetch left", "files", len(removed))
	}
	return c
}

// attach registers the KindGit handler on the mesh, so that the hello of
// every later connection says this node serves code, and starts the
// fetch loop (owned by n.wg, stopped by n.stop).
func (c *codeSide) attach(m *mesh.Node) error {
	if c.store == nil {
		return nil
	}
	if err := m.Endpoint().RegisterHandler(mesh.KindGit, c.serve); err != nil {
		return fmt.Errorf("node: serve code: %w", err)
	}
	c.n.wg.Add(1)
	go c.loop()
	return nil
}

// serve answers one KindGit stream: a 32-byte repo ID, then one git fetch
// session of that repo, if this node follows it and holds its code. At
// most maxGitServes run at once; a stream beyond that is closed, and the
// peer tries another peer or later.
func (c *codeSide) serve(ctx context.Context, peer identity.PublicKey, s *mesh.Stream) {
	select {
	case c.serving <- struct{}{}:
		defer func() { <-c.serving }()
	default:
		c.n.log.Debug("git fetch refused: busy", "peer", peer.Short())
		return
	}
	var repo op.ID
	_ = s.SetReadDeadline(time.Now().Add(gitHeaderTimeout))
	if _, err := io.ReadFull(s, repo[:]); err != nil {
		c.n.log.Debug("git stream without a repo ID", "peer", peer.Short(), "err", err)
		return
	}
	_ = s.SetReadDeadline(time.Time{})
	if !c.n.rep.Follows(repo) {
		c.n.log.Debug("git fetch of a repo not followed", "peer", peer.Short(), "repo", repo.Short())
		return
	}
	if err := c.store.ServeFetch(ctx, repo.String(), s); err != nil && ctx.Err() == nil {
		c.n.log.Debug("git fetch served with an error", "peer", peer.Short(), "repo", repo.Short(), "err", err)
	}
}

// loop looks at repos whose refs changed (by the node's own events), at
// every followed repo now and then, and retries failed fetches with
// backoff, until n.stop is closed.
func (c *codeSide) loop() {
	defer c.n.wg.Done()
	events := c.n.bus.subscribe(c.n.stopCtx)
	tick := time.NewTicker(codeTick)
	defer tick.Stop()
	rescan := time.NewTicker(codeRescan)
	defer rescan.Stop()
	c.markFollowed()
	for {
		select {
		case <-c.n.stop:
			return
		case <-c.n.stopCtx.Done():
			return
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			id, err := op.ParseID(e.Repo)
			if err != nil {
				continue
			}
			switch e.Kind {
			case forge.KindRefSet, forge.KindRepoBranch:
				c.mark(id)
			case forge.KindPatchOpen, forge.KindRevision, forge.KindPatchBase, forge.KindMaintainerAdd:
				// A patch (or a maintainer) may be new to refs that
				// already reach it: look at the repo's merges again.
				c.forget(id)
				c.mark(id)
			default:
				continue
			}
		case <-c.kick:
		case <-tick.C:
		case <-rescan.C:
			c.markFollowed()
		}
		c.work(c.n.stopCtx)
	}
}

// mark asks the loop to look at repo.
func (c *codeSide) mark(repo op.ID) {
	c.mu.Lock()
	c.due[repo] = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// forget makes the next reconcile of repo run in full, merge detection
// included, though its refs are unchanged.
func (c *codeSide) forget(repo op.ID) {
	c.mu.Lock()
	delete(c.mirrored, repo)
	c.mu.Unlock()
}

func (c *codeSide) markFollowed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.n.rep.Followed() {
		c.due[id] = true
	}
}

// work reconciles the due repos whose retry time has come.
func (c *codeSide) work(ctx context.Context) {
	now := time.Now()
	c.mu.Lock()
	var repos []op.ID
	for id := range c.due {
		if r := c.retry[id]; r != nil && now.Before(r.next) {
			continue
		}
		repos = append(repos, id)
		delete(c.due, id)
	}
	c.mu.Unlock()
	for _, id := range repos {
		if ctx.Err() != nil {
			return
		}
		err := c.reconcile(ctx, id)
		c.mu.Lock()
		if err == nil {
			delete(c.retry, id)
			delete(c.blamed, id)
		} else {
			r := c.retry[id]
			if r == nil {
				r = &codeRetry{}
				c.retry[id] = r
			}
			r.delay = min(max(2*r.delay, codeRetryMin), codeRetryMax)
			r.next = time.Now().Add(mesh.Jitter(r.delay))
			r.err = err
			c.due[id] = true
			c.n.log.Debug("code fetch will be retried", "repo", id.Short(), "in", r.delay, "err", err)
		}
		c.mu.Unlock()
	}
}

// conflictRefPrefix names, in a bare repository, the values that lost a
// ref's last-writer-wins race to a concurrent write (the conflict
// shelf): conflictRefPrefix + the losing write's op ID. They make the
// losing commits fetched, kept and served like the winners, so a
// maintainer can still merge them; they go when the conflict is
// resolved. git clone and fetch with their default refspecs never see
// them.
const conflictRefPrefix = "refs/murmur/conflicts/"

// wanted returns the refs of repo that the bare repository mirrors: every
// ref under refs/ that names a commit, with that commit, the values on
// its conflict shelf, and a ref for each patch revision (revisionRefs).
func (c *codeSide) wanted(repo op.ID) (map[string]string, error) {
	r, err := c.n.store.Repo(repo)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	want := map[string]string{}
	for name, l := range r.Refs {
		if !strings.HasPrefix(name, "refs/") {
			continue
		}
		if commit, ok := l.Get(); ok && commit != "" {
			want[name] = commit
		}
		for _, w := range l.Concurrent() {
			if w.Value != "" {
				want[conflictRefPrefix+op.ID(w.ID).String()] = w.Value
			}
		}
	}
	if err := c.revisionRefs(repo, want); err != nil {
		return nil, err
	}
	return want, nil
}

// reconcile makes the bare repository of repo mirror the refs the node
// stores, fetching the commits it lacks. It fails while commits are
// missing.
func (c *codeSide) reconcile(ctx context.Context, repo op.ID) error {
	want, err := c.wanted(repo)
	if err != nil {
		return err
	}
	key := refsKey(want)
	if r, err := c.n.store.Repo(repo); err == nil {
		branch, _ := r.DefaultBranch.Get()
		key += "HEAD " + branch + "\n"
	}
	c.mu.Lock()
	last, seen := c.mirrored[repo]
	c.mu.Unlock()
	done := seen && last == key
	if done {
		return nil
	}
	lacking, err := c.syncRefs(ctx, repo)
	if err != nil {
		return err
	}
	if len(lacking) > 0 {
		if err := c.fetch(ctx, repo, lacking); err != nil {
			return err
		}
		lacking, err = c.syncRefs(ctx, repo)
		if err == nil && len(lacking) > 0 {
			err = fmt.Errorf("%d commits still missing", len(lacking))
		}
		if err != nil {
			return err
		}
	}
	if err := c.detectMerges(ctx, repo); err != nil {
		return err
	}
	c.mu.Lock()
	c.mirrored[repo] = key
	c.mu.Unlock()
	return nil
}

// syncRefs points each mirrored ref at its commit when the object is
// present, deletes refs the node no longer stores, and returns the
// commits that are missing. A ref is never set before its object is in
// the store.
func (c *codeSide) syncRefs(ctx context.Context, repo op.ID) ([]string, error) {
	want, err := c.wanted(repo)
	if err != nil {
		return nil, err
	}
	name := repo.String()
	if len(want) > 0 {
		if _, err := c.store.Init(ctx, name); err != nil {
			return nil, err
		}
	}
	have, err := c.store.Refs(ctx, name)
	if errors.Is(err, gitstore.ErrNoRepo) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := c.setHead(ctx, repo); err != nil {
		return nil, err
	}
	var commits []string
	for ref, commit := range want {
		if have[ref] != commit {
			commits = append(commits, commit)
		}
	}
	present, err := c.store.HasAll(ctx, name, dedupeStrings(commits))
	if err != nil {
		return nil, err
	}
	var lacking []string
	for _, ref := range slices.Sorted(maps.Keys(want)) {
		commit := want[ref]
		if have[ref] == commit {
			continue
		}
		if !present[commit] {
			lacking = append(lacking, commit)
			continue
		}
		if err := c.store.SetRef(ctx, name, ref, commit, ""); err != nil {
			return nil, err
		}
	}
	for ref := range have {
		if _, ok := want[ref]; !ok {
			if err := c.store.DeleteRef(ctx, name, ref); err != nil {
				return nil, err
			}
		}
	}
	return dedupeStrings(lacking), nil
}

// setHead points the bare repository's HEAD at the repo's default
// branch, so that a clone of it checks that branch out.
func (c *codeSide) setHead(ctx context.Context, repo op.ID) error {
	r, err := c.n.store.Repo(repo)
	if err != nil {
		return err
	}
	branch, _ := r.DefaultBranch.Get()
	if branch == "" {
		return nil
	}
	return c.store.SetHead(ctx, repo.String(), "refs/heads/"+branch)
}

// errNoCodePeer: no connected peer serves code.
var errNoCodePeer = errors.New("no connected peer serves code")

// fetchLimits returns the limits of the next fetch into repo: the fetch
// bound, or what is left of the repo's quota when that is less (then
// byQuota is true).
func (c *codeSide) fetchLimits(repo op.ID) (lim gitstore.Limits, byQuota bool, err error) {
	dir, err := c.store.Dir(repo.String())
	if err != nil {
		return lim, false, err
	}
	var used int64
	_ = filepath.WalkDir(filepath.Join(dir, "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				used += fi.Size()
			}
		}
		return nil
	})
	left := c.quota - used
	if left <= 0 {
		return lim, true, fmt.Errorf("the repo's code takes %d bytes, its quota (repo-code-quota) is %d", used, c.quota)
	}
	lim = c.limits
	if left < lim.MaxFetchBytes {
		lim.MaxFetchBytes, byQuota = left, true
	}
	return lim, byQuota, nil
}

// fetch fetches wants into repo's store from connected peers that serve
// code, in random order, until all are present. A peer whose pack git
// rejects or that sends more than the fetch limit is penalized; one that
// sends more than the repo's quota leaves is not.
func (c *codeSide) fetch(ctx context.Context, repo op.ID, wants []string) error {
	m := c.n.mesh
	if m == nil {
		return errNoCodePeer
	}
	lim, byQuota, err := c.fetchLimits(repo)
	if err != nil {
		return err
	}
	// blame penalizes the peer for err if it broke the protocol and
	// returns what refs list shows for it: which peer, that it was
	// penalized, and why (an oversize pack names the bound, since the
	// peer may be honest and the repo bigger than this node allows). It
	// returns err itself when the quota ran out, nil when the peer is not
	// to blame.
	blame := func(p identity.PublicKey, err error) error {
		switch {
		case errors.Is(err, gitstore.ErrTooLarge) && byQuota:
			return err
		case errors.Is(err, gitstore.ErrTooLarge):
			err = fmt.Errorf("%w; the node's fetch bound is max-fetch-bytes", err)
		case !errors.Is(err, gitstore.ErrBadPack):
			return nil
		}
		m.Penalize(p, fmt.Errorf("git fetch of repo %s: %w", repo.Short(), err))
		err = fmt.Errorf("peer %s was penalized: %w", p.Short(), err)
		c.mu.Lock()
		c.blamed[repo] = err
		c.mu.Unlock()
		return err
	}
	peers := m.Endpoint().Peers()
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	var lastErr error = errNoCodePeer
	for _, p := range peers {
		conn := m.Endpoint().Conn(p)
		if conn == nil || !conn.Hello().Caps.Has(mesh.KindGit) {
			continue
		}
		err := c.fetchFrom(ctx, conn, repo, wants, lim)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lastErr = err
		if errors.Is(err, gitstore.ErrTooLarge) && byQuota {
			return fmt.Errorf("the commits would take the repo's code over its quota (repo-code-quota, %d bytes)", c.quota)
		}
		if b := blame(p, err); b != nil {
			lastErr = b
			continue
		}
		// The peer may lack some of the commits and refuse the lot: ask
		// for them one at a time.
		if len(wants) > 1 {
			for _, w := range wants {
				if b := blame(p, c.fetchFrom(ctx, conn, repo, []string{w}, lim)); b != nil {
					lastErr = b
					break
				}
				if lim, byQuota, err = c.fetchLimits(repo); err != nil {
					return err
				}
			}
			have, err := c.store.HasAll(ctx, repo.String(), wants)
			if err != nil {
				return err
			}
			wants = slices.DeleteFunc(wants, func(w string) bool { return have[w] })
			if len(wants) == 0 {
				return nil
			}
		}
	}
	if errors.Is(lastErr, errNoCodePeer) {
		c.mu.Lock()
		b := c.blamed[repo]
		c.mu.Unlock()
		if b != nil {
			return fmt.Errorf("%w; earlier, %w", errNoCodePeer, b)
		}
	}
	return lastErr
}

// fetchFrom runs one fetch session of repo with the peer of conn.
func (c *codeSide) fetchFrom(ctx context.Context, conn *mesh.Conn, repo op.ID, wants []string, lim gitstore.Limits) error {
	ctx, cancel := context.WithTimeout(ctx, gitFetchTimeout)
	defer cancel()
	s, err := conn.OpenStream(ctx, mesh.KindGit)
	if err != nil {
		return err
	}
	start := time.Now()
	m := gitstore.NewMeter(s)
	_ = s.SetWriteDeadline(time.Now().Add(gitHeaderTimeout))
	if _, err := m.Write(repo[:]); err != nil {
		_ = s.Close()
		return err
	}
	_ = s.SetWriteDeadline(time.Time{})
	err = c.store.Fetch(ctx, repo.String(), m, wants, lim)
	t := m.Traffic()
	f := &api.CodeFetch{Repo: repo.String(), Peer: conn.Peer().DID(), Commits: len(wants),
		Received: t.Received, Sent: t.Sent, RoundTrips: t.RoundTrips, Millis: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		f.Error = err.Error()
	} else {
		c.n.log.Info("fetched code", "repo", repo.Short(), "peer", conn.Peer().Short(), "commits", len(wants), "bytes", t.Received, "round_trips", t.RoundTrips)
	}
	c.fetchMu.Lock()
	c.fetches.Fetches++
	c.fetches.FetchedBytes += t.Received
	c.fetches.LastFetch = f
	c.fetchMu.Unlock()
	return err
}

// statusNow returns the code status with the fetch counters.
func (c *codeSide) statusNow() api.CodeStatus {
	st := c.status
	c.fetchMu.Lock()
	st.Fetches, st.FetchedBytes, st.LastFetch = c.fetches.Fetches, c.fetches.FetchedBytes, c.fetches.LastFetch
	c.fetchMu.Unlock()
	return st
}

// objects fills in Objects (and why not) for refs of repo.
func (c *codeSide) objects(ctx context.Context, repo op.ID, refs []api.Ref) {
	if c.store == nil {
		for i := range refs {
			if refs[i].Commit != "" {
				refs[i].MissingReason = "this node cannot store code: " + c.status.Reason
			}
		}
		return
	}
	var commits []string
	for _, r := range refs {
		if forge.IsCommit(r.Commit) {
			commits = append(commits, r.Commit)
		}
	}
	have, err := c.store.HasAll(ctx, repo.String(), dedupeStrings(commits))
	if err != nil {
		c.n.log.Warn("check objects", "repo", repo.Short(), "err", err)
	}
	why := c.missingReason(repo)
	for i := range refs {
		refs[i].Objects = have[refs[i].Commit]
		if !refs[i].Objects && refs[i].Commit != "" {
			refs[i].MissingReason = why
		}
	}
}

// missingReason says why commits of repo that the node lacks are not
// here.
func (c *codeSide) missingReason(repo op.ID) string {
	if c.store == nil {
		return "this node cannot store code: " + c.status.Reason
	}
	if c.n.mesh == nil {
		return "not fetched: this node is offline; 'murmur serve' fetches them from peers"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.retry[repo]; r != nil && r.err != nil {
		return "not fetched yet: " + r.err.Error()
	}
	return "not fetched yet: no connected peer has served them"
}

// gitDir is the bare repository of repo, whether or not it exists yet
// (it is made when the first of its refs is pushed or fetched); "" when
// the node cannot store code.
func (c *codeSide) gitDir(repo op.ID) string {
	if c.store == nil {
		return ""
	}
	dir, err := c.store.Dir(repo.String())
	if err != nil {
		return ""
	}
	return dir
}

// refsKey is a canonical text of a set of refs.
func refsKey(refs map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		b.WriteString(name + " " + refs[name] + "\n")
	}
	return b.String()
}

func dedupeStrings(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
