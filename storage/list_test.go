package storage_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"murmur/forge"
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

// BenchmarkListFirstPage compares a first page of 20 issues with decoding
// every summary and sorting, over a repo of 20,000 issues.
func BenchmarkListFirstPage(b *testing.B) {
	s, g := issueStore(b, 20_000)
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			if got, err := s.ListSummaries(g.ID(), forge.TypeIssue, "", 20, nil); err != nil || len(got) != 20 {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("all sorted", func(b *testing.B) {
		for b.Loop() {
			all, err := s.Summaries(g.ID(), forge.TypeIssue, "")
			if err != nil {
				b.Fatal(err)
			}
			slices.SortFunc(all, func(a, b forge.Summary) int { return cmp.Compare(b.Updated, a.Updated) })
		}
	})
}
