package merkle

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// checkReconcile reconciles trees built from aItems (initiator) and bItems
// (responder) and checks that Need and Have are exactly the set differences
// and that applying them makes the roots equal.
func checkReconcile(t *testing.T, aItems, bItems []Item, ao, bo Options) SimResult {
	t.Helper()
	a, b := treeOf(t, aItems), treeOf(t, bItems)
	res, err := SimulateOptions(a, b, ao, bo)
	if err != nil {
		t.Fatalf("SimulateOptions: %v", err)
	}
	if diff := diffIDs(setMinus(bItems, aItems), sortedIDs(res.Need)); diff != "" {
		t.Fatalf("Need differs from B\\A (-want +got):\n%s", diff)
	}
	if diff := diffIDs(setMinus(aItems, bItems), sortedIDs(res.Have)); diff != "" {
		t.Fatalf("Have differs from A\\B (-want +got):\n%s", diff)
	}
	byID := make(map[[32]byte]Item)
	for _, it := range slices.Concat(aItems, bItems) {
		byID[it.ID] = it
	}
	for _, id := range res.Need {
		a.Insert(byID[id])
	}
	for _, id := range res.Have {
		b.Insert(byID[id])
	}
	if a.Root() != b.Root() {
		t.Fatalf("after applying Need and Have, roots differ: %v vs %v", a.Root(), b.Root())
	}
	return res
}

// diffIDs returns a readable difference between two ID lists, or "" when
// they are equal (nil and empty are equal).
func diffIDs(want, got [][32]byte) string {
	if slices.Equal(want, got) {
		return ""
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

func TestReconcile(t *testing.T) {
	const n = 4000
	base := newItemGen(30).items(n)
	r := rand.New(rand.NewPCG(30, 30))
	scattered := func(d int) (missing, rest []Item) { return pick(base, randomPositions(r, n, d)) }
	_, lack40 := scattered(40)
	var evens, odds []Item
	for i, it := range base {
		if i%2 == 0 {
			evens = append(evens, it)
		} else {
			odds = append(odds, it)
		}
	}
	// Both sides: 60 newest split between them, plus 30 scattered each way.
	newest := base[n-60:]
	gone, shared := pick(base[:n-60], randomPositions(r, n-60, 60))
	aBoth := slices.Concat(shared, evensOf(newest), evensOf(gone))
	bBoth := slices.Concat(shared, oddsOf(newest), oddsOf(gone))

	sameClock := newItemGen(31).items(2000)
	for i := range sameClock {
		sameClock[i].Clock = 7
	}
	_, sameClockRest := pick(sameClock, randomPositions(r, len(sameClock), 25))
	groups := newItemGen(32).items(3000)
	for i := range groups {
		groups[i].Clock = uint64(i/100) << 16
	}
	_, groupsRest := pick(groups, randomPositions(r, len(groups), 30))
	longPrefix := make([]Item, 600)
	for i := range longPrefix {
		longPrefix[i].Clock = 1<<64 - 1
		longPrefix[i].ID[30] = byte(i >> 8)
		longPrefix[i].ID[31] = byte(i)
	}
	extremes := []Item{{Clock: 0}, {Clock: 0, ID: [32]byte{31: 1}}, {Clock: 1}, {Clock: 1<<63 + 5}, {Clock: 1<<64 - 1, ID: [32]byte{0: 0xff}}}

	tests := []struct {
		name string
		a, b []Item
	}{
		{"equal", base, base},
		{"both empty", nil, nil},
		{"initiator empty", nil, base},
		{"responder empty", base, nil},
		{"one item each", base[:1], base[1:2]},
		{"disjoint", evens, odds},
		{"newest 1 missing at responder", base, base[:n-1]},
		{"newest 1 missing at initiator", base[:n-1], base},
		{"newest 300 missing at responder", base, base[:n-300]},
		{"newest 300 missing at initiator", base[:n-300], base},
		{"oldest 300 missing at responder", base, base[300:]},
		{"scattered 40 missing at responder", base, lack40},
		{"scattered 40 missing at initiator", lack40, base},
		{"both sides missing newest and scattered", aBoth, bBoth},
		{"identical clocks", sameClock, sameClockRest},
		{"identical clocks reversed", sameClockRest, sameClock},
		{"groups of equal clocks", groupsRest, groups},
		{"IDs sharing 30-byte prefixes", longPrefix[:500], longPrefix[100:]},
		{"extreme clocks", extremes[:3], extremes[2:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := checkReconcile(t, tc.a, tc.b, Options{}, Options{})
			if res.Restarted && !prefixesCollide(slices.Concat(tc.a, tc.b)) {
				t.Errorf("session fell back to strict mode without a collision")
			}
			if len(tc.a) == len(tc.b) && len(setMinus(tc.a, tc.b)) == 0 && res.Messages != 2 {
				t.Errorf("equal sets took %d messages, want 2", res.Messages)
			}
		})
		t.Run(tc.name+"/strict", func(t *testing.T) {
			checkReconcile(t, tc.a, tc.b, Options{Strict: true}, Options{})
		})
	}
}

// prefixesCollide reports whether two different IDs among items share
// their first 8 bytes, which prefix lists cannot tell apart.
func prefixesCollide(items []Item) bool {
	seen := make(map[[8]byte][32]byte)
	for _, it := range items {
		p := [8]byte(it.ID[:8])
		if id, ok := seen[p]; ok && id != it.ID {
			return true
		}
		seen[p] = it.ID
	}
	return false
}

func evensOf(items []Item) (out []Item) {
	for i := 0; i < len(items); i += 2 {
		out = append(out, items[i])
	}
	return out
}

func oddsOf(items []Item) (out []Item) {
	for i := 1; i < len(items); i += 2 {
		out = append(out, items[i])
	}
	return out
}

// TestReconcileRandom reconciles random pairs of sets with random shapes of
// difference, random message budgets on each side and sometimes strict
// mode. The listed seeds once made sides with different budgets undo each
// other's splits forever.
func TestReconcileRandom(t *testing.T) {
	seeds := []uint64{148, 444, 1141, 1192, 1263, 1379, 1435, 1462, 1485}
	for seed := range uint64(60) {
		seeds = append(seeds, seed)
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			a, b, ao, bo := randomCase(seed)
			checkReconcile(t, a, b, ao, bo)
		})
	}
}

// randomCase returns two random sets of up to 20,000 items that differ in
// one of several ways, and options for each side.
func randomCase(seed uint64) (a, b []Item, ao, bo Options) {
	r := rand.New(rand.NewPCG(seed, 991))
	g := newItemGen(seed + 5000)
	switch r.IntN(4) {
	case 0:
		g.maxGap = uint64(r.IntN(3)) // many equal clocks
	case 1:
		g.maxGap = 1 << 40
	}
	all := g.items(r.IntN(20000))
	pa, pb := r.Float64(), r.Float64()
	newestA, newestB := r.IntN(len(all)+1), r.IntN(len(all)+1)
	shape := r.IntN(5)
	for i, it := range all {
		inA, inB := true, true
		switch shape {
		case 0: // a few scattered
			inA, inB = r.Float64() > pa*0.01, r.Float64() > pb*0.01
		case 1: // each side stopped at some point
			inA, inB = i < newestA, i < newestB
		case 2: // many scattered
			inA, inB = r.Float64() > pa, r.Float64() > pb
		case 3: // both
			inA, inB = i < newestA || r.Float64() > pa*0.05, i < newestB || r.Float64() > pb*0.05
		}
		if !inA && !inB {
			inA = r.IntN(2) == 0
			inB = !inA
		}
		if inA {
			a = append(a, it)
		}
		if inB {
			b = append(b, it)
		}
	}
	opts := func() Options {
		var o Options
		if r.IntN(4) == 0 {
			o.MaxMessageSize = MinMessageSize + r.IntN(200000)
		}
		o.Strict = r.IntN(10) == 0
		return o
	}
	return a, b, opts(), opts()
}

// TestCostTargets checks the protocol's cost targets on 100,000 items per
// side: round trips and bytes exchanged, both ways.
func TestCostTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000-item trees")
	}
	const n = 100_000
	all := newItemGen(40).items(n)
	full := FromItems(all)
	r := rand.New(rand.NewPCG(40, 40))
	_, lack := pick(all, randomPositions(r, n, 100))
	lack100 := FromItems(lack)

	type target struct {
		name     string
		a, b     *Tree
		d        int
		maxRT    float64
		maxBytes int
	}
	targets := []target{{"in sync", full, full.Clone(), 0, 1, 1024}}
	for _, d := range []int{1, 100, 10_000} {
		part := FromItems(all[:n-d])
		limit := d*32*3/2 + 1024
		targets = append(targets,
			target{fmt.Sprintf("newest %d missing at responder", d), full, part, d, 3, limit},
			target{fmt.Sprintf("newest %d missing at initiator", d), part, full, d, 3, limit})
	}
	targets = append(targets,
		target{"scattered 100 missing at responder", full, lack100, 100, 3, 120_000},
		target{"scattered 100 missing at initiator", lack100, full, 100, 3, 120_000})
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Simulate(tc.a, tc.b)
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			if got := len(res.Need) + len(res.Have); got != tc.d {
				t.Fatalf("found %d differences, want %d", got, tc.d)
			}
			if res.RoundTrips > tc.maxRT {
				t.Errorf("round trips = %.1f, want <= %.1f", res.RoundTrips, tc.maxRT)
			}
			if res.OverheadBytes > tc.maxBytes {
				t.Errorf("overhead = %d bytes, want <= %d", res.OverheadBytes, tc.maxBytes)
			}
			t.Logf("%.1f round trips, %d bytes (lower bound %d)", res.RoundTrips, res.OverheadBytes, tc.d*32)
		})
	}
}

func TestHugeSetOneDifference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 300,000-item trees")
	}
	const n = 300_000
	all := newItemGen(41).items(n)
	full := FromItems(all)
	mid := slices.Concat(all[:n/2], all[n/2+1:])
	for _, tc := range []struct {
		name string
		a, b *Tree
		want [32]byte
	}{
		{"newest at initiator", full, FromItems(all[:n-1]), all[n-1].ID},
		{"middle at responder", FromItems(mid), full, all[n/2].ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Simulate(tc.a, tc.b)
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			got := append(slices.Clone(res.Need), res.Have...)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("differences = %x, want [%x]", got, tc.want)
			}
			if res.RoundTrips > 3 {
				t.Errorf("round trips = %.1f, want <= 3", res.RoundTrips)
			}
		})
	}
}

// TestPrefixCollisionRestart gives each side a different item with the same
// clock and the same 8-byte ID prefix, which prefix lists cannot tell
// apart. The final check must catch it and the strict restart must find
// both items.
func TestPrefixCollisionRestart(t *testing.T) {
	base := newItemGen(50).items(1000)
	x := Item{Clock: base[len(base)-1].Clock + 1<<20}
	x.ID = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	y := x
	y.ID[31] = 0xee
	res := checkReconcile(t, append(slices.Clone(base), x), append(slices.Clone(base), y), Options{}, Options{})
	if !res.Restarted {
		t.Errorf("Restarted = false, want a strict restart after the collision")
	}
}

func TestNeedInPeerOrder(t *testing.T) {
	all := newItemGen(51).items(5000)
	r := rand.New(rand.NewPCG(51, 51))
	pos := randomPositions(r, len(all)-50, 200)
	for i := len(all) - 50; i < len(all); i++ {
		pos[i] = true
	}
	missing, rest := pick(all, pos)
	res, err := Simulate(FromItems(rest), FromItems(all))
	if err != nil {
		t.Fatal(err)
	}
	want := make([][32]byte, len(missing))
	for i, it := range missing {
		want[i] = it.ID
	}
	if diff := cmp.Diff(want, res.Need); diff != "" {
		t.Fatalf("Need not in (Clock, ID) order (-want +got):\n%s", diff)
	}
	var haves [][32]byte
	res, err = Simulate(FromItems(all), FromItems(rest))
	if err != nil {
		t.Fatal(err)
	}
	haves = res.Have
	if diff := cmp.Diff(want, haves); diff != "" {
		t.Fatalf("Have not in (Clock, ID) order (-want +got):\n%s", diff)
	}
}

func TestSmallMessages(t *testing.T) {
	all := newItemGen(52).items(20_000)
	opts := Options{MaxMessageSize: MinMessageSize}
	for _, tc := range []struct {
		name string
		a, b []Item
	}{
		{"clone into initiator", nil, all},
		{"clone into responder", all, nil},
		{"disjoint halves", all[:10_000], all[10_000:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkReconcile(t, tc.a, tc.b, opts, opts)
			for i, msg := range recordSession(t, FromItems(tc.a), FromItems(tc.b), opts, opts) {
				if len(msg) > MinMessageSize {
					t.Fatalf("message %d is %d bytes, over the %d budget", i, len(msg), MinMessageSize)
				}
			}
		})
	}
}

func TestSessionErrors(t *testing.T) {
	items := newItemGen(53).items(500)
	a, b := FromItems(items[:400]), FromItems(items[100:])
	opening := func(t *testing.T) []byte {
		_, msg, err := NewInitiator(a, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	rootOf := func(tr *Tree) []byte {
		r := tr.Root()
		return append(appendUvarint(nil, r.Count), r.Sum[:]...)
	}
	tests := []struct {
		name string
		run  func(t *testing.T) error
		want error
	}{
		{"garbage to responder", func(t *testing.T) error {
			_, _, err := NewResponder(b, Options{}).Receive([]byte("hello"))
			return err
		}, ErrVersion},
		{"truncated opening", func(t *testing.T) error {
			msg := opening(t)
			_, _, err := NewResponder(b, Options{}).Receive(msg[:len(msg)-3])
			return err
		}, ErrMalformed},
		{"final as first message", func(t *testing.T) error {
			msg := append([]byte{FormatVersion, flagFinal | flagRoot}, rootOf(a)...)
			_, _, err := NewResponder(b, Options{}).Receive(msg)
			return err
		}, ErrProtocol},
		{"reply to opening without root", func(t *testing.T) error {
			s, _, _ := NewInitiator(a, Options{})
			_, _, err := s.Receive([]byte{FormatVersion, 0})
			return err
		}, ErrProtocol},
		{"peer lies that it is in sync", func(t *testing.T) error {
			s, _, _ := NewInitiator(a, Options{})
			_, _, err := s.Receive(append([]byte{FormatVersion, flagFinal | flagRoot}, rootOf(b)...))
			return err
		}, ErrVerify},
		{"reply to a list never sent", func(t *testing.T) error {
			s, _, _ := NewInitiator(a, Options{})
			msg := append([]byte{FormatVersion, flagRoot}, rootOf(b)...)
			msg = append(msg, modeFullReply, boundInf, idxList, 0, 0)
			_, _, err := s.Receive(msg)
			return err
		}, ErrProtocol},
		{"strict flag flips", func(t *testing.T) error {
			s, _, _ := NewInitiator(a, Options{})
			_, _, err := s.Receive(append([]byte{FormatVersion, flagRoot | flagStrict}, rootOf(b)...))
			return err
		}, ErrProtocol},
		{"receive after done", func(t *testing.T) error {
			s, msg, _ := NewInitiator(a, Options{})
			r := NewResponder(a.Clone(), Options{})
			reply, _, err := r.Receive(msg)
			if err != nil {
				return err
			}
			if _, done, err := s.Receive(reply); err != nil || !done {
				t.Fatalf("in-sync session: done %v, err %v", done, err)
			}
			_, _, err = s.Receive(reply)
			return err
		}, ErrSessionDone},
		{"too many round trips", func(t *testing.T) error {
			_, err := SimulateOptions(a, b, Options{MaxRoundTrips: 1}, Options{MaxRoundTrips: 1})
			return err
		}, ErrTooManyRounds},
		{"tree changed", func(t *testing.T) error {
			tr := a.Clone()
			s, _, _ := NewInitiator(tr, Options{})
			tr.Insert(newItemGen(54).next())
			_, _, err := s.Receive([]byte{FormatVersion, 0})
			return err
		}, ErrTreeChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(t); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("errors are sticky", func(t *testing.T) {
		s := NewResponder(b, Options{})
		_, _, first := s.Receive([]byte{0})
		_, _, again := s.Receive(opening(t))
		if first == nil || !errors.Is(again, ErrVersion) {
			t.Fatalf("second Receive = %v, want the first error %v", again, first)
		}
	})
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestCorruptedMessages flips bytes in real sessions' messages. Whatever
// happens, a session must never panic, and one that succeeds must still be
// exact.
func TestCorruptedMessages(t *testing.T) {
	all := newItemGen(55).items(2000)
	r := rand.New(rand.NewPCG(55, 55))
	_, lack := pick(all, randomPositions(r, len(all), 30))
	aItems := slices.Concat(lack, newItemGen(56).items(20))
	bItems := all
	wantNeed, wantHave := setMinus(bItems, aItems), setMinus(aItems, bItems)
	a, b := FromItems(aItems), FromItems(bItems)
	failed := 0
	for iter := range 300 {
		sa, msg, _ := NewInitiator(a, Options{})
		sb := NewResponder(b, Options{})
		cur, other := sb, sa
		target := r.IntN(6)
		var err error
		for step := 0; step < 100; step++ {
			if step == target {
				msg = slices.Clone(msg)
				for range 1 + r.IntN(3) {
					msg[r.IntN(len(msg))] ^= byte(1 + r.IntN(255))
				}
			}
			var reply []byte
			reply, _, err = cur.Receive(msg)
			if err != nil || reply == nil {
				break
			}
			msg = reply
			cur, other = other, cur
		}
		if err != nil {
			failed++
			continue
		}
		if !sa.Done() || !sb.Done() {
			t.Fatalf("iteration %d: session stopped without error before both sides were done", iter)
		}
		eq := func(want, got [][32]byte) bool { return diffIDs(want, sortedIDs(got)) == "" }
		if !eq(wantNeed, sa.Need()) || !eq(wantHave, sa.Have()) || !eq(wantHave, sb.Need()) || !eq(wantNeed, sb.Have()) {
			t.Fatalf("iteration %d: corrupted session finished with wrong differences", iter)
		}
	}
	if failed == 0 {
		t.Errorf("no corruption was ever detected; the test is not corrupting anything")
	}
}

// FuzzReceive runs a real session and replaces its message number step
// with arbitrary bytes. Nothing may panic, replies must decode, and a
// session that still finishes must be exact.
func FuzzReceive(f *testing.F) {
	all := newItemGen(57).items(300)
	aItems, bItems := all[:250], all[40:]
	a, b := FromItems(aItems), FromItems(bItems)
	wantNeed, wantHave := setMinus(bItems, aItems), setMinus(aItems, bItems)
	for i, msg := range recordSession(f, a, b, Options{}, Options{}) {
		f.Add(uint8(i), msg)
		if i > 0 {
			f.Add(uint8(i-1), msg)
		}
	}
	f.Fuzz(func(t *testing.T, step uint8, data []byte) {
		sa, msg, err := NewInitiator(a, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sb := NewResponder(b, Options{})
		cur, other := sb, sa
		for i := 0; i < 64; i++ {
			if i == int(step%8) {
				msg = data
			}
			reply, _, err := cur.Receive(msg)
			if err != nil {
				return
			}
			if reply == nil {
				break
			}
			if _, err := decodeMessage(reply); err != nil {
				t.Fatalf("own reply does not decode: %v", err)
			}
			msg = reply
			cur, other = other, cur
		}
		// A side that finished verified its result, whatever the other did.
		if sa.Done() && (diffIDs(wantNeed, sortedIDs(sa.Need())) != "" || diffIDs(wantHave, sortedIDs(sa.Have())) != "") {
			t.Fatalf("initiator finished with wrong differences")
		}
		if sb.Done() && (diffIDs(wantHave, sortedIDs(sb.Need())) != "" || diffIDs(wantNeed, sortedIDs(sb.Have())) != "") {
			t.Fatalf("responder finished with wrong differences")
		}
	})
}
