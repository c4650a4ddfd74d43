package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Limits of markdown rendering. Bodies come from peers: a body over
// mdMaxSource bytes or nested deeper than mdMaxDepth is shown as wrapped
// plain text instead, so that no body costs more than a bounded render. The cache starts over past mdMaxEntries
// entries, so its size stays bounded however many issues are opened.
const (
	mdMaxSource  = 16 << 10
	mdMaxDepth   = 6
	mdMaxEntries = 4096
)

// markdown renders issue and comment bodies (renderMarkdown), once per
// (object ID, width): screens rebuild their content on every cursor move,
// and a keystroke must never re-render markdown. An entry also remembers
// its source, so an edited comment (same ID, new body) is rendered again.
//
// Small bodies are rendered on the spot, up to mdSyncBudget per update;
// the others are shown as plain text at first and rendered by a command
// (Flush), after which an mdRenderedMsg makes the screens draw them again.
// Its methods are called from the Update goroutine only.
type markdown struct {
	plain    bool
	cache    map[mdKey]mdEntry
	queue    map[mdKey]string // bodies waiting for the command
	inflight bool
	spent    time.Duration // rendering on the spot since the last Flush
	// renders counts renders on the spot, for tests.
	renders int
}

// Rendering on the spot stops for the rest of an update past
// mdSyncBudget, and never takes a body over mdSyncMax bytes.
const (
	mdSyncBudget = 8 * time.Millisecond
	mdSyncMax    = 4 << 10
)

type mdKey struct {
	id    string
	width int
}

type mdEntry struct {
	src   string
	lines []string
}

// mdRenderedMsg brings bodies rendered by a command.
type mdRenderedMsg struct {
	entries map[mdKey]mdEntry
}

func newMarkdown(plain bool) *markdown {
	return &markdown{plain: plain, cache: map[mdKey]mdEntry{}, queue: map[mdKey]string{}}
}

// Lines returns body, rendered at width w, as lines. An empty id turns
// the cache off for that body.
func (m *markdown) Lines(id, body string, w int) []string {
	w = max(w, 10)
	k := mdKey{id, w}
	if e, ok := m.cache[k]; ok && e.src == body && id != "" {
		return e.lines
	}
	src, fancy := mdSource(body)
	if !fancy {
		lines := wrap(src, w)
		m.store(k, body, lines)
		return lines
	}
	if id != "" && (len(src) > mdSyncMax || m.spent > mdSyncBudget) {
		m.queue[k] = body
		return wrap(src, w)
	}
	start := time.Now()
	lines := renderMarkdown(src, w, m.plain)
	m.spent += time.Since(start)
	m.renders++
	m.store(k, body, lines)
	return lines
}

func (m *markdown) store(k mdKey, body string, lines []string) {
	if k.id == "" {
		return
	}
	if len(m.cache) >= mdMaxEntries {
		clear(m.cache)
	}
	m.cache[k] = mdEntry{src: body, lines: lines}
}

// Flush starts rendering the queued bodies in a command, unless one is
// running already, and resets the budget of rendering on the spot.
func (m *markdown) Flush() tea.Cmd {
	m.spent = 0
	if m.inflight || len(m.queue) == 0 {
		return nil
	}
	jobs := m.queue
	m.queue = map[mdKey]string{}
	m.inflight = true
	plain := m.plain
	return func() tea.Msg {
		out := make(map[mdKey]mdEntry, len(jobs))
		for k, body := range jobs {
			src, _ := mdSource(body)
			out[k] = mdEntry{src: body, lines: renderMarkdown(src, k.width, plain)}
		}
		return mdRenderedMsg{out}
	}
}

// Rendered takes the answer of the command Flush started.
func (m *markdown) Rendered(msg mdRenderedMsg) {
	m.inflight = false
	for k, e := range msg.entries {
		if cur, ok := m.queue[k]; ok && cur == e.src {
			delete(m.queue, k)
		}
		m.store(k, e.src, e.lines)
	}
}

// mdSource is the text of body safe to render, and whether it may be
// rendered as markdown: a body too long or nested too deeply is shown as plain text.
func mdSource(body string) (string, bool) {
	src := strings.TrimSpace(clean(strings.ReplaceAll(body, "\r\n", "\n")))
	return src, src != "" && len(src) <= mdMaxSource && nesting(src, mdMaxDepth) <= mdMaxDepth
}

// nesting estimates how deeply src nests block containers: on each line,
// the quote markers and list markers it opens plus its indentation in
// steps of two columns. It stops counting past limit.
func nesting(src string, limit int) int {
	deepest := 0
	for line := range strings.Lines(src) {
		depth, indent, i := 0, 0, 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			if line[i] == '\t' {
				indent += 4
			} else {
				indent++
			}
			i++
		}
		depth = indent / 2
		for i < len(line) && depth <= limit {
			switch c := line[i]; {
			case c == ' ' || c == '\t':
				i++
				continue
			case c == '>':
				depth++
				i++
				continue
			case (c == '-' || c == '*' || c == '+') && i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t'):
				depth++
				i += 2
				continue
			case c >= '0' && c <= '9':
				j := i
				for j < len(line) && j-i < 9 && line[j] >= '0' && line[j] <= '9' {
					j++
				}
				if j+1 < len(line) && (line[j] == '.' || line[j] == ')') && (line[j+1] == ' ' || line[j+1] == '\t') {
					depth++
					i = j + 2
					continue
				}
			}
			break
		}
		deepest = max(deepest, depth)
		if deepest > limit {
			return deepest
		}
	}
	return deepest
}
