package forge_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/forge"
	"murmur/op"
)

// TestApplyDAGRules checks the ops that break the DAG's rules: they are
// errors (ErrInvalidOp, or ErrMissingDeps before their dependencies are
// stored), never recorded.
func TestApplyDAGRules(t *testing.T) {
	w := newWorld(t)
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	head := w.m.headList(w.repo)
	headClock := w.m.metas[head[0]].Clock

	otherGenesis := signOp(t, w.key("bob"), op.ID{}, nil, baseClock, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "other", DefaultBranch: "main"})
	if _, err := w.m.apply(t, otherGenesis); err != nil {
		t.Fatal(err)
	}
	otherIssue := signOp(t, w.key("bob"), otherGenesis.ID(), []op.ID{otherGenesis.ID()}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "y"})
	if _, err := w.m.apply(t, otherIssue); err != nil {
		t.Fatal(err)
	}
	unknown := op.ID{0xde, 0xad}
	setTitle := forge.Set{Value: "t"}

	tests := []struct {
		name string
		o    *op.Op
		want error
	}{
		{"clock equal to parent", signOp(t, w.key("alice"), w.repo, head, headClock, forge.KindTitle, issue, setTitle), forge.ErrInvalidOp},
		{"clock before parent", signOp(t, w.key("alice"), w.repo, head, headClock-1, forge.KindTitle, issue, setTitle), forge.ErrInvalidOp},
		{"clock not after target", signOp(t, w.key("alice"), w.repo, []op.ID{w.repo}, w.m.metas[issue].Clock, forge.KindTitle, issue, setTitle), forge.ErrInvalidOp},
		{"parent in another repo", signOp(t, w.key("alice"), w.repo, []op.ID{otherIssue.ID()}, w.tick()+1000, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "z"}), forge.ErrInvalidOp},
		{"target in another repo", signOp(t, w.key("alice"), w.repo, head, w.tick()+1000, forge.KindTitle, otherIssue.ID(), setTitle), forge.ErrInvalidOp},
		{"missing parent", signOp(t, w.key("alice"), w.repo, []op.ID{unknown}, w.tick(), forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "z"}), forge.ErrMissingDeps},
		{"missing target", signOp(t, w.key("alice"), w.repo, head, w.tick(), forge.KindTitle, unknown, setTitle), forge.ErrMissingDeps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.m.metas)
			_, err := forge.Apply(w.m, tt.o)
			if !errors.Is(err, tt.want) {
				t.Errorf("Apply() error = %v, want %v", err, tt.want)
			}
			if len(w.m.metas) != before {
				t.Errorf("invalid op was recorded")
			}
		})
	}
}

func TestDeps(t *testing.T) {
	w := newWorld(t)
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	o := w.make("alice", forge.KindTitle, issue, forge.Set{Value: "y"})
	if got, want := forge.Deps(o), append(slices.Clone(o.Parents), issue); !slices.Equal(got, want) {
		t.Errorf("Deps(title.set) = %v, want %v", got, want)
	}
	g := w.ops[w.repo]
	if got := forge.Deps(g); len(got) != 0 {
		t.Errorf("Deps(genesis) = %v, want none", got)
	}
}

// TestRegistersKeepHistory checks the LWW registers through forge: an
// edit that names the heads it saw supersedes them; concurrent edits stay
// queryable as losers.
func TestRegistersKeepHistory(t *testing.T) {
	w := newWorld(t)
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "first"})
	base := w.m.headList(w.repo)
	obj := w.m.object(t, issue)
	prev := make([]op.ID, 0)
	for _, h := range obj.Title.Heads() {
		prev = append(prev, op.ID(h))
	}
	a := w.makeOn(base, "alice", forge.KindTitle, issue, forge.Set{Value: "alice's", Prev: prev})
	b := w.makeOn(base, "owner", forge.KindTitle, issue, forge.Set{Value: "owner's", Prev: prev})
	for _, o := range []*op.Op{b, a} {
		if res, err := w.m.apply(t, o); err != nil || !res.Meta.Accepted {
			t.Fatalf("Apply: %v %v", res.Err, err)
		}
	}
	obj = w.m.object(t, issue)
	winner, _ := obj.Title.Get() // b has the greater clock
	if winner != "owner's" {
		t.Errorf("title = %q, want owner's (greater clock)", winner)
	}
	if c := obj.Title.Concurrent(); len(c) != 1 || c[0].Value != "alice's" {
		t.Errorf("Concurrent() = %v, want alice's write", c)
	}
	if n := obj.Title.Len(); n != 3 {
		t.Errorf("history has %d writes, want 3", n)
	}
	var heads []op.ID
	for _, h := range obj.Title.Heads() {
		heads = append(heads, op.ID(h))
	}
	w.must("", "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "unrelated"})
	w.must("", "alice", forge.KindTitle, issue, forge.Set{Value: "settled", Prev: heads})
	obj = w.m.object(t, issue)
	if v, _ := obj.Title.Get(); v != "settled" || obj.Title.Concurrent() != nil {
		t.Errorf("after settling: title %q, concurrent %v", v, obj.Title.Concurrent())
	}
	if sm := obj.Summary(); sm.Title != "settled" || sm.Comments != 1 || sm.State != forge.StateOpen || sm.Type != forge.TypeIssue {
		t.Errorf("Summary() = %+v", sm)
	}
}

func TestCommentsRepliesAnchorsReviews(t *testing.T) {
	w := newWorld(t)
	patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
	rev2 := w.must("rev2", "alice", forge.KindRevision, patch, forge.Revision{Commit: commitB, BaseCommit: commitA})
	anchor := &forge.Anchor{Revision: rev2, Path: "main.go", Start: 3, End: 5}
	c := w.must("c", "bob", forge.KindCommentAdd, patch, forge.CommentAdd{Body: "why?", Anchor: anchor})
	reply := w.must("reply", "alice", forge.KindCommentAdd, patch, forge.CommentAdd{Body: "because", ReplyTo: &c})
	r1 := w.must("", "bob", forge.KindReview, patch, forge.Review{Revision: rev2, Verdict: forge.VerdictRequestChanges})
	w.must("", "bob", forge.KindReview, patch, forge.Review{Revision: rev2, Verdict: forge.VerdictApprove, Summary: "lgtm", Prev: []op.ID{r1}})
	w.must("", "carol", forge.KindReview, patch, forge.Review{Revision: patch, Verdict: forge.VerdictComment})

	obj := w.m.object(t, patch)
	if got := obj.Comments[reply]; got == nil || got.ReplyTo != c || got.Anchor == nil || *got.Anchor != *anchor {
		t.Errorf("reply = %+v, want ReplyTo %s with the parent's anchor", got, c.Short())
	}
	if cl := obj.CommentList(); len(cl) != 2 || cl[0].ID != c || cl[1].ID != reply {
		t.Errorf("CommentList order wrong")
	}
	if rl := obj.RevisionList(); len(rl) != 2 || rl[0].ID != patch || rl[1].ID != rev2 || rl[1].BaseCommit != commitA {
		t.Errorf("RevisionList = %+v", rl)
	}
	rl := obj.ReviewList()
	if len(rl) != 2 || rl[0].Reviewer != w.pub("carol") || rl[1].Reviewer != w.pub("bob") {
		t.Fatalf("ReviewList = %+v, want carol's (revision 1) then bob's (revision 2)", rl)
	}
	if v, _ := rl[1].Verdict.Get(); v.Verdict != forge.VerdictApprove || v.Summary != "lgtm" || rl[1].Verdict.Concurrent() != nil {
		t.Errorf("bob's verdict = %+v, want the superseding approve", v)
	}
	// An anchor on a revision of another patch is rejected.
	_, res := w.do("bob", forge.KindCommentAdd, patch, forge.CommentAdd{Body: "x", Anchor: &forge.Anchor{Revision: c, Path: "a", Start: 1, End: 1}})
	if res.Meta.Accepted || !errors.Is(res.Err, forge.ErrRejected) {
		t.Errorf("anchor on a non-revision: Accepted=%v, Err=%v", res.Meta.Accepted, res.Err)
	}
}

func TestNewAction(t *testing.T) {
	long := strings.Repeat("x", forge.MaxTitle+1)
	target := op.ID{1}
	tests := []struct {
		name  string
		kind  string
		body  any
		field string // "" when valid
	}{
		{"issue", forge.KindIssueOpen, forge.IssueOpen{Title: "Crash"}, ""},
		{"issue empty title", forge.KindIssueOpen, forge.IssueOpen{Title: "  "}, "title"},
		{"issue long title", forge.KindIssueOpen, forge.IssueOpen{Title: long}, "title"},
		{"issue bad utf8", forge.KindIssueOpen, forge.IssueOpen{Title: "a", Body: "\xff"}, "body"},
		{"title padded", forge.KindTitle, forge.Set{Value: " x"}, "title"},
		{"title control", forge.KindTitle, forge.Set{Value: "a\x01b"}, "title"},
		{"too many prev", forge.KindTitle, forge.Set{Value: "x", Prev: make([]op.ID, forge.MaxPrev+1)}, "prev"},
		{"comment", forge.KindCommentAdd, forge.CommentAdd{Body: "hi"}, ""},
		{"comment empty", forge.KindCommentAdd, forge.CommentAdd{Body: ""}, "comment"},
		{"comment bad lines", forge.KindCommentAdd, forge.CommentAdd{Body: "x", Anchor: &forge.Anchor{Path: "a", Start: 5, End: 4}}, "line range"},
		{"comment zero line", forge.KindCommentAdd, forge.CommentAdd{Body: "x", Anchor: &forge.Anchor{Path: "a", Start: 0, End: 4}}, "line range"},
		{"state closed", forge.KindState, forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonNotPlanned}, ""},
		{"state bad reason", forge.KindState, forge.StateSet{State: forge.StateClosed, Reason: "bored"}, "reason"},
		{"state reason on open", forge.KindState, forge.StateSet{State: forge.StateOpen, Reason: forge.ReasonCompleted}, "reason"},
		{"state unknown", forge.KindState, forge.StateSet{State: "deleted"}, "state"},
		{"ref", forge.KindRefSet, forge.RefSet{Name: "refs/heads/main", Commit: commitA}, ""},
		{"ref delete", forge.KindRefSet, forge.RefSet{Name: "refs/heads/main"}, ""},
		{"ref bad name", forge.KindRefSet, forge.RefSet{Name: "refs/../x", Commit: commitA}, "ref name"},
		{"ref short commit", forge.KindRefSet, forge.RefSet{Name: "main", Commit: "abc"}, "commit"},
		{"patch", forge.KindPatchOpen, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA}, ""},
		{"patch no commit", forge.KindPatchOpen, forge.PatchOpen{Title: "p", Base: "main"}, "commit"},
		{"patch uppercase commit", forge.KindPatchOpen, forge.PatchOpen{Title: "p", Base: "main", Commit: strings.ToUpper(commitA + "a")}, "commit"},
		{"label", forge.KindLabelAdd, forge.Label{Label: "bug"}, ""},
		{"label empty", forge.KindLabelAdd, forge.Label{Label: ""}, "label"},
		{"too many tags", forge.KindLabelDel, forge.Remove{Value: "bug", Tags: make([]op.ID, forge.MaxTags+1)}, "tags"},
		{"emoji long", forge.KindReactionAdd, forge.React{Emoji: strings.Repeat("x", forge.MaxEmoji+1)}, "emoji"},
		{"review", forge.KindReview, forge.Review{Revision: target, Verdict: forge.VerdictApprove}, ""},
		{"review bad verdict", forge.KindReview, forge.Review{Revision: target, Verdict: "meh"}, "verdict"},
		{"repo", forge.KindRepoCreate, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"}, ""},
		{"repo bad branch", forge.KindRepoCreate, forge.RepoCreate{Name: "murmur", DefaultBranch: "main.lock"}, "ref name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := forge.NewAction(tt.kind, target, tt.body)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("NewAction(%s, %+v) = %v, want ok", tt.kind, tt.body, err)
				}
				if a.Kind != tt.kind || a.Target != target || len(a.Body) == 0 {
					t.Errorf("NewAction = %+v", a)
				}
				u := a.Unsigned(op.ID{9}, []op.ID{{8}}, baseClock)
				if u.Kind != tt.kind || u.Target != target || u.Repo != (op.ID{9}) || u.Clock != baseClock || len(u.Parents) != 1 {
					t.Errorf("Unsigned = %+v", u)
				}
				return
			}
			var ve *forge.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("NewAction(%s, %+v) = %v, want a ValidationError on %q", tt.kind, tt.body, err, tt.field)
			}
		})
	}
}

func TestIsCommit(t *testing.T) {
	tests := map[string]bool{
		commitA:                  true,
		strings.Repeat("a", 64):  true,
		strings.Repeat("a", 39):  false,
		strings.Repeat("a", 41):  false,
		strings.Repeat("A", 40):  false,
		strings.Repeat("g", 40):  false,
		"":                       false,
		strings.Repeat("0f", 20): true,
	}
	for s, want := range tests {
		if got := forge.IsCommit(s); got != want {
			t.Errorf("IsCommit(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestBodyReferencesDecideInAnyOrder: ops whose bodies name other ops
// (a reply's comment, an anchor's or a review's revision, the reactions a
// remove takes back) are decided the same way whichever of the two a
// replica receives first, even when the author did not make the named op
// an ancestor.
func TestBodyReferencesDecideInAnyOrder(t *testing.T) {
	w := newWorld(t)
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
	base := w.m.headList(w.repo)
	prefix := sortedByClock(w)

	comment := w.makeOn(base, "alice", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "first"})
	reply := w.makeOn(base, "bob", forge.KindCommentAdd, issue, forge.CommentAdd{Body: "re", ReplyTo: ptr(comment.ID())})
	rev := w.makeOn(base, "alice", forge.KindRevision, patch, forge.Revision{Commit: commitB})
	anchored := w.makeOn(base, "bob", forge.KindCommentAdd, patch, forge.CommentAdd{Body: "here", Anchor: &forge.Anchor{Revision: rev.ID(), Path: "a.go", Start: 1, End: 1}})
	review := w.makeOn(base, "bob", forge.KindReview, patch, forge.Review{Revision: rev.ID(), Verdict: forge.VerdictApprove})
	react := w.makeOn(base, "bob", forge.KindReactionAdd, issue, forge.React{Emoji: "+1"})
	unreact := w.makeOn(base, "bob", forge.KindReactionDel, issue, forge.Remove{Value: "+1", Tags: []op.ID{react.ID()}})

	pairs := []struct {
		name      string
		ref, user *op.Op
	}{
		{"reply", comment, reply},
		{"anchor", rev, anchored},
		{"review", rev, review},
		{"reaction remove", react, unreact},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			var results []map[string]any
			for _, order := range [][]*op.Op{{p.ref, p.user}, {p.user, p.ref}} {
				s := newMemStore()
				for _, id := range prefix {
					replay(t, s, w, id)
				}
				s.deliver(t, order...)
				results = append(results, map[string]any{"metas": s.metas, "state": s.snapshot(t)})
			}
			if d := cmp.Diff(results[0], results[1]); d != "" {
				t.Errorf("the order of delivery changed the outcome (-named op first +naming op first):\n%s", d)
			}
		})
	}

	// A named op must also come before in (clock, ID) order, which is the
	// order Rebuild applies a store's ops in.
	late := w.makeOn(base, "bob", forge.KindReactionAdd, issue, forge.React{Emoji: "eyes"})
	early := signOp(t, w.key("bob"), w.repo, base, late.Clock-1, forge.KindReactionDel, issue, forge.Remove{Value: "eyes", Tags: []op.ID{late.ID()}})
	s := newMemStore()
	for _, id := range prefix {
		replay(t, s, w, id)
	}
	if _, err := s.apply(t, late); err != nil {
		t.Fatal(err)
	}
	if _, err := forge.Apply(s, early); !errors.Is(err, forge.ErrInvalidOp) {
		t.Errorf("op naming a later op: Apply error = %v, want ErrInvalidOp", err)
	}
}

func ptr(id op.ID) *op.ID { return &id }
