package main

import (
	"strings"
	"testing"

	"murmur/api"
)

// searchResults are canned search results: a title hit and a comment
// hit whose snippet carries escape sequences.
var searchResults = []api.SearchResult{
	{Repo: repoA, RepoName: "murmur", ID: issue1, Type: "issue", Title: "Parser crash", State: "open", Author: alice,
		Labels: []string{"bug"}, Match: "title", Snippet: "Parser crash", Updated: testNow},
	{Repo: repoA, RepoName: "murmur", ID: patch1, Type: "patch", Title: "Faster lexer", State: "merged", Author: bob,
		Labels: []string{}, Match: "comment", Comment: issue2, Snippet: "…the parser \x1b[31mno longer\x1b[0m allocates…", Updated: testNow},
}

func searchFake() *fakeService {
	f := oneRepo()
	f.results = searchResults
	return f
}

func TestSearchCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		tty  bool
	}{
		{"search.tsv", []string{"search", "parser", "is:open"}, false},
		{"search.term", []string{"search", "parser", "is:open"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := searchFake()
			h := newHarness(t, f)
			h.tty, h.width = tc.tty, 100
			h.env["NO_COLOR"] = "1"
			r := h.run(tc.args...)
			if r.code != 0 {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			if q := f.search; q.Query != "parser is:open" || q.Repo != "" || q.Limit != defaultListLimit {
				t.Errorf("query = %+v, want the words joined, every repo, the default limit", q)
			}
			if strings.Contains(r.stdout, "\x1b[31m") {
				t.Errorf("stdout carries escape sequences from the data:\n%q", r.stdout)
			}
			golden(t, tc.name, r.stdout)
		})
	}

	f := searchFake()
	h := newHarness(t, f)
	r := h.run("search", "parser", "-R", "murmur", "-L", "5", "--json", "id,match,comment")
	if r.code != 0 || f.search.Repo != "murmur" || f.search.Limit != 5 {
		t.Fatalf("search -R -L --json: code %d, query %+v: %s", r.code, f.search, r.stderr)
	}
	if !strings.Contains(r.stdout, `"match": "comment"`) || !strings.Contains(r.stdout, `"comment": "`+issue2) || strings.Contains(r.stdout, `"title":`) {
		t.Errorf("--json id,match,comment printed:\n%s", r.stdout)
	}
	if r := h.run("search", "parser", "--jq", ".[0].title"); r.code != 0 || r.stdout != "Parser crash\n" {
		t.Errorf("--jq: code %d, stdout %q", r.code, r.stdout)
	}
	h.tty = true
	f.results = nil
	if r := h.run("search", "nothing"); r.code != 0 || r.stdout != "Nothing matches.\n" {
		t.Errorf("no results: code %d, stdout %q", r.code, r.stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search"}, "requires at least 1 arg"},
		{[]string{"search", "x", "-L", "-1"}, "invalid limit"},
	} {
		r := h.run(tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want it to say %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestSearchCommandError(t *testing.T) {
	f := searchFake()
	f.err = api.Errorf(api.CodeInvalid, "is:shiny: use one of open, closed, merged, draft, issue or patch")
	r := newHarness(t, f).run("search", "x", "is:shiny")
	if r.code == 0 || !strings.Contains(r.stderr, "use one of open") {
		t.Errorf("code %d, stderr %q; want the service's advice", r.code, r.stderr)
	}
}
