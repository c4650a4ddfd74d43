package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
)

// maxText is the longest body, comment or description the forge accepts
// (forge.MaxText); the CLI checks it before reading more.
const maxText = 32 << 10

// textFlags are a command's -b/--body and -F/--body-file flags.
type textFlags struct {
	body string
	file string
}

func addTextFlags(cmd *cobra.Command, tf *textFlags, what string) {
	cmd.Flags().StringVarP(&tf.body, "body", "b", "", "the "+what+", as `TEXT`")
	cmd.Flags().StringVarP(&tf.file, "body-file", "F", "", "read the "+what+" from `FILE` (\"-\" for stdin)")
}

// given reports whether -b or -F was passed.
func (tf *textFlags) given(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("body") || tf.file != ""
}

// textRequest says how a command wants its long text.
type textRequest struct {
	what     string // "comment body", used in messages
	required bool   // empty text is an error
	editor   bool   // with neither -b nor -F, open $EDITOR on a terminal
	context  string // shown below the scissors line in the editor
}

// text resolves the long text of a command: -b wins; -F FILE reads a file
// ("-" is stdin); with neither and stdin a terminal, $EDITOR opens on a
// template; otherwise the text is empty.
func (a *app) text(ctx context.Context, cmd *cobra.Command, tf *textFlags, req textRequest) (string, error) {
	var s string
	switch {
	case cmd.Flags().Changed("body"):
		s = tf.body
	case tf.file != "":
		b, err := readLimited(tf.file, a.Stdin, maxText)
		if err != nil {
			var tl *tooLongError
			if errors.As(err, &tl) {
				return "", &userError{
					what: fmt.Sprintf("the %s in %s is too long: %v", req.what, tf.file, err),
					todo: "Shorten it",
				}
			}
			return "", &userError{
				what: "cannot read the " + req.what + " from " + fileErr(err),
				todo: "Check the path given to -F/--body-file",
				err:  err,
			}
		}
		s = string(b)
	case req.editor && a.StdinTTY:
		// Reach the node and pick the repo first, so that a mistake there
		// shows before the user has written anything.
		if _, err := a.open(ctx); err != nil {
			return "", err
		}
		var err error
		if s, err = a.edit(ctx, req.context); err != nil {
			return "", err
		}
	}
	if len(s) > maxText {
		return "", &userError{
			what: fmt.Sprintf("the %s is %d bytes; the limit is %d", req.what, len(s), maxText),
			todo: "Shorten it",
		}
	}
	if req.required && strings.TrimSpace(s) == "" {
		if req.editor && a.StdinTTY {
			return "", &userError{what: req.what + " is empty", todo: "Nothing was written"}
		}
		return "", &userError{what: req.what + " is empty", todo: "Pass -b, -F or run in a terminal"}
	}
	return s, nil
}

// promptFor fills in a required value that was not given: on a terminal
// it asks for it (as gh does), otherwise the command line is wrong and
// flag names what to pass.
func (a *app) promptFor(flag, label string) (string, error) {
	if !a.StdinTTY || !a.StdoutTTY {
		return "", usagef("%s is required", flag)
	}
	fmt.Fprintf(a.Stderr, "%s: ", label)
	line, err := bufio.NewReader(io.LimitReader(a.Stdin, maxText)).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.Stderr) // end the prompt's line
		return "", &userError{what: "no " + strings.ToLower(label) + " was given", todo: "Pass " + flag}
	}
	return strings.TrimSpace(line), nil
}

// scissors marks the start of the help text in an editor file; it and
// everything below it are removed, so Markdown headings survive.
const scissors = "# ------------------------ >8 ------------------------"

// edit opens the user's editor ($VISUAL, then $EDITOR, else vi) on a
// temporary file and returns what was written above the scissors line.
func (a *app) edit(ctx context.Context, help string) (string, error) {
	f, err := os.CreateTemp("", "murmur-*.md")
	if err != nil {
		return "", fmt.Errorf("create a file for the editor: %w", err)
	}
	name := f.Name()
	defer os.Remove(name)
	var tmpl strings.Builder
	tmpl.WriteString("\n\n" + scissors + "\n")
	tmpl.WriteString("# Write above this line; it and everything below are ignored.\n")
	tmpl.WriteString("# An empty text cancels.\n")
	for _, l := range strings.Split(strings.TrimSpace(help), "\n") {
		if l != "" {
			tmpl.WriteString("# " + sanitizeLine(l) + "\n")
		}
	}
	_, werr := f.WriteString(tmpl.String())
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("write the editor file: %w", werr)
	}

	editor := a.Getenv("VISUAL")
	if editor == "" {
		editor = a.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	// Not tied to ctx: an interrupt typed in the editor is the editor's
	// business, and killing it would leave the terminal in a mess.
	var c *exec.Cmd
	if sh, err := exec.LookPath("sh"); err == nil {
		// Through the shell, as git does, so EDITOR may carry arguments
		// ("code --wait").
		c = exec.Command(sh, "-c", editor+` "$@"`, editor, name)
	} else {
		fields := strings.Fields(editor)
		c = exec.Command(fields[0], append(fields[1:], name)...)
	}
	c.Dir = a.Dir
	c.Stdin, c.Stdout, c.Stderr = a.Stdin, a.EditorOut, a.Stderr
	if err := c.Run(); err != nil {
		return "", &userError{
			what: fmt.Sprintf("the editor %q failed: %v", editor, err),
			todo: "Set VISUAL or EDITOR to a working editor, or pass -b or -F",
			err:  err,
		}
	}
	b, err := readLimited(name, nil, 4*maxText)
	if err != nil {
		return "", &userError{what: "cannot read the editor's file: " + err.Error(), todo: "Pass -b or -F instead"}
	}
	return stripTemplate(string(b)), nil
}

// stripTemplate removes the scissors line and what follows, and trims
// surrounding blank space.
func stripTemplate(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if i := strings.Index(s, scissors); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
