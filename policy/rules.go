package policy

import (
	"encoding/hex"

	"murmur/identity"
)

// Rules is a Policy compiled for matching. It is immutable and safe for
// concurrent use.
type Rules struct {
	p            Policy
	blocked      map[identity.PublicKey]bool
	blockedPeers map[identity.PublicKey]bool
	trusted      map[identity.PublicKey]bool
	repos        map[[32]byte]bool
}

// Compile compiles a checked policy. A nil policy compiles to the zero
// policy's rules.
func Compile(p *Policy) (*Rules, error) {
	if p == nil {
		p = &Policy{Version: 1}
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	r := &Rules{p: *p, blocked: keys(p.Blocked), blockedPeers: keys(p.BlockedPeers),
		trusted: keys(p.Seed.Trusted), repos: map[[32]byte]bool{}}
	for _, s := range p.Seed.Repos {
		var id [32]byte
		if _, err := hex.Decode(id[:], []byte(s)); err == nil {
			r.repos[id] = true
		}
	}
	return r, nil
}

func keys(dids []string) map[identity.PublicKey]bool {
	m := make(map[identity.PublicKey]bool, len(dids))
	for _, s := range dids {
		if k, err := identity.ParseDID(s); err == nil {
			m[k] = true
		}
	}
	return m
}

// Policy returns the policy r was compiled from.
func (r *Rules) Policy() Policy { return r.p }

// Blocked reports whether author's ops are refused and hidden.
func (r *Rules) Blocked(author identity.PublicKey) bool { return r.blocked[author] }

// BlockedPeer reports whether peer's connections are refused.
func (r *Rules) BlockedPeer(peer identity.PublicKey) bool { return r.blockedPeers[peer] }

// Trusted reports whether k is a trusted identity.
func (r *Rules) Trusted(k identity.PublicKey) bool { return r.trusted[k] }

// SeedsAll reports whether the node follows every announced repo.
func (r *Rules) SeedsAll() bool { return r.p.Seed.Mode == SeedAll }

// Seeding reports whether the seed rule can follow any repo by itself.
func (r *Rules) Seeding() bool {
	switch r.p.Seed.Mode {
	case SeedAll, SeedRepos, SeedTrusted:
		return true
	}
	return false
}

// SeedsListed reports whether repo is followed by the list rule (mode
// SeedRepos), which needs nothing but its ID.
func (r *Rules) SeedsListed(repo [32]byte) bool {
	return r.p.Seed.Mode == SeedRepos && r.repos[repo]
}

// Seeds reports whether the seed rule follows repo, whose owner and
// maintainers are given (owner may be zero when unknown). It is a pure
// function of its arguments and the policy.
func (r *Rules) Seeds(repo [32]byte, owner identity.PublicKey, maintainers []identity.PublicKey) bool {
	switch r.p.Seed.Mode {
	case SeedAll:
		return true
	case SeedRepos:
		return r.repos[repo]
	case SeedTrusted:
		if r.trusted[owner] {
			return true
		}
		for _, m := range maintainers {
			if r.trusted[m] {
				return true
			}
		}
	}
	return false
}
