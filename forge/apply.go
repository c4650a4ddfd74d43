package forge

import (
	"errors"
	"fmt"
	"slices"

	"murmur/crdt"
	"murmur/identity"
	"murmur/op"
)

// Meta is what is recorded for every stored op besides its bytes: enough to
// authorize and route later ops without decoding this one again.
//
// Stored format (CBOR, integer keys) is stable within storage format 1.
type Meta struct {
	Repo     op.ID              `cbor:"1,keyasint"`
	Kind     string             `cbor:"2,keyasint"`
	Author   identity.PublicKey `cbor:"3,keyasint"`
	Clock    crdt.Timestamp     `cbor:"4,keyasint"`
	Object   op.ID              `cbor:"5,keyasint"` // issue or patch the op belongs to; zero for repo-level ops
	Accepted bool               `cbor:"6,keyasint,omitempty"`
	Roles    RolesID            `cbor:"7,keyasint"` // role state after this op
	Reason   string             `cbor:"8,keyasint,omitempty"`
}

// Reader is the state Apply reads. Storage implements it over its store and
// the batch being written, so that ops applied earlier in the same batch are
// visible. Apply may modify the *Repo and *Object it is handed and returns
// them in its Result; a Reader must hand out values no one else is using.
type Reader interface {
	// Meta returns the meta of a stored op; ok is false when the op is not
	// stored.
	Meta(id op.ID) (m Meta, ok bool, err error)
	// Roles returns a role state named by some stored op's Meta.
	Roles(id RolesID) (*Roles, error)
	// Repo returns the state of a repo, nil when it has none.
	Repo(id op.ID) (*Repo, error)
	// Object returns the state of an issue or patch, nil when it has none.
	// Its Comments map need not be loaded: Apply reads comments with
	// Comment.
	Object(id op.ID) (*Object, error)
	// Comment returns the state of a comment, nil when it has none.
	Comment(id op.ID) (*Comment, error)
}

// Result is the outcome of applying one op. A rejected op is still stored
// (it is part of the repo's DAG, and every replica rejects it the same way)
// but changes nothing.
type Result struct {
	Meta   Meta
	Err    error   // why the op was rejected; nil when accepted
	Roles  *Roles  // the role state named by Meta.Roles, when it may be new
	Repo   *Repo   // the repo after the op, when it changed
	Object *Object // the issue or patch after the op, when it changed
	// Changed names the parts of Object the op changed.
	Changed Fields
	// Comments are the comments the op created or changed. They are stored
	// apart from their object, so an op on a busy issue rewrites only what
	// it changes.
	Comments []*Comment
}

// Errors. Wrapped with detail; test with errors.Is.
var (
	// ErrUnauthorized rejects an op whose author may not do what it does
	// under the role state of its causal past. The op is stored, without
	// effect.
	ErrUnauthorized = errors.New("not allowed")
	// ErrRejected rejects an op that is well formed but makes no sense
	// (a bad body, a target of the wrong type). The op is stored, without
	// effect.
	ErrRejected = errors.New("rejected")
	// ErrInvalidOp is returned by Apply, as an error, for an op that breaks
	// the DAG's rules: a clock not after those of its parents, its target
	// and the ops its body names (see Deps), or one of those in another
	// repo. Such an op is not stored at all; no honest replica makes one. Storing only ops that keep these rules
	// makes (clock, ID) order a topological order of every repo.
	ErrInvalidOp = errors.New("invalid op")
)

// ErrMissingDeps is returned (as an error, not a rejection) when Apply is
// called before the op's dependencies (Deps) are stored.
var ErrMissingDeps = errors.New("forge: op applied before its dependencies")

// Deps returns the ops that must be stored before o can be applied: its
// parents, its target and the ops its body names and Apply consults (see
// bodyRefs).
func Deps(o *op.Op) []op.ID {
	deps := make([]op.ID, 0, len(o.Parents)+1)
	deps = append(deps, o.Parents...)
	if !o.Target.IsZero() {
		deps = append(deps, o.Target)
	}
	for _, r := range bodyRefs(o.Kind, nil, o) {
		if !slices.Contains(deps, r) {
			deps = append(deps, r)
		}
	}
	return deps
}

// bodyRefs returns the ops named in a body whose state Apply reads: the
// comment a reply answers, the revision a comment is anchored to or a
// review judges, the reactions a reaction.remove takes back. An author
// need not make them ancestors of the op, so, like parents and target,
// they must be stored before the op is applied, and have smaller clocks
// (the order Rebuild applies ops in); otherwise replicas that received
// them in different orders would decide differently. body is the decoded
// body, or nil to decode it from o; an undecodable body names nothing.
func bodyRefs(kind string, body any, o *op.Op) []op.ID {
	switch kind {
	case KindCommentAdd, KindReview, KindReactionDel, KindCheck:
	default:
		return nil
	}
	if body == nil {
		b, err := decodeBody(o)
		if err != nil {
			return nil
		}
		body = b
	}
	var refs []op.ID
	switch b := body.(type) {
	case *CommentAdd:
		if b.ReplyTo != nil {
			refs = append(refs, *b.ReplyTo)
		}
		if b.Anchor != nil {
			refs = append(refs, b.Anchor.Revision)
		}
	case *Review:
		refs = append(refs, b.Revision)
	case *Check:
		refs = append(refs, b.Revision)
	case *Remove:
		refs = append(refs, b.Tags...)
	}
	return slices.DeleteFunc(refs, op.ID.IsZero)
}

type applier struct {
	r           Reader
	o           *op.Op
	res         *Result
	roles       *Roles
	parentRoles []*Roles
	err         error // a Reader failure met inside effect
	repo        *Repo
	stamp       crdt.Stamp
	target      Meta // meta of o.Target, when set
}

// Apply decides whether o is accepted and computes its effect. The decision
// is a pure function of o and its causal past as recorded by earlier Apply
// calls: it never depends on arrival order or the local clock. The returned
// error is for Reader failures and missing dependencies only.
func Apply(r Reader, o *op.Op) (Result, error) {
	res := Result{Meta: Meta{Repo: o.RepoID(), Kind: o.Kind, Author: o.Author, Clock: o.Clock}}
	a := &applier{r: r, o: o, res: &res, stamp: crdt.Stamp{Clock: o.Clock, Author: o.Author, ID: crdt.ID(o.ID())}}
	reject, err := a.apply()
	if err != nil {
		return Result{}, err
	}
	res.Meta.Roles = a.roles.ID()
	res.Roles = nil
	if a.newRoles() {
		res.Roles = a.roles
	}
	if reject != nil {
		res.Meta.Reason = reject.Error()
		res.Err = reject
		res.Repo, res.Object, res.Comments, res.Changed = nil, nil, nil, 0
		return res, nil
	}
	res.Meta.Accepted = true
	return res, nil
}

// newRoles reports whether the op's role state is not one of its parents'.
func (a *applier) newRoles() bool {
	for _, p := range a.parentRoles {
		if p == a.roles {
			return false
		}
	}
	return true
}

func rejectf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), sentinel)
}

func (a *applier) apply() (reject error, err error) {
	o := a.o
	if o.IsGenesis() {
		return a.genesis(), nil
	}
	// Role state: the union of the parents' role states.
	var parentRoles []*Roles
	for _, p := range o.Parents {
		m, ok, err := a.r.Meta(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: parent %s of %s", ErrMissingDeps, p.Short(), o.ID().Short())
		}
		if m.Repo != o.Repo {
			return nil, fmt.Errorf("op %s: parent %s belongs to another repo: %w", o.ID().Short(), p.Short(), ErrInvalidOp)
		}
		if o.Clock <= m.Clock {
			return nil, fmt.Errorf("op %s: clock %v is not after parent %s (%v): %w", o.ID().Short(), o.Clock, p.Short(), m.Clock, ErrInvalidOp)
		}
		rs, err := a.r.Roles(m.Roles)
		if err != nil {
			return nil, err
		}
		parentRoles = append(parentRoles, rs)
	}
	a.parentRoles = parentRoles
	a.roles = UnionRoles(parentRoles...)
	repo, err := a.r.Repo(o.Repo)
	if err != nil {
		return nil, err
	}
	if repo == nil {
		return rejectf(ErrRejected, "repo %s was not created", o.Repo.Short()), nil
	}
	a.repo = repo
	if !o.Target.IsZero() {
		m, ok, err := a.r.Meta(o.Target)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: target %s of %s", ErrMissingDeps, o.Target.Short(), o.ID().Short())
		}
		if m.Repo != o.Repo {
			return nil, fmt.Errorf("op %s: target %s belongs to another repo: %w", o.ID().Short(), o.Target.Short(), ErrInvalidOp)
		}
		if o.Clock <= m.Clock {
			return nil, fmt.Errorf("op %s: clock %v is not after target %s (%v): %w", o.ID().Short(), o.Clock, o.Target.Short(), m.Clock, ErrInvalidOp)
		}
		if !m.Accepted {
			return rejectf(ErrRejected, "target %s was rejected", o.Target.Short()), nil
		}
		a.target = m
	}
	body, berr := decodeBody(o)
	if berr != nil {
		return rejectf(ErrRejected, "%s: %v", o.Kind, berr), nil
	}
	for _, ref := range bodyRefs(o.Kind, body, o) {
		m, ok, err := a.r.Meta(ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s names %s", ErrMissingDeps, o.ID().Short(), ref.Short())
		}
		if m.Repo != o.Repo {
			return nil, fmt.Errorf("op %s: names %s of another repo: %w", o.ID().Short(), ref.Short(), ErrInvalidOp)
		}
		if o.Clock <= m.Clock {
			return nil, fmt.Errorf("op %s: clock %v is not after %s (%v), which it names: %w", o.ID().Short(), o.Clock, ref.Short(), m.Clock, ErrInvalidOp)
		}
	}
	if err := a.banned(); err != nil {
		return err, nil
	}
	switch o.Kind {
	case KindRepoName, KindRepoDescription, KindRepoBranch, KindRefSet, KindProfileAlias:
		return a.repoOp(body), nil
	case KindMaintainerAdd, KindMaintainerDel:
		return a.roleOp(body), nil
	case KindBan, KindMember, KindWhoOpens:
		return a.moderate(body), nil
	case KindLock:
		return a.lock(body), nil
	case KindIssueOpen, KindPatchOpen:
		if err := a.mayOpen(); err != nil {
			return err, nil
		}
		return a.open(body), nil
	}
	return a.objectOp(body)
}

func (a *applier) genesis() error {
	o := a.o
	a.roles = NewRoles(o.Author)
	if o.Kind != KindRepoCreate {
		return rejectf(ErrRejected, "a repo's first op must be %s, not %s", KindRepoCreate, o.Kind)
	}
	body, err := decodeBody(o)
	if err != nil {
		return rejectf(ErrRejected, "%s: %v", o.Kind, err)
	}
	b := body.(*RepoCreate)
	repo := &Repo{ID: o.ID(), Owner: o.Author, Created: o.Clock, Updated: o.Clock}
	repo.Name.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Name})
	if b.Description != "" {
		repo.Description.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Description})
	}
	repo.DefaultBranch.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.DefaultBranch})
	a.res.Repo = repo
	return nil
}

func prev(ids []op.ID) []crdt.ID {
	if len(ids) == 0 {
		return nil
	}
	out := make([]crdt.ID, len(ids))
	for i, id := range ids {
		out[i] = crdt.ID(id)
	}
	return out
}

func (a *applier) maintainer() bool { return a.roles.IsMaintainer(a.o.Author) }

func (a *applier) repoOp(body any) error {
	o, repo := a.o, a.repo
	if !o.Target.IsZero() {
		return rejectf(ErrRejected, "%s takes no target", o.Kind)
	}
	if rs, ok := body.(*RefSet); ok {
		if err := a.refAllowed(rs.Name); err != nil {
			return err
		}
	} else if o.Kind != KindProfileAlias && !a.maintainer() {
		return rejectf(ErrUnauthorized, "%s needs a maintainer; %s is not one", o.Kind, o.Author.Short())
	}
	switch b := body.(type) {
	case *Set:
		w := crdt.Write[string]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)}
		switch o.Kind {
		case KindRepoName:
			repo.Name.Apply(w)
		case KindRepoDescription:
			repo.Description.Apply(w)
		case KindRepoBranch:
			repo.DefaultBranch.Apply(w)
		case KindProfileAlias:
			if repo.Aliases == nil {
				repo.Aliases = map[identity.PublicKey]*crdt.LWW[string]{}
			}
			l := repo.Aliases[o.Author]
			if l == nil {
				l = &crdt.LWW[string]{}
				repo.Aliases[o.Author] = l
			}
			l.Apply(w)
		}
	case *RefSet:
		if repo.Refs == nil {
			repo.Refs = map[string]*crdt.LWW[string]{}
		}
		l := repo.Refs[b.Name]
		if l == nil {
			l = &crdt.LWW[string]{}
			repo.Refs[b.Name] = l
		}
		l.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Commit, Prev: prev(b.Prev)})
		if b.Force {
			if repo.ForcedRefs == nil {
				repo.ForcedRefs = map[crdt.ID]struct{}{}
			}
			repo.ForcedRefs[a.stamp.ID] = struct{}{}
		}
	}
	if o.Clock > repo.Updated {
		repo.Updated = o.Clock
	}
	a.res.Repo = repo
	return nil
}

// refAllowed decides who may set the ref name: a ref in a participant's
// namespace its owner alone (a maintainer may not write another's
// namespace either), any other ref a maintainer.
func (a *applier) refAllowed(name string) error {
	if _, _, ok := SplitNamespace(name); ok {
		if owner, _ := NamespaceOwner(name); owner != a.o.Author {
			return rejectf(ErrUnauthorized, "%s is in another participant's namespace; only its owner may set it, not %s", name, a.o.Author.Short())
		}
		return nil
	}
	if !a.maintainer() {
		return rejectf(ErrUnauthorized, "%s of canonical ref %s needs a maintainer; %s is not one", a.o.Kind, name, a.o.Author.Short())
	}
	return nil
}

func (a *applier) roleOp(body any) error {
	o := a.o
	if !o.Target.IsZero() {
		return rejectf(ErrRejected, "%s takes no target", o.Kind)
	}
	if !a.maintainer() {
		return rejectf(ErrUnauthorized, "%s needs a maintainer; %s is not one", o.Kind, o.Author.Short())
	}
	var e RoleEntry
	switch b := body.(type) {
	case *Member:
		e = RoleEntry{Add: true, Key: b.Key}
	case *Remove:
		k, err := identity.ParseDID(b.Value)
		if err != nil {
			return rejectf(ErrRejected, "maintainer.remove: %v", err)
		}
		if k == a.roles.Owner {
			return rejectf(ErrUnauthorized, "the repo owner cannot be removed as maintainer")
		}
		e = RoleEntry{Key: k, Tags: b.Tags}
	}
	a.roles = a.roles.with(o.ID(), e)
	return nil
}

func (a *applier) open(body any) error {
	o := a.o
	if !o.Target.IsZero() {
		return rejectf(ErrRejected, "%s takes no target", o.Kind)
	}
	obj := &Object{ID: o.ID(), Repo: o.Repo, Author: o.Author, Created: o.Clock, Updated: o.Clock}
	switch b := body.(type) {
	case *IssueOpen:
		obj.Type = TypeIssue
		obj.Title.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Title})
		if b.Body != "" {
			obj.Body.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Body})
		}
		obj.State.Apply(crdt.Write[State]{Stamp: a.stamp, Value: State{State: StateOpen}})
	case *PatchOpen:
		obj.Type = TypePatch
		obj.Title.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Title})
		if b.Description != "" {
			obj.Body.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Description})
		}
		st := StateOpen
		if b.Draft {
			st = StateDraft
		}
		obj.State.Apply(crdt.Write[State]{Stamp: a.stamp, Value: State{State: st}})
		obj.Base.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Base})
		obj.Revisions = map[op.ID]*RevisionState{o.ID(): {
			ID: o.ID(), Author: o.Author, Created: o.Clock, Commit: b.Commit, BaseCommit: b.BaseCommit,
		}}
	}
	a.res.Meta.Object = o.ID()
	a.res.Object = obj
	a.res.Changed = AllFields
	return nil
}

// objectOp applies an op that targets an issue, a patch or a comment.
func (a *applier) objectOp(body any) (reject error, err error) {
	o := a.o
	if o.Target.IsZero() {
		return rejectf(ErrRejected, "%s needs a target", o.Kind), nil
	}
	t := a.target
	objID := t.Object
	if objID.IsZero() {
		return rejectf(ErrRejected, "%s: target %s is not an issue, patch or comment", o.Kind, o.Target.Short()), nil
	}
	obj, err := a.r.Object(objID)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("forge: object %s of accepted op missing from state", objID.Short())
	}
	a.res.Meta.Object = objID

	var comment *Comment
	onComment := t.Kind == KindCommentAdd
	if onComment {
		comment, err = a.r.Comment(o.Target)
		if err != nil {
			return nil, err
		}
		if comment == nil || comment.Object != objID {
			return nil, fmt.Errorf("forge: comment %s missing from object %s", o.Target.Short(), objID.Short())
		}
	}
	author := a.o.Author == obj.Author
	maint := a.maintainer()
	need := func(ok bool, who string) error {
		if ok {
			return nil
		}
		return rejectf(ErrUnauthorized, "%s on %s %s needs %s; %s is not", o.Kind, obj.Type, objID.Short(), who, o.Author.Short())
	}
	wantTarget := func(comments bool) error {
		if onComment != comments {
			if comments {
				return rejectf(ErrRejected, "%s must target a comment", o.Kind)
			}
			return rejectf(ErrRejected, "%s must target an issue or patch", o.Kind)
		}
		return nil
	}
	if rej := a.lockedOut(obj, maint); rej != nil {
		return rej, nil
	}
	rej, err := a.objectEffect(obj, comment, body, author, maint, need, wantTarget)
	if err != nil {
		return nil, err
	}
	if rej != nil {
		return rej, nil
	}
	if comment != nil {
		a.res.Comments = append(a.res.Comments, comment)
	}
	if o.Clock > obj.Updated {
		obj.Updated = o.Clock
	}
	a.res.Changed |= FieldHeader
	a.res.Object = obj
	return nil, nil
}

func (a *applier) objectEffect(obj *Object, comment *Comment, body any, author, maint bool,
	need func(bool, string) error, wantTarget func(bool) error) (reject, err error) {
	reject = a.effect(obj, comment, body, author, maint, need, wantTarget)
	return reject, a.err
}

func (a *applier) effect(obj *Object, comment *Comment, body any, author, maint bool,
	need func(bool, string) error, wantTarget func(bool) error) error {
	o := a.o
	switch o.Kind {
	case KindTitle, KindBody:
		if err := wantTarget(false); err != nil {
			return err
		}
		if err := need(author || maint, "its author or a maintainer"); err != nil {
			return err
		}
		b := body.(*Set)
		w := crdt.Write[string]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)}
		if o.Kind == KindTitle {
			obj.Title.Apply(w)
			a.res.Changed |= FieldTitle
		} else {
			obj.Body.Apply(w)
			a.res.Changed |= FieldBody
		}
	case KindState:
		if err := wantTarget(false); err != nil {
			return err
		}
		b := body.(*StateSet)
		switch {
		case obj.Type == TypeIssue && b.State != StateOpen && b.State != StateClosed:
			return rejectf(ErrRejected, "an issue is open or closed, not %s", b.State)
		case obj.Type == TypePatch && b.Reason != "":
			return rejectf(ErrRejected, "a patch state takes no reason")
		}
		if b.State == StateMerged {
			if err := need(maint, "a maintainer"); err != nil {
				return err
			}
		} else if err := need(author || maint, "its author or a maintainer"); err != nil {
			return err
		}
		obj.State.Apply(crdt.Write[State]{Stamp: a.stamp, Value: State{State: b.State, Reason: b.Reason}, Prev: prev(b.Prev)})
		a.res.Changed |= FieldState
	case KindLabelAdd, KindLabelDel, KindAssigneeAdd, KindAssigneeDel:
		if err := wantTarget(false); err != nil {
			return err
		}
		if err := need(maint, "a maintainer"); err != nil {
			return err
		}
		set := &obj.Labels
		a.res.Changed |= FieldLabels
		if o.Kind == KindAssigneeAdd || o.Kind == KindAssigneeDel {
			set = &obj.Assignees
			a.res.Changed = a.res.Changed&^FieldLabels | FieldAssignees
		}
		switch b := body.(type) {
		case *Label:
			set.Add(crdt.ID(o.ID()), b.Label)
		case *Member:
			set.Add(crdt.ID(o.ID()), string(b.Key[:]))
		case *Remove:
			set.Remove(prev(b.Tags)...)
		}
	case KindReviewerAdd, KindReviewerDel:
		if err := wantTarget(false); err != nil {
			return err
		}
		if obj.Type != TypePatch {
			return rejectf(ErrRejected, "%s targets a patch, not an %s", o.Kind, obj.Type)
		}
		if err := need(author || maint, "the patch author or a maintainer"); err != nil {
			return err
		}
		switch b := body.(type) {
		case *Member:
			obj.Reviewers.Add(crdt.ID(o.ID()), string(b.Key[:]))
		case *Remove:
			obj.Reviewers.Remove(prev(b.Tags)...)
		}
		a.res.Changed |= FieldReviewers
	case KindRevision:
		if err := wantTarget(false); err != nil {
			return err
		}
		if obj.Type != TypePatch {
			return rejectf(ErrRejected, "%s targets a patch, not an %s", o.Kind, obj.Type)
		}
		if err := need(author || maint, "the patch author or a maintainer"); err != nil {
			return err
		}
		b := body.(*Revision)
		if obj.Revisions == nil {
			obj.Revisions = map[op.ID]*RevisionState{}
		}
		obj.Revisions[o.ID()] = &RevisionState{ID: o.ID(), Author: o.Author, Created: o.Clock, Commit: b.Commit, BaseCommit: b.BaseCommit, Note: b.Note}
		a.res.Changed |= FieldRevisions
	case KindPatchBase:
		if err := wantTarget(false); err != nil {
			return err
		}
		if obj.Type != TypePatch {
			return rejectf(ErrRejected, "%s targets a patch, not an %s", o.Kind, obj.Type)
		}
		if err := need(author || maint, "the patch author or a maintainer"); err != nil {
			return err
		}
		b := body.(*Set)
		obj.Base.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)})
		a.res.Changed |= FieldBase
	case KindCommentAdd:
		if err := wantTarget(false); err != nil {
			return err
		}
		b := body.(*CommentAdd)
		c := &Comment{ID: o.ID(), Object: obj.ID, Author: o.Author, Created: o.Clock}
		if b.ReplyTo != nil {
			parent, err := a.r.Comment(*b.ReplyTo)
			if err != nil {
				a.err = err
				return nil
			}
			if parent == nil || parent.Object != obj.ID {
				return rejectf(ErrRejected, "reply to %s, which is not a comment on %s", b.ReplyTo.Short(), obj.ID.Short())
			}
			c.ReplyTo = *b.ReplyTo
			if b.Anchor == nil && parent.Anchor != nil {
				an := *parent.Anchor
				c.Anchor = &an
			}
		}
		if b.Anchor != nil {
			if obj.Type != TypePatch {
				return rejectf(ErrRejected, "only patch comments have file and line anchors")
			}
			if obj.Revisions[b.Anchor.Revision] == nil {
				return rejectf(ErrRejected, "anchor revision %s is not a revision of patch %s", b.Anchor.Revision.Short(), obj.ID.Short())
			}
			an := *b.Anchor
			c.Anchor = &an
		}
		c.Body.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Body})
		obj.CommentCount++
		if obj.Comments != nil {
			obj.Comments[o.ID()] = c
		}
		a.res.Comments = append(a.res.Comments, c)
	case KindCommentEdit:
		if err := wantTarget(true); err != nil {
			return err
		}
		if err := need(o.Author == comment.Author, "the comment's author"); err != nil {
			return err
		}
		b := body.(*Set)
		comment.Body.Apply(crdt.Write[string]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)})
	case KindCommentHide:
		if err := wantTarget(true); err != nil {
			return err
		}
		if err := need(maint, "a maintainer"); err != nil {
			return err
		}
		b := body.(*SetBool)
		comment.Hidden.Apply(crdt.Write[bool]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)})
	case KindCommentResolve:
		if err := wantTarget(true); err != nil {
			return err
		}
		if err := need(o.Author == comment.Author || author || maint, "the comment's author, the author of the "+string(obj.Type)+" or a maintainer"); err != nil {
			return err
		}
		b := body.(*SetBool)
		comment.Resolved.Apply(crdt.Write[bool]{Stamp: a.stamp, Value: b.Value, Prev: prev(b.Prev)})
	case KindReactionAdd, KindReactionDel:
		set := &obj.Reactions
		if comment != nil {
			set = &comment.Reactions
		} else {
			a.res.Changed |= FieldReactions
		}
		switch b := body.(type) {
		case *React:
			set.Add(crdt.ID(o.ID()), reactionKey(o.Author, b.Emoji))
		case *Remove:
			// Only the author's own reactions: tags of others are ignored.
			var own []crdt.ID
			for _, t := range b.Tags {
				if e, ok := set.Adds[crdt.ID(t)]; ok {
					if r, ok := parseReactionKey(e); ok && r.Author == o.Author {
						own = append(own, crdt.ID(t))
					}
				}
			}
			set.Remove(own...)
		}
	case KindReview:
		if err := wantTarget(false); err != nil {
			return err
		}
		if obj.Type != TypePatch {
			return rejectf(ErrRejected, "%s targets a patch, not an %s", o.Kind, obj.Type)
		}
		b := body.(*Review)
		if obj.Revisions[b.Revision] == nil {
			return rejectf(ErrRejected, "review of %s, which is not a revision of patch %s", b.Revision.Short(), obj.ID.Short())
		}
		if obj.Reviews == nil {
			obj.Reviews = map[string]*ReviewState{}
		}
		k := reviewKey(o.Author, b.Revision)
		rs := obj.Reviews[k]
		if rs == nil {
			rs = &ReviewState{Reviewer: o.Author, Revision: b.Revision}
			obj.Reviews[k] = rs
		}
		rs.Verdict.Apply(crdt.Write[Verdict]{Stamp: a.stamp, Value: Verdict{Verdict: b.Verdict, Summary: b.Summary}, Prev: prev(b.Prev)})
		a.res.Changed |= FieldReviews
	case KindCheck:
		// Anyone may report: a CI job is just an identity.
		if err := wantTarget(false); err != nil {
			return err
		}
		if obj.Type != TypePatch {
			return rejectf(ErrRejected, "%s targets a patch, not an %s", o.Kind, obj.Type)
		}
		b := body.(*Check)
		if obj.Revisions[b.Revision] == nil {
			return rejectf(ErrRejected, "check of %s, which is not a revision of patch %s", b.Revision.Short(), obj.ID.Short())
		}
		if obj.Checks == nil {
			obj.Checks = map[string]*CheckState{}
		}
		k := checkKey(o.Author, b.Revision, b.Name)
		cs := obj.Checks[k]
		if cs == nil {
			cs = &CheckState{Reporter: o.Author, Revision: b.Revision, Name: b.Name}
			obj.Checks[k] = cs
		}
		cs.Status.Apply(crdt.Write[CheckStatus]{Stamp: a.stamp, Value: CheckStatus{State: b.State, URL: b.URL, Summary: b.Summary}, Prev: prev(b.Prev)})
		a.res.Changed |= FieldChecks
	default:
		return rejectf(ErrRejected, "unknown kind %q", o.Kind)
	}
	return nil
}
