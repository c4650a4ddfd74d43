package mesh

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 127, 128, 300, 16 << 10} {
		p := bytes.Repeat([]byte{0xab}, size)
		var buf bytes.Buffer
		if err := WriteFrame(&buf, p); err != nil {
			t.Fatalf("WriteFrame(%d bytes): %v", size, err)
		}
		for name, r := range map[string]io.Reader{
			"plain":    bytes.NewReader(buf.Bytes()),
			"bufio":    bufio.NewReader(bytes.NewReader(buf.Bytes())),
			"one-byte": iotest.OneByteReader(bytes.NewReader(buf.Bytes())),
		} {
			got, err := ReadFrame(r, size)
			if err != nil || !bytes.Equal(got, p) {
				t.Errorf("%s: ReadFrame(%d bytes) = %d bytes, %v; want round trip", name, size, len(got), err)
			}
			if _, err := ReadFrame(r, size); err != io.EOF {
				t.Errorf("%s: ReadFrame at end = %v, want io.EOF", name, err)
			}
		}
	}
}

func TestReadFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		max   int
		want  error
	}{
		{"empty input", nil, 10, io.EOF},
		{"declared over limit", []byte{11}, 10, ErrFrameTooLarge},
		{"huge declared length allocates nothing", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 1 << 20, ErrFrameTooLarge},
		{"negative max", []byte{1, 'x'}, -1, ErrFrameTooLarge},
		{"truncated prefix", []byte{0x80}, 10, io.ErrUnexpectedEOF},
		{"truncated payload", []byte{5, 'a', 'b'}, 10, io.ErrUnexpectedEOF},
		{"prefix longer than 10 bytes", bytes.Repeat([]byte{0x80}, 11), 10, ErrMalformedFrame},
		{"prefix overflows 64 bits", append(bytes.Repeat([]byte{0xff}, 9), 0x02), 10, ErrMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tt.input), tt.max)
			if !errors.Is(err, tt.want) {
				t.Errorf("ReadFrame(%x, %d) error = %v, want %v", tt.input, tt.max, err, tt.want)
			}
		})
	}
}

func TestReadFrameNoProgress(t *testing.T) {
	_, err := ReadFrame(zeroReader{}, 10)
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("ReadFrame(reader returning 0, nil) = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 'c'}, 8)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 8)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit = min(limit, 1<<16)
		p, err := ReadFrame(bytes.NewReader(in), limit)
		// A negative limit reads as 0: only empty frames pass.
		if err == nil && len(p) > max(limit, 0) {
			t.Fatalf("ReadFrame returned %d bytes over limit %d", len(p), limit)
		}
	})
}
