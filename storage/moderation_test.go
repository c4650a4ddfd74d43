package storage_test

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
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

// BenchmarkAfterLocks measures an op made on a repo whose role state
// already holds n locks: another lock (each moderation op stores a new
// role state with all entries, so its cost grows with n) and a comment;
// "baseline" is a comment after n comments instead of n locks, the cost
// of a repo of that many ops without moderation.
func BenchmarkAfterLocks(b *testing.B) {
	for _, kind := range []string{forge.KindLock, forge.KindCommentAdd, "baseline"} {
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				owner := testKey(b, 1)
				s := open(b, nil, nil)
				g := genesis(b, owner, "murmur")
				ingest(b, s, g)
				issues := openIssues(b, s, g.ID(), owner, n+b.N)
				do := func(kind string, id op.ID) {
					var body any = forge.SetBool{Value: true}
					if kind == forge.KindCommentAdd {
						body = forge.CommentAdd{Body: "hi"}
					}
					if _, err := create(b, s, g.ID(), owner, kind, id, body); err != nil {
						b.Fatal(err)
					}
				}
				setup, kind := forge.KindLock, kind
				if kind == "baseline" {
					setup, kind = forge.KindCommentAdd, forge.KindCommentAdd
				}
				for _, id := range issues[:n] {
					do(setup, id)
				}
				b.ResetTimer()
				for i := range b.N {
					do(kind, issues[n+i])
				}
			})
		}
	}
}

// TestRoleStateDeltas: seventy locks, each a role state stored as a delta
// on the one before with a whole state every rolesSnapshotEvery, read back
// after a reopen (with an empty cache) as the states they were.
func TestRoleStateDeltas(t *testing.T) {
	owner := testKey(t, 1)
	fs := vfs.NewMem()
	s := open(t, fs, nil)
	g := genesis(t, owner, "murmur")
	ingest(t, s, g)
	issues := openIssues(t, s, g.ID(), owner, 70)
	var states []forge.RolesID
	for _, id := range issues {
		l, err := create(t, s, g.ID(), owner, forge.KindLock, id, forge.SetBool{Value: true})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Meta(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, m.Roles)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, fs, nil)
	roles, err := s.RolesAt(g.ID())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range issues {
		if !roles.Locked(id) {
			t.Fatalf("issue %d not locked after reopen", i)
		}
	}
	if roles.ID() != states[len(states)-1] {
		t.Errorf("tip role state %s, want %s", roles.ID(), states[len(states)-1])
	}
}

// openIssues makes n issues by k in repo and returns their IDs.
func openIssues(t testing.TB, s *storage.Store, repo op.ID, k *identity.Key, n int) []op.ID {
	t.Helper()
	ids := make([]op.ID, n)
	for i := range ids {
		a, err := create(t, s, repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}
