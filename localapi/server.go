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
	serving  sync.WaitGroup // the http.Server.Serve goroutines

	// mu guards onClose and closing.
	mu      sync.Mutex
	onClose []func() error
	closing bool

	closeOnce sync.Once
	closeErr  error
}

// Serve makes this process the server of data directory home for the node
// svc: it takes the data directory's lock, listens on its socket (see
// ListenSocket) and serves NewHandler(svc, opts) there until Close. It
// returns an error wrapping ErrDaemonRunning when a node already answers on
// the socket, and ErrBusy when another process holds the lock without
// answering. ctx bounds only this setup.
//
// svc must already be open; prefer ServeNode, which takes the lock before
// opening the node, so that two processes never race for the store.
func Serve(ctx context.Context, home string, svc api.Service, opts HandlerOptions) (*Server, error) {
	home, err := absHome(home)
	if err != nil {
		return nil, err
	}
	lk, err := acquire(ctx, home)
	if err != nil {
		return nil, err
	}
	s, err := serveLocked(home, lk, svc, opts)
	if err != nil {
		lk.release()
		return nil, err
	}
	return s, nil
}

// ServeNode is Serve for a node it opens itself: it takes the lock, calls
// start to open the node, serves it, and has Close call the close function
// start returned (after the last request, before the lock is released). On
// error, start cleans up after itself; ServeNode releases the lock.
func ServeNode(ctx context.Context, home string, start func() (api.Service, func() error, error), opts HandlerOptions) (*Server, error) {
	if start == nil {
		return nil, errors.New("localapi: ServeNode needs a start function")
	}
	home, err := absHome(home)
	if err != nil {
		return nil, err
	}
	lk, err := acquire(ctx, home)
	if err != nil {
		return nil, err
	}
	return startLocked(home, lk, start, opts)
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

// acquire checks that nobody serves home and takes its lock.
func acquire(ctx context.Context, home string) (*dirLock, error) {
	sock := filepath.Join(home, SocketName)
	if err := checkSocketPath(sock); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("localapi: create data directory: %w", err)
	}
	live, err := socketAnswers(ctx, sock)
	if err != nil {
		return nil, err
	}
	if live {
		return nil, fmt.Errorf("%w (socket %s)", ErrDaemonRunning, sock)
	}
	lk, err := lockHome(home)
	if errors.Is(err, errLockBusy) {
		if live, _ := socketAnswers(ctx, sock); live {
			return nil, fmt.Errorf("%w (socket %s)", ErrDaemonRunning, sock)
		}
		return nil, fmt.Errorf("%w (%s)", ErrBusy, filepath.Join(home, LockName))
	}
	return lk, err
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
	}
	s.hs.RegisterOnShutdown(h.closeStreams)
	s.client = NewClient(s.pipe.Dial)
	for _, l := range []net.Listener{ln, s.pipe} {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("local api: serve stopped", "listener", l.Addr().String(), "err", err)
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

// Close stops serving: it removes the socket and stops accepting, ends
// event streams, waits up to ShutdownTimeout for requests in flight (then
// cuts them), calls the OnClose functions and releases the lock. It is safe
// to call more than once; later calls return the first one's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

// drainDelay is how long a closing server keeps accepting connections that
// were queued before its socket file was removed.
const drainDelay = 100 * time.Millisecond

func (s *Server) close() error {
	s.mu.Lock()
	s.closing = true
	fns := s.onClose
	s.onClose = nil
	s.mu.Unlock()

	var errs []error
	// Closing a listening socket resets connections the kernel queued but
	// the server had not accepted yet, and their clients cannot tell
	// whether a write was made. So first remove the socket file, which
	// stops new connections, and keep accepting for a moment to drain the
	// queue; only then close the listener.
	if sl, ok := s.sock.(*socketListener); ok {
		if err := sl.unlink(); err != nil {
			errs = append(errs, err)
		}
		time.Sleep(drainDelay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := s.hs.Shutdown(ctx); err != nil {
		s.log.Warn("local api: requests still running at shutdown; cutting them", "err", err)
		s.hs.Close()
	}
	s.serving.Wait()
	// Serve closes its listeners; closing again covers a Serve goroutine
	// that had not started when Shutdown ran.
	if err := s.sock.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	s.pipe.Close()
	s.client.Close()
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.lock.release(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
