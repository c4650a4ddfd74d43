package workload_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/crdt"
	"murmur/forge"
	"murmur/internal/workload"
	"murmur/op"
	"murmur/storage"
)

func openStore(t testing.TB) *storage.Store {
	t.Helper()
	s, err := storage.Open("db", &storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpsDeterministic(t *testing.T) {
	a, err := workload.Ops(300, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := workload.Ops(300, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(a, b, bytes.Equal) {
		t.Errorf("Ops(300, 7) differs between calls")
	}
	c, err := workload.Ops(300, 8)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[0], c[0]) {
		t.Errorf("Ops with different seeds made the same genesis op")
	}
	for _, n := range []int{0, -1} {
		if _, err := workload.Ops(n, 1); err == nil {
			t.Errorf("Ops(%d) succeeded, want an error", n)
		}
	}
	if ops, err := workload.Ops(1, 1); err != nil || len(ops) != 1 {
		t.Errorf("Ops(1) = %d ops, %v; want the genesis op", len(ops), err)
	}
}

// TestOpsIngest checks that every generated op is valid and accepted, and
// that the history has the promised shape.
func TestOpsIngest(t *testing.T) {
	n := 3000
	if raceEnabled {
		n = 1000
	}
	raw, err := workload.Ops(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != n {
		t.Fatalf("Ops(%d) returned %d ops", n, len(raw))
	}
	s := openStore(t)
	if err := workload.IngestPipeline(s, raw, 256); err != nil {
		t.Fatalf("IngestPipeline: %v", err)
	}
	g, err := op.Decode(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	repo := g.ID()
	if c, err := s.OpCount(repo); err != nil || c != n || s.Pending() != 0 {
		t.Fatalf("OpCount = %d, %v, Pending %d; want %d, 0", c, err, s.Pending(), n)
	}
	kinds := map[string]int{}
	merges, rejected := 0, 0
	err = s.ForEachOp(repo, func(_ crdt.Timestamp, id op.ID) error {
		m, err := s.Meta(id)
		if err != nil {
			return err
		}
		if !m.Accepted {
			rejected++
			t.Errorf("op %s (%s) rejected: %s", id.Short(), m.Kind, m.Reason)
		}
		kinds[m.Kind]++
		o, err := s.Op(id)
		if err != nil {
			return err
		}
		if len(o.Parents) > 1 {
			merges++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{forge.KindIssueOpen, forge.KindCommentAdd, forge.KindTitle, forge.KindBody, forge.KindLabelAdd,
		forge.KindLabelDel, forge.KindAssigneeAdd, forge.KindReactionAdd, forge.KindCommentEdit, forge.KindState, forge.KindMaintainerAdd} {
		if kinds[k] == 0 {
			t.Errorf("no %s ops in %v", k, kinds)
		}
	}
	if merges == 0 {
		t.Errorf("no concurrency: every op has one parent")
	}
	if issues := kinds[forge.KindIssueOpen]; issues != n/10 {
		t.Errorf("%d issues, want %d", issues, n/10)
	}
	roles, err := s.RolesAt(repo)
	if err != nil || len(roles.Maintainers()) != 1+workload.Maintainers {
		t.Errorf("maintainers = %v, %v", roles, err)
	}
	t.Logf("kinds %v, %d merges", kinds, merges)
}

func TestIngestPipelineRejects(t *testing.T) {
	raw, err := workload.Ops(50, 3)
	if err != nil {
		t.Fatal(err)
	}
	badSig := slices.Clone(raw)
	b := bytes.Clone(badSig[20])
	b[len(b)-1] ^= 1 // the last byte of the signature
	badSig[20] = b
	truncated := slices.Clone(raw)
	truncated[30] = truncated[30][:len(truncated[30])-1]

	tests := []struct {
		name string
		raw  [][]byte
		want error
		good int // ops stored before the failing batch
	}{
		{"bad signature", badSig, op.ErrBadSignature, 20},
		{"truncated", truncated, op.ErrMalformed, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			err := workload.IngestPipeline(s, tt.raw, 10)
			if !errors.Is(err, workload.ErrInvalidOps) || !errors.Is(err, tt.want) {
				t.Fatalf("IngestPipeline = %v, want ErrInvalidOps wrapping %v", err, tt.want)
			}
			g, _ := op.Decode(raw[0])
			if n, _ := s.OpCount(g.ID()); n != tt.good {
				t.Errorf("%d ops stored, want the %d before the failing batch", n, tt.good)
			}
		})
	}
}

func ExampleOps() {
	raw, err := workload.Ops(1000, 1)
	if err != nil {
		panic(err)
	}
	s, err := storage.Open("db", &storage.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := workload.IngestPipeline(s, raw, 1000); err != nil {
		panic(err)
	}
	g, _ := op.Decode(raw[0])
	n, _ := s.OpCount(g.ID())
	issues, _ := s.CountObjects(g.ID(), forge.TypeIssue, "")
	fmt.Println(n, "ops,", issues, "issues")
	// Output: 1000 ops, 100 issues
}
