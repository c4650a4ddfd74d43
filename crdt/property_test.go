package crdt

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	flagSeed    = flag.Uint64("crdt.seed", 0, "run the convergence property tests with this seed only (0: the default seeds)")
	flagSeeds   = flag.Int("crdt.seeds", 8, "number of seeds the convergence property tests run")
	flagUpdates = flag.Int("crdt.updates", 1200, "updates per generated history in the convergence property tests")
)

// chooser supplies the choices that drive a simulation: a seeded
// *rand.Rand in property tests, fuzzer bytes in the fuzz targets.
type chooser interface {
	IntN(n int) int
}

// byteChooser reads choices from fuzzer bytes; once they run out every
// choice is 0.
type byteChooser struct{ data []byte }

func (b *byteChooser) IntN(n int) int {
	if n <= 1 || len(b.data) == 0 {
		return 0
	}
	v := int(b.data[0])
	b.data = b.data[1:]
	if n > 256 && len(b.data) > 0 {
		v = v<<8 | int(b.data[0])
		b.data = b.data[1:]
	}
	return v % n
}

type updateKind uint8

const (
	regWrite updateKind = iota
	setAdd
	setRemove
)

// update is one update to a replica: a register write, a set add, or a set
// remove.
type update struct {
	kind  updateKind
	write Write[string] // regWrite
	tag   ID            // setAdd
	elem  string        // setAdd, and the element a setRemove removed (for stats only)
	tags  []ID          // setRemove
}

// replica is the state a peer keeps: one register and one set.
type replica struct {
	reg LWW[string]
	set ORSet[string]
}

// laws are the operations under test. The property tests run them with the
// package's real methods; TestHarnessCatchesBugs runs them with broken ones
// to show that the checks can fail.
type laws struct {
	apply func(r *replica, u update)
	merge func(dst, src *replica)
}

var realLaws = laws{
	apply: func(r *replica, u update) {
		switch u.kind {
		case regWrite:
			r.reg.Apply(u.write)
		case setAdd:
			r.set.Add(u.tag, u.elem)
		case setRemove:
			r.set.Remove(u.tags...)
		}
	},
	merge: func(dst, src *replica) {
		dst.reg.Merge(&src.reg)
		dst.set.Merge(&src.set)
	},
}

func (l laws) clone(r *replica) *replica {
	c := new(replica)
	l.merge(c, r)
	return c
}

// genConfig shapes a generated history. Weights are relative frequencies of
// the steps; exchanges and deliveries are not updates.
type genConfig struct {
	authors  int
	updates  int
	write    int // a register write by one author
	add      int // a set add
	remove   int // a set remove of tags the author observes
	exchange int // one author merges another's state (sometimes both ways)
	deliver  int // one author receives a single update out of causal order
}

func defaultGenConfig(updates int) genConfig {
	return genConfig{authors: 5, updates: updates, write: 40, add: 25, remove: 15, exchange: 15, deliver: 5}
}

// genStats describe a generated history, so tests can insist that it
// exercised what they claim to check.
type genStats struct {
	maxHeads    int // most register heads an author saw when writing
	superseding int // writes with a non-empty Prev
	blind       int // writes with an empty Prev over a non-empty register
	clockTies   int // writes reusing a Stamp.Clock already used
	removes     int
	exchanges   int
	deliveries  int
}

type history struct {
	updates  []update
	replicas []*replica // each author's replica at the end
	stats    genStats
}

var elements = []string{"bug", "docs", "feature", "p0", "p1", "wontfix"}

// genHistory simulates cfg.authors authors writing to their own replicas
// and occasionally exchanging state, and returns every update they made.
// Each author writes with Prev = the heads of its own replica and removes the
// tags it observes, so the history has causal chains, real concurrency and
// removes racing adds. Clocks come from per-author HLCs over skewed wall
// clocks, with occasional deliberate clock ties.
func genHistory(c chooser, cfg genConfig, l laws) history {
	var h history
	clocks := make([]*Clock, cfg.authors)
	keys := make([][32]byte, cfg.authors)
	var simMs int64 = testWall
	for a := range cfg.authors {
		h.replicas = append(h.replicas, new(replica))
		keys[a] = sha256.Sum256(fmt.Appendf(nil, "author %d", a))
		skew := int64(c.IntN(41) - 20)
		clocks[a] = NewClock(func() time.Time { return time.UnixMilli(simMs + skew) })
	}
	usedClocks := make(map[Timestamp]bool)
	total := cfg.write + cfg.add + cfg.remove + cfg.exchange + cfg.deliver
	for step := 0; len(h.updates) < cfg.updates && step < 20*cfg.updates+100; step++ {
		simMs += int64(c.IntN(3))
		a := c.IntN(cfg.authors)
		r := h.replicas[a]
		id := ID(sha256.Sum256(binary.BigEndian.AppendUint64([]byte("op"), uint64(step))))
		roll := c.IntN(total)
		var u update
		switch {
		case roll < cfg.write:
			heads := r.reg.Heads()
			var prev []ID
			switch {
			case c.IntN(20) == 0 && len(heads) > 0:
				h.stats.blind++ // a writer that did not look
			default:
				prev = heads
			}
			var after []Timestamp
			for _, p := range prev {
				after = append(after, r.reg.Writes[p].Clock)
			}
			clock := clocks[a].Now(after...)
			if c.IntN(20) == 0 {
				clock = NewTimestamp(testWall+int64(c.IntN(3)), uint16(c.IntN(2)))
			}
			if usedClocks[clock] {
				h.stats.clockTies++
			}
			usedClocks[clock] = true
			h.stats.maxHeads = max(h.stats.maxHeads, len(heads))
			if len(prev) > 0 {
				h.stats.superseding++
			}
			u = update{kind: regWrite, write: Write[string]{
				Stamp: Stamp{Clock: clock, Author: keys[a], ID: id},
				Value: fmt.Sprintf("v%d by %d", step, a),
				Prev:  prev,
			}}
		case roll < cfg.write+cfg.add:
			u = update{kind: setAdd, tag: id, elem: elements[c.IntN(len(elements))]}
		case roll < cfg.write+cfg.add+cfg.remove:
			present := r.set.Elements()
			if len(present) == 0 {
				continue
			}
			e := present[c.IntN(len(present))]
			tags := r.set.Tags(e)
			if len(tags) > 1 && c.IntN(5) == 0 {
				tags = tags[:1+c.IntN(len(tags)-1)] // a remover that saw only some adds
			}
			u = update{kind: setRemove, elem: e, tags: tags}
			h.stats.removes++
		case roll < cfg.write+cfg.add+cfg.remove+cfg.exchange:
			b := c.IntN(cfg.authors)
			l.merge(r, h.replicas[b])
			if c.IntN(3) == 0 {
				l.merge(h.replicas[b], r)
			}
			h.stats.exchanges++
			continue
		default:
			if len(h.updates) == 0 {
				continue
			}
			l.apply(r, h.updates[c.IntN(len(h.updates))])
			h.stats.deliveries++
			continue
		}
		l.apply(r, u)
		h.updates = append(h.updates, u)
	}
	return h
}

// snapshot is the canonical, comparable form of a replica: everything its
// readers return, and its raw state in sorted order.
type snapshot struct {
	Value      string
	HasValue   bool
	Winner     Write[string]
	HasWinner  bool
	Concurrent []Write[string]
	Heads      []ID
	History    []Write[string]
	RegLen     int
	Superseded []ID

	Elements []string
	Tags     map[string][]ID
	Contains map[string]bool
	SetLen   int
	Adds     []ID
	Removed  []ID
}

func snap(r *replica) snapshot {
	s := snapshot{
		Concurrent: r.reg.Concurrent(),
		Heads:      r.reg.Heads(),
		History:    r.reg.History(),
		RegLen:     r.reg.Len(),
		Superseded: slices.SortedFunc(maps.Keys(r.reg.Superseded), ID.Compare),
		Elements:   r.set.Elements(),
		Tags:       make(map[string][]ID),
		Contains:   make(map[string]bool),
		SetLen:     r.set.Len(),
		Adds:       slices.SortedFunc(maps.Keys(r.set.Adds), ID.Compare),
		Removed:    slices.SortedFunc(maps.Keys(r.set.Removed), ID.Compare),
	}
	s.Value, s.HasValue = r.reg.Get()
	s.Winner, s.HasWinner = r.reg.Winner()
	for _, e := range elements {
		s.Tags[e] = r.set.Tags(e)
		s.Contains[e] = r.set.Contains(e)
	}
	return s
}

// snapDiff returns the difference between two snapshots, or "" when they
// are equal. reflect.DeepEqual screens first because cmp.Diff is slow on
// large states.
func snapDiff(want, got snapshot) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return cmp.Diff(want, got)
}

// checkConvergence delivers the updates of h to fresh replicas in rounds
// random permutations with random duplicates, and as rounds random
// partitions of states merged in random groupings, and reports the first
// replica whose state differs from applying the updates once in order.
func checkConvergence(c chooser, h history, l laws, rounds int) error {
	ref := new(replica)
	for _, u := range h.updates {
		l.apply(ref, u)
	}
	want := snap(ref)
	check := func(what string, r *replica) error {
		if diff := snapDiff(want, snap(r)); diff != "" {
			return fmt.Errorf("%s: state differs from in-order delivery (-want +got):\n%s", what, diff)
		}
		return nil
	}

	// Commutativity and idempotence of Apply.
	rev := new(replica)
	for _, u := range slices.Backward(h.updates) {
		l.apply(rev, u)
	}
	if err := check("reverse order", rev); err != nil {
		return err
	}
	for round := range rounds {
		r := new(replica)
		for _, u := range shuffled(c, withDuplicates(c, h.updates)) {
			l.apply(r, u)
		}
		if err := check(fmt.Sprintf("permutation %d with duplicates", round), r); err != nil {
			return err
		}
	}

	// Commutativity, associativity and idempotence of Merge.
	for round := range rounds {
		what := fmt.Sprintf("partition %d", round)
		states := make([]*replica, 2+c.IntN(7))
		for i := range states {
			states[i] = new(replica)
		}
		for _, u := range shuffled(c, h.updates) {
			l.apply(states[c.IntN(len(states))], u)
			if c.IntN(10) == 0 { // overlapping partitions
				l.apply(states[c.IntN(len(states))], u)
			}
		}
		for len(states) > 1 {
			i, j := c.IntN(len(states)), c.IntN(len(states)-1)
			if j >= i {
				j++
			}
			dst, src := states[i], states[j]
			srcBefore := snap(src)
			l.merge(dst, src)
			if c.IntN(5) == 0 {
				l.merge(dst, src)
			}
			if c.IntN(5) == 0 {
				l.merge(dst, l.clone(dst))
			}
			if diff := snapDiff(srcBefore, snap(src)); diff != "" {
				return fmt.Errorf("%s: merge modified its source (-before +after):\n%s", what, diff)
			}
			states = slices.Delete(states, j, j+1)
		}
		if err := check(what, states[0]); err != nil {
			return err
		}
	}

	// The authors' own replicas converge once every one has merged every
	// other (each update lives at least in its author's replica).
	final := make([]*replica, len(h.replicas))
	for i, r := range h.replicas {
		final[i] = l.clone(r)
	}
	for i := range final {
		for _, other := range shuffled(c, h.replicas) {
			l.merge(final[i], other)
		}
		if err := check(fmt.Sprintf("author %d after exchanging with all", i), final[i]); err != nil {
			return err
		}
	}
	return nil
}

func shuffled[T any](c chooser, s []T) []T {
	s = slices.Clone(s)
	for i := len(s) - 1; i > 0; i-- {
		j := c.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
	return s
}

func withDuplicates[T any](c chooser, s []T) []T {
	out := slices.Clone(s)
	for _, v := range s {
		if c.IntN(5) == 0 {
			for range 1 + c.IntN(2) {
				out = append(out, v)
			}
		}
	}
	return out
}

func propertySeeds() []uint64 {
	if *flagSeed != 0 {
		return []uint64{*flagSeed}
	}
	seeds := make([]uint64, *flagSeeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x6d75726d7572)) }

func TestConvergence(t *testing.T) {
	for _, seed := range propertySeeds() {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := newRand(seed)
			h := genHistory(rng, defaultGenConfig(*flagUpdates), realLaws)
			requireRichHistory(t, seed, h)
			if err := checkConvergence(rng, h, realLaws, 4); err != nil {
				t.Fatalf("seed %d (rerun with -crdt.seed=%d): %v", seed, seed, err)
			}
		})
	}
}

// requireRichHistory fails the test when a generated history lacks what the
// convergence laws are meant to be checked against.
func requireRichHistory(t *testing.T, seed uint64, h history) {
	t.Helper()
	ref := new(replica)
	for _, u := range h.updates {
		realLaws.apply(ref, u)
	}
	addWins := 0
	for _, u := range h.updates {
		if u.kind == setRemove && ref.set.Contains(u.elem) {
			addWins++
		}
	}
	st := h.stats
	t.Logf("seed %d: %d updates, %d authors, %+v, %d removed elements present at the end, %d writes, %d heads at the end",
		seed, len(h.updates), len(h.replicas), st, addWins, ref.reg.Len(), len(ref.reg.Heads()))
	switch {
	case len(h.updates) < 1000:
		t.Fatalf("seed %d: only %d updates", seed, len(h.updates))
	case len(h.replicas) < 4:
		t.Fatalf("seed %d: only %d authors", seed, len(h.replicas))
	case st.maxHeads < 2:
		t.Fatalf("seed %d: no author ever saw concurrent writes (max heads %d)", seed, st.maxHeads)
	case st.superseding == 0 || len(ref.reg.Superseded) == 0:
		t.Fatalf("seed %d: no causal chains (%d superseding writes)", seed, st.superseding)
	case st.clockTies == 0:
		t.Fatalf("seed %d: no clock ties, so author and ID tie-breaks went unexercised", seed)
	case st.removes == 0 || addWins == 0:
		t.Fatalf("seed %d: %d removes, %d of their elements present at the end", seed, st.removes, addWins)
	case st.exchanges == 0 || st.deliveries == 0:
		t.Fatalf("seed %d: %d exchanges, %d out-of-order deliveries", seed, st.exchanges, st.deliveries)
	}
}

// TestHarnessCatchesBugs runs the convergence check against deliberately
// broken CRDTs, to show that it fails when a merge law is broken.
func TestHarnessCatchesBugs(t *testing.T) {
	bugs := map[string]laws{
		"Prev naming an unseen write is forgotten": {
			apply: func(r *replica, u update) {
				if u.kind != regWrite {
					realLaws.apply(r, u)
					return
				}
				var unseen []ID
				for _, p := range u.write.Prev {
					if _, ok := r.reg.Writes[p]; !ok {
						if _, ok := r.reg.Superseded[p]; !ok {
							unseen = append(unseen, p)
						}
					}
				}
				r.reg.Apply(u.write)
				for _, p := range unseen {
					delete(r.reg.Superseded, p)
				}
			},
			merge: realLaws.merge,
		},
		"remove keeps no tombstone for an add not yet seen": {
			apply: func(r *replica, u update) {
				if u.kind != setRemove {
					realLaws.apply(r, u)
					return
				}
				for _, tag := range u.tags {
					if _, ok := r.set.Adds[tag]; ok {
						r.set.Remove(tag)
					}
				}
			},
			merge: realLaws.merge,
		},
		"a duplicate remove undoes the first": {
			apply: func(r *replica, u update) {
				if u.kind != setRemove {
					realLaws.apply(r, u)
					return
				}
				for _, tag := range u.tags {
					if _, ok := r.set.Removed[tag]; ok {
						delete(r.set.Removed, tag)
					} else {
						r.set.Remove(tag)
					}
				}
			},
			merge: realLaws.merge,
		},
		"merge drops the source's removes": {
			apply: realLaws.apply,
			merge: func(dst, src *replica) {
				dst.reg.Merge(&src.reg)
				for tag, e := range src.set.Adds {
					dst.set.Add(tag, e)
				}
			},
		},
		"merge keeps the destination's register": {
			apply: realLaws.apply,
			merge: func(dst, src *replica) {
				if dst.reg.Len() == 0 {
					dst.reg.Merge(&src.reg)
				}
				dst.set.Merge(&src.set)
			},
		},
	}
	for name, bug := range bugs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const seed = 1
			rng := newRand(seed)
			h := genHistory(rng, defaultGenConfig(1000), realLaws)
			err := checkConvergence(rng, h, bug, 4)
			if err == nil {
				t.Fatalf("checkConvergence with a broken CRDT (%s) passed; want a divergence", name)
			}
			t.Logf("caught: %.200s", err)
		})
	}
}

// fuzzConverges drives genHistory from fuzzer bytes (first byte: number of
// authors) and checks convergence with deliveries seeded by the same bytes.
func fuzzConverges(t *testing.T, data []byte, cfg genConfig) {
	if len(data) == 0 {
		return
	}
	cfg.authors = 2 + int(data[0]%4)
	cfg.updates = min(len(data), 128)
	h := genHistory(&byteChooser{data: data[1:]}, cfg, realLaws)
	sum := sha256.Sum256(data)
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	if err := checkConvergence(rng, h, realLaws, 2); err != nil {
		t.Fatalf("history of %d updates by %d authors: %v", len(h.updates), cfg.authors, err)
	}
}

func addFuzzSeeds(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	rng := newRand(42)
	for _, n := range []int{64, 512, 2048} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(b)
	}
}

func FuzzLWWConverges(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzConverges(t, data, genConfig{write: 70, exchange: 20, deliver: 10})
	})
}

func FuzzORSetConverges(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzConverges(t, data, genConfig{add: 40, remove: 30, exchange: 20, deliver: 10})
	})
}
