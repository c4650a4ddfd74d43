package mesh

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame layout, used by upper layers on their streams:
//
//	uvarint(len(payload)) || payload
//
// The length is an unsigned LEB128 varint (encoding/binary.PutUvarint) of
// at most 10 bytes. A zero-length frame is valid. This layout is stable:
// changing it requires a new stream kind.

// WriteFrame writes p to w as one length-prefixed frame, in a single Write
// call so that a frame on a QUIC stream is handed to the stack at once.
func WriteFrame(w io.Writer, p []byte) error {
	buf := make([]byte, 0, binary.MaxVarintLen64+len(p))
	buf = binary.AppendUvarint(buf, uint64(len(p)))
	buf = append(buf, p...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("mesh: write frame: %w", err)
	}
	return nil
}

// ReadFrame reads one frame written by WriteFrame and returns its payload
// in a newly allocated slice owned by the caller. A declared length above
// max fails with ErrFrameTooLarge before anything is allocated; the
// stream is then out of sync and should be closed. At a clean frame
// boundary end of input is reported as io.EOF; inside a frame as
// io.ErrUnexpectedEOF.
//
// If r implements io.ByteReader (bufio.Reader does) the prefix is read
// through it; otherwise one byte per Read call.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	if max < 0 {
		max = 0
	}
	br, ok := r.(io.ByteReader)
	if !ok {
		br = byteReader{r}
	}
	n, err := readUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("mesh: read frame payload: %w", err)
	}
	return p, nil
}

// readUvarint is binary.ReadUvarint with this package's errors: io.EOF
// only before the first byte, ErrMalformedFrame for an overlong prefix.
func readUvarint(br io.ByteReader) (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := br.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("mesh: read frame length: %w", err)
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, fmt.Errorf("%w: length overflows 64 bits", ErrMalformedFrame)
			}
			return x | uint64(b)<<s, nil
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, fmt.Errorf("%w: length prefix longer than %d bytes", ErrMalformedFrame, binary.MaxVarintLen64)
}

// byteReader adapts an io.Reader to io.ByteReader without buffering, so no
// bytes beyond the prefix are consumed.
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var buf [1]byte
	for range 100 {
		n, err := b.r.Read(buf[:])
		if n == 1 {
			return buf[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}
