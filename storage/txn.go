package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// Outcome says what happened to one op handed to the store.
type Outcome int

const (
	// Stored: the op is now in the store (accepted or rejected by forge).
	Stored Outcome = iota + 1
	// Duplicate: the op was already stored or pending.
	Duplicate
	// Waiting: the op waits in the pending pool for parents or target.
	Waiting
	// Parked: the op's clock is too far ahead of local time; it waits
	// until local time catches up.
	Parked
	// Invalid: the op breaks the DAG rules and was dropped.
	Invalid
	// Dropped: the pending pool was full, or the op's peer or author
	// had used its quota of it, and the op was dropped (ErrPendingFull,
	// ErrPeerQuota, ErrAuthorQuota).
	Dropped
)

// Applied describes an op that the store now holds.
type Applied struct {
	ID   op.ID
	Meta forge.Meta
	Err  error // forge's rejection, when !Meta.Accepted
}

// Report is the result of Ingest.
type Report struct {
	Outcomes []Outcome // one per input op
	Errors   []error   // one per input op: why it was invalid or dropped
	Applied  []Applied // every op stored by this call, in apply order (includes released pending ops)
	Released int       // pending ops applied because their dependencies arrived
	Evicted  int       // pending ops evicted to make room for ops of this call
}

// objEntry is an object loaded or created in a transaction.
type objEntry struct {
	obj       *forge.Object
	changed   forge.Fields // parts to write at commit
	storedKey []byte       // summary key as persisted, nil for a new object
}

// txn accumulates one batch of writes and serves forge.Reader over the
// store plus what the batch has written.
type txn struct {
	s        *Store
	b        *pebble.Batch
	metas    map[op.ID]forge.Meta
	repos    map[op.ID]*forge.Repo
	objects  map[op.ID]*objEntry
	comments map[op.ID]*forge.Comment // loaded or changed in this txn
	dirty    map[op.ID]bool           // comments to write
	// newComments are comments created in this txn: none has a search
	// index record to read.
	newComments map[op.ID]bool
	dirtyRepos  map[op.ID]bool  // repos to write
	headsAdd    map[string]bool // head keys to set at commit
	headsDel    map[string]bool // head keys to delete at commit
	newRoles    map[forge.RolesID]*forge.Roles
	pending     map[op.ID]*op.Op             // ops pended in this txn
	pendFrom    map[op.ID]identity.PublicKey // peer that delivered each op pended in this txn
	pendOrder   []op.ID                      // ops pended in this txn, in arrival order
	waiters     map[op.ID][]op.ID            // dep → ops pended in this txn waiting for it
	released    map[op.ID]bool               // pending ops applied in this txn
	unparked    map[op.ID]bool               // parked ops taken out of the pool by Release in this txn
	evicted     map[op.ID]bool               // pool ops evicted in this txn
	evictPos    map[identity.PublicKey]int   // per peer, where to look for its next op to evict
	peerDiff    map[identity.PublicKey]int   // change of each peer's pending count in this txn
	authorDiff  map[identity.PublicKey]int   // change of each author's pending count in this txn
	applied     []Applied
	inbox       []*InboxEntry // entries of notable ops, numbered at commit (inbox.go)
	// rebuild leaves inbox entries to backfillInbox, which keeps the
	// existing ones.
	rebuild   bool
	scratch   bytes.Buffer // encoding buffer of set
	pendDiff  int
	committed bool
	// noSyncWait makes commit apply the batch without waiting for its
	// sync; the caller waits with b.SyncWait after releasing Store.mu.
	noSyncWait bool
	// leak drops the batch instead of closing it (see commit).
	leak bool
}

func (s *Store) newTxn() *txn { return s.newTxnFor(1) }

// bytesPerOp is about what one ingested op adds to a batch (the op, its
// meta and index keys, and its share of rewritten objects, summaries and
// comments); a batch for n ops starts at n times it, so that it does not
// grow by copying.
const bytesPerOp = 2 << 10

// newTxnFor makes a transaction sized for about n ops.
func (s *Store) newTxnFor(n int) *txn {
	return &txn{
		s:           s,
		b:           s.db.NewBatchWithSize(min(n, 1<<14) * bytesPerOp),
		applied:     make([]Applied, 0, n),
		metas:       make(map[op.ID]forge.Meta, n),
		repos:       map[op.ID]*forge.Repo{},
		objects:     map[op.ID]*objEntry{},
		comments:    map[op.ID]*forge.Comment{},
		dirty:       map[op.ID]bool{},
		newComments: map[op.ID]bool{},
		dirtyRepos:  map[op.ID]bool{},
		headsAdd:    map[string]bool{},
		headsDel:    map[string]bool{},
		newRoles:    map[forge.RolesID]*forge.Roles{},
		pending:     map[op.ID]*op.Op{},
		pendFrom:    map[op.ID]identity.PublicKey{},
		waiters:     map[op.ID][]op.ID{},
		released:    map[op.ID]bool{},
		unparked:    map[op.ID]bool{},
		evicted:     map[op.ID]bool{},
		evictPos:    map[identity.PublicKey]int{},
		peerDiff:    map[identity.PublicKey]int{},
		authorDiff:  map[identity.PublicKey]int{},
	}
}

var _ forge.Reader = (*txn)(nil)

func (t *txn) Meta(id op.ID) (forge.Meta, bool, error) {
	if m, ok := t.metas[id]; ok {
		return m, true, nil
	}
	if m, ok := t.s.wcache.metas.get(id); ok {
		t.metas[id] = m
		return m, true, nil
	}
	v, ok, err := t.s.get(opKey(id))
	if err != nil || !ok {
		return forge.Meta{}, false, err
	}
	m, err := decodeMeta(id, v)
	if err != nil {
		return forge.Meta{}, false, err
	}
	t.metas[id] = m
	return m, true, nil
}

func (t *txn) Roles(id forge.RolesID) (*forge.Roles, error) {
	if r, ok := t.newRoles[id]; ok {
		return r, nil
	}
	return t.s.loadRoles(id)
}

func (t *txn) Repo(id op.ID) (*forge.Repo, error) {
	if r, ok := t.repos[id]; ok {
		return r, nil
	}
	if r, ok := t.s.wcache.repos[id]; ok {
		t.repos[id] = r
		return r, nil
	}
	r, err := t.s.Repo(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.repos[id] = r
	return r, nil
}

func (t *txn) Object(id op.ID) (*forge.Object, error) {
	if e, ok := t.objects[id]; ok {
		return e.obj, nil
	}
	o, ok := t.s.wcache.objects.get(id)
	if !ok {
		var err error
		o, err = t.s.Object(id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	t.objects[id] = &objEntry{obj: o, storedKey: summaryKey(o.Repo, typeCode(o.Type), stateCode(o.CurrentState().State), o.Updated, o.ID)}
	return o, nil
}

func (t *txn) Comment(id op.ID) (*forge.Comment, error) {
	if c, ok := t.comments[id]; ok {
		return c, nil
	}
	if c, ok := t.s.wcache.comments.get(id); ok {
		t.comments[id] = c
		return c, nil
	}
	m, ok, err := t.Meta(id)
	if err != nil || !ok {
		return nil, err
	}
	c, err := t.s.comment(m.Object, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.comments[id] = c
	return c, nil
}

func (t *txn) stored(id op.ID) (bool, error) {
	if _, ok := t.metas[id]; ok {
		return true, nil
	}
	if _, ok := t.s.wcache.metas.get(id); ok {
		return true, nil
	}
	if _, ok := t.s.known[idPrefix(id)]; !ok {
		return false, nil
	}
	// Probably stored: read its meta, which Apply will want anyway.
	_, ok, err := t.Meta(id)
	return ok, err
}

func (t *txn) isPending(id op.ID) (bool, error) {
	if _, ok := t.pending[id]; ok && !t.released[id] {
		return true, nil
	}
	if t.released[id] || t.unparked[id] || t.evicted[id] {
		return false, nil
	}
	return t.s.pool.has(id), nil
}

// add hands one verified op, delivered by peer from (the zero key for
// none), to the transaction.
func (t *txn) add(o *op.Op, from identity.PublicKey) (Outcome, error) {
	id := o.ID()
	if ok, err := t.stored(id); err != nil || ok {
		return Duplicate, err
	}
	if ok, err := t.isPending(id); err != nil || ok {
		return Duplicate, err
	}
	now := t.s.opts.Now()
	if o.Clock.Wall() > now.Add(t.s.opts.MaxDrift).UnixMilli() {
		if err := t.pend(o, nil, from); err != nil {
			return Dropped, err
		}
		return Parked, nil
	}
	var missing []op.ID
	for _, d := range forge.Deps(o) {
		ok, err := t.stored(d)
		if err != nil {
			return 0, err
		}
		if !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		if err := t.pend(o, missing, from); err != nil {
			return Dropped, err
		}
		return Waiting, nil
	}
	if err := t.apply(o); err != nil {
		if errors.Is(err, forge.ErrInvalidOp) {
			return Invalid, err
		}
		return 0, err
	}
	return Stored, t.release(id)
}

// pend puts o, delivered by from, in the pending pool: waiting for
// missing, or parked for its clock when missing is nil. It enforces the
// quotas and, when the pool is full, evicts to make room (evictFor).
func (t *txn) pend(o *op.Op, missing []op.ID, from identity.PublicKey) error {
	id := o.ID()
	if from == (identity.PublicKey{}) {
		from = o.Author // no known deliverer: the signer answers for it
	}
	opts := &t.s.opts
	if n := t.peerPending(from); n >= opts.MaxPendingPerPeer {
		return fmt.Errorf("op %s: peer %s has %d ops pending: %w", id.Short(), from.Short(), n, ErrPeerQuota)
	}
	if n := t.s.pool.authorCount(o.Author) + t.authorDiff[o.Author]; n >= opts.MaxPendingPerAuthor {
		return fmt.Errorf("op %s: author %s has %d ops pending: %w", id.Short(), o.Author.Short(), n, ErrAuthorQuota)
	}
	if n := t.s.pool.len() + t.pendDiff; n >= opts.MaxPending {
		if err := t.evictFor(from); err != nil {
			return fmt.Errorf("op %s: %d ops pending: %w", id.Short(), n, err)
		}
	}
	t.b.Set(key1(tagPending, id[:]), o.Bytes(), nil)
	t.pending[id] = o
	t.pendFrom[id] = from
	t.pendOrder = append(t.pendOrder, id)
	delete(t.evicted, id) // evicted earlier in this txn and back again
	t.pendDiff++
	t.peerDiff[from]++
	t.authorDiff[o.Author]++
	if missing == nil {
		t.b.Set(parkedKey(o.Clock, id), nil, nil)
		return nil
	}
	for _, d := range missing {
		t.b.Set(waitKey(d, id), nil, nil)
		t.waiters[d] = append(t.waiters[d], id)
	}
	return nil
}

// peerPending is how many ops peer holds in the pool, counting this txn.
func (t *txn) peerPending(peer identity.PublicKey) int {
	return t.s.pool.peerCount(peer) + t.peerDiff[peer]
}

// unpend accounts for pending op o (id) leaving the pool in this txn;
// the caller deletes its keys.
func (t *txn) unpend(id op.ID, o *op.Op) {
	from, ok := t.pendFrom[id]
	if !ok {
		from = t.s.pool.ids[id].peer
	}
	t.pendDiff--
	t.peerDiff[from]--
	t.authorDiff[o.Author]--
}

// evictFor makes room in a full pool for an op delivered by from: it
// evicts the oldest committed op of the peer holding the most, provided
// that peer holds more than from does. It fails with ErrPendingFull when
// no peer holds more, so that no sender gains by pushing others out.
func (t *txn) evictFor(from identity.PublicKey) error {
	mine := t.peerPending(from)
	var victim identity.PublicKey
	most := mine
	for peer := range t.s.pool.byPeer {
		if n := t.peerPending(peer); n > most {
			victim, most = peer, n
		}
	}
	if most == mine {
		return ErrPendingFull
	}
	skip := func(id op.ID) bool { return t.evicted[id] || t.released[id] || t.unparked[id] }
	id, next, ok := t.s.pool.oldest(victim, t.evictPos[victim], skip)
	t.evictPos[victim] = next
	if !ok {
		return ErrPendingFull
	}
	o, err := t.pendingOp(id)
	if err != nil {
		return err
	}
	t.b.Delete(key1(tagPending, id[:]), nil)
	if o == nil {
		return ErrPendingFull // not on disk: nothing to free
	}
	t.b.Delete(parkedKey(o.Clock, id), nil)
	for _, d := range forge.Deps(o) {
		t.b.Delete(waitKey(d, id), nil)
	}
	t.evicted[id] = true
	t.unpend(id, o)
	return nil
}

// release applies the pending ops that waited for id and now have all
// their dependencies, and so on transitively.
func (t *txn) release(id op.ID) error {
	queue := []op.ID{id}
	for len(queue) > 0 {
		dep := queue[0]
		queue = queue[1:]
		waiting, err := t.waitersOf(dep)
		if err != nil {
			return err
		}
		for _, w := range waiting {
			t.b.Delete(waitKey(dep, w), nil)
			o, err := t.pendingOp(w)
			if err != nil {
				return err
			}
			if o == nil || t.released[w] || t.evicted[w] {
				continue
			}
			ready := true
			for _, d := range forge.Deps(o) {
				ok, err := t.stored(d)
				if err != nil {
					return err
				}
				if !ok {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			t.released[w] = true
			t.b.Delete(key1(tagPending, w[:]), nil)
			t.unpend(w, o)
			if err := t.apply(o); err != nil {
				if errors.Is(err, forge.ErrInvalidOp) {
					continue // dropped; its own waiters stay pending until evicted
				}
				return err
			}
			queue = append(queue, w)
		}
	}
	return nil
}

func (t *txn) waitersOf(dep op.ID) ([]op.ID, error) {
	out := append([]op.ID(nil), t.waiters[dep]...)
	if t.s.pool.len() == 0 {
		// Nothing was pending before this transaction, so the only
		// waiters are the ones it recorded.
		return out, nil
	}
	seen := map[op.ID]bool{}
	for _, w := range out {
		seen[w] = true
	}
	err := t.s.scan(key1(tagWait, dep[:]), func(k, _ []byte) error {
		var w op.ID
		copy(w[:], k[33:])
		if !seen[w] {
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

func (t *txn) pendingOp(id op.ID) (*op.Op, error) {
	if o, ok := t.pending[id]; ok {
		return o, nil
	}
	v, ok, err := t.s.get(key1(tagPending, id[:]))
	if err != nil || !ok {
		return nil, err
	}
	o, err := op.Trusted(v)
	if err != nil {
		return nil, fmt.Errorf("storage: pending op %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return o, nil
}

// apply runs forge and writes the op and its effects into the batch.
func (t *txn) apply(o *op.Op) error {
	res, err := forge.Apply(t, o)
	if err != nil {
		return err
	}
	return t.write(o, res)
}

func (t *txn) write(o *op.Op, res forge.Result) error {
	id := o.ID()
	repo := res.Meta.Repo
	t.b.Set(opKey(id), opValue(&res.Meta, o.Bytes()), nil)
	t.b.Set(clockKey(repo, o.Clock, id), nil, nil)
	// Heads are written at commit: in a batch that extends a chain, each
	// op would otherwise set a head key that the next one deletes.
	for _, p := range o.Parents {
		k := string(headKey(repo, p))
		if t.headsAdd[k] {
			delete(t.headsAdd, k)
		} else {
			t.headsDel[k] = true
		}
	}
	t.headsAdd[string(headKey(repo, id))] = true
	t.metas[id] = res.Meta
	if res.Roles != nil {
		t.newRoles[res.Meta.Roles] = res.Roles
	}
	if res.Repo != nil {
		t.repos[repo] = res.Repo
		t.dirtyRepos[repo] = true
	}
	for _, c := range res.Comments {
		t.comments[c.ID] = c
		t.dirty[c.ID] = true
		if c.ID == id {
			t.newComments[id] = true
		}
	}
	if res.Object != nil {
		e, ok := t.objects[res.Object.ID]
		if !ok {
			e = &objEntry{obj: res.Object}
			t.objects[res.Object.ID] = e
		}
		e.changed |= res.Changed
	}
	if participant(res.Meta) {
		t.b.Set(participantKey(res.Meta.Object, res.Meta.Author), nil, nil)
	}
	if !t.rebuild {
		e, err := inboxEntry(o, res.Meta, t.Meta)
		if err != nil {
			return err
		}
		if e != nil {
			t.inbox = append(t.inbox, e)
		}
	}
	t.applied = append(t.applied, Applied{ID: id, Meta: res.Meta, Err: res.Err})
	return nil
}

// commit writes the materialized state touched by the transaction and
// commits the batch durably.
func (t *txn) commit() error {
	for id, r := range t.newRoles {
		k := key1(tagRoles, id[:])
		if ok, err := t.s.has(k); err != nil {
			return err
		} else if ok {
			continue
		}
		v, err := t.encodeRoles(r)
		if err != nil {
			return fmt.Errorf("storage: encode roles: %w", err)
		}
		t.b.Set(k, v, nil)
	}
	for k := range t.headsDel {
		t.b.Delete([]byte(k), nil)
	}
	for k := range t.headsAdd {
		t.b.Set([]byte(k), nil, nil)
	}
	for id := range t.dirtyRepos {
		if err := t.set(key1(tagRepo, id[:]), t.repos[id]); err != nil {
			return fmt.Errorf("storage: encode repo: %w", err)
		}
	}
	for id, e := range t.objects {
		if e.changed == 0 {
			continue
		}
		for bit := 0; forge.Fields(1)<<bit <= forge.AllFields; bit++ {
			f := forge.Fields(1) << bit
			if e.changed&f == 0 {
				continue
			}
			var part any
			if f == forge.FieldHeader {
				h := e.obj.Header()
				part = &h
			} else {
				part = e.obj.Field(f)
			}
			if err := t.set(objectKey(id, byte(bit)), part); err != nil {
				return fmt.Errorf("storage: encode object: %w", err)
			}
		}
		sm := e.obj.Summary()
		sk := summaryKey(e.obj.Repo, typeCode(e.obj.Type), stateCode(sm.State), sm.Updated, id)
		if e.storedKey != nil && string(e.storedKey) != string(sk) {
			t.b.Delete(e.storedKey, nil)
		}
		if err := t.set(sk, &sm); err != nil {
			return fmt.Errorf("storage: encode summary: %w", err)
		}
		get := t.s.get
		if e.storedKey == nil {
			get = unindexed // created in this txn
		}
		if err := indexObject(t.b, get, e.obj, e.changed); err != nil {
			return err
		}
	}
	for id := range t.dirty {
		c := t.comments[id]
		if err := t.set(commentKey(c.Object, id), c); err != nil {
			return fmt.Errorf("storage: encode comment: %w", err)
		}
		get := t.s.get
		if t.newComments[id] {
			get = unindexed
		}
		if err := indexText(t.b, get, c.Object, id, WhereComment, commentText(c)); err != nil {
			return err
		}
	}
	seq := t.s.inboxSeq
	if err := t.writeInbox(); err != nil {
		t.s.inboxSeq = seq
		return err
	}
	err := t.s.fence.guard(func() error {
		if t.noSyncWait {
			return t.s.db.ApplyNoSyncWait(t.b, pebble.Sync)
		}
		return t.b.Commit(pebble.Sync)
	})
	// Pebble reports a failed commit to its logger, which fences the
	// database, and may return nil. The batch of a failed ApplyNoSyncWait
	// may never see its sync finish, so it is not closed but dropped.
	if err != nil || t.s.fence.failure() != nil {
		if t.noSyncWait {
			t.leak = true
		}
		t.s.inboxSeq = seq
		return t.s.failedLocked(err)
	}
	t.committed = true
	// In batch order: Release takes parked ops out first, pend evicts
	// others, add may pend them (or others) again, and release applies
	// pended ones.
	pool := &t.s.pool
	for id := range t.unparked {
		pool.remove(id)
	}
	for id := range t.evicted {
		pool.remove(id)
	}
	for _, id := range t.pendOrder {
		pool.add(id, pendEntry{peer: t.pendFrom[id], author: t.pending[id].Author})
	}
	for id := range t.released {
		pool.remove(id)
	}
	for _, a := range t.applied {
		t.s.known[idPrefix(a.ID)] = struct{}{}
	}
	for id, r := range t.newRoles {
		t.s.cacheRoles(id, r)
	}
	t.keep()
	return nil
}

// set encodes v as CBOR into the transaction's scratch buffer and sets
// key to it; the batch copies both.
func (t *txn) set(key []byte, v any) error {
	t.scratch.Reset()
	if err := encMode.MarshalToBuffer(v, &t.scratch); err != nil {
		return err
	}
	t.b.Set(key, t.scratch.Bytes(), nil)
	return nil
}

// keep moves what the committed transaction holds into the write cache.
func (t *txn) keep() {
	c := &t.s.wcache
	c.init()
	for id, m := range t.metas {
		c.metas.put(id, m)
	}
	for id, r := range t.repos {
		c.repos[id] = r
	}
	for id, e := range t.objects {
		c.objects.put(id, e.obj)
	}
	for id, cm := range t.comments {
		c.comments.put(id, cm)
	}
}

// close releases the batch. A transaction that did not commit may have
// changed cached values in place, so the write cache is dropped.
func (t *txn) close() {
	if !t.committed {
		t.s.wcache.drop()
	}
	if !t.leak {
		t.b.Close()
	}
}

// Ingest stores ops received from elsewhere. The ops must have verified
// signatures (op.VerifyBatch). Ops whose parents or target are missing wait
// in the pending pool and are applied, in a later call, when those arrive.
// All of it is committed with one sync, and Ingest returns once that sync
// is done. The returned error is a storage failure, in which case nothing
// was written.
func (s *Store) Ingest(ops []*op.Op) (Report, error) {
	return s.IngestFrom(identity.PublicKey{}, ops)
}

// IngestFrom is Ingest of ops delivered by peer, whose pending ops count
// against its quota (Options.MaxPendingPerPeer). With the zero peer (as
// for Ingest) each pending op is charged to its author instead.
func (s *Store) IngestFrom(peer identity.PublicKey, ops []*op.Op) (Report, error) {
	rep, sync, err := s.IngestAsyncFrom(peer, ops)
	if err != nil {
		return Report{}, err
	}
	if err := sync.Wait(); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// IngestAsync is Ingest without waiting for the sync: it returns once the
// ops are applied and visible to readers, and the caller waits with
// Syncing.Wait before it reports them durable. A caller streaming batches
// ingests the next one while this one syncs. The WAL is synced in order,
// so a later batch's sync covers every earlier one too.
func (s *Store) IngestAsync(ops []*op.Op) (Report, *Syncing, error) {
	return s.IngestAsyncFrom(identity.PublicKey{}, ops)
}

// IngestAsyncFrom is IngestAsync of ops delivered by peer (see
// IngestFrom).
func (s *Store) IngestAsyncFrom(peer identity.PublicKey, ops []*op.Op) (Report, *Syncing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return Report{}, nil, err
	}
	t := s.newTxnFor(len(ops))
	t.noSyncWait = true
	rep, err := t.ingest(ops, peer)
	if err != nil {
		t.close()
		return Report{}, nil, err
	}
	return rep, &Syncing{b: t.b, s: s}, nil
}

// Syncing is an ingest whose batch is applied and may not be on disk yet.
type Syncing struct {
	b   *pebble.Batch
	s   *Store
	err error
}

// Wait blocks until the ingest is on disk. It may be called more than
// once; a nil Syncing has nothing to wait for.
func (w *Syncing) Wait() error {
	if w == nil {
		return nil
	}
	if w.b != nil {
		if err := w.b.SyncWait(); err != nil {
			w.err = w.s.syncFailed(err)
		}
		w.b.Close()
		w.b = nil
	}
	return w.err
}

func (t *txn) ingest(ops []*op.Op, from identity.PublicKey) (Report, error) {
	rep := Report{Outcomes: make([]Outcome, len(ops)), Errors: make([]error, len(ops))}
	for i, o := range ops {
		out, err := t.add(o, from)
		if err != nil && out == 0 {
			return Report{}, err
		}
		rep.Outcomes[i], rep.Errors[i] = out, err
	}
	if err := t.commit(); err != nil {
		return Report{}, err
	}
	rep.Applied = t.applied
	rep.Released = len(t.released)
	rep.Evicted = len(t.evicted)
	return rep, nil
}

// Tip is what an author needs to make a new op in a repo: the DAG heads to
// name as parents and the greatest clock among them.
type Tip struct {
	Repo    op.ID
	Parents []op.ID
	Clock   crdt.Timestamp
	Roles   *forge.Roles
}

// ErrRejected wraps forge's reason when a local op would be rejected.
var ErrRejected = errors.New("rejected")

// Create makes one local op durably. build is called with the repo's
// current tip (empty for a new repo, when repo is zero) under the write
// lock and returns the signed op. If forge would reject the op, nothing is
// written and the error wraps ErrRejected and forge's reason. Create returns
// once the op is synced to disk.
func (s *Store) Create(repo op.ID, build func(Tip) (*op.Op, error)) (Applied, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return Applied{}, err
	}
	tip, err := s.tip(repo)
	if err != nil {
		return Applied{}, err
	}
	o, err := build(tip)
	if err != nil {
		return Applied{}, err
	}
	if o.RepoID() != repo && !(repo.IsZero() && o.IsGenesis()) {
		return Applied{}, fmt.Errorf("storage: built op for repo %s, want %s", o.RepoID().Short(), repo.Short())
	}
	t := s.newTxn()
	defer t.close()
	out, err := t.add(o, identity.PublicKey{})
	if err != nil {
		return Applied{}, err
	}
	if out != Stored {
		return Applied{}, fmt.Errorf("storage: local op %s not stored (outcome %d)", o.ID().Short(), out)
	}
	a := t.applied[0]
	if !a.Meta.Accepted {
		return Applied{}, fmt.Errorf("%w: %w", ErrRejected, a.Err)
	}
	if err := t.commit(); err != nil {
		return Applied{}, err
	}
	return a, nil
}

// CreateAll is Create of n ops of an existing repo in one batch: all of
// them are written, durably, or none. build is called for op i with the
// tip after op i-1 (its only parent, its clock and role state), so the
// ops form a chain. If forge would reject any of them, nothing is
// written and the error wraps ErrRejected and forge's reason.
func (s *Store) CreateAll(repo op.ID, n int, build func(i int, tip Tip) (*op.Op, error)) ([]Applied, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return nil, err
	}
	if repo.IsZero() {
		return nil, errors.New("storage: CreateAll makes ops of an existing repo, not a genesis")
	}
	tip, err := s.tip(repo)
	if err != nil {
		return nil, err
	}
	t := s.newTxnFor(n)
	defer t.close()
	out := make([]Applied, 0, n)
	for i := range n {
		o, err := build(i, tip)
		if err != nil {
			return nil, err
		}
		if o.RepoID() != repo {
			return nil, fmt.Errorf("storage: built op for repo %s, want %s", o.RepoID().Short(), repo.Short())
		}
		res, err := t.add(o, identity.PublicKey{})
		if err != nil {
			return nil, err
		}
		if res != Stored {
			return nil, fmt.Errorf("storage: local op %s not stored (outcome %d)", o.ID().Short(), res)
		}
		idx := slices.IndexFunc(t.applied, func(a Applied) bool { return a.ID == o.ID() })
		if idx < 0 {
			return nil, fmt.Errorf("storage: local op %s stored but not applied", o.ID().Short())
		}
		a := t.applied[idx]
		if !a.Meta.Accepted {
			return nil, fmt.Errorf("%w: %w", ErrRejected, a.Err)
		}
		out = append(out, a)
		roles, err := t.Roles(a.Meta.Roles)
		if err != nil {
			return nil, err
		}
		tip = Tip{Repo: repo, Parents: []op.ID{a.ID}, Clock: o.Clock, Roles: roles}
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// tip is the tip new local ops of repo build on: empty for a new repo
// (zero repo), else its newest heads, the greatest of their clocks and
// the union of their role states. Create and CreateAll call it under
// s.mu, so that the tip is still the tip when their ops join it.
func (s *Store) tip(repo op.ID) (Tip, error) {
	tip := Tip{Repo: repo}
	if repo.IsZero() {
		return tip, nil
	}
	heads, err := s.Heads(repo)
	if err != nil {
		return tip, err
	}
	if len(heads) == 0 {
		return tip, fmt.Errorf("repo %s: %w", repo.Short(), ErrNotFound)
	}
	var roles []*forge.Roles
	var metas []headMeta
	for _, h := range heads {
		m, err := s.Meta(h)
		if err != nil {
			return tip, err
		}
		r, err := s.loadRoles(m.Roles)
		if err != nil {
			return tip, err
		}
		roles = append(roles, r)
		metas = append(metas, headMeta{h, m.Clock})
		if m.Clock > tip.Clock {
			tip.Clock = m.Clock
		}
	}
	tip.Roles = forge.UnionRoles(roles...)
	tip.Parents = newestHeads(metas, op.MaxParents)
	return tip, nil
}

type headMeta struct {
	id    op.ID
	clock crdt.Timestamp
}

// newestHeads picks at most n heads, newest first, so that many concurrent
// heads are merged over a few ops.
func newestHeads(hs []headMeta, n int) []op.ID {
	sortHeads(hs)
	if len(hs) > n {
		hs = hs[:n]
	}
	out := make([]op.ID, len(hs))
	for i, h := range hs {
		out[i] = h.id
	}
	return out
}
