package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"murmur/api"
)

// Attach timing.
const (
	// AttachWait bounds how long Attach waits for a process that holds the
	// data directory's lock to answer on its socket.
	AttachWait = 10 * time.Second
	// attachBackoffMax caps the pause between two attempts.
	attachBackoffMax = 100 * time.Millisecond
)

// AttachOptions configure Attach.
type AttachOptions struct {
	// Owner describes this process in the lock file while it runs the
	// node; its PID is filled in and its Role defaults to RoleCommand.
	// A terminal UI sets RoleInteractive, so that a daemon started
	// meanwhile says who keeps the store instead of waiting for it.
	Owner Owner
}

// backoff paces a retry loop: 5 ms, doubling up to attachBackoffMax.
type backoff struct{ d time.Duration }

// wait pauses for the next step, or until ctx ends.
func (b *backoff) wait(ctx context.Context) error {
	if b.d == 0 {
		b.d = 5 * time.Millisecond
	}
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, attachBackoffMax)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Attached is the node of a data directory as the CLI and the TUI use it:
// an api.Service that is a Client of either another process's socket or of
// a node this process started (see Attach). It is safe for concurrent use.
type Attached struct {
	// Service is the node. It is the *Client returned by Client.
	api.Service

	client *Client
	home   string
	start  func() (api.Service, func() error, error)
	owner  Owner

	// mu guards server and closed. It is held while reattaching.
	mu     sync.Mutex
	server *Server // non-nil while this process runs the node
	closed bool
}

// Attach returns a Service for the node of data directory home: the
// running daemon's or another murmur process's socket when one answers;
// otherwise it starts a node in this process with start(), serves it on the
// data directory's socket (so that a second murmur process talks to this
// one instead of failing on the store lock) and through an in-memory
// listener for this process. Close stops what Attach started: it stops
// accepting, waits for in-flight requests (http.Server.Shutdown with a
// timeout), removes the socket, calls the node's close function and
// releases the lock.
//
// The protocol, safe for processes started at the same moment: try the
// socket; if nothing answers and no daemon is pending (home/murmur.daemon
// is not locked, see ServeNode), take the store lock (home/murmur.lock,
// flock, without waiting) and record opts.Owner in it; if a daemon is
// pending or another process holds the lock, it is starting or stopping,
// so try again with backoff, for up to AttachWait (plus DefaultServeWait
// while a daemon is pending, which may itself be waiting for the store),
// and fail with ErrBusy after that. The lock holder calls start and
// serves.
//
// ctx bounds only the attaching; the node runs until Close. start is
// called at most once per attach, with the lock held; on error it cleans up
// after itself. The embedded server logs nothing: its errors reach the
// caller as api.Errors.
//
// When the process behind the socket goes away between two requests (its
// socket is gone or refuses connections), the next request attaches again,
// once, by the same protocol, which may start the node in this process, and
// is retried when that is safe: always if it was never sent, and for GETs
// when the connection broke before an answer. A write whose connection
// broke after sending is not retried (it may have been applied); its error
// says so by wrapping the transport error.
func Attach(ctx context.Context, home string, start func() (api.Service, func() error, error), opts AttachOptions) (*Attached, error) {
	if start == nil {
		return nil, errors.New("localapi: Attach needs a start function")
	}
	home, err := absHome(home)
	if err != nil {
		return nil, err
	}
	owner := opts.Owner.self(RoleCommand)
	dial, srv, err := attach(ctx, home, start, owner)
	if err != nil {
		return nil, err
	}
	a := &Attached{home: home, start: start, owner: owner, server: srv}
	a.client = NewClient(dial)
	a.client.reconnect = a.reconnect
	a.Service = a.client
	return a, nil
}

// attach runs the attach protocol and returns how to reach the node, and
// the Server when this process now runs it.
func attach(ctx context.Context, home string, start func() (api.Service, func() error, error), owner Owner) (func(context.Context) (net.Conn, error), *Server, error) {
	sock := filepath.Join(home, SocketName)
	if err := checkSocketPath(sock); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, nil, fmt.Errorf("localapi: create data directory: %w", err)
	}
	begin := time.Now()
	var b backoff
	for {
		live, err := socketAnswers(ctx, sock)
		if err != nil {
			return nil, nil, err
		}
		if live {
			return DialSocket(sock), nil, nil
		}
		pending, err := daemonPending(home)
		if err != nil {
			return nil, nil, err
		}
		wait := AttachWait
		if pending {
			wait += DefaultServeWait
		} else {
			lk, err := lockHome(home)
			if err == nil {
				srv, err := startOwned(home, lk, start, owner)
				if err != nil {
					return nil, nil, err
				}
				return srv.pipe.Dial, srv, nil
			}
			if !errors.Is(err, errLockBusy) {
				return nil, nil, err
			}
		}
		if waited := time.Since(begin); waited > wait {
			who := "a murmur process"
			if o, ok := readOwner(filepath.Join(home, LockName)); ok {
				who = o.String()
			}
			return nil, nil, fmt.Errorf("%w: waited %v for %s to answer on %s; if it is stuck, stop it",
				ErrBusy, waited.Round(time.Millisecond), who, sock)
		}
		if err := b.wait(ctx); err != nil {
			return nil, nil, fmt.Errorf("localapi: attach to %s: %w", home, err)
		}
	}
}

// startOwned records owner in the held store lock lk, then opens and
// serves the node (see startLocked). On error it releases lk.
func startOwned(home string, lk *dirLock, start func() (api.Service, func() error, error), owner Owner) (*Server, error) {
	if err := lk.writeOwner(owner); err != nil {
		lk.release()
		return nil, err
	}
	return startLocked(home, lk, start, HandlerOptions{})
}

// reconnect is the Client's reconnect hook: it attaches again after the
// process behind the socket went away.
func (a *Attached) reconnect(ctx context.Context) (func(context.Context) (net.Conn, error), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClientClosed
	}
	if a.server != nil {
		return nil, errors.New("localapi: the node runs in this process; there is nothing to reconnect to")
	}
	dial, srv, err := attach(ctx, a.home, a.start, a.owner)
	if err != nil {
		return nil, err
	}
	a.server = srv
	return dial, nil
}

// Embedded reports whether this process runs the node (it may change from
// false to true when the serving process went away and Attach reattached).
func (a *Attached) Embedded() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.server != nil
}

// Client returns the client behind Service.
func (a *Attached) Client() *Client { return a.client }

// Close stops what Attach started: later requests fail with
// ErrClientClosed and, when this process runs the node, the server stops
// (see Server.Close: socket removed, requests in flight finished, node
// closed, lock released). It is safe to call more than once.
func (a *Attached) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	srv := a.server
	a.mu.Unlock()
	a.client.Close()
	if srv != nil {
		return srv.Close()
	}
	return nil
}
