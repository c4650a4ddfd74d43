package storage_test

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/op"
)

// TestModerationPersists: a ban, a lock and who may open, stored in Pebble
// as part of role states, read back the same after the store is reopened,
// and a banned author's later op ingested after the reopen is rejected.
func TestModerationPersists(t *testing.T) {
	owner, bob := testKey(t, 1), testKey(t, 2)
	g := genesis(t, owner, "murmur")
	issue := signOp(t, bob, g.ID(), []op.ID{g.ID()}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash"})
	ban := signOp(t, owner, g.ID(), []op.ID{issue.ID()}, baseClock+2, forge.KindBan, op.ID{}, forge.Standing{Key: bob.Public(), On: true, Reason: "spam"})
	lock := signOp(t, owner, g.ID(), []op.ID{ban.ID()}, baseClock+3, forge.KindLock, issue.ID(), forge.SetBool{Value: true})
	opens := signOp(t, owner, g.ID(), []op.ID{lock.ID()}, baseClock+4, forge.KindWhoOpens, op.ID{}, forge.Set{Value: forge.OpensMembers})
	late := signOp(t, bob, g.ID(), []op.ID{opens.ID()}, baseClock+5, forge.KindCommentAdd, issue.ID(), forge.CommentAdd{Body: "still here"})

	fs := vfs.NewMem()
	s := open(t, fs, nil)
	ingest(t, s, g, issue, ban, lock, opens)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, fs, nil)
	roles, err := s.RolesAt(g.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !roles.Banned(bob.Public()) || !roles.Locked(issue.ID()) || roles.WhoOpens() != forge.OpensMembers {
		t.Fatalf("after reopen: banned %v, locked %v, who opens %q; want true, true, members",
			roles.Banned(bob.Public()), roles.Locked(issue.ID()), roles.WhoOpens())
	}
	if b := roles.Bans(); len(b) != 1 || b[0].Reason != "spam" {
		t.Errorf("Bans() after reopen = %+v", b)
	}
	ingest(t, s, late)
	m, err := s.Meta(late.ID())
	if err != nil {
		t.Fatal(err)
	}
	if m.Accepted {
		t.Errorf("banned author's comment after the reopen was accepted")
	}
	for _, o := range []*op.Op{issue, ban, lock, opens} {
		if m, err := s.Meta(o.ID()); err != nil || !m.Accepted {
			t.Errorf("%s: accepted %v (%s), %v; want accepted", o.Kind, m.Accepted, m.Reason, err)
		}
	}
}

// BenchmarkLockAfter measures a thread lock made on a repo whose role
// state already holds n locks: each moderation op stores a new role state
// with all entries, so its cost grows with n.
func BenchmarkLockAfter(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			owner := testKey(b, 1)
			s := open(b, nil, nil)
			g := genesis(b, owner, "murmur")
			ingest(b, s, g)
			var issues []op.ID
			for i := range n + b.N {
				a, err := create(b, s, g.ID(), owner, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprint(i)})
				if err != nil {
					b.Fatal(err)
				}
				issues = append(issues, a.ID)
			}
			lock := func(id op.ID) {
				if _, err := create(b, s, g.ID(), owner, forge.KindLock, id, forge.SetBool{Value: true}); err != nil {
					b.Fatal(err)
				}
			}
			for _, id := range issues[:n] {
				lock(id)
			}
			b.ResetTimer()
			for i := range b.N {
				lock(issues[n+i])
			}
		})
	}
}
