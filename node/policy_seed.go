package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"murmur/identity"
	"murmur/op"
)

// seedCheckTimeout bounds fetching an announced repo's genesis op.
const seedCheckTimeout = 20 * time.Second

// seedRecheck is how long a repo the seed rule declined is not looked at
// again.
const seedRecheck = time.Minute

// seeder decides, by the policy's seed rule, whether to follow repos that
// peers announce.
type seeder struct {
	n       *Node
	seedAll bool // --seed-all: follow everything whatever the policy says

	// mu guards checking and declined.
	mu       sync.Mutex
	checking map[op.ID]bool
	declined map[op.ID]time.Time
}

// seedRepo returns the mesh's OnRepo callback. It runs on memberlist's
// push-pull path: the trusted-identities rule, which needs the repo's
// genesis op, looks in the background and follows (then syncs) later.
func (n *Node) seedRepo(seedAll bool) func(repo [32]byte, from identity.PublicKey) bool {
	s := &seeder{n: n, seedAll: seedAll, checking: map[op.ID]bool{}, declined: map[op.ID]time.Time{}}
	return s.onRepo
}

func (s *seeder) onRepo(repo [32]byte, from identity.PublicKey) bool {
	n := s.n
	r := n.rules()
	switch {
	case s.seedAll || r.SeedsAll() || r.SeedsListed(repo):
		return s.follow(repo, from, "")
	case !r.Seeding():
		return false
	}
	// The trusted rule: the owner or a maintainer must be trusted.
	if roles, err := n.store.RolesAt(repo); err == nil {
		if r.Seeds(repo, roles.Owner, roles.Maintainers()) {
			return s.follow(repo, from, "")
		}
		return false
	}
	s.mu.Lock()
	if s.checking[repo] || time.Since(s.declined[repo]) < seedRecheck {
		s.mu.Unlock()
		return false
	}
	s.checking[repo] = true
	s.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		follow, why := s.check(repo, from)
		s.mu.Lock()
		delete(s.checking, repo)
		if !follow {
			s.declined[repo] = time.Now()
			for id, at := range s.declined {
				if time.Since(at) >= seedRecheck {
					delete(s.declined, id)
				}
			}
		}
		s.mu.Unlock()
		if !follow {
			n.log.Debug("not seeding announced repo", "repo", op.ID(repo).Short(), "peer", from.Short(), "reason", why)
			return
		}
		if s.follow(repo, from, why) && n.mesh != nil {
			ctx, cancel := context.WithTimeout(n.stopCtx, defaultSyncLimit)
			defer cancel()
			if _, err := n.mesh.SyncWith(ctx, from, repo); err != nil {
				n.log.Debug("first sync of seeded repo", "repo", op.ID(repo).Short(), "err", err)
			}
		}
	}()
	return false
}

// check fetches repo's genesis op from peer and reports whether the seed
// rule follows it, and why.
func (s *seeder) check(repo [32]byte, from identity.PublicKey) (bool, string) {
	n := s.n
	if n.mesh == nil {
		return false, "offline"
	}
	ctx, cancel := context.WithTimeout(n.stopCtx, seedCheckTimeout)
	defer cancel()
	raws, err := n.mesh.Fetch(ctx, from, repo, [][32]byte{repo})
	if err != nil || len(raws) != 1 {
		return false, fmt.Sprintf("genesis op not fetched: %v", err)
	}
	g, err := op.Decode(raws[0])
	if err != nil || g.ID() != op.ID(repo) || !g.IsGenesis() {
		return false, "the peer sent no valid genesis op"
	}
	if err := g.Verify(); err != nil {
		return false, "the genesis op's signature does not verify"
	}
	if !n.rules().Seeds(repo, g.Author, nil) {
		return false, fmt.Sprintf("owner %s is not trusted", g.Author.Short())
	}
	return true, "owner " + g.Author.DID() + " is trusted"
}

// follow follows an announced repo, reporting whether it is followed.
func (s *seeder) follow(repo [32]byte, from identity.PublicKey, why string) bool {
	n := s.n
	added, err := n.rep.follow(repo)
	if err != nil {
		n.log.Warn("cannot follow announced repo", "repo", fmt.Sprintf("%x", repo[:6]), "err", err)
		return false
	}
	if added {
		args := []any{"repo", fmt.Sprintf("%x", repo[:6]), "peer", from.Short()}
		if why != "" {
			args = append(args, "rule", why)
		}
		n.log.Info("seeding repo announced by peer", args...)
	}
	return true
}
