package tui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// maxDiffRows bounds the rows a diff is laid out into; a longer diff is
// cut there with a note saying where to read the rest.
const maxDiffRows = 100_000

// maxCommentRows bounds the body lines an inline comment takes in a diff.
const maxCommentRows = 4

// diffMsg answers a PatchDiff request. seq names the request: an answer
// to an older one (another revision asked for meanwhile) is dropped.
type diffMsg struct {
	result
	repo, id string
	seq      int
	stat     bool
	diff     api.Diff
}

func fetchDiff(c *common, repo, id string, q api.DiffQuery, seq int) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		d, err := c.svc.PatchDiff(ctx, repo, id, q)
		return diffMsg{result: result{err}, repo: repo, id: id, seq: seq, stat: q.Stat, diff: d}
	})
}

// diffAnswer is the state of one PatchDiff request.
type diffAnswer struct {
	done bool
	err  error
	diff api.Diff
}

// pane is the part of the diff screen the keys move in.
type pane int

const (
	filesPane pane = iota
	diffPane
)

// rowKind is what a row of the laid-out diff shows.
type rowKind uint8

const (
	diffFileRow    rowKind = iota // a file's header
	diffHunkRow                   // a hunk's header
	diffLineRow                   // a line of a hunk
	diffBareRow                   // a file without lines: binary, or past the node's cut
	diffCommentRow                // an inline comment's header or a line of its body
	diffCutRow                    // the note that the diff was cut
)

// diffRow is one row of the laid-out diff. It holds indexes, not text:
// only the rows in the window are rendered, so laying out a diff costs a
// few words a line and scrolling costs one screenful.
type diffRow struct {
	kind              rowKind
	file, hunk, line  int32 // into the diff's Files, the file's Hunks, the hunk's Lines
	comment, bodyLine int32 // into the shown comments; -1 for a comment's header
}

// inlineTarget is the line a composer's comment is for.
type inlineTarget struct {
	rev  int
	path string
	line int
}

// diffScreen is a patch's files and diff: the files a revision changes
// with their added and deleted lines (PatchDiff with Stat), and below
// them the diff of the selected file or of all of them, with a cursor
// over its lines. The line under the cursor takes an inline comment; the
// comments already made on the revision show under their lines. One
// revision is shown at a time (the latest by default), or the change
// between two.
type diffScreen struct {
	objectView
	patch api.Patch

	// rev is the revision asked for (0: the latest), from the revision
	// compared from (0: the revision's own base). seq numbers the
	// requests made for them.
	rev, from int
	seq       int
	stat      diffAnswer
	full      diffAnswer

	focus pane
	// file is the selected entry of the files pane: 0 for all files, i
	// for files()[i-1]; ftop is the pane's first entry shown. filePath
	// is the selected file's path, kept across revisions.
	file, ftop int
	filePath   string

	// rows is the full diff laid out; cursor is the row of the line
	// under the cursor (-1 when there is none), top the first row shown.
	rows        []diffRow
	cut         int // lines left out past maxDiffRows
	cursor, top int
	shown       []api.Comment // inline comments drawn in rows
	target      inlineTarget
}

func newDiffScreen(c *common, repo api.Repo, p api.Patch) *diffScreen {
	s := &diffScreen{objectView: newObjectView(c, repo, p.ID, p.Title), cursor: -1}
	s.fetch = func() tea.Cmd { return fetchPatch(s.c, s.repo.ID, s.id) }
	s.draw = func() {}
	s.send = s.submit
	s.kind = "patch"
	s.setPatch(p)
	return s
}

func (s *diffScreen) Init() tea.Cmd { return s.reload() }

func (s *diffScreen) Title() string { return "diff " + shortID(s.id) }

// reload asks for the files and the diff of the revisions chosen.
func (s *diffScreen) reload() tea.Cmd {
	s.seq++
	s.stat, s.full = diffAnswer{}, diffAnswer{}
	q := api.DiffQuery{Revision: s.rev}
	if s.from > 0 {
		q = api.DiffQuery{From: s.from, To: s.shownRev()}
	}
	stat := q
	stat.Stat = true
	return tea.Batch(fetchDiff(s.c, s.repo.ID, s.id, stat, s.seq), fetchDiff(s.c, s.repo.ID, s.id, q, s.seq))
}

func (s *diffScreen) latest() int {
	n := 0
	for _, r := range s.patch.Revisions {
		n = max(n, r.Number)
	}
	return n
}

// shownRev is the number of the revision shown.
func (s *diffScreen) shownRev() int {
	if s.rev > 0 {
		return s.rev
	}
	return s.latest()
}

func (s *diffScreen) setPatch(p api.Patch) {
	s.patch, s.loaded, s.title = p, true, p.Title
	s.layout()
}

func (s *diffScreen) KeyMap() keyMap {
	if km, ok := s.overlayKeys(); ok {
		return km
	}
	d := diffKeys
	return keyMap{
		short: []key.Binding{d.Focus, d.Comment, d.PrevRev, d.NextRev, globals.Back, globals.Help},
		full: [][]key.Binding{
			{lists.Up, lists.Down, lists.PageUp, lists.PageDown, lists.Top, lists.Bottom},
			{d.Focus, d.Open, d.Comment},
			{d.PrevRev, d.NextRev, d.FromDown, d.FromUp},
			globals.list(),
		},
	}
}

func (s *diffScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.repo == s.repo.ID && msg.id == s.id && msg.seq == s.seq {
			s.answered(msg)
		}
		return nil, true
	case patchMsg:
		if msg.repo != s.repo.ID || msg.id != s.id {
			return nil, false
		}
		cmd := s.fetched()
		if msg.err != nil {
			return cmd, true
		}
		shown := s.shownRev()
		s.setPatch(msg.patch)
		// A new revision replaces the latest shown; new comments show
		// under their lines.
		if s.rev == 0 && s.from == 0 && s.latest() != shown {
			return tea.Batch(cmd, s.reload()), true
		}
		s.layoutRows()
		return cmd, true
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.scroll(-3)
		case tea.MouseWheelDown:
			s.scroll(3)
		}
		return nil, true
	}
	if cmd, consumed, handled := s.update(msg); handled {
		return cmd, consumed
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		return s.key(k)
	}
	return nil, false
}

func (s *diffScreen) answered(msg diffMsg) {
	a := diffAnswer{done: true, err: msg.err, diff: msg.diff}
	if msg.stat {
		s.stat = a
	} else {
		s.full = a
	}
	s.file = 0
	for i, f := range s.files() {
		if s.filePath != "" && f.Path == s.filePath {
			s.file = i + 1
		}
	}
	if !msg.stat {
		s.layoutRows()
	}
}

// files are the files changed: from the stat, or from the full diff
// when the stat failed.
func (s *diffScreen) files() []api.DiffFile {
	if s.stat.done && s.stat.err == nil {
		return s.stat.diff.Files
	}
	if s.full.done && s.full.err == nil {
		return s.full.diff.Files
	}
	return nil
}

// anchorLine is the line an inline comment shows under: the last of its
// range.
func anchorLine(a *api.Anchor) int {
	if a.End > a.Start {
		return a.End
	}
	return a.Start
}

// layoutRows lays out the full diff of the selected file (or all files)
// with the inline comments on the revision shown, keeping the cursor on
// the same line.
func (s *diffScreen) layoutRows() {
	var at diffRow
	if s.cursor >= 0 && s.cursor < len(s.rows) {
		at = s.rows[s.cursor]
	}
	hadCursor := s.cursor >= 0
	s.rows, s.shown, s.cut, s.cursor = s.rows[:0], s.shown[:0], 0, -1
	if !s.full.done || s.full.err != nil {
		return
	}
	d := s.full.diff
	// Comments by path and line, for the revision shown.
	byLine := map[string]map[int][]int32{}
	for _, c := range s.patch.Comments {
		a := c.Anchor
		if a == nil || a.RevNumber != d.Revision {
			continue
		}
		if byLine[a.Path] == nil {
			byLine[a.Path] = map[int][]int32{}
		}
		byLine[a.Path][anchorLine(a)] = append(byLine[a.Path][anchorLine(a)], int32(len(s.shown)))
		s.shown = append(s.shown, c)
	}
	var only string
	if fs := s.files(); s.file > 0 && s.file <= len(fs) {
		only = fs[s.file-1].Path
	}
	add := func(r diffRow) bool {
		if len(s.rows) >= maxDiffRows {
			s.cut++
			return false
		}
		s.rows = append(s.rows, r)
		return true
	}
	addComments := func(ids []int32) {
		for _, ci := range ids {
			if !add(diffRow{kind: diffCommentRow, comment: ci, bodyLine: -1}) {
				return
			}
			for b := range min(len(s.commentBody(ci)), maxCommentRows+1) {
				add(diffRow{kind: diffCommentRow, comment: ci, bodyLine: int32(b)})
			}
		}
	}
	for fi, f := range d.Files {
		if only != "" && f.Path != only {
			continue
		}
		add(diffRow{kind: diffFileRow, file: int32(fi)})
		if f.Binary || len(f.Hunks) == 0 && d.Truncated {
			add(diffRow{kind: diffBareRow, file: int32(fi)})
		}
		lines := byLine[f.Path]
		for hi, h := range f.Hunks {
			add(diffRow{kind: diffHunkRow, file: int32(fi), hunk: int32(hi)})
			for li, l := range h.Lines {
				if !add(diffRow{kind: diffLineRow, file: int32(fi), hunk: int32(hi), line: int32(li)}) {
					continue
				}
				if l.Kind != "-" && lines[l.New] != nil {
					addComments(lines[l.New])
					delete(lines, l.New)
				}
			}
		}
		// Comments on lines the diff does not show come after the file.
		for _, n := range slices.Sorted(maps.Keys(lines)) {
			addComments(lines[n])
		}
	}
	if s.cut > 0 {
		s.rows = append(s.rows, diffRow{kind: diffCutRow})
	}
	if hadCursor {
		for i, r := range s.rows {
			if r.kind == diffLineRow && r.file == at.file && r.hunk == at.hunk && r.line == at.line {
				s.cursor = i
				break
			}
		}
	}
	if s.cursor < 0 {
		s.top = 0
		s.cursor = s.nextLine(-1, 1)
	}
	s.show()
}

// commentBody is the lines of a shown comment's body, cut to
// maxCommentRows with a last "…".
func (s *diffScreen) commentBody(i int32) []string {
	c := s.shown[i]
	if c.Hidden {
		return []string{"comment hidden"}
	}
	lines := strings.Split(strings.TrimSpace(clean(c.Body)), "\n")
	if len(lines) > maxCommentRows {
		lines = append(lines[:maxCommentRows], "…")
	}
	return lines
}

// nextLine is the first line row after (d > 0) or before (d < 0) row i,
// or -1.
func (s *diffScreen) nextLine(i, d int) int {
	for i += d; i >= 0 && i < len(s.rows); i += d {
		if s.rows[i].kind == diffLineRow {
			return i
		}
	}
	return -1
}

// move moves the cursor n lines of the diff down (up for n < 0).
func (s *diffScreen) move(n int) {
	d := 1
	if n < 0 {
		d, n = -1, -n
	}
	if s.cursor < 0 {
		s.scroll(d * n)
		return
	}
	moved := false
	for range n {
		next := s.nextLine(s.cursor, d)
		if next < 0 {
			break
		}
		s.cursor, moved = next, true
	}
	if !moved {
		// At either end the rows past the last line (comments) or
		// before the first (headers) still scroll into view.
		s.scroll(d * n)
		return
	}
	s.show()
}

// scroll moves the window by n rows, leaving the cursor where it is.
func (s *diffScreen) scroll(n int) {
	s.top = min(max(s.top+n, 0), max(len(s.rows)-s.diffHeight(), 0))
}

// show scrolls the window to the cursor, with the headers just above it.
func (s *diffScreen) show() {
	h := s.diffHeight()
	switch {
	case s.cursor < 0:
	case s.cursor < s.top:
		s.top = s.cursor
		for s.top > 0 && s.rows[s.top-1].kind != diffLineRow && s.cursor-s.top < h-1 {
			s.top--
		}
	case s.cursor >= s.top+h:
		s.top = s.cursor - h + 1
	}
	s.top = min(max(s.top, 0), max(len(s.rows)-1, 0))
}

// filesHeight is the rows the files pane takes: all files up to a third
// of the screen.
func (s *diffScreen) filesHeight() int {
	return min(len(s.files())+1, max(s.bodyHeight()/3, 2))
}

// bodyHeight is the height left beside an open composer or question.
func (s *diffScreen) bodyHeight() int {
	h := s.h
	if s.ask != nil {
		h--
	}
	if s.comp != nil {
		h -= s.comp.Height()
	}
	return max(h, 1)
}

// diffHeight is the rows of the diff window: the body less the header,
// the files pane and the diff's title.
func (s *diffScreen) diffHeight() int {
	return max(s.bodyHeight()-s.filesHeight()-2, 1)
}

func (s *diffScreen) key(k tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(k, globals.Refresh):
		return tea.Batch(s.reload(), s.load.start(s.fetch())), true
	case key.Matches(k, diffKeys.Focus):
		s.focus = 1 - s.focus
	case key.Matches(k, diffKeys.Open) && s.focus == filesPane:
		s.focus = diffPane
	case key.Matches(k, diffKeys.PrevRev, diffKeys.NextRev):
		return s.pickRev(k), true
	case key.Matches(k, diffKeys.FromDown, diffKeys.FromUp):
		return s.pickFrom(k), true
	case key.Matches(k, diffKeys.Comment):
		return s.comment(), true
	case s.focus == filesPane:
		return nil, s.filesKey(k)
	default:
		return nil, s.diffKey(k)
	}
	return nil, true
}

func (s *diffScreen) filesKey(k tea.KeyPressMsg) bool {
	n := len(s.files())
	sel := s.file
	switch {
	case key.Matches(k, lists.Up):
		sel--
	case key.Matches(k, lists.Down):
		sel++
	case key.Matches(k, lists.PageUp):
		sel -= s.filesHeight()
	case key.Matches(k, lists.PageDown):
		sel += s.filesHeight()
	case key.Matches(k, lists.Top):
		sel = 0
	case key.Matches(k, lists.Bottom):
		sel = n
	default:
		return false
	}
	if sel = min(max(sel, 0), n); sel != s.file {
		s.file, s.filePath, s.cursor, s.top = sel, "", -1, 0
		if sel > 0 {
			s.filePath = s.files()[sel-1].Path
		}
		s.layoutRows()
	}
	return true
}

func (s *diffScreen) diffKey(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, lists.Up):
		s.move(-1)
	case key.Matches(k, lists.Down):
		s.move(1)
	case key.Matches(k, lists.PageUp):
		s.move(-s.diffHeight())
	case key.Matches(k, lists.PageDown):
		s.move(s.diffHeight())
	case key.Matches(k, lists.Top):
		s.top, s.cursor = 0, s.nextLine(-1, 1)
	case key.Matches(k, lists.Bottom):
		s.cursor = s.nextLine(len(s.rows), -1)
		s.top = max(len(s.rows)-s.diffHeight(), 0)
	default:
		return false
	}
	return true
}

// pickRev shows the previous or next revision.
func (s *diffScreen) pickRev(k tea.KeyPressMsg) tea.Cmd {
	last := s.latest()
	if last == 0 {
		return noteCmd("this patch has no revision")
	}
	n := s.shownRev() - 1
	if key.Matches(k, diffKeys.NextRev) {
		n += 2
	}
	if n < 1 || n > last {
		return noteCmd(fmt.Sprintf("revisions run from r1 to r%d", last))
	}
	s.rev = n
	if s.from >= n {
		s.from = 0
	}
	return s.reload()
}

// pickFrom compares the revision shown with an earlier one, or with its
// base (from 0).
func (s *diffScreen) pickFrom(k tea.KeyPressMsg) tea.Cmd {
	to := s.shownRev()
	n := s.from - 1
	if key.Matches(k, diffKeys.FromUp) {
		n += 2
	}
	switch {
	case to <= 1:
		return noteCmd("r1 is the first revision: there is no earlier one to compare with")
	case n < 0 || n >= to:
		return noteCmd(fmt.Sprintf("compare r%d from its base or from r1 to r%d", to, to-1))
	}
	s.rev, s.from = to, n
	return s.reload()
}

// comment opens the composer for a comment on the line under the cursor.
func (s *diffScreen) comment() tea.Cmd {
	if s.focus != diffPane || s.cursor < 0 {
		return noteCmd("pick a line of the diff first (tab, then j/k)")
	}
	r := s.rows[s.cursor]
	d := s.full.diff
	f := d.Files[r.file]
	l := f.Hunks[r.hunk].Lines[r.line]
	if l.Kind == "-" || l.New <= 0 {
		return noteCmd(fmt.Sprintf("a deleted line is not in r%d: comment on an added or unchanged line", d.Revision))
	}
	s.target = inlineTarget{rev: d.Revision, path: f.Path, line: l.New}
	loc := fmt.Sprintf("%s:%d", trunc(f.Path, 40), l.New)
	cmd := s.openComposer(forInline, "Comment on "+loc+" (r"+strconv.Itoa(d.Revision)+")", true, "", "")
	// The composer takes rows from the window: the line stays in view.
	s.show()
	return cmd
}

func (s *diffScreen) submit(comp *composer) tea.Cmd {
	repo, id, svc, t := s.repo.ID, s.id, s.c.svc, s.target
	text := strings.TrimSpace(comp.Value())
	return write(s.c, repo, id, fmt.Sprintf("commented on %s:%d", t.path, t.line), true, func(ctx context.Context) error {
		_, err := svc.Review(ctx, repo, id, api.NewReview{Verdict: "comment", Revision: t.rev, Path: t.path, Start: t.line, End: t.line, Comment: text})
		return err
	})
}

func (s *diffScreen) View() string {
	st, w := s.c.st, max(s.w, 10)
	out := make([]string, 0, s.bodyHeight())
	add := func(l string) { out = append(out, ansi.Truncate(l, w, "…")) }
	add(s.header())

	// The files pane.
	fs, fh := s.files(), s.filesHeight()
	switch {
	case !s.stat.done && !s.full.done:
		add(st.Subtle.Render("  loading files…"))
	case len(fs) == 0 && s.stat.err != nil:
		add(st.Error.Render("  no files: ") + errText(s.stat.err))
	case len(fs) == 0:
		add(st.Subtle.Render("  no file changed"))
	default:
		s.ftop = min(max(s.ftop, s.file-fh+1), s.file)
		for i := s.ftop; i <= len(fs) && i < s.ftop+fh; i++ {
			add(s.fileEntry(i, w))
		}
	}
	for len(out) < fh+1 {
		add("")
	}

	// The diff.
	title := " Diff · all files"
	if s.file > 0 && s.file <= len(fs) {
		title = " Diff · " + trunc(fs[s.file-1].Path, w-10)
	}
	if s.focus == diffPane {
		add(st.Header.Render(title))
	} else {
		add(st.Subtle.Render(title))
	}
	dh := s.diffHeight()
	switch {
	case !s.full.done:
		add(st.Subtle.Render("  loading the diff…"))
	case s.full.err != nil:
		add(st.Error.Render("  no diff to show: ") + errText(s.full.err))
		add(st.Subtle.Render("  r tries again"))
	case len(s.rows) == 0:
		add(st.Subtle.Render("  nothing changed"))
	default:
		for i := s.top; i < len(s.rows) && i < s.top+dh; i++ {
			add(s.renderRow(i))
		}
	}
	for len(out) < s.bodyHeight() {
		add("")
	}
	v := strings.Join(out[:s.bodyHeight()], "\n")
	if s.comp != nil {
		v += "\n" + s.comp.View()
	}
	if s.ask != nil {
		v += "\n" + s.ask.view(st)
	}
	return v
}

// header names the revisions compared, the totals and the checks.
func (s *diffScreen) header() string {
	st := s.c.st
	to := s.shownRev()
	what := fmt.Sprintf(" r%d of %d", to, s.latest())
	if s.from > 0 {
		what = fmt.Sprintf(" r%d → r%d", s.from, to)
	}
	h := st.Title.Render(what)
	if d := s.stat.diff; s.stat.done && s.stat.err == nil {
		h += st.Subtle.Render(fmt.Sprintf(" · %s → %s · %d files ", shortID(d.Base), shortID(d.Head), len(d.Files))) +
			st.DiffAdd.Render(fmt.Sprintf("+%d", d.Added)) + " " + st.DiffDel.Render(fmt.Sprintf("−%d", d.Deleted))
	}
	if s.full.done && s.full.diff.Truncated {
		h += st.Subtle.Render(" · cut to fit")
	}
	if c := checkCounts(st, s.patch.Checks, to); c != "" {
		h += st.Subtle.Render(" · checks ") + c
	}
	return h
}

// fileEntry renders entry i of the files pane: 0 for all files.
func (s *diffScreen) fileEntry(i, w int) string {
	st := s.c.st
	mark := "  "
	if i == s.file {
		mark = st.Selected.Render("▌ ")
		if s.focus != filesPane {
			mark = "› "
		}
	}
	if i == 0 {
		d := s.stat.diff
		if !s.stat.done || s.stat.err != nil {
			d = s.full.diff
		}
		return mark + fmt.Sprintf("%-*s ", max(w-16, 10), "all files") + counts(st, d.Added, d.Deleted)
	}
	f := s.files()[i-1]
	name := clean(f.Path)
	if f.OldPath != "" && f.OldPath != f.Path {
		name = clean(f.OldPath) + " → " + name
	}
	status := statusLetters[f.Status]
	if status == "" {
		status = "?"
	}
	c := counts(st, f.Added, f.Deleted)
	if f.Binary {
		c = st.Subtle.Render("binary")
	}
	return mark + status + " " + fmt.Sprintf("%-*s ", max(w-18, 10), trunc(name, max(w-18, 10))) + c
}

// statusLetters are git's letters for a file's status.
var statusLetters = map[string]string{"added": "A", "modified": "M", "deleted": "D", "renamed": "R", "copied": "C"}

func counts(st *Styles, added, deleted int) string {
	return st.DiffAdd.Render(fmt.Sprintf("+%d", added)) + " " + st.DiffDel.Render(fmt.Sprintf("−%d", deleted))
}

// lineNo is a line number in its column, blank for 0.
func lineNo(n int) string {
	if n <= 0 {
		return "     "
	}
	return fmt.Sprintf("%5d", n)
}

// renderRow renders row i of the laid-out diff.
func (s *diffScreen) renderRow(i int) string {
	st, r, d := s.c.st, s.rows[i], s.full.diff
	switch r.kind {
	case diffCutRow:
		return st.Subtle.Render(fmt.Sprintf("  … %d more lines; read them with murmur patch diff %s", s.cut, shortID(s.id)))
	case diffCommentRow:
		c := s.shown[r.comment]
		pad := strings.Repeat(" ", 14) + "┆ "
		if r.bodyLine < 0 {
			h := pad + st.Author.Render(displayName(c.Author)) + st.Subtle.Render(" · "+agoPhrase(c.Created, s.c.now()))
			if a := c.Anchor; a.End > a.Start {
				h += st.Subtle.Render(fmt.Sprintf(" · lines %d-%d", a.Start, a.End))
			} else {
				h += st.Subtle.Render(fmt.Sprintf(" · line %d", a.Start))
			}
			if c.Resolved {
				h += st.Subtle.Render(" (resolved)")
			}
			return h
		}
		return pad + s.commentBody(r.comment)[r.bodyLine]
	}
	f := d.Files[r.file]
	switch r.kind {
	case diffFileRow:
		name := clean(f.Path)
		if f.OldPath != "" && f.OldPath != f.Path {
			name = clean(f.OldPath) + " → " + name
		}
		return st.Header.Render("━ "+name) + st.Subtle.Render(" ("+clean(f.Status)+") ") + counts(st, f.Added, f.Deleted)
	case diffBareRow:
		if f.Binary {
			return st.Subtle.Render("  binary file; no lines to show")
		}
		return st.Subtle.Render("  lines not shown: the diff is too large to show whole, and this file is past the cut")
	case diffHunkRow:
		return "  " + st.DiffHunk.Render(trunc(f.Hunks[r.hunk].Header, 500))
	}
	l := f.Hunks[r.hunk].Lines[r.line]
	mark := " "
	if i == s.cursor && s.focus == diffPane {
		mark = st.Selected.Render("▌")
	}
	text := strings.ReplaceAll(clean(l.Text), "\n", " ")
	nums := st.LineNo.Render(lineNo(l.Old) + " " + lineNo(l.New) + " ")
	switch l.Kind {
	case "+":
		return mark + nums + st.DiffAdd.Render("+"+text)
	case "-":
		return mark + nums + st.DiffDel.Render("-"+text)
	}
	return mark + nums + " " + text
}

// checkGlyph is a check state as one character.
func checkGlyph(st *Styles, state string) string {
	switch state {
	case api.CheckSuccess:
		return st.Approve.Render("✓")
	case api.CheckFailure:
		return st.Reject.Render("✗")
	}
	return st.Pending.Render("●")
}

// checkCounts sums up the checks of revision rev: "✓2 ✗1 ●1", or "".
func checkCounts(st *Styles, cs []api.Check, rev int) string {
	n := map[string]int{}
	for _, c := range cs {
		if c.RevNumber == rev {
			n[c.State]++
		}
	}
	var parts []string
	for _, state := range []string{api.CheckSuccess, api.CheckFailure, api.CheckPending} {
		if n[state] > 0 {
			parts = append(parts, checkGlyph(st, state)+strconv.Itoa(n[state]))
		}
	}
	return strings.Join(parts, " ")
}
