package mesh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"murmur/identity"
)

// Fetch asks peer for the ops of repo with the given IDs and returns the
// ops it sent, without ingesting them: a node reads a repo's genesis op
// this way to decide by its local policy whether to follow the repo.
func (n *Node) Fetch(ctx context.Context, peer identity.PublicKey, repo [32]byte, ids [][32]byte) ([][]byte, error) {
	if n.penalized(peer) {
		return nil, ErrPenalized
	}
	return n.fetch(ctx, peer, repo, ids)
}

// fetch asks peer for the ops of repo with the given IDs on one KindFetch
// stream, in requests of at most MaxFetchIDs IDs, and returns the ops it
// sent. Ops are not ingested.
func (n *Node) fetch(ctx context.Context, id identity.PublicKey, repo [32]byte, ids [][32]byte) ([][]byte, error) {
	c, err := n.connTo(ctx, id)
	if err != nil {
		return nil, err
	}
	s, err := c.OpenStream(ctx, KindFetch)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Now()) })
	defer stop()
	_ = s.SetDeadline(time.Now().Add(n.cfg.FetchTimeout))
	br := bufio.NewReaderSize(s, 64<<10)
	var out [][]byte
	for chunk := range slices.Chunk(ids, n.cfg.MaxFetchIDs) {
		n.stats.fetchesMade.Add(1)
		req := fetchRequest{repo: repo, ids: chunk}
		if err := WriteFrame(s, req.encode()); err != nil {
			return nil, fmt.Errorf("mesh: fetch from %s: %w", id.Short(), err)
		}
		_, err := n.readBatches(br, len(chunk), func(ops [][]byte) error {
			out = append(out, ops...)
			return nil
		})
		if err != nil {
			if isPeerFault(err) {
				n.penalize(id, err)
			}
			return nil, fmt.Errorf("mesh: fetch from %s: %w", id.Short(), err)
		}
	}
	_ = s.CloseWrite()
	return out, nil
}

// ingestFrom ingests ops that peer sent over an authenticated stream and
// penalizes it if any is invalid.
func (n *Node) ingestFrom(_ context.Context, id identity.PublicKey, repo [32]byte, ops [][]byte) (IngestResult, error) {
	n.stats.opsReceived.Add(uint64(len(ops)))
	res, err := n.r.Ingest(id, repo, ops)
	if err != nil {
		return res, fmt.Errorf("mesh: ingest: %w", err)
	}
	if res.Refused > 0 {
		n.refused(id, repo, res.Refused, res.RefusedReason)
	}
	if res.Invalid > 0 {
		n.stats.opsInvalid.Add(uint64(res.Invalid))
		err := fmt.Errorf("%w: %d invalid ops of repo %s: %w", ErrProtocol, res.Invalid, shortID(repo), res.InvalidReason)
		n.penalize(id, err)
		return res, err
	}
	if res.OverQuota > 0 {
		err := fmt.Errorf("%w: %d ops of repo %s over its pending quota: it sends ops whose dependencies it does not supply or whose clocks are far ahead",
			ErrFlood, res.OverQuota, shortID(repo))
		n.penalize(id, err)
		return res, err
	}
	return res, nil
}

// fetchDeps fetches missing dependencies from peer, and theirs in turn,
// for at most MaxFetchRounds rounds.
func (n *Node) fetchDeps(ctx context.Context, id identity.PublicKey, repo [32]byte, missing [][32]byte) error {
	for round := 0; len(missing) > 0; round++ {
		if round == n.cfg.MaxFetchRounds {
			return fmt.Errorf("mesh: %d dependencies still missing after %d fetch rounds", len(missing), round)
		}
		slices.SortFunc(missing, compareIDs)
		missing = slices.Compact(missing)
		ops, err := n.fetch(ctx, id, repo, missing)
		if err != nil {
			return err
		}
		if len(ops) == 0 {
			return fmt.Errorf("mesh: peer %s lacks %d dependencies", id.Short(), len(missing))
		}
		res, err := n.ingestFrom(ctx, id, repo, ops)
		if err != nil {
			return err
		}
		missing = res.Missing
	}
	return nil
}

// handleFetch serves fetch requests on a KindFetch stream until the peer
// closes it.
func (n *Node) handleFetch(ctx context.Context, id identity.PublicKey, s *Stream) {
	if n.penalized(id) {
		return
	}
	br := bufio.NewReaderSize(s, 64<<10)
	maxReq := 1 + 32 + binaryMaxVarint + 32*n.cfg.MaxFetchIDs
	for {
		_ = s.SetDeadline(time.Now().Add(n.cfg.FetchTimeout))
		b, err := ReadFrame(br, maxReq)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrMalformedFrame) {
				n.penalize(id, fmt.Errorf("%w: fetch request: %w", ErrProtocol, err))
			}
			return
		}
		req, err := decodeFetchRequest(b, n.cfg.MaxFetchIDs)
		if err != nil {
			n.penalize(id, fmt.Errorf("%w: fetch request: %w", ErrProtocol, err))
			return
		}
		if !n.allowFetch(id) {
			n.log.Debug("fetch rate limited", "peer", id.Short())
			return
		}
		n.stats.fetchesServed.Add(1)
		var ops [][]byte
		if n.r.Follows(req.repo) {
			if ops, err = n.r.Get(req.repo, req.ids); err != nil {
				n.log.Error("fetch: read ops", "repo", shortID(req.repo), "err", err)
				return
			}
			if len(ops) > len(req.ids) {
				ops = ops[:len(req.ids)]
			}
		}
		if _, err := n.writeBatches(s, ops, true); err != nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (n *Node) allowFetch(id identity.PublicKey) bool {
	n.mu.Lock()
	l := n.peerLocked(id).fetchLimit
	n.mu.Unlock()
	return l.Allow()
}

// writeBatches writes ops as batch frames of at most MaxBatchBytes and,
// if end is set, the empty frame that ends them. Ops over MaxOpSize are
// skipped.
func (n *Node) writeBatches(w io.Writer, ops [][]byte, end bool) (int, error) {
	sent := 0
	var body []byte
	count := 0
	flush := func() error {
		if count == 0 {
			return nil
		}
		if err := WriteFrame(w, encodeBatch(count, body)); err != nil {
			return err
		}
		n.stats.opsSent.Add(uint64(count))
		sent += count
		body, count = body[:0], 0
		return nil
	}
	for _, op := range ops {
		if len(op) == 0 || len(op) > n.cfg.MaxOpSize {
			n.log.Warn("not sending op outside the size limit", "size", len(op), "limit", n.cfg.MaxOpSize)
			continue
		}
		if len(body)+len(op)+2*binaryMaxVarint > n.cfg.MaxBatchBytes {
			if err := flush(); err != nil {
				return sent, err
			}
		}
		body = appendOp(body, op)
		count++
	}
	if err := flush(); err != nil {
		return sent, err
	}
	if !end {
		return sent, nil
	}
	return sent, WriteFrame(w, nil)
}

// readBatches reads batch frames until the empty frame, handing each
// batch to fn; more than limit ops in all is a protocol violation.
func (n *Node) readBatches(br *bufio.Reader, limit int, fn func([][]byte) error) (int, error) {
	// A goroutine reads and decodes the next batch while fn handles this
	// one, so that a receiver ingesting a clone never waits for the
	// network between batches. It stops after the final empty frame or an
	// error; if fn fails, the caller abandons the stream, which ends a read
	// still in progress.
	type batch struct {
		ops [][]byte
		err error
	}
	next := make(chan batch, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(next)
		read := 0
		for {
			var bt batch
			b, err := ReadFrame(br, n.cfg.MaxBatchBytes)
			switch {
			case errors.Is(err, io.EOF):
				bt.err = io.ErrUnexpectedEOF
			case err != nil:
				bt.err = err
			case len(b) == 0:
				return
			default:
				bt.ops, err = decodeBatch(b, n.cfg.MaxOpSize)
				read += len(bt.ops)
				if err != nil {
					bt.err = fmt.Errorf("%w: %w", ErrProtocol, err)
				} else if read > limit {
					bt.err = fmt.Errorf("%w: peer sent %d ops, %d expected", ErrProtocol, read, limit)
				}
			}
			select {
			case next <- bt:
			case <-stop:
				return
			}
			if bt.err != nil {
				return
			}
		}
	}()
	got := 0
	for bt := range next {
		if bt.err != nil {
			return got, bt.err
		}
		got += len(bt.ops)
		if err := fn(bt.ops); err != nil {
			return got, err
		}
	}
	return got, nil
}

// isPeerFault reports whether err means the peer broke the protocol
// (rather than a network failure or a local error).
func isPeerFault(err error) bool {
	return errors.Is(err, ErrProtocol) || errors.Is(err, ErrMalformed) ||
		errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrMalformedFrame) || errMerkle(err)
}
