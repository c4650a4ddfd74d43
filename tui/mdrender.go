package tui

import (
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// The markdown renderer parses with goldmark and draws the tree itself:
// paragraphs wrapped to the width, headings, emphasis, code, quotes, lists,
// links and rules, in the terminal's own colours. It replaces a full
// renderer whose syntax highlighter cost every murmur process milliseconds
// at start-up and whose time grew steeply with nesting. A newline inside a
// paragraph is kept, as forges show comments.

var mdParser = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Linkify))

// mdStyles are the styles of rendered markdown.
type mdStyles struct {
	heading, strong, emph, code, link, quote, rule, strike lipgloss.Style
}

var (
	mdColor = mdStyles{
		heading: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		strong:  lipgloss.NewStyle().Bold(true),
		emph:    lipgloss.NewStyle().Italic(true),
		code:    lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		link:    lipgloss.NewStyle().Foreground(lipgloss.Color("6")).Underline(true),
		quote:   lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		rule:    lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		strike:  lipgloss.NewStyle().Strikethrough(true),
	}
	mdPlain = mdStyles{
		heading: lipgloss.NewStyle().Bold(true),
		strong:  lipgloss.NewStyle().Bold(true),
		emph:    lipgloss.NewStyle().Italic(true),
		strike:  lipgloss.NewStyle().Strikethrough(true),
	}
)

// renderMarkdown renders src at width w as lines.
func renderMarkdown(src string, w int, plain bool) []string {
	st := mdColor
	if plain {
		st = mdPlain
	}
	source := []byte(src)
	doc := mdParser.Parser().Parse(text.NewReader(source))
	r := &mdRender{src: source, st: st}
	lines := r.blocks(doc, max(w, 10))
	for len(lines) > 0 && strings.TrimSpace(ansi.Strip(lines[len(lines)-1])) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type mdRender struct {
	src []byte
	st  mdStyles
}

// blocks renders the block children of n, a blank line between each.
func (r *mdRender) blocks(n ast.Node, w int) []string {
	var out []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		b := r.block(c, w)
		if len(b) == 0 {
			continue
		}
		if len(out) > 0 && !tight(c) {
			out = append(out, "")
		}
		out = append(out, b...)
	}
	return out
}

// tight reports whether block c follows its previous sibling without a
// blank line: items of a tight list.
func tight(c ast.Node) bool {
	if p, ok := c.Parent().(*ast.ListItem); ok {
		if l, ok := p.Parent().(*ast.List); ok && l.IsTight {
			return true
		}
	}
	if l, ok := c.Parent().(*ast.List); ok && l.IsTight {
		return true
	}
	return false
}

func (r *mdRender) block(n ast.Node, w int) []string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return wrapStyled(r.inline(n), w)
	case *ast.Heading:
		s := r.inline(n)
		if n.Level <= 2 {
			s = r.st.heading.Underline(n.Level == 1).Render(ansi.Strip(s))
		} else {
			s = r.st.heading.Render(ansi.Strip(s))
		}
		return wrapStyled(s, w)
	case *ast.Blockquote:
		return prefix(r.blocks(n, w-2), r.st.quote.Render("│ "), r.st.quote.Render("│ "))
	case *ast.List:
		var out []string
		num := n.Start
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			marker := "• "
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + ". "
				num++
			}
			body := r.blocks(it, w-len(marker))
			if len(body) == 0 {
				body = []string{""}
			}
			if len(out) > 0 && !n.IsTight {
				out = append(out, "")
			}
			out = append(out, prefix(body, marker, strings.Repeat(" ", len(marker)))...)
		}
		return out
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var out []string
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			l := strings.TrimRight(string(seg.Value(r.src)), "\n")
			out = append(out, "  "+r.st.code.Render(ansi.Truncate(l, max(w-2, 1), "…")))
		}
		return out
	case *ast.ThematicBreak:
		return []string{r.st.rule.Render(strings.Repeat("─", min(w, 40)))}
	case *ast.HTMLBlock:
		var out []string
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			out = append(out, wrapStyled(strings.TrimRight(string(seg.Value(r.src)), "\n"), w)...)
		}
		return out
	case *ast.ListItem:
		return r.blocks(n, w)
	}
	if n.HasChildren() {
		return r.blocks(n, w)
	}
	return nil
}

// inline renders the inline children of n as one styled string; line
// breaks are newlines.
func (r *mdRender) inline(n ast.Node) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		r.inlineNode(&b, c)
	}
	return b.String()
}

func (r *mdRender) inlineNode(b *strings.Builder, n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		b.Write(n.Segment.Value(r.src))
		if n.SoftLineBreak() || n.HardLineBreak() {
			b.WriteByte('\n')
		}
	case *ast.String:
		b.Write(n.Value)
	case *ast.CodeSpan:
		var t strings.Builder
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if s, ok := c.(*ast.Text); ok {
				t.Write(s.Segment.Value(r.src))
			}
		}
		b.WriteString(r.st.code.Render(t.String()))
	case *ast.Emphasis:
		s := r.inline(n)
		if n.Level >= 2 {
			b.WriteString(r.st.strong.Render(s))
		} else {
			b.WriteString(r.st.emph.Render(s))
		}
	case *east.Strikethrough:
		b.WriteString(r.st.strike.Render(r.inline(n)))
	case *ast.Link:
		label := r.inline(n)
		dest := string(n.Destination)
		b.WriteString(r.st.link.Render(label))
		if dest != "" && dest != ansi.Strip(label) {
			b.WriteString(" (" + dest + ")")
		}
	case *ast.AutoLink:
		b.WriteString(r.st.link.Render(string(n.URL(r.src))))
	case *ast.Image:
		b.WriteString("[image: " + ansi.Strip(r.inline(n)) + "] (" + string(n.Destination) + ")")
	case *ast.RawHTML:
		for i := 0; i < n.Segments.Len(); i++ {
			seg := n.Segments.At(i)
			b.Write(seg.Value(r.src))
		}
	default:
		b.WriteString(r.inline(n))
	}
}

// wrapStyled wraps a styled string to w cells, keeping its newlines.
func wrapStyled(s string, w int) []string {
	if s == "" {
		return nil
	}
	return strings.Split(ansi.Wrap(s, max(w, 1), " -"), "\n")
}

// prefix puts first before the first line and rest before the others.
func prefix(lines []string, first, rest string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if i == 0 {
			out[i] = first + l
		} else {
			out[i] = rest + l
		}
	}
	return out
}
