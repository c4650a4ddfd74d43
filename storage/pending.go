package storage

import (
	"murmur/identity"
	"murmur/op"
)

// pendingPool is the in-memory index of the pending pool (tables 'p',
// 'w', 't'): which ops wait, which peer delivered each and who wrote it.
// It lets the store enforce per-peer and per-author quotas and evict the
// oldest op of the largest holder when the pool is full, so that one
// identity or one peer cannot take the pool from everyone else.
//
// The delivering peer is not persisted: ops found in the pool at open are
// charged to their author as if it had delivered them, like ops ingested
// without a peer. Only writers
// use the pool, under Store.mu, and only a committing transaction changes
// it.
type pendingPool struct {
	ids      map[op.ID]pendEntry
	byPeer   map[identity.PublicKey]*pendHolder
	byAuthor map[identity.PublicKey]int
}

// pendEntry is who a pending op came from and who signed it.
type pendEntry struct {
	peer, author identity.PublicKey
}

// pendHolder is one peer's share of the pool: how many ops, and their IDs
// in arrival order. order may also hold IDs that are no longer this
// peer's pending ops (applied, evicted, or delivered again by another
// peer); readers skip them and remove compacts them away.
type pendHolder struct {
	n     int
	order []op.ID
}

func newPendingPool() pendingPool {
	return pendingPool{
		ids:      map[op.ID]pendEntry{},
		byPeer:   map[identity.PublicKey]*pendHolder{},
		byAuthor: map[identity.PublicKey]int{},
	}
}

func (p *pendingPool) len() int { return len(p.ids) }

func (p *pendingPool) has(id op.ID) bool {
	_, ok := p.ids[id]
	return ok
}

func (p *pendingPool) peerCount(peer identity.PublicKey) int {
	if h := p.byPeer[peer]; h != nil {
		return h.n
	}
	return 0
}

func (p *pendingPool) authorCount(author identity.PublicKey) int { return p.byAuthor[author] }

// add records a pending op; an op already recorded keeps its entry.
func (p *pendingPool) add(id op.ID, e pendEntry) {
	if _, ok := p.ids[id]; ok {
		return
	}
	p.ids[id] = e
	h := p.byPeer[e.peer]
	if h == nil {
		h = &pendHolder{}
		p.byPeer[e.peer] = h
	}
	h.n++
	h.order = append(h.order, id)
	p.byAuthor[e.author]++
}

// remove forgets a pending op; an unknown op is ignored.
func (p *pendingPool) remove(id op.ID) {
	e, ok := p.ids[id]
	if !ok {
		return
	}
	delete(p.ids, id)
	decrement(p.byAuthor, e.author)
	h := p.byPeer[e.peer]
	h.n--
	switch {
	case h.n == 0:
		delete(p.byPeer, e.peer)
	case len(h.order) > 2*h.n+64:
		live := h.order[:0]
		for _, x := range h.order {
			if p.ids[x].peer == e.peer && p.has(x) {
				live = append(live, x)
			}
		}
		clear(h.order[len(live):])
		h.order = live
	}
}

// oldest returns the first op at or after position from in peer's arrival
// order that is still peer's and that skip does not exclude, and the
// position after it.
func (p *pendingPool) oldest(peer identity.PublicKey, from int, skip func(op.ID) bool) (op.ID, int, bool) {
	h := p.byPeer[peer]
	if h == nil {
		return op.ID{}, from, false
	}
	for i := from; i < len(h.order); i++ {
		id := h.order[i]
		if e, ok := p.ids[id]; ok && e.peer == peer && !skip(id) {
			return id, i + 1, true
		}
	}
	return op.ID{}, len(h.order), false
}

// decrement lowers m[k] by one, deleting it at zero.
func decrement[K comparable](m map[K]int, k K) {
	if n := m[k] - 1; n > 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// PendingOf returns how many pending ops are charged to peer: those it
// delivered, and those it signed that came with no known deliverer (and
// those found at open).
func (s *Store) PendingOf(peer identity.PublicKey) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.peerCount(peer)
}
