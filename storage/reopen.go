package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// How a store survives a failed write (see fence.go): the write that hits it
// gets a WriteError, the fenced database keeps serving reads, and at most
// every reopenInterval a write (or Release) probes for free space and, when
// there is some, closes the fenced database and opens the directory again.
// Pebble replays its WAL on open, so every acknowledged write is there, and
// a write that was not acknowledged is there entirely or not at all.

const (
	// reopenInterval is the least time between two attempts to reopen a
	// failed store.
	reopenInterval = time.Second
	// drainTimeout bounds the wait for readers to finish with a database
	// being closed.
	drainTimeout = 5 * time.Second
	// closeTimeout bounds Pebble's Close. A database wedged by a failed
	// disk may never close; every acknowledged write is already on disk, so
	// the process may go on (or exit) without it.
	closeTimeout = 10 * time.Second
)

var (
	errClosed      = errors.New("storage: store is closed")
	errUnavailable = errors.New("storage: store unavailable after a failed write; restart murmur")
)

// openDB opens the Pebble database in dir behind a new fence. exists says
// dir already holds a store: Pebble must then never create one there.
func openDB(dir string, o Options, readOnly, exists bool) (*pebble.DB, *fenceFS, error) {
	base := o.FS
	if base == nil {
		base = vfs.Default
	}
	fence := &fenceFS{FS: base}
	cache := pebble.NewCache(o.CacheSize)
	popts := &pebble.Options{FS: fence, Cache: cache, Logger: fenceLogger{fence}, MemTableSize: 8 << 20, ReadOnly: readOnly,
		ErrorIfNotExists: exists,
		// A corrupt file is an error for the read that found it (see
		// damaged), not a crash of the process.
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}},
	}
	// Bloom filters on every level: most point lookups during ingest ask
	// for ops that are not there yet, and a filter answers those without
	// reading a block.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Op IDs are random, so every flush overlaps the whole key space and
	// every L0 compaction rewrites the base level. Letting L0 grow to 16
	// sublevels before compacting cuts that rewriting by half and more
	// (ingest: 38k → 45k ops/s); bloom filters keep point reads cheap.
	popts.L0CompactionThreshold = 16
	popts.L0StopWritesThreshold = 64
	popts.LBaseMaxBytes = 256 << 20
	// Opening for writing may hang in a flush that Pebble retries forever
	// if the disk fills while it opens; it is given up then, and leaks.
	type opened struct {
		db  *pebble.DB
		err error
	}
	done := make(chan opened, 1)
	go func() {
		db, err := pebble.Open(dir, popts)
		cache.Unref()
		done <- opened{db, err}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			if r.err != nil {
				if f := fence.failure(); f != nil {
					return nil, fence, &WriteError{Dir: dir, Err: f}
				}
				if errors.Is(r.err, pebble.ErrDBDoesNotExist) {
					return nil, fence, &DamageError{Dir: dir, Problem: "holds part of a store but not the files that describe it", Err: r.err}
				}
				if exists {
					return nil, fence, openFailure(dir, r.err)
				}
				return nil, fence, fmt.Errorf("storage: open %s: %w", dir, r.err)
			}
			return r.db, fence, nil
		case <-tick.C:
			if at := fence.at.Load(); at != 0 && time.Since(time.Unix(0, at)) > openGiveUp {
				go func() {
					if r := <-done; r.db != nil {
						_ = r.db.Close()
					}
				}()
				return nil, fence, &WriteError{Dir: dir, Err: fence.failure()}
			}
		}
	}
}

// openGiveUp is how long opening waits once a write it made has failed.
const openGiveUp = 5 * time.Second

// openFailSafe opens dir for writing or, when the disk fails the writes
// that opening makes, for reading; failure is then the WriteError.
func openFailSafe(dir string, o Options, exists bool) (db *pebble.DB, fence *fenceFS, failure error, err error) {
	base := o.FS
	if base == nil {
		base = vfs.Default
	}
	var we *WriteError
	if err := roomToOpen(base, dir); err != nil {
		we = &WriteError{Dir: dir, Err: err}
	} else {
		db, fence, err = openDB(dir, o, false, exists)
		if err == nil || !errors.As(err, &we) {
			return db, fence, nil, err
		}
	}
	db, fence, err = openDB(dir, o, true, exists)
	if err != nil {
		return nil, nil, nil, errors.Join(we, err)
	}
	return db, fence, we, nil
}

// acquire returns the database for a read; the caller calls s.release when
// it is done with it and everything it returned.
func (s *Store) acquire() (*pebble.DB, error) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	for s.swapping {
		s.hcond.Wait()
	}
	switch {
	case s.closed:
		return nil, errClosed
	case s.db == nil:
		return nil, errUnavailable
	}
	s.readers++
	return s.db, nil
}

func (s *Store) release() {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.readers--
	if s.readers == 0 {
		s.hcond.Broadcast()
	}
}

// drain stops new readers and waits up to timeout for the current ones to
// finish. It reports whether they did; undrain lets readers in again.
func (s *Store) drain(timeout time.Duration) bool {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.swapping = true
	deadline := time.Now().Add(timeout)
	wake := time.AfterFunc(timeout, func() {
		s.hmu.Lock()
		s.hcond.Broadcast()
		s.hmu.Unlock()
	})
	defer wake.Stop()
	for s.readers > 0 && time.Now().Before(deadline) {
		s.hcond.Wait()
	}
	return s.readers == 0
}

func (s *Store) undrain() {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.swapping = false
	s.hcond.Broadcast()
}

// setDB installs the database readers get, under hmu.
func (s *Store) setDB(db *pebble.DB, fence *fenceFS) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.db, s.fence = db, fence
}

// closeDB closes db, giving up after closeTimeout.
func closeDB(db *pebble.DB) (finished bool, err error) {
	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	select {
	case err := <-done:
		return true, err
	case <-time.After(closeTimeout):
		return false, fmt.Errorf("storage: close: pebble did not stop within %v", closeTimeout)
	}
}

// writableLocked returns nil when the store can take a write, and the
// WriteError that stopped writes otherwise. A failed store tries to reopen
// first, at most every reopenInterval. Writers call it, under mu, before
// they make a batch.
func (s *Store) writableLocked() error {
	if s.closed {
		return errClosed
	}
	if s.failure == nil {
		f := s.fence.failure()
		if f == nil {
			return nil
		}
		s.failure = &WriteError{Dir: s.dir, Err: f}
		s.lastReopen = time.Now()
		return s.failure
	}
	if time.Since(s.lastReopen) < reopenInterval {
		return s.failure
	}
	s.lastReopen = time.Now()
	if err := s.reopenLocked(); err != nil {
		return s.failure
	}
	return nil
}

// failedLocked records that a commit on the current database failed with
// err and returns the error for the writer. A failure the fence saw is a
// WriteError; any other is returned as it is.
func (s *Store) failedLocked(err error) error {
	f := s.fence.failure()
	if f == nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	if s.failure == nil {
		s.failure = &WriteError{Dir: s.dir, Err: f}
		s.lastReopen = time.Now()
	}
	return s.failure
}

// reopenLocked replaces a failed database with a newly opened one once the
// disk has room again. It returns nil when the store writes again.
func (s *Store) reopenLocked() error {
	base := s.opts.FS
	if base == nil {
		base = vfs.Default
	}
	if err := roomToOpen(base, s.dir); err != nil {
		return err
	}
	if !s.drain(drainTimeout) {
		s.undrain()
		return errors.New("storage: readers did not finish")
	}
	finished, err := closeDB(s.db)
	if !finished {
		s.failure = &WriteError{Dir: s.dir, Err: fmt.Errorf("%w; restart murmur", err)}
		s.setDB(nil, &fenceFS{})
		s.undrain()
		return err
	}
	db, fence, failure, err := openFailSafe(s.dir, s.opts, true)
	if err != nil {
		s.setDB(nil, &fenceFS{})
		s.fence.fail(err)
		s.failure = &WriteError{Dir: s.dir, Err: err}
		s.undrain()
		return err
	}
	s.setDB(db, fence)
	s.undrain()
	s.wcache.drop()
	s.rolesMu.Lock()
	clear(s.roles)
	s.rolesMu.Unlock()
	if err := s.loadIDs(); err != nil {
		s.fence.fail(err)
		s.failure = &WriteError{Dir: s.dir, Err: err}
		return err
	}
	if failure != nil {
		s.failure = failure
		return failure
	}
	s.failure = nil
	return nil
}

// syncFailed is the error of an ingest whose sync failed.
func (s *Store) syncFailed(err error) error {
	s.hmu.Lock()
	fence := s.fence
	s.hmu.Unlock()
	if f := fence.failure(); f != nil {
		return &WriteError{Dir: s.dir, Err: f}
	}
	return fmt.Errorf("storage: sync: %w", err)
}
