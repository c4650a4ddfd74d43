package localapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"murmur/api"
)

// starter returns a start function for Attach and ServeNode that opens a
// fake node named name and counts its calls and closes.
type starter struct {
	name   string
	starts atomic.Int32
	closes atomic.Int32
	// mu guards last.
	mu   sync.Mutex
	last *fakeService
}

func (s *starter) start() (api.Service, func() error, error) {
	s.starts.Add(1)
	f := newFake(s.name)
	s.mu.Lock()
	s.last = f
	s.mu.Unlock()
	return f, func() error {
		s.closes.Add(1)
		f.closeEvents()
		return nil
	}, nil
}

func (s *starter) node() *fakeService {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func homeStatus(t *testing.T, svc api.Service) string {
	t.Helper()
	st, err := svc.Status(testCtx(t))
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st.Home
}

func lockFree(t *testing.T, home string) bool {
	t.Helper()
	lk, err := lockHome(home)
	if errors.Is(err, errLockBusy) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	lk.release()
	return true
}

func socketExists(home string) bool {
	_, err := os.Lstat(filepath.Join(home, SocketName))
	return !errors.Is(err, fs.ErrNotExist)
}

func TestServe(t *testing.T) {
	home := shortTempDir(t)
	srv, err := Serve(testCtx(t), home, newFake("daemon"), ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if got, want := srv.SocketPath(), filepath.Join(home, SocketName); got != want {
		t.Errorf("SocketPath = %q, want %q", got, want)
	}
	// In process and over the socket.
	if got := homeStatus(t, srv.Client()); got != "daemon" {
		t.Errorf("Status through Client() = %q", got)
	}
	sc := NewClient(DialSocket(srv.SocketPath()))
	defer sc.Close()
	if got := homeStatus(t, sc); got != "daemon" {
		t.Errorf("Status through the socket = %q", got)
	}

	// A second server for the same home is refused, and opens no node.
	if _, err := Serve(testCtx(t), home, newFake("second"), ServeOptions{}); !errors.Is(err, ErrDaemonRunning) {
		t.Errorf("second Serve = %v, want ErrDaemonRunning", err)
	}
	st := &starter{name: "second"}
	if _, err := ServeNode(testCtx(t), home, st.start, ServeOptions{}); !errors.Is(err, ErrDaemonRunning) {
		t.Errorf("ServeNode = %v, want ErrDaemonRunning", err)
	}
	if n := st.starts.Load(); n != 0 {
		t.Errorf("ServeNode opened the node %d times while another served", n)
	}

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if socketExists(home) {
		t.Error("socket left after Close")
	}
	if !lockFree(t, home) {
		t.Error("lock held after Close")
	}
	if _, err := sc.Status(testCtx(t)); err == nil {
		t.Error("Status through the socket works after Close")
	}
}

// holdStore takes home's store lock as a process described by o would.
func holdStore(t *testing.T, home string, o Owner) *dirLock {
	t.Helper()
	lk, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := lk.writeOwner(o); err != nil {
		t.Fatal(err)
	}
	return lk
}

func TestServeBusy(t *testing.T) {
	home := shortTempDir(t)
	lk := holdStore(t, home, Owner{PID: 4242, Command: "murmur issue list", Role: RoleCommand})
	_, err := Serve(testCtx(t), home, newFake("x"), ServeOptions{Wait: 50 * time.Millisecond})
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrBusy) {
		t.Fatalf("Serve with the store held elsewhere = %v, want a *HeldError wrapping ErrBusy", err)
	}
	if held.Owner.PID != 4242 || !strings.Contains(err.Error(), "murmur issue list (pid 4242)") {
		t.Errorf("error %q does not name the holder", err)
	}
	lk.release()
	srv, err := Serve(testCtx(t), home, newFake("x"), ServeOptions{})
	if err != nil {
		t.Fatalf("Serve after the lock was released: %v", err)
	}
	srv.Close()
}

func TestServeRefusesInteractiveHolder(t *testing.T) {
	// A terminal UI keeps the store until the user quits: the daemon says
	// who holds it instead of waiting.
	home := shortTempDir(t)
	lk := holdStore(t, home, Owner{PID: 77, Command: "murmur (terminal UI)", Role: RoleInteractive})
	defer lk.release()
	st := &starter{name: "daemon"}
	_, err := ServeNode(testCtx(t), home, st.start, ServeOptions{Wait: time.Hour})
	var held *HeldError
	if !errors.As(err, &held) || held.Owner.Role != RoleInteractive {
		t.Fatalf("ServeNode = %v, want a *HeldError naming the terminal UI", err)
	}
	if !strings.Contains(err.Error(), "murmur (terminal UI) (pid 77)") {
		t.Errorf("error %q does not name the holder", err)
	}
	if st.starts.Load() != 0 {
		t.Error("the node was opened")
	}
	if pending, _ := daemonPending(home); pending {
		t.Error("a refused daemon kept the daemon lock")
	}
}

func TestServeWaitsForCommand(t *testing.T) {
	// A command holds the store when the daemon starts: the daemon waits
	// for it, and a command started meanwhile waits for the daemon's
	// socket instead of taking the store.
	home := shortTempDir(t)
	lk := holdStore(t, home, Owner{PID: 1, Command: "murmur status", Role: RoleCommand})
	daemon := &starter{name: "daemon"}
	type result struct {
		srv *Server
		err error
	}
	served := make(chan result, 1)
	go func() {
		srv, err := ServeNode(testCtx(t), home, daemon.start, ServeOptions{})
		served <- result{srv, err}
	}()
	waitFor(t, "the daemon to be pending", func() bool {
		pending, err := daemonPending(home)
		return err == nil && pending
	})
	cmd := &starter{name: "command"}
	attached := make(chan *Attached, 1)
	go func() {
		a, err := Attach(testCtx(t), home, cmd.start, AttachOptions{})
		if err != nil {
			t.Error(err)
		}
		attached <- a
	}()
	lk.release()
	r := <-served
	if r.err != nil {
		t.Fatalf("ServeNode: %v", r.err)
	}
	defer r.srv.Close()
	a := <-attached
	if a == nil {
		t.FailNow()
	}
	defer a.Close()
	if a.Embedded() || cmd.starts.Load() != 0 {
		t.Fatal("the command opened the store while a daemon was pending")
	}
	if got := homeStatus(t, a); got != "daemon" {
		t.Errorf("Status = %q, want the daemon's node", got)
	}
	if o, ok := readOwner(filepath.Join(home, LockName)); !ok || o.Role != RoleDaemon || o.PID != os.Getpid() {
		t.Errorf("store lock owner = %+v, %v; want this process as the daemon", o, ok)
	}
}

func TestServeStopsWaitingWithContext(t *testing.T) {
	home := shortTempDir(t)
	lk := holdStore(t, home, Owner{PID: 1, Role: RoleCommand})
	defer lk.release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := ServeNode(ctx, home, (&starter{}).start, ServeOptions{Wait: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ServeNode = %v, want context.DeadlineExceeded", err)
	}
}

func TestSocketDrainServesQueuedConnections(t *testing.T) {
	// Connections queued but not accepted when the server closes are
	// served, and later ones fail to connect (never sent).
	dir := shortTempDir(t)
	path := filepath.Join(dir, SocketName)
	ln, err := ListenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 5
	for i := range n {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "%d", i)
	}
	var got []string
	err = ln.(*socketListener).drain(func(c net.Conn) error {
		defer c.Close()
		b := make([]byte, 8)
		k, err := c.Read(b)
		if err != nil {
			return err
		}
		got = append(got, string(b[:k]))
		return nil
	})
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	if len(got) != n {
		t.Errorf("drain handed %d connections (%v), want %d", len(got), got, n)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Error("a connection was made after drain")
	}
}

func TestServeReplacesStaleSocket(t *testing.T) {
	home := shortTempDir(t)
	staleSocket(t, filepath.Join(home, SocketName))
	srv, err := Serve(testCtx(t), home, newFake("x"), ServeOptions{})
	if err != nil {
		t.Fatalf("Serve over a stale socket: %v", err)
	}
	defer srv.Close()
	sc := NewClient(DialSocket(srv.SocketPath()))
	defer sc.Close()
	if got := homeStatus(t, sc); got != "x" {
		t.Errorf("Status = %q", got)
	}
}

func TestServeNodeStartError(t *testing.T) {
	home := shortTempDir(t)
	boom := errors.New("store is corrupt")
	_, err := ServeNode(testCtx(t), home, func() (api.Service, func() error, error) {
		return nil, nil, boom
	}, ServeOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("ServeNode = %v, want it to wrap %v", err, boom)
	}
	if !lockFree(t, home) || socketExists(home) {
		t.Fatal("a failed ServeNode left the lock or the socket")
	}
	st := &starter{name: "ok"}
	srv, err := ServeNode(testCtx(t), home, st.start, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := st.closes.Load(); n != 1 {
		t.Errorf("node closed %d times, want 1", n)
	}
}

// gate is a node whose Status waits until released.
type gate struct {
	*fakeService
	entered chan struct{}
	release chan struct{}
}

func (g gate) Status(ctx context.Context) (api.Status, error) {
	close(g.entered)
	<-g.release
	return g.fakeService.Status(ctx)
}

func TestServerCloseWaitsForRequests(t *testing.T) {
	home := shortTempDir(t)
	g := gate{newFake("slow"), make(chan struct{}), make(chan struct{})}
	var nodeClosed atomic.Bool
	srv, err := ServeNode(testCtx(t), home, func() (api.Service, func() error, error) {
		return g, func() error { nodeClosed.Store(true); return nil }, nil
	}, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := NewClient(DialSocket(srv.SocketPath()))
	defer sc.Close()

	result := make(chan error, 1)
	go func() {
		_, err := sc.Status(context.Background())
		result <- err
	}()
	<-g.entered
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()

	// The socket goes away at once, so new processes stop coming ...
	waitFor(t, "the socket to be removed", func() bool { return !socketExists(home) })
	// ... but the node and the lock stay until the request finished.
	if nodeClosed.Load() {
		t.Fatal("node closed while a request was running")
	}
	if lockFree(t, home) {
		t.Fatal("lock released while a request was running")
	}
	close(g.release)
	if err := <-result; err != nil {
		t.Fatalf("request in flight during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !nodeClosed.Load() || !lockFree(t, home) {
		t.Fatal("Close did not close the node and release the lock")
	}
}

func TestServerCloseEndsEventStreams(t *testing.T) {
	home := shortTempDir(t)
	st := &starter{name: "n"}
	srv, err := ServeNode(testCtx(t), home, st.start, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := NewClient(DialSocket(srv.SocketPath()))
	defer sc.Close()
	remote, err := sc.Events(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	local, err := srv.Client().Events(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	drain(t, remote)
	drain(t, local)
}

func TestAttachEmbedded(t *testing.T) {
	home := shortTempDir(t)
	st := &starter{name: "embedded"}
	a, err := Attach(testCtx(t), home, st.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Embedded() {
		t.Fatal("the only process is not embedded")
	}
	if got := homeStatus(t, a); got != "embedded" {
		t.Errorf("Status = %q", got)
	}
	if !socketExists(home) {
		t.Error("an embedded node does not serve the socket")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if socketExists(home) || !lockFree(t, home) {
		t.Error("Close left the socket or the lock")
	}
	if n := st.closes.Load(); n != 1 {
		t.Errorf("node closed %d times, want 1", n)
	}
	if _, err := a.Status(testCtx(t)); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Status after Close = %v, want ErrClientClosed", err)
	}
}

func TestAttachConcurrent(t *testing.T) {
	home := shortTempDir(t)
	st := &starter{name: "shared"}
	const n = 4
	attached := make([]*Attached, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := Attach(testCtx(t), home, st.start, AttachOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			attached[i] = a
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var embedded *Attached
	for _, a := range attached {
		if a.Embedded() {
			if embedded != nil {
				t.Fatal("two Attach calls run a node")
			}
			embedded = a
		}
	}
	if embedded == nil {
		t.Fatal("no Attach call runs the node")
	}
	if got := st.starts.Load(); got != 1 {
		t.Fatalf("node started %d times, want 1", got)
	}
	// Every one reaches the same node, writes included.
	for i, a := range attached {
		if got := homeStatus(t, a); got != "shared" {
			t.Errorf("attach %d: Status = %q", i, got)
		}
		if _, err := a.CreateIssue(testCtx(t), "r", api.NewIssue{Title: fmt.Sprint(i)}); err != nil {
			t.Errorf("attach %d: CreateIssue: %v", i, err)
		}
	}
	if got := len(st.node().Calls()); got != 2*n {
		t.Errorf("the node saw %d calls, want %d", got, 2*n)
	}

	for _, a := range attached {
		if a != embedded {
			a.Close()
		}
	}
	if !socketExists(home) {
		t.Fatal("closing a remote Attached removed the socket")
	}
	if err := embedded.Close(); err != nil {
		t.Fatal(err)
	}
	if socketExists(home) {
		t.Fatal("socket left after the embedded node closed")
	}

	// The next one runs the node itself.
	a, err := Attach(testCtx(t), home, st.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.Embedded() {
		t.Error("Attach after Close is not embedded")
	}
	if got := st.starts.Load(); got != 2 {
		t.Errorf("node started %d times, want 2", got)
	}
}

func TestAttachWaitsForStartingProcess(t *testing.T) {
	// Another process holds the lock and is opening its node: Attach waits
	// for its socket instead of failing or opening the store.
	home := shortTempDir(t)
	lk, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	st := &starter{name: "late"}
	type result struct {
		a   *Attached
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := Attach(testCtx(t), home, st.start, AttachOptions{})
		done <- result{a, err}
	}()
	srv, err := serveLocked(home, lk, newFake("other"), HandlerOptions{})
	if err != nil {
		lk.release()
		t.Fatal(err)
	}
	defer srv.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("Attach: %v", r.err)
	}
	defer r.a.Close()
	if r.a.Embedded() || st.starts.Load() != 0 {
		t.Fatal("Attach opened a node while another process held the lock")
	}
	if got := homeStatus(t, r.a); got != "other" {
		t.Errorf("Status = %q, want the other process's node", got)
	}
}

func TestAttachGivesUpWithContext(t *testing.T) {
	home := shortTempDir(t)
	lk, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	st := &starter{name: "x"}
	_, err = Attach(ctx, home, st.start, AttachOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Attach = %v, want context.DeadlineExceeded", err)
	}
	if st.starts.Load() != 0 {
		t.Error("Attach opened the node without the lock")
	}
}

func TestAttachErrors(t *testing.T) {
	t.Run("start fails", func(t *testing.T) {
		home := shortTempDir(t)
		boom := errors.New("no space left")
		_, err := Attach(testCtx(t), home, func() (api.Service, func() error, error) { return nil, nil, boom }, AttachOptions{})
		if !errors.Is(err, boom) {
			t.Fatalf("Attach = %v, want it to wrap %v", err, boom)
		}
		if !lockFree(t, home) || socketExists(home) {
			t.Error("failed Attach left the lock or the socket")
		}
	})
	t.Run("home too long", func(t *testing.T) {
		home := filepath.Join(shortTempDir(t), strings.Repeat("h", 120))
		st := &starter{name: "x"}
		_, err := Attach(testCtx(t), home, st.start, AttachOptions{})
		if !errors.Is(err, ErrSocketPathTooLong) {
			t.Fatalf("Attach = %v, want ErrSocketPathTooLong", err)
		}
		if st.starts.Load() != 0 {
			t.Error("the node was started")
		}
	})
	t.Run("no start", func(t *testing.T) {
		if _, err := Attach(testCtx(t), shortTempDir(t), nil, AttachOptions{}); err == nil {
			t.Fatal("Attach with a nil start succeeded")
		}
	})
}

func TestAttachReattachesWhenServerGoes(t *testing.T) {
	home := shortTempDir(t)
	first := &starter{name: "first"}
	a1, err := Attach(testCtx(t), home, first.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second := &starter{name: "second"}
	a2, err := Attach(testCtx(t), home, second.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if a2.Embedded() {
		t.Fatal("second Attach is embedded")
	}
	if got := homeStatus(t, a2); got != "first" {
		t.Fatalf("Status = %q, want the first process's node", got)
	}
	if err := a1.Close(); err != nil {
		t.Fatal(err)
	}
	// A write whose connection cannot be made was never sent: it is
	// retried on the node a2 now runs.
	if _, err := a2.CreateRepo(testCtx(t), api.NewRepo{Name: "after"}); err != nil {
		t.Fatalf("CreateRepo after the server went away: %v", err)
	}
	if !a2.Embedded() {
		t.Fatal("a2 did not take over the node")
	}
	if got := homeStatus(t, a2); got != "second" {
		t.Errorf("Status = %q, want a2's own node", got)
	}
	if got := second.starts.Load(); got != 1 {
		t.Errorf("second node started %d times, want 1", got)
	}
	calls := second.node().Calls()
	if len(calls) == 0 || calls[0].Method != "CreateRepo" {
		t.Errorf("second node calls = %v, want the retried CreateRepo first", calls)
	}
}

func TestAttachConcurrentReattach(t *testing.T) {
	// Many requests fail at once when the server goes; one reattach
	// serves them all.
	home := shortTempDir(t)
	first := &starter{name: "first"}
	a1, err := Attach(testCtx(t), home, first.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second := &starter{name: "second"}
	a2, err := Attach(testCtx(t), home, second.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	a1.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a2.Repos(testCtx(t)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := second.starts.Load(); got != 1 {
		t.Errorf("node started %d times, want 1", got)
	}
}

// TestHelperProcess is not a test: TestAttachAcrossProcesses runs the test
// binary with LOCALAPI_HELPER_HOME set to make it a second murmur process.
func TestHelperProcess(t *testing.T) {
	home := os.Getenv("LOCALAPI_HELPER_HOME")
	if home == "" {
		t.Skip("helper process for TestAttachAcrossProcesses")
	}
	st := &starter{name: os.Getenv("LOCALAPI_HELPER_NAME")}
	a, err := Attach(context.Background(), home, st.start, AttachOptions{})
	if err != nil {
		fmt.Printf("error=%v\n", err)
		os.Exit(1)
	}
	fmt.Printf("embedded=%v\n", a.Embedded())
	io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	if err := a.Close(); err != nil {
		fmt.Printf("error=%v\n", err)
		os.Exit(1)
	}
}

// helper starts the test binary as another murmur process attached to
// home; closing the returned writer makes it Close and exit.
func helper(t *testing.T, home, name string) (stop func(), embedded bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LOCALAPI_HELPER_HOME="+home, "LOCALAPI_HELPER_NAME="+name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	stop = func() {
		if waited {
			return
		}
		waited = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	t.Cleanup(stop)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "embedded="); ok {
			go io.Copy(io.Discard, stdout)
			return stop, v == "true"
		}
		if strings.HasPrefix(line, "error=") {
			t.Fatalf("helper process: %s", line)
		}
	}
	t.Fatalf("helper process ended without attaching: %v", sc.Err())
	return nil, false
}

func TestAttachAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	home := shortTempDir(t)
	stop, childEmbedded := helper(t, home, "child")
	if !childEmbedded {
		t.Fatal("the first process is not embedded")
	}
	st := &starter{name: "parent"}
	a, err := Attach(testCtx(t), home, st.start, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Embedded() || st.starts.Load() != 0 {
		t.Fatal("the second process opened the node")
	}
	if got := homeStatus(t, a); got != "child" {
		t.Fatalf("Status = %q, want the child's node", got)
	}
	ch, err := a.Events(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}

	stop() // the child closes and exits
	drain(t, ch)
	if got := homeStatus(t, a); got != "parent" {
		t.Fatalf("Status after the child left = %q, want this process's node", got)
	}
	if !a.Embedded() {
		t.Error("Embedded() = false after taking over")
	}

	// And a third process now talks to this one.
	stop3, embedded3 := helper(t, home, "third")
	if embedded3 {
		t.Error("a third process started its own node")
	}
	stop3()
}
