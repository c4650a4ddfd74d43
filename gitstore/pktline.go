package gitstore

import (
	"errors"
	"fmt"
	"io"
)

// pkt-line limits and special packets (gitprotocol-common(5)).
const (
	maxPktLen = 65520 // including the four length digits

	pktFlush       = 0 // "0000": end of a request or a section
	pktDelim       = 1 // "0001": command / arguments separator
	pktResponseEnd = 2 // "0002": end of a stateless response
)

// ErrMalformed is matched by errors for input that is not well-formed
// git protocol.
var ErrMalformed = errors.New("gitstore: malformed git protocol")

// pkt is one pkt-line: a special packet (special >= 0, data nil) or data.
type pkt struct {
	special int
	data    []byte
	raw     []byte // the packet as it was read, length digits included
}

// readPkt reads one pkt-line, checking its length before allocating.
func readPkt(r io.Reader) (pkt, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return pkt{}, fmt.Errorf("%w: truncated pkt-line length", ErrMalformed)
		}
		return pkt{}, err
	}
	n := 0
	for _, c := range hdr {
		d, ok := hexDigit(c)
		if !ok {
			return pkt{}, fmt.Errorf("%w: pkt-line length %q is not hex", ErrMalformed, hdr[:])
		}
		n = n<<4 | d
	}
	switch {
	case n <= pktResponseEnd:
		return pkt{special: n, raw: append([]byte(nil), hdr[:]...)}, nil
	case n < 4 || n > maxPktLen:
		return pkt{}, fmt.Errorf("%w: pkt-line length %d outside 4..%d", ErrMalformed, n, maxPktLen)
	}
	raw := make([]byte, n)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(r, raw[4:]); err != nil {
		return pkt{}, fmt.Errorf("%w: truncated pkt-line: %v", ErrMalformed, err)
	}
	return pkt{special: -1, data: raw[4:], raw: raw}, nil
}

func hexDigit(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// text returns a data packet without its trailing newline.
func (p pkt) text() string {
	s := string(p.data)
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	return s
}
