package node

import (
	"context"
	"slices"
	"strings"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// list returns the summaries of a repo's issues or patches that match f,
// most recently updated first.
func (n *Node) list(r *forge.Repo, typ forge.ObjectType, f api.ListFilter) ([]forge.Summary, error) {
	state := strings.ToLower(f.State)
	switch state {
	case "":
		state = forge.StateOpen
	case "all":
		state = ""
	case forge.StateOpen, forge.StateClosed:
	case forge.StateDraft, forge.StateMerged:
		if typ == forge.TypeIssue {
			return nil, api.Errorf(api.CodeInvalid, "issues are open or closed, not %s", state)
		}
	default:
		return nil, api.Errorf(api.CodeInvalid, "unknown state %q: use open, closed, draft, merged or all", f.State)
	}
	var author, assignee *identity.PublicKey
	if f.Author != "" {
		k, err := n.parseKey(r, f.Author)
		if err != nil {
			return nil, err
		}
		author = &k
	}
	if f.Assignee != "" {
		k, err := n.parseKey(r, f.Assignee)
		if err != nil {
			return nil, err
		}
		assignee = &k
	}
	rules := n.rules()
	keep := func(s *forge.Summary) bool {
		return !rules.Blocked(s.Author) && (f.Label == "" || s.MatchesLabel(f.Label)) &&
			(author == nil || s.Author == *author) &&
			(assignee == nil || slices.Contains(s.Assignees, *assignee))
	}
	out, err := n.store.ListSummaries(r.ID, typ, state, f.Limit, keep)
	if err != nil {
		return nil, internal(err)
	}
	return out, nil
}

// Issues implements api.Service.
func (n *Node) Issues(ctx context.Context, repo string, f api.ListFilter) ([]api.IssueSummary, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	sums, err := n.list(r, forge.TypeIssue, f)
	if err != nil {
		return nil, err
	}
	p := n.people(r)
	out := make([]api.IssueSummary, 0, len(sums))
	for _, s := range sums {
		out = append(out, summaryIssue(p, s))
	}
	return out, nil
}

// Patches implements api.Service.
func (n *Node) Patches(ctx context.Context, repo string, f api.ListFilter) ([]api.PatchSummary, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	sums, err := n.list(r, forge.TypePatch, f)
	if err != nil {
		return nil, err
	}
	p := n.people(r)
	out := make([]api.PatchSummary, 0, len(sums))
	for _, s := range sums {
		o, err := n.store.Object(s.ID)
		if err != nil {
			return nil, internal(err)
		}
		base, _ := o.Base.Get()
		out = append(out, summaryPatch(p, s, base))
	}
	return out, nil
}

// object resolves and loads an issue or patch of a repo.
func (n *Node) object(repo, id string, typ forge.ObjectType) (*forge.Repo, *forge.Object, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, nil, err
	}
	kinds := []string{forge.KindIssueOpen, forge.KindPatchOpen}
	what := "issue or patch"
	switch typ {
	case forge.TypeIssue:
		kinds, what = kinds[:1], "issue"
	case forge.TypePatch:
		kinds, what = kinds[1:], "patch"
	}
	oid, _, err := n.resolveOp(r.ID, id, what, kinds...)
	if err != nil {
		return nil, nil, err
	}
	o, err := n.store.ObjectWithComments(oid)
	if err != nil {
		return nil, nil, internal(err)
	}
	if n.hidden(o.Author) {
		return nil, nil, api.Errorf(api.CodeNotFound, "%s %s was opened by %s, whom this node blocks: run murmur unblock to see it", what, oid.Short(), o.Author.DID())
	}
	return r, o, nil
}

// Issue implements api.Service.
func (n *Node) Issue(ctx context.Context, repo, id string) (api.Issue, error) {
	r, o, err := n.object(repo, id, forge.TypeIssue)
	if err != nil {
		return api.Issue{}, err
	}
	return n.issueView(r, o), nil
}

// Patch implements api.Service.
func (n *Node) Patch(ctx context.Context, repo, id string) (api.Patch, error) {
	r, o, err := n.object(repo, id, forge.TypePatch)
	if err != nil {
		return api.Patch{}, err
	}
	return n.patchView(r, o), nil
}

func (n *Node) reloadIssue(r *forge.Repo, id op.ID) (api.Issue, error) {
	r2, err := n.store.Repo(r.ID)
	if err != nil {
		return api.Issue{}, internal(err)
	}
	o, err := n.store.ObjectWithComments(id)
	if err != nil {
		return api.Issue{}, internal(err)
	}
	return n.issueView(r2, o), nil
}

func (n *Node) reloadPatch(r *forge.Repo, id op.ID) (api.Patch, error) {
	r2, err := n.store.Repo(r.ID)
	if err != nil {
		return api.Patch{}, internal(err)
	}
	o, err := n.store.ObjectWithComments(id)
	if err != nil {
		return api.Patch{}, internal(err)
	}
	return n.patchView(r2, o), nil
}

// labelAndAssign builds the maintainer actions that label and assign a new
// object; they need a target, so they are built after the object exists.
func (n *Node) labelAndAssign(r *forge.Repo, target op.ID, labels, assignees []string) ([]forge.Action, error) {
	var acts []forge.Action
	for _, l := range labels {
		a, err := action(forge.KindLabelAdd, target, forge.Label{Label: strings.TrimSpace(l)})
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	for _, s := range assignees {
		k, err := n.parseKey(r, s)
		if err != nil {
			return nil, err
		}
		a, err := action(forge.KindAssigneeAdd, target, forge.Member{Key: k})
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// requireMaintainer fails early, before anything is written, when the user
// is not a maintainer and wants something only maintainers may do.
func (n *Node) requireMaintainer(r *forge.Repo, what string) error {
	key, err := n.signer()
	if err != nil {
		return err
	}
	roles, err := n.store.RolesAt(r.ID)
	if err != nil {
		return internal(err)
	}
	if !roles.IsMaintainer(key.Public()) {
		return api.Errorf(api.CodeForbidden, "only maintainers can %s, and you (%s) are not one of this repo", what, key.Public().Short())
	}
	return nil
}

// CreateIssue implements api.Service.
func (n *Node) CreateIssue(ctx context.Context, repo string, ni api.NewIssue) (api.Issue, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Issue{}, err
	}
	a, err := action(forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: ni.Title, Body: ni.Body})
	if err != nil {
		return api.Issue{}, err
	}
	if len(ni.Labels)+len(ni.Assignees) > 0 {
		if err := n.requireMaintainer(r, "label or assign issues"); err != nil {
			return api.Issue{}, err
		}
		// Validate labels and assignees before writing anything.
		if _, err := n.labelAndAssign(r, op.ID{1}, ni.Labels, ni.Assignees); err != nil {
			return api.Issue{}, err
		}
	}
	applied, err := n.write(ctx, r.ID, a)
	if err != nil {
		return api.Issue{}, err
	}
	id := applied[len(applied)-1].ID
	acts, err := n.labelAndAssign(r, id, ni.Labels, ni.Assignees)
	if err != nil {
		return api.Issue{}, err
	}
	if _, err := n.write(ctx, r.ID, acts...); err != nil {
		return api.Issue{}, err
	}
	return n.reloadIssue(r, id)
}

// CreatePatch implements api.Service.
func (n *Node) CreatePatch(ctx context.Context, repo string, np api.NewPatch) (api.Patch, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Patch{}, err
	}
	if np.Base == "" {
		np.Base, _ = r.DefaultBranch.Get()
	}
	np.Commit, np.BaseCommit = strings.ToLower(np.Commit), strings.ToLower(np.BaseCommit)
	if np.BaseCommit, err = n.patchCommits(ctx, r, np.Base, np.Commit, np.BaseCommit); err != nil {
		return api.Patch{}, err
	}
	a, err := action(forge.KindPatchOpen, op.ID{}, forge.PatchOpen{
		Title: np.Title, Description: np.Description, Base: np.Base,
		Commit: np.Commit, BaseCommit: np.BaseCommit, Draft: np.Draft,
	})
	if err != nil {
		return api.Patch{}, err
	}
	if len(np.Labels) > 0 {
		if err := n.requireMaintainer(r, "label patches"); err != nil {
			return api.Patch{}, err
		}
	}
	applied, err := n.write(ctx, r.ID, a)
	if err != nil {
		return api.Patch{}, err
	}
	id := applied[len(applied)-1].ID
	acts, err := n.labelAndAssign(r, id, np.Labels, nil)
	if err != nil {
		return api.Patch{}, err
	}
	if _, err := n.write(ctx, r.ID, acts...); err != nil {
		return api.Patch{}, err
	}
	return n.reloadPatch(r, id)
}

// editActions turns an Edit into actions on object o.
func (n *Node) editActions(r *forge.Repo, o *forge.Object, e api.Edit) ([]forge.Action, error) {
	var acts []forge.Action
	add := func(kind string, body any) error {
		a, err := action(kind, o.ID, body)
		if err == nil {
			acts = append(acts, a)
		}
		return err
	}
	if e.Title != nil {
		if err := add(forge.KindTitle, forge.Set{Value: *e.Title, Prev: ids(o.Title.Heads())}); err != nil {
			return nil, err
		}
	}
	if e.Body != nil {
		if err := add(forge.KindBody, forge.Set{Value: *e.Body, Prev: ids(o.Body.Heads())}); err != nil {
			return nil, err
		}
	}
	if e.Base != "" {
		if o.Type != forge.TypePatch {
			return nil, api.Errorf(api.CodeInvalid, "only patches have a base")
		}
		if err := add(forge.KindPatchBase, forge.Set{Value: e.Base, Prev: ids(o.Base.Heads())}); err != nil {
			return nil, err
		}
	}
	if len(e.AddLabels)+len(e.RemoveLabels)+len(e.AddAssignees)+len(e.RemoveAssignees) > 0 {
		if err := n.requireMaintainer(r, "change labels or assignees"); err != nil {
			return nil, err
		}
	}
	for _, l := range e.AddLabels {
		if err := add(forge.KindLabelAdd, forge.Label{Label: strings.TrimSpace(l)}); err != nil {
			return nil, err
		}
	}
	for _, l := range e.RemoveLabels {
		l = strings.TrimSpace(l)
		tags := ids(o.Labels.Tags(l))
		if len(tags) == 0 {
			return nil, api.Errorf(api.CodeNotFound, "%s has no label %q", o.Type, l)
		}
		if err := add(forge.KindLabelDel, forge.Remove{Value: l, Tags: tags}); err != nil {
			return nil, err
		}
	}
	if err := n.editMembers(r, o, add, forge.KindAssigneeAdd, forge.KindAssigneeDel, &o.Assignees, e.AddAssignees, e.RemoveAssignees, "assigned to"); err != nil {
		return nil, err
	}
	if len(e.AddReviewers)+len(e.RemoveReviewers) > 0 && o.Type != forge.TypePatch {
		return nil, api.Errorf(api.CodeInvalid, "only patches have reviewers")
	}
	if err := n.editMembers(r, o, add, forge.KindReviewerAdd, forge.KindReviewerDel, &o.Reviewers, e.AddReviewers, e.RemoveReviewers, "a requested reviewer of"); err != nil {
		return nil, err
	}
	if e.Comment != "" {
		if err := add(forge.KindCommentAdd, forge.CommentAdd{Body: e.Comment}); err != nil {
			return nil, err
		}
	}
	if e.State != "" {
		st := forge.StateSet{State: strings.ToLower(e.State), Reason: e.Reason, Prev: ids(o.State.Heads())}
		if st.State == forge.StateClosed && o.Type == forge.TypeIssue && st.Reason == "" {
			st.Reason = forge.ReasonCompleted
		}
		if o.Type == forge.TypeIssue && st.State != forge.StateOpen && st.State != forge.StateClosed {
			return nil, api.Errorf(api.CodeInvalid, "an issue is open or closed, not %s", st.State)
		}
		if o.Type == forge.TypePatch && st.Reason != "" {
			return nil, api.Errorf(api.CodeInvalid, "a patch state takes no reason")
		}
		if st.State == forge.StateMerged {
			if err := n.requireMaintainer(r, "merge patches"); err != nil {
				return nil, err
			}
		}
		if err := add(forge.KindState, st); err != nil {
			return nil, err
		}
	}
	lock, err := n.lockAction(r, o, e.Locked)
	if err != nil {
		return nil, err
	}
	acts = append(acts, lock...)
	if len(acts) == 0 {
		return nil, api.Errorf(api.CodeInvalid, "nothing to change: give at least one field to edit")
	}
	return acts, nil
}

func (n *Node) edit(ctx context.Context, repo, id string, typ forge.ObjectType, e api.Edit) (*forge.Repo, op.ID, error) {
	r, o, err := n.object(repo, id, typ)
	if err != nil {
		return nil, op.ID{}, err
	}
	acts, err := n.editActions(r, o, e)
	if err != nil {
		return nil, op.ID{}, err
	}
	if _, err := n.write(ctx, r.ID, acts...); err != nil {
		return nil, op.ID{}, err
	}
	return r, o.ID, nil
}

// EditIssue implements api.Service.
func (n *Node) EditIssue(ctx context.Context, repo, id string, e api.Edit) (api.Issue, error) {
	r, oid, err := n.edit(ctx, repo, id, forge.TypeIssue, e)
	if err != nil {
		return api.Issue{}, err
	}
	return n.reloadIssue(r, oid)
}

// EditPatch implements api.Service.
func (n *Node) EditPatch(ctx context.Context, repo, id string, e api.Edit) (api.Patch, error) {
	r, oid, err := n.edit(ctx, repo, id, forge.TypePatch, e)
	if err != nil {
		return api.Patch{}, err
	}
	return n.reloadPatch(r, oid)
}

// AddRevision implements api.Service.
func (n *Node) AddRevision(ctx context.Context, repo, id string, nr api.NewRevision) (api.Patch, error) {
	r, o, err := n.object(repo, id, forge.TypePatch)
	if err != nil {
		return api.Patch{}, err
	}
	nr.Commit, nr.BaseCommit = strings.ToLower(nr.Commit), strings.ToLower(nr.BaseCommit)
	if revs := o.RevisionList(); len(revs) > 0 && revs[len(revs)-1].Commit == nr.Commit {
		return api.Patch{}, api.Errorf(api.CodeInvalid, "revision %d of patch %s already proposes commit %s: commit your changes to the branch first", len(revs), o.ID.Short(), nr.Commit)
	}
	base, _ := o.Base.Get()
	if nr.BaseCommit, err = n.patchCommits(ctx, r, base, nr.Commit, nr.BaseCommit); err != nil {
		return api.Patch{}, err
	}
	a, err := action(forge.KindRevision, o.ID, forge.Revision{Commit: nr.Commit, BaseCommit: nr.BaseCommit, Note: nr.Note})
	if err != nil {
		return api.Patch{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Patch{}, err
	}
	return n.reloadPatch(r, o.ID)
}

// Review implements api.Service.
func (n *Node) Review(ctx context.Context, repo, id string, nr api.NewReview) (api.Patch, error) {
	r, o, err := n.object(repo, id, forge.TypePatch)
	if err != nil {
		return api.Patch{}, err
	}
	rev, num, err := revision(o, nr.Revision)
	if err != nil {
		return api.Patch{}, err
	}
	key, err := n.signer()
	if err != nil {
		return api.Patch{}, err
	}
	var prev []op.ID
	if rs := o.Review(key.Public(), rev.ID); rs != nil {
		prev = ids(rs.Verdict.Heads())
	}
	var acts []forge.Action
	a, err := action(forge.KindReview, o.ID, forge.Review{Revision: rev.ID, Verdict: nr.Verdict, Summary: nr.Summary, Prev: prev})
	if err != nil {
		return api.Patch{}, err
	}
	acts = append(acts, a)
	if nr.Path != "" {
		text := nr.Comment
		if text == "" {
			text = nr.Summary
		}
		an, err := n.anchor(ctx, r, rev, num, nr.Path, nr.Start, nr.End)
		if err != nil {
			return api.Patch{}, err
		}
		c, err := action(forge.KindCommentAdd, o.ID, forge.CommentAdd{Body: text, Anchor: an})
		if err != nil {
			return api.Patch{}, err
		}
		acts = append(acts, c)
	}
	if _, err := n.write(ctx, r.ID, acts...); err != nil {
		return api.Patch{}, err
	}
	return n.reloadPatch(r, o.ID)
}

// Comment implements api.Service.
func (n *Node) Comment(ctx context.Context, repo, id string, nc api.NewComment) (api.Comment, error) {
	r, o, err := n.object(repo, id, "")
	if err != nil {
		return api.Comment{}, err
	}
	body := forge.CommentAdd{Body: nc.Body}
	if nc.ReplyTo != "" {
		cid, m, err := n.resolveOp(r.ID, nc.ReplyTo, "comment", forge.KindCommentAdd)
		if err != nil {
			return api.Comment{}, err
		}
		if m.Object != o.ID {
			return api.Comment{}, api.Errorf(api.CodeInvalid, "comment %s is on another %s", cid.Short(), o.Type)
		}
		body.ReplyTo = &cid
	}
	if nc.Path != "" {
		if o.Type != forge.TypePatch {
			return api.Comment{}, api.Errorf(api.CodeInvalid, "only comments on patches are anchored to lines of code")
		}
		rev, num, err := revision(o, nc.Revision)
		if err != nil {
			return api.Comment{}, err
		}
		if body.Anchor, err = n.anchor(ctx, r, rev, num, nc.Path, nc.Start, nc.End); err != nil {
			return api.Comment{}, err
		}
	}
	a, err := action(forge.KindCommentAdd, o.ID, body)
	if err != nil {
		return api.Comment{}, err
	}
	applied, err := n.write(ctx, r.ID, a)
	if err != nil {
		return api.Comment{}, err
	}
	return n.commentAfter(r.ID, o.ID, applied[len(applied)-1].ID)
}

func (n *Node) commentAfter(repo, obj, cid op.ID) (api.Comment, error) {
	r, err := n.store.Repo(repo)
	if err != nil {
		return api.Comment{}, internal(err)
	}
	o, err := n.store.ObjectWithComments(obj)
	if err != nil {
		return api.Comment{}, internal(err)
	}
	for _, c := range n.commentsView(n.people(r), o) {
		if c.ID == cid.String() {
			return c, nil
		}
	}
	return api.Comment{}, api.Errorf(api.CodeNotFound, "comment %s not found", cid.Short())
}

// comment resolves a comment and its object.
func (n *Node) comment(repo, id string) (*forge.Repo, *forge.Object, *forge.Comment, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, nil, nil, err
	}
	cid, m, err := n.resolveOp(r.ID, id, "comment", forge.KindCommentAdd)
	if err != nil {
		return nil, nil, nil, err
	}
	o, err := n.store.ObjectWithComments(m.Object)
	if err != nil {
		return nil, nil, nil, internal(err)
	}
	c := o.Comments[cid]
	if c == nil {
		return nil, nil, nil, api.Errorf(api.CodeNotFound, "comment %s not found", cid.Short())
	}
	return r, o, c, nil
}

// EditComment implements api.Service.
func (n *Node) EditComment(ctx context.Context, repo, id, body string) (api.Comment, error) {
	r, o, c, err := n.comment(repo, id)
	if err != nil {
		return api.Comment{}, err
	}
	key, err := n.signer()
	if err != nil {
		return api.Comment{}, err
	}
	if c.Author != key.Public() {
		return api.Comment{}, api.Errorf(api.CodeForbidden, "only the author of a comment can edit it")
	}
	a, err := action(forge.KindCommentEdit, c.ID, forge.Set{Value: body, Prev: ids(c.Body.Heads())})
	if err != nil {
		return api.Comment{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Comment{}, err
	}
	return n.commentAfter(r.ID, o.ID, c.ID)
}

// HideComment implements api.Service.
func (n *Node) HideComment(ctx context.Context, repo, id string, hidden bool) (api.Comment, error) {
	r, o, c, err := n.comment(repo, id)
	if err != nil {
		return api.Comment{}, err
	}
	if err := n.requireMaintainer(r, "hide comments"); err != nil {
		return api.Comment{}, err
	}
	a, err := action(forge.KindCommentHide, c.ID, forge.SetBool{Value: hidden, Prev: ids(c.Hidden.Heads())})
	if err != nil {
		return api.Comment{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Comment{}, err
	}
	return n.commentAfter(r.ID, o.ID, c.ID)
}

// ResolveComment implements api.Service.
func (n *Node) ResolveComment(ctx context.Context, repo, id string, resolved bool) (api.Comment, error) {
	r, o, c, err := n.comment(repo, id)
	if err != nil {
		return api.Comment{}, err
	}
	a, err := action(forge.KindCommentResolve, c.ID, forge.SetBool{Value: resolved, Prev: ids(c.Resolved.Heads())})
	if err != nil {
		return api.Comment{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Comment{}, err
	}
	return n.commentAfter(r.ID, o.ID, c.ID)
}

// React implements api.Service.
func (n *Node) React(ctx context.Context, repo, target, emoji string, remove bool) error {
	r, err := n.loadRepo(repo)
	if err != nil {
		return err
	}
	tid, m, err := n.resolveOp(r.ID, target, "issue, patch or comment", forge.KindIssueOpen, forge.KindPatchOpen, forge.KindCommentAdd)
	if err != nil {
		return err
	}
	key, err := n.signer()
	if err != nil {
		return err
	}
	var a forge.Action
	if !remove {
		a, err = action(forge.KindReactionAdd, tid, forge.React{Emoji: emoji})
	} else {
		o, lerr := n.store.ObjectWithComments(m.Object)
		if lerr != nil {
			return internal(lerr)
		}
		set := &o.Reactions
		if m.Kind == forge.KindCommentAdd {
			set = &o.Comments[tid].Reactions
		}
		tags := forge.ReactionTags(set, key.Public(), emoji)
		if len(tags) == 0 {
			return api.Errorf(api.CodeNotFound, "you have not reacted with %s", emoji)
		}
		a, err = action(forge.KindReactionDel, tid, forge.Remove{Value: emoji, Tags: tags})
	}
	if err != nil {
		return err
	}
	_, err = n.write(ctx, r.ID, a)
	return err
}

// AddCheck implements api.Service. Anyone may report a check; the
// report supersedes the reporter's earlier one for the same revision and
// name.
func (n *Node) AddCheck(ctx context.Context, repo, id string, c api.NewCheck) (api.Patch, error) {
	r, o, err := n.object(repo, id, forge.TypePatch)
	if err != nil {
		return api.Patch{}, err
	}
	rev, _, err := revision(o, c.Revision)
	if err != nil {
		return api.Patch{}, err
	}
	key, err := n.signer()
	if err != nil {
		return api.Patch{}, err
	}
	name := strings.TrimSpace(c.Name)
	var prev []op.ID
	if cs := o.Check(key.Public(), rev.ID, name); cs != nil {
		prev = ids(cs.Status.Heads())
	}
	a, err := action(forge.KindCheck, o.ID, forge.Check{Revision: rev.ID, State: strings.TrimSpace(c.State), Name: name, URL: strings.TrimSpace(c.URL), Summary: c.Summary, Prev: prev})
	if err != nil {
		return api.Patch{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Patch{}, err
	}
	return n.reloadPatch(r, o.ID)
}

// editMembers adds the ops that add adds (DIDs or aliases) to a key set of
// o and remove removes from it; what says how a key belongs to it, for
// the error about one that does not.
func (n *Node) editMembers(r *forge.Repo, o *forge.Object, add func(kind string, body any) error, addKind, delKind string,
	set *crdt.ORSet[string], adds, removes []string, what string) error {
	for _, s := range adds {
		k, err := n.parseKey(r, s)
		if err != nil {
			return err
		}
		if err := add(addKind, forge.Member{Key: k}); err != nil {
			return err
		}
	}
	for _, s := range removes {
		k, err := n.parseKey(r, s)
		if err != nil {
			return err
		}
		tags := ids(set.Tags(string(k[:])))
		if len(tags) == 0 {
			return api.Errorf(api.CodeNotFound, "%s is not %s this %s", k.Short(), what, o.Type)
		}
		if err := add(delKind, forge.Remove{Value: k.DID(), Tags: tags}); err != nil {
			return err
		}
	}
	return nil
}
