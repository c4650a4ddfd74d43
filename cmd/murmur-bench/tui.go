package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
	"murmur/node"
	"murmur/tui"
)

func init() {
	register("tui", "the terminal UI on a repo of 10,000 issues: first frame, and Update + View of a cursor move", tuiScenario)
}

// Terminal size of the tui scenario.
const tuiWidth, tuiHeight = 100, 30

// tuiScenario measures the TUI against a real node holding 10,000
// issues: first_paint_ms from tui.New (opening the repo at start) to the
// first frame showing the issue list, and keystroke_ms, the Update of a
// `j` and the View that follows.
func tuiScenario() ([]Result, error) {
	const issues = 10_000
	const presses = 200
	const paints = 5
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mb-tui-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	n, err := node.Open(ctx, node.Config{Home: filepath.Join(dir, "h")})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if _, err := n.InitIdentity(ctx, "bench", nil); err != nil {
		return nil, err
	}
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "bench"})
	if err != nil {
		return nil, err
	}
	for i := range issues {
		if _, err := n.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "issue " + strconv.Itoa(i), Body: "text"}); err != nil {
			return nil, err
		}
	}
	want := fmt.Sprintf("%d open issues", issues)
	var firsts []float64
	var d *tuiDriver
	for range paints {
		if d != nil {
			d.close()
		}
		start := time.Now()
		d = newTUIDriver(n, repo.ID)
		if err := d.until(want, 30*time.Second); err != nil {
			d.close()
			return nil, err
		}
		firsts = append(firsts, ms(time.Since(start)))
	}
	defer d.close()

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
		return nil, fmt.Errorf("the cursor did not move down the list: row %q, then %q", before, after)
	}
	c := fmt.Sprintf("issues=%d", issues)
	return []Result{
		{"tui", c, "first_paint_ms", median(firsts), "ms"},
		{"tui", c, "first_paint_cold_ms", firsts[0], "ms"},
		{"tui", c, "keystroke_ms", median(keys), "ms"},
		{"tui", c, "keystroke_p99_ms", percentile(keys, 0.99), "ms"},
	}, nil
}

// tuiDriver runs a tui.Model as the program would, without a terminal:
// each command in its own goroutine, their messages fed to Update one at
// a time on the driver's goroutine. Commands that wait (timers, the event
// stream) simply never answer within the measurement.
type tuiDriver struct {
	m    *tui.Model
	msgs chan tea.Msg
	done chan struct{}
}

func newTUIDriver(svc api.Service, repo string) *tuiDriver {
	d := &tuiDriver{
		m:    tui.New(svc, tui.Options{Repo: repo, Offline: true}),
		msgs: make(chan tea.Msg, 64),
		done: make(chan struct{}),
	}
	d.update(tea.WindowSizeMsg{Width: tuiWidth, Height: tuiHeight})
	d.spawn(d.m.Init())
	return d
}

func (d *tuiDriver) spawn(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if msg == nil {
			return
		}
		select {
		case d.msgs <- msg:
		case <-d.done:
		}
	}()
}

func (d *tuiDriver) update(msg tea.Msg) {
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			d.spawn(c)
		}
		return
	}
	_, cmd := d.m.Update(msg)
	d.spawn(cmd)
}

// until feeds messages to the model until a frame contains want.
func (d *tuiDriver) until(want string, limit time.Duration) error {
	timeout := time.After(limit)
	for {
		select {
		case msg := <-d.msgs:
			d.update(msg)
			if strings.Contains(ansi.Strip(d.m.View().Content), want) {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("no frame showed %q within %v; last frame:\n%s", want, limit, ansi.Strip(d.m.View().Content))
		}
	}
}

func (d *tuiDriver) close() { close(d.done) }

// selectedRow is the frame's line under the cursor ("> …").
func selectedRow(m *tui.Model) string {
	for _, l := range strings.Split(ansi.Strip(m.View().Content), "\n") {
		if strings.HasPrefix(l, "> ") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
