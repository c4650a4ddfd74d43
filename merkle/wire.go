package merkle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// FormatVersion is the first byte of every reconciliation message. A peer
// that receives another version fails the session with ErrVersion.
const FormatVersion = 1

// Protocol limits. They are part of the format: a receiver rejects a
// message that exceeds any of them before allocating for it, and a sender
// never produces one.
const (
	// MaxMessageSize is the largest message, in bytes.
	MaxMessageSize = 4 << 20
	// MaxRecords is the largest number of records in one message.
	MaxRecords = 1 << 16
	// MaxListLen is the largest number of entries in one record's ID list,
	// prefix list or index set.
	MaxListLen = 1 << 15
	// maxRangeCount bounds a fingerprint record's item count.
	maxRangeCount = 1 << 40
)

// Record modes. Wire constants: never renumber.
const (
	modeSkip        = 0
	modeFingerprint = 1
	modePrefixList  = 2
	modeFullList    = 3
	modePrefixReply = 4
	modeFullReply   = 5
	modeItems       = 6
	maxMode         = modeItems
)

// Message flags. Wire constants.
const (
	flagFinal   = 1 << 0
	flagRoot    = 1 << 1
	flagStrict  = 1 << 2
	flagRestart = 1 << 3
	allFlags    = flagFinal | flagRoot | flagStrict | flagRestart
)

// Index set forms. Wire constants.
const (
	idxList       = 0
	idxComplement = 1
	idxBitmap     = 2
)

const (
	prefixSize   = 8  // bytes of an ID in a prefix list
	shortFPSize  = 8  // bytes of a fingerprint in a normal session
	strictFPSize = 32 // bytes of a fingerprint in a strict session
	boundInf     = 0xFF
	boundPrefix  = 0x40 // bound header bit: an ID prefix follows
)

// Errors. Decoding failures are *DecodeError values that unwrap to
// ErrMalformed, ErrTooLarge or ErrVersion; session failures wrap the rest.
// Every error a Session returns is final: the session stays failed.
var (
	// ErrMalformed reports a message that does not follow the format.
	ErrMalformed = errors.New("merkle: malformed message")
	// ErrTooLarge reports a message over MaxMessageSize or over another
	// protocol limit.
	ErrTooLarge = errors.New("merkle: message over a protocol limit")
	// ErrVersion reports an unknown format version.
	ErrVersion = errors.New("merkle: unsupported format version")
	// ErrProtocol reports a well-formed message that the session cannot
	// accept at this point: the peer is buggy or hostile.
	ErrProtocol = errors.New("merkle: peer violated the reconciliation protocol")
	// ErrVerify reports that the computed differences failed the final
	// check even with the fallback to full IDs: the peer is buggy or
	// hostile, or it constructed fingerprint collisions.
	ErrVerify = errors.New("merkle: reconciliation failed verification")
	// ErrTooManyRounds reports a session that exceeded Options.MaxRoundTrips.
	ErrTooManyRounds = errors.New("merkle: too many round trips")
	// ErrTreeChanged reports that the tree was modified during the session.
	ErrTreeChanged = errors.New("merkle: tree modified during the session")
	// ErrSessionDone reports a Receive after the session finished.
	ErrSessionDone = errors.New("merkle: session already done")
)

// DecodeError describes a message the decoder rejected.
type DecodeError struct {
	Offset int    // byte offset where decoding stopped
	Reason string // what was wrong
	Err    error  // ErrMalformed, ErrTooLarge or ErrVersion
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", e.Err, e.Offset, e.Reason)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// message is a decoded reconciliation message.
type message struct {
	final, strict, restart bool
	hasRoot                bool
	root                   Root
	recs                   []record
}

func (m *message) fpLen() int {
	if m.strict {
		return strictFPSize
	}
	return shortFPSize
}

// record is one range of a message: [previous record's hi, hi). Its slices
// alias the decoded buffer.
type record struct {
	hi    bound
	mode  byte
	count uint64   // modeFingerprint
	fp    []byte   // modeFingerprint
	n     int      // number of entries in list
	list  []byte   // n×8 prefix bytes (modePrefixList) or n×32 ID bytes
	idx   indexSet // modePrefixReply, modeFullReply
}

func (r *record) id(i int) (id [32]byte) {
	copy(id[:], r.list[i*32:])
	return id
}

func (r *record) prefix(i int) uint64 {
	return binary.BigEndian.Uint64(r.list[i*prefixSize:])
}

// indexSet is a set of positions in a list of known length, in one of three
// encodings; raw aliases the message.
type indexSet struct {
	form byte
	n    int // universe size (complement and bitmap forms)
	k    int // listed entries (list and complement forms)
	raw  []byte
}

// members calls fn for each position in the set, in increasing order,
// after checking the set against a list of length universe.
func (x *indexSet) members(universe int, fn func(int)) error {
	switch x.form {
	case idxList:
		if x.k > universe {
			return fmt.Errorf("%w: index set has %d entries for a list of %d", ErrProtocol, x.k, universe)
		}
		idx, off := -1, 0
		for range x.k {
			g, w := binary.Uvarint(x.raw[off:])
			off += w
			idx += int(g) + 1
			if idx >= universe {
				return fmt.Errorf("%w: index %d in a list of %d", ErrProtocol, idx, universe)
			}
			fn(idx)
		}
	case idxComplement:
		if x.n != universe {
			return fmt.Errorf("%w: index set over %d entries for a list of %d", ErrProtocol, x.n, universe)
		}
		next, off, idx := 0, 0, -1
		for range x.k {
			g, w := binary.Uvarint(x.raw[off:])
			off += w
			idx += int(g) + 1
			for ; next < idx; next++ {
				fn(next)
			}
			next = idx + 1
		}
		for ; next < universe; next++ {
			fn(next)
		}
	case idxBitmap:
		if x.n != universe {
			return fmt.Errorf("%w: index set over %d entries for a list of %d", ErrProtocol, x.n, universe)
		}
		for i := range x.n {
			if x.raw[i/8]&(1<<(i%8)) != 0 {
				fn(i)
			}
		}
	}
	return nil
}

// reader decodes a message with bounds checks on every read.
type reader struct {
	b   []byte
	off int
}

func (r *reader) fail(kind error, format string, args ...any) error {
	return &DecodeError{Offset: r.off, Reason: fmt.Sprintf(format, args...), Err: kind}
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail(ErrMalformed, "truncated")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		return 0, r.fail(ErrMalformed, "truncated varint")
	case n < 0:
		return 0, r.fail(ErrMalformed, "varint overflows 64 bits")
	case n > 1 && r.b[r.off+n-1] == 0:
		return 0, r.fail(ErrMalformed, "varint not in its shortest form")
	}
	r.off += n
	return v, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, r.fail(ErrMalformed, "truncated: need %d bytes, have %d", n, len(r.b)-r.off)
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b, nil
}

// count reads a length that must be at most limit and, at elemSize bytes
// per element, fit in the rest of the message.
func (r *reader) count(limit, elemSize int, what string) (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(limit) {
		return 0, r.fail(ErrTooLarge, "%s has %d entries, limit %d", what, v, limit)
	}
	if int(v)*elemSize > len(r.b)-r.off {
		return 0, r.fail(ErrMalformed, "truncated %s: %d entries need %d bytes, have %d", what, v, int(v)*elemSize, len(r.b)-r.off)
	}
	return int(v), nil
}

// bound reads a bound encoded relative to prev and checks that it is
// strictly greater than prev.
//
//	header (1 byte): 0xFF = +inf; else bit 6 = ID prefix follows,
//	                 bits 0-5 = tz, bit 7 = 0
//	uvarint v:       clock = ((prev.clock >> tz) + v) << tz
//	if bit 6:        length L (1 byte, 1..32), L bytes, the last non-zero
func (r *reader) bound(prev bound) (bound, error) {
	h, err := r.byte()
	if err != nil {
		return bound{}, err
	}
	if h == boundInf {
		return infBound, nil
	}
	if h&0x80 != 0 {
		return bound{}, r.fail(ErrMalformed, "bad bound header %#x", h)
	}
	tz := uint(h & 0x3f)
	v, err := r.uvarint()
	if err != nil {
		return bound{}, err
	}
	base := prev.clock >> tz
	if v > (^uint64(0)>>tz)-base {
		return bound{}, r.fail(ErrMalformed, "bound clock overflows")
	}
	b := bound{clock: (base + v) << tz}
	if h&boundPrefix != 0 {
		l, err := r.byte()
		if err != nil {
			return bound{}, err
		}
		if l == 0 || l > 32 {
			return bound{}, r.fail(ErrMalformed, "bound prefix length %d", l)
		}
		p, err := r.bytes(int(l))
		if err != nil {
			return bound{}, err
		}
		if p[l-1] == 0 {
			return bound{}, r.fail(ErrMalformed, "bound prefix ends in a zero byte")
		}
		copy(b.id[:], p)
	}
	if b.compare(prev) <= 0 {
		return bound{}, r.fail(ErrMalformed, "bound does not increase")
	}
	return b, nil
}

// gaps validates k increasing indices encoded as gaps, all below limit, and
// returns the bytes they occupy.
func (r *reader) gaps(k, limit int) ([]byte, error) {
	start := r.off
	idx := -1
	for range k {
		g, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		if g >= uint64(limit) || idx+int(g)+1 >= limit {
			return nil, r.fail(ErrMalformed, "index out of range")
		}
		idx += int(g) + 1
	}
	return r.b[start:r.off:r.off], nil
}

func (r *reader) indexSet() (indexSet, error) {
	form, err := r.byte()
	if err != nil {
		return indexSet{}, err
	}
	x := indexSet{form: form}
	switch form {
	case idxList:
		if x.k, err = r.count(MaxListLen, 1, "index list"); err != nil {
			return x, err
		}
		x.raw, err = r.gaps(x.k, MaxListLen)
	case idxComplement:
		if x.n, err = r.count(MaxListLen, 0, "index set universe"); err != nil {
			return x, err
		}
		if x.k, err = r.count(x.n, 1, "index complement"); err != nil {
			return x, err
		}
		x.raw, err = r.gaps(x.k, x.n)
	case idxBitmap:
		if x.n, err = r.count(MaxListLen, 0, "index bitmap"); err != nil {
			return x, err
		}
		if x.raw, err = r.bytes((x.n + 7) / 8); err != nil {
			return x, err
		}
		if x.n%8 != 0 && x.raw[len(x.raw)-1]>>(x.n%8) != 0 {
			return x, r.fail(ErrMalformed, "index bitmap has bits past its length")
		}
	default:
		return x, r.fail(ErrMalformed, "unknown index set form %d", form)
	}
	return x, err
}

// decodeMessage parses and validates the structure of one message. It
// checks every count against the protocol limits and the bytes left before
// allocating, and never panics. The records alias b.
func decodeMessage(b []byte) (*message, error) {
	r := &reader{b: b}
	if len(b) > MaxMessageSize {
		return nil, r.fail(ErrTooLarge, "message is %d bytes, limit %d", len(b), MaxMessageSize)
	}
	v, err := r.byte()
	if err != nil {
		return nil, err
	}
	if v != FormatVersion {
		return nil, &DecodeError{Offset: 0, Reason: fmt.Sprintf("version %d, want %d", v, FormatVersion), Err: ErrVersion}
	}
	flags, err := r.byte()
	if err != nil {
		return nil, err
	}
	if flags&^allFlags != 0 {
		return nil, r.fail(ErrMalformed, "unknown flags %#x", flags)
	}
	m := &message{
		final:   flags&flagFinal != 0,
		strict:  flags&flagStrict != 0,
		restart: flags&flagRestart != 0,
		hasRoot: flags&flagRoot != 0,
	}
	if m.hasRoot {
		if m.root.Count, err = r.uvarint(); err != nil {
			return nil, err
		}
		s, err := r.bytes(32)
		if err != nil {
			return nil, err
		}
		copy(m.root.Sum[:], s)
	}
	fpLen := m.fpLen()
	prev := minBound
	for r.off < len(b) {
		if prev.inf {
			return nil, r.fail(ErrMalformed, "trailing bytes after the last range")
		}
		if len(m.recs) == MaxRecords {
			return nil, r.fail(ErrTooLarge, "more than %d records", MaxRecords)
		}
		mode, err := r.byte()
		if err != nil {
			return nil, err
		}
		if mode > maxMode {
			return nil, r.fail(ErrMalformed, "unknown record mode %d", mode)
		}
		rec := record{mode: mode}
		if rec.hi, err = r.bound(prev); err != nil {
			return nil, err
		}
		switch mode {
		case modeFingerprint:
			if rec.count, err = r.uvarint(); err != nil {
				return nil, err
			}
			if rec.count > maxRangeCount {
				return nil, r.fail(ErrTooLarge, "range count %d", rec.count)
			}
			rec.fp, err = r.bytes(fpLen)
		case modePrefixList:
			if rec.n, err = r.count(MaxListLen, prefixSize, "prefix list"); err == nil {
				rec.list, err = r.bytes(rec.n * prefixSize)
			}
		case modeFullList, modeItems:
			if rec.n, err = r.count(MaxListLen, 32, "ID list"); err == nil {
				rec.list, err = r.bytes(rec.n * 32)
			}
		case modePrefixReply, modeFullReply:
			if rec.idx, err = r.indexSet(); err != nil {
				return nil, err
			}
			if rec.n, err = r.count(MaxListLen, 32, "ID list"); err == nil {
				rec.list, err = r.bytes(rec.n * 32)
			}
		}
		if err != nil {
			return nil, err
		}
		m.recs = append(m.recs, rec)
		prev = rec.hi
	}
	return m, nil
}

// appendBound encodes b relative to prev (b > prev); see reader.bound.
func appendBound(buf []byte, prev, b bound) []byte {
	if b.inf {
		return append(buf, boundInf)
	}
	tz := min(bits.TrailingZeros64(b.clock), 63)
	l := b.prefixLen()
	h := byte(tz)
	if l > 0 {
		h |= boundPrefix
	}
	buf = append(buf, h)
	buf = binary.AppendUvarint(buf, b.clock>>tz-prev.clock>>tz)
	if l > 0 {
		buf = append(buf, byte(l))
		buf = append(buf, b.id[:l]...)
	}
	return buf
}

// appendIndexSet encodes the sorted positions members of a list of length
// universe in whichever form is shortest.
func appendIndexSet(buf []byte, universe int, members []int) []byte {
	listSize, compSize := uvarintLen(uint64(len(members))), uvarintLen(uint64(universe))+uvarintLen(uint64(universe-len(members)))
	prev := -1
	for _, m := range members {
		listSize += uvarintLen(uint64(m - prev - 1))
		prev = m
	}
	prev, j := -1, 0
	for i := range universe {
		if j < len(members) && members[j] == i {
			j++
			continue
		}
		compSize += uvarintLen(uint64(i - prev - 1))
		prev = i
	}
	bitmapSize := uvarintLen(uint64(universe)) + (universe+7)/8
	switch {
	case listSize <= compSize && listSize <= bitmapSize:
		buf = append(buf, idxList)
		buf = binary.AppendUvarint(buf, uint64(len(members)))
		prev := -1
		for _, m := range members {
			buf = binary.AppendUvarint(buf, uint64(m-prev-1))
			prev = m
		}
	case compSize <= bitmapSize:
		buf = append(buf, idxComplement)
		buf = binary.AppendUvarint(buf, uint64(universe))
		buf = binary.AppendUvarint(buf, uint64(universe-len(members)))
		prev, j := -1, 0
		for i := range universe {
			if j < len(members) && members[j] == i {
				j++
				continue
			}
			buf = binary.AppendUvarint(buf, uint64(i-prev-1))
			prev = i
		}
	default:
		buf = append(buf, idxBitmap)
		buf = binary.AppendUvarint(buf, uint64(universe))
		start := len(buf)
		buf = append(buf, make([]byte, (universe+7)/8)...)
		for _, m := range members {
			buf[start+m/8] |= 1 << (m % 8)
		}
	}
	return buf
}

func uvarintLen(v uint64) int {
	return (bits.Len64(v|1) + 6) / 7
}

// encodeMessage re-encodes a decoded message record by record. The session
// builds messages with an encoder instead; this exists so tests can check
// that decoding and encoding agree.
func encodeMessage(m *message) []byte {
	var flags byte
	if m.final {
		flags |= flagFinal
	}
	if m.hasRoot {
		flags |= flagRoot
	}
	if m.strict {
		flags |= flagStrict
	}
	if m.restart {
		flags |= flagRestart
	}
	buf := []byte{FormatVersion, flags}
	if m.hasRoot {
		buf = binary.AppendUvarint(buf, m.root.Count)
		buf = append(buf, m.root.Sum[:]...)
	}
	prev := minBound
	for i := range m.recs {
		rec := &m.recs[i]
		buf = append(buf, rec.mode)
		buf = appendBound(buf, prev, rec.hi)
		switch rec.mode {
		case modeFingerprint:
			buf = binary.AppendUvarint(buf, rec.count)
			buf = append(buf, rec.fp...)
		case modePrefixList, modeFullList, modeItems:
			buf = binary.AppendUvarint(buf, uint64(rec.n))
			buf = append(buf, rec.list...)
		case modePrefixReply, modeFullReply:
			buf = append(buf, rec.idx.form)
			switch rec.idx.form {
			case idxList:
				buf = binary.AppendUvarint(buf, uint64(rec.idx.k))
			case idxComplement:
				buf = binary.AppendUvarint(buf, uint64(rec.idx.n))
				buf = binary.AppendUvarint(buf, uint64(rec.idx.k))
			case idxBitmap:
				buf = binary.AppendUvarint(buf, uint64(rec.idx.n))
			}
			buf = append(buf, rec.idx.raw...)
			buf = binary.AppendUvarint(buf, uint64(rec.n))
			buf = append(buf, rec.list...)
		}
		prev = rec.hi
	}
	return buf
}

// encoder builds one outgoing message. Records are written in key order;
// a gap before a record becomes a Skip record, and the space after the
// last record is implicitly skipped.
type encoder struct {
	buf   []byte
	last  bound // upper bound of the last record written
	recs  int
	open  int // records that need an answer
	fpLen int
}

type encMark struct {
	n, recs, open int
	last          bound
}

func (s *Session) newEncoder(flags byte, withRoot bool) *encoder {
	e := &encoder{fpLen: shortFPSize}
	if s.strict {
		flags |= flagStrict
		e.fpLen = strictFPSize
	}
	if withRoot {
		flags |= flagRoot
	}
	e.buf = append(make([]byte, 0, 512), FormatVersion, flags)
	if withRoot {
		e.buf = binary.AppendUvarint(e.buf, s.root.Count)
		e.buf = append(e.buf, s.root.Sum[:]...)
	}
	return e
}

func (e *encoder) mark() encMark {
	return encMark{n: len(e.buf), recs: e.recs, open: e.open, last: e.last}
}

func (e *encoder) reset(m encMark) {
	e.buf, e.recs, e.open, e.last = e.buf[:m.n], m.recs, m.open, m.last
}

func (e *encoder) head(lo bound, mode byte, hi bound) {
	if lo != e.last {
		e.buf = append(e.buf, modeSkip)
		e.buf = appendBound(e.buf, e.last, lo)
		e.last = lo
		e.recs++
	}
	e.buf = append(e.buf, mode)
	e.buf = appendBound(e.buf, e.last, hi)
	e.last = hi
	e.recs++
}

// fingerprint writes a fingerprint record for [lo, hi) given our count
// there and our prefix sums at lo and hi.
func (e *encoder) fingerprint(lo, hi bound, count int, s0, s1 fpSum) {
	s1.sub(&s0)
	fp := fingerprint(uint64(count), &s1)
	e.head(lo, modeFingerprint, hi)
	e.buf = binary.AppendUvarint(e.buf, uint64(count))
	e.buf = append(e.buf, fp[:e.fpLen]...)
	e.open++
}

func (e *encoder) list(lo, hi bound, kind byte, items []Item) {
	e.head(lo, kind, hi)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(items)))
	for i := range items {
		if kind == modePrefixList {
			e.buf = append(e.buf, items[i].ID[:prefixSize]...)
		} else {
			e.buf = append(e.buf, items[i].ID[:]...)
		}
	}
	e.open++
}

func (e *encoder) reply(lo, hi bound, kind byte, universe int, members []int, items []Item) {
	e.head(lo, kind, hi)
	e.buf = appendIndexSet(e.buf, universe, members)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(items)))
	for i := range items {
		e.buf = append(e.buf, items[i].ID[:]...)
	}
}

func (e *encoder) items(lo, hi bound, items []Item) {
	e.head(lo, modeItems, hi)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(items)))
	for i := range items {
		e.buf = append(e.buf, items[i].ID[:]...)
	}
}
