package localapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Errors of ListenSocket, Serve, ServeNode and Attach.
var (
	// ErrDaemonRunning means a murmur node already answers on the socket.
	ErrDaemonRunning = errors.New("localapi: a murmur node is already serving this data directory")
	// ErrBusy means another process holds the data directory's lock but
	// does not answer on its socket (it is starting, stopping or stuck).
	ErrBusy = errors.New("localapi: another murmur process holds the data directory lock and does not answer on its socket")
	// ErrSocketPathTooLong means the socket path does not fit a Unix
	// socket address (about 104 to 108 bytes, depending on the system).
	ErrSocketPathTooLong = errors.New("localapi: socket path too long")
)

// probeTimeout bounds a connection attempt that asks whether a socket is
// live.
const probeTimeout = time.Second

// maxSocketPath is the longest path a Unix socket address holds, leaving
// room for the terminating NUL.
var maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1

func checkSocketPath(path string) error {
	if len(path) > maxSocketPath {
		return fmt.Errorf("%w: %q is %d bytes and this system allows %d; use a data directory with a shorter path",
			ErrSocketPathTooLong, path, len(path), maxSocketPath)
	}
	return nil
}

// ListenSocket listens on a Unix socket at path with mode 0600. The socket
// is bound in a private (0700) temporary directory beside path, made 0600,
// then renamed into place, so nobody else can connect in between; when that
// temporary name would be too long, it binds at path directly and relies on
// the parent directory (a data directory is 0700). A socket file left at
// path by a process that died is replaced; if something answers on it,
// ListenSocket returns ErrDaemonRunning. Closing the listener removes the
// socket file, if it is still the one created here.
//
// ListenSocket does not keep two processes from racing for the same path;
// Serve and ServeNode do, with the data directory's lock.
func ListenSocket(path string) (net.Listener, error) {
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	if err := clearStaleSocket(path); err != nil {
		return nil, err
	}
	ul, err := bindPrivate(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ul.Close()
		return nil, fmt.Errorf("localapi: stat socket: %w", err)
	}
	return &socketListener{UnixListener: ul, path: path, info: fi}, nil
}

// clearStaleSocket removes a socket file at path that nothing answers on.
func clearStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("localapi: stat socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("localapi: %s exists and is not a socket; move it away", path)
	}
	if live, err := socketAnswers(context.Background(), path); err != nil {
		return err
	} else if live {
		return fmt.Errorf("%w (socket %s)", ErrDaemonRunning, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localapi: remove stale socket: %w", err)
	}
	return nil
}

// socketAnswers reports whether something accepts connections on the
// socket at path: false when nothing is there or the file is stale
// (connection refused), an error when that cannot be told.
func socketAnswers(ctx context.Context, path string) (bool, error) {
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case err == nil:
		c.Close()
		return true, nil
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return false, nil
	case errors.Is(err, syscall.EAGAIN):
		return true, nil // listening, backlog full
	}
	return false, fmt.Errorf("localapi: probe socket %s: %w", path, err)
}

// bindPrivate creates the listening socket at path with mode 0600 (see
// ListenSocket).
func bindPrivate(path string) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	tmpDir, err := os.MkdirTemp(dir, ".sock")
	if err != nil {
		return nil, fmt.Errorf("localapi: create socket: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "s")
	if len(tmp) > maxSocketPath {
		return bindAt(path, path)
	}
	return bindAt(tmp, path)
}

// bindAt listens at tmp, makes the socket 0600 and renames it to path.
func bindAt(tmp, path string) (*net.UnixListener, error) {
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("localapi: listen on socket: %w", err)
	}
	ul.SetUnlinkOnClose(false)
	ok := false
	defer func() {
		if !ok {
			ul.Close()
			os.Remove(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o600); err != nil {
		return nil, fmt.Errorf("localapi: chmod socket: %w", err)
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("localapi: create socket: %w", err)
		}
	}
	ok = true
	return ul, nil
}

// socketListener removes its socket file on Close, and drains its queue
// of connections before (see drain).
type socketListener struct {
	*net.UnixListener
	path      string
	info      fs.FileInfo // of the socket file created
	closeOnce sync.Once
}

// drainDelay is how long a closing server keeps accepting, where it cannot
// tell that its queue of connections is empty.
const drainDelay = 100 * time.Millisecond

func drainSlowly() { time.Sleep(drainDelay) }

// Close stops listening and removes the socket file unless another has
// replaced it.
func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	if rerr := l.unlink(); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// unlink removes the socket file (once) unless another has replaced it,
// while the listener keeps accepting: new connects then fail to find the
// socket, which a client can safely retry, and connections already queued
// can still be accepted and served.
func (l *socketListener) unlink() error {
	var err error
	l.closeOnce.Do(func() {
		if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.info) {
			if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = fmt.Errorf("localapi: remove socket: %w", rerr)
			}
		}
	})
	return err
}
