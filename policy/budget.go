package policy

import (
	"fmt"
	"sync"
	"time"

	"murmur/identity"
)

// Charge is one op offered for ingest, as a Ledger sees it.
type Charge struct {
	Repo   [32]byte
	Author identity.PublicKey
	// Peer delivered the op; zero for inline gossip, whose relay is not
	// authenticated.
	Peer identity.PublicKey
	// Known marks an author the repo knows: its owner, a maintainer, or
	// a trusted identity. Unknown authors are also charged per peer and
	// per repo.
	Known bool
	// Bytes is the op's encoded size.
	Bytes int
	// RepoBytes is what the repo's stored ops take now, for the quota.
	RepoBytes int64
}

// OverBudgetError says which budget refused an op. Its text is what the
// sender's log shows.
type OverBudgetError struct {
	Scope  string // "author", "peer", "repo" or "quota"
	Who    string // the identity or repo short form
	Limit  string // the limit hit, e.g. "100 ops per 1h0m0s"
	Window time.Duration
}

func (e *OverBudgetError) Error() string {
	switch e.Scope {
	case "quota":
		return fmt.Sprintf("repo %s is at its storage quota for unknown authors (%s)", e.Who, e.Limit)
	case "author":
		return fmt.Sprintf("author %s is over its ingest budget (%s)", e.Who, e.Limit)
	}
	return fmt.Sprintf("unknown authors via %s %s are over their ingest budget (%s)", e.Scope, e.Who, e.Limit)
}

// maxLedgerEntries bounds the counters of one window; beyond it new
// authors are not counted per author (unknown ones are still counted per
// peer and per repo).
const maxLedgerEntries = 1 << 16

type usage struct {
	ops   int
	bytes int64
}

type ledgerKey struct {
	scope byte // 'a' author in repo, 'p' peer, 'r' repo
	repo  [32]byte
	who   identity.PublicKey
}

// Ledger counts ingest against a Budget in fixed windows of time. It is
// safe for concurrent use. Its decisions depend only on the budget, the
// sequence of charges and the windows their times fall in.
type Ledger struct {
	// mu guards start and used.
	mu    sync.Mutex
	start time.Time // start of the current window
	used  map[ledgerKey]usage
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{used: map[ledgerKey]usage{}} }

// Admit charges c at time now against b, or refuses it with an
// *OverBudgetError and charges nothing.
func (l *Ledger) Admit(b Budget, c Charge, now time.Time) error {
	if !b.Limited() {
		return nil
	}
	w := b.WindowDuration()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ws := now.Truncate(w); !ws.Equal(l.start) {
		l.start = ws
		clear(l.used)
	}
	limit := func(ops int, bytes int64) string {
		switch {
		case ops > 0 && bytes > 0:
			return fmt.Sprintf("%d ops or %d bytes per %s", ops, bytes, w)
		case ops > 0:
			return fmt.Sprintf("%d ops per %s", ops, w)
		}
		return fmt.Sprintf("%d bytes per %s", bytes, w)
	}
	over := func(u usage, ops int, bytes int64) bool {
		return ops > 0 && u.ops+1 > ops || bytes > 0 && u.bytes+int64(c.Bytes) > bytes
	}
	short := func(id [32]byte) string { return fmt.Sprintf("%x", id[:6]) }

	var charge []ledgerKey
	if b.AuthorOps > 0 || b.AuthorBytes > 0 {
		k := ledgerKey{scope: 'a', repo: c.Repo, who: c.Author}
		if u, ok := l.used[k]; ok || len(l.used) < maxLedgerEntries {
			if over(u, b.AuthorOps, b.AuthorBytes) {
				return &OverBudgetError{Scope: "author", Who: c.Author.Short(), Limit: limit(b.AuthorOps, b.AuthorBytes), Window: w}
			}
			charge = append(charge, k)
		}
	}
	if !c.Known {
		if b.RepoBytes > 0 && c.RepoBytes+int64(c.Bytes) > b.RepoBytes {
			return &OverBudgetError{Scope: "quota", Who: short(c.Repo), Limit: fmt.Sprintf("%d bytes", b.RepoBytes)}
		}
		if b.UnknownOps > 0 || b.UnknownBytes > 0 {
			if c.Peer != (identity.PublicKey{}) {
				k := ledgerKey{scope: 'p', who: c.Peer}
				if over(l.used[k], b.UnknownOps, b.UnknownBytes) {
					return &OverBudgetError{Scope: "peer", Who: c.Peer.Short(), Limit: limit(b.UnknownOps, b.UnknownBytes), Window: w}
				}
				charge = append(charge, k)
			}
			k := ledgerKey{scope: 'r', repo: c.Repo}
			if over(l.used[k], b.UnknownOps, b.UnknownBytes) {
				return &OverBudgetError{Scope: "repo", Who: short(c.Repo), Limit: limit(b.UnknownOps, b.UnknownBytes), Window: w}
			}
			charge = append(charge, k)
		}
	}
	for _, k := range charge {
		u := l.used[k]
		u.ops++
		u.bytes += int64(c.Bytes)
		l.used[k] = u
	}
	return nil
}
