//go:build !unix

package localapi

import "errors"

var errLockBusy = errors.New("localapi: data directory lock is held")

type dirLock struct{}

// lockHome is not supported on systems without flock(2).
func lockHome(home string) (*dirLock, error) {
	return nil, errors.New("localapi: serving a data directory needs a Unix system")
}

func (l *dirLock) release() error { return nil }
