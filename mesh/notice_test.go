package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"murmur/identity"
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

// refusingReplica refuses every op it is sent, as a node's local policy
// refuses a blocked author's.
type refusingReplica struct{ *memReplica }

func (r refusingReplica) Ingest(_ identity.PublicKey, _ [32]byte, ops [][]byte) (IngestResult, error) {
	return IngestResult{Refused: len(ops), RefusedReason: errors.New("author is blocked by this node")}, nil
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRefusalNotice: ops refused by the receiver's policy are not the
// sender's fault, and the sender's log says why they did not arrive.
func TestRefusalNotice(t *testing.T) {
	repo := testRepo("notice")
	ra, rb := newMemReplica(repo), newMemReplica(repo)
	rb.writeChain(repo, 1, 5, "b", [32]byte{})
	var logs lockedBuffer
	a := startNode(t, refusingReplica{ra}, nil)
	b := startNode(t, rb, func(c *NodeConfig) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	connect(t, b, a)
	if _, err := b.SyncWith(testContext(t), a.ID(), repo); err != nil {
		t.Fatalf("SyncWith: %v", err)
	}
	waitFor(t, "the notice in the sender's log", func() bool {
		return strings.Contains(logs.String(), "peer refused our ops by its policy") &&
			strings.Contains(logs.String(), "author is blocked by this node")
	})
	if got := a.Stats().OpsRefused; got != 5 {
		t.Errorf("receiver's OpsRefused = %d, want 5", got)
	}
	if got := b.Stats().NoticesReceived; got == 0 {
		t.Error("sender's NoticesReceived = 0, want a notice")
	}
	if p := a.Stats().Penalties; p != 0 {
		t.Errorf("receiver penalized %d peers for ops its policy refused", p)
	}
}

// TestAdmitRefusesPeer: a peer the admit check refuses cannot connect,
// and its dial says why.
func TestAdmitRefusesPeer(t *testing.T) {
	kb := newKey(t)
	a := startNode(t, newMemReplica(), func(c *NodeConfig) {
		c.Admit = func(p identity.PublicKey) error {
			if p == kb.Public() {
				return errors.New("peer is blocked by local policy")
			}
			return nil
		}
	})
	b := startNodeKey(t, kb, newMemReplica(), nil)
	_, err := b.Connect(testContext(t), a.Addr())
	if err == nil {
		waitFor(t, "the refused connection closed", func() bool { return a.ep.Conn(kb.Public()) == nil })
	} else if !strings.Contains(err.Error(), "blocked by local policy") {
		t.Fatalf("Connect to a node that blocks us = %v, want the reason", err)
	}
	// The dialer may hear the refusal before the refusing side has
	// counted it.
	waitFor(t, "the endpoint to count the refused peer", func() bool { return a.ep.Stats().RefusedPeers > 0 })
}
