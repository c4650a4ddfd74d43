package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"
)

// errNoGit means git is not installed or the directory is not inside a
// git working copy.
var errNoGit = errors.New("not inside a git working copy")

// maxGitOutput bounds what murmur reads from one git command.
const maxGitOutput = 64 << 20

// git runs git in the working directory and returns its trimmed stdout.
func (a *app) git(ctx context.Context, args ...string) (string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return "", errNoGit
	}
	c := exec.CommandContext(ctx, bin, args...)
	c.Dir = a.Dir
	var out, errb limitedBuffer
	out.limit, errb.limit = maxGitOutput, 4<<10
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", &gitError{args: args, msg: msg, err: err}
	}
	if out.over {
		return "", fmt.Errorf("git %s: output is over %d bytes", strings.Join(args, " "), maxGitOutput)
	}
	return strings.TrimRight(out.String(), "\n"), nil
}

// gitError is a git command that failed.
type gitError struct {
	args []string
	msg  string
	err  error
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), oneLine(e.msg))
}
func (e *gitError) Unwrap() error { return e.err }

// limitedBuffer keeps the first limit bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); len(p) > room {
		b.over = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// gitTop is the top directory of the working copy, or errNoGit.
func (a *app) gitTop(ctx context.Context) (string, error) {
	top, err := a.git(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", errNoGit
	}
	if top == "" {
		// A bare repository or the inside of .git.
		return "", errNoGit
	}
	return top, nil
}

// gitConfigKey is where a working copy records its murmur repo.
const gitConfigKey = "murmur.repo"

// workingCopyRepo is the repo recorded in the working copy's git config,
// or "" when there is none (or no git, or no working copy).
func (a *app) workingCopyRepo(ctx context.Context) string {
	v, err := a.git(ctx, "config", "--get", gitConfigKey)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

// repoNameFromURL is the last path element of a git remote URL without
// ".git": "git@host:o/name.git", "https://host/o/name", "/srv/name.git/".
func repoNameFromURL(u string) string {
	u = strings.TrimSpace(u)
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndexAny(u, "/:"); i >= 0 {
		u = u[i+1:]
	}
	u = strings.TrimSuffix(u, ".git")
	if u == "." || u == ".." {
		return ""
	}
	return u
}

// gitDefaultBranch is the current branch, else init.defaultBranch, else
// "main".
func (a *app) gitDefaultBranch(ctx context.Context) string {
	if b, err := a.git(ctx, "symbolic-ref", "--short", "-q", "HEAD"); err == nil && b != "" {
		return b
	}
	if b, err := a.git(ctx, "config", "--get", "init.defaultBranch"); err == nil && b != "" {
		return b
	}
	return "main"
}

// gitRepoName is the name for a new repo from the working copy: the
// origin remote's last path element, else the top directory's name.
func (a *app) gitRepoName(ctx context.Context, top string) string {
	if u, err := a.git(ctx, "remote", "get-url", "origin"); err == nil {
		if n := repoNameFromURL(u); n != "" {
			return n
		}
	}
	return path.Base(strings.ReplaceAll(top, "\\", "/"))
}

// localRef is a branch or tag head of the working copy.
type localRef struct {
	name   string // refs/heads/x, refs/tags/v1
	commit string
}

// gitHeads lists the branch and tag heads that point at commits (tags are
// peeled); other refs are returned in skipped.
func (a *app) gitHeads(ctx context.Context) (heads []localRef, skipped []string, err error) {
	out, err := a.git(ctx, "for-each-ref",
		"--format=%(refname)%09%(objecttype)%09%(objectname)%09%(*objecttype)%09%(*objectname)",
		"refs/heads", "refs/tags")
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, nil, fmt.Errorf("git for-each-ref: unexpected line %q", line)
		}
		switch {
		case f[1] == "commit":
			heads = append(heads, localRef{name: f[0], commit: f[2]})
		case f[3] == "commit":
			heads = append(heads, localRef{name: f[0], commit: f[4]})
		default:
			skipped = append(skipped, f[0])
		}
	}
	return heads, skipped, nil
}
