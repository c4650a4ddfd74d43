package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"murmur/api"
)

func TestShouldReconnect(t *testing.T) {
	dial := func(err error) error {
		return fmt.Errorf("transport: %w", &dialError{&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", err)}})
	}
	tests := []struct {
		name   string
		method string
		err    error
		want   bool
	}{
		{"refused GET", "GET", dial(syscall.ECONNREFUSED), true},
		{"refused POST", "POST", dial(syscall.ECONNREFUSED), true},
		{"socket gone PATCH", "PATCH", dial(syscall.ENOENT), true},
		{"permission denied", "GET", dial(syscall.EACCES), false},
		{"client closed", "GET", &dialError{ErrClientClosed}, false},
		{"pipe closed", "GET", &dialError{net.ErrClosed}, false},
		{"EOF GET", "GET", fmt.Errorf("read: %w", io.EOF), true},
		{"reset GET", "GET", syscall.ECONNRESET, true},
		{"EOF POST", "POST", io.EOF, false},
		{"EOF PUT", "PUT", io.ErrUnexpectedEOF, false},
		{"canceled", "GET", context.Canceled, false},
	}
	c := NewClient(nil)
	c.reconnect = func(context.Context) (func(context.Context) (net.Conn, error), error) {
		return nil, errors.New("unused")
	}
	plain := NewClient(nil)
	for _, tt := range tests {
		if got := c.shouldReconnect(tt.method, tt.err); got != tt.want {
			t.Errorf("%s: shouldReconnect(%s, %v) = %v, want %v", tt.name, tt.method, tt.err, got, tt.want)
		}
		if plain.shouldReconnect(tt.method, tt.err) {
			t.Errorf("%s: a Client without Attach reconnects", tt.name)
		}
	}
}

func TestWriteLostMidRequest(t *testing.T) {
	// A server that takes a write and hangs up without answering: the
	// client does not retry and says the change may have been made.
	ln := NewPipeListener()
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Close()
			}()
		}
	}()
	c := NewClient(ln.Dial)
	defer c.Close()
	c.reconnect = func(context.Context) (func(context.Context) (net.Conn, error), error) {
		t.Error("reconnect called for a write that was sent")
		return nil, errors.New("no")
	}
	_, err := c.CreateRepo(testCtx(t), api.NewRepo{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "may or may not have been made") {
		t.Fatalf("CreateRepo = %v, want a 'may or may not have been made' error", err)
	}
}
