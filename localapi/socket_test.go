package localapi

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestListenSocketMode(t *testing.T) {
	dir := shortTempDir(t)
	// A permissive umask must not leak into the socket's mode.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(dir, SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		t.Errorf("%s is %v, want a socket", path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode = %o, want 600", perm)
	}
	// Nothing but the socket is left in the directory.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, SocketName)
	}
	// It accepts connections.
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial the socket: %v", err)
	}
	c.Close()
}

func TestListenSocketRemovedOnClose(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
}

func TestListenSocketCloseKeepsReplacement(t *testing.T) {
	// Close removes only the socket it created, not one put in its place.
	path := filepath.Join(shortTempDir(t), SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	other, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed another listener's socket: %v", err)
	}
}

// staleSocket leaves a socket file at path that nothing listens on, as a
// crashed process does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
}

func TestListenSocketStale(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	staleSocket(t, path)
	if _, err := net.Dial("unix", path); err == nil {
		t.Fatal("the stale socket answers")
	}
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatalf("ListenSocket over a stale socket: %v", err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial the new socket: %v", err)
	}
	c.Close()
}

func TestListenSocketLive(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = ListenSocket(path)
	if !errors.Is(err, ErrDaemonRunning) {
		t.Fatalf("second ListenSocket = %v, want ErrDaemonRunning", err)
	}
	// The live socket is untouched.
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("socket gone: %v", err)
	}
}

func TestListenSocketNotASocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenSocket(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("ListenSocket over a regular file = %v, want a 'not a socket' error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("the regular file was changed")
	}
}

func TestListenSocketTooLong(t *testing.T) {
	dir := shortTempDir(t)
	long := filepath.Join(dir, strings.Repeat("d", 200), SocketName)
	_, err := ListenSocket(long)
	if !errors.Is(err, ErrSocketPathTooLong) {
		t.Fatalf("ListenSocket(%d-byte path) = %v, want ErrSocketPathTooLong", len(long), err)
	}
	if !strings.Contains(err.Error(), "shorter") {
		t.Errorf("error %q does not say what to do", err)
	}
}

func TestListenSocketLongestPath(t *testing.T) {
	// A path of exactly the maximum length works, even though the private
	// temporary name beside it would be too long.
	dir := shortTempDir(t)
	name := strings.Repeat("s", maxSocketPath-len(dir)-1)
	path := filepath.Join(dir, name)
	if len(path) != maxSocketPath {
		t.Fatalf("test path is %d bytes, want %d", len(path), maxSocketPath)
	}
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket = %v, %v; want mode 600", fi, err)
	}
}
