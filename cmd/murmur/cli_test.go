package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"murmur/api"
)

func TestEveryCommandHasAnExample(t *testing.T) {
	a := &app{env: env{Getenv: func(string) string { return "" }}}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden && strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(a.newRoot())

	h := newHarness(t, oneRepo())
	for _, args := range [][]string{{"--help"}, {"issue", "create", "--help"}, {"review", "--help"}, {"refs", "push", "--help"}} {
		r := h.run(args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("murmur %v: code %d, stdout lacks an Examples section:\n%s", args, r.code, r.stdout)
		}
	}
	if h.opened != 0 {
		t.Errorf("help opened the store %d times", h.opened)
	}
}

func TestNoArgumentsPrintsHelp(t *testing.T) {
	h := newHarness(t, oneRepo())
	r := h.run()
	if r.code != exitOK || !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("no terminal: code %d, stdout %q", r.code, r.stdout)
	}
}

func TestNoArgumentsOnTerminalOpensTUI(t *testing.T) {
	saved := runTUI
	t.Cleanup(func() { runTUI = saved })
	opened := 0
	runTUI = func(ctx context.Context, a *app) error {
		opened++
		_, err := a.service(ctx)
		return err
	}
	h := newHarness(t, oneRepo())
	h.tty = true
	if r := h.run(); r.code != exitOK || opened != 1 {
		t.Errorf("tty: code %d, TUI opened %d times, stdout %q", r.code, opened, r.stdout)
	}
	runTUI = func(context.Context, *app) error { return errTUINotBuilt }
	r := h.run()
	if r.code != exitOK || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "terminal UI is not available") {
		t.Errorf("tty without a UI: code %d, stdout %q", r.code, r.stdout)
	}
}

// checkFailure asserts a failed run: the code, one line on stderr starting
// with "murmur: " and containing want, nothing on stdout.
func checkFailure(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code = %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "murmur: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting with \"murmur: \"", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr = %q, want it to contain %q", r.stderr, w)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"isue"}, `did you mean "issue"`},
		{[]string{"issue", "frobnicate"}, `unknown command "frobnicate" for "murmur issue"`},
		{[]string{"issue", "list", "--frob"}, "unknown flag: --frob"},
		{[]string{"issue", "view"}, "missing ID"},
		{[]string{"issue", "view", "a", "b"}, "too many arguments"},
		{[]string{"issue", "create"}, "-t/--title is required"},
		{[]string{"issue", "list", "-s", "sideways"}, `invalid state "sideways"`},
		{[]string{"issue", "list", "-L", "-1"}, "invalid limit"},
		{[]string{"issue", "edit", "1111"}, "nothing to change"},
		{[]string{"issue", "close", "1111", "-r", "bored"}, `invalid reason "bored"`},
		{[]string{"patch", "list", "-s", "closed-ish"}, "invalid state"},
		{[]string{"review", "9999"}, "exactly one of --approve"},
		{[]string{"review", "9999", "--approve", "--comment"}, "exactly one of --approve"},
		{[]string{"review", "9999", "--approve", "--file", "a.go"}, "--file and --line go together"},
		{[]string{"review", "9999", "--approve", "--revision", "0"}, "revisions are numbered from 1"},
		{[]string{"repo", "create"}, "NAME is required"},
		{[]string{"refs", "set", "main"}, "missing COMMIT"},
		{[]string{"patch", "check", "9999"}, "--state is required"},
		{[]string{"patch", "check", "9999", "--state", "done"}, `invalid --state "done"`},
		{[]string{"patch", "check", "9999", "--state", "success", "--url", "ftp://ci.example/1"}, "http:// or https:// URL"},
		{[]string{"patch", "check", "9999", "--state", "success", "--revision", "0"}, "revisions are numbered from 1"},
		{[]string{"patch", "merge", "9999", "--ff-only", "--no-ff"}, "exclude each other"},
		{[]string{"patch", "merge", "9999", "--mark-only", "--no-ff"}, "--mark-only merges no code"},
		{[]string{"repo", "ban"}, "missing ID"},
		{[]string{"repo", "unban", "did:key:z6Mkbob", "--reason", "x"}, "unknown flag: --reason"},
		{[]string{"repo", "member", "add"}, "missing ID"},
		{[]string{"repo", "edit", "--who-can-open", "friends"}, `invalid --who-can-open "friends"`},
		{[]string{"issue", "lock"}, "missing ID"},
		{[]string{"patch", "unlock", "a", "b"}, "too many arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t, oneRepo())
			r := h.run(tt.args...)
			checkFailure(t, r, exitUsage, tt.want, "--help' for usage.")
			if len(h.svc.calls) != 0 {
				t.Errorf("service calls %v, want none", h.svc.calls)
			}
		})
	}
}

func TestUserErrors(t *testing.T) {
	ambiguous := &api.Error{Code: api.CodeAmbiguous, Message: `issue ID "1111" is ambiguous: it matches 2; use more digits`,
		Matches: []string{"1111aaaa22220000", "1111aaaa33330000"}}
	forbidden := api.Errorf(api.CodeForbidden, "only maintainers can set refs, and you (z6Mk…DjVJG) are not one of this repo; ask a maintainer to add you with `murmur repo maintainer add did:key:z6Mkj`")
	tests := []struct {
		name  string
		args  []string
		err   error
		stdin string
		want  []string
		calls bool // the service was called
	}{
		{name: "empty title", args: []string{"issue", "create", "-t", "  "}, want: []string{"the title is empty. Pass a title with -t TITLE."}},
		{name: "patch commit not a sha", args: []string{"patch", "open", "-t", "x", "--commit", "abc123"},
			want: []string{`--commit "abc123" is not a full commit hash (40 or 64 hex digits)`, "git rev-parse HEAD"}},
		{name: "patch update commit not a sha", args: []string{"patch", "update", "9999", "--commit", strings.Repeat("g", 40)},
			want: []string{"is not a full commit hash"}},
		{name: "refs set commit not a sha", args: []string{"refs", "set", "main", "HEAD"}, want: []string{`COMMIT "HEAD" is not a full commit hash`}},
		{name: "unreadable body file", args: []string{"issue", "create", "-t", "x", "-F", "/nonexistent/body.md"},
			want: []string{"cannot read the issue body from /nonexistent/body.md: no such file", "Check the path given to -F"}},
		{name: "body file is a directory", args: []string{"issue", "comment", "1111", "-F", "/"}, want: []string{"cannot read the comment body", "is a directory"}},
		{name: "empty comment", args: []string{"issue", "comment", "1111"}, want: []string{"comment body is empty. Pass -b, -F or run in a terminal."}},
		{name: "empty comment from stdin", args: []string{"issue", "comment", "1111", "-F", "-"}, stdin: "  \n", want: []string{"comment body is empty"}},
		{name: "request changes needs text", args: []string{"review", "9999", "--request-changes"}, want: []string{"review text is empty"}},
		{name: "bad line range", args: []string{"review", "9999", "--comment", "-b", "x", "--file", "a.go", "--line", "9-3"}, want: []string{`--line "9-3" is not a line or a range`}},
		{name: "bad maintainer", args: []string{"repo", "maintainer", "add", "bob"}, want: []string{`"bob" is not a DID`}},
		{name: "merge outside a working copy", args: []string{"patch", "merge", "9999"},
			want: []string{"this is not inside a git working copy", "murmur repo clone", "--mark-only"}},
		{name: "unknown id", args: []string{"issue", "view", "ffff"}, calls: true,
			err:  api.Errorf(api.CodeNotFound, "no issue ffff in this repo; list them with `murmur issue list`"),
			want: []string{"no issue ffff in this repo. List them with 'murmur issue list'."}},
		{name: "ambiguous prefix", args: []string{"issue", "view", "1111"}, calls: true, err: ambiguous,
			want: []string{`issue ID "1111" is ambiguous: it matches 2: 1111aaaa22220000, 1111aaaa33330000. Use more digits.`}},
		{name: "non-maintainer sets refs", args: []string{"refs", "set", "main", sha1}, calls: true, err: forbidden,
			want: []string{"only maintainers can set refs, and you are not one in this repo", "murmur repo maintainer add " + alice.ID}},
		{name: "locked key", args: []string{"issue", "create", "-t", "x"}, calls: true,
			err:  &api.Error{Code: api.CodeLocked, Message: "identity: key file /h/identity.key is encrypted; supply its passphrase: passphrase required; set MURMUR_PASSPHRASE or pass --passphrase-file"},
			want: []string{"is encrypted and no passphrase was given. Pass --passphrase-file FILE or set MURMUR_PASSPHRASE."}},
		{name: "wrong passphrase", args: []string{"issue", "create", "-t", "x"}, calls: true,
			err:  &api.Error{Code: api.CodeLocked, Message: "identity: key file /h/identity.key: wrong passphrase; set MURMUR_PASSPHRASE"},
			want: []string{"the passphrase does not decrypt the key file"}},
		{name: "corrupt key", args: []string{"issue", "create", "-t", "x"}, calls: true,
			err:  &api.Error{Code: api.CodeInvalid, Message: "identity: load key file /h/identity.key: corrupt key file: unexpected EOF"},
			want: []string{"identity.key is damaged. Restore it from a backup, or move it away and run 'murmur id init'"}},
		{name: "internal", args: []string{"issue", "list"}, calls: true, err: api.Errorf(api.CodeInternal, "pebble: boom\nsecond line"),
			want: []string{"pebble: boom second line. Run again with MURMUR_LOG=debug"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := oneRepo()
			svc.err = tt.err
			h := newHarness(t, svc)
			h.stdin = tt.stdin
			r := h.run(tt.args...)
			checkFailure(t, r, exitFailure, tt.want...)
			if called := len(svc.calls) > 0; called != tt.calls {
				t.Errorf("service calls %v; want called = %v", svc.calls, tt.calls)
			}
		})
	}
}

func TestPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pass")
	if err := os.WriteFile(pf, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []byte
	h := newHarness(t, oneRepo())
	run := func(args ...string) result {
		var out strings.Builder
		e := env{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return h.env[k] }, Dir: h.dir,
			Connect: func(_ context.Context, home string, pass []byte) (api.Service, func() error, error) {
				got = pass
				return h.svc, func() error { return nil }, nil
			}}
		return result{code: run(context.Background(), args, e), stdout: out.String()}
	}
	if r := run("--passphrase-file", pf, "issue", "list"); r.code != 0 || string(got) != "s3cret" {
		t.Errorf("passphrase = %q (code %d, %q), want s3cret", got, r.code, r.stdout)
	}
	h.env["MURMUR_PASSPHRASE"] = "from-env"
	if r := run("issue", "list"); r.code != 0 || string(got) != "from-env" {
		t.Errorf("passphrase = %q (code %d), want from-env", got, r.code)
	}
	r := run("--passphrase-file", filepath.Join(dir, "missing"), "issue", "list")
	if r.code != exitFailure || !strings.Contains(r.stdout, "cannot read the passphrase file") {
		t.Errorf("missing passphrase file: code %d, output %q", r.code, r.stdout)
	}
}

func TestHomeDir(t *testing.T) {
	tests := []struct {
		flag string
		env  map[string]string
		want string
	}{
		{flag: "/x/flag", env: map[string]string{"MURMUR_HOME": "/x/env"}, want: "/x/flag"},
		{env: map[string]string{"MURMUR_HOME": "/x/env", "XDG_DATA_HOME": "/x/xdg"}, want: "/x/env"},
		{env: map[string]string{"XDG_DATA_HOME": "/x/xdg", "HOME": "/x/home"}, want: "/x/xdg/murmur"},
		{env: map[string]string{"XDG_DATA_HOME": "relative", "HOME": "/x/home"}, want: "/x/home/.local/share/murmur"},
		{env: map[string]string{"HOME": "/x/home"}, want: "/x/home/.local/share/murmur"},
	}
	for _, tt := range tests {
		a := &app{env: env{Getenv: func(k string) string { return tt.env[k] }}, home: tt.flag}
		got, err := a.homeDir()
		if err != nil || got != tt.want {
			t.Errorf("homeDir(flag %q, env %v) = %q, %v; want %q", tt.flag, tt.env, got, err, tt.want)
		}
	}
}

func TestSelectRepo(t *testing.T) {
	two := oneRepo()
	two.repos = append(two.repos, api.Repo{ID: repoB, Name: "beta"})
	none := oneRepo()
	none.repos = nil

	t.Run("flag", func(t *testing.T) {
		h := newHarness(t, two)
		if r := h.run("issue", "list", "-R", "beta"); r.code != 0 || two.repoArg != "beta" {
			t.Errorf("code %d, repo %q, want beta (stderr %q)", r.code, two.repoArg, r.stderr)
		}
	})
	t.Run("only repo", func(t *testing.T) {
		svc := oneRepo()
		h := newHarness(t, svc)
		if r := h.run("issue", "list"); r.code != 0 || svc.repoArg != repoA {
			t.Errorf("code %d, repo %q, want %s (stderr %q)", r.code, svc.repoArg, repoA, r.stderr)
		}
	})
	t.Run("several", func(t *testing.T) {
		h := newHarness(t, two)
		checkFailure(t, h.run("issue", "list"), exitFailure,
			"several repos here; pick one with -R: aaaa1111 alpha, bbbb1111 beta.")
	})
	t.Run("none", func(t *testing.T) {
		h := newHarness(t, none)
		checkFailure(t, h.run("patch", "list"), exitFailure, "there are no repos here yet. Create one with 'murmur repo create --name NAME'")
	})
	t.Run("working copy", func(t *testing.T) {
		h := newHarness(t, two)
		gitInit(t, h.dir)
		gitRun(t, h.dir, "config", "murmur.repo", repoB)
		sub := filepath.Join(h.dir, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		h.dir = sub
		if r := h.run("issue", "list"); r.code != 0 || two.repoArg != repoB {
			t.Errorf("code %d, repo %q, want %s (stderr %q)", r.code, two.repoArg, repoB, r.stderr)
		}
		gitRun(t, h.dir, "config", "murmur.repo", "0000ffff")
		checkFailure(t, h.run("issue", "list"), exitFailure, "this working copy names repo 0000ffff (git config murmur.repo), which is not in this data directory")
	})
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	gitRun(t, dir, "init", "-q", "-b", "trunk")
	gitRun(t, dir, "config", "user.email", "a@example.com")
	gitRun(t, dir, "config", "user.name", "A")
	gitRun(t, dir, "config", "commit.gpgsign", "false")
}

// gitOneCommit makes dir a working copy with one commit and returns it.
func gitOneCommit(t *testing.T, dir string) string {
	t.Helper()
	gitInit(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, "add", "f")
	gitRun(t, dir, "commit", "-q", "-m", "one")
	return gitRun(t, dir, "rev-parse", "HEAD")
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestIssueCreateArguments(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	r := h.run("issue", "create", "-t", "  Crash  ", "-b", "body wins", "-F", "/nonexistent", "-l", "bug,ui", "-l", " ", "-a", "@me", "-a", bob.ID)
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	want := api.NewIssue{Title: "Crash", Body: "body wins", Labels: []string{"bug", "ui"}, Assignees: []string{alice.ID, bob.ID}}
	if diff := cmp.Diff(want, svc.newIssue); diff != "" {
		t.Errorf("CreateIssue argument (-want +got):\n%s", diff)
	}
	if r.stdout != short(issue1)+"\n" {
		t.Errorf("stdout = %q, want the short ID", r.stdout)
	}
}

func TestText(t *testing.T) {
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.md")
	if err := os.WriteFile(bodyFile, []byte("# Heading\nfrom a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	editor := filepath.Join(dir, "editor.sh")
	// The fake editor checks it got the template, then writes a comment
	// above the scissors line.
	script := "#!/bin/sh\ngrep -q '>8' \"$1\" || exit 3\n{ printf '# Title kept\\nedited text\\n'; cat \"$1\"; } > \"$1.new\" && mv \"$1.new\" \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		tty    bool
		stdin  string
		visual string
		want   string
	}{
		{name: "-b", args: []string{"-b", "inline"}, want: "inline"},
		{name: "-F file", args: []string{"-F", bodyFile}, want: "# Heading\nfrom a file\n"},
		{name: "-F stdin", args: []string{"-F", "-"}, stdin: "piped\n", want: "piped\n"},
		{name: "-b wins over -F", args: []string{"-b", "b", "-F", bodyFile}, want: "b"},
		{name: "editor on a terminal", tty: true, visual: editor, want: "# Title kept\nedited text"},
		{name: "no editor off a terminal", stdin: "ignored", visual: editor, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := oneRepo()
			h := newHarness(t, svc)
			h.tty, h.stdin = tt.tty, tt.stdin
			h.env["VISUAL"] = tt.visual
			r := h.run(append([]string{"issue", "create", "-t", "T"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			if svc.newIssue.Body != tt.want {
				t.Errorf("body = %q, want %q", svc.newIssue.Body, tt.want)
			}
		})
	}

	t.Run("too long", func(t *testing.T) {
		h := newHarness(t, oneRepo())
		h.stdin = strings.Repeat("x", maxText+1)
		checkFailure(t, h.run("issue", "create", "-t", "T", "-F", "-"), exitFailure, "is too long")
	})
	t.Run("editor fails", func(t *testing.T) {
		h := newHarness(t, oneRepo())
		h.tty = true
		h.env["EDITOR"] = "false"
		checkFailure(t, h.run("issue", "comment", "1111"), exitFailure, `the editor "false" failed`)
	})
}

func TestPatchAndReviewArguments(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	upper := strings.ToUpper(sha1)
	if r := h.run("patch", "open", "-t", "P", "--commit", upper, "-b", "d", "--draft"); r.code != 0 {
		t.Fatalf("patch open: %s", r.stderr)
	}
	want := api.NewPatch{Title: "P", Description: "d", Base: "refs/heads/main", Commit: sha1, Draft: true}
	if diff := cmp.Diff(want, svc.newPatch); diff != "" {
		t.Errorf("CreatePatch argument (-want +got):\n%s", diff)
	}
	if r := h.run("patch", "update", "9999", "--commit", sha1, "--base-commit", sha1, "-m", "v2"); r.code != 0 {
		t.Fatalf("patch update: %s", r.stderr)
	}
	if diff := cmp.Diff(api.NewRevision{Commit: sha1, BaseCommit: sha1, Note: "v2"}, svc.newRev); diff != "" {
		t.Errorf("AddRevision argument (-want +got):\n%s", diff)
	}
	if r := h.run("review", "9999", "--request-changes", "-b", "Off by one.", "--file", "parse.go", "--line", "40-44", "--revision", "1"); r.code != 0 {
		t.Fatalf("review: %s", r.stderr)
	}
	wantReview := api.NewReview{Verdict: "request-changes", Summary: "Off by one.", Revision: 1, Path: "parse.go", Start: 40, End: 44}
	if diff := cmp.Diff(wantReview, svc.newReview); diff != "" {
		t.Errorf("Review argument (-want +got):\n%s", diff)
	}
	if r := h.run("review", "9999", "--approve"); r.code != 0 || svc.newReview.Verdict != "approve" || svc.newReview.Summary != "" {
		t.Errorf("approve without text: code %d, review %+v, stderr %q", r.code, svc.newReview, r.stderr)
	}
	if r := h.run("issue", "close", "1111", "-r", "not_planned", "-c", "dup"); r.code != 0 {
		t.Fatalf("close: %s", r.stderr)
	}
	if diff := cmp.Diff(api.Edit{State: "closed", Reason: "not-planned", Comment: "dup"}, svc.edit); diff != "" {
		t.Errorf("EditIssue argument (-want +got):\n%s", diff)
	}
	if r := h.run("issue", "edit", "1111", "-t", "New", "--add-label", "a,b", "--remove-assignee", "@me"); r.code != 0 {
		t.Fatalf("edit: %s", r.stderr)
	}
	title := "New"
	if diff := cmp.Diff(api.Edit{Title: &title, AddLabels: []string{"a", "b"}, RemoveAssignees: []string{alice.ID}}, svc.edit); diff != "" {
		t.Errorf("EditIssue argument (-want +got):\n%s", diff)
	}
	if r := h.run("issue", "comment", "1111", "-b", "hi", "--reply-to", "cccc"); r.code != 0 || svc.newComment != (api.NewComment{Body: "hi", ReplyTo: "cccc"}) {
		t.Errorf("comment: code %d, %+v", r.code, svc.newComment)
	}
	if r := h.run("refs", "set", "v1", sha1); r.code != 0 || svc.setRefs["refs/heads/v1"] != sha1 {
		t.Errorf("refs set: code %d, %v", r.code, svc.setRefs)
	}
	if r := h.run("issue", "list", "-s", "ALL", "-l", "bug", "-a", "@me", "-A", "bob", "-L", "5"); r.code != 0 {
		t.Fatalf("list: %s", r.stderr)
	}
	if diff := cmp.Diff(api.ListFilter{State: "all", Label: "bug", Assignee: alice.ID, Author: "bob", Limit: 5}, svc.filter); diff != "" {
		t.Errorf("Issues filter (-want +got):\n%s", diff)
	}
}

func TestRefsPush(t *testing.T) {
	svc := oneRepo()
	h := newHarness(t, svc)
	head := gitOneCommit(t, h.dir)
	gitRun(t, h.dir, "tag", "-a", "-m", "release", "v1")
	gitRun(t, h.dir, "tag", "light")
	svc.refs = []api.Ref{{Name: "refs/heads/trunk", Commit: head}, {Name: "refs/heads/gone", Commit: sha1}}

	r := h.run("refs", "push", "--prune")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	want := map[string]string{"refs/tags/v1": head, "refs/tags/light": head, "refs/heads/gone": ""}
	if diff := cmp.Diff(want, svc.setRefs); diff != "" {
		t.Errorf("PushRefs argument (-want +got):\n%s", diff)
	}
	if top := gitRun(t, h.dir, "rev-parse", "--show-toplevel"); svc.pushDir != top {
		t.Errorf("PushRefs working copy = %q, want %q", svc.pushDir, top)
	}
	wantOut := "refs/heads/gone\t\nrefs/tags/light\t" + head + "\nrefs/tags/v1\t" + head + "\n"
	if r.stdout != wantOut {
		t.Errorf("stdout = %q, want %q", r.stdout, wantOut)
	}

	svc.refs = []api.Ref{{Name: "refs/heads/trunk", Commit: head}, {Name: "refs/tags/v1", Commit: head}, {Name: "refs/tags/light", Commit: head}}
	svc.setRefs = nil
	if r := h.run("refs", "push"); r.code != 0 || svc.setRefs != nil {
		t.Errorf("up to date: code %d, SetRefs %v", r.code, svc.setRefs)
	}
}

func TestRefsPushToANodeWithoutGit(t *testing.T) {
	svc := oneRepo()
	svc.pushErr = &api.Error{Code: api.CodeUnavailable, Message: "this node cannot store code (git is not installed); publish the refs without their commits with 'murmur refs set'"}
	h := newHarness(t, svc)
	head := gitOneCommit(t, h.dir)

	r := h.run("refs", "push")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	if diff := cmp.Diff(map[string]string{"refs/heads/trunk": head}, svc.setRefs); diff != "" {
		t.Errorf("SetRefs argument (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stderr, "git is not installed") || !strings.Contains(r.stderr, "without their commits") {
		t.Errorf("stderr = %q, want why the commits stay behind", r.stderr)
	}
}

func TestRepoInit(t *testing.T) {
	svc := oneRepo()
	var created api.NewRepo
	h := newHarness(t, svc)
	gitInit(t, h.dir)
	gitRun(t, h.dir, "remote", "add", "origin", "git@example.com:someone/widget.git")
	fake := &createRepoService{fakeService: svc, got: &created}
	var out strings.Builder
	e := env{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return h.env[k] }, Dir: h.dir,
		Connect: func(context.Context, string, []byte) (api.Service, func() error, error) {
			return fake, func() error { return nil }, nil
		}}
	if code := run(context.Background(), []string{"repo", "init"}, e); code != 0 {
		t.Fatalf("code %d: %s", code, out.String())
	}
	if created.Name != "widget" || created.DefaultBranch != "trunk" {
		t.Errorf("created %+v, want name widget, branch trunk", created)
	}
	if got := gitRun(t, h.dir, "config", "murmur.repo"); got != repoB {
		t.Errorf("git config murmur.repo = %q, want %s", got, repoB)
	}
	out.Reset()
	if code := run(context.Background(), []string{"repo", "init"}, e); code != exitFailure || !strings.Contains(out.String(), "already linked to repo bbbb1111") {
		t.Errorf("second init: code %d, %q", code, out.String())
	}
}

type createRepoService struct {
	*fakeService
	got *api.NewRepo
}

func (s *createRepoService) CreateRepo(_ context.Context, n api.NewRepo) (api.Repo, error) {
	*s.got = n
	return api.Repo{ID: repoB, Name: n.Name, DefaultBranch: n.DefaultBranch}, nil
}

func TestOutput(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		tty   bool
		env   map[string]string
		width int
	}{
		{name: "issue-list.tsv", args: []string{"issue", "list"}},
		{name: "issue-list.term", args: []string{"issue", "list"}, tty: true, width: 80},
		{name: "issue-list.nocolor", args: []string{"issue", "list"}, tty: true, width: 60, env: map[string]string{"NO_COLOR": "1"}},
		{name: "issue-view.txt", args: []string{"issue", "view", "1111", "--comments"}},
		{name: "issue-view.term", args: []string{"issue", "view", "1111"}, tty: true, env: map[string]string{"NO_COLOR": "1"}},
		{name: "issue-view-comments.term", args: []string{"issue", "view", "1111", "--comments"}, tty: true},
		{name: "issue-view.json", args: []string{"issue", "view", "1111", "--json"}},
		{name: "patch-view.txt", args: []string{"patch", "view", "9999"}},
		{name: "patch-view.term", args: []string{"patch", "view", "9999"}, tty: true, width: 100, env: map[string]string{"NO_COLOR": "1"}},
		{name: "repo-list.tsv", args: []string{"repo", "list"}},
		{name: "refs-list.tsv", args: []string{"refs", "list"}},
		{name: "refs-list.term", args: []string{"refs", "list"}, tty: true, width: 120, env: map[string]string{"NO_COLOR": "1"}},
		{name: "status.term", args: []string{"status"}, tty: true, env: map[string]string{"NO_COLOR": "1"}},
	}
	bobTrunk := api.NamespaceRef(bob.ID, "refs/heads/trunk")
	refs := []api.Ref{
		{Name: "refs/heads/main", Commit: sha1, Objects: true, Forced: true,
			Conflicts: []api.Conflict{{Value: "1111111111111111111111111111111111111111", Author: bob, At: testNow}}},
		{Name: bobTrunk, Commit: "2222222222222222222222222222222222222222", Namespace: bob.ID, Owner: &bob,
			MissingReason: "not fetched yet: no connected peer has served them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := oneRepo()
			svc.refs = refs
			h := newHarness(t, svc)
			h.tty, h.width = tt.tty, tt.width
			for k, v := range tt.env {
				h.env[k] = v
			}
			r := h.run(tt.args...)
			if r.code != 0 {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "\x1b]") || strings.Contains(r.stdout, "\x1b[31mescapes") {
				t.Errorf("stdout carries escape sequences from the data:\n%q", r.stdout)
			}
			if (tt.tty && tt.env["NO_COLOR"] == "") != strings.Contains(r.stdout, "\x1b[") {
				t.Errorf("colours present = %v, want %v", !tt.tty, tt.tty)
			}
			golden(t, tt.name, r.stdout)
		})
	}
}

func TestJSONLists(t *testing.T) {
	svc := oneRepo()
	svc.issues = nil
	h := newHarness(t, svc)
	r := h.run("issue", "list", "--json")
	if r.code != 0 || r.stdout != "[]\n" {
		t.Errorf("empty list: code %d, stdout %q, want []", r.code, r.stdout)
	}
	svc.issues = oneRepo().issues
	r = h.run("issue", "list", "--json", "-s", "all")
	var got []api.IssueSummary
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, r.stdout)
	}
	if diff := cmp.Diff(svc.issues, got); diff != "" {
		t.Errorf("issue list --json (-want +got):\n%s", diff)
	}
}

func TestIsCommit(t *testing.T) {
	tests := map[string]bool{
		sha1:                     true,
		strings.Repeat("a", 64):  true,
		strings.Repeat("a", 39):  false,
		strings.Repeat("a", 41):  false,
		strings.Repeat("A", 40):  false,
		strings.Repeat("g", 40):  false,
		"":                       false,
		strings.Repeat("0", 128): false,
	}
	for in, want := range tests {
		if got := isCommit(in); got != want {
			t.Errorf("isCommit(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLineRange(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"12", 12, 12, true}, {"12-18", 12, 18, true}, {"7-7", 7, 7, true}, {" 3 ", 3, 3, true},
		{"0", 0, 0, false}, {"-3", 0, 0, false}, {"9-3", 0, 0, false}, {"a", 0, 0, false}, {"1-", 0, 0, false}, {"", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, err := lineRange(tt.in)
		if (err == nil) != tt.ok || s != tt.start || e != tt.end {
			t.Errorf("lineRange(%q) = %d, %d, %v; want %d, %d, ok %v", tt.in, s, e, err, tt.start, tt.end, tt.ok)
		}
	}
}

func TestRepoNameFromURL(t *testing.T) {
	tests := map[string]string{
		"git@github.com:owner/widget.git":     "widget",
		"https://example.com/owner/widget":    "widget",
		"https://example.com/owner/widget/":   "widget",
		"ssh://git@host:22/srv/widget.git":    "widget",
		"/srv/git/widget.git":                 "widget",
		"file:///srv/git/widget.git/":         "widget",
		"widget":                              "widget",
		"https://example.com/owner/..":        "",
		"  https://example.com/a/b.git \n":    "b",
		"https://example.com/owner/a.git.git": "a.git",
	}
	for in, want := range tests {
		if got := repoNameFromURL(in); got != want {
			t.Errorf("repoNameFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, line, text string }{
		{"plain", "plain", "plain"},
		{"a\tb\nc\r\n", "a b c  ", "a\tb\nc\n"},
		{"\x1b[31mred\x1b[0m", "[31mred[0m", "[31mred[0m"},
		{"x\u202eevil", "xevil", "xevil"},
		{"\x07bell\u009b", "bell", "bell"},
		{"emoji 🎉 ok", "emoji 🎉 ok", "emoji 🎉 ok"},
	}
	for _, tt := range tests {
		if got := sanitizeLine(tt.in); got != tt.line {
			t.Errorf("sanitizeLine(%q) = %q, want %q", tt.in, got, tt.line)
		}
		if got := sanitizeText(tt.in); got != tt.text {
			t.Errorf("sanitizeText(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
}

func TestPushChanges(t *testing.T) {
	const ns = "refs/namespaces/z6Mkx/"
	cur := []api.Ref{{Name: "refs/heads/main", Commit: "a"}, {Name: "refs/heads/old", Commit: "b"}, {Name: "refs/meta/x", Commit: "c"},
		{Name: ns + "refs/heads/main", Commit: "a"}, {Name: ns + "refs/heads/mine", Commit: "e"}}
	heads := []localRef{{name: "refs/heads/main", commit: "a"}, {name: "refs/heads/new", commit: "d"}}
	if diff := cmp.Diff(map[string]string{"refs/heads/new": "d"}, pushChanges(cur, heads, false, "")); diff != "" {
		t.Errorf("without prune (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"refs/heads/new": "d", "refs/heads/old": ""}, pushChanges(cur, heads, true, "")); diff != "" {
		t.Errorf("with prune (-want +got):\n%s", diff)
	}
	nsHeads := []localRef{{name: ns + "refs/heads/main", commit: "a"}, {name: ns + "refs/heads/new", commit: "d"}}
	if diff := cmp.Diff(map[string]string{ns + "refs/heads/new": "d", ns + "refs/heads/mine": ""}, pushChanges(cur, nsHeads, true, ns)); diff != "" {
		t.Errorf("in a namespace with prune (-want +got):\n%s", diff)
	}
}

func TestUniqueLen(t *testing.T) {
	tests := []struct {
		ids  []string
		want int
	}{
		{nil, 8},
		{[]string{"aaaaaaaaaaaa"}, 8},
		{[]string{"aaaaaaaa1111", "aaaaaaab1111"}, 8},
		{[]string{"aaaaaaaa1111", "aaaaaaaa1211", "bbbb"}, 10},
		{[]string{"abc", "abc"}, 8},
	}
	for _, tt := range tests {
		if got := uniqueLen(tt.ids); got != tt.want {
			t.Errorf("uniqueLen(%q) = %d, want %d", tt.ids, got, tt.want)
		}
	}
}

func TestPrintJSONListMatchesIndentedDocument(t *testing.T) {
	svc := oneRepo()
	svc.issues[0].Title = "<html> & \"quotes\""
	for _, list := range [][]api.IssueSummary{nil, svc.issues[:1], svc.issues} {
		a := &app{}
		if err := printJSONList(a, list); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(nonNil(list)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), a.out.String()); diff != "" {
			t.Errorf("printJSONList of %d items (-want +got):\n%s", len(list), diff)
		}
	}
}

func TestRefsPushNamespaceAndForce(t *testing.T) {
	svc := oneRepo()
	svc.repos[0].Maintainers = []api.Person{bob} // alice is not a maintainer
	h := newHarness(t, svc)
	head := gitOneCommit(t, h.dir)
	mine := api.NamespaceRef(alice.ID, "refs/heads/trunk")
	// The canonical trunk is already at head: alice's own trunk is not.
	svc.refs = []api.Ref{{Name: "refs/heads/trunk", Commit: head}}

	h.tty = true
	r := h.run("refs", "push")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	if diff := cmp.Diff(api.RefPush{Dir: svc.push.Dir, Refs: map[string]string{mine: head}, Namespace: api.NamespaceOwn}, svc.push); diff != "" {
		t.Errorf("PushRefs argument (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stdout, mine) || !strings.Contains(r.stdout, "own namespace") || !strings.Contains(r.stdout, "not a maintainer") {
		t.Errorf("stdout = %q, want where the refs went and why", r.stdout)
	}

	// A maintainer pushes to the canonical refs; --force passes through.
	svc.repos[0].Maintainers = []api.Person{alice}
	svc.refs = nil
	h.tty = false
	if r := h.run("refs", "push", "--force"); r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	if want := (api.RefPush{Dir: svc.push.Dir, Refs: map[string]string{"refs/heads/trunk": head}, Namespace: api.NamespaceCanonical, Force: true}); !cmp.Equal(want, svc.push) {
		t.Errorf("PushRefs argument = %+v, want %+v", svc.push, want)
	}
	// --own as a maintainer.
	if r := h.run("refs", "push", "--own"); r.code != 0 || svc.push.Namespace != api.NamespaceOwn || svc.push.Refs[mine] != head {
		t.Errorf("refs push --own: code %d, PushRefs %+v, stderr %q", r.code, svc.push, r.stderr)
	}

	// A refused non-fast-forward says what to do, and nothing else runs.
	svc.pushErr = api.Errorf(api.CodeConflict, "refs/heads/trunk: 1111111 → 2222222 is not a fast-forward; fetch and merge it, or push with --force; nothing was pushed")
	r = h.run("refs", "push")
	if r.code == 0 || !strings.Contains(r.stderr, "not a fast-forward") || !strings.Contains(r.stderr, "--force") || slices.Contains(svc.calls, "SetRefs") {
		t.Errorf("refused push: code %d, stderr %q, calls %v", r.code, r.stderr, svc.calls)
	}
}
