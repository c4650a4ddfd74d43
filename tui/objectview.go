package tui

import (
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// objectView is what the issue and patch screens share: the object's ID
// and fetch, a scrolling viewport over its rendering, and the composer
// that opens below it for a comment or a review.
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
	if v.comp != nil {
		v.comp.SetSize(v.w, min(10, max(v.h/2, 4)))
		vh -= v.comp.Height()
	}
	v.vp.SetWidth(v.w)
	v.vp.SetHeight(max(vh, 1))
	v.draw()
}

func (v *objectView) Capturing() bool { return v.comp != nil }

func (v *objectView) View() string {
	if v.comp == nil {
		return v.vp.View()
	}
	return v.vp.View() + "\n" + v.comp.View()
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
		if v.comp == nil {
			return nil, false, false
		}
		cmd, act := v.comp.Update(msg)
		switch act {
		case composeCancel:
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
