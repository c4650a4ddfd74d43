package node

import (
	"context"
	"strings"
	"testing"

	"murmur/api"
)

func TestSearch(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	if _, err := n.InitIdentity(ctx, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "murmur"}); err != nil {
		t.Fatal(err)
	}
	older, err := n.CreateIssue(ctx, "", api.NewIssue{Title: "Lexer hangs", Body: "The lexer loops on a tab.", Labels: []string{"bug"}})
	if err != nil {
		t.Fatal(err)
	}
	titled, err := n.CreateIssue(ctx, "", api.NewIssue{Title: "Parser crash", Body: "Stack trace attached."})
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.Comment(ctx, "", older.ID, api.NewComment{Body: "It is the parser, a long way down: " + strings.Repeat("more words ", 20)})
	if err != nil {
		t.Fatal(err)
	}
	closed := "closed"
	if _, err := n.EditIssue(ctx, "", titled.ID, api.Edit{State: closed}); err != nil {
		t.Fatal(err)
	}
	// A second repo, searched too unless -R says otherwise.
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "other"}); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := n.CreateIssue(ctx, "other", api.NewIssue{Title: "Unrelated", Body: "parser notes"})
	if err != nil {
		t.Fatal(err)
	}

	ids := func(rs []api.SearchResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		q    api.SearchQuery
		want []string
	}{
		// Title hits first, then the most recently updated.
		{api.SearchQuery{Query: "parser"}, []string{titled.ID, elsewhere.ID, older.ID}},
		{api.SearchQuery{Query: "parser", Repo: "murmur"}, []string{titled.ID, older.ID}},
		{api.SearchQuery{Query: "parser repo:murmur"}, []string{titled.ID, older.ID}},
		{api.SearchQuery{Query: "parser is:open"}, []string{elsewhere.ID, older.ID}},
		{api.SearchQuery{Query: "parser is:closed"}, []string{titled.ID}},
		{api.SearchQuery{Query: "parser is:patch"}, nil},
		{api.SearchQuery{Query: "parser label:BUG"}, []string{older.ID}},
		{api.SearchQuery{Query: "parser author:alice", Limit: 1}, []string{titled.ID}},
		{api.SearchQuery{Query: "lex"}, []string{older.ID}},
	} {
		got, err := n.Search(ctx, tc.q)
		if err != nil {
			t.Errorf("Search(%+v): %v", tc.q, err)
			continue
		}
		if g := ids(got); strings.Join(g, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Search(%+v) = %v, want %v", tc.q, g, tc.want)
		}
	}

	got, err := n.Search(ctx, api.SearchQuery{Query: "parser", Repo: "murmur"})
	if err != nil || len(got) != 2 {
		t.Fatalf("Search(parser) = %v, %v", got, err)
	}
	if r := got[0]; r.Match != "title" || r.Snippet != "Parser crash" || r.RepoName != "murmur" || r.State != "closed" || r.Author.Alias != "alice" {
		t.Errorf("title hit = %+v", r)
	}
	if r := got[1]; r.Match != "comment" || r.Comment != c.ID || !strings.HasPrefix(r.Snippet, "It is the parser") || !strings.HasSuffix(r.Snippet, "…") {
		t.Errorf("comment hit = %+v, want comment %s with a snippet", r, c.ID)
	}

	for _, tc := range []struct {
		q    api.SearchQuery
		want string
	}{
		{api.SearchQuery{Query: ""}, "no words"},
		{api.SearchQuery{Query: "is:open"}, "no words"},
		{api.SearchQuery{Query: "x is:shiny"}, "use one of"},
		{api.SearchQuery{Query: "x", Limit: -1}, "limit"},
		{api.SearchQuery{Query: "x author:nobody"}, "alias known here"},
		{api.SearchQuery{Query: "x repo:murmur", Repo: "other"}, "give one"},
	} {
		_, err := n.Search(ctx, tc.q)
		if code(err) != api.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Search(%+v) = %v, want invalid with %q", tc.q, err, tc.want)
		}
	}
	if _, err := n.Search(ctx, api.SearchQuery{Query: "x", Repo: "nosuch"}); code(err) != api.CodeNotFound {
		t.Errorf("Search in a missing repo = %v, want not found", err)
	}
}
