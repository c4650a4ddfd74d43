package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJSONFieldsAndJQ covers gh's --json FIELDS and --jq habits.
func TestJSONFieldsAndJQ(t *testing.T) {
	h := newHarness(t, oneRepo())
	want := []map[string]any{
		{"id": issue1, "state": "open"},
		{"id": issue2, "state": "closed"},
	}
	for _, args := range [][]string{
		{"issue", "list", "-s", "all", "--json", "id,state"},
		{"issue", "list", "-s", "all", "--json=id,state"},
		{"issue", "list", "--json", "id,state", "-s", "all"},
	} {
		r := h.run(args...)
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != exitOK || err != nil {
			t.Fatalf("murmur %v: code %d, %v, stdout %q, stderr %q", args, r.code, err, r.stdout, r.stderr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("murmur %v (-want +got):\n%s", args, d)
		}
	}

	// One known field is taken as the field list too.
	if r := h.run("issue", "view", "--json", "title", issue1); r.code != exitOK || !strings.Contains(r.stdout, `"title": "Crash on empty config"`) || strings.Contains(r.stdout, `"state"`) {
		t.Errorf("issue view --json title ID: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// A bare --json before a positional ID still prints every field.
	if r := h.run("issue", "view", "--json", issue1[:8]); r.code != exitOK || !strings.Contains(r.stdout, `"state"`) {
		t.Errorf("issue view --json ID: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r := h.run("issue", "list", "-s", "all", "--jq", ".[].title")
	if r.code != exitOK || r.stdout != "Crash on empty config\n"+oneRepo().issues[1].Title+"\n" {
		t.Errorf("--jq .[].title: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = h.run("issue", "list", "-s", "all", "--json", "id,state", "--jq", `map(select(.state == "open")) | length`)
	if r.code != exitOK || r.stdout != "1\n" {
		t.Errorf("--json with --jq: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = h.run("issue", "list", "--json", "id,titel")
	checkFailure(t, r, exitUsage, `unknown JSON field "titel"`, "title")
	r = h.run("issue", "list", "--jq", ".[")
	checkFailure(t, r, exitUsage, "--jq")
}

func TestGHHabits(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)

	// pr is patch.
	r := h.run("pr", "view", "--json", "id", issue1[:8])
	if r.code != exitOK || !strings.Contains(r.stdout, `"id"`) {
		t.Errorf("pr view: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// Lists show 30 by default, -L 0 all.
	h.run("issue", "list")
	if svc.filter.Limit != defaultListLimit {
		t.Errorf("issue list asked for %d items, want the default %d", svc.filter.Limit, defaultListLimit)
	}
	h.run("issue", "list", "-L", "0")
	if svc.filter.Limit != 0 {
		t.Errorf("issue list -L 0 asked for %d items, want 0 (all)", svc.filter.Limit)
	}

	// version agrees with --version.
	v, flag := h.run("version"), h.run("--version")
	first, _, _ := strings.Cut(v.stdout, "\n")
	if v.code != exitOK || flag.code != exitOK || first+"\n" != flag.stdout {
		t.Errorf("version %q and --version %q disagree", v.stdout, flag.stdout)
	}
	var info versionInfo
	if r := h.run("version", "--json"); json.Unmarshal([]byte(r.stdout), &info) != nil || info.Protocol == 0 || info.StoreFormat == 0 {
		t.Errorf("version --json = %q", r.stdout)
	}
}

func TestRepoCreatePositionalName(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	if r := h.run("repo", "create", "project", "--json"); r.code != exitOK || svc.newRepo.Name != "project" {
		t.Errorf("repo create NAME: code %d, created %+v, stderr %q", r.code, svc.newRepo, r.stderr)
	}
	if r := h.run("repo", "create", "--name", "other"); r.code != exitOK || svc.newRepo.Name != "other" {
		t.Errorf("repo create --name: code %d, created %+v, stderr %q", r.code, svc.newRepo, r.stderr)
	}
	checkFailure(t, h.run("repo", "create", "a", "--name", "b"), exitUsage, "name the repo once")
	checkFailure(t, h.run("repo", "create"), exitUsage, "NAME is required")
}

func TestCompletesIDs(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	r := h.run("__complete", "issue", "view", "")
	if r.code != exitOK || !strings.Contains(r.stdout, issue1[:4]) || !strings.Contains(r.stdout, "Crash on empty config") || !strings.Contains(r.stdout, issue2[:4]) {
		t.Errorf("complete issue view: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = h.run("__complete", "issue", "close", issue1[:3])
	if strings.Contains(r.stdout, issue2[:4]) || !strings.Contains(r.stdout, issue1[:4]) {
		t.Errorf("complete issue close %s: stdout %q", issue1[:3], r.stdout)
	}
	r = h.run("__complete", "issue", "list", "-R", "al")
	if !strings.Contains(r.stdout, "alpha") {
		t.Errorf("complete -R al: stdout %q", r.stdout)
	}
	r = h.run("__complete", "pr", "view", "")
	if r.code != exitOK || !strings.Contains(r.stdout, patch1[:4]) {
		t.Errorf("complete pr view: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// On a terminal a missing title is asked for, as gh does; without one
// the command line stays wrong.
func TestPromptsForMissingTitle(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	h.tty = true
	h.env["EDITOR"] = "true" // leaves the body empty
	h.stdin = "Prompted title\n"
	r := h.run("issue", "create")
	if r.code != exitOK || svc.newIssue.Title != "Prompted title" || !strings.Contains(r.stderr, "Title: ") {
		t.Errorf("issue create on a terminal: code %d, title %q, stderr %q", r.code, svc.newIssue.Title, r.stderr)
	}
	h.stdin = "" // end of input at the prompt
	r = h.run("issue", "create")
	if r.code != exitFailure || !strings.Contains(r.stderr, "murmur: no title was given. Pass -t/--title") {
		t.Errorf("issue create, no answer: code %d, stderr %q", r.code, r.stderr)
	}

	h.tty = false
	h.stdin = "Piped\n"
	checkFailure(t, h.run("issue", "create"), exitUsage, "-t/--title is required")
}

func TestManPages(t *testing.T) {
	h := newHarness(t, oneRepo())
	dir := filepath.Join(t.TempDir(), "man1")
	if r := h.run("man", dir); r.code != exitOK {
		t.Fatalf("man: code %d, stderr %q", r.code, r.stderr)
	}
	for _, page := range []string{"murmur.1", "murmur-issue-create.1", "murmur-patch-list.1", "murmur-version.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !bytes.Contains(b, []byte(".SH SYNOPSIS")) {
			t.Errorf("%s: %v, %.80q", page, err, b)
		}
	}
}
