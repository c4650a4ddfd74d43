package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/node"
	"murmur/op"
	"murmur/storage"
)

func init() {
	register("search", "full-text search over 100,000 comments, as a ratio to listing a page of issues; TUI keystroke on the search screen", searchScenario)
}

// Shape of the search scenario's repo.
const (
	searchIssues   = 1000
	searchComments = 100_000
	searchVocab    = 20_000 // distinct words, drawn with a Zipf law as in prose
	searchRuns     = 25
)

// searchScenario writes a repo of searchIssues issues and searchComments
// comments into a node's store, then measures Service.Search for a rare
// word, a frequent one, two words and a prefix, against the reference
// of the same run: Service.Issues for a first page of 30. It also
// measures a keystroke (Update + View) on the TUI's search screen.
func searchScenario() ([]Result, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mb-search-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "h")
	repo, err := writeSearchRepo(filepath.Join(home, node.StoreDir))
	if err != nil {
		return nil, err
	}
	n, err := node.Open(ctx, node.Config{Home: home})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	// The TUI starts at its first-run screen without an identity.
	if _, err := n.InitIdentity(ctx, "bench", nil); err != nil {
		return nil, err
	}

	measure := func(f func() (int, error)) (float64, int, error) {
		var xs []float64
		hits := 0
		for range searchRuns {
			start := time.Now()
			h, err := f()
			if err != nil {
				return 0, 0, err
			}
			xs = append(xs, ms(time.Since(start)))
			hits = h
		}
		return median(xs), hits, nil
	}
	list, _, err := measure(func() (int, error) {
		is, err := n.Issues(ctx, repo, api.ListFilter{State: "all", Limit: 30})
		return len(is), err
	})
	if err != nil {
		return nil, err
	}
	c := fmt.Sprintf("comments=%d,issues=%d", searchComments, searchIssues)
	out := []Result{{"search", c, "list_page_ms", list, "ms"}}
	for _, q := range []struct{ name, query string }{
		{"rare", "needle"},
		{"frequent", "w1"},
		{"two_words", "w3 w7"},
		{"prefix", "w12"},
	} {
		d, hits, err := measure(func() (int, error) {
			rs, err := n.Search(ctx, api.SearchQuery{Query: q.query, Repo: repo})
			return len(rs), err
		})
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", q.query, err)
		}
		if hits == 0 {
			return nil, fmt.Errorf("search %q found nothing", q.query)
		}
		out = append(out,
			Result{"search", c, q.name + "_ms", d, "ms"},
			Result{"search", c, q.name + "_vs_list", d / list, "ratio"})
	}

	// The TUI: open the search screen, find the needle, then time each
	// keystroke's Update and View.
	d := newTUIDriver(n, repo)
	defer d.close()
	if err := d.until("open issues", 60*time.Second); err != nil {
		return nil, err
	}
	d.update(tea.KeyPressMsg{Code: '/', Text: "/"})
	if err := d.until("type words to find", 10*time.Second); err != nil {
		return nil, err
	}
	for _, r := range "needle" {
		d.update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if err := d.until("1 result", 30*time.Second); err != nil {
		return nil, err
	}
	const presses = 200
	keys := make([]float64, 0, presses)
	for i := range presses {
		k := tea.KeyPressMsg{Code: 'x', Text: "x"}
		if i%2 == 1 {
			k = tea.KeyPressMsg{Code: tea.KeyBackspace}
		}
		start := time.Now()
		d.update(k)
		_ = d.m.View()
		keys = append(keys, ms(time.Since(start)))
	}
	out = append(out,
		Result{"search", c, "tui_keystroke_ms", median(keys), "ms"},
		Result{"search", c, "tui_keystroke_p99_ms", percentile(keys, 0.99), "ms"})
	return out, nil
}

// writeSearchRepo writes the scenario's repo into a new store at dir and
// returns its ID. One comment holds the word "needle".
func writeSearchRepo(dir string) (string, error) {
	st, err := storage.Open(dir, nil)
	if err != nil {
		return "", err
	}
	defer st.Close()
	k, err := identity.Generate()
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, searchVocab-1)
	text := func(words int) string {
		var b strings.Builder
		for i := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("w" + strconv.FormatUint(zipf.Uint64(), 10))
		}
		return b.String()
	}
	sign := func(kind string, target op.ID, body any, repo op.ID, tip storage.Tip) (*op.Op, error) {
		a, err := forge.NewAction(kind, target, body)
		if err != nil {
			return nil, err
		}
		clock := tip.Clock + 1
		if repo.IsZero() {
			clock = crdt.NewTimestamp(time.Now().Add(-24*time.Hour).UnixMilli(), 0)
		}
		return op.Sign(k, a.Unsigned(repo, tip.Parents, clock))
	}
	g, err := st.Create(op.ID{}, func(tip storage.Tip) (*op.Op, error) {
		return sign(forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "bench", DefaultBranch: "main"}, op.ID{}, tip)
	})
	if err != nil {
		return "", err
	}
	repo := g.ID
	issues, err := st.CreateAll(repo, searchIssues, func(i int, tip storage.Tip) (*op.Op, error) {
		return sign(forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "issue " + text(4), Body: text(30)}, repo, tip)
	})
	if err != nil {
		return "", err
	}
	const batch = 5000
	for done := 0; done < searchComments; done += batch {
		_, err := st.CreateAll(repo, batch, func(i int, tip storage.Tip) (*op.Op, error) {
			body := text(8 + rng.IntN(30))
			if done+i == searchComments/2 {
				body += " needle"
			}
			return sign(forge.KindCommentAdd, issues[rng.IntN(len(issues))].ID, forge.CommentAdd{Body: body}, repo, tip)
		})
		if err != nil {
			return "", err
		}
	}
	return repo.String(), nil
}
