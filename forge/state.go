package forge

import (
	"bytes"
	"slices"
	"strings"

	"murmur/crdt"
	"murmur/identity"
	"murmur/op"
)

// Repo is the materialized state of a repository: its metadata registers,
// refs and the aliases of its participants. Maintainers are not here: they
// are role state (Roles), which depends on the causal past of each op.
type Repo struct {
	ID            op.ID                                    `cbor:"1,keyasint"`
	Owner         identity.PublicKey                       `cbor:"2,keyasint"`
	Created       crdt.Timestamp                           `cbor:"3,keyasint"`
	Updated       crdt.Timestamp                           `cbor:"4,keyasint"`
	Name          crdt.LWW[string]                         `cbor:"5,keyasint"`
	Description   crdt.LWW[string]                         `cbor:"6,keyasint"`
	DefaultBranch crdt.LWW[string]                         `cbor:"7,keyasint"`
	Refs          map[string]*crdt.LWW[string]             `cbor:"8,keyasint"`
	Aliases       map[identity.PublicKey]*crdt.LWW[string] `cbor:"9,keyasint"`
	// ForcedRefs holds the IDs of the ref writes (in Refs) made by a
	// force update (RefSet.Force); a grow-only set.
	ForcedRefs map[crdt.ID]struct{} `cbor:"10,keyasint,omitempty"`
}

// Alias returns the alias k published in this repo, if any.
func (r *Repo) Alias(k identity.PublicKey) string {
	if l := r.Aliases[k]; l != nil {
		v, _ := l.Get()
		return v
	}
	return ""
}

// RefNames returns the names of refs that point at a commit, sorted.
func (r *Repo) RefNames() []string {
	var out []string
	for name, l := range r.Refs {
		if v, ok := l.Get(); ok && v != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// RefForced reports whether the current value of ref name was set by a
// force update.
func (r *Repo) RefForced(name string) bool {
	w, ok := r.Refs[name].Winner()
	if !ok {
		return false
	}
	_, forced := r.ForcedRefs[w.ID]
	return forced
}

// Ref returns the commit a ref points at.
func (r *Repo) Ref(name string) (string, bool) {
	if l := r.Refs[name]; l != nil {
		if v, ok := l.Get(); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// ObjectType says whether an object is an issue or a patch.
type ObjectType string

const (
	TypeIssue ObjectType = "issue"
	TypePatch ObjectType = "patch"
)

// State is the value of an issue's or patch's state register.
type State struct {
	State  string `cbor:"1,keyasint"`
	Reason string `cbor:"2,keyasint,omitempty"`
}

// Comment is a comment on an issue or patch. Review comments on patches
// carry an Anchor; replies name the comment they answer.
type Comment struct {
	ID        op.ID              `cbor:"1,keyasint"`
	Object    op.ID              `cbor:"10,keyasint"` // the issue or patch it is on
	Author    identity.PublicKey `cbor:"2,keyasint"`
	Created   crdt.Timestamp     `cbor:"3,keyasint"`
	ReplyTo   op.ID              `cbor:"4,keyasint"`
	Anchor    *Anchor            `cbor:"5,keyasint,omitempty"`
	Body      crdt.LWW[string]   `cbor:"6,keyasint"` // edits keep history
	Hidden    crdt.LWW[bool]     `cbor:"7,keyasint"`
	Resolved  crdt.LWW[bool]     `cbor:"8,keyasint"`
	Reactions crdt.ORSet[string] `cbor:"9,keyasint"` // elements: reactionKey(author, emoji)
}

// RevisionState is one revision of a patch. The patch.open op is the first.
type RevisionState struct {
	ID         op.ID              `cbor:"1,keyasint"`
	Author     identity.PublicKey `cbor:"2,keyasint"`
	Created    crdt.Timestamp     `cbor:"3,keyasint"`
	Commit     string             `cbor:"4,keyasint"`
	BaseCommit string             `cbor:"5,keyasint,omitempty"`
	Note       string             `cbor:"6,keyasint,omitempty"`
}

// Verdict is the value of a review register.
type Verdict struct {
	Verdict string `cbor:"1,keyasint"`
	Summary string `cbor:"2,keyasint,omitempty"`
}

// ReviewState is one reviewer's verdict register on one revision.
type ReviewState struct {
	Reviewer identity.PublicKey `cbor:"1,keyasint"`
	Revision op.ID              `cbor:"2,keyasint"`
	Verdict  crdt.LWW[Verdict]  `cbor:"3,keyasint"`
}

// CheckStatus is the value of a check register.
type CheckStatus struct {
	State   string `cbor:"1,keyasint"`
	URL     string `cbor:"2,keyasint,omitempty"`
	Summary string `cbor:"3,keyasint,omitempty"`
}

// CheckState is one reporter's status register of one revision under one
// name.
type CheckState struct {
	Reporter identity.PublicKey    `cbor:"1,keyasint"`
	Revision op.ID                 `cbor:"2,keyasint"`
	Name     string                `cbor:"3,keyasint,omitempty"`
	Status   crdt.LWW[CheckStatus] `cbor:"4,keyasint"`
}

// Object is the materialized state of an issue or a patch. Patch-only
// fields are empty on issues.
type Object struct {
	Type      ObjectType         `cbor:"1,keyasint"`
	ID        op.ID              `cbor:"2,keyasint"`
	Repo      op.ID              `cbor:"3,keyasint"`
	Author    identity.PublicKey `cbor:"4,keyasint"`
	Created   crdt.Timestamp     `cbor:"5,keyasint"`
	Updated   crdt.Timestamp     `cbor:"6,keyasint"`
	Title     crdt.LWW[string]   `cbor:"7,keyasint"`
	Body      crdt.LWW[string]   `cbor:"8,keyasint"` // issue body or patch description
	State     crdt.LWW[State]    `cbor:"9,keyasint"`
	Labels    crdt.ORSet[string] `cbor:"10,keyasint"`
	Assignees crdt.ORSet[string] `cbor:"11,keyasint"` // elements: raw 32-byte keys
	Reactions crdt.ORSet[string] `cbor:"12,keyasint"`
	// Comments holds the object's comments when they were loaded (storage
	// keeps them apart; see Store.LoadComments). Apply does not need it.
	Comments     map[op.ID]*Comment       `cbor:"-"`
	CommentCount int                      `cbor:"17,keyasint"`
	Base         crdt.LWW[string]         `cbor:"14,keyasint"`
	Revisions    map[op.ID]*RevisionState `cbor:"15,keyasint"`
	Reviews      map[string]*ReviewState  `cbor:"16,keyasint"`           // key: reviewKey(reviewer, revision)
	Checks       map[string]*CheckState   `cbor:"18,keyasint,omitempty"` // key: checkKey(reporter, revision, name)
	Reviewers    crdt.ORSet[string]       `cbor:"19,keyasint"`           // requested reviewers: raw 32-byte keys
}

// Fields names parts of an Object, so that storage rewrites only the parts
// an op changed. The bit positions are part of storage's key layout.
type Fields uint16

// The parts of an Object.
const (
	FieldHeader    Fields = 1 << iota // Type, ID, Repo, Author, Created, Updated, CommentCount
	FieldTitle                        // Title
	FieldBody                         // Body
	FieldState                        // State
	FieldLabels                       // Labels
	FieldAssignees                    // Assignees
	FieldReactions                    // Reactions
	FieldBase                         // Base
	FieldRevisions                    // Revisions
	FieldReviews                      // Reviews
	FieldChecks                       // Checks
	FieldReviewers                    // Reviewers

	AllFields = FieldReviewers<<1 - 1
)

// ObjectHeader is the FieldHeader part of an Object.
type ObjectHeader struct {
	Type         ObjectType         `cbor:"1,keyasint"`
	ID           op.ID              `cbor:"2,keyasint"`
	Repo         op.ID              `cbor:"3,keyasint"`
	Author       identity.PublicKey `cbor:"4,keyasint"`
	Created      crdt.Timestamp     `cbor:"5,keyasint"`
	Updated      crdt.Timestamp     `cbor:"6,keyasint"`
	CommentCount int                `cbor:"7,keyasint"`
}

// Header returns the FieldHeader part of o.
func (o *Object) Header() ObjectHeader {
	return ObjectHeader{o.Type, o.ID, o.Repo, o.Author, o.Created, o.Updated, o.CommentCount}
}

// SetHeader sets the FieldHeader part of o.
func (o *Object) SetHeader(h ObjectHeader) {
	o.Type, o.ID, o.Repo, o.Author, o.Created, o.Updated, o.CommentCount = h.Type, h.ID, h.Repo, h.Author, h.Created, h.Updated, h.CommentCount
}

// Field returns a pointer to the part f (a single bit, not the header) of
// o, for encoding or decoding it on its own; nil for an unknown part.
func (o *Object) Field(f Fields) any {
	switch f {
	case FieldTitle:
		return &o.Title
	case FieldBody:
		return &o.Body
	case FieldState:
		return &o.State
	case FieldLabels:
		return &o.Labels
	case FieldAssignees:
		return &o.Assignees
	case FieldReactions:
		return &o.Reactions
	case FieldBase:
		return &o.Base
	case FieldRevisions:
		return &o.Revisions
	case FieldReviews:
		return &o.Reviews
	case FieldChecks:
		return &o.Checks
	case FieldReviewers:
		return &o.Reviewers
	}
	return nil
}

// CurrentState returns the winning state (open when unset).
func (o *Object) CurrentState() State {
	if s, ok := o.State.Get(); ok {
		return s
	}
	return State{State: StateOpen}
}

// ReviewerKeys returns the requested reviewers as keys, sorted.
func (o *Object) ReviewerKeys() []identity.PublicKey { return keys(&o.Reviewers) }

// AssigneeKeys returns the assignees as keys, sorted.
func (o *Object) AssigneeKeys() []identity.PublicKey { return keys(&o.Assignees) }

// CommentList returns the comments ordered by creation (clock, then ID).
func (o *Object) CommentList() []*Comment {
	out := make([]*Comment, 0, len(o.Comments))
	for _, c := range o.Comments {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Comment) int {
		return crdt.Stamp{Clock: a.Created, ID: crdt.ID(a.ID)}.Compare(crdt.Stamp{Clock: b.Created, ID: crdt.ID(b.ID)})
	})
	return out
}

// RevisionList returns the revisions in order: by clock, then ID. Revision
// numbers shown to users are 1-based positions in this list.
func (o *Object) RevisionList() []*RevisionState {
	out := make([]*RevisionState, 0, len(o.Revisions))
	for _, r := range o.Revisions {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *RevisionState) int {
		return crdt.Stamp{Clock: a.Created, ID: crdt.ID(a.ID)}.Compare(crdt.Stamp{Clock: b.Created, ID: crdt.ID(b.ID)})
	})
	return out
}

// revisionPositions maps each revision to its 0-based position in
// RevisionList.
func (o *Object) revisionPositions() map[op.ID]int {
	pos := map[op.ID]int{}
	for i, r := range o.RevisionList() {
		pos[r.ID] = i
	}
	return pos
}

// ReviewList returns the review registers ordered by revision order, then
// reviewer.
func (o *Object) ReviewList() []*ReviewState {
	pos := o.revisionPositions()
	out := make([]*ReviewState, 0, len(o.Reviews))
	for _, r := range o.Reviews {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *ReviewState) int {
		if pa, pb := pos[a.Revision], pos[b.Revision]; pa != pb {
			return pa - pb
		}
		return bytes.Compare(a.Reviewer[:], b.Reviewer[:])
	})
	return out
}

// Reaction is one (author, emoji) pair.
type Reaction struct {
	Author identity.PublicKey
	Emoji  string
}

// Reactions lists the present reactions of a set.
func Reactions(s *crdt.ORSet[string]) []Reaction {
	var out []Reaction
	for _, e := range s.Elements() {
		if r, ok := parseReactionKey(e); ok {
			out = append(out, r)
		}
	}
	return out
}

func reactionKey(author identity.PublicKey, emoji string) string {
	return string(author[:]) + emoji
}

func parseReactionKey(s string) (Reaction, bool) {
	var r Reaction
	if len(s) <= 32 {
		return r, false
	}
	copy(r.Author[:], s[:32])
	r.Emoji = s[32:]
	return r, true
}

func reviewKey(reviewer identity.PublicKey, rev op.ID) string {
	return string(reviewer[:]) + string(rev[:])
}

func keys(s *crdt.ORSet[string]) []identity.PublicKey {
	var out []identity.PublicKey
	for _, e := range s.Elements() {
		if len(e) == 32 {
			var k identity.PublicKey
			copy(k[:], e)
			out = append(out, k)
		}
	}
	return out
}

// Summary is the small record storage keeps per object for listing, so a
// list of ten thousand issues never decodes their comments.
type Summary struct {
	Type      ObjectType           `cbor:"1,keyasint" json:"type"`
	ID        op.ID                `cbor:"2,keyasint" json:"id"`
	Repo      op.ID                `cbor:"3,keyasint" json:"repo"`
	Title     string               `cbor:"4,keyasint" json:"title"`
	State     string               `cbor:"5,keyasint" json:"state"`
	Reason    string               `cbor:"6,keyasint,omitempty" json:"reason,omitempty"`
	Author    identity.PublicKey   `cbor:"7,keyasint" json:"author"`
	Labels    []string             `cbor:"8,keyasint,omitempty" json:"labels"`
	Assignees []identity.PublicKey `cbor:"9,keyasint,omitempty" json:"assignees"`
	Created   crdt.Timestamp       `cbor:"10,keyasint" json:"created"`
	Updated   crdt.Timestamp       `cbor:"11,keyasint" json:"updated"`
	Comments  int                  `cbor:"12,keyasint" json:"comments"`
	Revisions int                  `cbor:"13,keyasint,omitempty" json:"revisions,omitempty"`
}

// Summary returns the listing record of o.
func (o *Object) Summary() Summary {
	title, _ := o.Title.Get()
	st := o.CurrentState()
	return Summary{
		Type:      o.Type,
		ID:        o.ID,
		Repo:      o.Repo,
		Title:     title,
		State:     st.State,
		Reason:    st.Reason,
		Author:    o.Author,
		Labels:    o.Labels.Elements(),
		Assignees: o.AssigneeKeys(),
		Created:   o.Created,
		Updated:   o.Updated,
		Comments:  o.CommentCount,
		Revisions: len(o.Revisions),
	}
}

// MatchesLabel reports whether s has label l (case-insensitive).
func (s Summary) MatchesLabel(l string) bool {
	for _, x := range s.Labels {
		if strings.EqualFold(x, l) {
			return true
		}
	}
	return false
}

// ReactionTags returns the add ops that make up author's emoji reaction in
// s: what a reaction.remove names.
func ReactionTags(s *crdt.ORSet[string], author identity.PublicKey, emoji string) []op.ID {
	var out []op.ID
	for _, t := range s.Tags(reactionKey(author, emoji)) {
		out = append(out, op.ID(t))
	}
	return out
}

// Review returns reviewer's verdict register on a revision, or nil.
func (o *Object) Review(reviewer identity.PublicKey, rev op.ID) *ReviewState {
	return o.Reviews[reviewKey(reviewer, rev)]
}

func checkKey(reporter identity.PublicKey, rev op.ID, name string) string {
	return string(reporter[:]) + string(rev[:]) + name
}

// Check returns reporter's status register of a revision under name, or
// nil.
func (o *Object) Check(reporter identity.PublicKey, rev op.ID, name string) *CheckState {
	return o.Checks[checkKey(reporter, rev, name)]
}

// CheckList returns the check registers ordered by revision order, then
// name, then reporter.
func (o *Object) CheckList() []*CheckState {
	pos := o.revisionPositions()
	out := make([]*CheckState, 0, len(o.Checks))
	for _, c := range o.Checks {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *CheckState) int {
		if pa, pb := pos[a.Revision], pos[b.Revision]; pa != pb {
			return pa - pb
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return bytes.Compare(a.Reporter[:], b.Reporter[:])
	})
	return out
}
