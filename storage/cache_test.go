package storage

import "testing"

func TestGen2KeepsWhatIsUsed(t *testing.T) {
	g := newGen2[int, int](4)
	for i := range 4 {
		g.put(i, i*10)
	}
	// The current generation is full: the next put starts a new one and
	// the four become old.
	g.put(4, 40)
	if v, ok := g.get(0); !ok || v != 0 {
		t.Fatalf("get(0) = %d, %v; want 0, true (old generation)", v, ok)
	}
	for i := 5; i < 8; i++ {
		g.put(i, i*10)
	}
	// 0 was used after the switch, so it moved to the current generation
	// and survives the next switch; 1 was not and is dropped.
	g.put(8, 80)
	if _, ok := g.get(0); !ok {
		t.Fatal("entry used in the old generation was dropped")
	}
	if _, ok := g.get(1); ok {
		t.Fatal("entry unused for two generations was kept")
	}
	if n := len(g.cur) + len(g.old); n > 8 {
		t.Fatalf("holds %d entries, limit is 2×4", n)
	}
	// Overwriting a key in a full generation does not start a new one.
	g = newGen2[int, int](2)
	g.put(1, 1)
	g.put(2, 2)
	g.put(2, 3)
	if g.old != nil {
		t.Fatal("overwriting an entry switched generations")
	}
	if v, _ := g.get(2); v != 3 {
		t.Fatalf("get(2) = %d, want 3", v)
	}
}
