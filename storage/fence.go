package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// A failed write fences the Pebble database that made it.
//
// Pebble treats a failed WAL or MANIFEST write as fatal: it calls its
// logger's Fatalf and leaves the commit pipeline unusable, and it retries a
// failed flush at once, forever. So every Pebble database the store opens
// writes through a fenceFS. The first write, sync or file creation that
// fails closes the fence: from then on that database cannot change anything
// on disk (every write returns the first failure, and creating a file waits
// fencedRetryDelay first, so Pebble's flush retries do not spin), while its
// reads keep working. The store refuses writes on a fenced database and
// reopens the directory once space returns (see Store.writableLocked).

// ErrDiskFull matches a WriteError caused by a full disk.
var ErrDiskFull = errors.New("storage: disk full")

// ErrWriteFailed matches every WriteError.
var ErrWriteFailed = errors.New("storage: write failed")

// WriteError is a write the store could not make because the disk failed
// it. Nothing of the write is acknowledged: it is on disk entirely or not at
// all. The store keeps serving reads and resumes writing without a restart
// once the disk accepts writes again.
type WriteError struct {
	Dir string // the store's directory
	Err error  // the first failure, as the file system reported it
}

func (e *WriteError) Error() string {
	if isNoSpace(e.Err) {
		return fmt.Sprintf("disk full: free space on the disk holding %s; murmur will resume writing when space returns", e.Dir)
	}
	return fmt.Sprintf("storage: writing to %s failed (%v); murmur will retry when the disk accepts writes again", e.Dir, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Is matches ErrWriteFailed, and ErrDiskFull when the disk is full.
func (e *WriteError) Is(target error) bool {
	return target == ErrWriteFailed || (target == ErrDiskFull && isNoSpace(e.Err))
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// fencedRetryDelay is how long creating a file on a fenced database waits
// before failing; it paces Pebble's flush and compaction retries.
const fencedRetryDelay = 250 * time.Millisecond

// fenceFS is the file system of one Pebble database; see the comment at the
// top of this file.
type fenceFS struct {
	vfs.FS
	err atomic.Pointer[error] // the first failure; set once
	at  atomic.Int64          // when err was set, in Unix nanoseconds
}

var _ vfs.FS = (*fenceFS)(nil)

// failure returns the error that closed the fence, or nil.
func (f *fenceFS) failure() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

// fail closes the fence with err unless it is closed already, and returns
// the error that closed it.
func (f *fenceFS) fail(err error) error {
	if f.err.CompareAndSwap(nil, &err) {
		f.at.Store(time.Now().UnixNano())
	}
	return f.failure()
}

// check returns the fence's error when it is closed.
func (f *fenceFS) check() error { return f.failure() }

// note closes the fence when err is a write failure and returns err.
func (f *fenceFS) note(err error) error {
	if err != nil {
		f.fail(err)
	}
	return err
}

func (f *fenceFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if err := f.check(); err != nil {
		time.Sleep(fencedRetryDelay)
		return nil, err
	}
	file, err := f.FS.Create(name, c)
	if err != nil {
		return nil, f.note(err)
	}
	return &fenceFile{File: file, fs: f}, nil
}

func (f *fenceFS) Link(oldname, newname string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.note(f.FS.Link(oldname, newname))
}

func (f *fenceFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	file, err := f.FS.OpenReadWrite(name, c, opts...)
	if err != nil {
		if isNoSpace(err) {
			f.fail(err)
		}
		return nil, err
	}
	return &fenceFile{File: file, fs: f}, nil
}

func (f *fenceFS) OpenDir(name string) (vfs.File, error) {
	file, err := f.FS.OpenDir(name)
	if err != nil {
		return nil, err
	}
	return &fenceFile{File: file, fs: f}, nil
}

// Remove and RemoveAll are refused on a fenced database: what it thinks is
// obsolete may not be, and the next open removes what is.
func (f *fenceFS) Remove(name string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

func (f *fenceFS) RemoveAll(name string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.FS.RemoveAll(name)
}

func (f *fenceFS) Rename(oldname, newname string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.note(f.FS.Rename(oldname, newname))
}

func (f *fenceFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if err := f.check(); err != nil {
		time.Sleep(fencedRetryDelay)
		return nil, err
	}
	file, err := f.FS.ReuseForWrite(oldname, newname, c)
	if err != nil {
		return nil, f.note(err)
	}
	return &fenceFile{File: file, fs: f}, nil
}

func (f *fenceFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.note(f.FS.MkdirAll(dir, perm))
}

func (f *fenceFS) Unwrap() vfs.FS { return f.FS }

// fenceFile is a file of a fenceFS opened for writing.
type fenceFile struct {
	vfs.File
	fs *fenceFS
}

func (f *fenceFile) Write(p []byte) (int, error) {
	if err := f.fs.check(); err != nil {
		return 0, err
	}
	n, err := f.File.Write(p)
	return n, f.fs.note(err)
}

func (f *fenceFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(); err != nil {
		return 0, err
	}
	n, err := f.File.WriteAt(p, off)
	return n, f.fs.note(err)
}

func (f *fenceFile) Preallocate(off, n int64) error {
	if err := f.fs.check(); err != nil {
		return err
	}
	return f.fs.note(f.File.Preallocate(off, n))
}

func (f *fenceFile) Sync() error {
	if err := f.fs.check(); err != nil {
		return err
	}
	return f.fs.note(f.File.Sync())
}

func (f *fenceFile) SyncData() error {
	if err := f.fs.check(); err != nil {
		return err
	}
	return f.fs.note(f.File.SyncData())
}

func (f *fenceFile) SyncTo(n int64) (bool, error) {
	if err := f.fs.check(); err != nil {
		return false, err
	}
	full, err := f.File.SyncTo(n)
	return full, f.fs.note(err)
}

// fenceLogger is Pebble's logger for one database. Pebble calls Fatalf on
// failures it cannot undo (a failed commit, a failed MANIFEST write,
// corruption found in the background); Fatalf closes the database's fence
// instead of ending the process, so nothing more reaches the disk, and the
// store reports the failure to the write that sees it.
type fenceLogger struct{ fs *fenceFS }

func (fenceLogger) Infof(string, ...any)  {}
func (fenceLogger) Errorf(string, ...any) {}
func (l fenceLogger) Fatalf(format string, args ...any) {
	l.fs.fail(fmt.Errorf("pebble: "+format, args...))
}

// probeSize is how much free space a store needs, beyond its WALs, to
// open for writing: room for a new WAL and a memtable's flush.
const probeSize = 8 << 20

// roomToOpen reports whether the disk holding dir has room to open the
// store there for writing. Pebble flushes the WALs it replays while it
// opens, and waits for that flush, which it retries forever when the disk
// is full; so a store opens for writing only when the disk has room for
// its WALs and probeSize more.
func roomToOpen(fs vfs.FS, dir string) error {
	names, err := fs.List(dir)
	if err != nil {
		return nil // a new store; opening it reports what is wrong
	}
	var wals int64
	for _, n := range names {
		if strings.HasSuffix(n, ".log") {
			if fi, err := fs.Stat(fs.PathJoin(dir, n)); err == nil {
				wals += fi.Size()
			}
		}
	}
	need := wals + probeSize
	u, err := fs.GetDiskUsage(dir)
	if err != nil && wals == 0 {
		// Nothing to flush while opening: a full disk fails the open at
		// once, without a probe.
		return nil
	}
	if err != nil {
		return probeSpace(fs, dir, need)
	}
	if u.AvailBytes < uint64(need) {
		return &os.PathError{Op: "open", Path: dir, Err: syscall.ENOSPC}
	}
	return nil
}

// probeSpace reports whether dir has room for size bytes, by writing and
// removing a file of that size.
func probeSpace(fs vfs.FS, dir string, size int64) (err error) {
	name := fs.PathJoin(dir, "space-probe")
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, f.Close(), fs.Remove(name))
	}()
	buf := make([]byte, 64<<10)
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	return f.Sync()
}

// guard runs one Pebble write (a commit, a flush). Pebble panics where it
// cannot go on: closing or creating a WAL while it rotates the memtable,
// which a full disk makes fail inside the write that hits it. guard turns
// that panic into a failure of the fence, so the write gets an error and
// the process lives; the database that panicked takes no more writes and
// the store reopens the directory once the disk has room (reads go on).
func (f *fenceFS) guard(write func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = f.fail(fmt.Errorf("pebble: %v", r))
		}
	}()
	return write()
}
