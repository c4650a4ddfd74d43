package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/merkle"
	"murmur/op"
	"murmur/policy"
)

// Local settings of refused ops: refusedPrefix + repo hex + "/" + a
// 16-hex sequence number, each value a run of refusal records (see
// refusal.append).
const refusedPrefix = "refused/"

// maxRefusedPerRepo bounds the refusals remembered per repo; beyond it a
// refused op is not remembered, so a peer may offer it again.
const maxRefusedPerRepo = 1 << 18

// Kinds of refusal.
const (
	refusedBlocked = 'b' // its author is blocked; kept until unblocked
	refusedBudget  = 'q' // over an ingest budget; kept for one window
)

// refusal is an op the node refused by its local policy. It stays in the
// repo's Merkle summary (so peers stop offering it) until it expires or
// the policy that refused it changes.
type refusal struct {
	kind   byte
	at     int64 // unix seconds of the refusal
	clock  uint64
	author identity.PublicKey
}

// refusalSize is the size of a stored refusal record:
// kind (1) | at (8, big-endian) | clock (8) | op ID (32) | author (32).
const refusalSize = 1 + 8 + 8 + 32 + 32

func (r refusal) append(b []byte, id op.ID) []byte {
	b = append(b, r.kind)
	b = binary.BigEndian.AppendUint64(b, uint64(r.at))
	b = binary.BigEndian.AppendUint64(b, r.clock)
	b = append(b, id[:]...)
	return append(b, r.author[:]...)
}

// policyState is the node's local policy at work: the rules from the
// policy file, the budget ledger, and the refused ops per repo.
type policyState struct {
	w      *policy.Watcher
	ledger *policy.Ledger

	// mu guards refused, seq, wanted and sizes.
	mu sync.Mutex
	// sizes are the bytes of each repo's stored ops, measured when the
	// quota first needs them and counted up by ingest since.
	sizes   map[op.ID]int64
	refused map[op.ID]map[op.ID]refusal
	seq     uint64
	// wanted are refused ops that a stored or pending op depends on:
	// they are admitted when they arrive.
	wanted map[op.ID]bool
}

// openPolicy loads the policy file and the refused ops.
func (n *Node) openPolicy() error {
	w, err := policy.NewWatcher(n.cfg.Home, func(err error) {
		n.log.Warn("keeping the last policy: the policy file does not load", "err", err)
	}, n.policyChanged)
	if errors.Is(err, policy.ErrInvalid) {
		return api.Errorf(api.CodeInvalid, "%v", err)
	}
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	ps := &policyState{w: w, ledger: policy.NewLedger(), refused: map[op.ID]map[op.ID]refusal{}, wanted: map[op.ID]bool{}, sizes: map[op.ID]int64{}}
	err = n.store.LocalPrefix(refusedPrefix, func(name string, v []byte) error {
		repoHex, seqHex, ok := strings.Cut(strings.TrimPrefix(name, refusedPrefix), "/")
		repo, err := op.ParseID(repoHex)
		seq, serr := strconv.ParseUint(seqHex, 16, 64)
		if !ok || err != nil || serr != nil || len(v)%refusalSize != 0 {
			n.log.Warn("ignoring malformed refusal entry", "key", name)
			return nil
		}
		ps.seq = max(ps.seq, seq)
		m := ps.refused[repo]
		if m == nil {
			m = map[op.ID]refusal{}
			ps.refused[repo] = m
		}
		for ; len(v) > 0; v = v[refusalSize:] {
			var id op.ID
			r := refusal{kind: v[0], at: int64(binary.BigEndian.Uint64(v[1:])), clock: binary.BigEndian.Uint64(v[9:])}
			copy(id[:], v[17:49])
			copy(r.author[:], v[49:81])
			m[id] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("node: load refused ops: %w", err)
	}
	n.pol = ps
	return nil
}

// rules returns the current policy rules.
func (n *Node) rules() *policy.Rules { return n.pol.w.Rules() }

// refusedItems returns the Merkle items of repo's refused ops.
func (ps *policyState) refusedItems(repo op.ID) []merkle.Item {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []merkle.Item
	for id, r := range ps.refused[repo] {
		out = append(out, merkle.Item{Clock: r.clock, ID: id})
	}
	return out
}

// screen decides which of ops (verified, of repo, delivered by peer; zero
// for inline gossip) the node stores. It returns the ops to store and
// records the others as refused, returning how many and the last reason.
func (n *Node) screen(peer identity.PublicKey, repo op.ID, ops []*op.Op) ([]*op.Op, int, error) {
	rules := n.rules()
	p := rules.Policy()
	if len(p.Blocked) == 0 && !p.Budget.Limited() {
		return ops, 0, nil
	}
	ps := n.pol
	var me identity.PublicKey
	if k := n.currentKey(); k != nil {
		me = k.Public()
	}
	roles, _ := n.store.RolesAt(repo) // nil before the genesis is stored
	var size int64
	if p.Budget.RepoBytes > 0 {
		size = n.repoBytes(repo)
	}
	now := n.cfg.Now()
	kept := ops[:0:0]
	var refusedIDs []op.ID
	var refused []refusal
	var reason error
	for _, o := range ops {
		id := o.ID()
		ps.mu.Lock()
		wanted := ps.wanted[id]
		delete(ps.wanted, id) // its refusal stays harmlessly: the tree holds each ID once
		ps.mu.Unlock()
		if wanted {
			kept = append(kept, o)
			continue
		}
		if has, err := n.store.HasOp(id); err == nil && has {
			kept = append(kept, o) // the store skips it
			continue
		}
		r := refusal{at: now.Unix(), clock: uint64(o.Clock), author: o.Author}
		if rules.Blocked(o.Author) {
			r.kind = refusedBlocked
			reason = fmt.Errorf("author %s is blocked by this node", o.Author.DID())
		} else {
			known := o.Author == me || rules.Trusted(o.Author) || roles != nil && roles.IsMaintainer(o.Author) || o.IsGenesis()
			err := ps.ledger.Admit(p.Budget, policy.Charge{Repo: repo, Author: o.Author, Peer: peer, Known: known, Bytes: len(o.Bytes()), RepoBytes: size}, now)
			if err == nil {
				kept = append(kept, o)
				size += int64(len(o.Bytes()))
				continue
			}
			r.kind, reason = refusedBudget, err
		}
		refusedIDs = append(refusedIDs, id)
		refused = append(refused, r)
	}
	if p.Budget.RepoBytes > 0 {
		ps.mu.Lock()
		ps.sizes[repo] = size
		ps.mu.Unlock()
	}
	if len(refused) > 0 {
		n.recordRefused(repo, refusedIDs, refused)
	}
	return kept, len(refused), reason
}

// repoBytes returns the bytes of repo's stored ops, reading them once.
func (n *Node) repoBytes(repo op.ID) int64 {
	ps := n.pol
	ps.mu.Lock()
	size, ok := ps.sizes[repo]
	ps.mu.Unlock()
	if ok {
		return size
	}
	var ids []op.ID
	_ = n.store.ForEachOp(repo, func(_ crdt.Timestamp, id op.ID) error {
		ids = append(ids, id)
		return nil
	})
	for lo := 0; lo < len(ids); lo += 4096 {
		raws, err := n.store.OpsRaw(repo, ids[lo:min(lo+4096, len(ids))])
		if err != nil {
			break
		}
		for _, b := range raws {
			size += int64(len(b))
		}
	}
	ps.mu.Lock()
	ps.sizes[repo] = size
	ps.mu.Unlock()
	return size
}

// recordRefused remembers refused ops durably and puts them in repo's
// Merkle summary.
func (n *Node) recordRefused(repo op.ID, ids []op.ID, rs []refusal) {
	ps := n.pol
	ps.mu.Lock()
	m := ps.refused[repo]
	if m == nil {
		m = map[op.ID]refusal{}
		ps.refused[repo] = m
	}
	var rec []byte
	var items []merkle.Item
	for i, id := range ids {
		if _, dup := m[id]; dup || len(m) >= maxRefusedPerRepo {
			continue
		}
		m[id] = rs[i]
		rec = rs[i].append(rec, id)
		items = append(items, merkle.Item{Clock: rs[i].clock, ID: id})
	}
	ps.seq++
	name := fmt.Sprintf("%s%s/%016x", refusedPrefix, repo, ps.seq)
	ps.mu.Unlock()
	if len(rec) == 0 {
		return
	}
	if err := n.store.SetLocal(name, rec); err != nil {
		n.log.Warn("cannot record refused ops; peers may offer them again", "repo", repo.Short(), "err", err)
	}
	n.rep.insert(repo, items)
}

// want marks ids, dependencies that stored or pending ops wait for, as
// admitted when they arrive if the node refused them. It reports whether
// any was refused.
func (ps *policyState) want(repo op.ID, ids []op.ID) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	any := false
	for _, id := range ids {
		if _, ok := ps.refused[repo][id]; ok {
			ps.wanted[id] = true
			any = true
		}
	}
	return any
}

// forget drops refusals for which keep is false, rewriting the repo's
// records and rebuilding its Merkle summary, so that peers offer those
// ops again.
func (n *Node) forget(keep func(r refusal) bool) {
	ps := n.pol
	ps.mu.Lock()
	changed := map[op.ID][]byte{}
	for repo, m := range ps.refused {
		before := len(m)
		for id, r := range m {
			if !keep(r) {
				delete(m, id)
				delete(ps.wanted, id)
			}
		}
		if len(m) == before {
			continue
		}
		var rec []byte
		for id, r := range m {
			rec = r.append(rec, id)
		}
		changed[repo] = rec
	}
	ps.seq++
	seq := ps.seq
	ps.mu.Unlock()
	for repo, rec := range changed {
		prefix := fmt.Sprintf("%s%s/", refusedPrefix, repo)
		var old []string
		_ = n.store.LocalPrefix(prefix, func(name string, _ []byte) error {
			old = append(old, name)
			return nil
		})
		var err error
		if len(rec) > 0 {
			err = n.store.SetLocal(fmt.Sprintf("%s%016x", prefix, seq), rec)
		}
		for _, name := range old {
			if err == nil {
				err = n.store.SetLocal(name, nil)
			}
		}
		if err != nil {
			n.log.Warn("cannot rewrite refused ops", "repo", repo.Short(), "err", err)
		}
		if n.rep == nil {
			continue // still opening: the trees are built from the records
		}
		if err := n.rep.rebuild(repo); err != nil {
			n.log.Warn("cannot rebuild the repo summary", "repo", repo.Short(), "err", err)
		}
	}
}

// expireRefusals forgets budget refusals older than the budget window, so
// that their ops are offered again and count against a new window.
func (n *Node) expireRefusals(now time.Time) {
	w := n.rules().Policy().Budget.WindowDuration()
	cut := now.Add(-w).Unix()
	ps := n.pol
	ps.mu.Lock()
	due := false
	for _, m := range ps.refused {
		for _, r := range m {
			if r.kind == refusedBudget && r.at <= cut {
				due = true
				break
			}
		}
	}
	ps.mu.Unlock()
	if due {
		n.forget(func(r refusal) bool { return r.kind != refusedBudget || r.at > cut })
	}
}

// policyChanged applies new rules: connections of newly blocked peers are
// closed, and the ops of authors no longer blocked are offered again.
func (n *Node) policyChanged(r *policy.Rules) {
	n.log.Info("policy changed", "blocked", len(r.Policy().Blocked), "blocked_peers", len(r.Policy().BlockedPeers), "seed", seedMode(r))
	if n.mesh != nil {
		for _, s := range r.Policy().BlockedPeers {
			if k, err := identity.ParseDID(s); err == nil {
				n.mesh.Disconnect(k)
			}
		}
	}
	if n.pol != nil {
		n.forget(func(x refusal) bool { return x.kind != refusedBlocked || r.Blocked(x.author) })
	}
}

func seedMode(r *policy.Rules) string {
	if m := r.Policy().Seed.Mode; m != "" {
		return m
	}
	return policy.SeedNone
}

// admitPeer is the mesh's admit check: blocked peers are refused.
func (n *Node) admitPeer(peer identity.PublicKey) error {
	if n.rules().BlockedPeer(peer) {
		return errBlockedPeer
	}
	return nil
}

var errBlockedPeer = errors.New("peer is blocked by local policy (murmur unblock --peer)")

// hidden reports whether an author's ops are hidden from lists and views.
func (n *Node) hidden(author identity.PublicKey) bool { return n.rules().Blocked(author) }

// hideComments drops the comments of blocked authors.
func (n *Node) hideComments(cs []*forge.Comment) []*forge.Comment {
	r := n.rules()
	if len(r.Policy().Blocked) == 0 {
		return cs
	}
	out := cs[:0:0]
	for _, c := range cs {
		if !r.Blocked(c.Author) {
			out = append(out, c)
		}
	}
	return out
}

// currentKey returns the node's identity key, or nil before it has one.
func (n *Node) currentKey() *identity.Key {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.key
}
