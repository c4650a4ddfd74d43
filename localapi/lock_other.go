//go:build !unix

package localapi

import (
	"errors"
	"os"
)

var errLockBusy = errors.New("localapi: data directory lock is held")

var errNoFlock = errors.New("localapi: serving a data directory needs a Unix system")

type dirLock struct{ f *os.File }

// lockHome is not supported on systems without flock(2).
func lockHome(home string) (*dirLock, error) { return nil, errNoFlock }

func lockDaemon(home string) (*dirLock, error) { return nil, errNoFlock }

func daemonPending(home string) (bool, error) { return false, nil }

func (l *dirLock) release() error { return nil }
