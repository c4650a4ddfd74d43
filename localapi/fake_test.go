package localapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"murmur/api"
)

// fakeService is a small in-memory api.Service for testing the transport:
// every answer is computed from the arguments, every call is recorded, and
// some argument values trigger errors (see errorFor). The real node is
// tested in its own package.
type fakeService struct {
	name string // reported as Status.Home, to tell fakes apart

	// mu guards calls and subs.
	mu    sync.Mutex
	calls []call
	subs  map[chan api.Event]struct{}
	// subscribed is signalled (without blocking) on every Events call.
	subscribed chan struct{}
}

type call struct {
	Method string
	Args   []any
}

func newFake(name string) *fakeService {
	return &fakeService{
		name:       name,
		subs:       map[chan api.Event]struct{}{},
		subscribed: make(chan struct{}, 16),
	}
}

var _ api.Service = (*fakeService)(nil)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func (f *fakeService) record(method string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Method: method, Args: args})
}

func (f *fakeService) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// errorFor returns the error an argument asks for, or nil.
func errorFor(args ...string) error {
	for _, s := range args {
		switch s {
		case "missing":
			return api.Errorf(api.CodeNotFound, "no such thing %q", s)
		case "ambig":
			e := api.Errorf(api.CodeAmbiguous, "%q matches 2; use more digits", s)
			e.Matches = []string{"ambig1", "ambig2"}
			return e
		case "bad":
			return api.Errorf(api.CodeInvalid, "bad input")
		case "nope":
			return api.Errorf(api.CodeForbidden, "not a maintainer")
		case "noid":
			return api.Errorf(api.CodeNoIdentity, "create an identity first")
		case "locked":
			return api.Errorf(api.CodeLocked, "identity key is locked")
		case "clash":
			return api.Errorf(api.CodeConflict, "already exists")
		case "norepo":
			return api.Errorf(api.CodeNoRepo, "pick one with -R")
		case "wrapped":
			return fmt.Errorf("node: resolve: %w", api.Errorf(api.CodeNotFound, "wrapped not found"))
		case "offline":
			return api.Errorf(api.CodeOffline, "this node runs without networking")
		case "unreachable":
			return api.Errorf(api.CodeUnavailable, "no peer answered")
		case "boom":
			return errors.New("disk on fire")
		case "panic":
			panic("fake panics")
		}
	}
	return nil
}

func person(id string) api.Person {
	return api.Person{ID: "did:key:z6Mk" + id, Alias: id, Short: id}
}

func (f *fakeService) Status(ctx context.Context) (api.Status, error) {
	f.record("Status")
	return api.Status{
		Identity: person("alice"),
		Home:     f.name,
		Online:   true,
		Peers:    []api.Peer{{ID: "peer1", Addr: "127.0.0.1:1", Connected: true, ConnectedSince: t0}},
		Repos:    []api.RepoSync{{Repo: "r1", Name: "one", Ops: 3, MerkleRoot: "abcd", InSync: true}},
		Version:  "test",
	}, nil
}

func (f *fakeService) Identity(ctx context.Context) (api.Identity, error) {
	f.record("Identity")
	return api.Identity{Person: person("alice"), KeyFile: "/k"}, nil
}

func (f *fakeService) InitIdentity(ctx context.Context, alias string, passphrase []byte) (api.Identity, error) {
	f.record("InitIdentity", alias, string(passphrase))
	if err := errorFor(alias); err != nil {
		return api.Identity{}, err
	}
	return api.Identity{Person: person(alias), Encrypted: len(passphrase) > 0}, nil
}

func (f *fakeService) SetAlias(ctx context.Context, alias string) (api.Identity, error) {
	f.record("SetAlias", alias)
	if err := errorFor(alias); err != nil {
		return api.Identity{}, err
	}
	return api.Identity{Person: person(alias)}, nil
}

func repoOf(id string) api.Repo {
	return api.Repo{
		ID: "id-" + id, Name: id, Owner: person("alice"),
		Maintainers: []api.Person{person("alice")}, Created: t0, Updated: t0.Add(time.Hour),
		Conflicts: []api.Conflict{{Value: "other", Author: person("bob"), At: t0}},
	}
}

func (f *fakeService) CreateRepo(ctx context.Context, r api.NewRepo) (api.Repo, error) {
	f.record("CreateRepo", r)
	if err := errorFor(r.Name); err != nil {
		return api.Repo{}, err
	}
	out := repoOf(r.Name)
	out.Description, out.DefaultBranch = r.Description, r.DefaultBranch
	return out, nil
}

func (f *fakeService) Repos(ctx context.Context) ([]api.Repo, error) {
	f.record("Repos")
	return []api.Repo{repoOf("one"), repoOf("two")}, nil
}

func (f *fakeService) Repo(ctx context.Context, repo string) (api.Repo, error) {
	f.record("Repo", repo)
	if err := errorFor(repo); err != nil {
		return api.Repo{}, err
	}
	return repoOf(repo), nil
}

func (f *fakeService) EditRepo(ctx context.Context, repo string, e api.RepoEdit) (api.Repo, error) {
	f.record("EditRepo", repo, e)
	if err := errorFor(repo); err != nil {
		return api.Repo{}, err
	}
	out := repoOf(repo)
	if e.Description != nil {
		out.Description = *e.Description
	}
	return out, nil
}

func (f *fakeService) SetStanding(ctx context.Context, repo string, st api.Standing) (api.Repo, error) {
	f.record("SetStanding", repo, st)
	if err := errorFor(repo, st.Identity); err != nil {
		return api.Repo{}, err
	}
	out := repoOf(repo)
	if st.Kind == api.StandingBan && st.On {
		out.Bans = append(out.Bans, api.Ban{Person: api.Person{ID: st.Identity}, Reason: st.Reason})
	}
	return out, nil
}

func (f *fakeService) SetMaintainer(ctx context.Context, repo, did string, add bool) (api.Repo, error) {
	f.record("SetMaintainer", repo, did, add)
	if err := errorFor(repo, did); err != nil {
		return api.Repo{}, err
	}
	out := repoOf(repo)
	if add {
		out.Maintainers = append(out.Maintainers, api.Person{ID: did})
	}
	return out, nil
}

func (f *fakeService) Refs(ctx context.Context, repo string) ([]api.Ref, error) {
	f.record("Refs", repo)
	if err := errorFor(repo); err != nil {
		return nil, err
	}
	return []api.Ref{{Name: "refs/heads/main", Commit: repo}}, nil
}

func (f *fakeService) SetRefs(ctx context.Context, repo string, refs map[string]string) ([]api.Ref, error) {
	f.record("SetRefs", repo, refs)
	if err := errorFor(repo); err != nil {
		return nil, err
	}
	var out []api.Ref
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		if refs[name] != "" {
			out = append(out, api.Ref{Name: name, Commit: refs[name]})
		}
	}
	return out, nil
}

func (f *fakeService) PushRefs(ctx context.Context, repo string, p api.RefPush) ([]api.Ref, error) {
	f.record("PushRefs", repo, p)
	if err := errorFor(repo); err != nil {
		return nil, err
	}
	var out []api.Ref
	for _, name := range slices.Sorted(maps.Keys(p.Refs)) {
		out = append(out, api.Ref{Name: name, Commit: p.Refs[name], Objects: true})
	}
	return out, nil
}

func (f *fakeService) Activity(ctx context.Context, repo string, limit int) ([]api.Activity, error) {
	f.record("Activity", repo, limit)
	if err := errorFor(repo); err != nil {
		return nil, err
	}
	return []api.Activity{{Op: "op1", Kind: "issue.open", Object: repo, Author: person("bob"), At: t0, Accepted: limit%2 == 0, Reason: fmt.Sprint(limit)}}, nil
}

func (f *fakeService) Issues(ctx context.Context, repo string, fl api.ListFilter) ([]api.IssueSummary, error) {
	f.record("Issues", repo, fl)
	if err := errorFor(repo, fl.State, fl.Label); err != nil {
		return nil, err
	}
	return []api.IssueSummary{{ID: "i1", Repo: repo, Title: fl.State + "|" + fl.Label + "|" + fl.Assignee + "|" + fl.Author,
		State: "open", Labels: []string{fl.Label}, Comments: fl.Limit, Created: t0, Updated: t0}}, nil
}

func issueOf(repo, id string) api.Issue {
	return api.Issue{
		IssueSummary: api.IssueSummary{ID: id, Repo: repo, Title: "t", State: "open", Author: person("bob"), Created: t0, Updated: t0},
		Body:         "body",
		Reactions:    []api.Reaction{{Emoji: "+1", Authors: []api.Person{person("carol")}}},
		Comments:     []api.Comment{{ID: "c1", Author: person("bob"), Body: "hi", Created: t0, Reactions: []api.Reaction{}}},
	}
}

func (f *fakeService) Issue(ctx context.Context, repo, id string) (api.Issue, error) {
	f.record("Issue", repo, id)
	if err := errorFor(repo, id); err != nil {
		return api.Issue{}, err
	}
	return issueOf(repo, id), nil
}

func (f *fakeService) CreateIssue(ctx context.Context, repo string, n api.NewIssue) (api.Issue, error) {
	f.record("CreateIssue", repo, n)
	if err := errorFor(repo, n.Title); err != nil {
		return api.Issue{}, err
	}
	out := issueOf(repo, "new")
	out.Title, out.Body, out.Labels = n.Title, n.Body, n.Labels
	return out, nil
}

func (f *fakeService) EditIssue(ctx context.Context, repo, id string, e api.Edit) (api.Issue, error) {
	f.record("EditIssue", repo, id, e)
	if err := errorFor(repo, id); err != nil {
		return api.Issue{}, err
	}
	out := issueOf(repo, id)
	out.State, out.Reason = e.State, e.Reason
	return out, nil
}

func patchOf(repo, id string) api.Patch {
	return api.Patch{
		PatchSummary: api.PatchSummary{ID: id, Repo: repo, Title: "p", State: "open", Base: "main", Created: t0, Updated: t0},
		Description:  "desc",
		Revisions:    []api.Revision{{ID: "rev1", Number: 1, Commit: "c0ffee", Created: t0}},
		Reviews:      []api.Review{{Reviewer: person("carol"), Revision: "rev1", RevNumber: 1, Verdict: "approve", At: t0}},
		Comments: []api.Comment{{ID: "c2", Body: "nit", Created: t0,
			Anchor: &api.Anchor{Revision: "rev1", RevNumber: 1, Commit: "c0ffee", Path: "a.go", Start: 1, End: 2}}},
	}
}

func (f *fakeService) Patches(ctx context.Context, repo string, fl api.ListFilter) ([]api.PatchSummary, error) {
	f.record("Patches", repo, fl)
	if err := errorFor(repo, fl.State); err != nil {
		return nil, err
	}
	return []api.PatchSummary{{ID: "p1", Repo: repo, State: fl.State, Revisions: fl.Limit, Created: t0, Updated: t0}}, nil
}

func (f *fakeService) Patch(ctx context.Context, repo, id string) (api.Patch, error) {
	f.record("Patch", repo, id)
	if err := errorFor(repo, id); err != nil {
		return api.Patch{}, err
	}
	return patchOf(repo, id), nil
}

func (f *fakeService) CreatePatch(ctx context.Context, repo string, n api.NewPatch) (api.Patch, error) {
	f.record("CreatePatch", repo, n)
	if err := errorFor(repo, n.Title); err != nil {
		return api.Patch{}, err
	}
	out := patchOf(repo, "newp")
	out.Title, out.Description = n.Title, n.Description
	return out, nil
}

func (f *fakeService) EditPatch(ctx context.Context, repo, id string, e api.Edit) (api.Patch, error) {
	f.record("EditPatch", repo, id, e)
	if err := errorFor(repo, id); err != nil {
		return api.Patch{}, err
	}
	out := patchOf(repo, id)
	out.State = e.State
	return out, nil
}

func (f *fakeService) PatchDiff(ctx context.Context, repo, id string, q api.DiffQuery) (api.Diff, error) {
	f.record("PatchDiff", repo, id, q)
	if err := errorFor(repo, id); err != nil {
		return api.Diff{}, err
	}
	return api.Diff{Patch: id, Revision: max(q.Revision, q.To), From: q.From, Base: "c0", Head: "c1", Added: 1,
		Files: []api.DiffFile{{Path: "a.go", Status: "modified", Added: 1, Hunks: []api.DiffHunk{{Header: "@@ -1 +1,2 @@", OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 2,
			Lines: []api.DiffLine{{Kind: " ", Old: 1, New: 1, Text: "package a"}, {Kind: "+", New: 2, Text: "// x"}}}}}}}, nil
}

func (f *fakeService) AddCheck(ctx context.Context, repo, id string, c api.NewCheck) (api.Patch, error) {
	f.record("AddCheck", repo, id, c)
	if err := errorFor(repo, id); err != nil {
		return api.Patch{}, err
	}
	return patchOf(repo, id), nil
}

func (f *fakeService) AddRevision(ctx context.Context, repo, id string, r api.NewRevision) (api.Patch, error) {
	f.record("AddRevision", repo, id, r)
	if err := errorFor(repo, id); err != nil {
		return api.Patch{}, err
	}
	out := patchOf(repo, id)
	out.Revisions = append(out.Revisions, api.Revision{ID: "rev2", Number: 2, Commit: r.Commit, BaseCommit: r.BaseCommit, Note: r.Note, Created: t0})
	return out, nil
}

func (f *fakeService) Review(ctx context.Context, repo, id string, r api.NewReview) (api.Patch, error) {
	f.record("Review", repo, id, r)
	if err := errorFor(repo, id, r.Verdict); err != nil {
		return api.Patch{}, err
	}
	out := patchOf(repo, id)
	out.Reviews[0].Verdict, out.Reviews[0].Summary = r.Verdict, r.Summary
	return out, nil
}

func (f *fakeService) Comment(ctx context.Context, repo, id string, c api.NewComment) (api.Comment, error) {
	f.record("Comment", repo, id, c)
	if err := errorFor(repo, id, c.Body); err != nil {
		return api.Comment{}, err
	}
	return api.Comment{ID: "c9", Body: c.Body, ReplyTo: c.ReplyTo, Created: t0}, nil
}

func (f *fakeService) EditComment(ctx context.Context, repo, commentID, body string) (api.Comment, error) {
	f.record("EditComment", repo, commentID, body)
	if err := errorFor(repo, commentID, body); err != nil {
		return api.Comment{}, err
	}
	return api.Comment{ID: commentID, Body: body, Edited: true, Edits: 1, Created: t0}, nil
}

func (f *fakeService) HideComment(ctx context.Context, repo, commentID string, hidden bool) (api.Comment, error) {
	f.record("HideComment", repo, commentID, hidden)
	if err := errorFor(repo, commentID); err != nil {
		return api.Comment{}, err
	}
	return api.Comment{ID: commentID, Hidden: hidden, Created: t0}, nil
}

func (f *fakeService) ResolveComment(ctx context.Context, repo, commentID string, resolved bool) (api.Comment, error) {
	f.record("ResolveComment", repo, commentID, resolved)
	if err := errorFor(repo, commentID); err != nil {
		return api.Comment{}, err
	}
	return api.Comment{ID: commentID, Resolved: resolved, Created: t0}, nil
}

func (f *fakeService) React(ctx context.Context, repo, targetID, emoji string, remove bool) error {
	f.record("React", repo, targetID, emoji, remove)
	return errorFor(repo, targetID, emoji)
}

func (f *fakeService) Follow(ctx context.Context, repo string, peers []string) (api.FollowResult, error) {
	f.record("Follow", repo, peers)
	if err := errorFor(append([]string{repo}, peers...)...); err != nil {
		return api.FollowResult{}, err
	}
	return api.FollowResult{Repo: repo, Name: "one", Following: true, Ops: 3, Peers: len(peers), Received: 2}, nil
}

func (f *fakeService) Unfollow(ctx context.Context, repo string) (api.FollowResult, error) {
	f.record("Unfollow", repo)
	if err := errorFor(repo); err != nil {
		return api.FollowResult{}, err
	}
	return api.FollowResult{Repo: repo, Ops: 3}, nil
}

func (f *fakeService) Search(ctx context.Context, q api.SearchQuery) ([]api.SearchResult, error) {
	f.record("Search", q)
	if err := errorFor(q.Query, q.Repo); err != nil {
		return nil, err
	}
	return []api.SearchResult{{Repo: "r1", RepoName: "one", ID: "i1", Type: "issue", Title: q.Query, State: "open",
		Author: person("bob"), Labels: []string{}, Match: "comment", Comment: "c1", Snippet: "…a hit…", Updated: t0}}, nil
}

func (f *fakeService) Sync(ctx context.Context, req api.SyncRequest) ([]api.SyncResult, error) {
	f.record("Sync", req)
	if err := errorFor(req.Peers...); err != nil {
		return nil, err
	}
	return []api.SyncResult{
		{Repo: "r1", Name: "one", Sent: 1, Received: 2, Peers: len(req.Peers), InSync: true},
		{Repo: "r2", Err: "no reachable peer follows this repo"},
	}, nil
}

// Events subscribes; publish sends to every subscriber, in order.
func (f *fakeService) Events(ctx context.Context) (<-chan api.Event, error) {
	f.record("Events")
	ch := make(chan api.Event, 1024)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	select {
	case f.subscribed <- struct{}{}:
	default:
	}
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
		f.mu.Unlock()
	}()
	return ch, nil
}

func (f *fakeService) publish(e api.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		ch <- e
	}
}

// closeEvents ends every subscription, as a node does when it closes.
func (f *fakeService) closeEvents() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}

func (f *fakeService) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeService) Inbox(ctx context.Context, q api.InboxQuery) ([]api.InboxItem, error) {
	f.record("Inbox", q)
	if err := errorFor(q.Repo); err != nil {
		return nil, err
	}
	return []api.InboxItem{{
		ID: "op1", Repo: "r1", RepoName: "one", Object: "obj1", Type: "issue", Title: "t",
		Kind: "comment.add", Reason: api.ReasonMention, Actor: api.Person{ID: "did:key:z6Mkbob", Alias: "bob"},
		At: time.Unix(1700000000, 0).UTC(), Unread: !q.All,
	}}, nil
}

func (f *fakeService) MarkRead(ctx context.Context, m api.MarkRead) (api.MarkReadResult, error) {
	f.record("MarkRead", m)
	if err := errorFor(m.Objects...); err != nil {
		return api.MarkReadResult{}, err
	}
	return api.MarkReadResult{Objects: m.Objects, Unread: 3}, nil
}
