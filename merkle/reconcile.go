package merkle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// unit is a piece of work found in an incoming message, answered by one or
// more records of the reply.
type unit struct {
	kind   byte // modeFingerprint (a run of mismatched ranges), modePrefixList, modeFullList, modeItems
	lo, hi bound
	r0, r1 int   // our ranks at lo and hi
	s0, s1 fpSum // our prefix sums at lo and hi
	peer   uint64
	parts  []part  // modeFingerprint: the peer's ranges in the run
	rec    *record // list kinds: the peer's list
	send   []Item  // modeItems: the items the peer requested
}

type part struct {
	lo, hi bound
	peer   uint64
	r0, r1 int
}

// absorb walks the records of m: it takes in the IDs replies carry, checks
// them against the replies our last message asked for, and collects the
// work the rest calls for.
func (s *Session) absorb(m *message) ([]unit, error) {
	var units []unit
	var run *unit
	fps, mismatched := 0, 0
	flush := func() {
		if run != nil {
			units = append(units, *run)
			run = nil
		}
	}
	exp := s.expect
	s.expect = nil
	ei := 0
	lo, r0, s0 := minBound, 0, fpSum{}
	fpLen := m.fpLen()
	for i := range m.recs {
		rec := &m.recs[i]
		hi := rec.hi
		r1, s1 := s.tree.prefix(hi)
		for ei < len(exp) && exp[ei].hi.compare(lo) <= 0 {
			ei++
		}
		reopen := func() {
			for j := ei; j < len(exp) && exp[j].lo.compare(hi) < 0; j++ {
				exp[j].answered = true
			}
		}
		match := func(kind byte) (*expectation, error) {
			if ei < len(exp) && exp[ei].kind == kind && exp[ei].lo == lo && exp[ei].hi == hi {
				exp[ei].answered = true
				return &exp[ei], nil
			}
			return nil, fmt.Errorf("%w: mode %d record for a range we did not ask about", ErrProtocol, rec.mode)
		}
		switch rec.mode {
		case modeSkip:
			flush()
		case modeFingerprint:
			reopen()
			fps++
			sum := s1
			sum.sub(&s0)
			fp := fingerprint(uint64(r1-r0), &sum)
			if uint64(r1-r0) == rec.count && bytes.Equal(fp[:fpLen], rec.fp) {
				flush()
				break
			}
			mismatched++
			if run != nil && len(run.parts) >= s.maxRunParts() {
				flush()
			}
			if run == nil {
				run = &unit{kind: modeFingerprint, lo: lo, r0: r0, s0: s0}
			}
			run.hi, run.r1, run.s1 = hi, r1, s1
			run.peer += rec.count
			run.parts = append(run.parts, part{lo: lo, hi: hi, peer: rec.count, r0: r0, r1: r1})
		case modePrefixList, modeFullList:
			if rec.mode == modePrefixList && s.strict {
				return nil, fmt.Errorf("%w: prefix list in a strict session", ErrProtocol)
			}
			flush()
			reopen()
			units = append(units, unit{kind: rec.mode, lo: lo, hi: hi, r0: r0, r1: r1, s0: s0, s1: s1, rec: rec})
		case modePrefixReply:
			flush()
			e, err := match(modePrefixList)
			if err != nil {
				return nil, err
			}
			var send []Item
			if err := rec.idx.members(len(e.items), func(i int) { send = append(send, e.items[i]) }); err != nil {
				return nil, err
			}
			if err := s.takeExtras(rec, e.items, lo); err != nil {
				return nil, err
			}
			if len(send) > 0 {
				units = append(units, unit{kind: modeItems, lo: lo, hi: hi, r0: r0, r1: r1, s0: s0, s1: s1, send: send})
			}
		case modeFullReply:
			flush()
			e, err := match(modeFullList)
			if err != nil {
				return nil, err
			}
			if err := rec.idx.members(len(e.items), func(i int) { s.have[e.items[i].ID] = e.items[i] }); err != nil {
				return nil, err
			}
			if err := s.takeExtras(rec, e.items, lo); err != nil {
				return nil, err
			}
		case modeItems:
			flush()
			e, err := match(modeItems)
			if err != nil {
				return nil, err
			}
			if rec.n != len(e.prefixes) {
				return nil, fmt.Errorf("%w: %d items sent for %d requested", ErrProtocol, rec.n, len(e.prefixes))
			}
			for j := range rec.n {
				id := rec.id(j)
				if binary.BigEndian.Uint64(id[:]) != e.prefixes[j] {
					return nil, fmt.Errorf("%w: item %d does not match the requested prefix", ErrProtocol, j)
				}
				s.addNeed(id, lo, j)
			}
		}
		lo, r0, s0 = hi, r1, s1
	}
	flush()
	for i := range exp {
		if exp[i].kind == modeItems && !exp[i].answered {
			return nil, fmt.Errorf("%w: requested items were not sent", ErrProtocol)
		}
	}
	s.density = diffsPerMismatch(fps, mismatched)
	return units, nil
}

// maxRunParts caps the ranges merged into one run, so that splitting each
// of them stays within maxParts fingerprints.
func (s *Session) maxRunParts() int { return max(1, s.maxParts/4) }

// diffsPerMismatch estimates how many differences a mismatched range of the
// peer's holds, from the share of its fingerprints that mismatched. With
// differences spread at random over k equal ranges, m of which mismatch, a
// range holds lambda = -ln(1-m/k) on average and, given at least one,
// lambda/(1-e^-lambda). When all mismatch, lambda is at least about ln k.
func diffsPerMismatch(k, m int) float64 {
	if k == 0 || m == 0 {
		return 1
	}
	var lambda float64
	if m >= k {
		lambda = math.Log(float64(k)) + 1
	} else {
		lambda = -math.Log1p(-float64(m) / float64(k))
	}
	if lambda < 1e-9 {
		return 1
	}
	return lambda / -math.Expm1(-lambda)
}

// takeExtras records the IDs of a reply to our list: items the peer has in
// the range and we lack. None may be one we listed.
func (s *Session) takeExtras(rec *record, listed []Item, lo bound) error {
	if rec.n == 0 {
		return nil
	}
	mine := make(map[[32]byte]struct{}, len(listed))
	for _, it := range listed {
		mine[it.ID] = struct{}{}
	}
	for j := range rec.n {
		id := rec.id(j)
		if _, ok := mine[id]; ok {
			return fmt.Errorf("%w: peer sent an item we listed", ErrProtocol)
		}
		s.addNeed(id, lo, j)
	}
	return nil
}

func (s *Session) addNeed(id [32]byte, lo bound, idx int) {
	if _, ok := s.need[id]; !ok {
		s.need[id] = needKey{lo: lo, idx: idx}
	}
}

// outcome is the state change one unit's records imply, applied only if
// the records make it into the message.
type outcome struct {
	have []Item
	need []needAdd
	exp  []expectation
}

type needAdd struct {
	id  [32]byte
	lo  bound
	idx int
}

// respond encodes the reply to the collected units within the message
// budget. Units that do not fit are deferred: each is replaced by our
// fingerprint of its range, which makes the peer reopen it. Room for those
// fingerprints is reserved up front, so the first unit always fits and
// every message makes progress.
func (s *Session) respond(units []unit, withRoot bool) ([]byte, error) {
	e := s.newEncoder(0, withRoot)
	coarse := len(units)*fpRecordMax > s.budget/2 || 2*len(units) > MaxRecords/2
	var exp []expectation
	var o outcome
	for i := range units {
		u := &units[i]
		mark := e.mark()
		o = outcome{have: o.have[:0], need: o.need[:0]}
		s.emit(e, u, &o)
		rest := len(units) - i - 1
		reserve, rreserve := rest*fpRecordMax, 2*rest
		if coarse {
			reserve, rreserve = fpRecordMax, 2
		}
		if len(e.buf)+reserve > s.budget || e.recs+rreserve > MaxRecords {
			e.reset(mark)
			if coarse {
				last := &units[len(units)-1]
				e.fingerprint(u.lo, last.hi, last.r1-u.r0, u.s0, last.s1)
				break
			}
			e.fingerprint(u.lo, u.hi, u.r1-u.r0, u.s0, u.s1)
			continue
		}
		for _, it := range o.have {
			s.have[it.ID] = it
		}
		for _, n := range o.need {
			s.addNeed(n.id, n.lo, n.idx)
		}
		exp = append(exp, o.exp...)
	}
	if e.open > 0 {
		s.expect = exp
		return e.buf, nil
	}
	// Nothing in the reply needs an answer: we know both differences.
	if s.verify() {
		e.buf[1] |= flagFinal
		s.done = true
		return e.buf, nil
	}
	if s.strict {
		return nil, fmt.Errorf("%w: differences do not account for the roots", ErrVerify)
	}
	// An abbreviation collided: start over with full fingerprints and IDs.
	s.resetState()
	s.strict, s.restarted, s.stats.Restarted = true, true, true
	return s.opening(true), nil
}

// emit writes the records answering u.
func (s *Session) emit(e *encoder, u *unit, o *outcome) {
	switch u.kind {
	case modeFingerprint:
		s.emitRun(e, u, o)
	case modePrefixList:
		s.emitPrefixReply(e, u, o)
	case modeFullList:
		s.emitFullReply(e, u, o)
	case modeItems:
		e.items(u.lo, u.hi, u.send)
		o.have = append(o.have, u.send...)
	}
}

// emitRun answers a run of adjacent ranges whose fingerprints differ. A run
// that is small, or dense with the differences it is known to hold, is
// listed; otherwise each range of it is listed when small or dense, else
// split into about fanoutPerDiff parts per estimated difference, so that
// most parts hold none. Adjacent ranges to be listed share a list as long
// as both sides' lists stay short enough (see mergeCap). Once the output
// passes an eighth of the budget, the rest of the run gets one fingerprint,
// which makes the peer reopen it.
func (s *Session) emitRun(e *encoder, u *unit, o *outcome) {
	own := u.r1 - u.r0
	known := max(absDiff(own, u.peer), uint64(len(u.parts)), 1)
	listAll := listable(own, known)
	mergeCap := u.mergeCap()
	pcap := max(2, s.maxParts/len(u.parts))
	density := uint64(math.Ceil(s.density))
	start := len(e.buf)
	g := -1 // first part of the pending list group
	var gOwn int
	var gPeer uint64
	flush := func(end int) {
		if g >= 0 {
			s.emitList(e, o, u.parts[g].lo, u.parts[end].hi, u.parts[g].r0, u.parts[end].r1, gPeer)
			g = -1
		}
	}
	for i, p := range u.parts {
		if len(e.buf)-start+gOwn*32 > s.budget/8 {
			flush(i - 1)
			e.fingerprint(p.lo, u.hi, u.r1-p.r0, s.tree.sumTo(p.r0), u.s1)
			return
		}
		pown := p.r1 - p.r0
		est := max(absDiff(pown, p.peer), density, 1)
		switch {
		case pown > s.listCap && (listAll || listable(pown, est)):
			flush(i - 1)
			s.emitChunks(e, o, p)
		case listAll || pown < 2 || listable(pown, est):
			if g >= 0 && (gOwn+pown > s.listCap || gPeer+p.peer > mergeCap) {
				flush(i - 1)
			}
			if g < 0 {
				g, gOwn, gPeer = i, 0, 0
			}
			gOwn += pown
			gPeer += p.peer
		default:
			flush(i - 1)
			n := uint64(fanoutPerDiff) * min(est, maxRangeCount)
			n = min(n, uint64(pcap), uint64((pown+listThreshold-1)/listThreshold))
			s.emitSplit(e, p.lo, p.hi, p.r0, p.r1, max(int(n), 2))
		}
	}
	flush(len(u.parts) - 1)
}

// mergeCap is how many of the peer's items one of our lists may span when
// it merges several of the peer's ranges. The peer answers a list with its
// items missing from it, and its message budget may be smaller than ours:
// any peer can answer for minListCap items, and for as many as it put in
// one range (a peer that cannot fit an answer splits the range into parts
// it can answer for). Merging beyond that could undo such a split forever.
func (u *unit) mergeCap() uint64 {
	c := uint64(minListCap)
	for _, p := range u.parts {
		c = max(c, p.peer)
	}
	return c
}

// listable reports whether a range with own items of ours and at least
// known differences is better listed than split.
func listable(own int, known uint64) bool {
	return own <= listThreshold || uint64(own) <= denseFactor*min(known, maxRangeCount)
}

func absDiff(own int, peer uint64) uint64 {
	if o := uint64(max(own, 0)); o > peer {
		return o - peer
	} else {
		return peer - o
	}
}

// emitList lists our items in [lo, hi): as full IDs when at least half of
// them are surely missing at the peer (it holds at most half as many items
// there, peer), else as 8-byte prefixes.
func (s *Session) emitList(e *encoder, o *outcome, lo, hi bound, r0, r1 int, peer uint64) {
	items := s.tree.appendRange(nil, r0, r1)
	full := s.strict || len(items) == 0 || 2*peer <= uint64(len(items))
	kind := byte(modePrefixList)
	if full {
		kind = modeFullList
	}
	e.list(lo, hi, kind, items)
	o.exp = append(o.exp, expectation{lo: lo, hi: hi, kind: kind, items: items})
}

// emitChunks lists a range with more of our items than one list holds: it
// lists consecutive chunks of them while they fit a quarter of the budget,
// then sends our fingerprint of the rest.
func (s *Session) emitChunks(e *encoder, o *outcome, p part) {
	t := s.tree
	own := p.r1 - p.r0
	full := s.strict || 2*p.peer <= uint64(own)
	per := prefixSize
	if full {
		per = 32
	}
	lo, r0 := p.lo, p.r0
	for used := 0; r0 < p.r1 && (used == 0 || used+s.listCap*per <= s.budget/4); {
		r1 := min(r0+s.listCap, p.r1)
		hi := p.hi
		if r1 < p.r1 {
			hi = boundBetween(t.at(r1-1), t.at(r1))
		}
		// Only the choice between full IDs and prefixes depends on peer.
		peer := uint64(0)
		if !full {
			peer = uint64(r1 - r0)
		}
		s.emitList(e, o, lo, hi, r0, r1, peer)
		used += (r1 - r0) * per
		lo, r0 = hi, r1
	}
	if r0 < p.r1 {
		e.fingerprint(lo, p.hi, p.r1-r0, t.sumTo(r0), t.sumTo(p.r1))
	}
}

// emitSplit sends fingerprints of p parts of [lo, hi) holding equal shares
// of our r1-r0 items (2 <= p <= r1-r0).
func (s *Session) emitSplit(e *encoder, lo, hi bound, r0, r1, p int) {
	t := s.tree
	c := r1 - r0
	p = min(p, c)
	prevB, prevR, prevS := lo, r0, t.sumTo(r0)
	for i := 1; i <= p; i++ {
		b, r := hi, r1
		if i < p {
			r = r0 + i*c/p
			b = boundBetween(t.at(r-1), t.at(r))
		}
		sum := t.sumTo(r)
		e.fingerprint(prevB, b, r-prevR, prevS, sum)
		prevB, prevR, prevS = b, r, sum
	}
}

// splitForCap splits [r0, r1) into parts small enough that a reply listing
// all of them fits one record.
func (s *Session) splitForCap(e *encoder, u *unit) {
	own := u.r1 - u.r0
	p := min(max(2*((own+s.listCap-1)/s.listCap), 2), s.maxParts)
	s.emitSplit(e, u.lo, u.hi, u.r0, u.r1, p)
}

// emitPrefixReply answers the peer's prefix list: our items whose prefix
// it did not list, in full, and the positions of its prefixes we lack,
// which it must then send in full.
func (s *Session) emitPrefixReply(e *encoder, u *unit, o *outcome) {
	rec := u.rec
	mine := s.tree.appendRange(nil, u.r0, u.r1)
	theirs := make(map[uint64]struct{}, rec.n)
	for i := range rec.n {
		theirs[rec.prefix(i)] = struct{}{}
	}
	var extras []Item
	ours := make(map[uint64]struct{}, len(mine))
	for _, it := range mine {
		p := binary.BigEndian.Uint64(it.ID[:])
		ours[p] = struct{}{}
		if _, ok := theirs[p]; !ok {
			extras = append(extras, it)
		}
	}
	if len(extras) > s.listCap {
		s.splitForCap(e, u)
		return
	}
	var req []int
	var prefixes []uint64
	for i := range rec.n {
		if _, ok := ours[rec.prefix(i)]; !ok {
			req = append(req, i)
			prefixes = append(prefixes, rec.prefix(i))
		}
	}
	if len(req) == 0 && len(extras) == 0 {
		return
	}
	e.reply(u.lo, u.hi, modePrefixReply, rec.n, req, extras)
	if len(req) > 0 {
		e.open++
		o.exp = append(o.exp, expectation{lo: u.lo, hi: u.hi, kind: modeItems, prefixes: prefixes})
	}
	o.have = append(o.have, extras...)
}

// emitFullReply answers the peer's full list: the positions of its IDs we
// lack, and our items it did not list.
func (s *Session) emitFullReply(e *encoder, u *unit, o *outcome) {
	rec := u.rec
	mine := s.tree.appendRange(nil, u.r0, u.r1)
	theirs := make(map[[32]byte]struct{}, rec.n)
	for i := range rec.n {
		theirs[rec.id(i)] = struct{}{}
	}
	var extras []Item
	ours := make(map[[32]byte]struct{}, len(mine))
	for _, it := range mine {
		ours[it.ID] = struct{}{}
		if _, ok := theirs[it.ID]; !ok {
			extras = append(extras, it)
		}
	}
	if len(extras) > s.listCap {
		s.splitForCap(e, u)
		return
	}
	var lacked []int
	for i := range rec.n {
		id := rec.id(i)
		if _, ok := ours[id]; !ok {
			lacked = append(lacked, i)
			o.need = append(o.need, needAdd{id: id, lo: u.lo, idx: i})
		}
	}
	if len(lacked) == 0 && len(extras) == 0 {
		return
	}
	e.reply(u.lo, u.hi, modeFullReply, rec.n, lacked, extras)
	o.have = append(o.have, extras...)
}
