package storage_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// ExampleStore creates a repo and an issue as local writes, takes a
// comment from a peer that arrives before the issue it belongs to, and
// lists the repo's issues.
func ExampleStore() {
	s, err := storage.Open("db", &storage.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	owner, _ := identity.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	peer, _ := identity.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	clock := crdt.NewClock(nil)

	// write makes a local op on the repo's tip; Create returns once it is
	// durable.
	write := func(repo op.ID, k *identity.Key, kind string, target op.ID, body any) (op.ID, error) {
		a, err := s.Create(repo, func(tip storage.Tip) (*op.Op, error) {
			act, err := forge.NewAction(kind, target, body)
			if err != nil {
				return nil, err
			}
			return op.Sign(k, act.Unsigned(repo, tip.Parents, clock.Now(tip.Clock)))
		})
		return a.ID, err
	}
	repo, _ := write(op.ID{}, owner, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"})

	// The peer's issue and comment arrive in the wrong order: the comment
	// waits in the pending pool until its issue comes.
	issue, _ := op.Sign(peer, op.Unsigned{Repo: repo, Parents: []op.ID{repo}, Clock: clock.Now(), Kind: forge.KindIssueOpen,
		Body: mustBody(forge.IssueOpen{Title: "Crash on start"})})
	comment, _ := op.Sign(peer, op.Unsigned{Repo: repo, Parents: []op.ID{issue.ID()}, Clock: clock.Now(), Kind: forge.KindCommentAdd,
		Target: issue.ID(), Body: mustBody(forge.CommentAdd{Body: "Stack trace attached."})})
	rep, _ := s.Ingest([]*op.Op{comment})
	fmt.Println("comment:", rep.Outcomes[0] == storage.Waiting, "pending:", s.Pending())
	rep, _ = s.Ingest([]*op.Op{issue})
	fmt.Println("issue stored:", rep.Outcomes[0] == storage.Stored, "released:", rep.Released)

	// A local write the owner may make, and one the peer may not.
	_, err = write(repo, owner, forge.KindLabelAdd, issue.ID(), forge.Label{Label: "bug"})
	fmt.Println("owner labels:", err)
	_, err = write(repo, peer, forge.KindLabelAdd, issue.ID(), forge.Label{Label: "urgent"})
	fmt.Println("peer labels rejected:", errors.Is(err, storage.ErrRejected))

	issues, _ := s.Summaries(repo, forge.TypeIssue, forge.StateOpen)
	for _, sm := range issues {
		fmt.Printf("%q labels=%v comments=%d\n", sm.Title, sm.Labels, sm.Comments)
	}
	n, _ := s.OpCount(repo)
	fmt.Println("ops:", n)
	// Output:
	// comment: true pending: 1
	// issue stored: true released: 1
	// owner labels: <nil>
	// peer labels rejected: true
	// "Crash on start" labels=[bug] comments=1
	// ops: 4
}

func mustBody(v any) []byte {
	b, err := op.EncodeBody(v)
	if err != nil {
		panic(err)
	}
	return b
}
