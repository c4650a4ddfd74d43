package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
	if len(peers) > 0 {
		joined, errs := n.joinKnown(ctx, peers, joinTimeout)
		if joined == 0 {
			return n.followResult(id), api.Errorf(api.CodeUnavailable,
				"following repo %s, but no peer answered (%v); it will be fetched when one is reachable", id.Short(), errors.Join(errs...))
		}
	}
	res := n.followResult(id)
	for {
		reps := n.syncRepo(ctx, id)
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
	joined, joinErrs := n.joinKnown(ctx, peers, min(joinTimeout, max(timeout/3, time.Second)))

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
	reports, _ := n.mesh.SyncAll(ctx)
	for _, r := range reports {
		a := byRepo[r.Repo]
		if a == nil {
			continue
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
					msg += ": " + errors.Join(joinErrs...).Error()
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

// meshStatus fills the networking part of st.
func (n *Node) meshStatus(st *api.Status) {
	if n.mesh == nil {
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
	peers := n.mesh.Peers()
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
		followers, same := 0, 0
		for _, p := range peers {
			if !p.Member {
				continue
			}
			for _, pr := range p.Repos {
				if pr.Repo == id {
					followers++
					if pr.InSync {
						same++
					}
				}
			}
		}
		st.Repos[i].InSync = followers > 0 && same == followers
	}
}

// rootHex is the text form of a Merkle root in Status: its hash sum.
func rootHex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
