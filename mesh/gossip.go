package mesh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"

	"murmur/identity"
)

// broadcast is one gossip message in memberlist's transmit queue. A newer
// broadcast of the same op replaces an older one.
type broadcast struct {
	id  [32]byte
	msg []byte
}

var _ memberlist.NamedBroadcast = (*broadcast)(nil)

func (b *broadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(*broadcast)
	return ok && ob.id == b.id
}
func (b *broadcast) Name() string    { return string(b.id[:]) }
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished()       {}

// Announce spreads a new op of repo, already stored in the replica, to
// the cluster through memberlist's piggybacked gossip: inline if it is at
// most MaxInlineOp bytes, else by ID, and receivers fetch it. It does not
// block; op is not retained.
func (n *Node) Announce(repo [32]byte, op []byte, id [32]byte) {
	n.seen.add(id)
	n.queueGossip(repo, id, op, n.id)
}

// queueGossip queues a broadcast of op naming relay as the node to fetch
// from; op may be nil for a by-ID announcement.
func (n *Node) queueGossip(repo, id [32]byte, op []byte, relay identity.PublicKey) {
	m := gossipMsg{typ: gossipByID, repo: repo, id: id, relay: relay}
	if op != nil && len(op) <= n.cfg.MaxInlineOp {
		m.typ, m.op = gossipInline, op
	}
	n.queue.QueueBroadcast(&broadcast{id: id, msg: m.encode()})
	n.queue.Prune(n.cfg.MaxQueuedBroadcasts)
	n.stats.gossipSent.Add(1)
}

func (n *Node) gossipWorker() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case b := <-n.gossipCh:
			n.handleGossip(b)
		}
	}
}

// handleGossip processes one gossip message: a new op of a followed repo
// is ingested (inline) or fetched from the relay (by ID), its missing
// dependencies are fetched from the relay, and once stored it is
// broadcast again with this node as relay.
func (n *Node) handleGossip(b []byte) {
	m, err := decodeGossip(b, n.cfg.MaxOpSize)
	if err != nil {
		n.stats.gossipDropped.Add(1)
		n.log.Debug("dropping malformed gossip", "err", err)
		return
	}
	if !n.seen.add(m.id) {
		n.stats.gossipDuplicates.Add(1)
		return
	}
	if !n.r.Follows(m.repo) {
		// Relay what can be relayed, so that gossip crosses nodes that do
		// not follow the repo; keep the original relay, who has the op.
		if m.typ == gossipInline {
			n.queueGossip(m.repo, m.id, m.op, m.relay)
		}
		return
	}
	if n.penalized(m.relay) || m.relay == n.id {
		n.seen.remove(m.id)
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FetchTimeout)
	defer cancel()
	op, err := n.obtain(ctx, m)
	if err != nil {
		n.seen.remove(m.id)
		if !errors.Is(err, context.Canceled) {
			n.log.Debug("gossiped op not obtained", "repo", shortID(m.repo), "op", shortID(m.id),
				"relay", m.relay.Short(), "err", err)
		}
		return
	}
	n.queueGossip(m.repo, m.id, op, n.id)
}

// obtain stores the op a gossip message names and returns its encoding.
func (n *Node) obtain(ctx context.Context, m gossipMsg) ([]byte, error) {
	if have, err := n.r.Get(m.repo, [][32]byte{m.id}); err == nil && len(have) == 1 {
		return have[0], nil
	}
	if m.typ == gossipByID {
		// The relay may be briefly unreachable (busy, still connecting);
		// gossip will not offer this op again, so try a few times before
		// leaving it to anti-entropy.
		var ops [][]byte
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if ops, err = n.fetch(ctx, m.relay, m.repo, [][32]byte{m.id}); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return nil, err
			case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
			}
		}
		if err != nil {
			return nil, err
		}
		if len(ops) != 1 {
			return nil, fmt.Errorf("relay %s does not have the op", m.relay.Short())
		}
		if _, err := n.ingestFrom(ctx, m.relay, m.repo, ops); err != nil {
			return nil, err
		}
		return ops[0], nil
	}
	// The relay named in an inline message is unauthenticated, so the op
	// is not charged to it: the replica charges it to its author.
	res, err := n.r.Ingest(identity.PublicKey{}, m.repo, [][]byte{m.op})
	if err != nil {
		return nil, fmt.Errorf("ingest gossiped op: %w", err)
	}
	n.stats.opsReceived.Add(1)
	if res.Invalid > 0 {
		n.stats.gossipInvalid.Add(1)
		n.stats.opsInvalid.Add(uint64(res.Invalid))
		// The relay named in the message is unauthenticated. Ask it for
		// the op over an authenticated stream: if it serves the same
		// invalid op, it is penalized by ingestFrom.
		n.log.Warn("invalid op in gossip; checking the claimed relay", "repo", shortID(m.repo),
			"op", shortID(m.id), "relay", m.relay.Short(), "reason", res.InvalidReason)
		if ops, err := n.fetch(ctx, m.relay, m.repo, [][32]byte{m.id}); err == nil && len(ops) > 0 {
			_, _ = n.ingestFrom(ctx, m.relay, m.repo, ops)
		}
		return nil, fmt.Errorf("invalid op: %w", res.InvalidReason)
	}
	if res.Refused > 0 {
		// Tell the claimed relay (usually the author's node): a false
		// claim costs a notice, at most one a second per peer.
		n.refused(m.relay, m.repo, res.Refused, res.RefusedReason)
		return nil, fmt.Errorf("op refused by local policy: %w", res.RefusedReason)
	}
	if len(res.Missing) > 0 {
		if err := n.fetchDeps(ctx, m.relay, m.repo, res.Missing); err != nil {
			return nil, err
		}
	}
	return m.op, nil
}
