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

// dirLock is an exclusive flock(2) on home/LockName. The kernel releases it
// when the process dies, so a crash never leaves a stale lock. The lock
// file itself is never removed: removing a flock file lets two processes
// each lock a different inode.
type dirLock struct{ f *os.File }

// lockHome takes the lock of data directory home without waiting; it
// returns errLockBusy when another process (or another open of the file in
// this process) holds it.
func lockHome(home string) (*dirLock, error) {
	path := filepath.Join(home, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localapi: open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockBusy
		}
		return nil, fmt.Errorf("localapi: lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock.
func (l *dirLock) release() error {
	// Closing the only descriptor of the open file description drops the
	// flock; unlocking first makes that explicit.
	uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	cerr := l.f.Close()
	if uerr != nil {
		return fmt.Errorf("localapi: unlock: %w", uerr)
	}
	if cerr != nil {
		return fmt.Errorf("localapi: close lock file: %w", cerr)
	}
	return nil
}
