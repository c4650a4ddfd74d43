package forge_test

import (
	"errors"
	"slices"
	"testing"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// authWorld is the fixture of the authorization table: a repo of owner
// with maintainer maint; alice's issue (with comments by alice and bob,
// their reactions, a label and an assignee) and alice's patch.
func authWorld(t testing.TB) *world {
	t.Helper()
	w := newWorld(t)
	w.must("addMaint", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("maint")})
	w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash on start", Body: "It crashes."})
	w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "Fix crash", Base: "main", Commit: commitA})
	w.must("commentA", "alice", forge.KindCommentAdd, w.id("issue"), forge.CommentAdd{Body: "Stack trace attached."})
	w.must("commentB", "bob", forge.KindCommentAdd, w.id("issue"), forge.CommentAdd{Body: "Same here."})
	w.must("patchComment", "bob", forge.KindCommentAdd, w.id("patch"), forge.CommentAdd{Body: "Nice."})
	w.must("reactA", "alice", forge.KindReactionAdd, w.id("issue"), forge.React{Emoji: "+1"})
	w.must("reactB", "bob", forge.KindReactionAdd, w.id("issue"), forge.React{Emoji: "heart"})
	w.must("label", "maint", forge.KindLabelAdd, w.id("issue"), forge.Label{Label: "bug"})
	w.must("assign", "maint", forge.KindAssigneeAdd, w.id("issue"), forge.Member{Key: w.pub("alice")})
	return w
}

type authCase struct {
	name   string
	setup  func(w *world) // optional, before the op
	who    string
	kind   string
	target string // named op, "" for none
	body   func(w *world) any
	want   error                        // nil: accepted
	check  func(t *testing.T, w *world) // the effect, when accepted
}

func title(w *world, name string) string {
	v, _ := w.m.object(w.t, w.id(name)).Title.Get()
	return v
}

func issueState(w *world, name string) forge.State {
	return w.m.object(w.t, w.id(name)).CurrentState()
}

func commentOf(w *world, obj, c string) *forge.Comment {
	cm := w.m.object(w.t, w.id(obj)).Comments[w.id(c)]
	if cm == nil {
		w.t.Fatalf("comment %s missing from %s", c, obj)
	}
	return cm
}

func hasReaction(rs []forge.Reaction, who identity.PublicKey, emoji string) bool {
	return slices.Contains(rs, forge.Reaction{Author: who, Emoji: emoji})
}

func rolesNow(w *world) *forge.Roles { return w.m.rolesAt(w.t, w.m.headList(w.repo)...) }

func authCases() []authCase {
	setTitle := func(v string) func(*world) any { return func(*world) any { return forge.Set{Value: v} } }
	closeIt := func(*world) any { return forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted} }
	openIt := func(*world) any { return forge.StateSet{State: forge.StateOpen} }
	closeAlice := func(w *world) {
		w.must("", "alice", forge.KindState, w.id("issue"), forge.StateSet{State: forge.StateClosed})
	}
	wantTitle := func(v string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			if got := title(w, "issue"); got != v {
				t.Errorf("title = %q, want %q", got, v)
			}
		}
	}
	wantState := func(obj, st string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			if got := issueState(w, obj).State; got != st {
				t.Errorf("%s state = %q, want %q", obj, got, st)
			}
		}
	}
	labelAdd := func(*world) any { return forge.Label{Label: "crash"} }
	wantLabels := func(want ...string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			if got := w.m.object(w.t, w.id("issue")).Labels.Elements(); !slices.Equal(got, want) {
				t.Errorf("labels = %q, want %q", got, want)
			}
		}
	}
	labelDel := func(w *world) any { return forge.Remove{Value: "bug", Tags: []op.ID{w.id("label")}} }
	assignBob := func(w *world) any { return forge.Member{Key: w.pub("bob")} }
	unassign := func(w *world) any {
		return forge.Remove{Value: w.pub("alice").DID(), Tags: []op.ID{w.id("assign")}}
	}
	wantAssignees := func(who ...string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			var want []identity.PublicKey
			for _, n := range who {
				want = append(want, w.pub(n))
			}
			slices.SortFunc(want, identity.PublicKey.Compare)
			if got := w.m.object(w.t, w.id("issue")).AssigneeKeys(); !slices.Equal(got, want) {
				t.Errorf("assignees = %v, want %v", got, want)
			}
		}
	}
	hide := func(*world) any { return forge.SetBool{Value: true} }
	wantHidden := func(t *testing.T, w *world) {
		if v, _ := commentOf(w, "issue", "commentB").Hidden.Get(); !v {
			t.Errorf("comment hidden = false, want true")
		}
	}
	resolve := func(*world) any { return forge.SetBool{Value: true} }
	wantResolved := func(t *testing.T, w *world) {
		if v, _ := commentOf(w, "issue", "commentB").Resolved.Get(); !v {
			t.Errorf("comment resolved = false, want true")
		}
	}
	merge := func(*world) any { return forge.StateSet{State: forge.StateMerged} }
	revision := func(*world) any { return forge.Revision{Commit: commitB, Note: "address review"} }
	wantRevisions := func(n int) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			if got := len(w.m.object(w.t, w.id("patch")).RevisionList()); got != n {
				t.Errorf("revisions = %d, want %d", got, n)
			}
		}
	}
	refSet := func(*world) any { return forge.RefSet{Name: "refs/heads/main", Commit: commitC} }
	wantRef := func(t *testing.T, w *world) {
		if got, ok := w.m.repo(w.t, w.repo).Ref("refs/heads/main"); !ok || got != commitC {
			t.Errorf("ref main = %q, %v; want %q", got, ok, commitC)
		}
	}
	nsRefSet := func(who string) func(*world) any {
		return func(w *world) any {
			return forge.RefSet{Name: forge.NamespacePrefix + forge.NamespaceToken(w.pub(who)) + "/refs/heads/topic", Commit: commitC}
		}
	}
	wantNSRef := func(who string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			name := forge.NamespacePrefix + forge.NamespaceToken(w.pub(who)) + "/refs/heads/topic"
			if got, ok := w.m.repo(w.t, w.repo).Ref(name); !ok || got != commitC {
				t.Errorf("ref %s = %q, %v; want %q", name, got, ok, commitC)
			}
			if _, ok := w.m.repo(w.t, w.repo).Ref("refs/heads/topic"); ok {
				t.Errorf("a namespaced ref set the canonical one too")
			}
		}
	}
	rawRef := func(name string) func(*world) any {
		return func(*world) any { return forge.RefSet{Name: name, Commit: commitC} }
	}
	repoSet := func(v string) func(*world) any { return func(*world) any { return forge.Set{Value: v} } }
	wantRepo := func(field, v string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			r := w.m.repo(w.t, w.repo)
			l := map[string]func() (string, bool){
				"name": r.Name.Get, "description": r.Description.Get, "branch": r.DefaultBranch.Get,
			}[field]
			if got, _ := l(); got != v {
				t.Errorf("repo %s = %q, want %q", field, got, v)
			}
		}
	}
	addMaint := func(who string) func(*world) any {
		return func(w *world) any { return forge.Member{Key: w.pub(who)} }
	}
	wantMaintainer := func(who string, want bool) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			if got := rolesNow(w).IsMaintainer(w.pub(who)); got != want {
				t.Errorf("IsMaintainer(%s) = %v, want %v", who, got, want)
			}
		}
	}
	removeMaint := func(who string) func(*world) any {
		return func(w *world) any {
			k := w.pub(who)
			return forge.Remove{Value: k.DID(), Tags: rolesNow(w).Tags(k)}
		}
	}
	edit := func(*world) any { return forge.Set{Value: "Stack trace attached (edited)."} }
	wantEdited := func(t *testing.T, w *world) {
		if v, _ := commentOf(w, "issue", "commentA").Body.Get(); v != "Stack trace attached (edited)." {
			t.Errorf("comment body = %q, want the edit", v)
		}
	}
	react := func(e string) func(*world) any { return func(*world) any { return forge.React{Emoji: e} } }
	unreact := func(names ...string) func(*world) any {
		return func(w *world) any {
			var tags []op.ID
			for _, n := range names {
				tags = append(tags, w.id(n))
			}
			return forge.Remove{Value: "reaction", Tags: tags}
		}
	}
	wantReactions := func(want map[string]bool) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			rs := forge.Reactions(&w.m.object(w.t, w.id("issue")).Reactions)
			for who, emoji := range map[string]string{"alice": "+1", "bob": "heart"} {
				if got := hasReaction(rs, w.pub(who), emoji); got != want[who] {
					t.Errorf("%s's reaction present = %v, want %v", who, got, want[who])
				}
			}
		}
	}

	U, R := forge.ErrUnauthorized, forge.ErrRejected
	return []authCase{
		// Anyone.
		{name: "open issue/anyone", who: "bob", kind: forge.KindIssueOpen,
			body: func(*world) any { return forge.IssueOpen{Title: "Docs typo"} }},
		{name: "open patch/anyone", who: "bob", kind: forge.KindPatchOpen,
			body: func(*world) any { return forge.PatchOpen{Title: "Typo", Base: "main", Commit: commitB, Draft: true} }},
		{name: "comment/anyone", who: "carol", kind: forge.KindCommentAdd, target: "issue",
			body: func(*world) any { return forge.CommentAdd{Body: "+1"} },
			check: func(t *testing.T, w *world) {
				if n := len(w.m.object(w.t, w.id("issue")).Comments); n != 3 {
					t.Errorf("comments = %d, want 3", n)
				}
			}},
		{name: "reply/anyone", who: "carol", kind: forge.KindCommentAdd, target: "issue",
			body: func(w *world) any { id := w.id("commentA"); return forge.CommentAdd{Body: "Thanks", ReplyTo: &id} }},
		{name: "react on comment/anyone", who: "carol", kind: forge.KindReactionAdd, target: "commentA", body: react("eyes"),
			check: func(t *testing.T, w *world) {
				if rs := forge.Reactions(&commentOf(w, "issue", "commentA").Reactions); !hasReaction(rs, w.pub("carol"), "eyes") {
					t.Errorf("comment reactions = %v, want carol's", rs)
				}
			}},
		{name: "review/anyone", who: "carol", kind: forge.KindReview, target: "patch",
			body: func(w *world) any { return forge.Review{Revision: w.id("patch"), Verdict: forge.VerdictApprove} },
			check: func(t *testing.T, w *world) {
				rl := w.m.object(w.t, w.id("patch")).ReviewList()
				if len(rl) != 1 || rl[0].Reviewer != w.pub("carol") {
					t.Fatalf("reviews = %v, want carol's", rl)
				}
				if v, _ := rl[0].Verdict.Get(); v.Verdict != forge.VerdictApprove {
					t.Errorf("verdict = %q, want approve", v.Verdict)
				}
			}},
		{name: "alias/anyone", who: "carol", kind: forge.KindProfileAlias, body: repoSet("carol"),
			check: func(t *testing.T, w *world) {
				if got := w.m.repo(w.t, w.repo).Alias(w.pub("carol")); got != "carol" {
					t.Errorf("alias = %q, want carol", got)
				}
			}},

		// Author or maintainer.
		{name: "title/author", who: "alice", kind: forge.KindTitle, target: "issue", body: setTitle("A"), check: wantTitle("A")},
		{name: "title/maintainer", who: "maint", kind: forge.KindTitle, target: "issue", body: setTitle("M"), check: wantTitle("M")},
		{name: "title/owner", who: "owner", kind: forge.KindTitle, target: "issue", body: setTitle("O"), check: wantTitle("O")},
		{name: "title/other", who: "bob", kind: forge.KindTitle, target: "issue", body: setTitle("B"), want: U},
		{name: "title/commenter", who: "bob", kind: forge.KindTitle, target: "patch", body: setTitle("B"), want: U},
		{name: "body/author", who: "alice", kind: forge.KindBody, target: "issue", body: setTitle("new body"),
			check: func(t *testing.T, w *world) {
				if v, _ := w.m.object(w.t, w.id("issue")).Body.Get(); v != "new body" {
					t.Errorf("body = %q", v)
				}
			}},
		{name: "body/other", who: "bob", kind: forge.KindBody, target: "issue", body: setTitle("spam"), want: U},
		{name: "close/author", who: "alice", kind: forge.KindState, target: "issue", body: closeIt, check: wantState("issue", forge.StateClosed)},
		{name: "close/maintainer", who: "maint", kind: forge.KindState, target: "issue", body: closeIt, check: wantState("issue", forge.StateClosed)},
		{name: "close/other", who: "bob", kind: forge.KindState, target: "issue", body: closeIt, want: U},
		{name: "reopen/author", setup: closeAlice, who: "alice", kind: forge.KindState, target: "issue", body: openIt, check: wantState("issue", forge.StateOpen)},
		{name: "reopen/maintainer", setup: closeAlice, who: "maint", kind: forge.KindState, target: "issue", body: openIt, check: wantState("issue", forge.StateOpen)},
		{name: "reopen/other", setup: closeAlice, who: "bob", kind: forge.KindState, target: "issue", body: openIt, want: U},
		{name: "close patch/author", who: "alice", kind: forge.KindState, target: "patch", body: func(*world) any { return forge.StateSet{State: forge.StateClosed} }, check: wantState("patch", forge.StateClosed)},
		{name: "draft patch/author", who: "alice", kind: forge.KindState, target: "patch", body: func(*world) any { return forge.StateSet{State: forge.StateDraft} }, check: wantState("patch", forge.StateDraft)},
		{name: "close patch/other", who: "bob", kind: forge.KindState, target: "patch", body: func(*world) any { return forge.StateSet{State: forge.StateClosed} }, want: U},
		{name: "revision/author", who: "alice", kind: forge.KindRevision, target: "patch", body: revision, check: wantRevisions(2)},
		{name: "revision/maintainer", who: "maint", kind: forge.KindRevision, target: "patch", body: revision, check: wantRevisions(2)},
		{name: "revision/other", who: "bob", kind: forge.KindRevision, target: "patch", body: revision, want: U},
		{name: "patch base/author", who: "alice", kind: forge.KindPatchBase, target: "patch", body: setTitle("develop"),
			check: func(t *testing.T, w *world) {
				if v, _ := w.m.object(w.t, w.id("patch")).Base.Get(); v != "develop" {
					t.Errorf("base = %q, want develop", v)
				}
			}},
		{name: "patch base/other", who: "bob", kind: forge.KindPatchBase, target: "patch", body: setTitle("develop"), want: U},

		// Maintainers only.
		{name: "label add/maintainer", who: "maint", kind: forge.KindLabelAdd, target: "issue", body: labelAdd, check: wantLabels("bug", "crash")},
		{name: "label add/owner", who: "owner", kind: forge.KindLabelAdd, target: "issue", body: labelAdd, check: wantLabels("bug", "crash")},
		{name: "label add/author", who: "alice", kind: forge.KindLabelAdd, target: "issue", body: labelAdd, want: U},
		{name: "label add/other", who: "bob", kind: forge.KindLabelAdd, target: "issue", body: labelAdd, want: U},
		{name: "label remove/maintainer", who: "maint", kind: forge.KindLabelDel, target: "issue", body: labelDel, check: wantLabels()},
		{name: "label remove/author", who: "alice", kind: forge.KindLabelDel, target: "issue", body: labelDel, want: U},
		{name: "assignee add/maintainer", who: "maint", kind: forge.KindAssigneeAdd, target: "issue", body: assignBob, check: wantAssignees("alice", "bob")},
		{name: "assignee add/author", who: "alice", kind: forge.KindAssigneeAdd, target: "issue", body: assignBob, want: U},
		{name: "assignee remove/maintainer", who: "owner", kind: forge.KindAssigneeDel, target: "issue", body: unassign, check: wantAssignees()},
		{name: "assignee remove/assignee", who: "alice", kind: forge.KindAssigneeDel, target: "issue", body: unassign, want: U},
		{name: "hide comment/maintainer", who: "maint", kind: forge.KindCommentHide, target: "commentB", body: hide, check: wantHidden},
		{name: "hide comment/issue author", who: "alice", kind: forge.KindCommentHide, target: "commentB", body: hide, want: U},
		{name: "hide comment/comment author", who: "bob", kind: forge.KindCommentHide, target: "commentB", body: hide, want: U},
		{name: "merge/maintainer", who: "maint", kind: forge.KindState, target: "patch", body: merge, check: wantState("patch", forge.StateMerged)},
		{name: "merge/patch author", who: "alice", kind: forge.KindState, target: "patch", body: merge, want: U},
		{name: "merge/other", who: "bob", kind: forge.KindState, target: "patch", body: merge, want: U},
		{name: "set ref/maintainer", who: "maint", kind: forge.KindRefSet, body: refSet, check: wantRef},
		{name: "set ref/owner", who: "owner", kind: forge.KindRefSet, body: refSet, check: wantRef},
		{name: "set ref/other", who: "alice", kind: forge.KindRefSet, body: refSet, want: U},
		{name: "set ref/own namespace", who: "alice", kind: forge.KindRefSet, body: nsRefSet("alice"), check: wantNSRef("alice")},
		{name: "set ref/owner's own namespace", who: "owner", kind: forge.KindRefSet, body: nsRefSet("owner"), check: wantNSRef("owner")},
		{name: "set ref/another's namespace", who: "bob", kind: forge.KindRefSet, body: nsRefSet("alice"), want: U},
		{name: "set ref/maintainer in another's namespace", who: "maint", kind: forge.KindRefSet, body: nsRefSet("alice"), want: U},
		{name: "set ref/owner in another's namespace", who: "owner", kind: forge.KindRefSet, body: nsRefSet("alice"), want: U},
		{name: "repo name/owner", who: "owner", kind: forge.KindRepoName, body: repoSet("murmur2"), check: wantRepo("name", "murmur2")},
		{name: "repo name/other", who: "bob", kind: forge.KindRepoName, body: repoSet("pwned"), want: U},
		{name: "repo description/maintainer", who: "maint", kind: forge.KindRepoDescription, body: repoSet("a forge"), check: wantRepo("description", "a forge")},
		{name: "repo description/other", who: "alice", kind: forge.KindRepoDescription, body: repoSet("x"), want: U},
		{name: "default branch/maintainer", who: "maint", kind: forge.KindRepoBranch, body: repoSet("trunk"), check: wantRepo("branch", "trunk")},
		{name: "default branch/other", who: "bob", kind: forge.KindRepoBranch, body: repoSet("evil"), want: U},
		{name: "add maintainer/maintainer", who: "maint", kind: forge.KindMaintainerAdd, body: addMaint("bob"), check: wantMaintainer("bob", true)},
		{name: "add maintainer/other", who: "alice", kind: forge.KindMaintainerAdd, body: addMaint("alice"), want: U},
		{name: "remove maintainer/owner", who: "owner", kind: forge.KindMaintainerDel, body: removeMaint("maint"), check: wantMaintainer("maint", false)},
		{name: "remove maintainer/self", who: "maint", kind: forge.KindMaintainerDel, body: removeMaint("maint"), check: wantMaintainer("maint", false)},
		{name: "remove maintainer/other", who: "alice", kind: forge.KindMaintainerDel, body: removeMaint("maint"), want: U},
		{name: "remove owner/maintainer", who: "maint", kind: forge.KindMaintainerDel, body: removeMaint("owner"), want: U},
		{name: "remove owner/owner", who: "owner", kind: forge.KindMaintainerDel, body: removeMaint("owner"), want: U},

		// Comment edits: the comment's author only.
		{name: "edit comment/author", who: "alice", kind: forge.KindCommentEdit, target: "commentA", body: edit, check: wantEdited},
		{name: "edit comment/maintainer", who: "maint", kind: forge.KindCommentEdit, target: "commentA", body: edit, want: U},
		{name: "edit comment/owner", who: "owner", kind: forge.KindCommentEdit, target: "commentA", body: edit, want: U},
		{name: "edit comment/other", who: "bob", kind: forge.KindCommentEdit, target: "commentA", body: edit, want: U},

		// Resolving a comment: its author, the issue's author or a maintainer.
		{name: "resolve/comment author", who: "bob", kind: forge.KindCommentResolve, target: "commentB", body: resolve, check: wantResolved},
		{name: "resolve/issue author", who: "alice", kind: forge.KindCommentResolve, target: "commentB", body: resolve, check: wantResolved},
		{name: "resolve/maintainer", who: "maint", kind: forge.KindCommentResolve, target: "commentB", body: resolve, check: wantResolved},
		{name: "resolve/other", who: "carol", kind: forge.KindCommentResolve, target: "commentB", body: resolve, want: U},

		// Reactions: a remove only removes the remover's own.
		{name: "unreact/own", who: "bob", kind: forge.KindReactionDel, target: "issue", body: unreact("reactB"),
			check: wantReactions(map[string]bool{"alice": true})},
		{name: "unreact/other's", who: "bob", kind: forge.KindReactionDel, target: "issue", body: unreact("reactA"),
			check: wantReactions(map[string]bool{"alice": true, "bob": true})},
		{name: "unreact/both", who: "bob", kind: forge.KindReactionDel, target: "issue", body: unreact("reactA", "reactB"),
			check: wantReactions(map[string]bool{"alice": true})},
		{name: "unreact/maintainer", who: "owner", kind: forge.KindReactionDel, target: "issue", body: unreact("reactA", "reactB"),
			check: wantReactions(map[string]bool{"alice": true, "bob": true})},

		// Nonsensical ops are rejected (stored, without effect).
		{name: "nonsense/title on comment", who: "alice", kind: forge.KindTitle, target: "commentA", body: setTitle("x"), want: R},
		{name: "nonsense/edit an issue", who: "alice", kind: forge.KindCommentEdit, target: "issue", body: edit, want: R},
		{name: "nonsense/label without target", who: "maint", kind: forge.KindLabelAdd, body: labelAdd, want: R},
		{name: "nonsense/open with target", who: "alice", kind: forge.KindIssueOpen, target: "issue", body: func(*world) any { return forge.IssueOpen{Title: "x"} }, want: R},
		{name: "nonsense/ref with target", who: "maint", kind: forge.KindRefSet, target: "issue", body: refSet, want: R},
		{name: "nonsense/namespace not a key", who: "alice", kind: forge.KindRefSet, body: rawRef(forge.NamespacePrefix + "alice/refs/heads/x"), want: R},
		{name: "nonsense/namespace without a ref", who: "alice", kind: forge.KindRefSet, body: func(w *world) any {
			return forge.RefSet{Name: forge.NamespacePrefix + forge.NamespaceToken(w.pub("alice")), Commit: commitC}
		}, want: R},
		{name: "nonsense/namespace ref outside refs", who: "alice", kind: forge.KindRefSet, body: func(w *world) any {
			return forge.RefSet{Name: forge.NamespacePrefix + forge.NamespaceToken(w.pub("alice")) + "/heads/x", Commit: commitC}
		}, want: R},
		{name: "nonsense/nested namespace", who: "alice", kind: forge.KindRefSet, body: func(w *world) any {
			return forge.RefSet{Name: forge.NamespacePrefix + forge.NamespaceToken(w.pub("alice")) + "/" + forge.NamespacePrefix + forge.NamespaceToken(w.pub("alice")) + "/refs/heads/x", Commit: commitC}
		}, want: R},
		{name: "nonsense/merge an issue", who: "maint", kind: forge.KindState, target: "issue", body: merge, want: R},
		{name: "nonsense/review an issue", who: "bob", kind: forge.KindReview, target: "issue", body: func(w *world) any { return forge.Review{Revision: w.id("issue"), Verdict: forge.VerdictComment} }, want: R},
		{name: "nonsense/review unknown revision", who: "bob", kind: forge.KindReview, target: "patch", body: func(w *world) any { return forge.Review{Revision: w.id("issue"), Verdict: forge.VerdictComment} }, want: R},
		{name: "nonsense/revision on issue", who: "alice", kind: forge.KindRevision, target: "issue", body: revision, want: R},
		{name: "nonsense/reply across objects", who: "bob", kind: forge.KindCommentAdd, target: "patch",
			body: func(w *world) any { id := w.id("commentA"); return forge.CommentAdd{Body: "x", ReplyTo: &id} }, want: R},
		{name: "nonsense/anchor on issue", who: "bob", kind: forge.KindCommentAdd, target: "issue",
			body: func(w *world) any {
				return forge.CommentAdd{Body: "x", Anchor: &forge.Anchor{Revision: w.id("patch"), Path: "main.go", Start: 1, End: 2}}
			}, want: R},
		{name: "nonsense/empty title", who: "alice", kind: forge.KindTitle, target: "issue", body: setTitle(" "), want: R},
		{name: "nonsense/unknown kind", who: "alice", kind: "issue.frobnicate", target: "issue", body: setTitle("x"), want: R},
		{name: "nonsense/wrong body", who: "alice", kind: forge.KindTitle, target: "issue", body: func(*world) any { return "not a map" }, want: R},
		{name: "nonsense/target repo", who: "alice", kind: forge.KindTitle, target: "repo", body: setTitle("x"), want: R},
		{name: "nonsense/bad remove key", who: "owner", kind: forge.KindMaintainerDel, body: func(*world) any { return forge.Remove{Value: "not a did"} }, want: R},
		{name: "nonsense/target a rejected op",
			setup: func(w *world) {
				o, res := w.do("bob", forge.KindIssueOpen, w.id("issue"), forge.IssueOpen{Title: "x"})
				if res.Meta.Accepted {
					w.t.Fatalf("setup op accepted")
				}
				w.ids["rejected"] = o.ID()
			},
			who: "alice", kind: forge.KindTitle, target: "rejected", body: setTitle("x"), want: R},
	}
}

// TestAuthorization checks each rule of "who may do what", and that a
// rejected op is recorded without effect and does not poison later ops that
// build on it.
func TestAuthorization(t *testing.T) {
	for _, tc := range append(authCases(), moderationCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			w := authWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			var target op.ID
			if tc.target != "" {
				target = w.id(tc.target)
			}
			before := w.m.snapshot(t)
			rolesBefore := rolesNow(w).ID()
			o, res := w.do(tc.who, tc.kind, target, tc.body(w))

			meta, ok := w.m.metas[o.ID()]
			if !ok {
				t.Fatalf("op not recorded")
			}
			if meta != res.Meta {
				t.Errorf("recorded meta %+v differs from result %+v", meta, res.Meta)
			}
			if meta.Repo != w.repo || meta.Kind != tc.kind || meta.Author != w.pub(tc.who) || meta.Clock != o.Clock {
				t.Errorf("Meta = %+v, want repo %s, kind %s, author %s, clock %v", meta, w.repo.Short(), tc.kind, tc.who, o.Clock)
			}
			if tc.want == nil {
				if !res.Meta.Accepted || res.Err != nil || res.Meta.Reason != "" {
					t.Fatalf("%s by %s: Accepted=%v, Err=%v; want accepted", tc.kind, tc.who, res.Meta.Accepted, res.Err)
				}
				if tc.kind == forge.KindIssueOpen || tc.kind == forge.KindPatchOpen {
					obj := w.m.object(t, o.ID())
					if obj.Author != w.pub(tc.who) || res.Meta.Object != o.ID() {
						t.Errorf("opened object: author %s, Meta.Object %s; want %s, %s", obj.Author.Short(), res.Meta.Object.Short(), tc.who, o.ID().Short())
					}
				}
				if tc.check != nil {
					tc.check(t, w)
				}
				return
			}
			if res.Meta.Accepted || !errors.Is(res.Err, tc.want) {
				t.Fatalf("%s by %s: Accepted=%v, Err=%v; want rejection wrapping %v", tc.kind, tc.who, res.Meta.Accepted, res.Err, tc.want)
			}
			if res.Meta.Reason != res.Err.Error() {
				t.Errorf("Meta.Reason = %q, want %q", res.Meta.Reason, res.Err.Error())
			}
			if after := w.m.snapshot(t); after != before {
				t.Errorf("rejected op changed the materialized state")
			}
			if res.Meta.Roles != rolesBefore {
				t.Errorf("rejected op has role state %s, want its parents' %s", res.Meta.Roles, rolesBefore)
			}

			// A valid op naming the rejected op as its parent is accepted
			// and sees the role state from before the rejection.
			next := w.make("owner", forge.KindTitle, w.id("issue"), forge.Set{Value: "after rejection"})
			if !slices.Contains(next.Parents, o.ID()) {
				t.Fatalf("follow-up op does not name the rejected op as a parent")
			}
			nres, err := w.m.apply(t, next)
			if err != nil || !nres.Meta.Accepted {
				t.Fatalf("op after a rejected op: Accepted=%v, Err=%v, %v; want accepted", nres.Meta.Accepted, nres.Err, err)
			}
			if nres.Meta.Roles != rolesBefore {
				t.Errorf("op after rejection has role state %s, want %s", nres.Meta.Roles, rolesBefore)
			}
			if got := title(w, "issue"); got != "after rejection" {
				t.Errorf("title after follow-up = %q", got)
			}
		})
	}
}

// TestAuthorizationFollowsCausalPast checks that an author's rights are
// those of the op's causal past, not of the latest state: an op by a
// would-be maintainer that does not include the maintainer.add among its
// ancestors is unauthorized, and one that does is allowed.
func TestAuthorizationFollowsCausalPast(t *testing.T) {
	w := authWorld(t)
	before := w.m.headList(w.repo)
	w.must("addBob", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("bob")})

	early := w.makeOn(before, "bob", forge.KindLabelAdd, w.id("issue"), forge.Label{Label: "early"})
	res, err := w.m.apply(t, early)
	if err != nil {
		t.Fatal(err)
	}
	if res.Meta.Accepted || !errors.Is(res.Err, forge.ErrUnauthorized) {
		t.Errorf("label by bob without the add in its past: Accepted=%v, Err=%v; want unauthorized", res.Meta.Accepted, res.Err)
	}
	_, res = w.do("bob", forge.KindLabelAdd, w.id("issue"), forge.Label{Label: "late"})
	if !res.Meta.Accepted {
		t.Errorf("label by bob after the add: rejected: %v", res.Err)
	}
}

func TestGenesisRules(t *testing.T) {
	m := newMemStore()
	k := testKey(t, 1)
	tests := []struct {
		name string
		kind string
		body any
		want error
	}{
		{"repo.create", forge.KindRepoCreate, forge.RepoCreate{Name: "x", DefaultBranch: "main"}, nil},
		{"other kind", forge.KindIssueOpen, forge.IssueOpen{Title: "x"}, forge.ErrRejected},
		{"empty name", forge.KindRepoCreate, forge.RepoCreate{Name: "", DefaultBranch: "main"}, forge.ErrRejected},
		{"bad branch", forge.KindRepoCreate, forge.RepoCreate{Name: "x", DefaultBranch: "a..b"}, forge.ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := signOp(t, k, op.ID{}, nil, baseClock, tt.kind, op.ID{}, tt.body)
			res, err := m.apply(t, g)
			if err != nil {
				t.Fatal(err)
			}
			if res.Meta.Repo != g.ID() {
				t.Errorf("Meta.Repo = %s, want the genesis op's own ID %s", res.Meta.Repo.Short(), g.ID().Short())
			}
			if tt.want == nil {
				if !res.Meta.Accepted || res.Repo == nil {
					t.Fatalf("genesis rejected: %v", res.Err)
				}
				if got, _ := res.Repo.Name.Get(); got != "x" || res.Repo.Owner != k.Public() {
					t.Errorf("repo = %q owned by %s", got, res.Repo.Owner.Short())
				}
				if ms := m.roles[res.Meta.Roles].Maintainers(); len(ms) != 1 || ms[0] != k.Public() {
					t.Errorf("maintainers = %v, want only the owner", ms)
				}
				return
			}
			if res.Meta.Accepted || !errors.Is(res.Err, tt.want) || res.Repo != nil {
				t.Errorf("Accepted=%v, Err=%v; want rejection wrapping %v", res.Meta.Accepted, res.Err, tt.want)
			}
		})
	}
}

// TestOpsOnRejectedGenesis: ops in a repo whose genesis was rejected are
// rejected too (the repo does not exist), not errors.
func TestOpsOnRejectedGenesis(t *testing.T) {
	m := newMemStore()
	k := testKey(t, 1)
	g := signOp(t, k, op.ID{}, nil, baseClock, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	if _, err := m.apply(t, g); err != nil {
		t.Fatal(err)
	}
	o := signOp(t, k, g.ID(), []op.ID{g.ID()}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "y"})
	res, err := m.apply(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Meta.Accepted || !errors.Is(res.Err, forge.ErrRejected) {
		t.Errorf("op in a repo with a rejected genesis: Accepted=%v, Err=%v; want rejected", res.Meta.Accepted, res.Err)
	}
}
