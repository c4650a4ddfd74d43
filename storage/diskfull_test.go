package storage_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

// fullDisk is an in-memory file system whose writes fail with ENOSPC while
// it is full. Removing files and closing them still work, as on a real disk.
type fullDisk struct {
	full atomic.Bool
	fs   vfs.FS
}

func newFullDisk() *fullDisk {
	d := &fullDisk{}
	d.fs = errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(o errorfs.Op) error {
		if !d.full.Load() || o.Kind.ReadOrWrite() != errorfs.OpIsWrite {
			return nil
		}
		switch o.Kind {
		case errorfs.OpRemove, errorfs.OpRemoveAll, errorfs.OpFileClose, errorfs.OpLock:
			return nil
		}
		return &os.PathError{Op: "write", Path: o.Path, Err: syscall.ENOSPC}
	}))
	return d
}

// untilWrites retries write until it succeeds, for at most a minute: a
// failed store reopens on a write once space has returned.
func untilWrites(t *testing.T, write func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := write()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume after space returned: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantDiskFull(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrDiskFull) || !strings.Contains(err.Error(), "disk full: free space on") {
		t.Fatalf("%s on a full disk: err = %v, want a disk-full error", what, err)
	}
}

func TestDiskFullWrites(t *testing.T) {
	disk := newFullDisk()
	s := open(t, disk.fs, nil)
	f := newFixture(t, s)
	var acked []op.ID
	for i := range 20 {
		acked = append(acked, mustCreate(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("before %d", i)}))
	}
	peer := testKey(t, 9)
	g := genesis(t, peer, "synced")
	remote := chain(t, peer, g, 40)
	ingest(t, s, append([]*op.Op{g}, remote[:20]...)...)

	disk.full.Store(true)
	_, err := create(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "while full"})
	wantDiskFull(t, "Create", err)
	_, err = s.Ingest(remote[20:])
	wantDiskFull(t, "Ingest", err)
	wantDiskFull(t, "SetLocal", s.SetLocal("alias", []byte("x")))

	// Reads keep working.
	for _, id := range append(acked, f.issue) {
		if _, err := s.Object(id); err != nil {
			t.Fatalf("Object(%s) on a full disk: %v", id.Short(), err)
		}
	}
	if n, err := s.OpCount(g.ID()); err != nil || n < 21 {
		t.Fatalf("OpCount on a full disk = %d, %v; want at least 21", n, err)
	}

	// Readers keep reading while the store reopens once space returns.
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Object(f.issue); err != nil {
				readErr <- err
				return
			}
			if _, err := s.Summaries(f.repo, forge.TypeIssue, ""); err != nil {
				readErr <- err
				return
			}
		}
	}()
	disk.full.Store(false)
	untilWrites(t, func() error {
		_, err := create(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "after"})
		return err
	})
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatalf("a read while the store reopened: %v", err)
	}
	acked = append(acked, mustCreate(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "after 2"}))
	ingest(t, s, remote[20:]...)
	if err := s.SetLocal("alias", []byte("x")); err != nil {
		t.Fatalf("SetLocal after space returned: %v", err)
	}

	before := takeSnapshot(t, s)
	for _, id := range acked {
		if _, err := s.Op(id); err != nil {
			t.Errorf("acknowledged op %s: %v", id.Short(), err)
		}
	}
	if n, err := s.OpCount(g.ID()); err != nil || n != 41 {
		t.Errorf("OpCount(synced repo) = %d, %v; want 41", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = open(t, disk.fs, nil)
	if d := diffSnapshots(before, takeSnapshot(t, s)); d != "" {
		t.Errorf("store after reopening differs (-before +after):\n%s", d)
	}
}

// TestDiskFullOpen opens a store on a full disk, as a short-lived command
// does: it reads, refuses writes with a clear error, and writes once space
// returns.
func TestDiskFullOpen(t *testing.T) {
	disk := newFullDisk()
	s := open(t, disk.fs, nil)
	f := newFixture(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	disk.full.Store(true)
	s = open(t, disk.fs, nil)
	if _, err := s.Object(f.issue); err != nil {
		t.Fatalf("Object on a store opened on a full disk: %v", err)
	}
	_, err := create(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "while full"})
	wantDiskFull(t, "Create", err)

	disk.full.Store(false)
	var id op.ID
	untilWrites(t, func() error {
		a, err := create(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "after"})
		id = a.ID
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, disk.fs, nil)
	if _, err := s.Object(id); err != nil {
		t.Fatalf("op written after space returned, after reopening: %v", err)
	}
}

// A write too large for the memtable it finds, on a full disk, gets a
// disk-full error, and reads go on.
func TestDiskFullLargeWrite(t *testing.T) {
	disk := newFullDisk()
	s := open(t, disk.fs, nil)
	value := make([]byte, 1<<20)
	for i := range 6 {
		if err := s.SetLocal(fmt.Sprintf("big/%d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	disk.full.Store(true)
	err := s.SetLocal("big/last", make([]byte, 3<<20))
	wantDiskFull(t, "a large write", err)
	if v, err := s.Local("big/0"); err != nil || len(v) != len(value) {
		t.Errorf("read after the failed rotation: %d bytes, %v", len(v), err)
	}
}
