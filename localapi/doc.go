// Package localapi is murmur's local API: HTTP and JSON between a node and
// the CLI and TUI of the same user, over a Unix socket in the data
// directory or, for a node in the same process, over an in-memory listener.
// Both paths run the same handlers, so the CLI and the TUI have one code
// path whether a daemon (`murmur serve`) runs or not.
//
// It provides the server side (NewHandler, ListenSocket, Serve, ServeNode),
// the client side (Client, an api.Service), the in-memory listener
// (PipeListener) and Attach, the single entry point of the CLI and the TUI.
// It imports murmur/api and the standard library only; it never imports
// the node, the store or the mesh: it is handed an api.Service.
//
// # Routes
//
// Routes under /v1 are stable: within v1, routes, parameters and JSON
// fields are added, never renamed or removed. Bodies and answers are the
// JSON types of package api unless named otherwise below.
//
//	GET    /v1/status                                 api.Status
//	GET    /v1/identity                               api.Identity
//	POST   /v1/identity                {alias, passphrase (base64)} → 201 api.Identity
//	PUT    /v1/identity/alias          {alias}        → api.Identity
//	GET    /v1/repos                                  → []api.Repo
//	POST   /v1/repos                   api.NewRepo    → 201 api.Repo
//	GET    /v1/repos/{repo}                           → api.Repo
//	PATCH  /v1/repos/{repo}            api.RepoEdit   → api.Repo
//	POST   /v1/repos/{repo}/maintainers {did, add}    → api.Repo
//	GET    /v1/repos/{repo}/refs                      → []api.Ref
//	PUT    /v1/repos/{repo}/refs       {refs: {name: commit}} → []api.Ref
//	POST   /v1/repos/{repo}/refs/push  api.RefPush    → []api.Ref
//	GET    /v1/repos/{repo}/activity?limit=N          → []api.Activity
//	GET    /v1/repos/{repo}/issues?state=&label=&assignee=&author=&limit= → []api.IssueSummary
//	POST   /v1/repos/{repo}/issues     api.NewIssue   → 201 api.Issue
//	GET    /v1/repos/{repo}/issues/{id}               → api.Issue
//	PATCH  /v1/repos/{repo}/issues/{id} api.Edit      → api.Issue
//	GET    /v1/repos/{repo}/patches?state=&label=&assignee=&author=&limit= → []api.PatchSummary
//	POST   /v1/repos/{repo}/patches    api.NewPatch   → 201 api.Patch
//	GET    /v1/repos/{repo}/patches/{id}              → api.Patch
//	PATCH  /v1/repos/{repo}/patches/{id} api.Edit     → api.Patch
//	POST   /v1/repos/{repo}/patches/{id}/revisions api.NewRevision → api.Patch
//	POST   /v1/repos/{repo}/patches/{id}/reviews   api.NewReview   → api.Patch
//	POST   /v1/repos/{repo}/objects/{id}/comments  api.NewComment  → 201 api.Comment
//	PATCH  /v1/repos/{repo}/comments/{id} {body | hidden | resolved} → api.Comment
//	POST   /v1/repos/{repo}/reactions  {target, emoji, remove} → 204
//	POST   /v1/follows                 {repo, peers}  → api.FollowResult
//	DELETE /v1/follows/{repo}                         → api.FollowResult
//	GET    /v1/inbox?all=1&limit=N&repo=R         → []api.InboxItem
//	POST   /v1/inbox/read              api.MarkRead   → api.MarkReadResult
//	POST   /v1/sync                    api.SyncRequest → []api.SyncResult
//	GET    /v1/events                  text/event-stream of api.Event
//
// Path arguments are what a user types (a repo's ID, ID prefix or name; an
// object's ID or prefix), one escaped path segment each (url.PathEscape, so
// "/" travels as %2F). Three encodings keep every string intact: the
// segment "-" is the empty argument (the node's default repo), a literal
// "-" is sent as %2D, and "." and ".." are sent as %2E and %2E%2E. A
// comment edit sets exactly one of body, hidden and resolved (EditComment,
// HideComment, ResolveComment). Query parameters that are empty may be
// left out; unknown or repeated ones are refused.
//
// The event stream is Server-Sent Events: one "data: <JSON api.Event>"
// line and a blank line per event, and a comment line (": heartbeat")
// every 15 s. It ends when the client goes away, the node closes its event
// channel or the server shuts down; a client then subscribes again and
// refreshes (api.Event.Seq shows gaps).
//
// Every answer carries the header "Murmur-Api: 1"; the client refuses
// answers without it.
//
// Writes are not retried by the Client, with one exception made by Attach:
// when the process behind the socket went away, a request that could not
// connect (so was never sent) is retried once on the node Attach reaches
// again, and so is a GET whose connection broke before its answer. A write
// whose connection broke after it was sent fails with an error saying the
// change may or may not have been made.
//
// # Requests
//
// Bodies are JSON, at most 1 MiB (HandlerOptions.MaxBodyBytes), decoded
// strictly: unknown fields, trailing data, malformed JSON and oversize
// bodies are refused with code invalid. Requests carrying an Origin,
// Referer or Sec-Fetch-* header are refused with 403 and code
// browser_origin: only programs of the socket's owner may talk to a node,
// never a web page.
//
// # Errors
//
// A failed request answers with a JSON api.Error ({code, message,
// matches}) and a status derived from its code (StatusFor); the code, not
// the status, is the contract. An error that is not an *api.Error becomes
// code internal with its message. The Client turns these answers back into
// *api.Error values, so api.ErrorCode works the same on both sides.
//
//	not_found        404   (also: no such route)
//	invalid          400   (405 when only the method is wrong)
//	no_repo          400   no repo given and none can be chosen
//	forbidden        403
//	browser_origin   403
//	ambiguous        409   the argument matches several objects; see matches
//	conflict         409
//	no_identity      409   the node has no identity yet
//	identity_locked  423
//	internal         500   and any unknown code
//
// # Socket, locks and Attach
//
// A data directory home holds the socket home/murmur.sock (mode 0600), the
// store lock home/murmur.lock and the daemon lock home/murmur.daemon. The
// process that holds the store lock (an exclusive flock(2), released by the
// kernel if the process dies) owns the node's store and serves the socket;
// no other process serves or opens the store. A socket file that nothing
// answers on is stale and replaced. While a lock is held, its file holds
// the holder's Owner record (pid, command, role), which errors quote.
//
// Attach implements the protocol that lets any number of murmur processes,
// started at the same moment, agree on one node: try the socket; if nothing
// answers and no daemon holds the daemon lock, take the store lock without
// waiting; if a daemon is pending or the lock is held, the holder is
// starting or stopping, so retry with backoff for up to AttachWait (10 s;
// 25 s while a daemon is pending). The lock holder opens the node, listens
// on the socket and serves; the others talk to it.
//
// `murmur serve` uses ServeNode: it takes the daemon lock first, so that
// commands started from then on wait for it, then the store lock, waiting
// up to ServeOptions.Wait for a command holding it to finish; a terminal
// UI (RoleInteractive) is not waited for but named in a *HeldError.
//
// Close of the serving process stops new connections (the socket file is
// removed, and on Linux the listening socket is shut for reading, so a
// connect is refused, never half sent), serves every connection already
// queued, then closes the node and releases the locks, so a process
// arriving meanwhile waits instead of racing for the store.
package localapi
