package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"

	"murmur/api"
)

// The TUI end-to-end tests run `murmur` with no arguments in a pseudo-
// terminal, read what it draws into a small virtual screen and type at it.

// tuiWait bounds every wait for the screen.
const tuiWait = 15 * time.Second

// tuiSession is the binary running in a pty.
type tuiSession struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	done chan error // the process's exit

	mu  sync.Mutex
	out []byte // everything the program wrote
}

// startTUI runs the binary of c with no arguments in a 100×30 terminal.
func startTUI(t *testing.T, c *cli) *tuiSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c.env["TERM"] = "xterm-256color"
	cmd := c.command(ctx, "")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: vtCols, Rows: vtRows})
	if err != nil {
		t.Fatalf("start murmur in a pty: %v", err)
	}
	s := &tuiSession{t: t, cmd: cmd, pty: f, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out = append(s.out, buf[:n]...)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
		f.Close()
	})
	return s
}

// screen is the terminal's content as the user sees it now.
func (s *tuiSession) screen() string {
	s.mu.Lock()
	out := string(s.out)
	s.mu.Unlock()
	return newVT(vtCols, vtRows).feed(out).String()
}

// waitFor waits until the screen shows want, or fails with the screen.
func (s *tuiSession) waitFor(want string) {
	s.t.Helper()
	deadline := time.Now().Add(tuiWait)
	for {
		if strings.Contains(s.screen(), want) {
			return
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.t.Fatalf("murmur exited (%v) before showing %q; screen:\n%s", err, want, s.screen())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q on the screen after %v; screen:\n%s", want, tuiWait, s.screen())
		}
	}
}

// send types keys: text as typed, or the bytes of a named key.
func (s *tuiSession) send(keys ...string) {
	s.t.Helper()
	named := map[string]string{"enter": "\r", "ctrl+s": "\x13", "ctrl+c": "\x03", "tab": "\t"}
	for _, k := range keys {
		b, ok := named[k]
		if !ok {
			b = k
		}
		if _, err := io.WriteString(s.pty, b); err != nil {
			s.t.Fatalf("type %q: %v", k, err)
		}
	}
}

// wait waits for the program to exit by itself.
func (s *tuiSession) wait() {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.t.Fatalf("murmur exited with %v; screen:\n%s", err, s.screen())
		}
	case <-time.After(tuiWait):
		s.t.Fatalf("murmur still running %v after quitting; screen:\n%s", tuiWait, s.screen())
	}
}

// tuiHome prepares a data directory with an identity, a repo and an
// issue, by CLI commands; it returns the issue's short ID.
func tuiHome(t *testing.T) (*cli, string) {
	t.Helper()
	c := newCLI(t, t.TempDir())
	c.ok("id", "init", "--alias", "alice")
	c.ok("repo", "create", "--name", "demo", "--description", "a demo repo")
	id := c.id("issue", "create", "-t", "Crash on empty config", "-b", "Steps:\n\n1. create an **empty** `config.toml`\n2. run `murmur`")
	return c, id
}

// tuiDemoRepo starts the TUI on the data directory of tuiHome and opens
// the repo, its issue in view.
func tuiDemoRepo(t *testing.T) (*cli, string, *tuiSession) {
	t.Helper()
	c, id := tuiHome(t)
	s := startTUI(t, c)
	s.waitFor("a demo repo")
	s.send("enter")
	s.waitFor("Crash on empty config")
	return c, id, s
}

func TestE2ETUIComment(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	c, id, s := tuiDemoRepo(t)
	s.send("enter")
	s.waitFor("opened by alice")
	s.waitFor("1. create an")
	s.send("c")
	s.waitFor("Comment on " + id)
	s.send("Typed in a terminal")
	s.waitFor("Typed in a terminal")
	s.send("ctrl+s")
	s.waitFor("comment posted")
	s.send("q")
	s.wait()

	var is api.Issue
	c.json(&is, "issue", "view", id, "--json")
	if len(is.Comments) != 1 || is.Comments[0].Body != "Typed in a terminal" || is.Comments[0].Author.Alias != "alice" {
		t.Errorf("issue view --json comments = %+v, want one by alice reading %q", is.Comments, "Typed in a terminal")
	}
}

func TestE2ETUILiveIssue(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	c, _, s := tuiDemoRepo(t)
	// A second process: it reaches the node the TUI runs through its
	// socket, and the TUI hears of the new issue without a keypress.
	c.id("issue", "create", "-t", "from elsewhere")
	s.waitFor("from elsewhere")
	s.waitFor("2 open issues")
	s.send("q")
	s.wait()
}

// Size of the virtual terminal.
const vtCols, vtRows = 100, 30

// vt is a small virtual terminal: enough of the VT100/xterm control
// sequences to follow what a full-screen program draws (cursor moves,
// erasing, scrolling, insert and delete), ignoring colours and modes.
type vt struct {
	cols, rows int
	cells      [][]string // "" is the right half of a wide character
	x, y       int
	wrapNext   bool
	top, bot   int // scroll region, inclusive
	savedX     int
	savedY     int
}

func newVT(cols, rows int) *vt {
	v := &vt{cols: cols, rows: rows}
	v.reset()
	return v
}

func (v *vt) reset() {
	v.cells = make([][]string, v.rows)
	for y := range v.cells {
		v.cells[y] = v.blankLine()
	}
	v.x, v.y, v.wrapNext, v.top, v.bot = 0, 0, false, 0, v.rows-1
}

func (v *vt) blankLine() []string {
	l := make([]string, v.cols)
	for i := range l {
		l[i] = " "
	}
	return l
}

// String is the screen, one line per row without trailing spaces.
func (v *vt) String() string {
	lines := make([]string, v.rows)
	for y, row := range v.cells {
		lines[y] = strings.TrimRight(strings.Join(row, ""), " ")
	}
	return strings.Join(lines, "\n")
}

func (v *vt) feed(s string) *vt {
	p := ansi.NewParser()
	var state byte
	for len(s) > 0 {
		seq, width, n, next := ansi.DecodeSequence(s, state, p)
		state = next
		s = s[n:]
		switch {
		case width > 0:
			v.print(seq, width)
		case len(seq) == 1:
			v.control(seq[0])
		case ansi.HasCsiPrefix(seq):
			v.csi(ansi.Cmd(p.Command()), p.Params())
		case strings.HasPrefix(seq, "\x1b") && len(seq) == 2:
			v.esc(seq[1])
		}
	}
	return v
}

func (v *vt) print(g string, w int) {
	if v.wrapNext {
		v.x, v.wrapNext = 0, false
		v.lineFeed()
	}
	if v.x+w > v.cols {
		return
	}
	v.cells[v.y][v.x] = g
	for i := 1; i < w; i++ {
		v.cells[v.y][v.x+i] = ""
	}
	if v.x+w >= v.cols {
		v.x, v.wrapNext = v.cols-1, true
		return
	}
	v.x += w
}

func (v *vt) control(c byte) {
	switch c {
	case '\r':
		v.x, v.wrapNext = 0, false
	case '\n', '\v', '\f':
		v.wrapNext = false
		v.lineFeed()
	case '\b':
		v.x, v.wrapNext = max(v.x-1, 0), false
	case '\t':
		v.x = min((v.x/8+1)*8, v.cols-1)
	}
}

func (v *vt) lineFeed() {
	if v.y == v.bot {
		v.scrollUp(1)
	} else if v.y < v.rows-1 {
		v.y++
	}
}

func (v *vt) esc(c byte) {
	switch c {
	case '7':
		v.savedX, v.savedY = v.x, v.y
	case '8':
		v.x, v.y, v.wrapNext = v.savedX, v.savedY, false
	case 'D':
		v.lineFeed()
	case 'E':
		v.x = 0
		v.lineFeed()
	case 'M':
		if v.y == v.top {
			v.scrollDown(1)
		} else if v.y > 0 {
			v.y--
		}
	case 'c':
		v.reset()
	}
}

func (v *vt) scrollUp(n int) {
	for range min(n, v.bot-v.top+1) {
		copy(v.cells[v.top:v.bot], v.cells[v.top+1:v.bot+1])
		v.cells[v.bot] = v.blankLine()
	}
}

func (v *vt) scrollDown(n int) {
	for range min(n, v.bot-v.top+1) {
		copy(v.cells[v.top+1:v.bot+1], v.cells[v.top:v.bot])
		v.cells[v.top] = v.blankLine()
	}
}

func (v *vt) erase(y, from, to int) {
	for x := max(from, 0); x < min(to, v.cols); x++ {
		v.cells[y][x] = " "
	}
}

func (v *vt) csi(cmd ansi.Cmd, params ansi.Params) {
	arg := func(i, def int) int {
		n, _, ok := params.Param(i, def)
		if !ok || n == 0 && def > 0 {
			return def
		}
		return n
	}
	clampY := func(y int) int { return min(max(y, 0), v.rows-1) }
	clampX := func(x int) int { return min(max(x, 0), v.cols-1) }
	if cmd.Prefix() != 0 {
		// Private modes, queries: alternate screen starts blank.
		if cmd.Prefix() == '?' && (cmd.Final() == 'h' || cmd.Final() == 'l') {
			params.ForEach(0, func(_, p int, _ bool) {
				if p == 1049 || p == 47 || p == 1047 {
					v.reset()
				}
			})
		}
		return
	}
	v.wrapNext = false
	switch cmd.Final() {
	case 'A':
		v.y = max(v.y-arg(0, 1), 0)
	case 'B', 'e':
		v.y = clampY(v.y + arg(0, 1))
	case 'C', 'a':
		v.x = clampX(v.x + arg(0, 1))
	case 'D':
		v.x = clampX(v.x - arg(0, 1))
	case 'E':
		v.x, v.y = 0, clampY(v.y+arg(0, 1))
	case 'F':
		v.x, v.y = 0, clampY(v.y-arg(0, 1))
	case 'G', '`':
		v.x = clampX(arg(0, 1) - 1)
	case 'd':
		v.y = clampY(arg(0, 1) - 1)
	case 'H', 'f':
		v.y, v.x = clampY(arg(0, 1)-1), clampX(arg(1, 1)-1)
	case 'J':
		switch arg(0, 0) {
		case 0:
			v.erase(v.y, v.x, v.cols)
			for y := v.y + 1; y < v.rows; y++ {
				v.erase(y, 0, v.cols)
			}
		case 1:
			v.erase(v.y, 0, v.x+1)
			for y := 0; y < v.y; y++ {
				v.erase(y, 0, v.cols)
			}
		default:
			for y := range v.rows {
				v.erase(y, 0, v.cols)
			}
		}
	case 'K':
		switch arg(0, 0) {
		case 0:
			v.erase(v.y, v.x, v.cols)
		case 1:
			v.erase(v.y, 0, v.x+1)
		default:
			v.erase(v.y, 0, v.cols)
		}
	case 'X':
		v.erase(v.y, v.x, v.x+arg(0, 1))
	case '@':
		n := min(arg(0, 1), v.cols-v.x)
		row := v.cells[v.y]
		copy(row[v.x+n:], row[v.x:v.cols-n])
		v.erase(v.y, v.x, v.x+n)
	case 'P':
		n := min(arg(0, 1), v.cols-v.x)
		row := v.cells[v.y]
		copy(row[v.x:], row[v.x+n:])
		v.erase(v.y, v.cols-n, v.cols)
	case 'L', 'M':
		if v.y < v.top || v.y > v.bot {
			return
		}
		top := v.top
		v.top = v.y
		if cmd.Final() == 'L' {
			v.scrollDown(arg(0, 1))
		} else {
			v.scrollUp(arg(0, 1))
		}
		v.top, v.x = top, 0
	case 'S':
		v.scrollUp(arg(0, 1))
	case 'T':
		v.scrollDown(arg(0, 1))
	case 'r':
		t, b := arg(0, 1)-1, arg(1, v.rows)-1
		if t < b && b < v.rows {
			v.top, v.bot = t, b
			v.x, v.y = 0, 0
		}
	case 'b':
		if v.x > 0 {
			g := v.cells[v.y][v.x-1]
			for range min(arg(0, 1), v.cols) {
				v.print(g, 1)
			}
		}
	case 's':
		v.savedX, v.savedY = v.x, v.y
	case 'u':
		v.x, v.y = v.savedX, v.savedY
	}
}

func TestVT(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"text and newline", "ab\r\ncd", "ab\ncd"},
		{"cursor position", "\x1b[2;3Hx", "\n  x"},
		{"erase line", "abcdef\x1b[1;3H\x1b[K", "ab"},
		{"erase characters", "abcdef\x1b[1;2H\x1b[2X", "a  def"},
		{"repeat", "a\x1b[3b", "aaaa"},
		{"wide characters", "💬x", "💬x"},
		{"forward", "a\x1b[2Cb", "a  b"},
		{"delete and insert", "abcd\x1b[1;2H\x1b[P\x1b[1;1H\x1b[2@", "  acd"},
		{"clear screen", "abc\x1b[2J\x1b[Hx", "x"},
		{"scroll region", "\x1b[1;2r1\r\n2\r\n3", "2\n3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.TrimRight(newVT(10, 3).feed(tt.in).String(), "\n")
			if got != tt.want {
				t.Errorf("screen = %q, want %q", got, tt.want)
			}
		})
	}
}

// A fresh data directory, online (the default): the node makes its key
// when it joins the mesh, and the TUI still asks for the alias. An alias
// set later from another process reaches the status bar.
func TestE2ETUIFirstRunAlias(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	c := newCLI(t, t.TempDir())
	c.env["MURMUR_LISTEN"] = "127.0.0.1:0"
	s := startTUI(t, c)
	s.waitFor("Welcome to murmur")
	s.waitFor("alias:")
	s.send("carol", "enter")
	s.waitFor("alias set: carol")
	var id api.Identity
	c.json(&id, "id", "show", "--json")
	if id.Alias != "carol" {
		t.Fatalf("id show --json alias = %q, want carol", id.Alias)
	}
	c.ok("id", "alias", "caroline")
	s.waitFor(" caroline │")
	// With no repos the new-repo form has the keyboard.
	s.send("ctrl+c")
	s.wait()
}

// An issue opened, edited, labelled, closed and reopened in the TUI, each
// step checked from the CLI.
func TestE2ETUIIssueLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	editor := filepath.Join(t.TempDir(), "editor")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nprintf 'Second body' > \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, _ := tuiHome(t)
	c.env["EDITOR"] = editor
	s := startTUI(t, c)
	s.waitFor("a demo repo")
	s.send("enter")
	s.waitFor("Crash on empty config")
	s.send("n")
	s.waitFor("New issue in demo")
	s.send("Made in the TUI", "tab", "First body", "tab", "bug", "ctrl+s")
	s.waitFor("opened by alice")
	s.waitFor("First body")

	var list []api.IssueSummary
	c.json(&list, "issue", "list", "--json")
	var id string
	for _, is := range list {
		if is.Title == "Made in the TUI" {
			id = is.ID
			if len(is.Labels) != 1 || is.Labels[0] != "bug" {
				t.Errorf("labels = %v, want [bug]", is.Labels)
			}
		}
	}
	if id == "" {
		t.Fatalf("issue list --json lacks the issue made in the TUI: %+v", list)
	}
	view := func() api.Issue {
		t.Helper()
		var is api.Issue
		c.json(&is, "issue", "view", id, "--json")
		return is
	}
	if is := view(); is.Body != "First body" {
		t.Errorf("body = %q, want First body", is.Body)
	}

	// Edit the body in $EDITOR (ctrl+e): the TUI hands the terminal to
	// the editor and takes what it saved.
	s.send("e")
	s.waitFor("Edit issue")
	s.send("\x05")
	s.waitFor("Second body")
	s.send("ctrl+s")
	s.waitFor("issue edited")
	s.waitFor("Second body")
	if is := view(); is.Body != "Second body" || is.Title != "Made in the TUI" {
		t.Errorf("after the edit: title %q body %q", is.Title, is.Body)
	}

	s.send("l")
	s.waitFor("Labels (comma separated")
	s.send(", ui", "enter")
	s.waitFor("labels added: ui")
	if is := view(); !slices.Equal(is.Labels, []string{"bug", "ui"}) {
		t.Errorf("labels = %v, want [bug ui]", is.Labels)
	}

	s.send("x")
	s.waitFor("close this issue?")
	s.send("p")
	s.waitFor("issue closed as not planned")
	if is := view(); is.State != "closed" || is.Reason != "not-planned" {
		t.Errorf("after closing: state %q reason %q", is.State, is.Reason)
	}

	s.send("X")
	s.waitFor("issue reopened")
	if is := view(); is.State != "open" {
		t.Errorf("after reopening: state %q", is.State)
	}
	s.send("q")
	s.wait()
}

// From the peers screen: join a running node by its address, follow its
// repo by ID, sync, and find the repo on the repos screen.
func TestE2ETUIPeersFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs murmur serve and the TUI in a pseudo-terminal")
	}
	t.Parallel()
	ca := newCLI(t, t.TempDir())
	ca.ok("id", "init", "--alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "seeded", "--description", "from alice", "--json")
	ca.id("issue", "create", "-t", "Seeded issue")
	da := newDaemon(t, ca)
	da.start()

	cb := newCLI(t, t.TempDir())
	cb.ok("id", "init", "--alias", "bob")
	cb.env["MURMUR_LISTEN"] = "127.0.0.1:0"
	s := startTUI(t, cb)
	s.waitFor("Repos (0)")
	// The new-repo form is offered once the node has answered that there
	// are no repos; an Escape sent before it opens would be lost.
	s.waitFor("esc cancel")
	s.send("\x1b") // close the new-repo form offered with no repos
	s.waitFor("n new repo")
	s.send("p")
	s.waitFor("Peers (")
	s.send("a")
	s.waitFor("peer:")
	s.send(da.addr, "enter")
	s.waitFor("synced 0 of 0 repos")
	s.send("f")
	s.waitFor("follow:")
	s.send(repo.ID, "enter")
	s.waitFor("following ")
	s.send("s")
	s.waitFor("seeded")
	s.send("\x1b")
	s.waitFor("from alice")
	s.send("q")
	s.wait()

	var list []api.IssueSummary
	cb.json(&list, "issue", "list", "-R", repo.ID, "--json")
	if len(list) != 1 || list[0].Title != "Seeded issue" {
		t.Errorf("issue list on the follower = %+v, want the seeded issue", list)
	}
}
