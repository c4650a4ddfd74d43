package localapi

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// drain stops new connections and hands every connection queued before to
// serve, without waiting a fixed time: it removes the socket file, then
// shuts the listening socket for reading, after which a connect is refused
// (ECONNREFUSED: never sent, safe to retry) while the queue stays; then it
// accepts what is queued until the queue is empty, which it then stays.
// The server's own Accept may take some of them meanwhile; those it
// serves as usual.
func (l *socketListener) drain(serve func(net.Conn) error) error {
	err := l.unlink()
	rc, serr := l.UnixListener.SyscallConn()
	if serr == nil {
		cerr := rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_RD) })
		serr = errors.Join(serr, cerr)
	}
	if serr != nil {
		drainSlowly()
		return err
	}
	for {
		var nfd int
		var aerr error
		cerr := rc.Control(func(fd uintptr) {
			for {
				nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
				if aerr != syscall.EINTR && aerr != syscall.ECONNABORTED {
					return
				}
			}
		})
		if cerr != nil || aerr == syscall.EAGAIN {
			return err
		}
		if aerr != nil {
			// Cannot accept (out of descriptors, say): keep the old
			// grace period for the server's own Accept.
			drainSlowly()
			return errors.Join(err, os.NewSyscallError("accept4", aerr))
		}
		f := os.NewFile(uintptr(nfd), l.path)
		c, ferr := net.FileConn(f)
		f.Close()
		if ferr == nil {
			ferr = serve(c)
		}
		if ferr != nil {
			if c != nil {
				c.Close()
			}
			return errors.Join(err, ferr)
		}
	}
}
