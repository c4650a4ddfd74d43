package tui

import (
	"context"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// objectView is what the issue, patch and diff screens share: the
// object's ID and fetch, a scrolling viewport over its rendering, and the
// composer that opens below it for a comment or a review.
type objectView struct {
	c      *common
	repo   api.Repo
	id     string
	title  string
	loaded bool
	load   refetch
	vp     viewport.Model
	comp   *composer
	w, h   int

	// Set by the screen: fetch makes the command that loads the object
	// (an issueMsg or a patchMsg); draw renders it into vp; send writes
	// what a submitted composer holds.
	fetch func() tea.Cmd
	draw  func()
	send  func(*composer) tea.Cmd
	// kind is "issue" or "patch"; meta describes the object for the
	// shared actions, edit writes an edit of it.
	kind string
	meta func() meta
	edit func(ctx context.Context, e api.Edit) error

	// ask is a question or picker open below the object.
	ask *choice
	selection
}

func newObjectView(c *common, repo api.Repo, id, title string) objectView {
	vp := viewport.New()
	vp.MouseWheelEnabled = true
	return objectView{c: c, repo: repo, id: id, title: title, vp: vp}
}

func (v *objectView) Init() tea.Cmd { return v.load.start(v.fetch()) }

func (v *objectView) SetSize(w, h int) {
	v.w, v.h = w, h
	v.layout()
}

// layout shares the height between the viewport and an open composer.
func (v *objectView) layout() {
	vh := v.h
	if v.ask != nil {
		vh--
	}
	if v.comp != nil {
		v.comp.SetSize(v.w, min(10, max(v.h/2, 4)))
		vh -= v.comp.Height()
	}
	v.vp.SetWidth(v.w)
	v.vp.SetHeight(max(vh, 1))
	v.draw()
}

func (v *objectView) Capturing() bool { return v.comp != nil || v.ask != nil }

// overlayKeys is the keymap of an open question or composer, if any.
func (v *objectView) overlayKeys() (keyMap, bool) {
	switch {
	case v.ask != nil:
		return v.ask.keyMap(), true
	case v.comp != nil:
		return v.comp.KeyMap(), true
	}
	return keyMap{}, false
}

func (v *objectView) View() string {
	out := v.vp.View()
	if v.comp != nil {
		out += "\n" + v.comp.View()
	}
	if v.ask != nil {
		out += "\n" + v.ask.view(v.c.st)
	}
	return out
}

// setAsk opens or closes the question, making room for it.
func (v *objectView) setAsk(q *choice) {
	v.ask = q
	v.layout()
}

// openComposer opens a composer for p below the object.
func (v *objectView) openComposer(p purpose, prompt string, multi bool, initial, target string) tea.Cmd {
	var cmd tea.Cmd
	v.comp, cmd = newComposer(v.c, p, prompt, multi, initial, v.w)
	v.comp.target = target
	v.layout()
	return cmd
}

// fetched marks a fetch answered; the command refetches if an event came
// in meanwhile.
func (v *objectView) fetched() tea.Cmd { return v.load.done(v.fetch()) }

// update handles the messages both screens treat alike: events, write
// results, the editor, markdown rendered in the background, the mouse
// wheel, and keys while the composer is open. handled is false for the
// others; consumed says whether the message stops here.
func (v *objectView) update(msg tea.Msg) (cmd tea.Cmd, consumed, handled bool) {
	switch msg := msg.(type) {
	case eventMsg:
		if msg.ev.Repo != v.repo.ID {
			return nil, false, true
		}
		return v.load.start(v.fetch()), false, true
	case writtenMsg:
		if msg.repo != v.repo.ID || msg.object != v.id {
			return nil, false, true
		}
		if msg.composed && v.comp != nil {
			if msg.err != nil {
				v.comp.busy = false
				return nil, true, true
			}
			v.comp = nil
			v.layout()
		}
		if msg.err != nil {
			return nil, true, true
		}
		return v.load.start(v.fetch()), true, true
	case editorMsg:
		if v.comp != nil {
			cmd, _ := v.comp.Update(msg)
			return cmd, true, true
		}
		return nil, false, true
	case mdRenderedMsg:
		if v.loaded {
			v.draw()
		}
		return nil, false, true
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		v.vp, cmd = v.vp.Update(msg)
		return cmd, true, true
	case tea.KeyPressMsg:
		if v.ask != nil {
			cmd, done := v.ask.update(msg)
			if done {
				v.setAsk(nil)
			}
			return cmd, true, true
		}
		if v.comp == nil {
			return nil, false, false
		}
		cmd, act := v.comp.Update(msg)
		switch act {
		case composeCancel:
			if v.comp.changed() {
				// A half-written text is not thrown away on one key.
				v.setAsk(yesNo("discard what you wrote?", func() tea.Cmd {
					v.comp = nil
					v.layout()
					return nil
				}))
				return nil, true, true
			}
			v.comp = nil
			v.layout()
		case composeSubmit:
			v.comp.busy = true
			return v.send(v.comp), true, true
		}
		return cmd, true, true
	}
	return nil, false, false
}
