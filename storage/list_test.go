package storage_test

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// issueStore returns a store holding a repo (its genesis) with n issues.
func issueStore(tb testing.TB, n int) (*storage.Store, *op.Op) {
	tb.Helper()
	k := testKey(tb, 1)
	g := genesis(tb, k, "murmur")
	s := open(tb, nil, nil)
	ingest(tb, s, g)
	ingest(tb, s, chain(tb, k, g, n)...)
	return s, g
}

func TestListSummaries(t *testing.T) {
	s, g := issueStore(t, 30)

	// The expected order, from the plain index.
	all, err := s.Summaries(g.ID(), forge.TypeIssue, "")
	if err != nil || len(all) != 30 {
		t.Fatalf("Summaries = %d summaries, %v; want 30", len(all), err)
	}
	slices.SortFunc(all, func(a, b forge.Summary) int { return cmp.Compare(b.Updated, a.Updated) })
	even := func(s *forge.Summary) bool {
		var n int
		fmt.Sscanf(strings.TrimPrefix(s.Title, "issue "), "%d", &n)
		return n%2 == 0
	}
	var allEven []forge.Summary
	for _, sm := range all {
		if even(&sm) {
			allEven = append(allEven, sm)
		}
	}
	for _, tc := range []struct {
		limit int
		keep  func(*forge.Summary) bool
		want  []forge.Summary
	}{
		{0, nil, all},
		{1, nil, all[:1]},
		{7, nil, all[:7]},
		{30, nil, all},
		{100, nil, all},
		{5, even, allEven[:5]},
		{0, even, allEven},
	} {
		got, err := s.ListSummaries(g.ID(), forge.TypeIssue, "", tc.limit, tc.keep)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListSummaries(limit %d, filtered %v) (-want +got):\n%s", tc.limit, tc.keep != nil, diff)
		}
	}
	if got, _ := s.ListSummaries(g.ID(), forge.TypeIssue, forge.StateClosed, 10, nil); len(got) != 0 {
		t.Errorf("closed issues = %d, want 0", len(got))
	}
}

// BenchmarkListFirstPage measures a first page of 30 issues, open ones
// and all states, over repos of 1,000, 20,000 and 100,000 issues: its cost
// should not grow with the repo. "all sorted" is what a listing cost when
// it decoded every summary and sorted them.
func BenchmarkListFirstPage(b *testing.B) {
	for _, n := range []int{1_000, 20_000, 100_000} {
		b.Run(fmt.Sprintf("issues=%d", n), func(b *testing.B) {
			s, g := issueStore(b, n)
			for _, state := range []string{forge.StateOpen, ""} {
				b.Run("page state="+cmp.Or(state, "all"), func(b *testing.B) {
					for b.Loop() {
						if got, err := s.ListSummaries(g.ID(), forge.TypeIssue, state, 30, nil); err != nil || len(got) != 30 {
							b.Fatal(len(got), err)
						}
					}
				})
			}
			if n > 20_000 {
				return
			}
			b.Run("all sorted", func(b *testing.B) {
				for b.Loop() {
					all, err := s.Summaries(g.ID(), forge.TypeIssue, "")
					if err != nil {
						b.Fatal(err)
					}
					slices.SortFunc(all, func(a, b forge.Summary) int { return cmp.Compare(b.Updated, a.Updated) })
				}
			})
		})
	}
}

// TestListSummariesProperty checks ListSummaries against a full scan of
// the materialized objects over random concurrent histories, delivered
// out of order: every state, filter and page size lists what sorting all
// objects by update time (ties by ID) and keeping the first page gives.
// Objects that change state and update time many times check that the
// index holds each object once, at its current place.
func TestListSummariesProperty(t *testing.T) {
	seed := testSeed(t)
	for i := range uint64(3) {
		h := newHistory(t, seed+i)
		h.run(400)
		s := open(t, nil, nil)
		deliverAll(t, s, h.permute(rand.New(rand.NewPCG(seed, i))), rand.New(rand.NewPCG(i, seed)))

		// The reference: every object's summary, from the object itself.
		var objects []forge.Summary
		authors := map[identity.PublicKey]bool{}
		for _, o := range h.ops {
			if o.Kind != forge.KindIssueOpen && o.Kind != forge.KindPatchOpen {
				continue
			}
			obj, err := s.Object(o.ID())
			if errors.Is(err, storage.ErrNotFound) {
				continue // rejected
			}
			if err != nil {
				t.Fatal(err)
			}
			objects = append(objects, obj.Summary())
			authors[obj.Author] = true
		}
		if len(objects) < 10 {
			t.Fatalf("history too tame: %d objects", len(objects))
		}
		filters := map[string]func(*forge.Summary) bool{"none": nil}
		filters["label bug"] = func(sm *forge.Summary) bool { return sm.MatchesLabel("bug") }
		for _, a := range h.authors {
			k := a.key.Public()
			filters["author "+a.name] = func(sm *forge.Summary) bool { return sm.Author == k }
			filters["assignee "+a.name] = func(sm *forge.Summary) bool { return slices.Contains(sm.Assignees, k) }
		}
		for _, typ := range []forge.ObjectType{forge.TypeIssue, forge.TypePatch} {
			for _, state := range []string{"", forge.StateOpen, forge.StateClosed, forge.StateDraft, forge.StateMerged} {
				for name, keep := range filters {
					var want []forge.Summary
					for _, sm := range objects {
						if sm.Type == typ && (state == "" || sm.State == state) && (keep == nil || keep(&sm)) {
							want = append(want, sm)
						}
					}
					slices.SortFunc(want, func(a, b forge.Summary) int {
						if c := cmp.Compare(b.Updated, a.Updated); c != 0 {
							return c
						}
						return bytes.Compare(a.ID[:], b.ID[:])
					})
					for _, limit := range []int{0, 1, 3, 30} {
						w := want
						if limit > 0 && len(w) > limit {
							w = w[:limit]
						}
						got, err := s.ListSummaries(h.repo, typ, state, limit, keep)
						if err != nil {
							t.Fatal(err)
						}
						if d := gocmp.Diff(w, got, cmpopts.EquateEmpty()); d != "" {
							t.Fatalf("history %d: ListSummaries(%s, state %q, limit %d, filter %s) (-want +got):\n%s", seed+i, typ, state, limit, name, d)
						}
					}
				}
			}
		}
	}
}

// TestMigrateFormat2 opens stores written in format 2, whose listing index
// keys had no update time, and checks that they are migrated: listing
// gives what it gave before, no key of the old layout is left, and the
// store is marked format 3. A migration cut short (some keys already in
// the new layout) is finished by the next open, and a summary that does
// not decode is dropped.
func TestMigrateFormat2(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep func(i int) bool // which summary keys stay in the new layout
	}{
		{"format 2", func(int) bool { return false }},
		{"interrupted migration", func(i int) bool { return i%2 == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			s := open(t, fs, nil)
			k := testKey(t, 1)
			g := genesis(t, k, "murmur")
			ingest(t, s, g)
			ingest(t, s, chain(t, k, g, 50)...)
			// Close some, so that the index spans two states.
			issues, err := s.ListSummaries(g.ID(), forge.TypeIssue, "", 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, sm := range issues[10:20] {
				mustCreate(t, s, g.ID(), k, forge.KindState, sm.ID, forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted, Prev: []op.ID{sm.ID}})
			}
			want := map[string][]forge.Summary{}
			for _, state := range []string{"", forge.StateOpen, forge.StateClosed} {
				if want[state], err = s.ListSummaries(g.ID(), forge.TypeIssue, state, 0, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// Rewrite the store as format 2 wrote it.
			db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			b := db.NewBatch()
			it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for it.First(); it.Valid(); it.Next() {
				if tc.keep(i) {
					i++
					continue
				}
				i++
				key := it.Key()
				// 's' ‖ repo ‖ type ‖ state ‖ ^updated ‖ objectID → without ^updated.
				old := slices.Concat(key[:35], key[43:])
				b.Delete(key, nil)
				b.Set(old, it.Value(), nil)
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
			// A summary that does not decode is dropped by the migration.
			repo := g.ID()
			junk := slices.Concat([]byte{'s'}, repo[:], []byte{'i', 'o'}, bytes.Repeat([]byte{0xee}, 32))
			b.Set(junk, []byte{0xff, 0xff}, nil)
			b.Set([]byte{0x00, 'f', 'o', 'r', 'm', 'a', 't'}, binary.AppendUvarint(nil, 2), nil)
			if err := b.Commit(pebble.Sync); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s = open(t, fs, nil)
			for state, w := range want {
				got, err := s.ListSummaries(g.ID(), forge.TypeIssue, state, 0, nil)
				if err != nil {
					t.Fatalf("ListSummaries(state %q) after migration: %v", state, err)
				}
				if d := gocmp.Diff(w, got); d != "" {
					t.Errorf("ListSummaries(state %q) after migration (-before +after):\n%s", state, d)
				}
			}
			if n, err := s.CountObjects(g.ID(), forge.TypeIssue, ""); err != nil || n != 50 {
				t.Errorf("CountObjects after migration = %d, %v; want 50", n, err)
			}
			// It keeps working: a change moves the issue to the top.
			mustCreate(t, s, g.ID(), k, forge.KindCommentAdd, want[""][40].ID, forge.CommentAdd{Body: "after migration"})
			if got, err := s.ListSummaries(g.ID(), forge.TypeIssue, "", 1, nil); err != nil || len(got) != 1 || got[0].ID != want[""][40].ID {
				t.Errorf("first issue after a comment = %v, %v; want %s", got, err, want[""][40].ID.Short())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			db, err = pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, closer, err := db.Get([]byte{0x00, 'f', 'o', 'r', 'm', 'a', 't'})
			if err != nil {
				t.Fatal(err)
			}
			if ver, _ := binary.Uvarint(v); ver != storage.FormatVersion {
				t.Errorf("format after migration = %d, want %d", ver, storage.FormatVersion)
			}
			closer.Close()
			it, err = db.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			n := 0
			for it.First(); it.Valid(); it.Next() {
				n++
				if len(it.Key()) != 75 {
					t.Errorf("listing index key %x of length %d left after migration", it.Key(), len(it.Key()))
				}
			}
			if n != 50 {
				t.Errorf("listing index holds %d keys, want 50", n)
			}
			if len(want[forge.StateClosed]) != 10 {
				t.Errorf("closed issues = %d, want 10", len(want[forge.StateClosed]))
			}
		})
	}
}
