package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"murmur/api"
	"murmur/internal/workload"
	"murmur/node"
	"murmur/op"
	"murmur/storage"
)

func init() {
	register("inbox", "the inbox of a user following 20 repos with 50,000 ops: query, as a ratio to a plain list query, and a TUI keystroke on the inbox screen", inboxScenario)
}

// inboxScenario fills a node's store with 20 generated repos of 2,500 ops
// each (through the ingest path), follows them, and measures:
// inbox_ms, a first page (30) of the unread inbox; inbox_all_ms, the same
// with read items; inbox_repo_ms, a page of one repo's items, which skips
// the others'; list_ms, the reference: a first page of one repo's issues,
// the plain list query; and keystroke_ms, the Update + View of a `j` on
// the TUI's inbox screen.
func inboxScenario() ([]Result, error) {
	const repos, perRepo, page = 20, 2500, 30
	const queries, presses = 50, 200
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mb-inbox-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "h")
	st, err := storage.Open(filepath.Join(home, node.StoreDir), nil)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range repos {
		raw, err := workload.Ops(perRepo, int64(100+i))
		if err == nil {
			err = workload.IngestPipeline(st, raw, 1000)
		}
		if err != nil {
			st.Close()
			return nil, err
		}
		g, err := op.Decode(raw[0])
		if err != nil {
			st.Close()
			return nil, err
		}
		ids = append(ids, g.ID().String())
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	n, err := node.Open(ctx, node.Config{Home: home})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if _, err := n.InitIdentity(ctx, "bench", nil); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := n.Follow(ctx, id, nil); err != nil {
			return nil, err
		}
	}
	timeQuery := func(f func() (int, error)) (float64, error) {
		var xs []float64
		for range queries {
			start := time.Now()
			got, err := f()
			if err != nil {
				return 0, err
			}
			if got != page {
				return 0, fmt.Errorf("a query returned %d items, want a page of %d", got, page)
			}
			xs = append(xs, ms(time.Since(start)))
		}
		return median(xs), nil
	}
	inbox := func(q api.InboxQuery) func() (int, error) {
		return func() (int, error) {
			items, err := n.Inbox(ctx, q)
			return len(items), err
		}
	}
	list, err := timeQuery(func() (int, error) {
		is, err := n.Issues(ctx, ids[0], api.ListFilter{State: "all", Limit: page})
		return len(is), err
	})
	if err != nil {
		return nil, err
	}
	unread, err := timeQuery(inbox(api.InboxQuery{Limit: page}))
	if err != nil {
		return nil, err
	}
	all, err := timeQuery(inbox(api.InboxQuery{All: true, Limit: page}))
	if err != nil {
		return nil, err
	}
	// The first repo's entries are the oldest: a page of them skips the
	// other 19 repos' entries.
	oneRepo, err := timeQuery(inbox(api.InboxQuery{All: true, Limit: page, Repo: ids[0]}))
	if err != nil {
		return nil, err
	}

	d := newTUIDriver(n, "")
	defer d.close()
	if err := d.until("repos", 30*time.Second); err != nil {
		return nil, err
	}
	d.update(tea.KeyPressMsg{Code: 'i', ShiftedCode: 'I', Text: "I"})
	if err := d.until("> • ", 30*time.Second); err != nil {
		return nil, err
	}
	j := tea.KeyPressMsg{Code: 'j', Text: "j"}
	before := selectedRow(d.m)
	keys := make([]float64, 0, presses)
	for range presses {
		start := time.Now()
		d.m.Update(j)
		_ = d.m.View()
		keys = append(keys, ms(time.Since(start)))
	}
	if after := selectedRow(d.m); after == before || after == "" {
		return nil, fmt.Errorf("the cursor did not move down the inbox: row %q, then %q", before, after)
	}
	c := fmt.Sprintf("repos=%d ops=%d", repos, repos*perRepo)
	return []Result{
		{"inbox", c, "list_ms", list, "ms"},
		{"inbox", c, "inbox_ms", unread, "ms"},
		{"inbox", c, "inbox_all_ms", all, "ms"},
		{"inbox", c, "inbox_repo_ms", oneRepo, "ms"},
		{"inbox", c, "inbox_vs_list", unread / list, "ratio"},
		{"inbox", c, "keystroke_ms", median(keys), "ms"},
		{"inbox", c, "keystroke_p99_ms", percentile(keys, 0.99), "ms"},
	}, nil
}
