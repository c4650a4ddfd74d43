package merkle

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Options configures a Session. The zero value is ready to use.
type Options struct {
	// MaxMessageSize bounds each message this side sends, in bytes. Zero
	// means MaxMessageSize (4 MiB); other values are clamped to
	// [MinMessageSize, MaxMessageSize]. Receivers always accept up to
	// MaxMessageSize. Smaller messages cost extra round trips when the
	// difference is large.
	MaxMessageSize int

	// MaxRoundTrips bounds the length of a session; Receive fails with
	// ErrTooManyRounds past it. Zero means DefaultMaxRoundTrips.
	MaxRoundTrips int

	// Strict makes this side use full fingerprints and full IDs from the
	// start rather than only after a failed final check. It costs more
	// bytes; it is meant for tests and for peers suspected of constructing
	// prefix or fingerprint collisions. Either side can ask for it.
	Strict bool
}

const (
	// MinMessageSize is the smallest Options.MaxMessageSize honored.
	MinMessageSize = 64 << 10
	// DefaultMaxRoundTrips is the default Options.MaxRoundTrips. Honest
	// sessions need a handful; cloning a big repo into an empty one needs
	// about one per 4 MiB of IDs.
	DefaultMaxRoundTrips = 256
)

// Tuning of the reconciliation strategy. None of these is part of the
// format: peers with different values interoperate.
const (
	// The opening message covers suffixes of the set whose sizes grow by
	// ladderNum/ladderDen, so the newest d items are pinned down within a
	// range of at most 1.25 d items.
	ladderNum, ladderDen = 5, 4
	// A range with at most listThreshold own items is listed, not split.
	listThreshold = 8
	// A range is listed when its own items are at most denseFactor times
	// the differences it is known to hold.
	denseFactor = 4
	// A range is split into about fanoutPerDiff parts per known difference,
	// so that most parts hold none.
	fanoutPerDiff = 16
	// minListCap is the list length every peer can answer: the listCap of
	// the smallest message budget.
	minListCap = MinMessageSize / 4 / 32
	// maxFanout caps the parts of one split.
	maxFanout = 4096
	// fpRecordMax is the most bytes a fingerprint record can take,
	// including a Skip record in front of it.
	fpRecordMax = 2*(1+1+10+1+32) + 10 + strictFPSize
)

// Stats counts a session's traffic as seen by one side.
type Stats struct {
	MessagesSent     int
	MessagesReceived int
	BytesSent        int
	BytesReceived    int
	// RoundTrips is (MessagesSent + MessagesReceived) / 2: a session of
	// three messages took 1.5 round trips.
	RoundTrips float64
	// Restarted says the session switched to strict mode (full
	// fingerprints and IDs) midway: after the final check failed, or
	// because the responder asked for strict mode in its Options.
	Restarted bool
}

// Session is one side of one reconciliation: a pure state machine that
// consumes the peer's messages and produces replies. A driver creates one
// with NewInitiator or NewResponder, passes bytes between the two sides
// with Receive until it reports done, and then reads Need and Have. The
// driver frames messages itself (a length prefix; no message exceeds
// MaxMessageSize) and never needs to look inside them:
//
//	// The initiator first sends the message NewInitiator returned.
//	for done := false; !done; {
//		reply, d, err := s.Receive(recv())
//		if err != nil { ... } // drop the stream; errors.Is tells what went wrong
//		if reply != nil {
//			send(reply) // when d is true too, this is the peer's last message
//		}
//		done = d
//	}
//
// The tree must not be modified while the session runs (hold a lock, or
// reconcile against a Clone); if it is, Receive fails with ErrTreeChanged.
// A Session is not safe for concurrent use. Errors are sticky: after one,
// every Receive returns it.
type Session struct {
	tree     *Tree
	gen      uint64
	root     Root // the tree's root when the session started
	opts     Options
	budget   int // bytes per sent message
	listCap  int // entries per list this side sends
	maxParts int // parts per split

	awaitOpening bool // responder: the next message must be an opening
	awaitRoot    bool // our last message was an opening: the reply carries the peer's root
	strict       bool
	restarted    bool
	peerRoot     Root
	peerKnown    bool
	done         bool
	err          error

	need   map[[32]byte]needKey
	have   map[[32]byte]Item
	expect []expectation // replies our last message asked for, in key order
	// density is the estimated number of differences per mismatched range
	// in the message being answered.
	density float64
	stats   Stats
}

// needKey orders the IDs we lack as the peer sent them: by range, then by
// position in the peer's list, which is the peer's (Clock, ID) order.
type needKey struct {
	lo  bound
	idx int
}

// expectation is a reply our last message asked for.
type expectation struct {
	lo, hi   bound
	kind     byte     // modePrefixList or modeFullList: a reply to our list; modeItems: the items we requested
	items    []Item   // list kinds: what we listed
	prefixes []uint64 // modeItems: the prefixes we requested, in order
	answered bool
}

// NewInitiator starts a session on t as the side that speaks first and
// returns the first message to send. The message carries t's root, so a
// responder whose root is equal ends the session at once.
func NewInitiator(t *Tree, opts Options) (*Session, []byte, error) {
	if t == nil {
		return nil, nil, errors.New("merkle: new initiator: nil tree")
	}
	s := newSession(t, opts)
	s.strict = s.opts.Strict
	msg := s.opening(false)
	s.sent(msg)
	return s, msg, nil
}

// NewResponder starts a session on t as the side that answers. Its first
// Receive must get the initiator's first message. A nil t is an empty set.
func NewResponder(t *Tree, opts Options) *Session {
	if t == nil {
		t = &Tree{}
	}
	s := newSession(t, opts)
	s.awaitOpening = true
	return s
}

func newSession(t *Tree, opts Options) *Session {
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = MaxMessageSize
	}
	opts.MaxMessageSize = min(max(opts.MaxMessageSize, MinMessageSize), MaxMessageSize)
	if opts.MaxRoundTrips <= 0 {
		opts.MaxRoundTrips = DefaultMaxRoundTrips
	}
	s := &Session{
		tree:     t,
		gen:      t.gen,
		root:     t.Root(),
		opts:     opts,
		budget:   opts.MaxMessageSize,
		listCap:  min(MaxListLen, opts.MaxMessageSize/4/32),
		maxParts: min(maxFanout, opts.MaxMessageSize/4/fpRecordMax),
	}
	s.resetState()
	return s
}

func (s *Session) resetState() {
	s.need = make(map[[32]byte]needKey)
	s.have = make(map[[32]byte]Item)
	s.expect = nil
}

// Receive consumes one message from the peer. It returns the reply to send,
// or nil when there is none, and whether the session is finished. A side
// finishes either by sending the final message (reply non-nil, done true:
// send it, then stop) or by receiving it (reply nil, done true). msg is not
// retained.
func (s *Session) Receive(msg []byte) (reply []byte, done bool, err error) {
	if s.err != nil {
		return nil, false, s.err
	}
	if s.done {
		return nil, true, ErrSessionDone
	}
	if s.tree.gen != s.gen {
		return nil, false, s.fail(ErrTreeChanged)
	}
	if s.stats.MessagesSent+s.stats.MessagesReceived >= 2*s.opts.MaxRoundTrips {
		return nil, false, s.fail(fmt.Errorf("%w: limit %d", ErrTooManyRounds, s.opts.MaxRoundTrips))
	}
	s.stats.MessagesReceived++
	s.stats.BytesReceived += len(msg)
	s.stats.RoundTrips = float64(s.stats.MessagesSent+s.stats.MessagesReceived) / 2
	m, err := decodeMessage(msg)
	if err != nil {
		return nil, false, s.fail(err)
	}
	reply, err = s.handle(m)
	if err != nil {
		return nil, false, s.fail(err)
	}
	if reply != nil {
		s.sent(reply)
	}
	return reply, s.done, nil
}

func (s *Session) fail(err error) error {
	s.err = fmt.Errorf("merkle: receive: %w", err)
	return s.err
}

func (s *Session) sent(msg []byte) {
	s.stats.MessagesSent++
	s.stats.BytesSent += len(msg)
	s.stats.RoundTrips = float64(s.stats.MessagesSent+s.stats.MessagesReceived) / 2
}

// Done reports whether the session has finished.
func (s *Session) Done() bool { return s.done }

// PeerRoot returns the peer's root once a message carrying it has arrived:
// after the responder's first Receive, after the initiator's first.
func (s *Session) PeerRoot() (Root, bool) {
	return s.peerRoot, s.peerKnown
}

// Stats returns the traffic so far.
func (s *Session) Stats() Stats { return s.stats }

// Need returns the IDs this side lacks, to fetch from the peer, in the
// peer's (Clock, ID) order, so that fetching them in order brings parents
// before children. It is nil until the session is done.
func (s *Session) Need() [][32]byte {
	if !s.done {
		return nil
	}
	type entry struct {
		id [32]byte
		k  needKey
	}
	es := make([]entry, 0, len(s.need))
	for id, k := range s.need {
		es = append(es, entry{id, k})
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := a.k.lo.compare(b.k.lo); c != 0 {
			return c
		}
		if a.k.idx != b.k.idx {
			return a.k.idx - b.k.idx
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	ids := make([][32]byte, len(es))
	for i := range es {
		ids[i] = es[i].id
	}
	return ids
}

// Have returns the IDs the peer lacks, to send to it, in (Clock, ID) order.
// It is nil until the session is done.
func (s *Session) Have() [][32]byte {
	if !s.done {
		return nil
	}
	items := make([]Item, 0, len(s.have))
	for _, it := range s.have {
		items = append(items, it)
	}
	slices.SortFunc(items, Item.Compare)
	ids := make([][32]byte, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// handle dispatches one decoded message according to the session state.
func (s *Session) handle(m *message) ([]byte, error) {
	switch {
	case m.restart:
		if s.restarted || s.awaitOpening || !m.strict || !m.hasRoot || m.final {
			return nil, fmt.Errorf("%w: unexpected restart", ErrProtocol)
		}
		if s.peerKnown && m.root != s.peerRoot {
			return nil, fmt.Errorf("%w: peer root changed in restart", ErrProtocol)
		}
		s.resetState()
		s.strict, s.restarted, s.stats.Restarted = true, true, true
		s.peerRoot, s.peerKnown, s.awaitRoot = m.root, true, false
		return s.answerOpening(m)

	case s.awaitOpening:
		if !m.hasRoot || m.final {
			return nil, fmt.Errorf("%w: first message is not an opening", ErrProtocol)
		}
		s.awaitOpening = false
		s.peerRoot, s.peerKnown = m.root, true
		s.strict = m.strict
		if s.opts.Strict && !m.strict && s.root != s.peerRoot {
			s.strict, s.restarted, s.stats.Restarted = true, true, true
			return s.opening(true), nil
		}
		return s.answerOpening(m)
	}

	if s.awaitRoot {
		if !m.hasRoot {
			return nil, fmt.Errorf("%w: reply to an opening lacks the root", ErrProtocol)
		}
		if s.peerKnown && m.root != s.peerRoot {
			return nil, fmt.Errorf("%w: peer root changed", ErrProtocol)
		}
		s.peerRoot, s.peerKnown, s.awaitRoot = m.root, true, false
	} else if m.hasRoot {
		return nil, fmt.Errorf("%w: unexpected root", ErrProtocol)
	}
	if m.strict != s.strict {
		return nil, fmt.Errorf("%w: strict flag changed", ErrProtocol)
	}
	return s.process(m, false)
}

// answerOpening replies to the peer's opening message (first or restart).
// The reply carries our root; if the roots are equal it is also final.
func (s *Session) answerOpening(m *message) ([]byte, error) {
	if s.root == s.peerRoot {
		e := s.newEncoder(flagFinal, true)
		s.done = true
		return e.buf, nil
	}
	return s.process(m, true)
}

// opening builds the first message of a (sub)session: our root and
// fingerprints of ranges covering the whole key space, the newest ranges
// smallest (sizes 1, 1, 1, ... growing by 5/4 into the past), so that when
// the difference is the newest d items the peer finds them within a range
// of at most 1.25 d items.
func (s *Session) opening(restart bool) []byte {
	var flags byte
	if restart {
		flags |= flagRestart
	}
	e := s.newEncoder(flags, true)
	t := s.tree
	n := t.n
	var ks []int
	for k := 1; k < n; k = max(k+1, k*ladderNum/ladderDen) {
		ks = append(ks, k)
	}
	lo, r0, s0 := minBound, 0, fpSum{}
	for j := len(ks) - 1; j >= 0; j-- {
		r := n - ks[j]
		b := boundBetween(t.at(r-1), t.at(r))
		sum := t.sumTo(r)
		e.fingerprint(lo, b, r-r0, s0, sum)
		lo, r0, s0 = b, r, sum
	}
	e.fingerprint(lo, infBound, n-r0, s0, t.sum)
	s.awaitRoot = true
	s.expect = nil
	return e.buf
}

// verify checks the computed differences against both roots: our set plus
// what we need must equal the peer's set plus what it needs, as multisets
// compared by count and hash sum. Need and Have only ever hold true
// differences, so the check fails exactly when one was missed.
func (s *Session) verify() bool {
	l := sumFromBytes(&s.root.Sum)
	for id := range s.need {
		h := itemHash(&id)
		l.add(&h)
	}
	r := sumFromBytes(&s.peerRoot.Sum)
	for _, it := range s.have {
		h := itemHash(&it.ID)
		r.add(&h)
	}
	return l == r && s.root.Count+uint64(len(s.need)) == s.peerRoot.Count+uint64(len(s.have))
}

// process absorbs a non-opening message (or an opening whose roots differ)
// and builds the reply.
func (s *Session) process(m *message, withRoot bool) ([]byte, error) {
	units, err := s.absorb(m)
	if err != nil {
		return nil, err
	}
	if m.final {
		if len(units) > 0 {
			return nil, fmt.Errorf("%w: final message asks for a reply", ErrProtocol)
		}
		if !s.verify() {
			return nil, fmt.Errorf("%w: differences do not account for the roots", ErrVerify)
		}
		s.done = true
		return nil, nil
	}
	return s.respond(units, withRoot)
}
