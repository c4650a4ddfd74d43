package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) searchCmd() *cobra.Command {
	var q api.SearchQuery
	var asJSON bool
	c := &cobra.Command{
		Use:   "search QUERY... [-R REPO] [-L N] [--json]",
		Short: "Find issues and patches by the words of their titles, bodies and comments",
		Long: `Find issues and patches whose title, body and comments hold every word of
QUERY. The last word also matches longer words it begins ("pars" finds
"parser"); end the query with a space, or quote the word, to match it
exactly. Qualifiers, as in gh:

  is:open, is:closed, is:merged, is:draft   the state
  is:issue, is:patch                        the kind
  label:NAME                                a label (repeat: all of them)
  author:ALIAS, author:DID                  the author
  repo:NAME                                 one repo, like -R

Without -R or repo: every repo in this data directory is searched. Title
hits come first, then the most recently updated. Off a terminal each
result is one tab-separated line: id, type, state, repo, title, where the
words matched (title, body or comment), snippet.`,
		Example: `  murmur search parser crash
  murmur search "segfault is:open label:bug"
  murmur search lexer -R murmur --json id,title,snippet`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			q.Query = strings.Join(argv, " ")
			q.Repo = a.repoFlag
			if q.Limit < 0 || q.Limit > api.MaxSearchLimit {
				return usagef("invalid limit %d: use 1 to %d", q.Limit, api.MaxSearchLimit)
			}
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			res, err := svc.Search(ctx, q)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONList(a, res)
			}
			a.writeSearchResults(res)
			if a.pretty() && len(res) == q.Limit {
				fmt.Fprintf(a.Stderr, "Showing the first %d; raise -L for more.\n", q.Limit)
			}
			return nil
		},
	}
	a.addRepoFlag(c)
	c.Flags().IntVarP(&q.Limit, "limit", "L", defaultListLimit, "show at most `N`")
	a.addJSONFlags(c, &asJSON, "print a JSON array")
	return c
}

func (a *app) writeSearchResults(res []api.SearchResult) {
	if len(res) == 0 {
		if a.pretty() {
			a.out.WriteString("Nothing matches.\n")
		}
		return
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	idLen := uniqueLen(ids)
	t := newTable(5, "ID", "TYPE", "STATE", "REPO", "TITLE", "MATCH")
	for _, r := range res {
		cells := []cell{{text: prefix(r.ID, idLen), style: styleCyan}, {text: r.Type},
			{text: r.State, style: stateStyle(r.State)}, {text: r.RepoName, style: styleDim}, {text: r.Title}}
		switch {
		case !a.pretty():
			cells = append(cells, cell{text: r.Match}, cell{text: r.Snippet})
		case r.Match == "title" && strings.EqualFold(r.Snippet, r.Title):
			cells = append(cells, cell{text: r.Match, style: styleDim})
		default:
			cells = append(cells, cell{text: r.Match + ": " + r.Snippet, style: styleDim})
		}
		t.add(cells...)
	}
	a.writeTable(&a.out, t)
}
