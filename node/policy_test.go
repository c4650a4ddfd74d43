package node

import (
	"errors"
	"murmur/crdt"
	"testing"
	"time"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/policy"
)

// spam signs n issue.open ops by k, each on the last, after the genesis.
func spam(t *testing.T, k *identity.Key, g *op.Op, n int) [][]byte {
	t.Helper()
	var raws [][]byte
	parent := g.ID()
	for i := range n {
		o := signTestOp(t, k, op.Unsigned{Repo: g.ID(), Parents: []op.ID{parent}, Clock: g.Clock + 1 + crdt.Timestamp(i), Kind: forge.KindIssueOpen},
			forge.IssueOpen{Title: "spam"})
		raws = append(raws, o.Bytes())
		parent = o.ID()
	}
	return raws
}

// TestPolicyRefusals checks that blocked and over-budget ops are refused,
// not stored, kept in the repo's summary across a restart, and offered
// again once unblocked or once their window has passed.
func TestPolicyRefusals(t *testing.T) {
	ctx := testCtx(t)
	home := t.TempDir()
	v, err := Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.CreateRepo(ctx, api.NewRepo{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	repo := mustID(t, r.ID)
	g, err := v.store.Op(repo)
	if err != nil {
		t.Fatal(err)
	}
	mallory, _ := identity.Generate()
	peer, _ := identity.Generate()
	if err := policy.Save(home, &policy.Policy{Blocked: []string{mallory.Public().DID()}}); err != nil {
		t.Fatal(err)
	}
	v.pol.w.Reload()

	raws := spam(t, mallory, g, 3)
	before, _ := v.rep.Root(repo)
	res, err := v.rep.Ingest(peer.Public(), repo, raws)
	if err != nil {
		t.Fatal(err)
	}
	if res.Refused != 3 || res.Stored != 0 || res.RefusedReason == nil {
		t.Fatalf("Ingest of a blocked author's ops = %+v, want 3 refused, none stored", res)
	}
	blockedRoot, _ := v.rep.Root(repo)
	if blockedRoot == before {
		t.Fatal("refused ops are not in the repo's summary; peers would offer them every round")
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}

	// Refusals survive a restart.
	v, err = Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got, _ := v.rep.Root(repo); got != blockedRoot {
		t.Fatal("the repo's summary after a restart lacks the refused ops")
	}
	for _, b := range raws {
		o, _ := op.Decode(b)
		if has, _ := v.store.HasOp(o.ID()); has {
			t.Fatalf("refused op %s is stored", o.ID().Short())
		}
	}

	// Unblocked, with a budget of one op per window: the refusals of the
	// block are forgotten; one op is stored, two are refused by budget
	// and offered again after the window.
	if err := policy.Save(home, &policy.Policy{Budget: policy.Budget{AuthorOps: 1, Window: "1h"}}); err != nil {
		t.Fatal(err)
	}
	v.pol.w.Reload()
	if got, _ := v.rep.Root(repo); got != before {
		t.Fatal("unblocking left the author's refused ops in the summary")
	}
	res, err = v.rep.Ingest(peer.Public(), repo, raws)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 1 || res.Refused != 2 {
		t.Fatalf("Ingest over a budget of 1 = %+v, want 1 stored and 2 refused", res)
	}
	var over *policy.OverBudgetError
	if !errors.As(res.RefusedReason, &over) || over.Scope != "author" {
		t.Fatalf("refusal reason = %v, want an author budget", res.RefusedReason)
	}
	v.expireRefusals(time.Now().Add(2 * time.Hour))
	v.pol.mu.Lock()
	left := len(v.pol.refused[repo])
	v.pol.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d budget refusals left after their window", left)
	}
}

// TestPolicyHides checks that a blocked author's stored issue leaves the
// lists, the view and the activity, and comes back when unblocked.
func TestPolicyHides(t *testing.T) {
	ctx := testCtx(t)
	home := t.TempDir()
	v, err := Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	r, err := v.CreateRepo(ctx, api.NewRepo{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	repo := mustID(t, r.ID)
	g, err := v.store.Op(repo)
	if err != nil {
		t.Fatal(err)
	}
	eve, _ := identity.Generate()
	peer, _ := identity.Generate()
	raws := spam(t, eve, g, 1)
	if res, err := v.rep.Ingest(peer.Public(), repo, raws); err != nil || res.Stored != 1 {
		t.Fatalf("Ingest = %+v, %v; want 1 stored", res, err)
	}
	o, _ := op.Decode(raws[0])
	visible := func() (list, view, activity bool) {
		is, err := v.Issues(ctx, r.ID, api.ListFilter{State: "all"})
		if err != nil {
			t.Fatal(err)
		}
		_, verr := v.Issue(ctx, r.ID, o.ID().String())
		acts, err := v.Activity(ctx, r.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			activity = activity || a.Op == o.ID().String()
		}
		return len(is) == 1, verr == nil, activity
	}
	if l, vw, a := visible(); !l || !vw || !a {
		t.Fatalf("before the block: list %v, view %v, activity %v; want all true", l, vw, a)
	}
	if err := policy.Save(home, &policy.Policy{Blocked: []string{eve.Public().DID()}}); err != nil {
		t.Fatal(err)
	}
	v.pol.w.Reload()
	if l, vw, a := visible(); l || vw || a {
		t.Fatalf("blocked: list %v, view %v, activity %v; want all false", l, vw, a)
	}
	if _, err := v.Issue(ctx, r.ID, o.ID().String()); api.ErrorCode(err) != api.CodeNotFound {
		t.Fatalf("Issue of a blocked author = %v, want %s", err, api.CodeNotFound)
	}
	if err := policy.Save(home, &policy.Policy{}); err != nil {
		t.Fatal(err)
	}
	v.pol.w.Reload()
	if l, vw, a := visible(); !l || !vw || !a {
		t.Fatalf("unblocked: list %v, view %v, activity %v; want all true", l, vw, a)
	}
}

// TestPolicyDependencyAdmitted: an op that builds on a refused op does not
// wait forever: the refused op is reported missing and admitted when it
// comes again.
func TestPolicyDependencyAdmitted(t *testing.T) {
	ctx := testCtx(t)
	home := t.TempDir()
	v, err := Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	r, err := v.CreateRepo(ctx, api.NewRepo{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	repo := mustID(t, r.ID)
	g, err := v.store.Op(repo)
	if err != nil {
		t.Fatal(err)
	}
	mallory, _ := identity.Generate()
	bob, _ := identity.Generate()
	peer, _ := identity.Generate()
	if err := policy.Save(home, &policy.Policy{Blocked: []string{mallory.Public().DID()}}); err != nil {
		t.Fatal(err)
	}
	v.pol.w.Reload()
	m := spam(t, mallory, g, 1)
	mo, _ := op.Decode(m[0])
	if res, _ := v.rep.Ingest(peer.Public(), repo, m); res.Refused != 1 {
		t.Fatalf("Ingest of the blocked op = %+v, want it refused", res)
	}
	reply := signTestOp(t, bob, op.Unsigned{Repo: repo, Parents: []op.ID{mo.ID()}, Clock: mo.Clock + 1, Kind: forge.KindIssueOpen},
		forge.IssueOpen{Title: "built on a blocked op"})
	res, err := v.rep.Ingest(peer.Public(), repo, [][]byte{reply.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 1 || res.Missing[0] != mo.ID() {
		t.Fatalf("Ingest of the reply = %+v, want the refused parent missing", res)
	}
	if res, _ := v.rep.Ingest(peer.Public(), repo, m); res.Refused != 0 || res.Stored != 2 {
		t.Fatalf("Ingest of the wanted parent = %+v, want it and the reply stored", res)
	}
	for _, id := range []op.ID{mo.ID(), reply.ID()} {
		if has, _ := v.store.HasOp(id); !has {
			t.Fatalf("op %s is not stored", id.Short())
		}
	}
}
