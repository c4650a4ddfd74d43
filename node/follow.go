package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"murmur/api"
	"murmur/identity"
	"murmur/mesh"
	"murmur/op"
)

// followPoll is how often Follow looks for the genesis op while it waits.
const followPoll = 200 * time.Millisecond

// parseFollowID reads a repo ID for Follow: the full ID, or for a repo
// already stored here also a unique prefix or its name.
func (n *Node) parseFollowID(s string) (op.ID, error) {
	s = strings.TrimSpace(s)
	if id, err := op.ParseID(strings.ToLower(s)); err == nil {
		return id, nil
	}
	if s != "" {
		if id, err := n.resolveRepo(s); err == nil {
			return id, nil
		}
	}
	return op.ID{}, api.Errorf(api.CodeInvalid, "%q is not a repo ID: give the repo's full ID (64 hex digits), as `murmur repo view --json` prints it on a node that has it", s)
}

// normalizePeers checks and completes peer addresses.
func normalizePeers(peers []string) ([]string, error) {
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		a, err := NormalizePeerAddr(p)
		if err != nil {
			return nil, api.Errorf(api.CodeInvalid, "%v", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (n *Node) offline(what string) error {
	return api.Errorf(api.CodeOffline, "this node runs without networking, so it cannot %s; run `murmur serve` or use `murmur sync`", what)
}

// followResult describes repo as stored here.
func (n *Node) followResult(id op.ID) api.FollowResult {
	res := api.FollowResult{Repo: id.String(), Following: n.rep.Follows(id)}
	if r, err := n.store.Repo(id); err == nil {
		res.Name, _ = r.Name.Get()
	}
	res.Ops, _ = n.store.OpCount(id)
	return res
}

// Follow implements api.Service.
func (n *Node) Follow(ctx context.Context, repo string, peers []string) (api.FollowResult, error) {
	id, err := n.parseFollowID(repo)
	if err != nil {
		return api.FollowResult{}, err
	}
	peers, err = normalizePeers(peers)
	if err != nil {
		return api.FollowResult{}, err
	}
	if len(peers) > 0 && n.mesh == nil {
		return api.FollowResult{}, n.offline("fetch a repo from peers")
	}
	if added, err := n.rep.follow(id); err != nil {
		return api.FollowResult{}, internal(err)
	} else if added {
		n.log.Info("following repo", "repo", id.String())
	}
	if n.mesh == nil {
		return n.followResult(id), nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultSyncLimit)
		defer cancel()
	}
	// A node started for this command connects to the peers and runs
	// the sessions without joining memberlist, as Sync does.
	var direct []identity.PublicKey
	if len(peers) > 0 {
		var (
			joined int
			errs   []error
		)
		if n.cfg.Mesh.Manual {
			var booked func()
			direct, errs, booked = n.connectDirect(ctx, peers, joinTimeout)
			defer booked()
			joined = len(direct)
		} else {
			joined, errs = n.joinKnown(ctx, peers, joinTimeout)
		}
		if joined == 0 {
			return n.followResult(id), api.Errorf(api.CodeUnavailable,
				"following repo %s, but no peer answered (%s); it will be fetched when one is reachable", id.Short(), joinErrorText(errs))
		}
	}
	res := n.followResult(id)
	for {
		var reps []mesh.SyncReport
		if direct != nil {
			for _, p := range direct {
				rep, _ := n.mesh.SyncWith(ctx, p, id)
				reps = append(reps, rep)
			}
		} else {
			reps = n.syncRepo(ctx, id)
		}
		for _, r := range reps {
			if r.Err == nil {
				res.Peers++
				res.Received += r.Received
			}
		}
		if has, _ := n.store.HasOp(id); has || len(peers) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			got := n.followResult(id)
			got.Peers, got.Received = res.Peers, res.Received
			return got, api.Errorf(api.CodeUnavailable,
				"following repo %s, but no reachable peer has sent it yet (%v); it will arrive when a peer that has it is reachable", id.Short(), ctx.Err())
		case <-time.After(followPoll):
		}
	}
	got := n.followResult(id)
	got.Peers, got.Received = res.Peers, res.Received
	return got, nil
}

// syncRepo reconciles repo now with every live member that announced it,
// or whose state is not known yet.
func (n *Node) syncRepo(ctx context.Context, repo op.ID) []mesh.SyncReport {
	var reps []mesh.SyncReport
	for _, p := range n.mesh.Peers() {
		if !p.Member || !p.PenalizedUntil.IsZero() {
			continue
		}
		if len(p.Repos) > 0 && !announces(p, repo) {
			continue
		}
		rep, _ := n.mesh.SyncWith(ctx, p.ID, repo)
		reps = append(reps, rep)
	}
	return reps
}

func announces(p mesh.PeerInfo, repo op.ID) bool {
	for _, r := range p.Repos {
		if r.Repo == repo {
			return true
		}
	}
	return false
}

// Unfollow implements api.Service.
func (n *Node) Unfollow(ctx context.Context, repo string) (api.FollowResult, error) {
	id, err := n.parseFollowID(repo)
	if err != nil {
		return api.FollowResult{}, err
	}
	removed, err := n.rep.unfollow(id)
	if err != nil {
		return api.FollowResult{}, internal(err)
	}
	if !removed {
		return api.FollowResult{}, api.Errorf(api.CodeNotFound, "repo %s is not followed here", id.Short())
	}
	n.log.Info("unfollowed repo", "repo", id.String())
	return n.followResult(id), nil
}

// Sync implements api.Service.
func (n *Node) Sync(ctx context.Context, req api.SyncRequest) ([]api.SyncResult, error) {
	if n.mesh == nil {
		return nil, n.offline("sync")
	}
	peers, err := normalizePeers(req.Peers)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(req.Timeout)
	if timeout <= 0 {
		timeout = defaultSyncLimit
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Unreachable peers must not use up the time the sessions need.
	reachTimeout := min(joinTimeout, max(timeout/3, time.Second))
	var (
		joined   int
		joinErrs []error
		reports  []mesh.SyncReport
	)
	if n.cfg.Mesh.Manual {
		// A node started for this command syncs once: a handshake with
		// each peer and the sessions, without joining memberlist.
		reports, joined, joinErrs = n.syncDirect(ctx, peers, reachTimeout)
	} else {
		joined, joinErrs = n.joinKnown(ctx, peers, reachTimeout)
		reports, _ = n.mesh.SyncAll(ctx)
	}

	type agg struct {
		api.SyncResult
		errs []string
	}
	byRepo := map[op.ID]*agg{}
	var order []op.ID
	for _, id := range n.rep.Followed() {
		a := &agg{SyncResult: api.SyncResult{Repo: op.ID(id).String()}}
		if r, err := n.store.Repo(id); err == nil {
			a.Name, _ = r.Name.Get()
		}
		byRepo[id] = a
		order = append(order, id)
	}
	for _, r := range reports {
		a := byRepo[r.Repo]
		if a == nil {
			continue
		}
		var refused *mesh.RefusedError
		if errors.As(r.Err, &refused) && refused.Status == mesh.SyncNotFollowed {
			continue // that peer does not follow the repo
		}
		if r.Err != nil {
			a.errs = append(a.errs, fmt.Sprintf("%s: %v", r.Peer.Short(), r.Err))
			continue
		}
		a.Sent += r.Sent
		a.Received += r.Received
		a.Peers++
	}
	out := make([]api.SyncResult, 0, len(order))
	for _, id := range order {
		a := byRepo[id]
		a.InSync = a.Peers > 0
		if !a.InSync {
			switch {
			case len(a.errs) > 0:
				a.Err = strings.Join(a.errs, "; ")
			case joined == 0 && len(n.mesh.Endpoint().Peers()) == 0:
				msg := "no peer reachable"
				if len(joinErrs) > 0 {
					msg += ": " + joinErrorText(joinErrs)
				} else {
					msg += "; name one with --peer HOST:PORT"
				}
				a.Err = strings.ReplaceAll(msg, "\n", "; ")
			default:
				a.Err = "no reachable peer follows this repo"
			}
		}
		out = append(out, a.SyncResult)
	}
	n.saveBook()
	return out, nil
}

// statusVerify bounds the sessions Status runs to check roots that
// differ from the peers' last known ones.
const statusVerify = 2 * time.Second

// meshStatus fills the networking part of st. Without networking the
// known peers are the address book's. A repo is in sync when every
// member that follows it has its root; a known root that differs from
// ours is checked with a session first (one round trip when the roots
// are in fact equal), so that status does not wait for the next
// push-pull to learn what gossip already did.
func (n *Node) meshStatus(ctx context.Context, st *api.Status) {
	if n.mesh == nil {
		for _, e := range n.book() {
			did, addr, _ := strings.Cut(e, "/")
			st.Peers = append(st.Peers, api.Peer{ID: did, Addr: addr})
		}
		return
	}
	st.Online = true
	st.Listen = n.mesh.Addr()
	st.PendingOut = n.mesh.Stats().QueuedBroadcasts
	aliases := map[identity.PublicKey]string{}
	if repos, err := n.store.Repos(); err == nil {
		for _, r := range repos {
			for k := range r.Aliases {
				if a := r.Alias(k); a != "" {
					aliases[k] = a
				}
			}
		}
	}
	peers := n.verifyRoots(ctx, n.mesh.Peers())
	for _, p := range peers {
		if !p.Member && !p.Connected && p.Addr == "" {
			continue
		}
		st.Peers = append(st.Peers, api.Peer{
			ID: p.ID.DID(), Alias: aliases[p.ID], Addr: p.Addr, Connected: p.Connected || p.Member,
			ConnectedSince: p.ConnectedSince, LastSync: p.LastSync,
		})
	}
	for i := range st.Repos {
		id, err := op.ParseID(st.Repos[i].Repo)
		if err != nil {
			continue
		}
		same := 0
		for _, p := range peers {
			if pr, ok := memberRepo(p, id); ok {
				st.Repos[i].Peers++
				if pr.InSync {
					same++
				}
			}
		}
		st.Repos[i].InSync = st.Repos[i].Peers > 0 && same == st.Repos[i].Peers
	}
}

// memberRepo returns what a live member announced of repo.
func memberRepo(p mesh.PeerInfo, repo op.ID) (mesh.PeerRepo, bool) {
	if !p.Member || !p.PenalizedUntil.IsZero() {
		return mesh.PeerRepo{}, false
	}
	for _, r := range p.Repos {
		if r.Repo == repo {
			return r, true
		}
	}
	return mesh.PeerRepo{}, false
}

// verifyRoots runs a session, four at a time and all bounded by
// statusVerify, with every member whose known root of a followed repo
// differs from ours, and returns the peers as they are afterwards. A
// session ends with both sides holding the same ops, so it settles
// whether the difference was real.
func (n *Node) verifyRoots(ctx context.Context, peers []mesh.PeerInfo) []mesh.PeerInfo {
	ctx, cancel := context.WithTimeout(ctx, statusVerify)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, p := range peers {
		for _, r := range p.Repos {
			if _, ok := memberRepo(p, r.Repo); !ok || r.InSync || !n.rep.Follows(r.Repo) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				_, _ = n.mesh.SyncWith(ctx, p.ID, r.Repo)
			}()
		}
	}
	wg.Wait()
	return n.mesh.Peers()
}

// rootHex is the text form of a Merkle root in Status: its hash sum.
func rootHex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }

// syncDirect reconciles every followed repo with each of addrs (the
// configured peers and the address book when none are given): it
// connects to all at once, each bounded by reachTimeout, then runs the
// sessions, up to four at a time. It returns the reports, how many peers
// answered and why the others did not. Peers that answered go to the
// address book.
func (n *Node) syncDirect(ctx context.Context, addrs []string, reachTimeout time.Duration) ([]mesh.SyncReport, int, []error) {
	if len(addrs) == 0 {
		addrs = n.knownAddrs()
	}
	ids, errs, booked := n.connectDirect(ctx, addrs, reachTimeout)
	defer booked()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		reports []mesh.SyncReport
	)
	sem := make(chan struct{}, 4)
	for _, id := range ids {
		for _, repo := range n.rep.Followed() {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				rep, _ := n.mesh.SyncWith(ctx, id, repo)
				mu.Lock()
				reports = append(reports, rep)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return reports, len(ids), errs
}

// connectDirect connects to every one of addrs at once, each bounded by
// reachTimeout, without joining memberlist: a node started for one
// command needs the handshakes and the sessions, not membership. It
// returns the identities that answered, each once, and why the others did
// not. The address book records the peers that answered; that synced
// write runs in the background, so that it overlaps the sessions instead
// of delaying them, and the caller must call booked, which waits for it.
func (n *Node) connectDirect(ctx context.Context, addrs []string, reachTimeout time.Duration) (_ []identity.PublicKey, _ []error, booked func()) {
	type reached struct {
		id   identity.PublicKey
		addr string
	}
	var (
		mu sync.Mutex
		ok []reached
	)
	errs := eachPeer(ctx, addrs, reachTimeout, func(ctx context.Context, a string) error {
		id, err := n.mesh.Connect(ctx, a)
		if err != nil {
			return err
		}
		mu.Lock()
		ok = append(ok, reached{id, a})
		mu.Unlock()
		return nil
	})
	written := make(chan struct{})
	go func() {
		defer close(written)
		for _, r := range ok {
			_, hostport, found := strings.Cut(r.addr, "/")
			if !found {
				hostport = r.addr
			}
			n.bookPeer(r.id, hostport)
		}
	}()
	var ids []identity.PublicKey
	seen := map[identity.PublicKey]bool{}
	for _, r := range ok {
		if !seen[r.id] {
			seen[r.id] = true
			ids = append(ids, r.id)
		}
	}
	return ids, errs, func() { <-written }
}

// bookFresh is how long an address book entry's time of last contact
// stays good enough: a one-shot sync that finds the address unchanged
// and seen more recently does not write it again (a synced write).
const bookFresh = time.Hour

// bookPeer records that id answered at addr.
func (n *Node) bookPeer(id identity.PublicKey, addr string) {
	name := bookPrefix + id.DID()
	now := n.cfg.Now()
	var old bookEntry
	if v, err := n.store.Local(name); err == nil && json.Unmarshal(v, &old) == nil &&
		old.Addr == addr && now.Sub(old.Seen) < bookFresh && !old.Seen.After(now) {
		return
	}
	b, _ := json.Marshal(bookEntry{Addr: addr, Seen: now})
	if err := n.store.SetLocal(name, b); err != nil {
		n.log.Warn("save address book", "err", err)
	}
}
