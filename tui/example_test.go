package tui_test

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
	"murmur/tui"
)

// oneRepo is the smallest api.Service the TUI can show: an identity and
// one repo; other methods are not called by this example.
type oneRepo struct{ api.Service }

func (oneRepo) Identity(context.Context) (api.Identity, error) {
	return api.Identity{Person: api.Person{Alias: "alice"}}, nil
}
func (oneRepo) Status(context.Context) (api.Status, error)                     { return api.Status{}, nil }
func (oneRepo) Inbox(context.Context, api.InboxQuery) ([]api.InboxItem, error) { return nil, nil }
func (oneRepo) Repos(context.Context) ([]api.Repo, error) {
	return []api.Repo{{ID: "r1", Name: "murmur", Description: "a peer-to-peer forge", OpenIssues: 3, Following: true}}, nil
}

// run runs cmd and what its answers ask for.
func run(m tea.Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			run(m, c)
		}
	default:
		_, next := m.Update(msg)
		run(m, next)
	}
}

// Example drives the model by hand, as a program would: start-up
// commands, their answers, then a frame.
func Example() {
	m := tui.New(oneRepo{}, tui.Options{NoColor: true, Offline: true})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	// The start-up batch is identity, status, then the long-lived event
	// stream and status timer, which this example leaves out.
	batch := m.Init()().(tea.BatchMsg)
	for _, c := range batch[:2] {
		run(m, c)
	}
	for _, line := range strings.Split(ansi.Strip(m.View().Content), "\n") {
		if strings.Contains(line, "murmur") || strings.Contains(line, "OFFLINE") {
			fmt.Println(strings.TrimRight(line, " "))
		}
	}
	// Output:
	// > ★ murmur                 3 issues   0 patches local   a peer-to-peer forge
	//  alice │ repos                                                          OFFLINE
}
