//go:build unix

package localapi

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// errLockBusy means another open file description holds the lock.
var errLockBusy = errors.New("localapi: data directory lock is held")

// dirLock is an exclusive flock(2) on a file of the data directory
// (LockName or DaemonLockName). The kernel releases it when the process
// dies, so a crash never leaves a stale lock. The lock file itself is never
// removed: removing a flock file lets two processes each lock a different
// inode. While held, the file holds the holder's Owner record.
type dirLock struct{ f *os.File }

// lockHome takes the store lock of data directory home without waiting; it
// returns errLockBusy when another process (or another open of the file in
// this process) holds it.
func lockHome(home string) (*dirLock, error) {
	return lockFile(filepath.Join(home, LockName))
}

// lockDaemon takes the daemon lock of data directory home without waiting
// (errLockBusy when held).
func lockDaemon(home string) (*dirLock, error) {
	return lockFile(filepath.Join(home, DaemonLockName))
}

func lockFile(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localapi: open lock file: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockBusy
		}
		return nil, fmt.Errorf("localapi: lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// daemonPending reports whether a daemon holds the daemon lock of home:
// it is waiting for the store, opening it or serving. It takes a shared
// lock for a moment to tell, never waiting.
func daemonPending(home string) (bool, error) {
	path := filepath.Join(home, DaemonLockName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("localapi: open daemon lock file: %w", err)
	}
	defer f.Close()
	err = flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("localapi: probe %s: %w", path, err)
	}
	return false, nil // closing f drops the shared lock
}

// release clears the owner record and drops the lock.
func (l *dirLock) release() error {
	terr := l.f.Truncate(0)
	// Closing the only descriptor of the open file description drops the
	// flock; unlocking first makes that explicit.
	uerr := flock(l.f, syscall.LOCK_UN)
	cerr := l.f.Close()
	return errors.Join(wrapErr("clear owner record", terr), wrapErr("unlock", uerr), wrapErr("close lock file", cerr))
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("localapi: %s: %w", what, err)
}
