package storage_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// history simulates a repo's authors, each writing on their own replica
// and now and then pulling what another replica has, so that their ops
// are really concurrent: they build on their own replica's heads and name
// the register heads, set tags and comments they observed there.
type history struct {
	t       testing.TB
	rng     *rand.Rand
	authors []*author
	repo    op.ID
	ops     []*op.Op // every op made, in creation order
	stats   map[string]int
}

type author struct {
	name  string
	key   *identity.Key
	store *storage.Store
	last  crdt.Timestamp // greatest clock this author made or saw
	has   map[op.ID]bool // ops handed to store
	order []*op.Op       // ops handed to store, in order
}

// newHistory makes the cast: the owner, two maintainers (added by the
// genesis author at once) and three contributors, each with a replica.
func newHistory(t testing.TB, seed uint64) *history {
	t.Helper()
	h := &history{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), stats: map[string]int{}}
	for i, name := range []string{"owner", "maint1", "maint2", "alice", "bob", "carol"} {
		h.authors = append(h.authors, &author{name: name, key: testKey(t, byte(10+i)), store: open(t, nil, nil), has: map[op.ID]bool{}})
	}
	owner := h.authors[0]
	g := signOp(t, owner.key, op.ID{}, nil, baseClock, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"})
	h.repo = g.ID()
	h.record(owner, g)
	h.deliver(owner, g)
	for _, m := range h.authors[1:3] {
		h.make(owner, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: m.key.Public()})
	}
	h.tour(owner)
	for _, a := range h.authors[1:] {
		h.pull(a, owner, false)
	}
	return h
}

// tour makes one op of every kind, so that each history has them all
// whatever the random steps do.
func (h *history) tour(a *author) {
	h.t.Helper()
	me := a.key.Public()
	issue := h.make(a, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "tour issue"}).ID()
	patch := h.make(a, forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "tour patch", Base: "main", Commit: h.commit()}).ID()
	label := h.make(a, forge.KindLabelAdd, issue, forge.Label{Label: "bug"}).ID()
	h.make(a, forge.KindLabelDel, issue, forge.Remove{Value: "bug", Tags: []op.ID{label}})
	assign := h.make(a, forge.KindAssigneeAdd, issue, forge.Member{Key: me}).ID()
	h.make(a, forge.KindAssigneeDel, issue, forge.Remove{Value: me.DID(), Tags: []op.ID{assign}})
	comment := h.make(a, forge.KindCommentAdd, issue, forge.CommentAdd{Body: "tour comment"})
	h.make(a, forge.KindCommentEdit, comment.ID(), forge.Set{Value: "edited", Prev: []op.ID{comment.ID()}})
	h.make(a, forge.KindCommentHide, comment.ID(), forge.SetBool{Value: true})
	h.make(a, forge.KindCommentResolve, comment.ID(), forge.SetBool{Value: true})
	react := h.make(a, forge.KindReactionAdd, issue, forge.React{Emoji: "+1"}).ID()
	h.make(a, forge.KindReactionDel, issue, forge.Remove{Value: "+1", Tags: []op.ID{react}})
	rev := h.make(a, forge.KindRevision, patch, forge.Revision{Commit: h.commit()}).ID()
	h.make(a, forge.KindReview, patch, forge.Review{Revision: rev, Verdict: forge.VerdictApprove})
	h.make(a, forge.KindPatchBase, patch, forge.Set{Value: "dev"})
	h.make(a, forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/main", Commit: h.commit()})
	extra := h.authors[3].key.Public()
	add := h.make(a, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: extra}).ID()
	h.make(a, forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: extra.DID(), Tags: []op.ID{add}})
}

func (h *history) record(a *author, o *op.Op) {
	h.ops = append(h.ops, o)
	h.stats[o.Kind]++
	if len(o.Parents) > 1 {
		h.stats["(merge)"]++
	}
}

// deliver ingests ops into a's replica and remembers them.
func (h *history) deliver(a *author, ops ...*op.Op) {
	h.t.Helper()
	var fresh []*op.Op
	for _, o := range ops {
		if !a.has[o.ID()] {
			a.has[o.ID()] = true
			a.order = append(a.order, o)
			fresh = append(fresh, o)
		}
		a.last = max(a.last, o.Clock)
	}
	if len(fresh) == 0 {
		return
	}
	rep, err := a.store.Ingest(fresh)
	if err != nil {
		h.t.Fatalf("%s: Ingest: %v", a.name, err)
	}
	for i, out := range rep.Outcomes {
		if out != storage.Stored && out != storage.Waiting {
			h.t.Fatalf("%s: Ingest(%s) = outcome %d, %v", a.name, fresh[i].Kind, out, rep.Errors[i])
		}
	}
}

// pull hands a everything b's replica has, in b's order or shuffled.
func (h *history) pull(a, b *author, shuffle bool) {
	h.t.Helper()
	var missing []*op.Op
	for _, o := range b.order {
		if !a.has[o.ID()] {
			missing = append(missing, o)
		}
	}
	if shuffle {
		h.rng.Shuffle(len(missing), func(i, j int) { missing[i], missing[j] = missing[j], missing[i] })
	}
	h.deliver(a, missing...)
}

// make signs an op by a on a's replica's heads and applies it there.
func (h *history) make(a *author, kind string, target op.ID, body any) *op.Op {
	h.t.Helper()
	return h.makeAfter(a, 0, kind, target, body)
}

// makeAfter is make for an op whose clock must also exceed after.
func (h *history) makeAfter(a *author, after crdt.Timestamp, kind string, target op.ID, body any) *op.Op {
	h.t.Helper()
	heads, err := a.store.Heads(h.repo)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(heads) > op.MaxParents {
		h.rng.Shuffle(len(heads), func(i, j int) { heads[i], heads[j] = heads[j], heads[i] })
		heads = heads[:op.MaxParents]
	}
	clock := max(a.last, after)
	for _, p := range heads {
		m, err := a.store.Meta(p)
		if err != nil {
			h.t.Fatal(err)
		}
		clock = max(clock, m.Clock)
	}
	clock += crdt.Timestamp(1 + h.rng.IntN(3))
	o := signOp(h.t, a.key, h.repo, heads, clock, kind, target, body)
	h.record(a, o)
	h.deliver(a, o)
	return o
}

func (h *history) pick(n int) int { return h.rng.IntN(n) }

func pickOne[T any](h *history, xs []T) T { return xs[h.rng.IntN(len(xs))] }

var (
	simLabels = []string{"bug", "ui", "docs", "perf", "crash"}
	simEmoji  = []string{"+1", "heart", "eyes", "rocket"}
	simRefs   = []string{"refs/heads/main", "refs/heads/dev", "refs/tags/v1"}
)

func (h *history) commit() string {
	var b [20]byte
	for i := range b {
		b[i] = byte(h.rng.IntN(256))
	}
	return fmt.Sprintf("%x", b)
}

func ids(xs []crdt.ID) []op.ID {
	out := make([]op.ID, len(xs))
	for i, x := range xs {
		out[i] = op.ID(x)
	}
	return out
}

// step makes one random op by a random author; now and then two replicas
// exchange ops first.
func (h *history) step() {
	h.t.Helper()
	if h.rng.IntN(100) < 8 {
		a, b := pickOne(h, h.authors), pickOne(h, h.authors)
		h.pull(a, b, h.rng.IntN(2) == 0)
		if h.rng.IntN(2) == 0 {
			h.pull(b, a, false)
		}
	}
	a := pickOne(h, h.authors)
	if h.rng.IntN(100) < 3 {
		h.stray(a)
		return
	}
	s := a.store
	me := a.key.Public()
	roles, err := s.RolesAt(h.repo)
	if err != nil {
		h.t.Fatal(err)
	}
	maint := roles.IsMaintainer(me)
	sums, err := s.Summaries(h.repo, "", "")
	if err != nil {
		h.t.Fatal(err)
	}
	var patches []forge.Summary
	for _, sm := range sums {
		if sm.Type == forge.TypePatch {
			patches = append(patches, sm)
		}
	}
	object := func(id op.ID) *forge.Object {
		o, err := s.ObjectWithComments(id)
		if err != nil {
			h.t.Fatal(err)
		}
		return o
	}
	repoState := func() *forge.Repo {
		r, err := s.Repo(h.repo)
		if err != nil {
			h.t.Fatal(err)
		}
		return r
	}

	// Contributors mostly stay within their rights, but not always, so
	// the history has rejected ops too.
	privileged := maint || h.rng.IntN(10) == 0
	choice := h.rng.IntN(100)
	switch {
	case len(sums) < 3 || choice < 6 && len(sums) < 20:
		h.make(a, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("issue by %s", a.name), Body: "details"})
		return
	case len(patches) < 2 || choice < 8 && len(patches) < 4:
		h.make(a, forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "patch by " + a.name, Base: "main", Commit: h.commit(), Draft: h.rng.IntN(3) == 0})
		return
	}
	sm := pickOne(h, sums)
	obj := object(sm.ID)
	mine := obj.Author == me
	comments := obj.CommentList()
	var myComments []*forge.Comment
	for _, c := range comments {
		if c.Author == me {
			myComments = append(myComments, c)
		}
	}
	switch {
	case choice < 18:
		h.make(a, forge.KindTitle, obj.ID, forge.Set{Value: fmt.Sprintf("title %d by %s", h.pick(1000), a.name), Prev: ids(obj.Title.Heads())})
	case choice < 22:
		h.make(a, forge.KindBody, obj.ID, forge.Set{Value: fmt.Sprintf("body %d", h.pick(1000)), Prev: ids(obj.Body.Heads())})
	case choice < 28 && (mine || privileged):
		st := forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted, Prev: ids(obj.State.Heads())}
		if obj.Type == forge.TypePatch {
			st.Reason = ""
			st.State = pickOne(h, []string{forge.StateOpen, forge.StateDraft, forge.StateClosed, forge.StateMerged})
		} else if obj.CurrentState().State == forge.StateClosed {
			st.State, st.Reason = forge.StateOpen, ""
		}
		h.make(a, forge.KindState, obj.ID, st)
	case choice < 34 && privileged:
		h.make(a, forge.KindLabelAdd, obj.ID, forge.Label{Label: pickOne(h, simLabels)})
	case choice < 38 && privileged && len(obj.Labels.Elements()) > 0:
		l := pickOne(h, obj.Labels.Elements())
		h.make(a, forge.KindLabelDel, obj.ID, forge.Remove{Value: l, Tags: ids(obj.Labels.Tags(l))})
	case choice < 41 && privileged:
		h.make(a, forge.KindAssigneeAdd, obj.ID, forge.Member{Key: pickOne(h, h.authors).key.Public()})
	case choice < 43 && privileged && len(obj.AssigneeKeys()) > 0:
		k := pickOne(h, obj.AssigneeKeys())
		h.make(a, forge.KindAssigneeDel, obj.ID, forge.Remove{Value: k.DID(), Tags: ids(obj.Assignees.Tags(string(k[:])))})
	case choice < 58:
		c := forge.CommentAdd{Body: fmt.Sprintf("comment %d by %s", h.pick(1000), a.name)}
		if len(comments) > 0 && h.rng.IntN(3) == 0 {
			id := pickOne(h, comments).ID
			c.ReplyTo = &id
		}
		if obj.Type == forge.TypePatch && c.ReplyTo == nil && h.rng.IntN(3) == 0 {
			rev := pickOne(h, obj.RevisionList())
			start := uint32(1 + h.pick(100))
			c.Anchor = &forge.Anchor{Revision: rev.ID, Path: "main.go", Start: start, End: start + uint32(h.pick(5))}
		}
		h.make(a, forge.KindCommentAdd, obj.ID, c)
	case choice < 64 && len(myComments) > 0:
		c := pickOne(h, myComments)
		h.make(a, forge.KindCommentEdit, c.ID, forge.Set{Value: fmt.Sprintf("edited %d", h.pick(1000)), Prev: ids(c.Body.Heads())})
	case choice < 66 && privileged && len(comments) > 0:
		c := pickOne(h, comments)
		h.make(a, forge.KindCommentHide, c.ID, forge.SetBool{Value: h.rng.IntN(3) > 0, Prev: ids(c.Hidden.Heads())})
	case choice < 68 && len(comments) > 0:
		c := pickOne(h, comments)
		h.make(a, forge.KindCommentResolve, c.ID, forge.SetBool{Value: h.rng.IntN(3) > 0, Prev: ids(c.Resolved.Heads())})
	case choice < 74:
		target, set := obj.ID, &obj.Reactions
		if len(comments) > 0 && h.rng.IntN(2) == 0 {
			c := pickOne(h, comments)
			target, set = c.ID, &c.Reactions
		}
		var own []forge.Reaction
		for _, r := range forge.Reactions(set) {
			if r.Author == me {
				own = append(own, r)
			}
		}
		if len(own) > 0 && h.rng.IntN(2) == 0 {
			emoji := pickOne(h, own).Emoji
			h.make(a, forge.KindReactionDel, target, forge.Remove{Value: emoji, Tags: forge.ReactionTags(set, me, emoji)})
		} else {
			h.make(a, forge.KindReactionAdd, target, forge.React{Emoji: pickOne(h, simEmoji)})
		}
	case choice < 79:
		p := object(pickOne(h, patches).ID)
		rev := pickOne(h, p.RevisionList())
		var prev []op.ID
		if r := p.Review(me, rev.ID); r != nil {
			prev = ids(r.Verdict.Heads())
		}
		verdict := pickOne(h, []string{forge.VerdictApprove, forge.VerdictRequestChanges, forge.VerdictComment})
		h.make(a, forge.KindReview, p.ID, forge.Review{Revision: rev.ID, Verdict: verdict, Summary: "review by " + a.name, Prev: prev})
	case choice < 81:
		p := object(pickOne(h, patches).ID)
		if p.Author == me || privileged {
			h.make(a, forge.KindRevision, p.ID, forge.Revision{Commit: h.commit(), Note: "v" + fmt.Sprint(len(p.Revisions)+1)})
		}
	case choice < 86 && privileged:
		name := pickOne(h, simRefs)
		var prev []op.ID
		if l := repoState().Refs[name]; l != nil {
			prev = ids(l.Heads())
		}
		commit := h.commit()
		if h.rng.IntN(6) == 0 {
			commit = ""
		}
		h.make(a, forge.KindRefSet, op.ID{}, forge.RefSet{Name: name, Commit: commit, Prev: prev})
	case choice < 88 && privileged:
		kind := pickOne(h, []string{forge.KindRepoName, forge.KindRepoDescription, forge.KindRepoBranch})
		repo := repoState()
		l := map[string]*crdt.LWW[string]{forge.KindRepoName: &repo.Name, forge.KindRepoDescription: &repo.Description, forge.KindRepoBranch: &repo.DefaultBranch}[kind]
		h.make(a, kind, op.ID{}, forge.Set{Value: fmt.Sprintf("v%d", h.pick(100)), Prev: ids(l.Heads())})
	case choice < 89:
		h.make(a, forge.KindProfileAlias, op.ID{}, forge.Set{Value: a.name + fmt.Sprint(h.pick(10))})
	case choice < 91 && privileged:
		h.make(a, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: pickOne(h, h.authors[1:]).key.Public()})
	case choice < 93 && privileged:
		others := roles.Maintainers()[1:]
		if len(others) > 0 {
			k := pickOne(h, others)
			h.make(a, forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: k.DID(), Tags: roles.Tags(k)})
		}
	default:
		h.make(a, forge.KindCommentAdd, obj.ID, forge.CommentAdd{Body: "plain comment by " + a.name})
	}
}

// stray makes an op that names, in its body, an op of the history that a
// may not have seen: a reply to any comment, or a review of any revision.
// Its parents are a's heads as usual, so the named op need not be an
// ancestor; replicas must still agree on it.
func (h *history) stray(a *author) {
	h.t.Helper()
	var refs []*op.Op
	for _, o := range h.ops {
		switch o.Kind {
		case forge.KindCommentAdd, forge.KindPatchOpen, forge.KindRevision:
			refs = append(refs, o)
		}
	}
	ref := pickOne(h, refs)
	after := ref.Clock
	if ref.Kind == forge.KindCommentAdd {
		target := ref.Target
		if m, err := a.store.Meta(target); err == nil {
			after = max(after, m.Clock)
		}
		id := ref.ID()
		h.makeAfter(a, after, forge.KindCommentAdd, target, forge.CommentAdd{Body: "stray reply by " + a.name, ReplyTo: &id})
		h.stats["(stray)"]++
		return
	}
	patch := ref.ID()
	if ref.Kind == forge.KindRevision {
		patch = ref.Target
	}
	h.makeAfter(a, after, forge.KindReview, patch, forge.Review{Revision: ref.ID(), Verdict: forge.VerdictComment, Summary: "stray review"})
	h.stats["(stray)"]++
}

// run makes at least n ops and then lets every replica pull from every
// other, so all replicas hold the whole history.
func (h *history) run(n int) {
	h.t.Helper()
	for len(h.ops) < n {
		h.step()
	}
	for range 2 {
		for _, a := range h.authors {
			for _, b := range h.authors {
				if a != b {
					h.pull(a, b, false)
				}
			}
		}
	}
}

// permute returns the history's ops in a random order, with about one in
// ten repeated at random places.
func (h *history) permute(rng *rand.Rand) []*op.Op {
	out := slices.Clone(h.ops)
	for range len(h.ops) / 10 {
		out = append(out, h.ops[rng.IntN(len(h.ops))])
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// deliverAll ingests ops into s in batches of random sizes.
func deliverAll(t testing.TB, s *storage.Store, ops []*op.Op, rng *rand.Rand) {
	t.Helper()
	for len(ops) > 0 {
		n := min(len(ops), 1+rng.IntN(300))
		rep, err := s.Ingest(ops[:n])
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		for i, out := range rep.Outcomes {
			switch out {
			case storage.Stored, storage.Waiting, storage.Duplicate:
			default:
				t.Fatalf("Ingest(%s) = outcome %d: %v", ops[i].Kind, out, rep.Errors[i])
			}
		}
		ops = ops[n:]
	}
}
