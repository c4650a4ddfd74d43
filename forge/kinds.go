package forge

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"murmur/crdt"
	"murmur/identity"
	"murmur/op"
)

// Op kinds. The strings are part of the signed op format and never change.
const (
	KindRepoCreate      = "repo.create"       // genesis; body RepoCreate
	KindRepoName        = "repo.name"         // body Set
	KindRepoDescription = "repo.description"  // body Set
	KindRepoBranch      = "repo.branch"       // default branch; body Set
	KindMaintainerAdd   = "maintainer.add"    // body Member
	KindMaintainerDel   = "maintainer.remove" // body Remove (Value = the DID)
	KindRefSet          = "ref.set"           // body RefSet
	KindProfileAlias    = "profile.alias"     // body Set; the author's own alias

	KindIssueOpen = "issue.open" // body IssueOpen
	KindPatchOpen = "patch.open" // body PatchOpen

	KindTitle       = "title.set"       // target issue|patch; body Set
	KindBody        = "body.set"        // target issue|patch (patch description); body Set
	KindState       = "state.set"       // target issue|patch; body StateSet
	KindLabelAdd    = "label.add"       // target issue|patch; body Label
	KindLabelDel    = "label.remove"    // target issue|patch; body Remove
	KindAssigneeAdd = "assignee.add"    // target issue|patch; body Member
	KindAssigneeDel = "assignee.remove" // target issue|patch; body Remove
	KindRevision    = "patch.revision"  // target patch; body Revision
	KindPatchBase   = "patch.base"      // target patch; body Set

	KindCommentAdd     = "comment.add"     // target issue|patch; body CommentAdd
	KindCommentEdit    = "comment.edit"    // target comment; body Set
	KindCommentHide    = "comment.hide"    // target comment; body SetBool
	KindCommentResolve = "comment.resolve" // target comment; body SetBool
	KindReactionAdd    = "reaction.add"    // target issue|patch|comment; body React
	KindReactionDel    = "reaction.remove" // target issue|patch|comment; body Remove
	KindReview         = "review.submit"   // target patch; body Review
	KindCheck          = "patch.check"     // target patch; body Check
	// Requested reviewers of a patch: its author or a maintainer asks.
	KindReviewerAdd = "reviewer.add"    // target patch; body Member
	KindReviewerDel = "reviewer.remove" // target patch; body Remove
)

// kinds holds every kind above, for InternKind.
var kinds = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		KindRepoCreate, KindRepoName, KindRepoDescription, KindRepoBranch, KindMaintainerAdd,
		KindMaintainerDel, KindRefSet, KindProfileAlias, KindIssueOpen, KindPatchOpen,
		KindTitle, KindBody, KindState, KindLabelAdd, KindLabelDel, KindAssigneeAdd,
		KindAssigneeDel, KindRevision, KindPatchBase, KindCommentAdd, KindCommentEdit,
		KindCommentHide, KindCommentResolve, KindReactionAdd, KindReactionDel, KindReview,
		KindCheck, KindBan, KindMember, KindWhoOpens, KindLock,
		KindReviewerAdd, KindReviewerDel,
	} {
		m[k] = k
	}
	return m
}()

// InternKind returns b as a string, sharing the constant's memory when b
// is a known kind, so that decoding a stored kind does not allocate.
func InternKind(b []byte) string {
	if k, ok := kinds[string(b)]; ok {
		return k
	}
	return string(b)
}

// Field limits, checked when an op is made and when it is applied.
const (
	MaxTitle   = 256
	MaxText    = 32 << 10 // bodies, comments, descriptions, notes
	MaxName    = 128      // repo names, labels, aliases
	MaxRefName = 255
	MaxPath    = 4096
	MaxEmoji   = 32
	MaxPrev    = 64  // register writes named in Prev
	MaxTags    = 256 // add tags named by a remove
	MaxURL     = 2048
)

// Issue and patch states.
const (
	StateOpen   = "open"
	StateClosed = "closed"
	StateDraft  = "draft"
	StateMerged = "merged"
)

// Close reasons of an issue.
const (
	ReasonCompleted  = "completed"
	ReasonNotPlanned = "not-planned"
)

// Review verdicts.
const (
	VerdictApprove        = "approve"
	VerdictRequestChanges = "request-changes"
	VerdictComment        = "comment"
)

// Op bodies. Each is encoded as canonical CBOR with integer keys; the layout
// is part of the signed op format and stable.

// RepoCreate is the body of a repo's genesis op.
type RepoCreate struct {
	Name          string `cbor:"1,keyasint"`
	Description   string `cbor:"2,keyasint,omitempty"`
	DefaultBranch string `cbor:"3,keyasint"`
}

// Set assigns a string register. Prev names the register's heads the author
// saw, which this write supersedes.
type Set struct {
	Value string  `cbor:"1,keyasint,omitempty"`
	Prev  []op.ID `cbor:"2,keyasint,omitempty"`
}

// SetBool assigns a boolean register.
type SetBool struct {
	Value bool    `cbor:"1,keyasint,omitempty"`
	Prev  []op.ID `cbor:"2,keyasint,omitempty"`
}

// StateSet changes an issue's or patch's state.
type StateSet struct {
	State  string  `cbor:"1,keyasint"`
	Reason string  `cbor:"2,keyasint,omitempty"`
	Prev   []op.ID `cbor:"3,keyasint,omitempty"`
}

// Member adds a key to a set (maintainers, assignees).
type Member struct {
	Key identity.PublicKey `cbor:"1,keyasint"`
}

// Label adds a label.
type Label struct {
	Label string `cbor:"1,keyasint"`
}

// Remove removes an element from an add-wins set by naming the add ops the
// author observed. Value names the element (a label, a DID or an emoji);
// the tags decide, except for maintainer.remove, whose Value is the DID
// removed (the owner's is refused).
type Remove struct {
	Value string  `cbor:"1,keyasint"`
	Tags  []op.ID `cbor:"2,keyasint"`
}

// RefSet points a ref at a commit; an empty commit deletes the ref. Name
// is a canonical ref (maintainers) or one in the author's own namespace
// (NamespacePrefix). Force says the author knew the update is not a
// fast-forward of the values named in Prev (or deletes the ref); the
// forge cannot check that (it holds no objects) and only records it.
type RefSet struct {
	Name   string  `cbor:"1,keyasint"`
	Commit string  `cbor:"2,keyasint,omitempty"`
	Prev   []op.ID `cbor:"3,keyasint,omitempty"`
	Force  bool    `cbor:"4,keyasint,omitempty"`
}

// IssueOpen creates an issue.
type IssueOpen struct {
	Title string `cbor:"1,keyasint"`
	Body  string `cbor:"2,keyasint,omitempty"`
}

// PatchOpen creates a patch; its first revision is (Commit, BaseCommit).
type PatchOpen struct {
	Title       string `cbor:"1,keyasint"`
	Description string `cbor:"2,keyasint,omitempty"`
	Base        string `cbor:"3,keyasint"`
	Commit      string `cbor:"4,keyasint"`
	BaseCommit  string `cbor:"5,keyasint,omitempty"`
	Draft       bool   `cbor:"6,keyasint,omitempty"`
}

// Revision adds a revision to a patch.
type Revision struct {
	Commit     string `cbor:"1,keyasint"`
	BaseCommit string `cbor:"2,keyasint,omitempty"`
	Note       string `cbor:"3,keyasint,omitempty"`
}

// Anchor places a review comment on lines of a file in a patch revision.
type Anchor struct {
	Revision op.ID  `cbor:"1,keyasint" json:"revision"`
	Path     string `cbor:"2,keyasint" json:"path"`
	Start    uint32 `cbor:"3,keyasint" json:"start"`
	End      uint32 `cbor:"4,keyasint" json:"end"`
}

// CommentAdd adds a comment to an issue or patch, optionally as a reply and,
// on patches, optionally anchored to file lines.
type CommentAdd struct {
	Body    string  `cbor:"1,keyasint"`
	ReplyTo *op.ID  `cbor:"2,keyasint,omitempty"`
	Anchor  *Anchor `cbor:"3,keyasint,omitempty"`
}

// React adds the author's emoji reaction.
type React struct {
	Emoji string `cbor:"1,keyasint"`
}

// Review records a reviewer's verdict on a patch revision. A reviewer's
// later review of the same revision supersedes the ones named in Prev.
type Review struct {
	Revision op.ID   `cbor:"1,keyasint"`
	Verdict  string  `cbor:"2,keyasint"`
	Summary  string  `cbor:"3,keyasint,omitempty"`
	Prev     []op.ID `cbor:"4,keyasint,omitempty"`
}

// Check states.
const (
	CheckPending = "pending"
	CheckSuccess = "success"
	CheckFailure = "failure"
)

// Check reports the status of a patch revision under a name (the context,
// such as "ci/test"; empty for the default one). Anyone may report; the
// latest report per (revision, reporter, name) wins, superseding the
// reports named in Prev.
type Check struct {
	Revision op.ID   `cbor:"1,keyasint"`
	State    string  `cbor:"2,keyasint"`
	Name     string  `cbor:"3,keyasint,omitempty"`
	URL      string  `cbor:"4,keyasint,omitempty"`
	Summary  string  `cbor:"5,keyasint,omitempty"`
	Prev     []op.ID `cbor:"6,keyasint,omitempty"`
}

// Action is what a user asks for: the kind, target and body of an op. The
// node adds the repo, parents and clock and signs it.
type Action struct {
	Kind   string
	Target op.ID
	Body   []byte
}

// Unsigned completes the action into an op for repo with the given parents
// and clock.
func (a Action) Unsigned(repo op.ID, parents []op.ID, clock crdt.Timestamp) op.Unsigned {
	return op.Unsigned{Repo: repo, Parents: parents, Clock: clock, Kind: a.Kind, Target: a.Target, Body: a.Body}
}

// NewAction validates body for kind and encodes it.
func NewAction(kind string, target op.ID, body any) (Action, error) {
	b, err := op.EncodeBody(body)
	if err != nil {
		return Action{}, err
	}
	if err := validateBody(kind, body); err != nil {
		return Action{}, err
	}
	return Action{Kind: kind, Target: target, Body: b}, nil
}

// ValidationError says which field of a body is wrong, in words a user can
// act on.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + " " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func checkText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid(field, "must not be empty")
	}
	if len(s) > max {
		return invalid(field, "is %d bytes; the limit is %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	return nil
}

// checkToken checks names such as labels and branch names: no whitespace
// at the ends, no control characters.
func checkToken(field, s string, max int) error {
	if err := checkText(field, s, max, true); err != nil {
		return err
	}
	if strings.TrimSpace(s) != s {
		return invalid(field, "%q has leading or trailing spaces", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "%q contains a control character", s)
		}
	}
	return nil
}

// IsCommit reports whether s is a full git commit hash: 40 (SHA-1) or 64
// (SHA-256) lowercase hex digits.
func IsCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkCommit(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if !IsCommit(s) {
		return invalid(field, "%q is not a full commit hash (40 or 64 lowercase hex digits)", s)
	}
	return nil
}

func checkRefName(s string) error {
	if err := checkToken("ref name", s, MaxRefName); err != nil {
		return err
	}
	if strings.ContainsAny(s, " ~^:?*[\\") || strings.Contains(s, "..") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.HasSuffix(s, ".lock") {
		return invalid("ref name", "%q is not a valid git ref name", s)
	}
	return nil
}

func checkPrev(p []op.ID) error {
	if len(p) > MaxPrev {
		return invalid("prev", "names %d writes; the limit is %d", len(p), MaxPrev)
	}
	return nil
}

func checkTags(t []op.ID) error {
	if len(t) > MaxTags {
		return invalid("tags", "names %d adds; the limit is %d", len(t), MaxTags)
	}
	return nil
}

// newBody returns a pointer to the zero body of kind, or nil for an unknown
// kind.
func newBody(kind string) any {
	switch kind {
	case KindRepoCreate:
		return new(RepoCreate)
	case KindRepoName, KindRepoDescription, KindRepoBranch, KindProfileAlias, KindTitle, KindBody, KindPatchBase, KindCommentEdit, KindWhoOpens:
		return new(Set)
	case KindBan, KindMember:
		return new(Standing)
	case KindCommentHide, KindCommentResolve, KindLock:
		return new(SetBool)
	case KindState:
		return new(StateSet)
	case KindMaintainerAdd, KindAssigneeAdd, KindReviewerAdd:
		return new(Member)
	case KindMaintainerDel, KindAssigneeDel, KindLabelDel, KindReactionDel, KindReviewerDel:
		return new(Remove)
	case KindLabelAdd:
		return new(Label)
	case KindRefSet:
		return new(RefSet)
	case KindIssueOpen:
		return new(IssueOpen)
	case KindPatchOpen:
		return new(PatchOpen)
	case KindRevision:
		return new(Revision)
	case KindCommentAdd:
		return new(CommentAdd)
	case KindReactionAdd:
		return new(React)
	case KindReview:
		return new(Review)
	case KindCheck:
		return new(Check)
	}
	return nil
}

// decodeBody decodes and validates the body of o.
// The result is memoized on o and shared: callers must not modify it.
func decodeBody(o *op.Op) (any, error) { return o.Memo(decodeBodyOnce) }

func decodeBodyOnce(o *op.Op) (any, error) {
	v := newBody(o.Kind)
	if v == nil {
		return nil, fmt.Errorf("unknown kind %q", o.Kind)
	}
	if err := op.DecodeBody(o.Body, v); err != nil {
		return nil, err
	}
	if err := validateBody(o.Kind, v); err != nil {
		return nil, err
	}
	return v, nil
}

// validateBody checks the fields of a body (pointer or value) for kind.
func validateBody(kind string, v any) error {
	switch b := deref(v).(type) {
	case RepoCreate:
		if kind != KindRepoCreate {
			break
		}
		if err := checkToken("name", b.Name, MaxName); err != nil {
			return err
		}
		if err := checkText("description", b.Description, MaxText, false); err != nil {
			return err
		}
		return checkRefName(b.DefaultBranch)
	case Set:
		if err := checkPrev(b.Prev); err != nil {
			return err
		}
		switch kind {
		case KindRepoName:
			return checkToken("name", b.Value, MaxName)
		case KindRepoDescription:
			return checkText("description", b.Value, MaxText, false)
		case KindRepoBranch, KindPatchBase:
			return checkRefName(b.Value)
		case KindProfileAlias:
			return checkToken("alias", b.Value, MaxName)
		case KindTitle:
			return checkToken("title", b.Value, MaxTitle)
		case KindBody:
			return checkText("body", b.Value, MaxText, false)
		case KindCommentEdit:
			return checkText("comment", b.Value, MaxText, true)
		case KindWhoOpens:
			return validateWhoOpens(b.Value)
		}
	case SetBool:
		return checkPrev(b.Prev)
	case StateSet:
		if err := checkPrev(b.Prev); err != nil {
			return err
		}
		switch b.State {
		case StateOpen, StateDraft, StateMerged:
			if b.Reason != "" {
				return invalid("reason", "is only allowed when closing")
			}
		case StateClosed:
			if b.Reason != "" && b.Reason != ReasonCompleted && b.Reason != ReasonNotPlanned {
				return invalid("reason", "%q must be %q or %q", b.Reason, ReasonCompleted, ReasonNotPlanned)
			}
		default:
			return invalid("state", "%q must be one of open, closed, draft, merged", b.State)
		}
	case Member:
		return nil
	case Label:
		return checkToken("label", b.Label, MaxName)
	case Remove:
		if len(b.Value) > MaxText {
			return invalid("value", "is too long")
		}
		return checkTags(b.Tags)
	case RefSet:
		if err := checkRefSetName(b.Name); err != nil {
			return err
		}
		if err := checkPrev(b.Prev); err != nil {
			return err
		}
		return checkCommit("commit", b.Commit, false)
	case IssueOpen:
		if err := checkToken("title", b.Title, MaxTitle); err != nil {
			return err
		}
		return checkText("body", b.Body, MaxText, false)
	case PatchOpen:
		if err := checkToken("title", b.Title, MaxTitle); err != nil {
			return err
		}
		if err := checkText("description", b.Description, MaxText, false); err != nil {
			return err
		}
		if err := checkRefName(b.Base); err != nil {
			return err
		}
		if err := checkCommit("commit", b.Commit, true); err != nil {
			return err
		}
		return checkCommit("base commit", b.BaseCommit, false)
	case Revision:
		if err := checkCommit("commit", b.Commit, true); err != nil {
			return err
		}
		if err := checkCommit("base commit", b.BaseCommit, false); err != nil {
			return err
		}
		return checkText("note", b.Note, MaxText, false)
	case CommentAdd:
		if err := checkText("comment", b.Body, MaxText, true); err != nil {
			return err
		}
		if a := b.Anchor; a != nil {
			if err := checkToken("path", a.Path, MaxPath); err != nil {
				return err
			}
			if a.Start == 0 || a.End < a.Start {
				return invalid("line range", "%d-%d must be 1-based with start ≤ end", a.Start, a.End)
			}
		}
	case React:
		return checkToken("emoji", b.Emoji, MaxEmoji)
	case Review:
		switch b.Verdict {
		case VerdictApprove, VerdictRequestChanges, VerdictComment:
		default:
			return invalid("verdict", "%q must be approve, request-changes or comment", b.Verdict)
		}
		if err := checkPrev(b.Prev); err != nil {
			return err
		}
		return checkText("summary", b.Summary, MaxText, false)
	case Check:
		return checkCheck(b)
	case Standing:
		return validateStanding(kind, b)
	default:
		return fmt.Errorf("forge: no validation for body %T", v)
	}
	return nil
}

func deref(v any) any {
	switch b := v.(type) {
	case *RepoCreate:
		return *b
	case *Set:
		return *b
	case *SetBool:
		return *b
	case *StateSet:
		return *b
	case *Member:
		return *b
	case *Label:
		return *b
	case *Remove:
		return *b
	case *RefSet:
		return *b
	case *IssueOpen:
		return *b
	case *PatchOpen:
		return *b
	case *Revision:
		return *b
	case *CommentAdd:
		return *b
	case *React:
		return *b
	case *Review:
		return *b
	case *Check:
		return *b
	case *Standing:
		return *b
	}
	return v
}

func checkCheck(b Check) error {
	switch b.State {
	case CheckPending, CheckSuccess, CheckFailure:
	default:
		return invalid("state", "%q must be pending, success or failure", b.State)
	}
	if b.Revision.IsZero() {
		return invalid("revision", "must name a revision")
	}
	if b.Name != "" {
		if err := checkToken("name", b.Name, MaxName); err != nil {
			return err
		}
	}
	if b.URL != "" {
		if err := checkToken("url", b.URL, MaxURL); err != nil {
			return err
		}
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("url", "%q must be an http or https URL", b.URL)
		}
	}
	if err := checkPrev(b.Prev); err != nil {
		return err
	}
	return checkText("summary", b.Summary, MaxText, false)
}
