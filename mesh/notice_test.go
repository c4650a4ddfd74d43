package mesh

import (
	"encoding/binary"
	"log/slog"
	"testing"
)

// FuzzNotice checks that any notice frame is either logged or rejected,
// never a panic.
func FuzzNotice(f *testing.F) {
	var repo [32]byte
	ok := binary.AppendUvarint(append([]byte{}, repo[:]...), 3)
	f.Add(append(ok, "author is blocked"...))
	f.Add(repo[:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxNotice {
			return // ReadFrame refuses it before
		}
		n := &Node{log: slog.New(slog.DiscardHandler)}
		err := n.logNotice([32]byte{}, b)
		if err == nil && len(b) < 33 {
			t.Fatalf("logNotice accepted %d bytes", len(b))
		}
	})
}
