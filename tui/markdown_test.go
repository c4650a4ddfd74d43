package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

const mdBody = "Steps:\n\n1. create an **empty** `config.toml`\n2. run `murmur`\n\n```\npanic: nil map\n```\n\n> quoted"

func TestMarkdownRendersAndCaches(t *testing.T) {
	f := newFake()
	is := &f.issues["r1aaaaaaaaaa"][0]
	is.Comments[0].Body = mdBody
	h := newHarness(t, f, 80, 30)
	h.press("enter", "enter")
	s := h.screen()
	for _, want := range []string{"1. create an", "config.toml", "    panic: nil map", "│ quoted"} {
		if !strings.Contains(s, want) {
			t.Errorf("issue view lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "```") {
		t.Errorf("code fence shown raw:\n%s", s)
	}
	md := h.m.c.md
	n := md.renders
	h.press("j", "j", "k", "G", "g")
	if md.renders != n {
		t.Errorf("cursor moves rendered markdown %d times, want 0", md.renders-n)
	}

	// An edit keeps the ID and changes the body: rendered again.
	f.mu.Lock()
	is.Comments[0].Body = "now **different**"
	f.mu.Unlock()
	h.press("r")
	if !strings.Contains(h.screen(), "now different") {
		t.Errorf("edited body not shown:\n%s", h.screen())
	}
	if md.renders != n+1 {
		t.Errorf("edit caused %d renders, want 1", md.renders-n)
	}

	// A resize renders at the new width, once per body.
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	after := md.renders
	h.press("j", "k")
	if md.renders != after {
		t.Errorf("cursor moves after a resize rendered markdown")
	}
}

func TestMarkdownPlainHasNoColour(t *testing.T) {
	for _, plain := range []bool{true, false} {
		md := newMarkdown(plain)
		lines := md.Lines("x", mdBody+"\n\nsee [docs](https://example.com)", 60)
		out := strings.Join(lines, "\n")
		hasSGR := strings.Contains(out, "\x1b[3") || strings.Contains(out, "\x1b[9")
		if plain && hasSGR {
			t.Errorf("plain markdown has colour codes: %q", out)
		}
		if !plain && !hasSGR {
			t.Errorf("coloured markdown has no colour codes: %q", out)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > 60 {
				t.Errorf("plain=%v line %d is %d cells wide, want ≤ 60: %q", plain, i, w, l)
			}
			if strings.HasSuffix(ansi.Strip(l), " ") {
				t.Errorf("plain=%v line %d keeps its padding: %q", plain, i, l)
			}
		}
		if len(lines) == 0 || strings.TrimSpace(ansi.Strip(lines[0])) == "" || strings.TrimSpace(ansi.Strip(lines[len(lines)-1])) == "" {
			t.Errorf("plain=%v leading or trailing blank lines: %q", plain, lines)
		}
	}
}

func TestMarkdownHostileInput(t *testing.T) {
	md := newMarkdown(true)
	tests := []struct{ name, body string }{
		{"escape sequences", "\x1b]0;pwned\x07title \x1b[31mred\x1b[0m and \x1b[2J clear"},
		{"control characters", "a\x00b\x07c\x7fd"},
		{"empty", ""},
		{"only spaces", "   \n\n  "},
		{"huge", strings.Repeat("word ", mdMaxSource)},
		{"deep nesting", strings.Repeat(">", 500) + " deep"},
		{"long word", strings.Repeat("x", 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := strings.Join(md.Lines("", tt.body, 40), "\n")
			if strings.Contains(out, "\x07") || strings.Contains(out, "\x1b]0") || strings.Contains(out, "\x1b[2J") || strings.ContainsRune(out, 0) {
				t.Errorf("output keeps a hostile sequence: %q", out)
			}
		})
	}
}

func TestMarkdownCacheBounded(t *testing.T) {
	md := newMarkdown(true)
	for i := range mdMaxEntries + 10 {
		md.Lines(string(rune('a'+i%26))+strings.Repeat("x", i/26), "hi", 40)
	}
	if len(md.cache) > mdMaxEntries {
		t.Errorf("cache holds %d entries, want ≤ %d", len(md.cache), mdMaxEntries)
	}
}

func TestMarkdownLongBodyRenderedByCommand(t *testing.T) {
	f := newFake()
	is := &f.issues["r1aaaaaaaaaa"][0]
	is.Comments[0].Body = "```\n" + strings.Repeat("a line of a long log\n", mdSyncMax/16) + "```"
	h := newHarness(t, f, 80, 30)
	h.press("enter")
	n := h.m.c.md.renders
	// The frame drawn on the spot shows the body as plain text and queues
	// it; the harness runs the command, whose answer redraws the screen.
	h.press("enter")
	if got := h.m.c.md.renders - n; got != 3 {
		t.Errorf("%d bodies rendered on the spot, want 3 (all but the long one)", got)
	}
	s := h.screen()
	if strings.Contains(s, "```") || !strings.Contains(s, "    a line of a long log") {
		t.Errorf("long body not rendered by the command:\n%s", s)
	}
	if h.m.c.md.inflight || len(h.m.c.md.queue) != 0 {
		t.Errorf("markdown queue not drained: inflight %v, %d queued", h.m.c.md.inflight, len(h.m.c.md.queue))
	}
}

func TestNesting(t *testing.T) {
	tests := []struct {
		src  string
		want int
	}{
		{"plain text", 0},
		{"> quote", 1},
		{"> > - item", 3},
		{"1. one\n   - sub", 2},
		{"- a\n  - b\n    - c", 3},
		{"-not a list", 0},
		{"12345678901. not a list either", 0},
		{strings.Repeat(">", 1000), mdMaxDepth + 1},
	}
	for _, tt := range tests {
		t.Run(tt.src[:min(len(tt.src), 20)], func(t *testing.T) {
			if got := nesting(tt.src, mdMaxDepth); got != tt.want {
				t.Errorf("nesting(%q) = %d, want %d", tt.src, got, tt.want)
			}
		})
	}
}
