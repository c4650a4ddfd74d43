// Package api defines the JSON documents of murmur's local API: what the
// node serves, what the CLI prints with --json and what the TUI renders. It
// is a leaf package (standard library only) so that every layer, the TUI
// included, can depend on it without depending on the node.
//
// Field names are part of the CLI's --json output and the local API (v1):
// add fields freely, never rename or remove one within v1.
package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Person is an author, assignee or maintainer.
type Person struct {
	ID    string `json:"id"`    // did:key:z6Mk…
	Alias string `json:"alias"` // may be empty
	Short string `json:"short"` // short display form of the key
}

// Identity is the local user.
type Identity struct {
	Person
	Encrypted bool   `json:"encrypted"`
	KeyFile   string `json:"key_file"`
}

// Conflict is a value that lost a last-writer-wins race to a concurrent
// write; it is kept so the UI can show "also set concurrently by …".
type Conflict struct {
	Value  string    `json:"value"`
	Author Person    `json:"author"`
	At     time.Time `json:"at"`
}

// Repo is a repository.
type Repo struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	DefaultBranch string     `json:"default_branch"`
	Owner         Person     `json:"owner"`
	Maintainers   []Person   `json:"maintainers"`
	Created       time.Time  `json:"created"`
	Updated       time.Time  `json:"updated"`
	OpenIssues    int        `json:"open_issues"`
	OpenPatches   int        `json:"open_patches"`
	Ops           int        `json:"ops"`
	Following     bool       `json:"following"`
	Conflicts     []Conflict `json:"conflicts,omitempty"` // concurrent name/description writes
	// GitDir is the bare git repository that holds the repo's code on
	// the node's machine, empty while the node cannot store code. Local
	// tools read it with git (git-remote-murmur serves a clone from it);
	// only the node writes it.
	GitDir string `json:"git_dir,omitempty"`
	// WhoOpens says who may open issues and patches: anyone, members
	// or maintainers.
	WhoOpens string   `json:"who_can_open,omitempty"`
	Members  []Person `json:"members,omitempty"` // besides the maintainers
	Bans     []Ban    `json:"bans,omitempty"`
}

// Ref is a named pointer to a commit.
type Ref struct {
	Name   string `json:"name"`
	Commit string `json:"commit"`
	// Namespace is the DID of the participant whose ref it is, empty for
	// the repo's canonical refs (set by maintainers).
	Namespace string `json:"namespace"`
	// Objects reports whether this node holds the commit and everything
	// it reaches. False until they are fetched from a peer, and while
	// this node cannot store code (Status.Code says why).
	Objects bool `json:"objects"`
	// MissingReason says why the objects are not here, when they are not.
	MissingReason string     `json:"missing_reason,omitempty"`
	Conflicts     []Conflict `json:"conflicts,omitempty"`
	// Forced reports that the current value was set by a force update:
	// one that is not a fast-forward of the value its author had seen.
	Forced bool `json:"forced,omitempty"`
	// Owner is the participant whose namespace holds the ref (with the
	// alias they published), nil for a canonical ref.
	Owner *Person `json:"owner,omitempty"`
}

// RefPush publishes refs together with their objects: the node copies
// the commits (and all they reach) from the git repository at Dir, an
// absolute path on the node's machine, into its own object store, then
// sets the refs as SetRefs does, so peers can fetch the code.
//
// Refs are full names (refs/heads/main, refs/tags/v1) mapped to commits;
// "" deletes. Namespace says where they go: NamespaceAuto (canonical refs
// for a maintainer, the pusher's own namespace for anyone else),
// NamespaceOwn or NamespaceCanonical (maintainers only). An update that
// is not a fast-forward of the current value is refused with
// CodeConflict unless Force is set; the op then records it as forced.
type RefPush struct {
	Dir       string            `json:"dir"`
	Refs      map[string]string `json:"refs"`
	Force     bool              `json:"force,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
}

// Where RefPush puts refs.
const (
	NamespaceAuto      = ""
	NamespaceOwn       = "own"
	NamespaceCanonical = "canonical"
)

// NamespacePrefix is the ref prefix of a participant's namespace:
// "refs/namespaces/" + NamespaceToken(did) + "/".
const NamespacePrefix = "refs/namespaces/"

// NamespaceToken is the name of a participant's namespace: the DID
// without its "did:key:" prefix (a git ref name cannot hold ':').
func NamespaceToken(did string) string { return strings.TrimPrefix(did, "did:key:") }

// NamespaceRef is the full name of ref (refs/heads/x) in did's namespace.
func NamespaceRef(did, ref string) string {
	return NamespacePrefix + NamespaceToken(did) + "/" + ref
}

// SplitNamespace splits a stored ref name into the namespace token and
// the ref inside it; a canonical ref has token "".
func SplitNamespace(name string) (token, ref string) {
	rest, ok := strings.CutPrefix(name, NamespacePrefix)
	if !ok {
		return "", name
	}
	token, ref, ok = strings.Cut(rest, "/")
	if !ok {
		return "", name
	}
	return token, ref
}

// CodeStatus says whether the node stores and moves code.
type CodeStatus struct {
	Available bool   `json:"available"`
	Git       string `json:"git,omitempty"`    // git's version when available
	Reason    string `json:"reason,omitempty"` // why code is unavailable
	// Fetches counts the fetch sessions this node ran since it started,
	// FetchedBytes what peers sent in them; LastFetch is the latest.
	Fetches      int64      `json:"fetches,omitempty"`
	FetchedBytes int64      `json:"fetched_bytes,omitempty"`
	LastFetch    *CodeFetch `json:"last_fetch,omitempty"`
}

// CodeFetch is one session that fetched a repo's commits from a peer.
type CodeFetch struct {
	Repo     string `json:"repo"`
	Peer     string `json:"peer"`     // the serving peer's DID
	Commits  int    `json:"commits"`  // commits asked for
	Received int64  `json:"received"` // bytes from the peer, pack included
	Sent     int64  `json:"sent"`     // bytes to the peer
	// RoundTrips counts request/response exchanges on the stream, its
	// opening included.
	RoundTrips int     `json:"round_trips"`
	Millis     float64 `json:"ms"`
	Error      string  `json:"error,omitempty"` // why the session failed
}

// Reaction is an emoji and who reacted with it.
type Reaction struct {
	Emoji   string   `json:"emoji"`
	Authors []Person `json:"authors"`
}

// Anchor places a review comment on file lines of a patch revision.
type Anchor struct {
	Revision  string `json:"revision"`        // revision ID
	RevNumber int    `json:"revision_number"` // 1-based
	Commit    string `json:"commit"`
	Path      string `json:"path"`
	Start     int    `json:"start"`
	End       int    `json:"end"`
}

// Comment is a comment on an issue or patch.
type Comment struct {
	ID        string     `json:"id"`
	Author    Person     `json:"author"`
	Body      string     `json:"body"`
	Created   time.Time  `json:"created"`
	Edited    bool       `json:"edited"`
	Edits     int        `json:"edits"`
	ReplyTo   string     `json:"reply_to"` // comment ID, empty for a top-level comment
	Hidden    bool       `json:"hidden"`
	Resolved  bool       `json:"resolved"`
	Anchor    *Anchor    `json:"anchor,omitempty"`
	Reactions []Reaction `json:"reactions"`
	Conflicts []Conflict `json:"conflicts,omitempty"` // concurrent edits
}

// IssueSummary is one row of an issue list.
type IssueSummary struct {
	ID        string    `json:"id"`
	Repo      string    `json:"repo"`
	Title     string    `json:"title"`
	State     string    `json:"state"`            // open | closed
	Reason    string    `json:"reason,omitempty"` // completed | not-planned
	Author    Person    `json:"author"`
	Labels    []string  `json:"labels"`
	Assignees []Person  `json:"assignees"`
	Comments  int       `json:"comments"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Issue is an issue with its timeline.
type Issue struct {
	IssueSummary
	Body      string     `json:"body"`
	Reactions []Reaction `json:"reactions"`
	// Comments shadows IssueSummary.Comments (the count) in JSON: a full
	// issue carries the comments themselves, oldest first.
	Comments  []Comment  `json:"comments"`
	Conflicts []Conflict `json:"conflicts,omitempty"` // concurrent title, body or state writes
	// Locked: only maintainers may comment, react or review.
	Locked bool `json:"locked,omitempty"`
}

// Revision is one revision of a patch.
type Revision struct {
	ID         string    `json:"id"`
	Number     int       `json:"number"` // 1-based
	Commit     string    `json:"commit"`
	BaseCommit string    `json:"base_commit"`
	Note       string    `json:"note"`
	Author     Person    `json:"author"`
	Created    time.Time `json:"created"`
}

// Review is one reviewer's verdict on one revision.
type Review struct {
	Reviewer  Person    `json:"reviewer"`
	Revision  string    `json:"revision"`
	RevNumber int       `json:"revision_number"`
	Verdict   string    `json:"verdict"` // approve | request-changes | comment
	Summary   string    `json:"summary"`
	At        time.Time `json:"at"`
}

// PatchSummary is one row of a patch list.
type PatchSummary struct {
	ID        string    `json:"id"`
	Repo      string    `json:"repo"`
	Title     string    `json:"title"`
	State     string    `json:"state"` // open | draft | closed | merged
	Author    Person    `json:"author"`
	Base      string    `json:"base"`
	Labels    []string  `json:"labels"`
	Assignees []Person  `json:"assignees"`
	Revisions int       `json:"revisions"`
	Comments  int       `json:"comments"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Patch is a patch with revisions, reviews and comments.
type Patch struct {
	PatchSummary
	Description string     `json:"description"`
	Reviewers   []Person   `json:"reviewers"` // requested reviewers
	Revisions   []Revision `json:"revisions"` // shadows the count
	Reviews     []Review   `json:"reviews"`
	Comments    []Comment  `json:"comments"` // shadows the count
	Reactions   []Reaction `json:"reactions"`
	Conflicts   []Conflict `json:"conflicts,omitempty"`
	// Checks are the latest status per (revision, reporter, name),
	// ordered by revision, then name.
	Checks []Check `json:"checks,omitempty"`
	// Locked: only maintainers may comment, react or review.
	Locked bool `json:"locked,omitempty"`
}

// Written is the answer to a write: the ID of the op made and of the
// object it created or changed.
type Written struct {
	Op     string `json:"op"`
	Object string `json:"object,omitempty"`
	Repo   string `json:"repo"`
}

// Event is one entry of the event stream: something changed in a repo.
type Event struct {
	Seq    uint64    `json:"seq"`
	Repo   string    `json:"repo"`
	Op     string    `json:"op"`
	Kind   string    `json:"kind"`
	Object string    `json:"object,omitempty"`
	Author Person    `json:"author"`
	At     time.Time `json:"at"`
	Local  bool      `json:"local"` // made on this node
}

// Activity is one op in a repo's activity feed.
type Activity struct {
	Op       string    `json:"op"`
	Kind     string    `json:"kind"`
	Object   string    `json:"object,omitempty"`
	Author   Person    `json:"author"`
	At       time.Time `json:"at"`
	Accepted bool      `json:"accepted"`
	Reason   string    `json:"reason,omitempty"`
}

// Peer is a connected or known peer.
type Peer struct {
	ID             string    `json:"id"`
	Alias          string    `json:"alias"`
	Addr           string    `json:"addr"`
	Connected      bool      `json:"connected"`
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	LastSync       time.Time `json:"last_sync,omitzero"`
}

// RepoSync is a followed repo's replication state.
type RepoSync struct {
	Repo       string `json:"repo"`
	Name       string `json:"name"`
	Ops        int    `json:"ops"`
	MerkleRoot string `json:"merkle_root"`
	InSync     bool   `json:"in_sync"` // roots equal with every connected peer that follows it
	Peers      int    `json:"peers"`   // connected peers known to follow it; 0: nobody else does
}

// Status is the node's state.
type Status struct {
	Identity   Person     `json:"identity"`
	Home       string     `json:"home"`
	Daemon     bool       `json:"daemon"` // served by `murmur serve`, not embedded
	Online     bool       `json:"online"` // the mesh is running
	Listen     string     `json:"listen,omitempty"`
	Peers      []Peer     `json:"peers"`
	Repos      []RepoSync `json:"repos"`
	PendingIn  int        `json:"pending_in"`
	PendingOut int        `json:"pending_out"`
	Version    string     `json:"version"`
	Code       CodeStatus `json:"code"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Code    string   `json:"code"` // see the Code constants
	Message string   `json:"message"`
	Matches []string `json:"matches,omitempty"` // for ambiguous IDs and repo choices
}

// Error codes.
const (
	CodeNotFound      = "not_found"
	CodeAmbiguous     = "ambiguous"
	CodeInvalid       = "invalid"
	CodeForbidden     = "forbidden"
	CodeNoIdentity    = "no_identity"
	CodeLocked        = "identity_locked"
	CodeConflict      = "conflict"
	CodeInternal      = "internal"
	CodeNoRepo        = "no_repo"
	CodeBrowserOrigin = "browser_origin"
	// CodeOffline: the node runs without networking.
	CodeOffline = "offline"
	// CodeUnavailable: no peer could be reached or none had what was
	// asked for.
	CodeUnavailable = "unavailable"
	// CodeDamaged: a file of the store is missing or damaged; the message
	// names it. 'murmur doctor --repair' is the way out.
	CodeDamaged = "store_damaged"
	// CodeWriteFailed: the disk refused the write (full or failing);
	// nothing was written. Reads still work, and writes resume by
	// themselves once the disk takes them.
	CodeWriteFailed = "write_failed"
)

// Duration is a time.Duration that travels in JSON as a Go duration
// string ("30s", "1m30s"); a JSON number is read as nanoseconds.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration must be a string like \"30s\" or nanoseconds: %s", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// DiffQuery selects what PatchDiff compares. Revision (1-based, 0 for the
// latest) compares that revision's head with its base (the merge base of
// the head and the base commit). From and To, both set, compare the heads
// of two revisions instead. Stat leaves out the hunks.
type DiffQuery struct {
	Revision int  `json:"revision,omitempty"`
	From     int  `json:"from,omitempty"`
	To       int  `json:"to,omitempty"`
	Stat     bool `json:"stat,omitempty"`
}

// Diff is the change a patch revision makes (or the change between two
// revisions), computed by git on the node that holds the objects.
type Diff struct {
	Patch    string     `json:"patch"`    // patch ID
	Revision int        `json:"revision"` // the revision shown (To when comparing two)
	From     int        `json:"from,omitempty"`
	Base     string     `json:"base"` // commit compared from
	Head     string     `json:"head"` // commit compared to
	Files    []DiffFile `json:"files"`
	Added    int        `json:"added"`
	Deleted  int        `json:"deleted"`
	// Truncated reports that the diff was too large to show whole: files
	// past the cut are listed with their counts but without hunks.
	Truncated bool `json:"truncated,omitempty"`
}

// DiffFile is one file of a Diff.
type DiffFile struct {
	Path    string     `json:"path"`
	OldPath string     `json:"old_path,omitempty"` // set for renames and copies
	Status  string     `json:"status"`             // added | modified | deleted | renamed | copied
	Binary  bool       `json:"binary,omitempty"`
	Added   int        `json:"added"`
	Deleted int        `json:"deleted"`
	Hunks   []DiffHunk `json:"hunks,omitempty"`
}

// DiffHunk is one hunk of a file's diff.
type DiffHunk struct {
	Header   string     `json:"header"` // the "@@ -a,b +c,d @@ context" line
	OldStart int        `json:"old_start"`
	OldLines int        `json:"old_lines"`
	NewStart int        `json:"new_start"`
	NewLines int        `json:"new_lines"`
	Lines    []DiffLine `json:"lines"`
}

// DiffLine is one line of a hunk. Old and New are 1-based line numbers in
// the old and new file, 0 where the line does not exist on that side.
type DiffLine struct {
	Kind string `json:"kind"` // " " context, "+" added, "-" deleted
	Old  int    `json:"old,omitempty"`
	New  int    `json:"new,omitempty"`
	Text string `json:"text"`
}

// Check states.
const (
	CheckPending = "pending"
	CheckSuccess = "success"
	CheckFailure = "failure"
)

// NewCheck attaches a status to a patch revision (0: the latest).
type NewCheck struct {
	Revision int    `json:"revision,omitempty"`
	State    string `json:"state"`          // pending | success | failure
	Name     string `json:"name,omitempty"` // the context, e.g. "ci/test"
	URL      string `json:"url,omitempty"`
	Summary  string `json:"summary,omitempty"`
}

// Check is the latest status one reporter gave one revision under one
// name.
type Check struct {
	Revision  string    `json:"revision"`
	RevNumber int       `json:"revision_number"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	URL       string    `json:"url,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Reporter  Person    `json:"reporter"`
	At        time.Time `json:"at"`
}
