package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"murmur/api"
	"murmur/node"
)

// The end-to-end tests build the real binary once and drive it as a user
// would, each test in its own data directory.

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	// murmur serve announces itself on the local network by default; the
	// nodes these tests start stay on loopback and in namespaces the tests
	// make, so every process started from here has discovery off unless a
	// test turns it on with --lan-discovery.
	_ = os.Setenv("MURMUR_LAN_DISCOVERY", "0")
	dir, err := os.MkdirTemp("", "murmur-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds the murmur command on first use.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the end-to-end tests need the go command in PATH: %w", err)
			return
		}
		binPath = filepath.Join(binDir, "murmur")
		out, err := exec.Command(goBin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// cli runs the binary against one data directory.
type cli struct {
	t    *testing.T
	bin  string
	home string
	dir  string
	env  map[string]string
}

func newCLI(t *testing.T, home string) *cli {
	t.Helper()
	return &cli{t: t, bin: binary(t), home: home, dir: t.TempDir(), env: map[string]string{}}
}

func (c *cli) command(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.dir,
		"MURMUR_HOME=" + c.home,
		"NO_COLOR=1",
		"GIT_CONFIG_NOSYSTEM=1",
		"MURMUR_LAN_DISCOVERY=0", // see TestMain
	}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := c.command(ctx, stdin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			c.t.Fatalf("murmur %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("murmur %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// id runs a write command that prints one short ID.
func (c *cli) id(args ...string) string {
	c.t.Helper()
	out := strings.TrimSpace(c.ok(args...))
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(out) {
		c.t.Fatalf("murmur %s printed %q, want a short ID", strings.Join(args, " "), out)
	}
	return out
}

// json runs a command with --json and decodes its single document.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(args...)
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(v); err != nil {
		c.t.Fatalf("murmur %s: decode: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		c.t.Fatalf("murmur %s printed more than one JSON document", strings.Join(args, " "))
	}
}

// fail runs a command that must fail with code and one clear line.
func (c *cli) fail(code int, want string, args ...string) {
	c.t.Helper()
	r := c.run(args...)
	checkFailure(c.t, r, code, want)
}

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

type wantComment struct {
	short   string
	body    string
	replyTo string // short ID of the parent
}

type wantIssue struct {
	short, full string
	title, body string
	labels      []string
	assignees   []string
	state       string
	reason      string
	comments    []wantComment
	reaction    string
}

func TestE2EStory(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(-time.Minute)
	a := newCLI(t, t.TempDir())

	// Identity.
	did := strings.TrimSpace(a.ok("id", "init", "--alias", "alice"))
	if !strings.HasPrefix(did, "did:key:z6Mk") {
		t.Fatalf("id init printed %q, want a did:key", did)
	}
	var me api.Identity
	a.json(&me, "id", "show", "--json")
	if me.ID != did || me.Alias != "alice" || me.Encrypted || me.KeyFile != filepath.Join(a.home, node.KeyFile) {
		t.Errorf("id show --json = %+v, want id %s, alias alice, unencrypted key in the home", me, did)
	}
	if st, err := os.Stat(me.KeyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, st.Mode())
	}
	a.fail(exitFailure, "an identity already exists", "id", "init", "--alias", "again")

	// A second person, Bob, with a home of his own (his key is used below).
	b := newCLI(t, t.TempDir())
	bobDID := strings.TrimSpace(b.ok("id", "init", "--alias", "bob"))

	// Repo.
	var repo api.Repo
	a.json(&repo, "repo", "create", "--name", "proj", "--description", "The project", "--json")
	if !hexID.MatchString(repo.ID) || repo.Name != "proj" || repo.Description != "The project" || repo.DefaultBranch != "main" ||
		repo.Owner.ID != did || repo.Owner.Alias != "alice" || len(repo.Maintainers) != 1 || repo.Maintainers[0].ID != did {
		t.Errorf("repo create --json = %+v", repo)
	}

	// Issues.
	n := 50
	if testing.Short() {
		n = 14
	}
	issues := make([]*wantIssue, n)
	for i := range n {
		w := &wantIssue{
			title: fmt.Sprintf("Issue %02d: something is off", i),
			body:  fmt.Sprintf("Body of issue %d.\n\nSecond paragraph with `code` and <html>.", i),
			state: "open",
		}
		args := []string{"issue", "create", "-t", w.title, "-b", w.body}
		if i%3 == 0 {
			w.labels = append(w.labels, "bug")
		}
		if i%4 == 0 {
			w.labels = append(w.labels, "ui")
		}
		for _, l := range w.labels {
			args = append(args, "-l", l)
		}
		if i%5 == 0 {
			w.assignees = append(w.assignees, did)
			args = append(args, "-a", did)
		}
		if i%10 == 0 {
			w.assignees = append(w.assignees, bobDID)
			args = append(args, "-a", bobDID)
		}
		w.short = a.id(args...)
		issues[i] = w
	}
	// A body from a file and one from stdin.
	bodyFile := filepath.Join(a.dir, "body.md")
	if err := os.WriteFile(bodyFile, []byte("# From a file\n\nWith a heading.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	issues[1].body = "# From a file\n\nWith a heading.\n"
	issues[1].title = "Renamed issue"
	a.id("issue", "edit", issues[1].short, "-t", issues[1].title, "-F", bodyFile, "--add-label", "docs")
	issues[1].labels = []string{"docs"}
	r := a.runIn("piped body\n", "issue", "create", "-t", "From stdin", "-F", "-")
	if r.code != 0 {
		t.Fatalf("issue create -F -: %s", r.stderr)
	}
	issues = append(issues, &wantIssue{short: strings.TrimSpace(r.stdout), title: "From stdin", body: "piped body\n", state: "open"})

	// Comments and replies.
	for i := 0; i < n; i += 6 {
		w := issues[i]
		c1 := wantComment{body: fmt.Sprintf("First comment on %d.", i)}
		c1.short = a.id("issue", "comment", w.short, "-b", c1.body)
		c2 := wantComment{body: "A reply.\nOn two lines.", replyTo: c1.short}
		c2.short = a.id("issue", "comment", w.short, "-b", c2.body, "--reply-to", c1.short)
		w.comments = append(w.comments, c1, c2)
	}
	// Close, close as not planned with a comment, reopen.
	for i := 0; i < n; i += 7 {
		a.id("issue", "close", issues[i].short)
		issues[i].state, issues[i].reason = "closed", "completed"
	}
	a.id("issue", "close", issues[2].short, "-r", "not-planned", "-c", "Works as intended.")
	issues[2].state, issues[2].reason = "closed", "not-planned"
	issues[2].comments = append(issues[2].comments, wantComment{body: "Works as intended."})
	a.id("issue", "reopen", issues[7].short)
	issues[7].state, issues[7].reason = "open", ""
	a.id("issue", "react", issues[3].short, "+1")
	issues[3].reaction = "👍"

	// Lists.
	var all []api.IssueSummary
	a.json(&all, "issue", "list", "-s", "all", "-L", "0", "--json")
	if len(all) != len(issues) {
		t.Fatalf("issue list -s all --json: %d issues, want %d", len(all), len(issues))
	}
	full := map[string]string{}
	for _, s := range all {
		full[short(s.ID)] = s.ID
	}
	open := 0
	bugs, bobs := 0, 0
	for _, w := range issues {
		if w.full = full[w.short]; w.full == "" {
			t.Fatalf("issue %s missing from the list", w.short)
		}
		if w.state == "open" {
			open++
		}
		if slices.Contains(w.labels, "bug") {
			bugs++
		}
		if slices.Contains(w.assignees, bobDID) {
			bobs++
		}
	}
	countList := func(want int, args ...string) {
		t.Helper()
		var l []api.IssueSummary
		a.json(&l, append([]string{"issue", "list", "--json", "-L", "0"}, args...)...)
		if len(l) != want {
			t.Errorf("issue list %v: %d issues, want %d", args, len(l), want)
		}
	}
	countList(open)
	countList(len(issues)-open, "-s", "closed")
	countList(bugs, "-s", "all", "-l", "bug")
	countList(bobs, "-s", "all", "-a", bobDID)
	countList(len(issues), "-s", "all", "-A", "alice")
	countList(5, "-s", "all", "-L", "5")
	tsv := strings.Split(strings.TrimSuffix(a.ok("issue", "list", "-s", "all", "-L", "0"), "\n"), "\n")
	if len(tsv) != len(issues) {
		t.Errorf("issue list (tab-separated): %d lines, want %d", len(tsv), len(issues))
	}
	for _, line := range tsv {
		f := strings.Split(line, "\t")
		if len(f) != 5 || len(f[0]) < 8 || full[f[0][:8]] == "" || (f[1] != "open" && f[1] != "closed") {
			t.Errorf("issue list line %q: want id, state, title, labels, updated", line)
			break
		}
		if _, err := time.Parse(time.RFC3339, f[4]); err != nil {
			t.Errorf("issue list line %q: updated is not RFC 3339: %v", line, err)
		}
	}

	// Every issue's summary, and the full document of every issue with
	// something particular about it (plus a sample of the rest), field by
	// field.
	byID := map[string]api.IssueSummary{}
	for _, s := range all {
		byID[s.ID] = s
	}
	for i, w := range issues {
		checkSummary(t, byID[w.full], w, did, start)
		if len(w.comments) > 0 || w.state != "open" || w.reaction != "" || len(w.assignees) > 0 || i < 3 || i == len(issues)-1 {
			checkIssueJSON(t, a, w, did, start)
		}
	}

	// Patches and reviews, from a branch of a working copy.
	home := a.dir
	a.dir = t.TempDir()
	gitInit(t, a.dir)
	gitRun(t, a.dir, "checkout", "-q", "-b", "fix")
	commitFile := func(text string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(a.dir, "main.go"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		gitRun(t, a.dir, "add", "main.go")
		gitRun(t, a.dir, "commit", "-q", "-m", "main.go")
		return gitRun(t, a.dir, "rev-parse", "HEAD")
	}
	commit1 := commitFile("package main\n\nfunc main() {\n\tx := 1\n}\n")
	var p api.Patch
	a.json(&p, "patch", "open", "-t", "Fix the thing", "--base", "main", "-b", "It was off by one.", "--json")
	if !hexID.MatchString(p.ID) || p.Title != "Fix the thing" || p.Description != "It was off by one." || p.State != "open" ||
		p.Base != "refs/heads/main" || p.Author.ID != did || len(p.Revisions) != 1 || p.Revisions[0].Commit != commit1 {
		t.Errorf("patch open --json = %+v", p)
	}
	ps := short(p.ID)
	commit2 := commitFile("package main\n\nfunc main() {\n\tx := 2\n}\n")
	a.id("patch", "update", ps, "--base-commit", commit1, "-m", "Second try")
	a.dir = home
	a.id("review", ps, "--request-changes", "-b", "Line 4 is still off.", "--file", "main.go", "--line", "3-5", "--revision", "1")
	a.id("review", ps, "--approve", "-b", "Looks good now.")
	a.json(&p, "patch", "view", ps, "--json")
	checkPatch(t, p, did, commit1, commit2)
	var plist []api.PatchSummary
	a.json(&plist, "patch", "list", "--json")
	if len(plist) != 1 || plist[0].ID != p.ID || plist[0].Revisions != 2 {
		t.Errorf("patch list --json = %+v, want the one patch with 2 revisions", plist)
	}
	a.id("patch", "merge", ps, "--mark-only")
	a.json(&plist, "patch", "list", "-s", "merged", "--json")
	if len(plist) != 1 || plist[0].State != "merged" {
		t.Errorf("patch list -s merged --json = %+v", plist)
	}
	a.json(&p, "patch", "open", "-t", "WIP", "--commit", commit2, "--draft", "-b", "", "--json")
	if p.State != "draft" || p.Base != "refs/heads/main" {
		t.Errorf("draft patch: state %q base %q, want draft on refs/heads/main", p.State, p.Base)
	}

	// Refs: set by the maintainer, refused for someone else.
	if got := a.ok("refs", "set", "main", commit1); got != "refs/heads/main\t"+commit1+"\n" {
		t.Errorf("refs set printed %q", got)
	}
	a.ok("refs", "set", "refs/tags/v1", commit2)
	wantRefs := []api.Ref{{Name: "refs/heads/main", Commit: commit1}, {Name: "refs/tags/v1", Commit: commit2}}
	checkRefs(t, a, wantRefs)

	aliceKey, err := os.ReadFile(me.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	bobKey, err := os.ReadFile(filepath.Join(b.home, node.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	useKey := func(k []byte) {
		t.Helper()
		if err := os.WriteFile(me.KeyFile, k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	useKey(bobKey)
	a.fail(exitFailure, "only maintainers can set refs", "refs", "set", "main", commit2)
	r = a.run("refs", "set", "main", commit2)
	if !strings.Contains(r.stderr, "murmur repo maintainer add "+bobDID) {
		t.Errorf("refused refs set: %q, want advice naming Bob's DID", r.stderr)
	}
	checkRefs(t, a, wantRefs)
	// Bob may still file issues.
	var bobIssue api.Issue
	a.json(&bobIssue, "issue", "create", "-t", "Filed by Bob", "--json")
	if bobIssue.Author.ID != bobDID {
		t.Errorf("issue by Bob has author %s, want %s", bobIssue.Author.ID, bobDID)
	}
	// Made a maintainer by Alice, Bob can set refs.
	useKey(aliceKey)
	a.ok("repo", "maintainer", "add", bobDID)
	useKey(bobKey)
	a.ok("refs", "set", "main", commit2)
	useKey(aliceKey)
	checkRefs(t, a, []api.Ref{{Name: "refs/heads/main", Commit: commit2}, {Name: "refs/tags/v1", Commit: commit2}})

	// Errors: one line, exit 1 (2 for usage), and nothing written.
	var before []api.IssueSummary
	a.json(&before, "issue", "list", "-s", "all", "--json")
	a.fail(exitFailure, "no issue ffffffff in this repo", "issue", "view", "ffffffff")
	a.fail(exitFailure, "the title is empty", "issue", "create", "-t", " ")
	a.fail(exitFailure, `--commit "abc123" is not a full commit hash`, "patch", "open", "-t", "x", "--commit", "abc123")
	a.fail(exitFailure, `is not a full commit hash`, "patch", "update", ps, "--commit", strings.Repeat("z", 40))
	a.fail(exitFailure, "cannot read the issue body from "+filepath.Join(a.dir, "missing.md"), "issue", "create", "-t", "x", "-F", filepath.Join(a.dir, "missing.md"))
	a.fail(exitFailure, "comment body is empty", "issue", "comment", issues[0].short)
	a.fail(exitUsage, "missing ID", "issue", "view")
	a.fail(exitUsage, "unknown flag", "issue", "list", "--nope")
	var after []api.IssueSummary
	a.json(&after, "issue", "list", "-s", "all", "--json")
	if len(after) != len(before) {
		t.Errorf("failed commands changed the issue count from %d to %d", len(before), len(after))
	}

	var st api.Status
	a.json(&st, "status", "--json")
	if st.Identity.ID != did || st.Home != a.home || len(st.Repos) != 1 || st.Repos[0].Repo != repo.ID || st.Repos[0].Ops == 0 {
		t.Errorf("status --json = %+v", st)
	}
}

// checkSummary checks one row of `issue list --json`.
func checkSummary(t *testing.T, s api.IssueSummary, w *wantIssue, did string, start time.Time) {
	t.Helper()
	var assignees []string
	for _, p := range s.Assignees {
		assignees = append(assignees, p.ID)
	}
	slices.Sort(assignees)
	if s.ID != w.full || s.Title != w.title || s.State != w.state || s.Author.ID != did || s.Author.Alias != "alice" ||
		s.Comments != len(w.comments) || s.Created.Before(start) || s.Updated.Before(s.Created) ||
		!slices.Equal(slices.Sorted(slices.Values(s.Labels)), slices.Sorted(slices.Values(w.labels))) ||
		!slices.Equal(assignees, slices.Sorted(slices.Values(w.assignees))) {
		t.Errorf("issue list row %+v, want %+v", s, *w)
	}
}

// checkIssueJSON checks `issue view --json` field by field, on the raw
// document (arrays are arrays, never null) and decoded.
func checkIssueJSON(t *testing.T, a *cli, w *wantIssue, did string, start time.Time) {
	t.Helper()
	out := a.ok("issue", "view", w.short, "--json")
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("issue view %s --json: %v", w.short, err)
	}
	for _, k := range []string{"id", "title", "body", "state", "author", "labels", "assignees", "created", "updated", "comments"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("issue %s: JSON lacks %q", w.short, k)
		}
	}
	for _, k := range []string{"labels", "assignees", "comments"} {
		if _, ok := raw[k].([]any); !ok {
			t.Errorf("issue %s: %q is %T, want an array", w.short, k, raw[k])
		}
	}
	if author, _ := raw["author"].(map[string]any); author == nil || author["id"] == nil || author["alias"] == nil {
		t.Errorf("issue %s: author = %v, want id and alias", w.short, raw["author"])
	}
	var is api.Issue
	if err := json.Unmarshal([]byte(out), &is); err != nil {
		t.Fatal(err)
	}
	if is.ID != w.full || !strings.HasPrefix(is.ID, w.short) {
		t.Errorf("issue %s: id = %q, want %q", w.short, is.ID, w.full)
	}
	if is.Title != w.title || is.Body != w.body {
		t.Errorf("issue %s: title, body = %q, %q; want %q, %q", w.short, is.Title, is.Body, w.title, w.body)
	}
	if is.State != w.state || is.Reason != w.reason && w.state == "closed" {
		t.Errorf("issue %s: state = %q (%q), want %q (%q)", w.short, is.State, is.Reason, w.state, w.reason)
	}
	if is.Author.ID != did || is.Author.Alias != "alice" {
		t.Errorf("issue %s: author = %+v, want %s alice", w.short, is.Author, did)
	}
	labels := slices.Sorted(slices.Values(is.Labels))
	wantLabels := slices.Sorted(slices.Values(w.labels))
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("issue %s: labels = %v, want %v", w.short, labels, wantLabels)
	}
	var assignees []string
	for _, p := range is.Assignees {
		assignees = append(assignees, p.ID)
	}
	slices.Sort(assignees)
	wantAssignees := slices.Sorted(slices.Values(w.assignees))
	if !slices.Equal(assignees, wantAssignees) {
		t.Errorf("issue %s: assignees = %v, want %v", w.short, assignees, wantAssignees)
	}
	now := time.Now().Add(time.Minute)
	if is.Created.Before(start) || is.Created.After(now) || is.Updated.Before(is.Created) {
		t.Errorf("issue %s: created %v, updated %v; want created within the test and updated not before it", w.short, is.Created, is.Updated)
	}
	if len(w.comments) > 0 && !is.Updated.After(is.Created) {
		t.Errorf("issue %s: updated %v not after created %v despite comments", w.short, is.Updated, is.Created)
	}
	if len(is.Comments) != len(w.comments) {
		t.Fatalf("issue %s: %d comments, want %d", w.short, len(is.Comments), len(w.comments))
	}
	rawComments, _ := raw["comments"].([]any)
	for i, c := range is.Comments {
		wc := w.comments[i]
		if rc, _ := rawComments[i].(map[string]any); rc == nil || rc["reply_to"] == nil || rc["created"] == nil {
			t.Errorf("issue %s comment %d: JSON %v lacks reply_to or created", w.short, i, rawComments[i])
		}
		if !hexID.MatchString(c.ID) || wc.short != "" && !strings.HasPrefix(c.ID, wc.short) {
			t.Errorf("issue %s comment %d: id %q, want prefix %q", w.short, i, c.ID, wc.short)
		}
		if c.Author.ID != did || c.Author.Alias != "alice" || c.Body != wc.body || c.Created.Before(is.Created) {
			t.Errorf("issue %s comment %d = %+v, want body %q by alice after the issue", w.short, i, c, wc.body)
		}
		if wc.replyTo == "" && c.ReplyTo != "" || wc.replyTo != "" && !strings.HasPrefix(c.ReplyTo, wc.replyTo) {
			t.Errorf("issue %s comment %d: reply_to %q, want %q", w.short, i, c.ReplyTo, wc.replyTo)
		}
	}
	if w.reaction != "" {
		if len(is.Reactions) != 1 || is.Reactions[0].Emoji != w.reaction || len(is.Reactions[0].Authors) != 1 || is.Reactions[0].Authors[0].ID != did {
			t.Errorf("issue %s: reactions = %+v, want %s by alice", w.short, is.Reactions, w.reaction)
		}
	}
}

func checkPatch(t *testing.T, p api.Patch, did, commit1, commit2 string) {
	t.Helper()
	if len(p.Revisions) != 2 {
		t.Fatalf("patch has %d revisions, want 2: %+v", len(p.Revisions), p.Revisions)
	}
	r1, r2 := p.Revisions[0], p.Revisions[1]
	if r1.Number != 1 || r1.Commit != commit1 || r2.Number != 2 || r2.Commit != commit2 || r2.BaseCommit != commit1 ||
		r2.Note != "Second try" || r2.Author.ID != did || r2.Created.Before(r1.Created) {
		t.Errorf("revisions = %+v", p.Revisions)
	}
	verdicts := map[int]api.Review{}
	for _, r := range p.Reviews {
		verdicts[r.RevNumber] = r
	}
	if v := verdicts[1]; len(p.Reviews) != 2 || v.Verdict != "request-changes" || v.Reviewer.ID != did || v.Revision != r1.ID {
		t.Errorf("reviews = %+v, want request-changes on revision 1 and approve on 2", p.Reviews)
	}
	if v := verdicts[2]; v.Verdict != "approve" || v.Summary != "Looks good now." || v.Revision != r2.ID {
		t.Errorf("reviews = %+v, want approve with a summary on revision 2", p.Reviews)
	}
	var inline *api.Comment
	for i, c := range p.Comments {
		if c.Anchor != nil {
			inline = &p.Comments[i]
		}
	}
	if inline == nil {
		t.Fatalf("no inline comment among %+v", p.Comments)
	}
	an := inline.Anchor
	if inline.Body != "Line 4 is still off." || inline.Author.ID != did || an.Path != "main.go" || an.Start != 3 || an.End != 5 ||
		an.RevNumber != 1 || an.Commit != commit1 || an.Revision != r1.ID {
		t.Errorf("inline comment = %+v, anchor %+v; want main.go:3-5 on revision 1", inline, an)
	}
}

func checkRefs(t *testing.T, a *cli, want []api.Ref) {
	t.Helper()
	var refs []api.Ref
	a.json(&refs, "refs", "list", "--json")
	// The branch the patch was opened from is the author's own.
	refs = slices.DeleteFunc(refs, func(r api.Ref) bool { return r.Namespace != "" || r.Name == "refs/heads/fix" })
	slices.SortFunc(refs, func(x, y api.Ref) int { return strings.Compare(x.Name, y.Name) })
	if len(refs) != len(want) {
		t.Fatalf("refs = %+v, want %+v", refs, want)
	}
	for i := range want {
		if refs[i].Name != want[i].Name || refs[i].Commit != want[i].Commit {
			t.Errorf("refs = %+v, want %+v", refs, want)
		}
	}
}

func TestE2EKeyFiles(t *testing.T) {
	t.Parallel()
	// An encrypted key file: reads work, writes need the passphrase.
	c := newCLI(t, t.TempDir())
	pf := filepath.Join(c.dir, "pass")
	if err := os.WriteFile(pf, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("id", "init", "--alias", "carol", "--passphrase-file", pf)
	var id api.Identity
	c.json(&id, "id", "show", "--json")
	if !id.Encrypted || id.Alias != "carol" {
		t.Errorf("id show --json = %+v, want encrypted, alias carol", id)
	}
	c.ok("repo", "create", "--name", "secret", "--passphrase-file", pf)
	c.fail(exitFailure, "is encrypted and no passphrase was given. Pass --passphrase-file FILE or set MURMUR_PASSPHRASE.", "issue", "create", "-t", "locked out")
	c.env["MURMUR_PASSPHRASE"] = "wrong"
	c.fail(exitFailure, "the passphrase does not decrypt the key file", "issue", "create", "-t", "wrong key")
	c.env["MURMUR_PASSPHRASE"] = "correct horse"
	c.id("issue", "create", "-t", "unlocked")
	delete(c.env, "MURMUR_PASSPHRASE")
	var list []api.IssueSummary
	c.json(&list, "issue", "list", "--json")
	if len(list) != 1 || list[0].Title != "unlocked" {
		t.Errorf("issues = %+v, want only the one made with the passphrase", list)
	}

	// A corrupt key file.
	d := newCLI(t, t.TempDir())
	d.ok("repo", "create", "--name", "fragile")
	key := filepath.Join(d.home, node.KeyFile)
	good, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"garbage": []byte("not a key file\n"), "truncated": good[:len(good)/2]} {
		if err := os.WriteFile(key, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r := d.run("issue", "create", "-t", "with a "+name+" key")
		checkFailure(t, r, exitFailure, "identity.key is damaged. Restore it from a backup")
	}
	d.json(&list, "issue", "list", "-s", "all", "--json")
	if len(list) != 0 {
		t.Errorf("issues = %+v, want none written with a corrupt key", list)
	}
}

func TestE2EAmbiguousPrefix(t *testing.T) {
	t.Parallel()
	c := newCLI(t, t.TempDir())
	c.ok("repo", "create", "--name", "crowded")
	// Make issues in process until two share their first 4 hex digits
	// (about 320 are expected).
	ctx := context.Background()
	n, err := node.Open(ctx, node.Config{Home: c.home})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	var prefix, first, second string
	for i := 0; i < 20000 && prefix == ""; i++ {
		is, err := n.CreateIssue(ctx, "crowded", api.NewIssue{Title: fmt.Sprintf("issue %d", i)})
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		p := is.ID[:4]
		if other, ok := seen[p]; ok {
			prefix, first, second = p, other, is.ID
		}
		seen[p] = is.ID
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if prefix == "" {
		t.Fatal("no two issues share a 4-digit prefix")
	}
	r := c.run("issue", "view", prefix)
	checkFailure(t, r, exitFailure, "ambiguous", first[:12], second[:12])
	c.ok("issue", "view", first[:16])
}

func TestE2EConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many processes")
	}
	t.Parallel()
	c := newCLI(t, t.TempDir())
	c.ok("repo", "create", "--name", "busy")
	const writers, perWriter = 2, 15
	var (
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				r := c.run("issue", "create", "-t", fmt.Sprintf("writer %d issue %d", w, i))
				if r.code != 0 {
					fail(fmt.Errorf("writer %d: issue create: exit %d: %s", w, r.code, r.stderr))
					return
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(writersDone)
	}()
	// Read until the writers are done, then once more.
	reads := 0
	var prev map[string]bool
	for last := false; !last; {
		select {
		case <-writersDone:
			last = true
		default:
		}
		r := c.run("issue", "list", "-s", "all", "--json")
		if r.code != 0 {
			fail(fmt.Errorf("reader: issue list: exit %d: %s", r.code, r.stderr))
			<-writersDone
			break
		}
		var list []api.IssueSummary
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			fail(fmt.Errorf("reader: %v in %q", err, r.stdout))
			<-writersDone
			break
		}
		cur := map[string]bool{}
		for _, is := range list {
			cur[is.ID] = true
		}
		for id := range prev {
			if !cur[id] {
				fail(fmt.Errorf("reader: issue %s vanished between two lists", id))
			}
		}
		prev = cur
		reads++
	}
	for _, err := range errs {
		t.Error(err)
	}
	var list []api.IssueSummary
	c.json(&list, "issue", "list", "-s", "all", "--json")
	if len(list) != writers*perWriter {
		t.Errorf("%d issues after the writers, want %d", len(list), writers*perWriter)
	}
	t.Logf("%d consistent reads while writing", reads)
}

func TestE2EKilledWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills many processes")
	}
	t.Parallel()
	c := newCLI(t, t.TempDir())
	c.ok("repo", "create", "--name", "bumpy")
	printed := map[string]string{} // short ID → title
	killed := 0
	start := func(title string) (*exec.Cmd, *bytes.Buffer) {
		cmd := c.command(context.Background(), "", "issue", "create", "-t", title)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	record := func(cmd *exec.Cmd, out *bytes.Buffer, title string) {
		if err := cmd.Wait(); err != nil {
			killed++
		}
		if id := strings.TrimSpace(out.String()); id != "" {
			printed[id] = title
		}
	}
	for i := range 24 {
		title := fmt.Sprintf("killed %d", i)
		victim, vout := start(title)
		// Every third round a second writer runs alongside, attached to
		// the victim or serving it.
		var peer *exec.Cmd
		var pout *bytes.Buffer
		peerTitle := fmt.Sprintf("peer %d", i)
		if i%3 == 0 {
			peer, pout = start(peerTitle)
		}
		time.Sleep(time.Duration(i%6) * 15 * time.Millisecond)
		_ = victim.Process.Kill()
		record(victim, vout, title)
		if peer != nil {
			record(peer, pout, peerTitle)
		}
	}
	// The store opens and every create that printed its ID is there.
	c.id("issue", "create", "-t", "after the storm")
	for id, title := range printed {
		var is api.Issue
		c.json(&is, "issue", "view", id, "--json")
		if is.Title != title {
			t.Errorf("issue %s: title %q, want %q", id, is.Title, title)
		}
	}
	var list []api.IssueSummary
	c.json(&list, "issue", "list", "-s", "all", "--json")
	if len(list) < len(printed)+1 {
		t.Errorf("%d issues listed, fewer than the %d printed", len(list), len(printed)+1)
	}
	t.Logf("%d processes killed or failed, %d printed an ID, %d issues stored", killed, len(printed), len(list))
}
