package storage_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

func testKey(t testing.TB, seed byte) *identity.Key {
	t.Helper()
	k, err := identity.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// baseClock is a fixed time in the past, so ops are never parked unless a
// test wants them to be.
var baseClock = crdt.NewTimestamp(1_700_000_000_000, 0)

// open opens a store on fs (a fresh in-memory one when nil) and closes it
// when the test ends unless the test closed it.
func open(t testing.TB, fs vfs.FS, opts *storage.Options) *storage.Store {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	o := storage.Options{}
	if opts != nil {
		o = *opts
	}
	o.FS = fs
	s, err := storage.Open("db", &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// signOp signs an op; the body is encoded but not validated.
func signOp(t testing.TB, k *identity.Key, repo op.ID, parents []op.ID, clock crdt.Timestamp, kind string, target op.ID, body any) *op.Op {
	t.Helper()
	b, err := op.EncodeBody(body)
	if err != nil {
		t.Fatalf("encode %s: %v", kind, err)
	}
	o, err := op.Sign(k, op.Unsigned{Repo: repo, Parents: parents, Clock: clock, Kind: kind, Target: target, Body: b})
	if err != nil {
		t.Fatalf("sign %s: %v", kind, err)
	}
	return o
}

func genesis(t testing.TB, k *identity.Key, name string) *op.Op {
	t.Helper()
	return signOp(t, k, op.ID{}, nil, baseClock, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: name, DefaultBranch: "main"})
}

// create makes a local op with Create on the repo's tip.
func create(t testing.TB, s *storage.Store, repo op.ID, k *identity.Key, kind string, target op.ID, body any) (storage.Applied, error) {
	t.Helper()
	return s.Create(repo, func(tip storage.Tip) (*op.Op, error) {
		a, err := forge.NewAction(kind, target, body)
		if err != nil {
			return nil, err
		}
		clock := tip.Clock + 1
		if repo.IsZero() {
			clock = baseClock
		}
		return op.Sign(k, a.Unsigned(repo, tip.Parents, clock))
	})
}

func mustCreate(t testing.TB, s *storage.Store, repo op.ID, k *identity.Key, kind string, target op.ID, body any) op.ID {
	t.Helper()
	a, err := create(t, s, repo, k, kind, target, body)
	if err != nil {
		t.Fatalf("Create(%s): %v", kind, err)
	}
	return a.ID
}

func ingest(t testing.TB, s *storage.Store, ops ...*op.Op) storage.Report {
	t.Helper()
	rep, err := s.Ingest(ops)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return rep
}

// snapshot is everything a reader can see of a store, for comparisons
// across stores, reopenings and rebuilds.
type snapshot struct {
	Repos       []*forge.Repo
	Objects     map[op.ID]*forge.Object
	Views       map[op.ID]objectView
	RepoViews   map[op.ID]repoView
	Summaries   map[op.ID][]forge.Summary
	Heads       map[op.ID][]op.ID
	Maintainers map[op.ID][]identity.PublicKey
	Roles       map[op.ID]forge.RolesID
	Metas       map[op.ID]forge.Meta
	OpCounts    map[op.ID]int
	Pending     int
}

// takeSnapshot reads everything about every repo in s.
func takeSnapshot(t testing.TB, s *storage.Store) *snapshot {
	t.Helper()
	repos, err := s.Repos()
	if err != nil {
		t.Fatalf("Repos: %v", err)
	}
	sn := &snapshot{
		Repos: repos, Objects: map[op.ID]*forge.Object{}, Views: map[op.ID]objectView{}, RepoViews: map[op.ID]repoView{},
		Summaries: map[op.ID][]forge.Summary{}, Heads: map[op.ID][]op.ID{}, Maintainers: map[op.ID][]identity.PublicKey{},
		Roles: map[op.ID]forge.RolesID{}, Metas: map[op.ID]forge.Meta{}, OpCounts: map[op.ID]int{}, Pending: s.Pending(),
	}
	for _, r := range repos {
		sn.RepoViews[r.ID] = viewRepo(r)
		sums, err := s.Summaries(r.ID, "", "")
		if err != nil {
			t.Fatalf("Summaries: %v", err)
		}
		sn.Summaries[r.ID] = sums
		for _, sm := range sums {
			o, err := s.ObjectWithComments(sm.ID)
			if err != nil {
				t.Fatalf("Object(%s): %v", sm.ID.Short(), err)
			}
			if got := o.Summary(); !cmp.Equal(got, sm, cmpopts.EquateEmpty()) {
				t.Errorf("listing index of %s is stale:\n%s", sm.ID.Short(), cmp.Diff(sm, got, cmpopts.EquateEmpty()))
			}
			sn.Objects[sm.ID] = o
			sn.Views[sm.ID] = viewObject(o)
		}
		for _, typ := range []forge.ObjectType{forge.TypeIssue, forge.TypePatch} {
			for _, st := range []string{forge.StateOpen, forge.StateClosed, forge.StateDraft, forge.StateMerged} {
				part, err := s.Summaries(r.ID, typ, st)
				if err != nil {
					t.Fatal(err)
				}
				n, err := s.CountObjects(r.ID, typ, st)
				if err != nil || n != len(part) {
					t.Errorf("CountObjects(%s, %s) = %d, %v; Summaries has %d", typ, st, n, err, len(part))
				}
				for _, sm := range part {
					if sm.Type != typ || sm.State != st {
						t.Errorf("Summaries(%s, %s) returned a %s %s", typ, st, sm.Type, sm.State)
					}
				}
			}
		}
		heads, err := s.Heads(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		sn.Heads[r.ID] = heads
		roles, err := s.RolesAt(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		sn.Maintainers[r.ID] = roles.Maintainers()
		sn.Roles[r.ID] = roles.ID()
		n := 0
		err = s.ForEachOp(r.ID, func(clock crdt.Timestamp, id op.ID) error {
			m, err := s.Meta(id)
			if err != nil {
				return err
			}
			if m.Clock != clock || m.Repo != r.ID {
				t.Errorf("op %s: clock index says %v in %s, meta says %v in %s", id.Short(), clock, r.ID.Short(), m.Clock, m.Repo.Short())
			}
			sn.Metas[id] = m
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sn.OpCounts[r.ID], err = s.OpCount(r.ID)
		if err != nil || sn.OpCounts[r.ID] != n {
			t.Errorf("OpCount = %d, %v; ForEachOp saw %d", sn.OpCounts[r.ID], err, n)
		}
	}
	return sn
}

// canonical encodes snapshots so that equal states have equal bytes: map
// keys sorted, nil and empty containers alike.
var canonical = func() cbor.EncMode {
	o := cbor.CoreDetEncOptions()
	o.NilContainers = cbor.NilContainerAsEmpty
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// diffSnapshots compares two snapshots (or parts of them); the empty
// string means equal.
func diffSnapshots(a, b any) string {
	ea, err1 := canonical.Marshal(a)
	eb, err2 := canonical.Marshal(b)
	if err1 == nil && err2 == nil && bytes.Equal(ea, eb) {
		return ""
	}
	return cmp.Diff(a, b, cmpopts.EquateEmpty())
}

// repoView and objectView are the canonical, user-visible state: register
// winners and their concurrent losers, set elements, comments, revisions
// and reviews in display order.
type repoView struct {
	Name, Description, Branch register
	Refs                      map[string]register
	Aliases                   map[identity.PublicKey]register
}

type register struct {
	Value  string
	Losers []string
}

type commentView struct {
	ID        op.ID
	Author    identity.PublicKey
	ReplyTo   op.ID
	Anchor    *forge.Anchor
	Body      register
	History   int
	Hidden    bool
	Resolved  bool
	Reactions []forge.Reaction
}

type reviewView struct {
	Reviewer identity.PublicKey
	Revision op.ID
	Verdict  forge.Verdict
	Losers   []forge.Verdict
}

type objectView struct {
	Type      forge.ObjectType
	Author    identity.PublicKey
	Title     register
	Body      register
	State     forge.State
	Losers    []forge.State
	Base      register
	Labels    []string
	Assignees []identity.PublicKey
	Reactions []forge.Reaction
	Comments  []commentView
	Revisions []forge.RevisionState
	Reviews   []reviewView
	Updated   crdt.Timestamp
}

func reg(l *crdt.LWW[string]) register {
	v, _ := l.Get()
	r := register{Value: v}
	for _, w := range l.Concurrent() {
		r.Losers = append(r.Losers, w.Value)
	}
	return r
}

func viewRepo(r *forge.Repo) repoView {
	v := repoView{Name: reg(&r.Name), Description: reg(&r.Description), Branch: reg(&r.DefaultBranch),
		Refs: map[string]register{}, Aliases: map[identity.PublicKey]register{}}
	for name, l := range r.Refs {
		v.Refs[name] = reg(l)
	}
	for k, l := range r.Aliases {
		v.Aliases[k] = reg(l)
	}
	return v
}

func viewObject(o *forge.Object) objectView {
	v := objectView{
		Type: o.Type, Author: o.Author, Title: reg(&o.Title), Body: reg(&o.Body), State: o.CurrentState(),
		Base: reg(&o.Base), Labels: o.Labels.Elements(), Assignees: o.AssigneeKeys(),
		Reactions: forge.Reactions(&o.Reactions), Updated: o.Updated,
	}
	for _, w := range o.State.Concurrent() {
		v.Losers = append(v.Losers, w.Value)
	}
	for _, c := range o.CommentList() {
		hidden, _ := c.Hidden.Get()
		resolved, _ := c.Resolved.Get()
		v.Comments = append(v.Comments, commentView{
			ID: c.ID, Author: c.Author, ReplyTo: c.ReplyTo, Anchor: c.Anchor, Body: reg(&c.Body), History: c.Body.Len(),
			Hidden: hidden, Resolved: resolved, Reactions: forge.Reactions(&c.Reactions),
		})
	}
	for _, r := range o.RevisionList() {
		v.Revisions = append(v.Revisions, *r)
	}
	for _, r := range o.ReviewList() {
		verdict, _ := r.Verdict.Get()
		rv := reviewView{Reviewer: r.Reviewer, Revision: r.Revision, Verdict: verdict}
		for _, w := range r.Verdict.Concurrent() {
			rv.Losers = append(rv.Losers, w.Value)
		}
		v.Reviews = append(v.Reviews, rv)
	}
	return v
}

// crdtAt returns the timestamp of a wall-clock time.
func crdtAt(t time.Time) crdt.Timestamp { return crdt.NewTimestamp(t.UnixMilli(), 0) }

func sortedIDs(ids []op.ID) []op.ID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b op.ID) int { return bytes.Compare(a[:], b[:]) })
	return out
}
