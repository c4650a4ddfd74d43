package forge_test

import (
	"bytes"
	"errors"
	"fmt"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// mapReader is the smallest forge.Reader: package storage implements the
// same interface over Pebble.
type mapReader struct {
	metas    map[op.ID]forge.Meta
	roles    map[forge.RolesID]*forge.Roles
	repos    map[op.ID]*forge.Repo
	objects  map[op.ID]*forge.Object
	comments map[op.ID]*forge.Comment
}

func (r *mapReader) Meta(id op.ID) (forge.Meta, bool, error) {
	m, ok := r.metas[id]
	return m, ok, nil
}
func (r *mapReader) Roles(id forge.RolesID) (*forge.Roles, error) { return r.roles[id], nil }
func (r *mapReader) Repo(id op.ID) (*forge.Repo, error)           { return r.repos[id], nil }
func (r *mapReader) Object(id op.ID) (*forge.Object, error)       { return r.objects[id], nil }
func (r *mapReader) Comment(id op.ID) (*forge.Comment, error)     { return r.comments[id], nil }

// record keeps what Apply decided, as storage would.
func (r *mapReader) record(o *op.Op, res forge.Result) {
	r.metas[o.ID()] = res.Meta
	if res.Roles != nil {
		r.roles[res.Meta.Roles] = res.Roles
	}
	for _, c := range res.Comments {
		r.comments[c.ID] = c
	}
	if res.Repo != nil {
		r.repos[res.Meta.Repo] = res.Repo
	}
	if res.Object != nil {
		r.objects[res.Object.ID] = res.Object
	}
}

// Example follows a repo's first ops through Apply: the owner creates the
// repo, a contributor opens an issue, and the contributor's attempt to
// label it is rejected because labels need a maintainer.
func Example() {
	owner, _ := identity.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	contributor, _ := identity.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	r := &mapReader{metas: map[op.ID]forge.Meta{}, roles: map[forge.RolesID]*forge.Roles{},
		repos: map[op.ID]*forge.Repo{}, objects: map[op.ID]*forge.Object{}, comments: map[op.ID]*forge.Comment{}}
	clock := crdt.NewClock(nil)

	// do validates an action, signs it on top of parent and applies it.
	do := func(k *identity.Key, repo, parent op.ID, kind string, target op.ID, body any) *op.Op {
		a, err := forge.NewAction(kind, target, body)
		if err != nil {
			fmt.Println("invalid:", err)
			return nil
		}
		var parents []op.ID
		if !parent.IsZero() {
			parents = []op.ID{parent}
		}
		o, err := op.Sign(k, a.Unsigned(repo, parents, clock.Now()))
		if err != nil {
			panic(err)
		}
		res, err := forge.Apply(r, o)
		if err != nil {
			panic(err)
		}
		r.record(o, res)
		if res.Err != nil {
			fmt.Printf("%s rejected (unauthorized: %v)\n", kind, errors.Is(res.Err, forge.ErrUnauthorized))
		} else {
			fmt.Printf("%s accepted\n", kind)
		}
		return o
	}

	genesis := do(owner, op.ID{}, op.ID{}, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"})
	repo := genesis.ID()
	issue := do(contributor, repo, genesis.ID(), forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash on start"})
	label := do(contributor, repo, issue.ID(), forge.KindLabelAdd, issue.ID(), forge.Label{Label: "bug"})
	do(contributor, repo, label.ID(), forge.KindTitle, issue.ID(), forge.Set{Value: " "})
	do(owner, repo, label.ID(), forge.KindLabelAdd, issue.ID(), forge.Label{Label: "bug"})

	sm := r.objects[issue.ID()].Summary()
	fmt.Printf("%s %q %s labels=%v\n", sm.Type, sm.Title, sm.State, sm.Labels)
	// Output:
	// repo.create accepted
	// issue.open accepted
	// label.add rejected (unauthorized: true)
	// invalid: title must not be empty
	// label.add accepted
	// issue "Crash on start" open labels=[bug]
}
