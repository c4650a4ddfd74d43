package localapi

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// TestMemConnConformance runs the x/net conformance suite for net.Conn
// (concurrent I/O, deadlines, close semantics) on the in-memory connection.
func TestMemConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ln := NewPipeListener()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				accepted <- c
			}
			close(accepted)
		}()
		c1, err = ln.Dial(context.Background())
		if err != nil {
			return nil, nil, nil, err
		}
		c2 = <-accepted
		stop = func() {
			c1.Close()
			c2.Close()
			ln.Close()
		}
		return c1, c2, stop, nil
	})
}

func TestPipeListenerClose(t *testing.T) {
	ln := NewPipeListener()
	const dialers = 8
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Nobody accepts: each Dial waits until Close.
			_, err := ln.Dial(context.Background())
			errs <- err
		}()
	}
	acceptErr := make(chan error, 1)
	ln2 := NewPipeListener()
	go func() {
		_, err := ln2.Accept()
		acceptErr <- err
	}()
	ln.Close()
	ln.Close() // twice is fine
	ln2.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Dial during Close = %v, want net.ErrClosed", err)
		}
	}
	if err := <-acceptErr; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept during Close = %v, want net.ErrClosed", err)
	}
	if _, err := ln.Dial(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close = %v, want net.ErrClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

func TestPipeDialContext(t *testing.T) {
	ln := NewPipeListener()
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ln.Dial(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a canceled context = %v, want context.Canceled", err)
	}
}

func TestPipeConcurrentDials(t *testing.T) {
	ln := NewPipeListener()
	defer ln.Close()
	const n = 32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c) // echo
			}()
		}
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ln.Dial(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			msg := make([]byte, 3*pipeBufferBytes+i) // more than the buffer holds
			for j := range msg {
				msg[j] = byte(i + j)
			}
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Error(err)
				return
			}
			if string(got) != string(msg) {
				t.Errorf("dial %d: echo differs", i)
			}
		}()
	}
	wg.Wait()
}

func TestMemConnClose(t *testing.T) {
	a, b := newMemConnPair()
	if _, err := a.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// The peer reads what was written, then EOF.
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "bye" {
		t.Errorf("peer ReadAll = %q, %v; want \"bye\", nil", got, err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write to a closed peer = %v, want io.ErrClosedPipe", err)
	}
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %v, want net.ErrClosed", err)
	}
	b.Close()
}

func TestMemConnDeadline(t *testing.T) {
	a, b := newMemConnPair()
	defer a.Close()
	defer b.Close()
	a.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	// http.Server relies on the error being a net.Error that times out.
	_, err := a.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("deadline error %v is not a timeout net.Error", err)
	}
	a.SetReadDeadline(time.Time{})
	go b.Write([]byte("k"))
	buf := make([]byte, 1)
	if _, err := a.Read(buf); err != nil || buf[0] != 'k' {
		t.Fatalf("Read after clearing the deadline = %q, %v", buf, err)
	}
	// A full buffer blocks a writer until its deadline.
	b.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	n, err := b.Write(make([]byte, 2*pipeBufferBytes))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != pipeBufferBytes {
		t.Fatalf("Write into a full buffer = %d, %v; want %d, os.ErrDeadlineExceeded", n, err, pipeBufferBytes)
	}
}
