package gitstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound one fetch.
type Limits struct {
	// MaxFetchBytes bounds what the peer may send in one fetch session,
	// pack included. Default 1 GiB.
	MaxFetchBytes int64
}

// DefaultLimits returns the limits used for zero-valued fields.
func DefaultLimits() Limits { return Limits{MaxFetchBytes: 1 << 30} }

func (l Limits) withDefaults() Limits {
	if l.MaxFetchBytes <= 0 {
		l.MaxFetchBytes = DefaultLimits().MaxFetchBytes
	}
	return l
}

// ErrTooLarge is matched by the error of a fetch whose peer sent more
// than Limits.MaxFetchBytes.
var ErrTooLarge = errors.New("gitstore: peer sent more than the fetch limit")

// ErrBadPack is matched by the error of a fetch whose peer sent a pack
// that git rejected: corrupt, failing fsck, or missing objects it had to
// hold. An honest peer never does; a refusal (an object the peer does
// not serve) or a broken connection is not a bad pack.
var ErrBadPack = errors.New("gitstore: peer sent a bad pack")

// badPack reports whether git fetch's standard error says the pack it
// received was bad, as opposed to the session failing.
func badPack(stderr string) bool {
	if strings.Contains(stderr, "remote error:") {
		// The peer refused (an ERR packet); its reason may quote git
		// ("bad object") but no pack came.
		return false
	}
	for _, s := range []string{"index-pack failed", "fsck error", "fsckObjects", "did not send all necessary objects", "bad object", "pack has bad object"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// requestLineTimeout bounds how long the loopback listener waits for git
// to send its request line.
const requestLineTimeout = 10 * time.Second

// Fetch fetches the objects wants (object IDs) and everything they reach
// into the repository of name, which it creates if needed, from the peer
// serving ServeFetch at the other end of rw. It checks every object
// received, changes no ref, and closes rw. On success every want is in
// the store.
func (s *Store) Fetch(ctx context.Context, name string, rw io.ReadWriteCloser, wants []string, lim Limits) error {
	defer rw.Close()
	lim = lim.withDefaults()
	if len(wants) == 0 {
		return nil
	}
	for _, w := range wants {
		if !oidRE.MatchString(w) {
			return fmt.Errorf("gitstore: fetch: %q is not an object ID", w)
		}
	}
	dir, err := s.Init(ctx, name)
	if err != nil {
		return err
	}

	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("gitstore: fetch: %w", err)
	}
	defer ln.Close()
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])

	relayCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &relay{peer: rw, limit: lim.MaxFetchBytes}
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		r.serve(relayCtx, ln, "/"+token)
	}()

	args := append([]string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-gc",
		"git://" + ln.Addr().String() + "/" + token}, wants...)
	cmd := s.git.command(ctx, dir, args...)
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	runErr := cmd.Run()
	_ = ln.Close()
	_ = rw.Close()
	cancel()
	<-relayDone

	if r.over.Load() {
		return fmt.Errorf("%w (%d bytes); the peer's pack was dropped", ErrTooLarge, lim.MaxFetchBytes)
	}
	if runErr != nil {
		err := gitError(args[:1], runErr, stderr)
		if badPack(stderr.String()) {
			err = fmt.Errorf("%w: %w", ErrBadPack, err)
		}
		return err
	}
	for _, w := range wants {
		ok, err := s.Has(ctx, name, w)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: the peer's pack did not hold %s", ErrMissing, w)
		}
	}
	return nil
}

// relay accepts git's one connection on the loopback listener and joins
// it to the peer's stream.
type relay struct {
	peer  io.ReadWriteCloser
	limit int64
	over  atomic.Bool
}

func (r *relay) serve(ctx context.Context, ln *net.TCPListener, path string) {
	for ctx.Err() == nil {
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		if !r.checkRequestLine(c, path) {
			// Not our git: another local process guessed the port.
			_ = c.Close()
			continue
		}
		_ = ln.Close()
		r.join(ctx, c)
		return
	}
}

// checkRequestLine reads git's first pkt-line,
// "git-upload-pack <path>\0host=...\0", and checks the path.
func (r *relay) checkRequestLine(c *net.TCPConn, path string) bool {
	_ = c.SetReadDeadline(time.Now().Add(requestLineTimeout))
	p, err := readPkt(c) // unbuffered: nothing after the line is consumed
	_ = c.SetReadDeadline(time.Time{})
	if err != nil || p.special >= 0 {
		return false
	}
	service, _, _ := strings.Cut(string(p.data), "\x00")
	return service == "git-upload-pack "+path
}

// join copies both ways until either side ends, cutting the peer off
// once it has sent more than the limit.
func (r *relay) join(ctx context.Context, c *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Add(2)
	stop := func() { _ = c.Close(); _ = r.peer.Close() }
	go func() {
		defer wg.Done()
		_, _ = io.Copy(r.peer, c)
		stop()
	}()
	go func() {
		defer wg.Done()
		n, _ := io.Copy(c, io.LimitReader(r.peer, r.limit+1))
		if n > r.limit {
			r.over.Store(true)
		}
		stop()
	}()
	go func() {
		<-ctx.Done()
		stop()
	}()
	wg.Wait()
}
