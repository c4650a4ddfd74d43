package localapi

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// pipeBufferBytes bounds the bytes in flight in one direction of an
// in-memory connection; a writer waits while the buffer is full.
const pipeBufferBytes = 64 << 10

// PipeListener is a net.Listener whose connections are in-memory pairs made
// by Dial: the local API of a node in this process, served by the same
// handlers as the socket, with no file system involved. It is safe for
// concurrent use; Close makes Accept and Dial fail with net.ErrClosed and
// leaves connections already made open (their owners close them).
type PipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

var _ net.Listener = (*PipeListener)(nil)

// NewPipeListener returns an open PipeListener.
func NewPipeListener() *PipeListener {
	return &PipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for a Dial and returns the server end of its connection.
func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Dial connects to the listener and returns the client end of a buffered,
// full-duplex in-memory connection with deadline support. It waits for
// Accept until ctx ends.
func (l *PipeListener) Dial(ctx context.Context) (net.Conn, error) {
	select {
	case <-l.done:
		return nil, &net.OpError{Op: "dial", Net: pipeNetwork, Addr: pipeAddr{}, Err: net.ErrClosed}
	default:
	}
	client, server := newMemConnPair()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: pipeNetwork, Addr: pipeAddr{}, Err: net.ErrClosed}
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: pipeNetwork, Addr: pipeAddr{}, Err: ctx.Err()}
	}
}

// hand makes Accept return c, a connection accepted elsewhere, so that the
// same server serves it; it fails with net.ErrClosed once l is closed.
func (l *PipeListener) hand(c net.Conn) error {
	select {
	case l.conns <- c:
		return nil
	case <-l.done:
		return net.ErrClosed
	}
}

// Close stops the listener. It is safe to call more than once.
func (l *PipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

// Addr returns the listener's address ("memory" network).
func (l *PipeListener) Addr() net.Addr { return pipeAddr{} }

const pipeNetwork = "memory"

type pipeAddr struct{}

func (pipeAddr) Network() string { return pipeNetwork }
func (pipeAddr) String() string  { return "murmur-localapi" }

// memPipe is one direction of an in-memory connection.
type memPipe struct {
	// mu guards every field below.
	mu  sync.Mutex
	buf bytes.Buffer // written, not yet read
	// eof is set when the writing end closed: reads drain buf, then EOF.
	eof bool
	// broken is set when the reading end closed: writes fail.
	broken bool
	// wake is closed and replaced whenever the state above changes.
	wake chan struct{}
}

func newMemPipe() *memPipe { return &memPipe{wake: make(chan struct{})} }

func (p *memPipe) changedLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// memConn is one end of an in-memory connection: it reads from rd and
// writes to wr, which are the peer's wr and rd.
type memConn struct {
	rd, wr        *memPipe
	readDeadline  deadline
	writeDeadline deadline
	closed        chan struct{}
	closeOnce     sync.Once
}

func newMemConnPair() (client, server *memConn) {
	a, b := newMemPipe(), newMemPipe()
	client = &memConn{rd: a, wr: b, closed: make(chan struct{})}
	server = &memConn{rd: b, wr: a, closed: make(chan struct{})}
	for _, c := range []*memConn{client, server} {
		c.readDeadline.init()
		c.writeDeadline.init()
	}
	return client, server
}

func (c *memConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Read implements net.Conn.
func (c *memConn) Read(b []byte) (int, error) {
	for {
		if c.isClosed() {
			return 0, net.ErrClosed
		}
		if c.readDeadline.expired() {
			return 0, os.ErrDeadlineExceeded
		}
		p := c.rd
		p.mu.Lock()
		if p.buf.Len() > 0 {
			n, _ := p.buf.Read(b)
			p.changedLocked()
			p.mu.Unlock()
			return n, nil
		}
		if p.eof {
			p.mu.Unlock()
			return 0, io.EOF
		}
		if len(b) == 0 {
			p.mu.Unlock()
			return 0, nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-c.closed:
		case <-c.readDeadline.wait():
		}
	}
}

// Write implements net.Conn. It returns when all of b is buffered for the
// peer, or with the count written so far and an error.
func (c *memConn) Write(b []byte) (int, error) {
	n := 0
	for {
		if c.isClosed() {
			return n, net.ErrClosed
		}
		if c.writeDeadline.expired() {
			return n, os.ErrDeadlineExceeded
		}
		p := c.wr
		p.mu.Lock()
		if p.broken {
			p.mu.Unlock()
			return n, io.ErrClosedPipe
		}
		if room := pipeBufferBytes - p.buf.Len(); room > 0 && n < len(b) {
			k := min(room, len(b)-n)
			p.buf.Write(b[n : n+k])
			n += k
			p.changedLocked()
		}
		if n == len(b) {
			p.mu.Unlock()
			return n, nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-c.closed:
		case <-c.writeDeadline.wait():
		}
	}
}

// Close implements net.Conn: the peer reads what was written, then EOF;
// its writes fail.
func (c *memConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.wr.mu.Lock()
		c.wr.eof = true
		c.wr.changedLocked()
		c.wr.mu.Unlock()
		c.rd.mu.Lock()
		c.rd.broken = true
		c.rd.buf.Reset()
		c.rd.changedLocked()
		c.rd.mu.Unlock()
		c.readDeadline.stop()
		c.writeDeadline.stop()
	})
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return pipeAddr{} }

func (c *memConn) SetDeadline(t time.Time) error {
	c.readDeadline.set(t)
	c.writeDeadline.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.readDeadline.set(t)
	return nil
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.set(t)
	return nil
}

// deadline is a settable point in time with a channel closed when it
// passes, so that blocked operations can select on it.
type deadline struct {
	// mu guards timer and ch.
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{} // closed when the deadline has passed
}

func (d *deadline) init() { d.ch = make(chan struct{}) }

// set moves the deadline; the zero time means none. Operations blocked on
// wait() see the change: a later deadline keeps the same open channel.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait for it to close ch
	}
	d.timer = nil
	closed := isClosedChan(d.ch)
	if t.IsZero() {
		if closed {
			d.ch = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.ch)
	}
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch
	}
	d.timer = nil
}

func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func (d *deadline) expired() bool { return isClosedChan(d.wait()) }

func isClosedChan(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
