package tui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"murmur/api"
)

// t0 is the fixed "now" of the tests, so relative times are stable.
var t0 = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// fakeService is a small in-memory api.Service. Methods the TUI does not
// call are left to the embedded nil interface.
type fakeService struct {
	api.Service

	mu        sync.Mutex
	identity  *api.Identity
	status    api.Status
	repos     []api.Repo
	issues    map[string][]api.Issue // by repo ID
	patches   map[string][]api.Patch
	refs      map[string][]api.Ref
	failWith  map[string]error // method name → error
	comments  []commentCall
	edits     []api.Edit
	reviews   []api.NewReview
	reactions []string
	created   []api.NewIssue
	syncs     []api.SyncRequest
	follows   []string
	filters   []api.ListFilter
	searches  []api.SearchQuery
	diffs     map[int]api.Diff // by revision; 0 holds the change between revisions
	diffAsks  []api.DiffQuery
	events    chan api.Event
	seq       int
	inbox     []api.InboxItem
	marked    []api.MarkRead
}

type commentCall struct {
	repo, id string
	c        api.NewComment
}

var alice = api.Person{ID: "did:key:z6MkAlice", Alias: "alice", Short: "z6MkAlic"}
var bob = api.Person{ID: "did:key:z6MkBob", Alias: "bob", Short: "z6MkBob0"}

// newFake returns a fake with an identity, two repos and a few issues.
func newFake() *fakeService {
	id := api.Identity{Person: alice}
	f := &fakeService{
		identity: &id,
		status: api.Status{Identity: alice, Online: true, Listen: "0.0.0.0:7411", Version: "test",
			Peers: []api.Peer{{ID: bob.ID, Alias: "bob", Addr: "10.0.0.2:7411", Connected: true, LastSync: t0.Add(-time.Minute)}},
			Repos: []api.RepoSync{{Repo: "r1aaaaaaaaaa", Name: "murmur", Ops: 42, MerkleRoot: "abcdef0123456789", InSync: true, Peers: 1}},
		},
		issues:   map[string][]api.Issue{},
		patches:  map[string][]api.Patch{},
		refs:     map[string][]api.Ref{},
		failWith: map[string]error{},
	}
	f.repos = []api.Repo{
		{ID: "r1aaaaaaaaaa", Name: "murmur", Description: "a peer-to-peer forge", DefaultBranch: "main", Owner: alice, Updated: t0.Add(-time.Hour), Following: true},
		{ID: "r2bbbbbbbbbb", Name: "dotfiles", Description: "my config", DefaultBranch: "main", Owner: alice, Updated: t0.Add(-48 * time.Hour)},
	}
	for i, title := range []string{"TUI crashes on resize", "Sync stalls behind NAT", "Document the op format"} {
		f.addIssue("r1aaaaaaaaaa", fmt.Sprintf("i%d%011d", i+1, i+1), title, t0.Add(-time.Duration(i+1)*time.Hour))
	}
	is := &f.issues["r1aaaaaaaaaa"][0]
	is.Body = "Resizing the terminal to 20 columns panics.\nSteps: open, resize."
	is.Labels = []string{"bug", "tui"}
	is.Assignees = []api.Person{bob}
	is.Comments = []api.Comment{
		{ID: "c1", Author: bob, Body: "I can reproduce this.", Created: t0.Add(-50 * time.Minute)},
		{ID: "c2", Author: alice, Body: "Fixed on my branch.", Created: t0.Add(-40 * time.Minute), ReplyTo: "c1"},
		{ID: "c3", Author: bob, Body: "Thanks!", Created: t0.Add(-30 * time.Minute), Reactions: []api.Reaction{{Emoji: "👍", Authors: []api.Person{alice}}}},
	}
	f.patches["r1aaaaaaaaaa"] = []api.Patch{{
		PatchSummary: api.PatchSummary{ID: "p1000000000a", Repo: "r1aaaaaaaaaa", Title: "Handle tiny terminals", State: "open", Author: bob, Base: "main", Revisions: 2, Created: t0.Add(-3 * time.Hour), Updated: t0.Add(-2 * time.Hour)},
		Description:  "Clamp every width.",
		Revisions: []api.Revision{
			{ID: "rev1", Number: 1, Commit: "1111111111aa", Author: bob, Created: t0.Add(-3 * time.Hour)},
			{ID: "rev2", Number: 2, Commit: "2222222222bb", Note: "address review", Author: bob, Created: t0.Add(-2 * time.Hour)},
		},
		Reviews: []api.Review{{Reviewer: alice, Revision: "rev1", RevNumber: 1, Verdict: "request-changes", Summary: "handle zero width", At: t0.Add(-150 * time.Minute)}},
		Comments: []api.Comment{
			{ID: "pc1", Author: alice, Body: "Nice.", Created: t0.Add(-100 * time.Minute)},
			{ID: "pc2", Author: alice, Body: "Off by one here.", Created: t0.Add(-140 * time.Minute), Anchor: &api.Anchor{Revision: "rev1", RevNumber: 1, Path: "tui/list.go", Start: 12, End: 14}},
		},
	}}
	f.refs["r1aaaaaaaaaa"] = []api.Ref{{Name: "refs/heads/main", Commit: "2222222222bb"}}
	f.diffs = map[int]api.Diff{1: revDiff(1), 2: revDiff(2), 0: interDiff()}
	f.recount()
	return f
}

func (f *fakeService) addIssue(repo, id, title string, updated time.Time) {
	f.issues[repo] = append(f.issues[repo], api.Issue{IssueSummary: api.IssueSummary{
		ID: id, Repo: repo, Title: title, State: "open", Author: alice, Created: updated, Updated: updated,
	}})
}

func (f *fakeService) recount() {
	for i := range f.repos {
		r := &f.repos[i]
		r.OpenIssues, r.OpenPatches = 0, 0
		for _, is := range f.issues[r.ID] {
			if is.State == "open" {
				r.OpenIssues++
			}
		}
		for _, p := range f.patches[r.ID] {
			if p.State == "open" {
				r.OpenPatches++
			}
		}
	}
}

func (f *fakeService) fail(method string) error {
	return f.failWith[method]
}

func (f *fakeService) Status(ctx context.Context) (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.fail("Status")
}

func (f *fakeService) Identity(ctx context.Context) (api.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("Identity"); err != nil {
		return api.Identity{}, err
	}
	if f.identity == nil {
		return api.Identity{}, api.Errorf(api.CodeNoIdentity, "no identity: run murmur id init")
	}
	return *f.identity, nil
}

func (f *fakeService) InitIdentity(ctx context.Context, alias string, pass []byte) (api.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.identity != nil {
		return api.Identity{}, api.Errorf(api.CodeConflict, "identity exists")
	}
	id := api.Identity{Person: api.Person{ID: "did:key:z6MkNew", Alias: alias, Short: "z6MkNew0"}}
	f.identity = &id
	return id, nil
}

func (f *fakeService) SetAlias(ctx context.Context, alias string) (api.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("SetAlias"); err != nil {
		return api.Identity{}, err
	}
	if f.identity == nil {
		return api.Identity{}, api.Errorf(api.CodeNoIdentity, "no identity")
	}
	f.identity.Alias = alias
	f.status.Identity = f.identity.Person
	return *f.identity, nil
}

func (f *fakeService) Repos(ctx context.Context) ([]api.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.repos), f.fail("Repos")
}

func (f *fakeService) findRepo(repo string) (int, error) {
	for i, r := range f.repos {
		if r.ID == repo || r.Name == repo || strings.HasPrefix(r.ID, repo) {
			return i, nil
		}
	}
	return 0, api.Errorf(api.CodeNotFound, "repo %q not found", repo)
}

func (f *fakeService) Repo(ctx context.Context, repo string) (api.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.findRepo(repo)
	if err != nil {
		return api.Repo{}, err
	}
	return f.repos[i], nil
}

func (f *fakeService) CreateRepo(ctx context.Context, n api.NewRepo) (api.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	r := api.Repo{ID: fmt.Sprintf("rn%010d", f.seq), Name: n.Name, Description: n.Description, DefaultBranch: "main", Updated: t0}
	f.repos = append(f.repos, r)
	return r, nil
}

func (f *fakeService) Refs(ctx context.Context, repo string) ([]api.Ref, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refs[repo]), nil
}

func (f *fakeService) Activity(ctx context.Context, repo string, limit int) ([]api.Activity, error) {
	return []api.Activity{{Op: "op1", Kind: "issue.open", Object: "i100000000001", Author: alice, At: t0.Add(-time.Hour), Accepted: true}}, nil
}

func matchState(want, got string) bool {
	return want == "all" || cmp.Or(want, "open") == got
}

func (f *fakeService) Issues(ctx context.Context, repo string, fl api.ListFilter) ([]api.IssueSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, fl)
	if err := f.fail("Issues"); err != nil {
		return nil, err
	}
	var out []api.IssueSummary
	for _, is := range f.issues[repo] {
		if matchState(fl.State, is.State) {
			s := is.IssueSummary
			s.Comments = len(is.Comments)
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeService) findIssue(repo, id string) (*api.Issue, error) {
	for i := range f.issues[repo] {
		if f.issues[repo][i].ID == id {
			return &f.issues[repo][i], nil
		}
	}
	return nil, api.Errorf(api.CodeNotFound, "issue %s not found", id)
}

func (f *fakeService) Issue(ctx context.Context, repo, id string) (api.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.findIssue(repo, id)
	if err != nil {
		return api.Issue{}, err
	}
	out := *is
	out.Comments = slices.Clone(is.Comments)
	return out, nil
}

func (f *fakeService) CreateIssue(ctx context.Context, repo string, n api.NewIssue) (api.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("CreateIssue"); err != nil {
		return api.Issue{}, err
	}
	f.seq++
	id := fmt.Sprintf("n%011d", f.seq)
	f.addIssue(repo, id, n.Title, t0)
	is := &f.issues[repo][len(f.issues[repo])-1]
	is.Body, is.Labels = n.Body, n.Labels
	for _, a := range n.Assignees {
		is.Assignees = append(is.Assignees, api.Person{ID: a, Alias: a})
	}
	f.created = append(f.created, n)
	f.recount()
	return *is, nil
}

func (f *fakeService) EditIssue(ctx context.Context, repo, id string, e api.Edit) (api.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits = append(f.edits, e)
	is, err := f.findIssue(repo, id)
	if err != nil {
		return api.Issue{}, err
	}
	if e.Title != nil {
		is.Title = *e.Title
	}
	if e.Body != nil {
		is.Body = *e.Body
	}
	if e.State != "" {
		is.State, is.Reason = e.State, e.Reason
	}
	if e.Locked != nil {
		is.Locked = *e.Locked
	}
	is.Labels = append(slices.DeleteFunc(is.Labels, func(l string) bool { return slices.Contains(e.RemoveLabels, l) }), e.AddLabels...)
	is.Assignees = slices.DeleteFunc(is.Assignees, func(p api.Person) bool { return slices.Contains(e.RemoveAssignees, p.ID) })
	for _, a := range e.AddAssignees {
		is.Assignees = append(is.Assignees, api.Person{ID: "did:key:" + a, Alias: a})
	}
	return *is, nil
}

// commentOp records a call on one comment: "edit c1 text", "hide c1 true".
func (f *fakeService) commentOp(repo, id, what string) (*api.Comment, error) {
	f.edits = append(f.edits, api.Edit{Comment: what + " " + id})
	for i := range f.issues[repo] {
		for j := range f.issues[repo][i].Comments {
			if c := &f.issues[repo][i].Comments[j]; c.ID == id {
				return c, nil
			}
		}
	}
	for i := range f.patches[repo] {
		for j := range f.patches[repo][i].Comments {
			if c := &f.patches[repo][i].Comments[j]; c.ID == id {
				return c, nil
			}
		}
	}
	return nil, api.Errorf(api.CodeNotFound, "no comment %s", id)
}

func (f *fakeService) EditComment(ctx context.Context, repo, id, body string) (api.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.commentOp(repo, id, "edit")
	if err != nil {
		return api.Comment{}, err
	}
	c.Body, c.Edited = body, true
	return *c, nil
}

func (f *fakeService) HideComment(ctx context.Context, repo, id string, hidden bool) (api.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("HideComment"); err != nil {
		return api.Comment{}, err
	}
	c, err := f.commentOp(repo, id, fmt.Sprintf("hide=%v", hidden))
	if err != nil {
		return api.Comment{}, err
	}
	c.Hidden = hidden
	return *c, nil
}

func (f *fakeService) ResolveComment(ctx context.Context, repo, id string, resolved bool) (api.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.commentOp(repo, id, fmt.Sprintf("resolve=%v", resolved))
	if err != nil {
		return api.Comment{}, err
	}
	c.Resolved = resolved
	return *c, nil
}

func (f *fakeService) Patches(ctx context.Context, repo string, fl api.ListFilter) ([]api.PatchSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.PatchSummary
	for _, p := range f.patches[repo] {
		if matchState(fl.State, p.State) {
			out = append(out, p.PatchSummary)
		}
	}
	return out, nil
}

func (f *fakeService) Patch(ctx context.Context, repo, id string) (api.Patch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.patches[repo] {
		if p.ID == id {
			return p, nil
		}
	}
	return api.Patch{}, api.Errorf(api.CodeNotFound, "patch %s not found", id)
}

func (f *fakeService) EditPatch(ctx context.Context, repo, id string, e api.Edit) (api.Patch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits = append(f.edits, e)
	for i := range f.patches[repo] {
		if p := &f.patches[repo][i]; p.ID == id {
			if e.Title != nil {
				p.Title = *e.Title
			}
			if e.Body != nil {
				p.Description = *e.Body
			}
			if e.State != "" {
				p.State = e.State
			}
			p.Labels = append(slices.DeleteFunc(p.Labels, func(l string) bool { return slices.Contains(e.RemoveLabels, l) }), e.AddLabels...)
			return *p, nil
		}
	}
	return api.Patch{}, api.Errorf(api.CodeNotFound, "patch %s not found", id)
}

// Search finds the repo's issues whose title, body and comments hold
// every word of the query (qualifiers are ignored), title hits first.
func (f *fakeService) Search(ctx context.Context, q api.SearchQuery) ([]api.SearchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, q)
	if err := f.fail("Search"); err != nil {
		return nil, err
	}
	var words []string
	for _, w := range strings.Fields(strings.ToLower(q.Query)) {
		if !strings.Contains(w, ":") {
			words = append(words, w)
		}
	}
	var titled, others []api.SearchResult
	for _, is := range f.issues[q.Repo] {
		texts := []string{is.Title, is.Body}
		for _, c := range is.Comments {
			texts = append(texts, c.Body)
		}
		all := strings.ToLower(strings.Join(texts, " "))
		found := len(words) > 0
		for _, w := range words {
			found = found && strings.Contains(all, w)
		}
		if !found {
			continue
		}
		r := api.SearchResult{Repo: q.Repo, ID: is.ID, Type: "issue", Title: is.Title, State: is.State, Author: is.Author, Updated: is.Updated}
		for i, text := range texts {
			if strings.Contains(strings.ToLower(text), words[0]) {
				r.Match, r.Snippet = []string{"title", "body"}[min(i, 1)], strings.Join(strings.Fields(text), " ")
				if i >= 2 {
					r.Match, r.Comment = "comment", is.Comments[i-2].ID
				}
				break
			}
		}
		if r.Match == "title" {
			titled = append(titled, r)
		} else {
			others = append(others, r)
		}
	}
	return append(titled, others...), nil
}

func (f *fakeService) Sync(ctx context.Context, req api.SyncRequest) ([]api.SyncResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs = append(f.syncs, req)
	return []api.SyncResult{{Repo: "r1aaaaaaaaaa", Name: "murmur", Sent: 2, Received: 5, Peers: 1, InSync: true},
		{Repo: "r2bbbbbbbbbb", Name: "dotfiles", Err: "no reachable peer follows it"}}, f.fail("Sync")
}

func (f *fakeService) Follow(ctx context.Context, repo string, peers []string) (api.FollowResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follows = append(f.follows, "follow "+repo)
	return api.FollowResult{Repo: repo, Name: "garden", Following: true, Ops: 7}, f.fail("Follow")
}

func (f *fakeService) Unfollow(ctx context.Context, repo string) (api.FollowResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follows = append(f.follows, "unfollow "+repo)
	return api.FollowResult{Repo: "r2bbbbbbbbbb", Name: repo}, f.fail("Unfollow")
}

func (f *fakeService) Review(ctx context.Context, repo, id string, r api.NewReview) (api.Patch, error) {
	f.mu.Lock()
	f.reviews = append(f.reviews, r)
	if err := f.fail("Review"); err != nil {
		f.mu.Unlock()
		return api.Patch{}, err
	}
	for i := range f.patches[repo] {
		if p := &f.patches[repo][i]; p.ID == id && r.Path != "" {
			f.seq++
			rev := cmp.Or(r.Revision, len(p.Revisions))
			p.Comments = append(p.Comments, api.Comment{ID: fmt.Sprintf("cn%d", f.seq), Author: alice, Body: r.Comment, Created: t0,
				Anchor: &api.Anchor{Revision: fmt.Sprintf("rev%d", rev), RevNumber: rev, Path: r.Path, Start: r.Start, End: r.End}})
		}
	}
	f.mu.Unlock()
	return f.Patch(ctx, repo, id)
}

func (f *fakeService) Comment(ctx context.Context, repo, id string, c api.NewComment) (api.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments = append(f.comments, commentCall{repo, id, c})
	if err := f.fail("Comment"); err != nil {
		return api.Comment{}, err
	}
	f.seq++
	cm := api.Comment{ID: fmt.Sprintf("cn%d", f.seq), Author: alice, Body: c.Body, ReplyTo: c.ReplyTo, Created: t0}
	for i := range f.patches[repo] {
		if p := &f.patches[repo][i]; p.ID == id {
			p.Comments = append(p.Comments, cm)
			return cm, nil
		}
	}
	is, err := f.findIssue(repo, id)
	if err != nil {
		return api.Comment{}, err
	}
	is.Comments = append(is.Comments, cm)
	return cm, nil
}

func (f *fakeService) React(ctx context.Context, repo, target, emoji string, remove bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reactions = append(f.reactions, fmt.Sprintf("%s %s remove=%v", target, emoji, remove))
	return nil
}

func (f *fakeService) Events(ctx context.Context) (<-chan api.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		f.events = make(chan api.Event, 16)
	}
	return f.events, nil
}

// revDiff is what revision n of the fake patch changes: a modified Go
// file (one more line in r2) and a new document.
func revDiff(n int) api.Diff {
	list := api.DiffFile{Path: "tui/list.go", Status: "modified", Hunks: []api.DiffHunk{{
		Header: "@@ -10,6 +10,7 @@ func (l *list) SetSize(w, h int) {", OldStart: 10, OldLines: 6, NewStart: 10, NewLines: 7,
		Lines: []api.DiffLine{
			{Kind: " ", Old: 10, New: 10, Text: "\tl.w = w"},
			{Kind: " ", Old: 11, New: 11, Text: "\tl.h = h"},
			{Kind: "-", Old: 12, Text: "\tl.cols = w / 8"},
			{Kind: "+", New: 12, Text: "\tl.cols = max(w/8, 1)"},
			{Kind: "+", New: 13, Text: "\t// a tiny terminal still shows one column"},
			{Kind: " ", Old: 13, New: 14, Text: "\tl.clamp()"},
			{Kind: " ", Old: 14, New: 15, Text: "}"},
		},
	}}}
	doc := api.DiffFile{Path: "docs/tiny.md", Status: "added", Hunks: []api.DiffHunk{{
		Header: "@@ -0,0 +1,2 @@", NewStart: 1, NewLines: 2,
		Lines: []api.DiffLine{{Kind: "+", New: 1, Text: "# Tiny terminals"}, {Kind: "+", New: 2, Text: "Every width is clamped."}},
	}}}
	if n == 2 {
		h := &list.Hunks[0]
		h.Lines = append(h.Lines[:5:5], api.DiffLine{Kind: "+", New: 14, Text: "\tl.rows = max(h-2, 1)"}, api.DiffLine{Kind: " ", Old: 13, New: 15, Text: "\tl.clamp()"})
	}
	d := api.Diff{Patch: "p1000000000a", Revision: n, Base: "0000000000aa", Head: fmt.Sprintf("%d%d%d%d%d%d%d%d%d%daa", n, n, n, n, n, n, n, n, n, n),
		Files: []api.DiffFile{list, doc}}
	return countDiff(d)
}

// interDiff is the change from r1 to r2.
func interDiff() api.Diff {
	return countDiff(api.Diff{Patch: "p1000000000a", Revision: 2, From: 1, Base: "1111111111aa", Head: "2222222222aa",
		Files: []api.DiffFile{{Path: "tui/list.go", Status: "modified", Hunks: []api.DiffHunk{{
			Header: "@@ -13,3 +13,4 @@", OldStart: 13, OldLines: 3, NewStart: 13, NewLines: 4,
			Lines: []api.DiffLine{
				{Kind: " ", Old: 13, New: 13, Text: "\t// a tiny terminal still shows one column"},
				{Kind: "+", New: 14, Text: "\tl.rows = max(h-2, 1)"},
				{Kind: " ", Old: 14, New: 15, Text: "\tl.clamp()"},
			},
		}}}}})
}

// countDiff fills in the added and deleted counts.
func countDiff(d api.Diff) api.Diff {
	d.Added, d.Deleted = 0, 0
	for i := range d.Files {
		f := &d.Files[i]
		f.Added, f.Deleted = 0, 0
		for _, h := range f.Hunks {
			for _, l := range h.Lines {
				switch l.Kind {
				case "+":
					f.Added++
				case "-":
					f.Deleted++
				}
			}
		}
		d.Added += f.Added
		d.Deleted += f.Deleted
	}
	return d
}

func (f *fakeService) PatchDiff(ctx context.Context, repo, id string, q api.DiffQuery) (api.Diff, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diffAsks = append(f.diffAsks, q)
	if err := f.fail("PatchDiff"); err != nil {
		return api.Diff{}, err
	}
	rev := q.Revision
	switch {
	case q.From > 0:
		rev = 0
	case rev == 0:
		for _, p := range f.patches[repo] {
			if p.ID == id {
				rev = len(p.Revisions)
			}
		}
	}
	d, ok := f.diffs[rev]
	if !ok {
		return api.Diff{}, api.Errorf(api.CodeNotFound, "patch %s has no revision %d", id, q.Revision)
	}
	if q.Stat {
		d.Files = slices.Clone(d.Files)
		for i := range d.Files {
			d.Files[i].Hunks = nil
		}
	}
	return d, nil
}

// Inbox lists f.inbox, only the unread items unless q.All.
func (f *fakeService) Inbox(ctx context.Context, q api.InboxQuery) ([]api.InboxItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("Inbox"); err != nil {
		return nil, err
	}
	out := []api.InboxItem{}
	for _, it := range f.inbox {
		if (q.All || it.Unread) && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, it)
		}
	}
	return out, nil
}

// MarkRead marks f.inbox's items of the objects named, or all of them.
func (f *fakeService) MarkRead(ctx context.Context, m api.MarkRead) (api.MarkReadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("MarkRead"); err != nil {
		return api.MarkReadResult{}, err
	}
	f.marked = append(f.marked, m)
	res := api.MarkReadResult{Objects: m.Objects}
	for i := range f.inbox {
		for _, o := range m.Objects {
			if f.inbox[i].Object == o {
				f.inbox[i].Unread = false
			}
		}
		if m.All {
			f.inbox[i].Unread = false
		}
		if f.inbox[i].Unread {
			res.Unread++
		}
	}
	return res, nil
}
