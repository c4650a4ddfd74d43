package api

import "time"

// InboxQuery selects inbox items.
type InboxQuery struct {
	// All includes items already read; by default only unread ones.
	All bool `json:"all,omitempty"`
	// Limit bounds the items returned; 0 or less: all of them.
	Limit int `json:"limit,omitempty"`
	// Repo keeps the items of one repo (ID, prefix or name); "": every
	// followed repo.
	Repo string `json:"repo,omitempty"`
}

// Inbox reasons: why an item is in the user's inbox. The first that fits
// is the item's reason.
const (
	ReasonReviewRequested = "review_requested" // the user was asked to review a patch
	ReasonMention         = "mention"          // the text names the user's alias or key
	ReasonReply           = "reply"            // a reply to the user's comment
	ReasonReview          = "review"           // a verdict on the user's patch
	ReasonStateChange     = "state_change"     // what the user opened or commented on was closed, reopened, merged
	ReasonAuthor          = "author"           // a comment on what the user opened
	ReasonComment         = "comment"          // a comment where the user commented
	ReasonNew             = "new"              // a new issue or patch in a followed repo
	ReasonSubscribed      = "subscribed"       // a comment elsewhere in a followed repo
)

// InboxItem is one op the user may want to hear about, newest first.
type InboxItem struct {
	ID       string    `json:"id"`   // the op's full ID
	Repo     string    `json:"repo"` // full repo ID
	RepoName string    `json:"repo_name"`
	Object   string    `json:"object"` // the or patch's full ID
	Type     string    `json:"type"`   // "issue" or "patch"
	Title    string    `json:"title"`
	Kind     string    `json:"kind"` // the op's kind
	Reason   string    `json:"reason"`
	Actor    Person    `json:"actor"`
	At       time.Time `json:"at"`
	Unread   bool      `json:"unread"`
	// State is the new state of a state change; Verdict a review's.
	State   string `json:"state,omitempty"`
	Verdict string `json:"verdict,omitempty"`
}

// MarkRead names inbox items to mark read: by object ID (or a unique
// prefix of at least 4 hex digits), or all of them.
type MarkRead struct {
	Objects []string `json:"objects,omitempty"`
	All     bool     `json:"all,omitempty"`
}

// MarkReadResult says what MarkRead marked.
type MarkReadResult struct {
	Objects []string `json:"objects"` // full IDs of the objects marked read
	Unread  int      `json:"unread"`  // unread items left, at most InboxUnreadCap
}

// InboxUnreadCap bounds the unread count MarkRead reports, so that
// counting stays cheap; UIs show it as "99+".
const InboxUnreadCap = 100

// EventInboxRead is the Kind of the event published when items were
// marked read; it names no repo or op.
const EventInboxRead = "inbox.read"
