package localapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"murmur/api"
)

// shortTempDir returns a new directory whose path is short enough for a
// Unix socket (t.TempDir paths can exceed the ~108-byte sun_path limit).
func shortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "m")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// testCtx returns a context that ends with the test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serveHTTP serves h on ln until the test ends.
func serveHTTP(t testing.TB, ln net.Listener, h http.Handler) {
	t.Helper()
	hs := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
}

// transport makes a Client of svc served by the real handlers over one
// kind of connection.
type transport struct {
	name  string
	serve func(t testing.TB, svc api.Service, opts HandlerOptions) *Client
}

var transports = []transport{
	{"socket", serveSocket},
	{"pipe", servePipe},
}

func serveSocket(t testing.TB, svc api.Service, opts HandlerOptions) *Client {
	t.Helper()
	path := filepath.Join(shortTempDir(t), SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, ln, NewHandler(svc, opts))
	c := NewClient(DialSocket(path))
	t.Cleanup(func() { c.Close() })
	return c
}

func servePipe(t testing.TB, svc api.Service, opts HandlerOptions) *Client {
	t.Helper()
	ln := NewPipeListener()
	serveHTTP(t, ln, NewHandler(svc, opts))
	c := NewClient(ln.Dial)
	t.Cleanup(func() { c.Close() })
	return c
}

// wantCode fails the test unless err is an *api.Error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *api.Error with code %s", err, err, code)
	}
	if ae.Code != code {
		t.Fatalf("error code = %q (%v), want %q", ae.Code, err, code)
	}
}
