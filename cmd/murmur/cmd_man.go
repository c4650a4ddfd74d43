package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func (a *app) manCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages for every command into a directory",
		Long: `Write a man page (section 1) for murmur and for each of its commands
into DIR, generated from the same command tree as --help.`,
		Example: `  murmur man ~/.local/share/man/man1 && man murmur-issue-create`,
		Args:    args("DIR"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			dir := pos[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &userError{what: "cannot create " + fileErr(err), todo: "Pick a directory you can write", err: err}
			}
			n, err := writeManPages(dir, cmd.Root(), "murmur "+buildVersion(), a.Now().Format("January 2006"))
			if err != nil {
				return &userError{what: "cannot write the man pages: " + fileErr(err), todo: "Check that " + dir + " is writable", err: err}
			}
			fmt.Fprintf(&a.out, "%d pages in %s\n", n, dir)
			return nil
		},
	}
}

// writeManPages writes one roff page per visible command, named after
// its path (murmur-issue-create.1), and returns how many it wrote.
func writeManPages(dir string, c *cobra.Command, source, date string) (int, error) {
	n := 0
	if c.HasParent() && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
		return 0, nil
	}
	name := strings.ReplaceAll(c.CommandPath(), " ", "-")
	if err := os.WriteFile(filepath.Join(dir, name+".1"), []byte(manPage(c, source, date)), 0o644); err != nil {
		return n, err
	}
	n++
	for _, sub := range c.Commands() {
		m, err := writeManPages(dir, sub, source, date)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// manPage renders c as a man(7) page.
func manPage(c *cobra.Command, source, date string) string {
	name := strings.ReplaceAll(c.CommandPath(), " ", "-")
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 %s %s \"murmur manual\"\n", roffQuote(strings.ToUpper(name)), roffQuote(date), roffQuote(source))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffText(name), roffText(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", roffText(c.UseLine()))
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", roffParagraphs(desc))
	manFlags(&b, "OPTIONS", c.NonInheritedFlags())
	manFlags(&b, "GLOBAL OPTIONS", c.InheritedFlags())
	if c.Example != "" {
		fmt.Fprintf(&b, ".SH EXAMPLES\n.nf\n%s\n.fi\n", roffText(c.Example))
	}
	var see []string
	if c.HasParent() {
		see = append(see, strings.ReplaceAll(c.Parent().CommandPath(), " ", "-"))
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			see = append(see, strings.ReplaceAll(sub.CommandPath(), " ", "-"))
		}
	}
	if len(see) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range see {
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, ".BR %s (1)%s\n", roffText(s), sep)
		}
	}
	return b.String()
}

func manFlags(b *strings.Builder, title string, fs *pflag.FlagSet) {
	if !fs.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(b, ".SH %s\n", title)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		head := "\\-\\-" + roffText(f.Name)
		if f.Shorthand != "" {
			head = "\\-" + roffText(f.Shorthand) + ", " + head
		}
		if varname != "" {
			head += " " + roffText(varname)
		}
		fmt.Fprintf(b, ".TP\n.B %s\n%s\n", head, roffText(usage))
	})
}

// roffText escapes text for roff: backslashes, and a period or an
// apostrophe that would start a request at the beginning of a line.
func roffText(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\e")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = "\\&" + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffParagraphs is roffText with blank lines as paragraph breaks and
// indented lines kept as they are.
func roffParagraphs(s string) string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if strings.HasPrefix(para, "  ") {
			out = append(out, ".PP\n.nf\n"+roffText(para)+"\n.fi")
			continue
		}
		out = append(out, ".PP\n"+roffText(para))
	}
	return strings.Join(out, "\n")
}

func roffQuote(s string) string { return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"` }
