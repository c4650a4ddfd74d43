package mesh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"murmur/identity"
	"murmur/merkle"
)

// SyncReport is the outcome of one anti-entropy session with one peer
// for one repo, as seen by this node.
type SyncReport struct {
	Peer identity.PublicKey
	Repo [32]byte
	// Sent and Received count the ops transferred each way.
	Sent, Received int
	// RoundTrips counts the reconciliation messages both ways divided by
	// two (merkle.Stats.RoundTrips); the op transfer that follows adds
	// half a round trip. Zero when the roots were known to be equal.
	RoundTrips float64
	// OverheadBytes is every byte of the session's stream, both ways,
	// except the encoded ops themselves: hello, status, reconciliation
	// messages, framing.
	OverheadBytes int
	// InSync says the peer's gossiped root equaled ours, so no session
	// was needed.
	InSync bool
	// Duration is the session's wall time.
	Duration time.Duration
	// Err is why the session failed, if it did.
	Err error
}

// syncCall is a session in flight, shared by the callers that ask for the
// same peer and repo meanwhile. An outbound one is started once it has
// opened its stream.
type syncCall struct {
	done    chan struct{}
	rep     SyncReport
	started bool // guarded by Node.mu
}

// SyncWith reconciles repo with peer now, both ways, and returns what
// moved. If a session with the same peer and repo is already running it
// waits for that one and returns its report. The returned error is the
// report's Err.
func (n *Node) SyncWith(ctx context.Context, id identity.PublicKey, repo [32]byte) (SyncReport, error) {
	key := pairKey{id, repo}
	n.mu.Lock()
	call := n.calls[key]
	if call == nil {
		call = n.serving[key] // the peer's session moves everything both ways
	}
	if call == nil {
		call = &syncCall{done: make(chan struct{})}
		n.calls[key] = call
		n.mu.Unlock()
		n.runCall(ctx, key, call)
	} else {
		n.mu.Unlock()
	}
	select {
	case <-call.done:
		return call.rep, call.rep.Err
	case <-ctx.Done():
		rep := SyncReport{Peer: id, Repo: repo, Err: fmt.Errorf("mesh: sync: %w", ctx.Err())}
		return rep, rep.Err
	}
}

func (n *Node) runCall(ctx context.Context, key pairKey, call *syncCall) {
	defer func() {
		n.mu.Lock()
		delete(n.calls, key)
		n.mu.Unlock()
		close(call.done)
	}()
	start := time.Now()
	call.rep = n.initiate(ctx, key.peer, key.repo, call)
	var refused *RefusedError
	// A busy peer is usually still finishing the previous session of the
	// pair (or at its session limit for a moment): try again shortly, a
	// few times, rather than report a sync that a second later works.
	for wait := busyRetry; errors.As(call.rep.Err, &refused) && refused.Status == SyncBusy && wait <= busyRetryMax; wait *= 2 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
		call.rep = n.initiate(ctx, key.peer, key.repo, call)
	}
	if errors.As(call.rep.Err, &refused) && refused.Status == SyncCrossed {
		if rep, ok := n.awaitServing(ctx, key); ok {
			call.rep = rep
			call.rep.Duration = time.Since(start)
		}
	}
}

// busyRetry and busyRetryMax bound the retries of a session the peer
// refused as busy: 100, 200 and 400 ms.
const (
	busyRetry    = 100 * time.Millisecond
	busyRetryMax = 400 * time.Millisecond
)

// crossedWait bounds how long a caller whose session was refused as
// crossed waits for the peer's session to arrive.
const crossedWait = 10 * time.Second

// awaitServing waits for the inbound session from key's peer for key's
// repo to start and finish, and returns its report.
func (n *Node) awaitServing(ctx context.Context, key pairKey) (SyncReport, bool) {
	timer := time.NewTimer(crossedWait)
	defer timer.Stop()
	for {
		n.mu.Lock()
		call, note := n.serving[key], n.servingNote
		n.mu.Unlock()
		if call != nil {
			select {
			case <-call.done:
				return call.rep, true
			case <-ctx.Done():
				return SyncReport{}, false
			}
		}
		select {
		case <-note:
		case <-timer.C:
			return SyncReport{}, false
		case <-ctx.Done():
			return SyncReport{}, false
		}
	}
}

// autoSync starts a session in the background unless one with the same
// peer and repo is running or the peer's session rate is exhausted.
func (n *Node) autoSync(id identity.PublicKey, repo [32]byte) {
	key := pairKey{id, repo}
	n.mu.Lock()
	if n.calls[key] != nil || n.serving[key] != nil || n.ctx.Err() != nil {
		n.mu.Unlock()
		return
	}
	p := n.peerLocked(id)
	if time.Now().Before(p.penaltyTill) || !p.syncLimit.Allow() {
		n.mu.Unlock()
		return
	}
	call := &syncCall{done: make(chan struct{})}
	n.calls[key] = call
	n.wg.Add(1)
	n.mu.Unlock()
	go func() {
		defer n.wg.Done()
		n.runCall(n.ctx, key, call)
		if err := call.rep.Err; err != nil {
			n.log.Debug("automatic sync failed", "peer", id.Short(), "repo", shortID(repo), "err", err)
		}
	}()
}

// SyncAll runs one anti-entropy round: every followed repo with every
// live member that follows it (or whose state is not known yet), up to
// four sessions at a time. A pair whose gossiped roots are equal is
// reported InSync without a session. Reports come in no particular
// order; the error is ctx's, if it ended the round.
func (n *Node) SyncAll(ctx context.Context) ([]SyncReport, error) {
	type job struct {
		peer identity.PublicKey
		repo [32]byte
	}
	var jobs []job
	var reports []SyncReport
	repos := n.r.Followed()
	n.mu.Lock()
	for id, p := range n.peers {
		if !p.member || time.Now().Before(p.penaltyTill) {
			continue
		}
		for _, repo := range repos {
			if p.repos != nil {
				d, ok := p.repos[repo]
				if !ok {
					continue
				}
				if root, ok := n.r.Root(repo); ok && digestOf(root) == d {
					reports = append(reports, SyncReport{Peer: id, Repo: repo, InSync: true})
					continue
				}
			}
			jobs = append(jobs, job{id, repo})
		}
	}
	n.mu.Unlock()

	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return reports, fmt.Errorf("mesh: sync all: %w", ctx.Err())
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			rep, _ := n.SyncWith(ctx, j.peer, j.repo)
			mu.Lock()
			reports = append(reports, rep)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return reports, fmt.Errorf("mesh: sync all: %w", err)
	}
	return reports, nil
}

// countingStream counts the bytes of a stream both ways.
type countingStream struct {
	s        *Stream
	in, out  atomic.Int64
	opsBytes atomic.Int64 // encoded op bytes, both ways
}

func (c *countingStream) Read(p []byte) (int, error) {
	k, err := c.s.Read(p)
	c.in.Add(int64(k))
	return k, err
}

func (c *countingStream) Write(p []byte) (int, error) {
	k, err := c.s.Write(p)
	c.out.Add(int64(k))
	return k, err
}

// initiate runs the initiator side of a session.
func (n *Node) initiate(ctx context.Context, id identity.PublicKey, repo [32]byte, call *syncCall) (rep SyncReport) {
	rep = SyncReport{Peer: id, Repo: repo}
	start := time.Now()
	defer func() {
		rep.Duration = time.Since(start)
		if rep.Err != nil {
			n.stats.sessionsFailed.Add(1)
			if isPeerFault(rep.Err) {
				n.penalize(id, rep.Err)
			}
		} else {
			n.syncedWith(id, repo)
		}
	}()
	if !n.r.Follows(repo) {
		rep.Err = fmt.Errorf("mesh: sync repo %s: not followed", shortID(repo))
		return rep
	}
	select {
	case n.outSessions <- struct{}{}:
		defer func() { <-n.outSessions }()
	case <-ctx.Done():
		rep.Err = fmt.Errorf("mesh: sync: %w", ctx.Err())
		return rep
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SyncTimeout)
	defer cancel()
	c, err := n.connTo(ctx, id)
	if err != nil {
		rep.Err = fmt.Errorf("mesh: sync with %s: %w", id.Short(), err)
		return rep
	}
	s, err := c.OpenStream(ctx, KindSync)
	if err != nil {
		rep.Err = fmt.Errorf("mesh: sync with %s: %w", id.Short(), err)
		return rep
	}
	defer s.Close()
	n.mu.Lock()
	call.started = true
	n.mu.Unlock()
	n.stats.sessionsOut.Add(1)
	rep.Err = n.runSession(ctx, s, id, repo, true, &rep)
	return rep
}

// handleSync serves the responder side of a session.
func (n *Node) handleSync(ctx context.Context, id identity.PublicKey, s *Stream) {
	if n.penalized(id) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SyncTimeout)
	defer cancel()
	rep := SyncReport{Peer: id}
	start := time.Now()
	err := n.runSession(ctx, s, id, [32]byte{}, false, &rep)
	rep.Duration = time.Since(start)
	switch {
	case errors.Is(err, errRefusedHere):
		n.stats.sessionsRefused.Add(1)
	case err != nil:
		n.stats.sessionsFailed.Add(1)
		if isPeerFault(err) {
			n.penalize(id, err)
		} else {
			n.log.Debug("inbound sync failed", "peer", id.Short(), "repo", shortID(rep.Repo), "err", err)
		}
	default:
		n.syncedWith(id, rep.Repo)
		n.log.Debug("inbound sync done", "peer", id.Short(), "repo", shortID(rep.Repo),
			"sent", rep.Sent, "received", rep.Received, "round_trips", rep.RoundTrips)
	}
}

// errRefusedHere marks an inbound session this node declined.
var errRefusedHere = errors.New("mesh: session refused")

// syncedWith records a finished session with id for repo: both sides
// then held the same ops, so the peer's root is ours.
func (n *Node) syncedWith(id identity.PublicKey, repo [32]byte) {
	root, ok := n.r.Root(repo)
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peerLocked(id)
	p.lastSync = now
	if !ok {
		return
	}
	if p.synced == nil {
		p.synced = make(map[[32]byte]syncedRoot)
	}
	p.synced[repo] = syncedRoot{d: digestOf(root), at: now}
}

// runSession runs either side of a session on s: the handshake, the
// reconciliation and the transfer both ways. rep.Repo is set on the
// initiator and filled in on the responder.
func (n *Node) runSession(ctx context.Context, s *Stream, id identity.PublicKey, repo [32]byte, initiator bool, rep *SyncReport) (err error) {
	cs := &countingStream{s: s}
	defer func() {
		rep.OverheadBytes = int(cs.in.Load() + cs.out.Load() - cs.opsBytes.Load())
		if initiator {
			rep.OverheadBytes++ // the kind byte
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	br := bufio.NewReaderSize(cs, 64<<10)

	if initiator {
		tree, err := n.r.Tree(repo)
		if err != nil {
			return fmt.Errorf("mesh: sync: tree of %s: %w", shortID(repo), err)
		}
		sess, open, err := merkle.NewInitiator(tree, merkle.Options{})
		if err != nil {
			return err
		}
		hello := append([]byte{replVersion}, repo[:]...)
		if err := WriteFrame(cs, hello); err != nil {
			return err
		}
		if err := WriteFrame(cs, open); err != nil {
			return err
		}
		st, err := ReadFrame(br, 1)
		if err != nil {
			return sessionReadErr("status", err)
		}
		if len(st) != 1 {
			return fmt.Errorf("%w: empty status", ErrProtocol)
		}
		if SyncStatus(st[0]) != SyncAccepted {
			return &RefusedError{Peer: id, Repo: repo, Status: SyncStatus(st[0])}
		}
		if err := n.reconcile(br, cs, sess); err != nil {
			return err
		}
		return n.exchange(ctx, br, cs, s, id, repo, sess, rep)
	}

	hello, err := ReadFrame(br, helloSize)
	if err != nil {
		return sessionReadErr("hello", err)
	}
	if len(hello) != helloSize || hello[0] != replVersion {
		_ = WriteFrame(cs, []byte{byte(SyncBadRequest)})
		return fmt.Errorf("%w: sync hello: %w", ErrProtocol, malformed("%d bytes, version %d", len(hello), hello[0]))
	}
	copy(repo[:], hello[1:])
	rep.Repo = repo
	refuse := func(st SyncStatus) error {
		_ = WriteFrame(cs, []byte{byte(st)})
		return fmt.Errorf("%w: %s", errRefusedHere, st)
	}
	if !n.allowSync(id) {
		return refuse(SyncRateLimited)
	}
	if !n.r.Follows(repo) {
		if n.cfg.OnRepo == nil || !n.cfg.OnRepo(repo, id) || !n.r.Follows(repo) {
			return refuse(SyncNotFollowed)
		}
	}
	key := pairKey{id, repo}
	n.mu.Lock()
	out, dup := n.calls[key], n.serving[key] != nil
	crossed := out != nil && out.started && n.id.Compare(id) < 0
	n.mu.Unlock()
	if dup {
		return refuse(SyncBusy)
	}
	if crossed {
		return refuse(SyncCrossed)
	}
	select {
	case n.inSessions <- struct{}{}:
		defer func() { <-n.inSessions }()
	default:
		return refuse(SyncBusy)
	}
	call := &syncCall{done: make(chan struct{})}
	n.mu.Lock()
	if n.serving[key] != nil {
		n.mu.Unlock()
		return refuse(SyncBusy)
	}
	n.serving[key] = call
	close(n.servingNote)
	n.servingNote = make(chan struct{})
	n.mu.Unlock()
	defer func() {
		call.rep = *rep
		call.rep.Err = err
		call.rep.OverheadBytes = int(cs.in.Load() + cs.out.Load() - cs.opsBytes.Load())
		n.mu.Lock()
		delete(n.serving, key)
		n.mu.Unlock()
		close(call.done)
	}()
	tree, err := n.r.Tree(repo)
	if err != nil {
		_ = refuse(SyncBusy)
		return fmt.Errorf("mesh: sync: tree of %s: %w", shortID(repo), err)
	}
	if err := WriteFrame(cs, []byte{byte(SyncAccepted)}); err != nil {
		return err
	}
	n.stats.sessionsIn.Add(1)
	sess := merkle.NewResponder(tree, merkle.Options{})
	if err := n.reconcile(br, cs, sess); err != nil {
		return err
	}
	return n.exchange(ctx, br, cs, s, id, repo, sess, rep)
}

func (n *Node) allowSync(id identity.PublicKey) bool {
	n.mu.Lock()
	l := n.peerLocked(id).syncLimit
	n.mu.Unlock()
	return l.Allow()
}

// sessionReadErr wraps a read error of a session, marking oversize and
// malformed frames as the peer's fault.
func sessionReadErr(what string, err error) error {
	if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrMalformedFrame) {
		return fmt.Errorf("%w: sync %s: %w", ErrProtocol, what, err)
	}
	return fmt.Errorf("mesh: sync %s: %w", what, err)
}

// reconcile passes merkle messages until the session is done.
func (n *Node) reconcile(br *bufio.Reader, w io.Writer, sess *merkle.Session) error {
	for !sess.Done() {
		msg, err := ReadFrame(br, merkle.MaxMessageSize)
		if err != nil {
			return sessionReadErr("reconcile", err)
		}
		reply, _, err := sess.Receive(msg)
		if err != nil {
			return fmt.Errorf("mesh: sync: %w", err)
		}
		if reply != nil {
			if err := WriteFrame(w, reply); err != nil {
				return fmt.Errorf("mesh: sync: %w", err)
			}
		}
	}
	return nil
}

// exchange sends the ops the peer lacks while receiving and ingesting the
// ones we lack, then fetches dependencies still missing.
func (n *Node) exchange(ctx context.Context, br *bufio.Reader, cs *countingStream, s *Stream,
	id identity.PublicKey, repo [32]byte, sess *merkle.Session, rep *SyncReport) error {
	rep.RoundTrips = sess.Stats().RoundTrips
	have, need := sess.Have(), sess.Need()

	sendErr := make(chan error, 1)
	go func() {
		sendErr <- n.sendOps(cs, repo, have, rep)
	}()

	// need is sorted for the lookups below rather than copied into a set:
	// a flood of 100,000 ops would cost a 7 MiB map.
	slices.SortFunc(need, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	var missing [][32]byte
	got, rerr := n.readBatches(br, len(need), func(ops [][]byte) error {
		for _, op := range ops {
			cs.opsBytes.Add(int64(len(op)))
		}
		res, err := n.ingestFrom(ctx, id, repo, ops)
		if err != nil {
			return err
		}
		missing = append(missing, res.Missing...)
		if len(missing) > 1<<20 {
			return fmt.Errorf("%w: ops with over a million missing dependencies", ErrProtocol)
		}
		return nil
	})
	rep.Received = got
	if rerr != nil {
		_ = s.SetDeadline(time.Now()) // unblock the sender
		<-sendErr
		return sessionReadErr("receive ops", rerr)
	}
	if err := <-sendErr; err != nil {
		return fmt.Errorf("mesh: sync: send ops: %w", err)
	}
	// Dependencies that arrived later in the session are no longer
	// missing; fetch the rest from the same peer.
	var still [][32]byte
	for _, x := range missing {
		if _, ok := slices.BinarySearchFunc(need, x, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }); !ok {
			still = append(still, x)
		}
	}
	if len(still) > 0 {
		if err := n.fetchDeps(ctx, id, repo, still); err != nil {
			return fmt.Errorf("mesh: sync: fetch dependencies: %w", err)
		}
	}
	// Tell the peer everything it sent is stored, and wait for the same
	// word from it, so that a finished session means both replicas hold
	// the union.
	if err := WriteFrame(cs, []byte{0}); err != nil {
		return fmt.Errorf("mesh: sync: %w", err)
	}
	_ = s.CloseWrite()
	ack, err := ReadFrame(br, 1)
	if err != nil {
		return sessionReadErr("acknowledgment", err)
	}
	if len(ack) != 1 || ack[0] != 0 {
		return fmt.Errorf("mesh: sync: peer failed to store the ops")
	}
	return nil
}

// sendOps writes the ops with the given IDs as batches, reading them from
// the replica in chunks, then the end frame.
func (n *Node) sendOps(cs *countingStream, repo [32]byte, ids [][32]byte, rep *SyncReport) error {
	const chunk = 4096
	for i := 0; i < len(ids) || i == 0; i += chunk {
		var ops [][]byte
		if len(ids) > 0 {
			var err error
			if ops, err = n.r.Get(repo, ids[i:min(i+chunk, len(ids))]); err != nil {
				return err
			}
		}
		for _, op := range ops {
			cs.opsBytes.Add(int64(len(op)))
		}
		k, err := n.writeBatches(cs, ops, i+chunk >= len(ids))
		rep.Sent += k
		if err != nil {
			return err
		}
	}
	return nil
}
