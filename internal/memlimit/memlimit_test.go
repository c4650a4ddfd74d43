package memlimit_test

import (
	"fmt"
	"math"
	"runtime/debug"
	"testing"

	"murmur/internal/memlimit"
)

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		ops  int
		want int64
	}{
		{0, memlimit.Floor},
		{100_000, memlimit.Floor},
		{200_000, 200_000 * memlimit.PerOp},
		{1_000_000, 1_000_000 * memlimit.PerOp},
	} {
		if got := memlimit.Budget(tc.ops); got != tc.want {
			t.Errorf("Budget(%d) = %d, want %d", tc.ops, got, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Setenv("GOMEMLIMIT", "")
	if got := memlimit.Apply(200_000); got != memlimit.Budget(200_000) || debug.SetMemoryLimit(-1) != got {
		t.Errorf("Apply(200000) = %d, runtime limit %d; want %d", got, debug.SetMemoryLimit(-1), memlimit.Budget(200_000))
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := memlimit.Apply(200_000); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("Apply with GOMEMLIMIT set = %d, changed the limit to %d", got, debug.SetMemoryLimit(-1))
	}
}

func ExampleBudget() {
	fmt.Println(memlimit.Budget(100_000)>>20, "MiB")
	fmt.Println(memlimit.Budget(1_000_000)>>20, "MiB")
	// Output:
	// 96 MiB
	// 610 MiB
}
