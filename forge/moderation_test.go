package forge_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/forge"
	"murmur/op"
)

// moderationCases extend the authorization table with bans, members, who
// may open, and locks.
func moderationCases() []authCase {
	ban := func(who string) func(w *world) {
		return func(w *world) {
			w.must("", "owner", forge.KindBan, op.ID{}, forge.Standing{Key: w.pub(who), On: true, Reason: "spam"})
		}
	}
	opens := func(v string) func(w *world) {
		return func(w *world) { w.must("", "owner", forge.KindWhoOpens, op.ID{}, forge.Set{Value: v}) }
	}
	lock := func(w *world) { w.must("", "maint", forge.KindLock, w.id("issue"), forge.SetBool{Value: true}) }
	issue := func(*world) any { return forge.IssueOpen{Title: "new"} }
	comment := func(*world) any { return forge.CommentAdd{Body: "hi"} }
	return []authCase{
		{name: "maintainer bans", who: "maint", kind: forge.KindBan, body: func(w *world) any { return forge.Standing{Key: w.pub("bob"), On: true} },
			check: func(t *testing.T, w *world) {
				if !rolesNow(w).Banned(w.pub("bob")) {
					t.Errorf("Banned(bob) = false after the ban")
				}
			}},
		{name: "stranger bans", who: "alice", kind: forge.KindBan, body: func(w *world) any { return forge.Standing{Key: w.pub("bob"), On: true} }, want: forge.ErrUnauthorized},
		{name: "ban of the owner", who: "maint", kind: forge.KindBan, body: func(w *world) any { return forge.Standing{Key: w.pub("owner"), On: true} }, want: forge.ErrUnauthorized},
		{name: "ban of a maintainer", who: "owner", kind: forge.KindBan, body: func(w *world) any { return forge.Standing{Key: w.pub("maint"), On: true} }, want: forge.ErrUnauthorized},
		{name: "ban with a target", who: "owner", kind: forge.KindBan, target: "issue", body: func(w *world) any { return forge.Standing{Key: w.pub("bob"), On: true} }, want: forge.ErrRejected},
		{name: "banned comments", setup: ban("bob"), who: "bob", kind: forge.KindCommentAdd, target: "issue", body: comment, want: forge.ErrUnauthorized},
		{name: "banned sets own alias", setup: ban("bob"), who: "bob", kind: forge.KindProfileAlias, body: func(*world) any { return forge.Set{Value: "bobby"} }, want: forge.ErrUnauthorized},
		{name: "banned opens", setup: ban("bob"), who: "bob", kind: forge.KindIssueOpen, body: issue, want: forge.ErrUnauthorized},
		{name: "banned reacts", setup: ban("bob"), who: "bob", kind: forge.KindReactionAdd, target: "issue", body: func(*world) any { return forge.React{Emoji: "eyes"} }, want: forge.ErrUnauthorized},
		{name: "others comment beside a ban", setup: ban("bob"), who: "carol", kind: forge.KindCommentAdd, target: "issue", body: comment},
		{name: "unbanned comments", setup: func(w *world) {
			ban("bob")(w)
			w.must("", "maint", forge.KindBan, op.ID{}, forge.Standing{Key: w.pub("bob")})
		}, who: "bob", kind: forge.KindCommentAdd, target: "issue", body: comment},
		{name: "members only, stranger opens", setup: opens(forge.OpensMembers), who: "carol", kind: forge.KindIssueOpen, body: issue, want: forge.ErrUnauthorized},
		{name: "members only, member opens", setup: func(w *world) {
			opens(forge.OpensMembers)(w)
			w.must("", "maint", forge.KindMember, op.ID{}, forge.Standing{Key: w.pub("carol"), On: true})
		}, who: "carol", kind: forge.KindPatchOpen, body: func(*world) any { return forge.PatchOpen{Title: "p", Base: "main", Commit: commitA} }},
		{name: "members only, maintainer opens", setup: opens(forge.OpensMembers), who: "maint", kind: forge.KindIssueOpen, body: issue},
		{name: "members only, stranger comments", setup: opens(forge.OpensMembers), who: "carol", kind: forge.KindCommentAdd, target: "issue", body: comment},
		{name: "maintainers only, member opens", setup: func(w *world) {
			w.must("", "maint", forge.KindMember, op.ID{}, forge.Standing{Key: w.pub("carol"), On: true})
			opens(forge.OpensMaintainers)(w)
		}, who: "carol", kind: forge.KindIssueOpen, body: issue, want: forge.ErrUnauthorized},
		{name: "anyone again", setup: func(w *world) {
			opens(forge.OpensMaintainers)(w)
			opens(forge.OpensAnyone)(w)
		}, who: "carol", kind: forge.KindIssueOpen, body: issue},
		{name: "stranger sets who opens", who: "alice", kind: forge.KindWhoOpens, body: func(*world) any { return forge.Set{Value: forge.OpensMaintainers} }, want: forge.ErrUnauthorized},
		{name: "who opens, bad value", who: "owner", kind: forge.KindWhoOpens, body: func(*world) any { return forge.Set{Value: "friends"} }, want: forge.ErrRejected},
		{name: "author locks own issue", who: "alice", kind: forge.KindLock, target: "issue", body: func(*world) any { return forge.SetBool{Value: true} }, want: forge.ErrUnauthorized},
		{name: "lock of a comment", who: "maint", kind: forge.KindLock, target: "commentA", body: func(*world) any { return forge.SetBool{Value: true} }, want: forge.ErrRejected},
		{name: "locked, author comments", setup: lock, who: "alice", kind: forge.KindCommentAdd, target: "issue", body: comment, want: forge.ErrUnauthorized},
		{name: "locked, stranger reacts", setup: lock, who: "carol", kind: forge.KindReactionAdd, target: "issue", body: func(*world) any { return forge.React{Emoji: "eyes"} }, want: forge.ErrUnauthorized},
		{name: "locked, author edits comment", setup: lock, who: "alice", kind: forge.KindCommentEdit, target: "commentA", body: func(*world) any { return forge.Set{Value: "edited"} }, want: forge.ErrUnauthorized},
		{name: "locked, maintainer comments", setup: lock, who: "maint", kind: forge.KindCommentAdd, target: "issue", body: comment},
		{name: "locked, author closes", setup: lock, who: "alice", kind: forge.KindState, target: "issue", body: func(*world) any { return forge.StateSet{State: forge.StateClosed} }},
		{name: "locked issue, patch open to comments", setup: lock, who: "carol", kind: forge.KindCommentAdd, target: "patch", body: comment},
		{name: "unlocked, author comments", setup: func(w *world) {
			lock(w)
			w.must("", "owner", forge.KindLock, w.id("issue"), forge.SetBool{})
		}, who: "alice", kind: forge.KindCommentAdd, target: "issue", body: comment},
	}
}

// TestBanConverges is the law of bans, locks and who may open: random
// moderation and participation ops, made on random causal pasts and delivered in random
// orders to fresh replicas, give every replica the same accepted set and
// the same state; an op is rejected exactly when its own causal past bans
// its author, locks its thread against it or keeps it from opening; and
// ops made before a ban stay accepted.
func TestBanConverges(t *testing.T) {
	rejected := map[string]int{} // by kind, on the first replica of each seed
	defer func() {
		if rejected[forge.KindCommentAdd] == 0 || rejected[forge.KindIssueOpen] == 0 {
			t.Errorf("rejections by kind %v; the generator is too narrow", rejected)
		}
	}()
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 12))
			w := newWorld(t)
			w.must("addMaint", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("maint")})
			issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "t"})
			prefix := sortedByClock(w)
			people := []string{"alice", "bob", "carol"}
			mods := []string{"owner", "maint"}
			var made []*op.Op
			for i := range 80 {
				parents := w.m.headList(w.repo)
				if len(made) > 0 && rng.IntN(3) > 0 {
					parents = []op.ID{made[rng.IntN(len(made))].ID()}
					if len(made) > 1 && rng.IntN(2) == 0 {
						parents = uniq(append(parents, made[rng.IntN(len(made))].ID()))
					}
				}
				switch r := rng.IntN(14); {
				case r < 2:
					body := forge.Standing{Key: w.pub(people[rng.IntN(len(people))]), On: rng.IntN(3) > 0}
					made = append(made, w.makeOn(parents, mods[rng.IntN(2)], forge.KindBan, op.ID{}, body))
				case r < 3:
					made = append(made, w.makeOn(parents, mods[rng.IntN(2)], forge.KindLock, issue, forge.SetBool{Value: rng.IntN(2) == 0}))
				case r < 4:
					v := []string{forge.OpensAnyone, forge.OpensMembers, forge.OpensMaintainers}[rng.IntN(3)]
					made = append(made, w.makeOn(parents, mods[rng.IntN(2)], forge.KindWhoOpens, op.ID{}, forge.Set{Value: v}))
				case r < 5:
					body := forge.Standing{Key: w.pub(people[rng.IntN(len(people))]), On: rng.IntN(2) == 0}
					made = append(made, w.makeOn(parents, mods[rng.IntN(2)], forge.KindMember, op.ID{}, body))
				case r < 7:
					made = append(made, w.makeOn(parents, people[rng.IntN(len(people))], forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprint(i)}))
				default:
					made = append(made, w.makeOn(parents, people[rng.IntN(len(people))], forge.KindCommentAdd, issue, forge.CommentAdd{Body: fmt.Sprint(i)}))
				}
			}
			var first map[op.ID]bool
			var firstSnap string
			for replica := range 4 {
				s := shuffledReplica(t, w, prefix, made, rng)
				accepted := map[op.ID]bool{}
				for _, o := range made {
					m := s.metas[o.ID()]
					accepted[o.ID()] = m.Accepted
					// The decision is the one the op's own causal past
					// dictates.
					past := s.rolesAt(t, o.Parents...)
					var want bool
					switch o.Kind {
					case forge.KindCommentAdd:
						want = !past.Banned(o.Author) && !past.Locked(issue)
					case forge.KindIssueOpen:
						want = !past.Banned(o.Author) && mayOpen(past, o)
					default:
						if !m.Accepted {
							t.Fatalf("%s by a maintainer rejected: %s", o.Kind, m.Reason)
						}
						continue
					}
					if m.Accepted != want {
						t.Fatalf("%s by %s: accepted=%v (%s), want %v (banned %v, locked %v, who opens %s in its past)",
							o.Kind, o.Author.Short(), m.Accepted, m.Reason, want, past.Banned(o.Author), past.Locked(issue), past.WhoOpens())
					}
					if !m.Accepted {
						if replica == 0 {
							rejected[o.Kind]++
						}
						if m.Reason == "" {
							t.Fatalf("rejected without a reason")
						}
					}
				}
				snap := s.snapshot(t)
				if replica == 0 {
					first, firstSnap = accepted, snap
					continue
				}
				if d := cmp.Diff(first, accepted); d != "" {
					t.Fatalf("replica %d accepted another set (-replica 0 +this):\n%s", replica, d)
				}
				if snap != firstSnap {
					t.Fatalf("replica %d differs from replica 0 after another delivery order", replica)
				}
			}
		})
	}
}

// TestBanKeepsEarlierOps: bob's comment made before the ban stays, his
// comment concurrent with the ban stays (its past has no ban), his comment
// after the ban is rejected, and after an unban he may comment again.
func TestBanKeepsEarlierOps(t *testing.T) {
	w := newWorld(t)
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "t"})
	early := w.must("early", "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "early"})
	base := w.m.headList(w.repo)
	ban := w.makeOn(base, "owner", forge.KindBan, op.ID{}, forge.Standing{Key: w.pub("bob"), On: true, Reason: "spam"})
	concurrent := w.makeOn(base, "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "concurrent"})
	after := w.makeOn([]op.ID{ban.ID()}, "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "after"})
	unban := w.makeOn([]op.ID{after.ID(), concurrent.ID()}, "owner", forge.KindBan, op.ID{}, forge.Standing{Key: w.pub("bob")})
	again := w.makeOn([]op.ID{unban.ID()}, "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "again"})
	w.m.deliver(t, again, unban, after, concurrent, ban)
	want := map[op.ID]bool{early: true, ban.ID(): true, concurrent.ID(): true, after.ID(): false, unban.ID(): true, again.ID(): true}
	for id, acc := range want {
		if m := w.m.metas[id]; m.Accepted != acc {
			t.Errorf("%s by %s: accepted = %v (%s), want %v", m.Kind, m.Author.Short(), m.Accepted, m.Reason, acc)
		}
	}
	if r := w.m.metas[after.ID()].Reason; !strings.Contains(r, "banned") {
		t.Errorf("reason for the rejection = %q, want it to say the author is banned", r)
	}
	bans := w.m.rolesAt(t, after.ID()).Bans()
	if len(bans) != 1 || bans[0].Key != w.pub("bob") || bans[0].Reason != "spam" || bans[0].By != w.pub("owner") {
		t.Errorf("Bans() after the ban = %+v, want bob by owner for spam", bans)
	}
	if got := w.m.rolesAt(t, again.ID()).Bans(); len(got) != 0 {
		t.Errorf("Bans() after the unban = %+v, want none", got)
	}
}

// TestConcurrentMaintainerAndBan: a maintainer.add of carol concurrent
// with her ban puts both in the merged state; the ban wins, so her later
// ops are rejected, maintainer or not.
func TestConcurrentMaintainerAndBan(t *testing.T) {
	w := newWorld(t)
	base := w.m.headList(w.repo)
	add := w.makeOn(base, "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("carol")})
	ban := w.makeOn(base, "owner", forge.KindBan, op.ID{}, forge.Standing{Key: w.pub("carol"), On: true})
	late := w.makeOn([]op.ID{add.ID(), ban.ID()}, "carol", forge.KindRepoName, op.ID{}, forge.Set{Value: "mine"})
	w.m.deliver(t, late, add, ban)
	if m := w.m.metas[late.ID()]; m.Accepted {
		t.Errorf("banned maintainer's op accepted")
	}
}

// mayOpen is the law of who may open, stated apart from forge's code.
func mayOpen(r *forge.Roles, o *op.Op) bool {
	switch r.WhoOpens() {
	case forge.OpensMembers:
		return r.IsMaintainer(o.Author) || slices.Contains(r.Members(), o.Author)
	case forge.OpensMaintainers:
		return r.IsMaintainer(o.Author)
	}
	return true
}

func uniq(ids []op.ID) []op.ID {
	if len(ids) == 2 && ids[0] == ids[1] {
		return ids[:1]
	}
	return ids
}
