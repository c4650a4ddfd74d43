package mesh

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"murmur/identity"
)

// Stream is a bidirectional QUIC stream of one Kind on an authenticated
// connection. It implements net.Conn, so memberlist and other stream users
// can take it as is. Read and Write may be called concurrently with each
// other but not with themselves. Close releases it in both directions.
type Stream struct {
	qs   *quic.Stream
	conn *Conn
	kind Kind

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

var _ net.Conn = (*Stream)(nil)

func newStream(c *Conn, qs *quic.Stream, kind Kind) *Stream {
	return &Stream{qs: qs, conn: c, kind: kind, done: make(chan struct{})}
}

// Peer returns the verified identity of the remote end.
func (s *Stream) Peer() identity.PublicKey { return s.conn.peer }

// Kind returns the stream's kind.
func (s *Stream) Kind() Kind { return s.kind }

// Conn returns the connection the stream belongs to.
func (s *Stream) Conn() *Conn { return s.conn }

// Done is closed once Close has been called.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Read reads from the stream. After the peer finished writing it returns
// io.EOF. A stream the peer rejected for its kind fails with
// ErrUnsupportedKind.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.qs.Read(p)
	return n, s.mapErr(err)
}

// Write writes to the stream.
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.qs.Write(p)
	return n, s.mapErr(err)
}

// CloseWrite finishes the write direction: the peer reads io.EOF after the
// data written so far. Reading continues to work.
func (s *Stream) CloseWrite() error { return s.qs.Close() }

// Close finishes the write direction (data already written is still
// delivered) and abandons the read direction. It is safe to call more
// than once.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.qs.Close()
		s.qs.CancelRead(streamCodeClosed)
		close(s.done)
	})
	return s.closeErr
}

// LocalAddr returns the endpoint's UDP address.
func (s *Stream) LocalAddr() net.Addr { return s.conn.qc.LocalAddr() }

// RemoteAddr returns the peer's UDP address.
func (s *Stream) RemoteAddr() net.Addr { return s.conn.qc.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.qs.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.qs.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.qs.SetWriteDeadline(t) }

// mapErr turns a reset for an unknown kind into ErrUnsupportedKind and
// leaves every other error (notably io.EOF) untouched.
func (s *Stream) mapErr(err error) error {
	var se *quic.StreamError
	if err != nil && errors.As(err, &se) && se.Remote && se.ErrorCode == streamCodeUnknownKind {
		return fmt.Errorf("%w: peer has no handler for kind %d: %w", ErrUnsupportedKind, s.kind, err)
	}
	return err
}
