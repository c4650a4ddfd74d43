// Package storage keeps a replica's ops and everything derived from them in
// Pebble: ops by ID, each repo's ops in (clock, ID) order for the Merkle
// summary, DAG heads, ops waiting for their dependencies, role states, and
// materialized repos, issues and patches with a listing index.
//
// Ops are the source of truth; every other table is derived and Rebuild
// recomputes it. Only verified ops are stored, so opening a store never
// re-verifies. A local write is synced before Create returns; Ingest commits
// many ops with one sync. The key layout is documented in keys.go and is
// stable within FormatVersion.
//
// storage imports forge, op, crdt and identity; node and the tools above it
// import storage.
package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/fxamacker/cbor/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
)

// FormatVersion is the on-disk format this package writes. Opening an
// older store migrates it before anything else is written (migrate.go);
// a newer one is refused with ErrUnknownFormat. Format 4 may store a role
// state as a delta on another (roles.go), which format 3 readers would
// misread; it needs no rewrite of a format-3 store. Format 5 adds the
// full-text search index (search.go) and format 6 the inbox index
// (inbox.go), both built on opening an older store.
const FormatVersion = 6

// minFormatVersion is the oldest format this package reads.
const minFormatVersion = 1

// Errors.
var (
	// ErrUnknownFormat: the store was written by a newer murmur.
	ErrUnknownFormat = errors.New("storage: unknown store format")
	// ErrNotFound: no such op, repo or object.
	ErrNotFound = errors.New("not found")
	// ErrPendingFull: too many ops are waiting for dependencies; the op
	// was dropped and will come again with the next sync.
	ErrPendingFull = errors.New("storage: pending pool full")
	// ErrPeerQuota: the peer that delivered the op already has
	// Options.MaxPendingPerPeer ops pending; the op was dropped. A peer
	// that runs into it sends ops whose dependencies it cannot supply or
	// whose clocks are far ahead, which no honest peer does at that rate.
	ErrPeerQuota = errors.New("storage: peer's pending quota exhausted")
	// ErrAuthorQuota: the op's author already has
	// Options.MaxPendingPerAuthor ops pending; the op was dropped.
	ErrAuthorQuota = errors.New("storage: author's pending quota exhausted")
	// ErrCorrupt: a stored value does not decode.
	ErrCorrupt = errors.New("storage: corrupt value")
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// FS is the file system; nil means the OS file system. Tests use
	// vfs.NewMem().
	FS vfs.FS
	// MaxPending bounds the ops waiting for dependencies or parked for
	// their clock. When it is reached, a new op evicts the oldest pending
	// op of the peer holding the most, if that peer holds more than the
	// new op's; otherwise the new op is dropped. Default 100,000.
	MaxPending int
	// MaxPendingPerPeer and MaxPendingPerAuthor bound the pending ops
	// (waiting or parked) one delivering peer, and one author, may hold.
	// Default MaxPending/10 each.
	MaxPendingPerPeer   int
	MaxPendingPerAuthor int
	// MaxDrift is how far an op's clock may be ahead of local time before
	// it is parked until local time catches up. Default 10 minutes.
	MaxDrift time.Duration
	// Now returns the local time; default time.Now.
	Now func() time.Time
	// CacheSize is Pebble's block cache in bytes. Default 16 MiB: with
	// the memtables it is most of what a replica holds outside the Go heap,
	// and reads the cache misses come from the OS page cache.
	CacheSize int64
}

func (o *Options) withDefaults() Options {
	r := Options{}
	if o != nil {
		r = *o
	}
	if r.MaxPending <= 0 {
		r.MaxPending = 100_000
	}
	if r.MaxPendingPerPeer <= 0 {
		r.MaxPendingPerPeer = max(1, r.MaxPending/10)
	}
	if r.MaxPendingPerAuthor <= 0 {
		r.MaxPendingPerAuthor = max(1, r.MaxPending/10)
	}
	if r.MaxDrift <= 0 {
		r.MaxDrift = 10 * time.Minute
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.CacheSize <= 0 {
		r.CacheSize = 16 << 20
	}
	return r
}

// Store is a replica's persistent state. It is safe for concurrent use:
// writes are serialized, reads run concurrently with them. Close releases it.
type Store struct {
	dir  string
	opts Options

	// hmu guards db, fence, readers, swapping and closed; hcond signals
	// their changes. Writers, holding mu, use db directly; readers take
	// it with acquire, so that a failed database is closed only once they
	// are done with it (see reopen.go).
	hmu      sync.Mutex
	hcond    sync.Cond
	db       *pebble.DB
	fence    *fenceFS
	readers  int  // reads in flight on db
	swapping bool // db is being closed; new readers wait

	// mu serializes writers (Ingest, Create, Release, Rebuild, SetLocal)
	// and guards the write caches.
	mu     sync.Mutex
	wcache writeCache
	// known holds the first 8 bytes of every stored op ID, so that the
	// common question during ingest, "is this new op stored?", is answered
	// without a disk read (Pebble does not consult bloom filters on its
	// last level). A hit is confirmed with a read.
	known map[uint64]struct{}
	// pool indexes the ops in the 'p' table.
	pool pendingPool
	// inboxSeq is the seq of the newest inbox entry (inbox.go).
	inboxSeq uint64
	closed   bool // Close has run (also under hmu)
	// failure is the WriteError that stopped writes, nil while the store
	// writes; lastReopen is when it last tried to write again.
	failure    error
	lastReopen time.Time

	// rolesMu guards roles, a cache of decoded role states.
	rolesMu sync.Mutex
	roles   map[forge.RolesID]*forge.Roles
}

const maxCachedRoles = 4096

// writeCache keeps what recent transactions read and wrote, decoded, so
// that the next batch of ops on the same issues does not decode them again.
// Only writers use it, under Store.mu. Entries are exactly the committed
// state: a transaction that does not commit drops the whole cache.
type writeCache struct {
	metas    gen2[op.ID, forge.Meta]
	repos    map[op.ID]*forge.Repo
	objects  gen2[op.ID, *forge.Object]
	comments gen2[op.ID, *forge.Comment]
}

// Cache bounds, per generation (see gen2). They bound the memory a flood
// of ops leaves behind: a decoded object costs a few KiB (each register
// is a map), so 2×512 objects stay under 5 MiB; 2×4096 metas cover the
// parents of the next few batches.
const (
	maxCachedMetas    = 1 << 12
	maxCachedObjects  = 1 << 9
	maxCachedComments = 1 << 12
)

func (c *writeCache) drop() { *c = writeCache{} }

func (c *writeCache) init() {
	if c.repos == nil {
		*c = writeCache{
			metas:    newGen2[op.ID, forge.Meta](maxCachedMetas),
			repos:    map[op.ID]*forge.Repo{},
			objects:  newGen2[op.ID, *forge.Object](maxCachedObjects),
			comments: newGen2[op.ID, *forge.Comment](maxCachedComments),
		}
	}
}

var (
	encMode cbor.UserBufferEncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.EncOptions{}.UserBufferEncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		MaxArrayElements: 1 << 26,
		MaxMapPairs:      1 << 26,
		MaxNestedLevels:  32,
		// Set elements of keys are raw 32-byte strings; they are not UTF-8.
		UTF8: cbor.UTF8DecodeInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Open opens the store in dir, or creates it when dir holds no database.
// A directory that holds part of a database (tables but no MANIFEST, say)
// is never started afresh: Open fails with a *DamageError naming the
// missing file, before anything in dir is changed or deleted.
func Open(dir string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	fs := o.FS
	if fs == nil {
		fs = vfs.Default
	}
	exists, err := checkExisting(fs, dir)
	if err != nil {
		return nil, err
	}
	// A disk too full to open the store for writing opens it for reading.
	db, fence, failure, err := openFailSafe(dir, o, exists)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, db: db, fence: fence, opts: o, failure: failure, lastReopen: time.Now(), roles: map[forge.RolesID]*forge.Roles{}}
	s.hcond.L = &s.hmu
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	v, closer, err := db.Get(formatKey)
	writeFormat := false
	var ver uint64 // the store's format; 0 for a new store
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		// A store always has its format key: keys without it are what is
		// left of a damaged store, not a new one.
		if exists {
			if n, cerr := s.count(nil); cerr != nil {
				return nil, cerr
			} else if n > 0 {
				return nil, &DamageError{Dir: dir, Problem: "has lost its format version key although it holds data"}
			}
		}
		writeFormat = true
	case err != nil:
		return nil, damaged(dir, "read format version", err)
	default:
		var n int
		ver, n = binary.Uvarint(v)
		closer.Close()
		switch {
		case n <= 0:
			return nil, fmt.Errorf("storage: %s: format version key unreadable: %w", dir, ErrCorrupt)
		case ver > FormatVersion:
			return nil, fmt.Errorf("storage: %s has format %d, this murmur reads %d to %d; upgrade murmur: %w", dir, ver, minFormatVersion, FormatVersion, ErrUnknownFormat)
		case ver < minFormatVersion:
			return nil, fmt.Errorf("storage: %s has format %d, which no murmur wrote: %w", dir, ver, ErrUnknownFormat)
		}
		// Older formats are migrated; new writes use this one.
		writeFormat = ver < FormatVersion
	}
	if writeFormat && failure != nil {
		return nil, failure
	}
	if err := s.loadInboxSeq(); err != nil {
		return nil, err
	}
	if writeFormat {
		if ver < 3 { // formats 3 and 4 have the summaries already
			if err := s.migrateSummaries(); err != nil {
				return nil, err
			}
		}
		if err := s.migrateSearch(); err != nil {
			return nil, err
		}
		if err := s.backfillInbox(); err != nil {
			return nil, err
		}
		if err := db.Set(formatKey, binary.AppendUvarint(nil, FormatVersion), pebble.Sync); err != nil {
			return nil, fmt.Errorf("storage: write format version: %w", err)
		}
	}
	if err := s.loadIDs(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// loadIDs fills the in-memory ID sets from the 'c' and 'p' tables.
func (s *Store) loadIDs() error {
	s.known = map[uint64]struct{}{}
	s.pool = newPendingPool()
	err := s.scan([]byte{tagClock}, func(k, _ []byte) error {
		s.known[binary.BigEndian.Uint64(k[41:49])] = struct{}{}
		return nil
	})
	if err != nil {
		return err
	}
	return s.scan([]byte{tagPending}, func(k, v []byte) error {
		var id op.ID
		copy(id[:], k[1:])
		o, err := op.Trusted(v)
		if err != nil {
			return fmt.Errorf("storage: pending op %s: %v: %w", id.Short(), err, ErrCorrupt)
		}
		// Who delivered it is not kept: charge it to its author.
		s.pool.add(id, pendEntry{peer: o.Author, author: o.Author})
		return nil
	})
}

func idPrefix(id op.ID) uint64 { return binary.BigEndian.Uint64(id[:8]) }

// Close flushes nothing extra (every commit is already durable) and
// releases the store. Closing a closed store does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	// Readers still at work after drainTimeout may see errors; they do
	// not keep the store open.
	s.drain(drainTimeout)
	s.hmu.Lock()
	s.closed = true
	db := s.db
	s.hmu.Unlock()
	s.undrain()
	if db == nil {
		return nil
	}
	// Closing a fenced database fails on what it cannot write; every
	// acknowledged write is on disk all the same.
	if _, err := closeDB(db); err != nil && s.fence.failure() == nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// damaged is damaged for this store's directory.
func (s *Store) damaged(what string, err error) error { return damaged(s.dir, what, err) }

func (s *Store) count(prefix []byte) (int, error) {
	db, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, s.damaged("count", err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return 0, s.damaged("count", err)
	}
	return n, nil
}

// get returns a copy of the value at key, or ok=false.
func (s *Store) get(key []byte) ([]byte, bool, error) {
	db, err := s.acquire()
	if err != nil {
		return nil, false, err
	}
	defer s.release()
	v, closer, err := db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.damaged("get", err)
	}
	out := bytes.Clone(v)
	closer.Close()
	return out, true, nil
}

func (s *Store) has(key []byte) (bool, error) {
	db, err := s.acquire()
	if err != nil {
		return false, err
	}
	defer s.release()
	_, closer, err := db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, s.damaged("get", err)
	}
	closer.Close()
	return true, nil
}

// splitOpValue splits an 'o' value into meta and op bytes.
func splitOpValue(v []byte) (meta, raw []byte, err error) {
	meta, raw, ok := cutPrefixed(v)
	if !ok {
		return nil, nil, ErrCorrupt
	}
	return meta, raw, nil
}

// opValue makes an 'o' value: uvarint(len(meta)) ‖ meta ‖ op bytes.
func opValue(m *forge.Meta, raw []byte) []byte {
	n := metaLen(m)
	out := make([]byte, 0, uvarintLen(n)+n+len(raw))
	out = binary.AppendUvarint(out, uint64(n))
	out = appendMeta(out, m)
	return append(out, raw...)
}

// Meta returns what was recorded for a stored op.
func (s *Store) Meta(id op.ID) (forge.Meta, error) {
	v, ok, err := s.get(opKey(id))
	if err != nil {
		return forge.Meta{}, err
	}
	if !ok {
		return forge.Meta{}, fmt.Errorf("op %s: %w", id.Short(), ErrNotFound)
	}
	return decodeMeta(id, v)
}

func decodeMeta(id op.ID, v []byte) (forge.Meta, error) {
	mb, _, err := splitOpValue(v)
	if err != nil {
		return forge.Meta{}, fmt.Errorf("storage: op %s: %w", id.Short(), err)
	}
	m, err := parseMeta(mb)
	if err != nil {
		return forge.Meta{}, fmt.Errorf("storage: op %s meta: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return m, nil
}

// Op returns a stored op.
func (s *Store) Op(id op.ID) (*op.Op, error) {
	v, ok, err := s.get(opKey(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("op %s: %w", id.Short(), ErrNotFound)
	}
	_, raw, err := splitOpValue(v)
	if err != nil {
		return nil, fmt.Errorf("storage: op %s: %w", id.Short(), err)
	}
	o, err := op.Trusted(raw)
	if err != nil {
		return nil, fmt.Errorf("storage: op %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return o, nil
}

// OpsRaw returns the encodings of the stored ops of repo among ids, in the
// order of ids; ids that are unknown or of another repo are skipped. It
// reads them with one iterator in key order, which is much cheaper than a
// lookup per op when a peer asks for thousands.
func (s *Store) OpsRaw(repo op.ID, ids []op.ID) ([][]byte, error) {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(ids[a][:], ids[b][:]) })
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagOp}, UpperBound: []byte{tagOp + 1}})
	if err != nil {
		return nil, s.damaged("read", err)
	}
	found := make([][]byte, len(ids))
	for _, i := range order {
		k := opKey(ids[i])
		if !it.SeekPrefixGE(k) || !bytes.Equal(it.Key(), k) {
			continue
		}
		mb, raw, err := splitOpValue(it.Value())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("storage: op %s: %w", ids[i].Short(), err)
		}
		if r, err := metaRepo(mb); err != nil {
			it.Close()
			return nil, fmt.Errorf("storage: op %s meta: %v: %w", ids[i].Short(), err, ErrCorrupt)
		} else if r != repo {
			continue
		}
		found[i] = bytes.Clone(raw)
	}
	if err := it.Close(); err != nil {
		return nil, s.damaged("read", err)
	}
	out := found[:0]
	for _, b := range found {
		if b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// StoredOps returns about how many ops the store holds (applied, not
// pending), from memory: ops whose IDs share their first 8 bytes count
// once.
func (s *Store) StoredOps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.known)
}

// HasOp reports whether an op is stored (applied, not pending).
func (s *Store) HasOp(id op.ID) (bool, error) { return s.has(opKey(id)) }

// Pending returns the number of ops waiting for dependencies or parked.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.len()
}

func (s *Store) cachedRoles(id forge.RolesID) *forge.Roles {
	s.rolesMu.Lock()
	defer s.rolesMu.Unlock()
	return s.roles[id]
}

func (s *Store) cacheRoles(id forge.RolesID, r *forge.Roles) {
	s.rolesMu.Lock()
	defer s.rolesMu.Unlock()
	if len(s.roles) >= maxCachedRoles {
		clear(s.roles)
	}
	s.roles[id] = r
}

// loadRoles returns a stored role state.
func (s *Store) loadRoles(id forge.RolesID) (*forge.Roles, error) { return s.loadRolesVia(id, 0) }

// loadRolesVia is loadRoles for a state reached through hops deltas.
func (s *Store) loadRolesVia(id forge.RolesID, hops int) (*forge.Roles, error) {
	if r := s.cachedRoles(id); r != nil {
		return r, nil
	}
	v, ok, err := s.get(key1(tagRoles, id[:]))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("storage: role state %s: %w", id.String()[:8], ErrNotFound)
	}
	r, err := s.decodeRoles(id, v, hops)
	if err != nil {
		return nil, err
	}
	s.cacheRoles(id, r)
	return r, nil
}

// Repo returns the materialized state of a repo.
func (s *Store) Repo(id op.ID) (*forge.Repo, error) {
	v, ok, err := s.get(key1(tagRepo, id[:]))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("repo %s: %w", id.Short(), ErrNotFound)
	}
	r := &forge.Repo{}
	if err := decMode.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("storage: repo %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return r, nil
}

// Repos returns every repo in the store.
func (s *Store) Repos() ([]*forge.Repo, error) {
	var out []*forge.Repo
	err := s.scan([]byte{tagRepo}, func(k, v []byte) error {
		r := &forge.Repo{}
		if err := decMode.Unmarshal(v, r); err != nil {
			return fmt.Errorf("storage: repo: %v: %w", err, ErrCorrupt)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// Object returns the materialized state of an issue or patch, without its
// comments (see ObjectWithComments).
func (s *Store) Object(id op.ID) (*forge.Object, error) {
	o := &forge.Object{}
	found := false
	err := s.scan(key1(tagObject, id[:]), func(k, v []byte) error {
		if len(k) != 34 {
			return fmt.Errorf("storage: object %s: key of %d bytes: %w", id.Short(), len(k), ErrCorrupt)
		}
		f := forge.Fields(1) << k[33]
		if f == forge.FieldHeader {
			var h forge.ObjectHeader
			if err := decMode.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("storage: object %s header: %v: %w", id.Short(), err, ErrCorrupt)
			}
			o.SetHeader(h)
			found = true
			return nil
		}
		ptr := o.Field(f)
		if ptr == nil {
			return fmt.Errorf("storage: object %s: unknown part %d: %w", id.Short(), k[33], ErrCorrupt)
		}
		if err := decMode.Unmarshal(v, ptr); err != nil {
			return fmt.Errorf("storage: object %s part %d: %v: %w", id.Short(), k[33], err, ErrCorrupt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", id.Short(), ErrNotFound)
	}
	return o, nil
}

// Comment returns the state of a comment.
func (s *Store) Comment(id op.ID) (*forge.Comment, error) {
	m, err := s.Meta(id)
	if err != nil {
		return nil, err
	}
	return s.comment(m.Object, id)
}

func (s *Store) comment(obj, id op.ID) (*forge.Comment, error) {
	v, ok, err := s.get(commentKey(obj, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("comment %s: %w", id.Short(), ErrNotFound)
	}
	c := &forge.Comment{}
	if err := decMode.Unmarshal(v, c); err != nil {
		return nil, fmt.Errorf("storage: comment %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return c, nil
}

// LoadComments fills o.Comments with the object's comments.
func (s *Store) LoadComments(o *forge.Object) error {
	o.Comments = map[op.ID]*forge.Comment{}
	return s.scan(key1(tagComment, o.ID[:]), func(k, v []byte) error {
		c := &forge.Comment{}
		if err := decMode.Unmarshal(v, c); err != nil {
			return fmt.Errorf("storage: comment: %v: %w", err, ErrCorrupt)
		}
		o.Comments[c.ID] = c
		return nil
	})
}

// ObjectWithComments returns an issue or patch with its comments loaded.
func (s *Store) ObjectWithComments(id op.ID) (*forge.Object, error) {
	o, err := s.Object(id)
	if err != nil {
		return nil, err
	}
	if err := s.LoadComments(o); err != nil {
		return nil, err
	}
	return o, nil
}

// Summaries lists the issues or patches of a repo from the listing index.
// state filters by state ("" for all).
func (s *Store) Summaries(repo op.ID, typ forge.ObjectType, state string) ([]forge.Summary, error) {
	prefix := summaryPrefix(repo, typeCode(typ))
	if state != "" {
		prefix = append(prefix, stateCode(state))
	}
	var out []forge.Summary
	err := s.scan(prefix, func(k, v []byte) error {
		var sm forge.Summary
		if err := decMode.Unmarshal(v, &sm); err != nil {
			return fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
		}
		out = append(out, sm)
		return nil
	})
	return out, err
}

// CountObjects counts a repo's issues or patches in a state ("" for all)
// without decoding them.
func (s *Store) CountObjects(repo op.ID, typ forge.ObjectType, state string) (int, error) {
	prefix := summaryPrefix(repo, typeCode(typ))
	if state != "" {
		prefix = append(prefix, stateCode(state))
	}
	return s.count(prefix)
}

func (s *Store) scan(prefix []byte, f func(k, v []byte) error) error {
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return s.damaged("read", err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := f(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return s.damaged("read", err)
	}
	return nil
}

// Heads returns a repo's DAG heads: stored ops with no stored children.
func (s *Store) Heads(repo op.ID) ([]op.ID, error) {
	var out []op.ID
	err := s.scan(key1(tagHead, repo[:]), func(k, _ []byte) error {
		var id op.ID
		copy(id[:], k[33:])
		out = append(out, id)
		return nil
	})
	return out, err
}

// RolesAt returns the role state at a repo's current heads: who is a
// maintainer for an op made now.
func (s *Store) RolesAt(repo op.ID) (*forge.Roles, error) {
	if repo.IsZero() {
		return nil, fmt.Errorf("repo %s: %w", repo.Short(), ErrNotFound)
	}
	tip, err := s.tip(repo)
	if err != nil {
		return nil, err
	}
	return tip.Roles, nil
}

// ForEachOp calls f for each op of repo in (clock, ID) order.
func (s *Store) ForEachOp(repo op.ID, f func(clock crdt.Timestamp, id op.ID) error) error {
	return s.scan(key1(tagClock, repo[:]), func(k, _ []byte) error {
		var id op.ID
		copy(id[:], k[41:])
		return f(crdt.Timestamp(binary.BigEndian.Uint64(k[33:41])), id)
	})
}

// RecentOps returns up to limit of a repo's ops, newest (by clock) first.
func (s *Store) RecentOps(repo op.ID, limit int) ([]op.ID, error) {
	prefix := key1(tagClock, repo[:])
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, s.damaged("read", err)
	}
	var out []op.ID
	for it.Last(); it.Valid() && len(out) < limit; it.Prev() {
		var id op.ID
		copy(id[:], it.Key()[41:])
		out = append(out, id)
	}
	if err := it.Close(); err != nil {
		return nil, s.damaged("read", err)
	}
	return out, nil
}

// OpCount returns the number of stored ops of a repo.
func (s *Store) OpCount(repo op.ID) (int, error) { return s.count(key1(tagClock, repo[:])) }

// Resolve returns the stored ops whose hex ID starts with prefix and for
// which keep (if not nil) returns true.
func (s *Store) Resolve(prefix string, keep func(forge.Meta) bool) ([]op.ID, error) {
	prefix = strings.ToLower(prefix)
	lo, err := hexPrefixBytes(prefix)
	if err != nil {
		return nil, err
	}
	var out []op.ID
	err = s.scan(key1(tagOp, lo), func(k, v []byte) error {
		var id op.ID
		copy(id[:], k[1:])
		if len(prefix)%2 == 1 && id.String()[:len(prefix)] != prefix {
			return nil
		}
		if keep != nil {
			m, err := decodeMeta(id, v)
			if err != nil {
				return err
			}
			if !keep(m) {
				return nil
			}
		}
		out = append(out, id)
		if len(out) > 64 {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}

var errStop = errors.New("stop")

func hexPrefixBytes(p string) ([]byte, error) {
	if len(p) > 64 {
		return nil, fmt.Errorf("id %q is longer than 64 hex digits", p)
	}
	out := make([]byte, 0, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		hi, ok1 := unhex(p[i])
		lo, ok2 := unhex(p[i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("id %q is not hex", p)
		}
		out = append(out, hi<<4|lo)
	}
	if len(p)%2 == 1 {
		if _, ok := unhex(p[len(p)-1]); !ok {
			return nil, fmt.Errorf("id %q is not hex", p)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Local returns a local setting (nil when unset).
func (s *Store) Local(name string) ([]byte, error) {
	v, _, err := s.get(key1(tagLocal, []byte(name)))
	return v, err
}

// SetLocal durably stores a local setting; nil deletes it.
func (s *Store) SetLocal(name string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return err
	}
	k := key1(tagLocal, []byte(name))
	err := s.fence.guard(func() error {
		if value == nil {
			return s.db.Delete(k, pebble.Sync)
		}
		return s.db.Set(k, value, pebble.Sync)
	})
	// Pebble reports a failed commit to its logger, which fences the
	// database, and may return nil.
	if err != nil || s.fence.failure() != nil {
		return fmt.Errorf("storage: set %s: %w", name, s.failedLocked(err))
	}
	return nil
}

// LocalPrefix lists local settings whose names start with prefix.
func (s *Store) LocalPrefix(prefix string, f func(name string, value []byte) error) error {
	return s.scan(key1(tagLocal, []byte(prefix)), func(k, v []byte) error {
		return f(string(k[1:]), bytes.Clone(v))
	})
}

func typeCode(t forge.ObjectType) byte {
	switch t {
	case forge.TypeIssue:
		return 'i'
	case forge.TypePatch:
		return 'p'
	}
	return 0
}

func stateCode(s string) byte {
	switch s {
	case forge.StateOpen:
		return 'o'
	case forge.StateClosed:
		return 'c'
	case forge.StateDraft:
		return 'd'
	case forge.StateMerged:
		return 'm'
	}
	return '?'
}

// DiskUsage returns the bytes Pebble uses on disk.
func (s *Store) DiskUsage() uint64 {
	db, err := s.acquire()
	if err != nil {
		return 0
	}
	defer s.release()
	return db.Metrics().DiskSpaceUsage()
}

// Flush flushes memtables to sstables (for measurements).
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return err
	}
	if err := s.fence.guard(s.db.Flush); err != nil {
		return s.failedLocked(err)
	}
	return nil
}
