package mesh

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"

	"murmur/identity"
)

// KindNotice streams carry one refusal notice: the receiver of ops it
// refused by local policy (a blocked author, an ingest budget) tells the
// peer that sent them, so the sender's log says why they did not arrive.
// See "Notice streams" in the package doc.
const KindNotice Kind = 5

// Notice stream, after the kind byte, one frame (see WriteFrame):
//
//	repo (32 bytes) | refused ops (uvarint) | reason (UTF-8, at most
//	MaxNoticeReason bytes)
//
// The receiver logs it and closes the stream; nothing is answered.
const MaxNoticeReason = 512

// maxNotice bounds a notice frame.
const maxNotice = 32 + binaryMaxVarint + MaxNoticeReason

// noticeInterval is the least time between two notices to one peer; the
// ops refused in between are counted into the next.
const noticeInterval = time.Second

// noticeState is what is waiting to be told to one peer.
type noticeState struct {
	busy   bool // a sender goroutine is running
	repo   [32]byte
	count  int
	reason string
}

// refused records ops of repo that id sent and the replica refused by
// policy, and makes sure a notice goes out (at most one per
// noticeInterval per peer).
func (n *Node) refused(id identity.PublicKey, repo [32]byte, count int, reason error) {
	n.stats.opsRefused.Add(uint64(count))
	if id == (identity.PublicKey{}) || id == n.id {
		return
	}
	why := reason.Error()
	if len(why) > MaxNoticeReason {
		why = why[:MaxNoticeReason]
		for !utf8.ValidString(why) {
			why = why[:len(why)-1]
		}
	}
	n.mu.Lock()
	p := n.peerLocked(id)
	p.notice.repo, p.notice.reason = repo, why
	p.notice.count += count
	start := !p.notice.busy
	p.notice.busy = true
	n.mu.Unlock()
	n.log.Info("refused ops by local policy", "peer", id.Short(), "repo", shortID(repo), "ops", count, "reason", why)
	if !start {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			n.mu.Lock()
			st := p.notice
			p.notice.count = 0
			if st.count == 0 {
				p.notice.busy = false
				n.mu.Unlock()
				return
			}
			n.mu.Unlock()
			if err := n.sendNotice(id, st); err != nil {
				n.log.Debug("cannot send refusal notice", "peer", id.Short(), "err", err)
			}
			select {
			case <-n.ctx.Done():
				n.mu.Lock()
				p.notice.busy = false
				n.mu.Unlock()
				return
			case <-time.After(noticeInterval):
			}
		}
	}()
}

// sendNotice sends one notice to id if it serves notices.
func (n *Node) sendNotice(id identity.PublicKey, st noticeState) error {
	c := n.ep.Conn(id)
	if c == nil {
		return ErrUnknownPeer
	}
	if !c.Hello().Caps.Has(KindNotice) {
		return nil // a node from before notices
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FetchTimeout)
	defer cancel()
	s, err := c.OpenStream(ctx, KindNotice)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(n.cfg.FetchTimeout))
	b := append(st.repo[:0:0], st.repo[:]...)
	b = binary.AppendUvarint(b, uint64(st.count))
	b = append(b, st.reason...)
	if err := WriteFrame(s, b); err != nil {
		return err
	}
	return s.CloseWrite()
}

// handleNotice logs the notice a peer sent on s.
func (n *Node) handleNotice(_ context.Context, id identity.PublicKey, s *Stream) {
	_ = s.SetDeadline(time.Now().Add(n.cfg.FetchTimeout))
	b, err := ReadFrame(bufio.NewReaderSize(s, 1024), maxNotice)
	if err == nil {
		err = n.logNotice(id, b)
	}
	if err != nil {
		n.log.Debug("bad refusal notice", "peer", id.Short(), "err", err)
	}
}

func (n *Node) logNotice(id identity.PublicKey, b []byte) error {
	if len(b) < 33 {
		return malformed("notice of %d bytes", len(b))
	}
	var repo [32]byte
	copy(repo[:], b)
	count, k := binary.Uvarint(b[32:])
	if k <= 0 {
		return errors.New("malformed count")
	}
	reason := b[32+k:]
	if !utf8.Valid(reason) {
		return errors.New("reason is not UTF-8")
	}
	n.stats.noticesReceived.Add(1)
	n.log.Warn("peer refused our ops by its policy", "peer", id.Short(), "repo", shortID(repo), "ops", count, "reason", string(reason))
	return nil
}
