package gitstore

import (
	"io"
	"sync"
)

// Traffic is what one fetch session moved, as seen from the fetching
// side.
type Traffic struct {
	Sent     int64 // bytes sent to the serving side
	Received int64 // bytes received from it
	// RoundTrips counts exchanges: a turn of the fetching side (one or
	// more writes) that the serving side answered. Opening the session
	// (git's request line, or a stream header) is the first; a final
	// write that gets no answer, such as git's closing flush, is none.
	RoundTrips int
}

// Meter wraps the fetching side's end of a session stream and counts
// its Traffic. Reads and writes may run in different goroutines, as a
// relay runs them.
type Meter struct {
	rw io.ReadWriteCloser

	// mu guards t and asked.
	mu sync.Mutex
	t  Traffic
	// asked is set by a write and cleared by the first read after it:
	// a turn of the fetching side awaiting its answer.
	asked bool
}

// NewMeter returns a Meter over rw; closing the Meter closes rw.
func NewMeter(rw io.ReadWriteCloser) *Meter { return &Meter{rw: rw} }

// Write writes to the serving side.
func (m *Meter) Write(p []byte) (int, error) {
	n, err := m.rw.Write(p)
	if n > 0 {
		m.mu.Lock()
		m.t.Sent += int64(n)
		m.asked = true
		m.mu.Unlock()
	}
	return n, err
}

// Read reads from the serving side.
func (m *Meter) Read(p []byte) (int, error) {
	n, err := m.rw.Read(p)
	if n > 0 {
		m.mu.Lock()
		m.t.Received += int64(n)
		if m.asked {
			m.t.RoundTrips++
			m.asked = false
		}
		m.mu.Unlock()
	}
	return n, err
}

// Close closes the stream.
func (m *Meter) Close() error { return m.rw.Close() }

// Traffic returns what was counted so far.
func (m *Meter) Traffic() Traffic {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}
