package localapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"murmur/api"
)

// Names of the files a server keeps in the data directory.
const (
	// SocketName is the local API's Unix socket.
	SocketName = "murmur.sock"
	// LockName is the file whose flock(2) marks the process that owns the
	// data directory. It is never removed.
	LockName = "murmur.lock"
)

// Server timeouts.
const (
	// ShutdownTimeout bounds how long Close waits for requests in flight
	// before cutting their connections.
	ShutdownTimeout   = 5 * time.Second
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// Server serves a node's local API on the data directory's socket and,
// for its own process, through an in-memory listener, while holding the
// data directory's lock. Make one with Serve or ServeNode; Close stops it.
type Server struct {
	home     string
	sockPath string
	lock     *dirLock
	sock     net.Listener
	pipe     *PipeListener
	hs       *http.Server
	h        *handler
	log      *slog.Logger
	client   *Client
	daemon   *dirLock       // the daemon lock, held by Serve and ServeNode
	serving  sync.WaitGroup // the http.Server.Serve goroutines
	conns    connTracker    // connections that have a request to serve

	// mu guards onClose and closing.
	mu      sync.Mutex
	onClose []func() error
	closing bool

	closeOnce sync.Once
	closeErr  error
}

// DefaultServeWait is how long Serve and ServeNode wait, by default, for
// a short-lived command to release the store.
const DefaultServeWait = 15 * time.Second

// ServeOptions configure Serve and ServeNode.
type ServeOptions struct {
	HandlerOptions
	// Owner describes this process in the lock files; its PID is filled
	// in and its Role is RoleDaemon.
	Owner Owner
	// Wait bounds how long to wait for another process to release the
	// store: 0 means DefaultServeWait, a negative value not to wait. A
	// terminal UI holding the store is never waited for.
	Wait time.Duration
}

// Serve makes this process the daemon of data directory home for the
// node svc: it takes the data directory's locks, listens on its socket
// (see ListenSocket) and serves NewHandler(svc, opts.HandlerOptions) there
// until Close. It returns a *RunningError (wrapping ErrDaemonRunning) when
// another daemon serves or is starting, and a *HeldError (wrapping ErrBusy) when
// another process keeps the store. ctx bounds only this setup.
//
// svc must already be open; prefer ServeNode, which takes the lock before
// opening the node, so that two processes never race for the store.
func Serve(ctx context.Context, home string, svc api.Service, opts ServeOptions) (*Server, error) {
	home, err := absHome(home)
	if err != nil {
		return nil, err
	}
	dl, lk, err := acquire(ctx, home, opts)
	if err != nil {
		return nil, err
	}
	s, err := serveLocked(home, lk, svc, opts.HandlerOptions)
	if err != nil {
		lk.release()
		dl.release()
		return nil, err
	}
	s.daemon = dl
	return s, nil
}

// ServeNode is Serve for a node it opens itself: it takes the locks, calls
// start to open the node, serves it, and has Close call the close function
// start returned (after the last request, before the locks are released).
// On error, start cleans up after itself; ServeNode releases the locks.
//
// The protocol, with Attach's: ServeNode first takes the daemon lock
// (home/murmur.daemon), so that commands started from then on wait for its
// socket instead of taking the store; then it takes the store lock
// (home/murmur.lock), waiting up to opts.Wait for a command that holds it
// to finish. Both files hold the holder's Owner record, which names the
// process in errors.
func ServeNode(ctx context.Context, home string, start func() (api.Service, func() error, error), opts ServeOptions) (*Server, error) {
	if start == nil {
		return nil, errors.New("localapi: ServeNode needs a start function")
	}
	home, err := absHome(home)
	if err != nil {
		return nil, err
	}
	dl, lk, err := acquire(ctx, home, opts)
	if err != nil {
		return nil, err
	}
	s, err := startLocked(home, lk, start, opts.HandlerOptions)
	if err != nil {
		dl.release()
		return nil, err
	}
	s.daemon = dl
	return s, nil
}

// absHome makes home absolute, so that the socket stays reachable if the
// process changes its working directory.
func absHome(home string) (string, error) {
	if home == "" {
		return "", errors.New("localapi: no data directory given")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("localapi: data directory: %w", err)
	}
	return abs, nil
}

// daemonLockWait bounds how long acquire retries the daemon lock, which
// commands hold shared for an instant to see whether a daemon is pending.
const daemonLockWait = 500 * time.Millisecond

// acquire takes the daemon lock, then the store lock of home, waiting for
// a command that holds the store (see ServeNode).
func acquire(ctx context.Context, home string, opts ServeOptions) (*dirLock, *dirLock, error) {
	sock := filepath.Join(home, SocketName)
	if err := checkSocketPath(sock); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, nil, fmt.Errorf("localapi: create data directory: %w", err)
	}
	me := opts.Owner.self(RoleDaemon)
	me.Role = RoleDaemon
	start := time.Now()
	var b backoff
	var daemon, store *dirLock
	for {
		var err error
		daemon, err = lockDaemon(home)
		if err == nil {
			break
		}
		if !errors.Is(err, errLockBusy) {
			return nil, nil, err
		}
		// A command probing the lock holds it for an instant; a daemon
		// that serves has a record and answers.
		o, ok := readOwner(filepath.Join(home, DaemonLockName))
		if ok {
			ok, _ = socketAnswers(ctx, sock)
		}
		if ok || time.Since(start) > daemonLockWait {
			return nil, nil, &RunningError{Owner: o}
		}
		if err := b.wait(ctx); err != nil {
			return nil, nil, fmt.Errorf("localapi: serve %s: %w", home, err)
		}
	}
	ok := false
	defer func() {
		if !ok {
			daemon.release()
		}
	}()
	if err := daemon.writeOwner(me); err != nil {
		return nil, nil, err
	}
	wait := opts.Wait
	if wait == 0 {
		wait = DefaultServeWait
	}
	start = time.Now()
	b = backoff{}
	for {
		var err error
		store, err = lockHome(home)
		if err == nil {
			break
		}
		if !errors.Is(err, errLockBusy) {
			return nil, nil, err
		}
		holder, _ := readOwner(filepath.Join(home, LockName))
		if holder.Role == RoleInteractive || time.Since(start) >= wait {
			return nil, nil, &HeldError{Owner: holder, Waited: time.Since(start)}
		}
		if err := b.wait(ctx); err != nil {
			return nil, nil, fmt.Errorf("localapi: serve %s: waiting for %s to release the store: %w", home, holder, err)
		}
	}
	if err := store.writeOwner(me); err != nil {
		store.release()
		return nil, nil, err
	}
	ok = true
	return daemon, store, nil
}

// startLocked opens the node with start and serves it; lk is held. On
// error it releases lk.
func startLocked(home string, lk *dirLock, start func() (api.Service, func() error, error), opts HandlerOptions) (*Server, error) {
	svc, closeNode, err := start()
	if err != nil {
		lk.release()
		return nil, fmt.Errorf("localapi: start node: %w", err)
	}
	if svc == nil {
		lk.release()
		return nil, errors.New("localapi: start node: start returned no service")
	}
	s, err := serveLocked(home, lk, svc, opts)
	if err != nil {
		if closeNode != nil {
			closeNode()
		}
		lk.release()
		return nil, err
	}
	if closeNode != nil {
		s.OnClose(closeNode)
	}
	return s, nil
}

// serveLocked listens and serves; lk is held and, on success, owned by the
// returned Server. On error the caller still owns lk.
func serveLocked(home string, lk *dirLock, svc api.Service, opts HandlerOptions) (*Server, error) {
	sockPath := filepath.Join(home, SocketName)
	ln, err := ListenSocket(sockPath)
	if err != nil {
		return nil, err
	}
	h := newHandler(svc, opts)
	s := &Server{
		home:     home,
		sockPath: sockPath,
		lock:     lk,
		sock:     ln,
		pipe:     NewPipeListener(),
		h:        h,
		log:      h.opts.Logger,
	}
	s.hs = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(h.opts.Logger.Handler(), slog.LevelWarn),
		ConnState:         s.conns.track,
	}
	s.client = NewClient(s.pipe.Dial)
	for _, l := range []net.Listener{ln, s.pipe} {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				s.mu.Lock()
				closing := s.closing
				s.mu.Unlock()
				if !closing {
					s.log.Error("local api: serve stopped", "listener", l.Addr().String(), "err", err)
				}
			}
		}()
	}
	s.log.Debug("local api: serving", "socket", sockPath)
	return s, nil
}

// Client returns a Client for this process that reaches the node through
// the in-memory listener. Close closes it.
func (s *Server) Client() *Client { return s.client }

// SocketPath returns the path of the Unix socket served.
func (s *Server) SocketPath() string { return s.sockPath }

// OnClose registers f to be called by Close after the last request ended
// and before the data directory's lock is released, in reverse order of
// registration: the place to close the node. Registered after Close
// started, f is called at once.
func (s *Server) OnClose(f func() error) {
	s.mu.Lock()
	if !s.closing {
		s.onClose = append(s.onClose, f)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if err := f(); err != nil {
		s.log.Error("local api: close", "err", err)
	}
}

// Close stops serving: it removes the socket and stops accepting, serves
// the connections already made, ends event streams, waits up to
// ShutdownTimeout for requests in flight (then cuts them), calls the OnClose functions and releases the lock. It is safe
// to call more than once; later calls return the first one's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	s.mu.Lock()
	s.closing = true
	fns := s.onClose
	s.onClose = nil
	s.mu.Unlock()

	var errs []error
	// Answers from now on close their connection.
	s.hs.SetKeepAlivesEnabled(false)
	// Closing a listening socket resets connections the kernel queued but
	// the server had not accepted yet, and their clients cannot tell
	// whether a write was made. So first stop new connections (they fail
	// to connect, which a client can safely retry) and serve every
	// connection already queued; only then close the listener.
	if sl, ok := s.sock.(*socketListener); ok {
		if err := sl.drain(s.pipe.hand); err != nil {
			errs = append(errs, err)
		}
	}
	// http.Server.Shutdown drops a request it reads after it started, so
	// it is not used: close the listeners, then wait for every accepted
	// connection to have been answered (or for its client to go away).
	if err := s.sock.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	s.pipe.Close()
	s.serving.Wait() // every accepted connection is tracked now
	s.h.closeStreams()
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := s.conns.wait(ctx); err != nil {
		s.log.Warn("local api: requests still running at shutdown; cutting them", "err", err)
	}
	s.hs.Close()
	s.client.Close()
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.lock.release(); err != nil {
		errs = append(errs, err)
	}
	if s.daemon != nil {
		if err := s.daemon.release(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// connTracker counts the connections of an http.Server that are not idle:
// accepted and not yet answered, or answering.
type connTracker struct {
	// mu guards busy and quiet.
	mu   sync.Mutex
	busy map[net.Conn]struct{}
	// quiet is closed when busy becomes empty; nil while it is.
	quiet chan struct{}
}

// track is the http.Server's ConnState hook.
func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.busy == nil {
		t.busy = make(map[net.Conn]struct{})
	}
	switch st {
	case http.StateNew, http.StateActive:
		if len(t.busy) == 0 {
			t.quiet = make(chan struct{})
		}
		t.busy[c] = struct{}{}
	default: // idle, hijacked, closed
		if _, ok := t.busy[c]; !ok {
			return
		}
		delete(t.busy, c)
		if len(t.busy) == 0 {
			close(t.quiet)
			t.quiet = nil
		}
	}
}

// wait returns when no connection is busy, or ctx's error.
func (t *connTracker) wait(ctx context.Context) error {
	t.mu.Lock()
	quiet := t.quiet
	t.mu.Unlock()
	if quiet == nil {
		return nil
	}
	select {
	case <-quiet:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
