package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testNow is the clock of unit tests.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

var (
	alice = api.Person{ID: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Alias: "alice", Short: "z6Mk…2doK"}
	bob   = api.Person{ID: "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG", Short: "z6Mk…DjVJG"}
)

const (
	repoA  = "aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888"
	repoB  = "bbbb1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888"
	issue1 = "1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777aaaa8888bbbb"
	issue2 = "2222aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777aaaa8888bbbb"
	patch1 = "9999aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777aaaa8888bbbb"
	sha1   = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
)

// fakeService is an api.Service with canned answers that records the
// calls it gets. Methods a test does not expect panic through the nil
// embedded interface.
type fakeService struct {
	api.Service

	repos  []api.Repo
	issues []api.IssueSummary
	issue  api.Issue
	patch  api.Patch
	refs   []api.Ref
	// err, when set, is returned by every method that can fail.
	err error

	calls []string
	// Arguments of the last calls.
	repoArg    string
	filter     api.ListFilter
	newIssue   api.NewIssue
	edit       api.Edit
	newPatch   api.NewPatch
	newRev     api.NewRevision
	newReview  api.NewReview
	newComment api.NewComment
	push       api.RefPush
	setRefs    map[string]string
	pushDir    string
	pushErr    error // PushRefs fails with it when set
	newRepo    api.NewRepo
	search     api.SearchQuery
	results    []api.SearchResult // Search's answer
}

// call records a call and returns f.err, except for the repo lookups
// every repo-scoped command makes first.
func (f *fakeService) call(name, repo string) error {
	f.calls = append(f.calls, name)
	if name == "Repos" || name == "Repo" {
		return nil
	}
	f.repoArg = repo
	return f.err
}

func (f *fakeService) Search(ctx context.Context, q api.SearchQuery) ([]api.SearchResult, error) {
	f.search = q
	return f.results, f.call("Search", q.Repo)
}

func (f *fakeService) Identity(ctx context.Context) (api.Identity, error) {
	f.calls = append(f.calls, "Identity")
	return api.Identity{Person: alice, KeyFile: "/home/alice/.local/share/murmur/identity.key"}, nil
}

func (f *fakeService) Status(ctx context.Context) (api.Status, error) {
	return api.Status{Identity: alice, Home: "/h", Version: "test",
		Repos: []api.RepoSync{{Repo: repoA, Name: "alpha", Ops: 7}}}, f.call("Status", "")
}

func (f *fakeService) Repos(ctx context.Context) ([]api.Repo, error) {
	return f.repos, f.call("Repos", "")
}

func (f *fakeService) Repo(ctx context.Context, repo string) (api.Repo, error) {
	if err := f.call("Repo", repo); err != nil {
		return api.Repo{}, err
	}
	for _, r := range f.repos {
		if r.ID == repo || r.Name == repo {
			return r, nil
		}
	}
	return api.Repo{}, api.Errorf(api.CodeNotFound, "no repo named or with ID %q", repo)
}

func (f *fakeService) CreateRepo(ctx context.Context, n api.NewRepo) (api.Repo, error) {
	f.newRepo = n
	return api.Repo{ID: repoA, Name: n.Name, DefaultBranch: n.DefaultBranch}, f.call("CreateRepo", "")
}

func (f *fakeService) Refs(ctx context.Context, repo string) ([]api.Ref, error) {
	return f.refs, f.call("Refs", repo)
}

func (f *fakeService) PushRefs(ctx context.Context, repo string, p api.RefPush) ([]api.Ref, error) {
	f.pushDir = p.Dir
	f.push = p
	if f.pushErr != nil {
		f.calls = append(f.calls, "PushRefs")
		return nil, f.pushErr
	}
	f.setRefs = p.Refs
	return f.refs, f.call("PushRefs", repo)
}

func (f *fakeService) SetRefs(ctx context.Context, repo string, refs map[string]string) ([]api.Ref, error) {
	f.setRefs = refs
	return f.refs, f.call("SetRefs", repo)
}

func (f *fakeService) Issues(ctx context.Context, repo string, fl api.ListFilter) ([]api.IssueSummary, error) {
	f.filter = fl
	return f.issues, f.call("Issues", repo)
}

func (f *fakeService) Issue(ctx context.Context, repo, id string) (api.Issue, error) {
	return f.issue, f.call("Issue", repo)
}

func (f *fakeService) CreateIssue(ctx context.Context, repo string, n api.NewIssue) (api.Issue, error) {
	f.newIssue = n
	is := f.issue
	is.Title, is.Body = n.Title, n.Body
	return is, f.call("CreateIssue", repo)
}

func (f *fakeService) EditIssue(ctx context.Context, repo, id string, e api.Edit) (api.Issue, error) {
	f.edit = e
	return f.issue, f.call("EditIssue", repo)
}

func (f *fakeService) Patches(ctx context.Context, repo string, fl api.ListFilter) ([]api.PatchSummary, error) {
	f.filter = fl
	return []api.PatchSummary{f.patch.PatchSummary}, f.call("Patches", repo)
}

func (f *fakeService) Patch(ctx context.Context, repo, id string) (api.Patch, error) {
	return f.patch, f.call("Patch", repo)
}

func (f *fakeService) CreatePatch(ctx context.Context, repo string, n api.NewPatch) (api.Patch, error) {
	f.newPatch = n
	return f.patch, f.call("CreatePatch", repo)
}

func (f *fakeService) PatchDiff(ctx context.Context, repo, id string, q api.DiffQuery) (api.Diff, error) {
	return api.Diff{}, f.call("PatchDiff", repo)
}

func (f *fakeService) AddCheck(ctx context.Context, repo, id string, c api.NewCheck) (api.Patch, error) {
	return f.patch, f.call("AddCheck", repo)
}

func (f *fakeService) AddRevision(ctx context.Context, repo, id string, r api.NewRevision) (api.Patch, error) {
	f.newRev = r
	return f.patch, f.call("AddRevision", repo)
}

func (f *fakeService) Review(ctx context.Context, repo, id string, r api.NewReview) (api.Patch, error) {
	f.newReview = r
	return f.patch, f.call("Review", repo)
}

func (f *fakeService) Comment(ctx context.Context, repo, id string, c api.NewComment) (api.Comment, error) {
	f.newComment = c
	return api.Comment{ID: "c0ffee00c0ffee00", Body: c.Body}, f.call("Comment", repo)
}

// oneRepo is a fake holding one repo with two issues and a patch.
func oneRepo() *fakeService {
	created := testNow.Add(-49 * time.Hour)
	return &fakeService{
		repos: []api.Repo{{ID: repoA, Name: "alpha", DefaultBranch: "main", Owner: alice, Maintainers: []api.Person{alice}}},
		issues: []api.IssueSummary{
			{ID: issue1, Repo: repoA, Title: "Crash on empty config", State: "open", Author: alice,
				Labels: []string{"bug", "ui"}, Assignees: []api.Person{bob}, Created: created, Updated: testNow.Add(-5 * time.Minute)},
			{ID: issue2, Repo: repoA, Title: "A title\twith a tab and \x1b[31mescapes\x1b[0m that is rather long, long enough to be truncated on a narrow terminal",
				State: "closed", Reason: "completed", Author: bob, Created: created, Updated: created},
		},
		issue: api.Issue{
			IssueSummary: api.IssueSummary{ID: issue1, Repo: repoA, Title: "Crash on empty config", State: "open", Author: alice,
				Labels: []string{"bug"}, Assignees: []api.Person{bob}, Created: created, Updated: testNow.Add(-time.Hour)},
			Body:      "Steps:\n1. run with an empty file\n\x1b]0;pwned\x07done",
			Reactions: []api.Reaction{{Emoji: "👍", Authors: []api.Person{alice, bob}}},
			Comments: []api.Comment{
				{ID: "cccc0001aaaa", Author: bob, Body: "Reproduced.", Created: testNow.Add(-2 * time.Hour)},
				{ID: "cccc0002aaaa", Author: alice, Body: "Fixed in 9c1e.", Created: testNow.Add(-time.Hour), ReplyTo: "cccc0001aaaa"},
			},
		},
		patch: api.Patch{
			PatchSummary: api.PatchSummary{ID: patch1, Repo: repoA, Title: "Handle empty config", State: "open", Author: alice,
				Base: "refs/heads/main", Created: created, Updated: testNow.Add(-time.Minute)},
			Description: "Fixes 1111.",
			Reviewers:   []api.Person{bob},
			Revisions: []api.Revision{
				{ID: "r1", Number: 1, Commit: sha1, Author: alice, Created: created, Note: ""},
				{ID: "r2", Number: 2, Commit: strings.Repeat("ab", 20), BaseCommit: sha1, Author: alice, Created: testNow.Add(-time.Hour), Note: "address review"},
			},
			Reviews: []api.Review{
				{Reviewer: bob, Revision: "r1", RevNumber: 1, Verdict: "request-changes", Summary: "Needs a test.", At: created},
				{Reviewer: bob, Revision: "r2", RevNumber: 2, Verdict: "approve", Summary: "Good.", At: testNow.Add(-30 * time.Minute)},
			},
			Comments: []api.Comment{
				{ID: "dddd0001", Author: bob, Body: "This can overflow.", Created: created,
					Anchor: &api.Anchor{Revision: "r1", RevNumber: 1, Commit: sha1, Path: "parse.go", Start: 40, End: 44}},
			},
		},
	}
}

// harness runs commands in process against a fake service.
type harness struct {
	t      *testing.T
	svc    *fakeService
	env    map[string]string
	dir    string
	tty    bool
	stdin  string
	width  int
	opened int
}

func newHarness(t *testing.T, svc *fakeService) *harness {
	t.Helper()
	return &harness{t: t, svc: svc, env: map[string]string{"MURMUR_HOME": t.TempDir()}, dir: t.TempDir()}
}

// result is one run's outcome.
type result struct {
	code           int
	stdout, stderr string
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	e := env{
		Stdin:     strings.NewReader(h.stdin),
		Stdout:    &out,
		Stderr:    &errb,
		EditorOut: &errb,
		Getenv:    func(k string) string { return h.env[k] },
		Dir:       h.dir,
		StdinTTY:  h.tty,
		StdoutTTY: h.tty,
		Width:     h.width,
		Now:       func() time.Time { return testNow },
		Connect: func(ctx context.Context, home string, pass []byte) (api.Service, func() error, error) {
			h.opened++
			return h.svc, func() error { return nil }, nil
		},
	}
	code := run(context.Background(), args, e)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}
