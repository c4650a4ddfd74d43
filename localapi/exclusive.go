package localapi

import (
	"errors"
	"fmt"
)

// LockHome takes the lock of data directory home, the one a node serving
// home holds, without waiting, for a tool that must be alone with the
// store while no node runs (murmur doctor). It fails with ErrBusy when a
// daemon or another command holds it. release drops the lock.
func LockHome(home string) (release func() error, err error) {
	home, err = absHome(home)
	if err != nil {
		return nil, err
	}
	lk, err := lockHome(home)
	if errors.Is(err, errLockBusy) {
		return nil, fmt.Errorf("%w: another murmur process uses %s", ErrBusy, home)
	}
	if err != nil {
		return nil, err
	}
	return lk.release, nil
}
