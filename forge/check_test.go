package forge_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/forge"
	"murmur/op"
)

func TestCheckValidation(t *testing.T) {
	rev := op.ID{1}
	tests := []struct {
		name  string
		body  forge.Check
		field string // "" when valid
	}{
		{"pending", forge.Check{Revision: rev, State: forge.CheckPending}, ""},
		{"full", forge.Check{Revision: rev, State: forge.CheckSuccess, Name: "ci/test", URL: "https://ci.example/1", Summary: "42 passed"}, ""},
		{"http", forge.Check{Revision: rev, State: forge.CheckFailure, URL: "http://ci.example/1"}, ""},
		{"bad state", forge.Check{Revision: rev, State: "done"}, "state"},
		{"no state", forge.Check{Revision: rev}, "state"},
		{"no revision", forge.Check{State: forge.CheckPending}, "revision"},
		{"padded name", forge.Check{Revision: rev, State: forge.CheckPending, Name: " ci"}, "name"},
		{"long name", forge.Check{Revision: rev, State: forge.CheckPending, Name: strings.Repeat("n", forge.MaxName+1)}, "name"},
		{"ftp url", forge.Check{Revision: rev, State: forge.CheckPending, URL: "ftp://ci.example/1"}, "url"},
		{"javascript url", forge.Check{Revision: rev, State: forge.CheckPending, URL: "javascript:alert(1)"}, "url"},
		{"relative url", forge.Check{Revision: rev, State: forge.CheckPending, URL: "/runs/1"}, "url"},
		{"long url", forge.Check{Revision: rev, State: forge.CheckPending, URL: "https://ci.example/" + strings.Repeat("x", forge.MaxURL)}, "url"},
		{"long summary", forge.Check{Revision: rev, State: forge.CheckPending, Summary: strings.Repeat("s", forge.MaxText+1)}, "summary"},
		{"too many prev", forge.Check{Revision: rev, State: forge.CheckPending, Prev: make([]op.ID, forge.MaxPrev+1)}, "prev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := forge.NewAction(forge.KindCheck, op.ID{2}, tt.body)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("NewAction(%+v) = %v, want ok", tt.body, err)
				}
				return
			}
			var ve *forge.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("NewAction(%+v) = %v, want a ValidationError on %q", tt.body, err, tt.field)
			}
		})
	}
}

func TestCheckApply(t *testing.T) {
	w := newWorld(t)
	patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "i"})
	rev2 := w.must("rev2", "alice", forge.KindRevision, patch, forge.Revision{Commit: commitB})

	// Anyone may report, here bob, who is no maintainer.
	first := w.must("", "bob", forge.KindCheck, patch, forge.Check{Revision: patch, State: forge.CheckPending, Name: "ci"})
	w.must("", "bob", forge.KindCheck, patch, forge.Check{Revision: patch, State: forge.CheckFailure, Name: "ci", Summary: "1 failed", Prev: []op.ID{first}})
	w.must("", "bob", forge.KindCheck, patch, forge.Check{Revision: rev2, State: forge.CheckSuccess, Name: "ci"})
	w.must("", "carol", forge.KindCheck, patch, forge.Check{Revision: patch, State: forge.CheckSuccess})
	w.must("", "bob", forge.KindCheck, patch, forge.Check{Revision: patch, State: forge.CheckSuccess, Name: "lint"})

	got := map[string]string{}
	o := w.m.object(t, patch)
	for _, c := range o.CheckList() {
		v, _ := c.Status.Get()
		got[fmt.Sprintf("%s %s %s", c.Revision.Short(), c.Reporter.Short(), c.Name)] = v.State + " " + v.Summary
	}
	want := map[string]string{
		patch.Short() + " " + w.pub("bob").Short() + " ci":   "failure 1 failed",
		patch.Short() + " " + w.pub("bob").Short() + " lint": "success ",
		patch.Short() + " " + w.pub("carol").Short() + " ":   "success ",
		rev2.Short() + " " + w.pub("bob").Short() + " ci":    "success ",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	if l := o.CheckList(); len(l) != 4 || l[0].Revision != patch || l[3].Revision != rev2 {
		t.Errorf("CheckList is not ordered by revision: %v", l)
	}

	for name, c := range map[string]struct {
		target op.ID
		body   forge.Check
	}{
		"on an issue":       {issue, forge.Check{Revision: patch, State: forge.CheckPending}},
		"not a revision":    {patch, forge.Check{Revision: issue, State: forge.CheckPending}},
		"revision of other": {patch, forge.Check{Revision: w.repo, State: forge.CheckPending}},
	} {
		if _, res := w.do("bob", forge.KindCheck, c.target, c.body); res.Meta.Accepted || !errors.Is(res.Err, forge.ErrRejected) {
			t.Errorf("check %s: accepted=%v err=%v, want rejected", name, res.Meta.Accepted, res.Err)
		}
	}
}

// TestChecksConverge delivers random concurrent check reports, made on
// random causal pasts, in random orders to fresh replicas: every replica
// ends in the same state, and for each (revision, reporter, name) the
// report that wins is the same everywhere.
func TestChecksConverge(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			w := newWorld(t)
			patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
			rev2 := w.must("rev2", "alice", forge.KindRevision, patch, forge.Revision{Commit: commitB})
			prefix := sortedByClock(w)
			revs := []op.ID{patch, rev2}
			reporters := []string{"bob", "carol", "maint"}
			names := []string{"", "ci", "lint"}
			states := []string{forge.CheckPending, forge.CheckSuccess, forge.CheckFailure}
			var made []*op.Op
			for range 60 {
				// Parents: the common prefix's heads, or those plus some
				// earlier reports, so some reports see others and some
				// are concurrent.
				parents := w.m.headList(w.repo)
				if len(made) > 0 && rng.IntN(2) == 0 {
					parents = []op.ID{made[rng.IntN(len(made))].ID()}
				}
				body := forge.Check{
					Revision: revs[rng.IntN(len(revs))],
					State:    states[rng.IntN(len(states))],
					Name:     names[rng.IntN(len(names))],
					Summary:  fmt.Sprint(len(made)),
				}
				made = append(made, w.makeOn(parents, reporters[rng.IntN(len(reporters))], forge.KindCheck, patch, body))
			}
			var first string
			for replica := range 4 {
				s := shuffledReplica(t, w, prefix, made, rng)
				for _, o := range made {
					if !s.metas[o.ID()].Accepted {
						t.Fatalf("report %s rejected: %s", o.ID().Short(), s.metas[o.ID()].Reason)
					}
				}
				snap := s.snapshot(t)
				if replica == 0 {
					first = snap
					if n := len(s.object(t, patch).Checks); n < 2 {
						t.Fatalf("only %d check registers; the generator is too narrow", n)
					}
				} else if snap != first {
					t.Fatalf("replica %d differs from replica 0 after another delivery order", replica)
				}
			}
		})
	}
}
