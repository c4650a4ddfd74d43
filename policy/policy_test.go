package policy

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/identity"
)

func key(t testing.TB, seed byte) identity.PublicKey {
	t.Helper()
	var s [32]byte
	s[0] = seed
	k, err := identity.NewKeyFromSeed(s[:])
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestCheck(t *testing.T) {
	k := key(t, 1).DID()
	tests := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"zero", Policy{}, true},
		{"full", Policy{Blocked: []string{k}, BlockedPeers: []string{k}, Seed: Seed{Mode: SeedTrusted, Trusted: []string{k}},
			Budget: Budget{Window: "10m", AuthorOps: 5}}, true},
		{"bad did", Policy{Blocked: []string{"alice"}}, false},
		{"bad mode", Policy{Seed: Seed{Mode: "some"}}, false},
		{"bad repo", Policy{Seed: Seed{Repos: []string{"abc"}}}, false},
		{"bad window", Policy{Budget: Budget{Window: "soon"}}, false},
		{"negative", Policy{Budget: Budget{AuthorOps: -1}}, false},
		{"version", Policy{Version: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check()
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%+v) = %v, want ok %v", tt.p, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Check error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	home := t.TempDir()
	p, err := Load(home)
	if err != nil || len(p.Blocked) != 0 {
		t.Fatalf("Load(empty) = %+v, %v", p, err)
	}
	k := key(t, 2).DID()
	p.Blocked = []string{k, k}
	p.Seed = Seed{Mode: SeedAll}
	if err := Save(home, p); err != nil {
		t.Fatal(err)
	}
	q, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Blocked, []string{k}) || q.Seed.Mode != SeedAll {
		t.Fatalf("Load = %+v, want blocked [%s] and seed all", q, k)
	}
	if err := os.WriteFile(filepath.Join(home, File), []byte(`{"blocked":[],"colour":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(home); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Load(unknown field) = %v, want ErrInvalid", err)
	}
}

func TestSeeds(t *testing.T) {
	alice, bob, carol := key(t, 1), key(t, 2), key(t, 3)
	var repoA, repoB [32]byte
	repoA[0], repoB[0] = 0xaa, 0xbb
	hexA := "aa" + strings.Repeat("0", 62)
	tests := []struct {
		name        string
		seed        Seed
		repo        [32]byte
		owner       identity.PublicKey
		maintainers []identity.PublicKey
		want        bool
	}{
		{"none", Seed{}, repoA, alice, nil, false},
		{"all", Seed{Mode: SeedAll}, repoB, carol, nil, true},
		{"listed", Seed{Mode: SeedRepos, Repos: []string{hexA}}, repoA, carol, nil, true},
		{"not listed", Seed{Mode: SeedRepos, Repos: []string{hexA}}, repoB, carol, nil, false},
		{"trusted owner", Seed{Mode: SeedTrusted, Trusted: []string{alice.DID()}}, repoB, alice, nil, true},
		{"trusted maintainer", Seed{Mode: SeedTrusted, Trusted: []string{alice.DID()}}, repoB, carol, []identity.PublicKey{bob, alice}, true},
		{"untrusted", Seed{Mode: SeedTrusted, Trusted: []string{alice.DID()}}, repoB, carol, []identity.PublicKey{bob}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(&Policy{Seed: tt.seed})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Seeds(tt.repo, tt.owner, tt.maintainers); got != tt.want {
				t.Fatalf("Seeds(%x, %s) = %v, want %v", tt.repo[:1], tt.owner.Short(), got, tt.want)
			}
		})
	}
}

func TestLedger(t *testing.T) {
	alice, bob, peer := key(t, 1), key(t, 2), key(t, 3)
	var repo [32]byte
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	b := Budget{Window: "1h", AuthorOps: 3, UnknownOps: 5}
	l := NewLedger()
	admit := func(a identity.PublicKey, known bool, at time.Time) error {
		return l.Admit(b, Charge{Repo: repo, Author: a, Peer: peer, Known: known, Bytes: 100}, at)
	}
	for i := range 3 {
		if err := admit(alice, true, now); err != nil {
			t.Fatalf("op %d of alice: %v", i, err)
		}
	}
	var over *OverBudgetError
	if err := admit(alice, true, now); !errors.As(err, &over) || over.Scope != "author" {
		t.Fatalf("4th op of alice = %v, want an author budget error", err)
	}
	// Unknown authors share the peer's and the repo's budget.
	for i := range 5 {
		fresh := key(t, byte(10+i))
		if err := admit(fresh, false, now); err != nil {
			t.Fatalf("fresh author %d: %v", i, err)
		}
	}
	if err := admit(key(t, 20), false, now); !errors.As(err, &over) || over.Scope != "peer" {
		t.Fatalf("6th unknown op = %v, want a peer budget error", err)
	}
	// A known author is not charged to the unknown budgets.
	if err := admit(bob, true, now); err != nil {
		t.Fatalf("known bob: %v", err)
	}
	// The next window starts afresh.
	if err := admit(alice, true, now.Add(time.Hour)); err != nil {
		t.Fatalf("alice in the next window: %v", err)
	}
	// The quota refuses unknown authors only.
	q := Budget{RepoBytes: 1000}
	if err := l.Admit(q, Charge{Author: bob, Bytes: 10, RepoBytes: 995}, now); !errors.As(err, &over) || over.Scope != "quota" {
		t.Fatalf("over quota = %v, want a quota error", err)
	}
	if err := l.Admit(q, Charge{Author: bob, Known: true, Bytes: 10, RepoBytes: 995}, now); err != nil {
		t.Fatalf("known author at quota: %v", err)
	}
}

// TestDecisionsDeterministic checks that the same policy and the same
// charges give the same decisions, whatever the order the policy's lists
// were written in.
func TestDecisionsDeterministic(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		keys := make([]identity.PublicKey, 6)
		for i := range keys {
			keys[i] = key(t, byte(i+1))
		}
		var trusted []string
		for _, k := range keys[:3] {
			trusted = append(trusted, k.DID())
		}
		shuffled := slices.Clone(trusted)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b := Budget{AuthorOps: 1 + rng.IntN(5), UnknownOps: 1 + rng.IntN(8), UnknownBytes: int64(500 + rng.IntN(2000)), Window: "1m"}
		r1, _ := Compile(&Policy{Seed: Seed{Mode: SeedTrusted, Trusted: trusted}, Blocked: trusted[:1], Budget: b})
		r2, _ := Compile(&Policy{Seed: Seed{Mode: SeedTrusted, Trusted: shuffled}, Blocked: trusted[:1], Budget: b})
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var charges []Charge
		var times []time.Time
		for range 200 {
			a := keys[rng.IntN(len(keys))]
			var repo [32]byte
			repo[0] = byte(rng.IntN(3))
			charges = append(charges, Charge{Repo: repo, Author: a, Peer: keys[rng.IntN(2)], Known: r1.Trusted(a), Bytes: 50 + rng.IntN(300)})
			times = append(times, start.Add(time.Duration(rng.IntN(180))*time.Second))
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		decide := func(r *Rules) []string {
			l := NewLedger()
			var out []string
			for i, c := range charges {
				d := "ok"
				if r.Blocked(c.Author) {
					d = "blocked"
				} else if err := l.Admit(r.Policy().Budget, c, times[i]); err != nil {
					d = err.Error()
				}
				seeds := r.Seeds(c.Repo, c.Author, []identity.PublicKey{c.Peer})
				out = append(out, d, map[bool]string{true: "seed", false: "skip"}[seeds])
			}
			return out
		}
		a, b2, c := decide(r1), decide(r1), decide(r2)
		if !slices.Equal(a, b2) || !slices.Equal(a, c) {
			t.Fatalf("seed %d: decisions differ between runs or list orders", seed)
		}
	}
}
