package crdt

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeWall is a wall clock for tests. Clock calls it under its own lock, so
// it needs no lock of its own.
type fakeWall struct {
	ms    int64
	steps []int64 // added to ms on successive calls, cyclically
	calls int
}

func (f *fakeWall) now() time.Time {
	if len(f.steps) > 0 {
		f.ms += f.steps[f.calls%len(f.steps)]
	}
	f.calls++
	return time.UnixMilli(f.ms)
}

const testWall = int64(1_700_000_000_000) // 2023-11-14T22:13:20Z

func TestNewTimestamp(t *testing.T) {
	tests := []struct {
		name        string
		wall        int64
		logical     uint16
		wantWall    int64
		wantLogical uint16
	}{
		{"zero", 0, 0, 0, 0},
		{"typical", testWall, 7, testWall, 7},
		{"max logical", testWall, MaxLogical, testWall, MaxLogical},
		{"negative wall clamps to zero", -5, 3, 0, 3},
		{"max wall", MaxWall, 1, MaxWall, 1},
		{"wall beyond range clamps", MaxWall + 1, 2, MaxWall, 2},
		{"huge wall clamps", 1 << 62, 0, MaxWall, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := NewTimestamp(tt.wall, tt.logical)
			if got := ts.Wall(); got != tt.wantWall {
				t.Errorf("NewTimestamp(%d, %d).Wall() = %d, want %d", tt.wall, tt.logical, got, tt.wantWall)
			}
			if got := ts.Logical(); got != tt.wantLogical {
				t.Errorf("NewTimestamp(%d, %d).Logical() = %d, want %d", tt.wall, tt.logical, got, tt.wantLogical)
			}
		})
	}
}

func TestTimestampOrder(t *testing.T) {
	ordered := []Timestamp{
		NewTimestamp(0, 0),
		NewTimestamp(0, MaxLogical),
		NewTimestamp(1, 0),
		NewTimestamp(testWall, 0),
		NewTimestamp(testWall, 1),
		NewTimestamp(testWall, MaxLogical),
		NewTimestamp(testWall+1, 0),
		NewTimestamp(MaxWall, MaxLogical),
	}
	if !slices.IsSorted(ordered) {
		t.Errorf("timestamps %v do not order by (wall, logical)", ordered)
	}
	if got := NewTimestamp(MaxWall, MaxLogical); got != maxTimestamp {
		t.Errorf("NewTimestamp(MaxWall, MaxLogical) = %#x, want %#x", uint64(got), uint64(maxTimestamp))
	}
}

func TestTimestampString(t *testing.T) {
	tests := []struct {
		ts   Timestamp
		want string
	}{
		{NewTimestamp(testWall+42, 0), "2023-11-14T22:13:20.042Z"},
		{NewTimestamp(testWall, 3), "2023-11-14T22:13:20.000Z+3"},
		{0, "1970-01-01T00:00:00.000Z"},
	}
	for _, tt := range tests {
		if got := tt.ts.String(); got != tt.want {
			t.Errorf("Timestamp(%#x).String() = %q, want %q", uint64(tt.ts), got, tt.want)
		}
	}
}

func TestClockMonotonicConcurrent(t *testing.T) {
	walls := map[string][]int64{
		"frozen":        {0},
		"advancing":     {1},
		"backwards":     {-1},
		"jittery":       {3, -2, 0, 0, -4, 1, 5},
		"slow advances": {0, 0, 0, 0, 1},
	}
	for name, steps := range walls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wall := &fakeWall{ms: testWall, steps: steps}
			c := NewClock(wall.now)
			const goroutines, perG = 8, 2000
			got := make([][]Timestamp, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					ts := make([]Timestamp, 0, perG)
					for i := range perG {
						var after []Timestamp
						if i%10 == 0 {
							after = []Timestamp{NewTimestamp(testWall, uint16(i))}
						}
						if i%17 == 0 {
							c.Observe(NewTimestamp(testWall-1, 9))
						}
						ts = append(ts, c.Now(after...))
					}
					got[g] = ts
				})
			}
			wg.Wait()
			var all []Timestamp
			for g, ts := range got {
				for i := 1; i < len(ts); i++ {
					if ts[i] <= ts[i-1] {
						t.Fatalf("goroutine %d: reading %d = %v, not after reading %d = %v", g, i, ts[i], i-1, ts[i-1])
					}
				}
				all = append(all, ts...)
			}
			slices.Sort(all)
			if n := len(slices.Compact(all)); n != goroutines*perG {
				t.Errorf("got %d distinct readings from %d calls, want all distinct", n, goroutines*perG)
			}
		})
	}
}

func TestClockNowAfter(t *testing.T) {
	tests := []struct {
		name  string
		after []Timestamp
		want  Timestamp // 0: only check strictly greater
	}{
		{"none", nil, NewTimestamp(testWall, 0)},
		{"in the past", []Timestamp{NewTimestamp(testWall-10, 5)}, NewTimestamp(testWall, 0)},
		{"equal to wall", []Timestamp{NewTimestamp(testWall, 0)}, NewTimestamp(testWall, 1)},
		{"ahead of wall", []Timestamp{NewTimestamp(testWall+500, 3)}, NewTimestamp(testWall+500, 4)},
		{"greatest of several", []Timestamp{
			NewTimestamp(testWall+2, 9),
			NewTimestamp(testWall+7, 1),
			NewTimestamp(testWall+3, MaxLogical),
		}, NewTimestamp(testWall+7, 2)},
		{"full logical carries into wall", []Timestamp{NewTimestamp(testWall+1, MaxLogical)}, NewTimestamp(testWall+2, 0)},
		{"greatest timestamp saturates", []Timestamp{maxTimestamp}, maxTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClock((&fakeWall{ms: testWall}).now)
			got := c.Now(tt.after...)
			if got != tt.want {
				t.Errorf("Now(%v) = %v, want %v", tt.after, got, tt.want)
			}
			for _, a := range tt.after {
				if got <= a && a != maxTimestamp {
					t.Errorf("Now(%v) = %v, not after %v", tt.after, got, a)
				}
			}
		})
	}
}

func TestClockLogicalOverflowCarries(t *testing.T) {
	c := NewClock((&fakeWall{ms: testWall}).now) // the wall clock stands still
	var last Timestamp
	for i := range MaxLogical + 3 {
		ts := c.Now()
		if i > 0 && ts <= last {
			t.Fatalf("reading %d = %v, not after %v", i, ts, last)
		}
		last = ts
	}
	// MaxLogical+1 readings fill wall testWall; the next two carry into testWall+1.
	if want := NewTimestamp(testWall+1, 1); last != want {
		t.Errorf("after %d readings of a frozen wall clock: %v (wall %d, logical %d), want %v",
			MaxLogical+3, last, last.Wall(), last.Logical(), want)
	}
}

func TestClockWallCatchesUp(t *testing.T) {
	wall := &fakeWall{ms: testWall}
	c := NewClock(wall.now)
	c.Now(NewTimestamp(testWall+5, 40))
	wall.ms = testWall + 100
	if got, want := c.Now(), NewTimestamp(testWall+100, 0); got != want {
		t.Errorf("Now() once the wall clock passed the last reading = %v, want %v", got, want)
	}
}

func TestClockObserve(t *testing.T) {
	tests := []struct {
		name     string
		observed []Timestamp
		want     Timestamp
	}{
		{"ahead", []Timestamp{NewTimestamp(testWall+50, 2)}, NewTimestamp(testWall+50, 3)},
		{"behind does not regress", []Timestamp{NewTimestamp(testWall+50, 2), NewTimestamp(testWall-50, 0)}, NewTimestamp(testWall+50, 3)},
		{"only behind", []Timestamp{NewTimestamp(testWall-50, 0)}, NewTimestamp(testWall, 0)},
		{"full logical", []Timestamp{NewTimestamp(testWall, MaxLogical)}, NewTimestamp(testWall+1, 0)},
		{"greatest timestamp", []Timestamp{maxTimestamp}, maxTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClock((&fakeWall{ms: testWall}).now)
			for _, o := range tt.observed {
				c.Observe(o)
			}
			if got := c.Now(); got != tt.want {
				t.Errorf("Now() after Observe(%v) = %v, want %v", tt.observed, got, tt.want)
			}
		})
	}
}

func TestClockSaturatedStaysPut(t *testing.T) {
	c := NewClock((&fakeWall{ms: testWall}).now)
	c.Observe(maxTimestamp - 1)
	for i := range 3 {
		if got := c.Now(); got != maxTimestamp {
			t.Fatalf("reading %d after Observe(max-1) = %#x, want %#x (no wrap)", i, uint64(got), uint64(maxTimestamp))
		}
	}
}

func TestClockZeroValueReadsTimeNow(t *testing.T) {
	var c Clock
	before := time.Now().UnixMilli()
	got := c.Now()
	after := time.Now().UnixMilli()
	if got.Wall() < before || got.Wall() > after {
		t.Errorf("zero Clock: Now().Wall() = %d, want within [%d, %d]", got.Wall(), before, after)
	}
	if next := c.Now(); next <= got {
		t.Errorf("zero Clock: second reading %v not after first %v", next, got)
	}
}
