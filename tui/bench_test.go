package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// bigFake is a fake whose first repo has n open issues.
func bigFake(n int) *fakeService {
	f := newFake()
	is := make([]api.Issue, n)
	for i := range is {
		is[i] = api.Issue{IssueSummary: api.IssueSummary{
			ID: fmt.Sprintf("%012x", i), Repo: "r1aaaaaaaaaa", Title: fmt.Sprintf("issue number %d about something", i),
			State: "open", Author: alice, Labels: []string{"bug"}, Created: t0, Updated: t0.Add(-time.Duration(i) * time.Second),
		}}
	}
	f.issues["r1aaaaaaaaaa"] = is
	f.recount()
	return f
}

// BenchmarkKeystroke is one cursor move in a list of 10,000 issues:
// Update of a `j` and the View that follows.
func BenchmarkKeystroke(b *testing.B) {
	h := newHarness(b, bigFake(10000), 80, 24)
	h.press("enter")
	rs := h.m.top().(*repoScreen)
	if rs.issues.Len() != 10000 {
		b.Fatalf("%d issues listed, want 10000", rs.issues.Len())
	}
	j, g := keyMsg("j"), keyMsg("g")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%9000 == 8999 {
			h.m.Update(g)
		}
		h.m.Update(j)
		_ = h.m.View()
	}
}

// BenchmarkFirstPaint is New, the start-up messages and the first full
// frame of a repo with 10,000 issues (opened with Options.Repo).
func BenchmarkFirstPaint(b *testing.B) {
	f := bigFake(10000)
	b.ReportAllocs()
	for b.Loop() {
		m := New(f, Options{NoColor: true, Repo: "murmur"})
		m.live, m.c.blink = false, false
		h := &harness{t: b, m: m, fake: f}
		h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		h.run(m.Init())
		if rs, ok := m.top().(*repoScreen); !ok || rs.issues.Len() != 10000 {
			b.Fatal("repo screen not shown")
		}
		_ = m.View()
	}
}
