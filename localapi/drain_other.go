//go:build !linux

package localapi

import "net"

// drain stops new connections by removing the socket file, and leaves the
// server's Accept drainDelay to serve the connections queued before.
func (l *socketListener) drain(func(net.Conn) error) error {
	err := l.unlink()
	drainSlowly()
	return err
}
