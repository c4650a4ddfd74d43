package gitstore

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// script is a stream whose reads return the given chunks in turn.
type script struct {
	reads [][]byte
	sent  bytes.Buffer
}

func (s *script) Write(p []byte) (int, error) { return s.sent.Write(p) }
func (s *script) Close() error                { return nil }
func (s *script) Read(p []byte) (int, error) {
	if len(s.reads) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.reads[0])
	s.reads = s.reads[1:]
	return n, nil
}

func TestMeterCountsAnsweredTurns(t *testing.T) {
	s := &script{reads: [][]byte{[]byte("caps"), []byte("refs"), []byte("pa"), []byte("ck")}}
	m := NewMeter(s)
	buf := make([]byte, 16)
	read := func() { t.Helper(); _, _ = m.Read(buf) }
	write := func(p string) { t.Helper(); _, _ = m.Write([]byte(p)) }
	read() // an advertisement nobody asked for
	write("ls-")
	write("refs") // one turn in two writes
	read()        // answered: 1
	write("fetch")
	read()        // answered: 2
	read()        // the rest of the same answer
	write("0000") // a closing flush, never answered
	if _, err := m.Read(buf); err != io.EOF {
		t.Fatalf("Read at the end = %v, want EOF", err)
	}
	want := Traffic{Sent: 16, Received: 12, RoundTrips: 2}
	if got := m.Traffic(); got != want {
		t.Errorf("Traffic() = %+v, want %+v", got, want)
	}
}

func TestMeterOnAFetch(t *testing.T) {
	server, client := newStore(t), newStore(t)
	w := newWork(t, server.git)
	w.commit("a", 1<<10)
	head := w.commit("b", 1<<10)
	w.push(server, "r", "refs/heads/main")

	ctx := testContext(t)
	cc, sc := net.Pipe()
	counted := &countingConn{Conn: cc}
	m := NewMeter(counted)
	served := make(chan error, 1)
	go func() { served <- server.ServeFetch(ctx, "r", sc) }()
	if err := client.Fetch(ctx, "r", m, []string{head}, Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	got := m.Traffic()
	if got.Received != counted.n.Load() || got.Sent == 0 {
		t.Errorf("Traffic() = %+v, want Received = %d bytes read and some sent", got, counted.n.Load())
	}
	// The serving side advertises unasked; git fetch of an object ID then
	// sends one fetch request, answered with the pack.
	if got.RoundTrips != 1 {
		t.Errorf("RoundTrips = %d, want 1 (one fetch request)", got.RoundTrips)
	}
}
