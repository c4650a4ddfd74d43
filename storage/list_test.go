package storage_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/forge"
)

func TestListSummaries(t *testing.T) {
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	s := open(t, nil, nil)
	ingest(t, s, g)
	ingest(t, s, chain(t, k, g, 30)...)

	all, err := s.ListSummaries(g.ID(), forge.TypeIssue, "", 0, nil)
	if err != nil || len(all) != 30 {
		t.Fatalf("ListSummaries(no limit) = %d summaries, %v; want 30", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Updated < all[i].Updated {
			t.Fatalf("summary %d updated %v before summary %d updated %v", i-1, all[i-1].Updated, i, all[i].Updated)
		}
	}
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
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListSummaries(limit %d, filtered %v) (-want +got):\n%s", tc.limit, tc.keep != nil, diff)
		}
	}
	if got, _ := s.ListSummaries(g.ID(), forge.TypeIssue, forge.StateClosed, 10, nil); len(got) != 0 {
		t.Errorf("closed issues = %d, want 0", len(got))
	}
}
