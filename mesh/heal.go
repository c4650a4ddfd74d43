package mesh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"murmur/identity"
)

// Jitter returns d scaled by a random factor in [0.75, 1.25), so that
// timers of many nodes started together spread out.
func Jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// antiEntropyLoop runs an anti-entropy round every AntiEntropyInterval,
// jittered, until the node closes. It does not depend on memberlist:
// memberlist's push-pull only reaches the members it believes alive, and
// a node that slept through its peers' failure detection may believe
// none are.
func (n *Node) antiEntropyLoop() {
	defer n.wg.Done()
	for {
		t := time.NewTimer(Jitter(n.cfg.AntiEntropyInterval))
		select {
		case <-n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		reps := n.AntiEntropy(n.ctx)
		for _, r := range reps {
			if r.Err != nil {
				n.log.Debug("anti-entropy session failed", "peer", r.Peer.Short(), "repo", shortID(r.Repo), "err", r.Err)
			} else if r.Sent+r.Received > 0 {
				n.log.Info("anti-entropy repaired a repo", "peer", r.Peer.Short(), "repo", shortID(r.Repo),
					"sent", r.Sent, "received", r.Received)
			}
		}
	}
}

// AntiEntropy reconciles every followed repo with one peer picked at
// random: among live members and connected peers if there are any, else
// among every peer whose address is known (members memberlist marked
// failed included). Repos the peer announced are reconciled, or all
// followed repos when its state is unknown; a session whose roots are
// equal costs one round trip. It returns the sessions' reports, none
// when no peer is known.
func (n *Node) AntiEntropy(ctx context.Context) []SyncReport {
	id, repos, ok := n.pickAntiEntropyPeer()
	if !ok {
		return nil
	}
	reps := make([]SyncReport, 0, len(repos))
	for _, repo := range repos {
		if ctx.Err() != nil {
			break
		}
		rep, _ := n.SyncWith(ctx, id, repo)
		reps = append(reps, rep)
	}
	return reps
}

// pickAntiEntropyPeer chooses the peer and repos of an anti-entropy round.
func (n *Node) pickAntiEntropyPeer() (identity.PublicKey, [][32]byte, bool) {
	followed := n.r.Followed()
	if len(followed) == 0 {
		return identity.PublicKey{}, nil, false
	}
	connected := make(map[identity.PublicKey]bool)
	for _, p := range n.ep.Peers() {
		connected[p] = true
	}
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	var live, known []identity.PublicKey
	for id, p := range n.peers {
		if id == n.id || now.Before(p.penaltyTill) {
			continue
		}
		if p.member || connected[id] {
			live = append(live, id)
		}
		if p.addr != "" || connected[id] {
			known = append(known, id)
		}
	}
	pool := live
	if len(pool) == 0 {
		pool = known
	}
	if len(pool) == 0 {
		return identity.PublicKey{}, nil, false
	}
	id := pool[rand.IntN(len(pool))]
	p := n.peers[id]
	if p.repos == nil && p.synced == nil {
		return id, followed, true
	}
	var repos [][32]byte
	for _, repo := range followed {
		_, announced := p.repos[repo]
		_, synced := p.synced[repo]
		if announced || synced {
			repos = append(repos, repo)
		}
	}
	return id, repos, len(repos) > 0
}

// Connect dials addr ("host:port", or "did:key:…/host:port" to require
// that identity) without joining memberlist, and returns the peer's
// identity; SyncWith can then reach it. A one-shot sync needs no more
// than this: the handshake and the sessions.
func (n *Node) Connect(ctx context.Context, addr string) (identity.PublicKey, error) {
	did, hostport, hasDID := strings.Cut(addr, "/")
	if !hasDID {
		hostport = addr
	}
	var (
		c   *Conn
		err error
	)
	if hasDID {
		want, perr := identity.ParseDID(did)
		if perr != nil {
			return identity.PublicKey{}, fmt.Errorf("mesh: connect %s: %w", addr, perr)
		}
		c, err = n.ep.DialPeer(ctx, hostport, want)
	} else {
		c, err = n.ep.Dial(ctx, hostport)
	}
	if err != nil {
		return identity.PublicKey{}, fmt.Errorf("mesh: connect %s: %w", hostport, err)
	}
	id := c.Peer()
	if err := n.admit(id); err != nil {
		return identity.PublicKey{}, fmt.Errorf("mesh: connect %s: %w", hostport, err)
	}
	n.mu.Lock()
	if p := n.peerLocked(id); p.addr == "" {
		p.addr = hostport
	}
	n.mu.Unlock()
	return id, nil
}

// JoinError is why Join reached none of the addresses it was given: the
// cause for each address.
type JoinError struct {
	Addrs  []string
	Causes []error
}

func (e *JoinError) Error() string {
	parts := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		parts[i] = fmt.Sprintf("%s: %v", a, e.Causes[i])
	}
	return "mesh: join " + strings.Join(parts, "; ")
}

// Unwrap returns the causes.
func (e *JoinError) Unwrap() []error { return e.Causes }

// joinError turns memberlist's join error, a list of "failed to join
// ADDR: CAUSE" strings, into a JoinError naming each address and its
// cause.
func joinError(addrs []string, err error) error {
	var me *multierror.Error
	if !errors.As(err, &me) {
		return &JoinError{Addrs: []string{strings.Join(addrs, ", ")}, Causes: []error{err}}
	}
	je := &JoinError{}
	for _, e := range me.Errors {
		msg := e.Error()
		addr := strings.Join(addrs, ", ")
		for _, prefix := range []string{"failed to join ", "failed to resolve "} {
			if rest, ok := strings.CutPrefix(msg, prefix); ok {
				if a, cause, ok := strings.Cut(rest, ": "); ok {
					addr, msg = a, cause
				}
				break
			}
		}
		je.Addrs = append(je.Addrs, addr)
		je.Causes = append(je.Causes, errors.New(msg))
	}
	return je
}
