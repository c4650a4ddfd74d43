package tui

import (
	"context"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// objectKeys act on an issue or a patch alike. gh-dash closes with x and
// reopens with X; on a patch X requests changes (the review keys A and X
// came first), so there x both closes and reopens.
var objectKeys = struct{ Edit, Close, Reopen, Label, Assign, React, Copy key.Binding }{
	Copy:   bind([]string{"y"}, "y", "copy ID"),
	Edit:   bind([]string{"e"}, "e", "edit title & body"),
	Close:  bind([]string{"x"}, "x", "close/reopen"),
	Reopen: bind([]string{"X"}, "X", "reopen"),
	Label:  bind([]string{"l"}, "l", "labels (maintainers)"),
	Assign: bind([]string{"a"}, "a", "assignees (maintainers)"),
	React:  bind([]string{"+"}, "+", "react"),
}

// reactionChoices are the reactions the picker offers: GitHub's, which
// `murmur issue react` also takes by name.
var reactionChoices = []string{"👍", "👎", "😄", "🎉", "😕", "❤️", "🚀", "👀"}

// meta is what the shared actions need to know of the object shown.
type meta struct {
	author    string // DID
	state     string
	title     string
	body      string
	labels    []string
	assignees []api.Person
}

// mine reports whether the user may change the object's title, body and
// state: its author or a maintainer.
func (v *objectView) mine(m meta) bool {
	return m.author == v.c.identity.ID && m.author != "" || v.c.maintains(v.repo)
}

// act handles the keys objectKeys binds, for the object and, for
// reactions, the given target (the object or a selected comment).
func (v *objectView) act(k tea.KeyPressMsg, target string, rs []api.Reaction) (tea.Cmd, bool) {
	m := v.meta()
	switch {
	case key.Matches(k, objectKeys.Edit):
		if !v.mine(m) {
			return noteCmd(notAllowed("the author or a maintainer", "edit it")), true
		}
		return push(newEditForm(v.c, v.repo, &editTarget{kind: v.kind, id: v.id, title: m.title, body: m.body, send: v.edit})), true
	case key.Matches(k, objectKeys.Close):
		return v.closeOrReopen(m, false), true
	case v.kind == "issue" && key.Matches(k, objectKeys.Reopen):
		return v.closeOrReopen(m, true), true
	case key.Matches(k, objectKeys.Label):
		if !v.c.maintains(v.repo) {
			return noteCmd(notAllowed("a maintainer", "label")), true
		}
		return v.openComposer(forLabel, "Labels (comma separated; delete one to remove it)", false, strings.Join(cleanAll(m.labels), ", "), ""), true
	case key.Matches(k, objectKeys.Assign):
		if !v.c.maintains(v.repo) {
			return noteCmd(notAllowed("a maintainer", "assign")), true
		}
		return v.openComposer(forAssign, "Assignees (DID or alias; delete one to unassign)", false, strings.Join(names(m.assignees), ", "), ""), true
	case key.Matches(k, objectKeys.React):
		v.setAsk(v.reactPicker(target, rs))
		return nil, true
	case key.Matches(k, objectKeys.Copy):
		// OSC 52 asks the terminal to take it; not every terminal does,
		// so the status bar shows the whole ID as well.
		return tea.Batch(tea.SetClipboard(v.id), func() tea.Msg { return infoMsg{"copied " + clean(v.id)} }), true
	}
	return nil, false
}

// setState writes a state change after an optional question.
func (v *objectView) setState(state, reason, what string) func() tea.Cmd {
	return func() tea.Cmd {
		return write(v.c, v.repo.ID, v.id, what, false, func(ctx context.Context) error {
			return v.edit(ctx, api.Edit{State: state, Reason: reason})
		})
	}
}

// closeOrReopen closes the object after asking (an issue with a reason),
// or reopens it; onlyReopen is X.
func (v *objectView) closeOrReopen(m meta, onlyReopen bool) tea.Cmd {
	if !v.mine(m) {
		return noteCmd(notAllowed("the author or a maintainer", "close/reopen"))
	}
	state := v.setState
	switch {
	case m.state == "closed":
		return state("open", "", v.kind+" reopened")()
	case m.state == "merged":
		return noteCmd("a merged patch stays merged")
	case onlyReopen:
		return noteCmd("this " + v.kind + " is " + m.state)
	case v.kind == "issue":
		v.setAsk(&choice{question: "close this issue?", opts: []option{
			{"c", "as completed", state("closed", "completed", "issue closed as completed")},
			{"p", "as not planned", state("closed", "not-planned", "issue closed as not planned")},
		}})
	default:
		v.setAsk(yesNo("close this "+v.kind+"?", state("closed", "", v.kind+" closed")))
	}
	return nil
}

// reactPicker offers the reactions by number; one the user has already
// made is withdrawn.
func (v *objectView) reactPicker(target string, rs []api.Reaction) *choice {
	q := &choice{question: "react:"}
	for i, e := range reactionChoices {
		remove := reacted(rs, e, v.c.identity.ID)
		label, what := e, "reacted "+e
		if remove {
			label, what = e+" (undo)", "reaction "+e+" withdrawn"
		}
		q.opts = append(q.opts, option{strconv.Itoa(i + 1), label, func() tea.Cmd {
			return write(v.c, v.repo.ID, v.id, what, false, func(ctx context.Context) error {
				return v.c.svc.React(ctx, v.repo.ID, target, e, remove)
			})
		}})
	}
	return q
}

// submitList writes what a labels or assignees composer holds.
func (v *objectView) submitList(comp *composer) tea.Cmd {
	m, text := v.meta(), strings.TrimSpace(comp.Value())
	var e api.Edit
	var what string
	switch comp.purpose {
	case forLabel:
		e.AddLabels, e.RemoveLabels = listDiff(m.labels, nil, splitLabels(text))
		what = changeText("labels", e.AddLabels, e.RemoveLabels)
	case forAssign:
		ids := make([]string, len(m.assignees))
		for i, p := range m.assignees {
			ids[i] = p.ID
		}
		e.AddAssignees, e.RemoveAssignees = listDiff(ids, names(m.assignees), splitList(text))
		what = changeText("assignees", e.AddAssignees, e.RemoveAssignees)
	default:
		return nil
	}
	return write(v.c, v.repo.ID, v.id, what, true, func(ctx context.Context) error {
		if len(e.AddLabels)+len(e.RemoveLabels)+len(e.AddAssignees)+len(e.RemoveAssignees) == 0 {
			return nil
		}
		return v.edit(ctx, e)
	})
}
