package api

import (
	"context"
	"errors"
	"fmt"
)

// Service is everything a user can ask of a node. The node implements it;
// the local API client implements it over HTTP, so the CLI and the TUI are
// written once against this interface and work the same with a daemon or an
// embedded node.
//
// Repo and object arguments accept what a user types: a repo's ID, a unique
// ID prefix of at least 4 hex digits, or its name; an issue, patch or
// comment by ID or unique prefix. Errors are *Error values (test with
// ErrorCode).
type Service interface {
	Status(ctx context.Context) (Status, error)
	Identity(ctx context.Context) (Identity, error)
	// InitIdentity creates the local identity (and sets the alias). It
	// fails with CodeConflict when one exists; SetAlias changes the alias.
	InitIdentity(ctx context.Context, alias string, passphrase []byte) (Identity, error)
	SetAlias(ctx context.Context, alias string) (Identity, error)

	CreateRepo(ctx context.Context, r NewRepo) (Repo, error)
	Repos(ctx context.Context) ([]Repo, error)
	Repo(ctx context.Context, repo string) (Repo, error)
	EditRepo(ctx context.Context, repo string, e RepoEdit) (Repo, error)
	SetMaintainer(ctx context.Context, repo, did string, add bool) (Repo, error)
	// SetStanding bans or unbans an identity, or adds or removes a
	// member (maintainers).
	SetStanding(ctx context.Context, repo string, s Standing) (Repo, error)
	Refs(ctx context.Context, repo string) ([]Ref, error)
	// SetRefs points each named ref at its commit ("" deletes); refs whose
	// value is already current are left alone. It returns the refs after.
	SetRefs(ctx context.Context, repo string, refs map[string]string) ([]Ref, error)
	// PushRefs is SetRefs after copying the commits from the working
	// copy p.Dir into the node's object store. It fails with
	// CodeUnavailable when the node cannot store code.
	PushRefs(ctx context.Context, repo string, p RefPush) ([]Ref, error)
	Activity(ctx context.Context, repo string, limit int) ([]Activity, error)

	Issues(ctx context.Context, repo string, f ListFilter) ([]IssueSummary, error)
	Issue(ctx context.Context, repo, id string) (Issue, error)
	CreateIssue(ctx context.Context, repo string, n NewIssue) (Issue, error)
	EditIssue(ctx context.Context, repo, id string, e Edit) (Issue, error)

	Patches(ctx context.Context, repo string, f ListFilter) ([]PatchSummary, error)
	Patch(ctx context.Context, repo, id string) (Patch, error)
	CreatePatch(ctx context.Context, repo string, n NewPatch) (Patch, error)
	EditPatch(ctx context.Context, repo, id string, e Edit) (Patch, error)
	AddRevision(ctx context.Context, repo, id string, r NewRevision) (Patch, error)
	Review(ctx context.Context, repo, id string, r NewReview) (Patch, error)
	// PatchDiff is the change a patch revision makes, or the change
	// between two revisions. It fails with CodeUnavailable while the
	// node lacks the revision's objects.
	PatchDiff(ctx context.Context, repo, id string, q DiffQuery) (Diff, error)
	// AddCheck attaches a status to a patch revision.
	AddCheck(ctx context.Context, repo, id string, c NewCheck) (Patch, error)

	// Comment adds a comment to an issue or patch (id names either).
	Comment(ctx context.Context, repo, id string, c NewComment) (Comment, error)
	// EditComment changes the body of one's own comment.
	EditComment(ctx context.Context, repo, commentID, body string) (Comment, error)
	// HideComment hides or shows a comment (maintainers), ResolveComment
	// marks a review thread resolved.
	HideComment(ctx context.Context, repo, commentID string, hidden bool) (Comment, error)
	ResolveComment(ctx context.Context, repo, commentID string, resolved bool) (Comment, error)
	// React adds (or with remove, withdraws) the user's reaction to an
	// issue, a patch or a comment.
	React(ctx context.Context, repo, targetID, emoji string, remove bool) error

	// Search finds issues and patches by the words of their titles,
	// bodies and comments (see SearchQuery). A query without words, or
	// with an unknown is: value, fails with CodeInvalid.
	Search(ctx context.Context, q SearchQuery) ([]SearchResult, error)

	// Inbox lists what changed for the user across followed repos, newest
	// first; MarkRead marks items read. Read markers are local.
	Inbox(ctx context.Context, q InboxQuery) ([]InboxItem, error)
	MarkRead(ctx context.Context, r MarkRead) (MarkReadResult, error)

	// Events streams changes until ctx ends. The channel is closed then.
	Events(ctx context.Context) (<-chan Event, error)

	// Follow starts replicating the repo with the given full ID (64 hex
	// digits), the way one clones. With peers ("host:port"), it joins
	// them and syncs the repo from them now, waiting until the repo's
	// genesis op has arrived (or ctx ends); the follow is recorded even
	// when that fails. Following a repo already followed syncs it again.
	Follow(ctx context.Context, repo string, peers []string) (FollowResult, error)
	// Unfollow stops replicating a repo; its ops stay in the store.
	Unfollow(ctx context.Context, repo string) (FollowResult, error)
	// Sync joins peers (the given ones, else the configured and known
	// ones) and reconciles every followed repo with every reachable peer
	// that follows it, once. It needs a node with networking (a daemon,
	// or a node started for `murmur sync`); an offline node answers
	// CodeOffline.
	Sync(ctx context.Context, req SyncRequest) ([]SyncResult, error)
}

// FollowResult is the answer to Follow and Unfollow.
type FollowResult struct {
	Repo      string `json:"repo"` // full ID
	Name      string `json:"name"` // "" until the genesis op is here
	Following bool   `json:"following"`
	// Ops counts the repo's ops stored here.
	Ops int `json:"ops"`
	// Peers counts the peers the repo was synced with by this call.
	Peers int `json:"peers"`
	// Received counts ops received by this call.
	Received int `json:"received"`
}

// SyncRequest asks for one round of anti-entropy.
type SyncRequest struct {
	// Peers are "host:port" addresses to join first; empty: the node's
	// configured peers and its address book.
	Peers []string `json:"peers,omitempty"`
	// Timeout bounds the whole round (joining included); 0: 30 seconds.
	Timeout Duration `json:"timeout,omitempty"`
}

// SyncResult is what a sync round did for one followed repo.
type SyncResult struct {
	Repo     string `json:"repo"`
	Name     string `json:"name"`
	Sent     int    `json:"sent"`     // ops sent to peers
	Received int    `json:"received"` // ops received from peers
	// Peers counts the peers the repo was reconciled with (or found
	// already in sync).
	Peers  int  `json:"peers"`
	InSync bool `json:"in_sync"` // reconciled with at least one peer
	// Err says why the repo was not reconciled with any peer.
	Err string `json:"error,omitempty"`
}

// NewRepo creates a repo.
type NewRepo struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	DefaultBranch string `json:"default_branch"` // "main" when empty
}

// RepoEdit changes repo metadata; nil fields stay.
type RepoEdit struct {
	Name          *string `json:"name,omitempty"`
	Description   *string `json:"description,omitempty"`
	DefaultBranch *string `json:"default_branch,omitempty"`
	WhoOpens      *string `json:"who_can_open,omitempty"` // anyone | members | maintainers
}

// ListFilter selects issues or patches. Empty fields match everything.
type ListFilter struct {
	State    string `json:"state"`    // open (default) | closed | draft | merged | all
	Label    string `json:"label"`    // has this label
	Assignee string `json:"assignee"` // DID or alias
	Author   string `json:"author"`   // DID or alias
	Limit    int    `json:"limit"`    // 0: no limit
}

// NewIssue creates an issue.
type NewIssue struct {
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Labels    []string `json:"labels"`
	Assignees []string `json:"assignees"` // DIDs
}

// Edit changes an issue or patch; nil and empty fields stay.
type Edit struct {
	Title           *string  `json:"title,omitempty"`
	Body            *string  `json:"body,omitempty"` // patch: description
	AddLabels       []string `json:"add_labels,omitempty"`
	RemoveLabels    []string `json:"remove_labels,omitempty"`
	AddAssignees    []string `json:"add_assignees,omitempty"`
	RemoveAssignees []string `json:"remove_assignees,omitempty"`
	// Requested reviewers of a patch (its author or a maintainer).
	AddReviewers    []string `json:"add_reviewers,omitempty"`
	RemoveReviewers []string `json:"remove_reviewers,omitempty"`
	// State: issue open | closed; patch open | draft | closed | merged.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"` // issue close: completed | not-planned
	// Comment, when set, is added along with the edit (close with comment).
	Comment string `json:"comment,omitempty"`
	Base    string `json:"base,omitempty"` // patch base ref
	// Locked locks (true) or unlocks the thread (maintainers).
	Locked *bool `json:"locked,omitempty"`
}

// NewPatch opens a patch.
type NewPatch struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Base        string   `json:"base"`
	Commit      string   `json:"commit"`
	BaseCommit  string   `json:"base_commit"`
	Draft       bool     `json:"draft"`
	Labels      []string `json:"labels"`
}

// NewRevision adds a revision to a patch.
type NewRevision struct {
	Commit     string `json:"commit"`
	BaseCommit string `json:"base_commit"`
	Note       string `json:"note"`
}

// NewReview records a verdict on a patch revision, optionally with an
// inline comment on file lines.
type NewReview struct {
	Verdict  string `json:"verdict"`  // approve | request-changes | comment
	Summary  string `json:"summary"`  // review text
	Revision int    `json:"revision"` // 1-based; 0 = latest
	Path     string `json:"path,omitempty"`
	Start    int    `json:"start,omitempty"`
	End      int    `json:"end,omitempty"`
	// Comment is the inline comment's text (Path set); Summary is used
	// when empty.
	Comment string `json:"comment,omitempty"`
}

// NewComment adds a comment.
type NewComment struct {
	Body    string `json:"body"`
	ReplyTo string `json:"reply_to,omitempty"` // comment ID or prefix
	// Path, Start and End (Start when 0) anchor a comment on a patch to
	// lines of a file in revision Revision (1-based; 0: the latest). The
	// node checks them against the revision's tree.
	Path     string `json:"path,omitempty"`
	Start    int    `json:"start,omitempty"`
	End      int    `json:"end,omitempty"`
	Revision int    `json:"revision,omitempty"`
}

// Error is returned by every Service method that fails for a reason a user
// can act on.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
