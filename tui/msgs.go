package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// callTimeout bounds every request so a wedged node never leaves a screen
// loading forever; the stream of events is not bounded.
const callTimeout = 30 * time.Second

// result is embedded in every message that answers a request; a failed one
// lands in the status bar.
type result struct{ err error }

func (r result) failed() error { return r.err }

type failer interface{ failed() error }

// Messages answering requests.
type (
	identityMsg struct {
		result
		id      api.Identity
		created bool
	}
	statusMsg struct {
		result
		st api.Status
	}
	reposMsg struct {
		result
		repos []api.Repo
	}
	repoMsg struct {
		result
		repo api.Repo
	}
	repoCreatedMsg struct {
		result
		repo api.Repo
	}
	issuesMsg struct {
		result
		repo, state string
		items       []api.IssueSummary
	}
	patchesMsg struct {
		result
		repo, state string
		items       []api.PatchSummary
	}
	refsMsg struct {
		result
		repo string
		refs []api.Ref
	}
	activityMsg struct {
		result
		repo  string
		items []api.Activity
	}
	issueMsg struct {
		result
		repo, id string
		issue    api.Issue
	}
	patchMsg struct {
		result
		repo, id string
		patch    api.Patch
	}
	// writtenMsg answers a write (comment, edit, review, reaction); the
	// screen that made it refetches, the status bar says what happened.
	writtenMsg struct {
		result
		repo, object, what string
		// composed is set for a write made from a composer, which closes
		// on success and keeps its text on failure.
		composed bool
	}
)

// Messages of the event stream and of the UI itself.
type (
	eventsMsg struct {
		result
		ch <-chan api.Event
	}
	eventMsg      struct{ ev api.Event }
	eventsEndMsg  struct{}
	statusTickMsg struct{}
	clearNoteMsg  struct{ seq int }
	editorMsg     struct {
		result
		text string
	}
	// aliasSkippedMsg goes on from the first-run screen without an alias.
	aliasSkippedMsg struct{}
	// noteMsg is a hint for the status bar, shown as an error; infoMsg
	// is news for it.
	noteMsg struct{ text string }
	infoMsg struct{ text string }
	pushMsg struct{ s screen }
	popMsg  struct{}
	// replaceMsg pops the top screen and pushes s.
	replaceMsg struct{ s screen }
)

func push(s screen) tea.Cmd { return func() tea.Msg { return pushMsg{s} } }

// call runs f with a bounded context in a command.
func call(ctx context.Context, f func(ctx context.Context) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return f(ctx)
	}
}

func fetchIdentity(c *common) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		id, err := c.svc.Identity(ctx)
		return identityMsg{result: result{err}, id: id}
	})
}

func initIdentity(c *common, alias string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		id, err := c.svc.InitIdentity(ctx, alias, nil)
		return identityMsg{result: result{err}, id: id, created: true}
	})
}

func setAlias(c *common, alias string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		id, err := c.svc.SetAlias(ctx, alias)
		return identityMsg{result: result{err}, id: id, created: true}
	})
}

func fetchStatus(c *common) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		st, err := c.svc.Status(ctx)
		return statusMsg{result: result{err}, st: st}
	})
}

func fetchRepos(c *common) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		rs, err := c.svc.Repos(ctx)
		return reposMsg{result: result{err}, repos: rs}
	})
}

func fetchRepo(c *common, repo string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		r, err := c.svc.Repo(ctx, repo)
		return repoMsg{result: result{err}, repo: r}
	})
}

func createRepo(c *common, n api.NewRepo) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		r, err := c.svc.CreateRepo(ctx, n)
		return repoCreatedMsg{result: result{err}, repo: r}
	})
}

func fetchIssues(c *common, repo, state string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		is, err := c.svc.Issues(ctx, repo, api.ListFilter{State: state})
		return issuesMsg{result: result{err}, repo: repo, state: state, items: is}
	})
}

func fetchPatches(c *common, repo, state string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		ps, err := c.svc.Patches(ctx, repo, api.ListFilter{State: state})
		return patchesMsg{result: result{err}, repo: repo, state: state, items: ps}
	})
}

func fetchRefs(c *common, repo string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		rs, err := c.svc.Refs(ctx, repo)
		return refsMsg{result: result{err}, repo: repo, refs: rs}
	})
}

// activityLimit is how many recent ops the activity tab shows.
const activityLimit = 200

func fetchActivity(c *common, repo string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		as, err := c.svc.Activity(ctx, repo, activityLimit)
		return activityMsg{result: result{err}, repo: repo, items: as}
	})
}

func fetchIssue(c *common, repo, id string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		is, err := c.svc.Issue(ctx, repo, id)
		return issueMsg{result: result{err}, repo: repo, id: id, issue: is}
	})
}

func fetchPatch(c *common, repo, id string) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		p, err := c.svc.Patch(ctx, repo, id)
		return patchMsg{result: result{err}, repo: repo, id: id, patch: p}
	})
}

// write runs a write in a command and reports it as a writtenMsg.
func write(c *common, repo, object, what string, composed bool, f func(ctx context.Context) error) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		return writtenMsg{result: result{f(ctx)}, repo: repo, object: object, what: what, composed: composed}
	})
}

func subscribe(c *common) tea.Cmd {
	return func() tea.Msg {
		ch, err := c.svc.Events(c.ctx)
		return eventsMsg{result: result{err}, ch: ch}
	}
}

func waitEvent(ch <-chan api.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsEndMsg{}
		}
		return eventMsg{ev}
	}
}

// openEditor writes text to a temporary file, runs the user's editor on
// it and returns what was saved.
func openEditor(text string) tea.Cmd {
	f, err := os.CreateTemp("", "murmur-*.md")
	if err != nil {
		return func() tea.Msg { return editorMsg{result: result{err}} }
	}
	name := f.Name()
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return func() tea.Msg { return editorMsg{result: result{err}} }
	}
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	args := strings.Fields(editor)
	cmd := exec.Command(args[0], append(args[1:], name)...)
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		defer os.Remove(name)
		if err != nil {
			return editorMsg{result: result{err}}
		}
		f, err := os.Open(name)
		if err != nil {
			return editorMsg{result: result{err}}
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxBody+1))
		if err == nil && len(b) > maxBody {
			err = fmt.Errorf("text from the editor is over %d bytes", maxBody)
		}
		return editorMsg{result: result{err}, text: strings.TrimRight(string(b), "\n")}
	})
}

// refetch coalesces reloads: a reload asked for while one is in flight
// runs once after it, however many were asked for.
type refetch struct{ inflight, dirty bool }

func (r *refetch) start(cmd tea.Cmd) tea.Cmd {
	if r.inflight {
		r.dirty = true
		return nil
	}
	r.inflight = true
	return cmd
}

func (r *refetch) done(cmd tea.Cmd) tea.Cmd {
	r.inflight = false
	if r.dirty {
		r.dirty = false
		r.inflight = true
		return cmd
	}
	return nil
}
