// Package patchmerge merges a patch into the base branch of a user's git
// working copy the way git users expect: it fetches the patch head and
// the canonical base commit from the node's bare repository, checks the
// base branch out at the canonical commit, and fast-forwards it or makes
// a merge commit. A merge that needs conflict resolution is aborted and
// the working copy left as it was.
//
// It drives the real git program in the user's working copy (with the
// user's own configuration, so merge commits carry their name) and
// changes nothing on the node: publishing the result is the caller's.
// Only cmd/murmur imports it.
package patchmerge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Mode says how the merge is made.
type Mode int

const (
	// FastForward fast-forwards when possible, else makes a merge commit
	// (git's default).
	FastForward Mode = iota
	// FastForwardOnly refuses what is not a fast-forward (git merge
	// --ff-only).
	FastForwardOnly
	// NoFastForward always makes a merge commit (git merge --no-ff).
	NoFastForward
)

// Request is one merge.
type Request struct {
	Dir        string // the working copy
	Source     string // the node's bare repository, holding Head and BaseCommit
	Head       string // the patch head commit
	Branch     string // the base branch, without refs/heads/
	BaseCommit string // the canonical commit of Branch; "" when it does not exist yet
	Mode       Mode
	Message    string // the merge commit's message
}

// Result says what the merge made.
type Result struct {
	Commit      string // the new tip of Branch
	FastForward bool   // Branch moved to Head without a merge commit
}

var (
	// ErrDirty: the working copy has uncommitted changes.
	ErrDirty = errors.New("the working copy has uncommitted changes")
	// ErrNotFastForward: Mode is FastForwardOnly and Head does not
	// contain BaseCommit.
	ErrNotFastForward = errors.New("not a fast-forward")
	// ErrLocalCommits: the local Branch has commits that the canonical
	// branch does not.
	ErrLocalCommits = errors.New("the local branch has commits the canonical branch lacks")
	// ErrMissing: the node's repository lacks Head or BaseCommit.
	ErrMissing = errors.New("the node does not hold the commits")
)

// ConflictError is a merge that needs conflict resolution. The merge was
// aborted.
type ConflictError struct {
	Files []string // the conflicting paths
}

func (e *ConflictError) Error() string {
	return "the merge conflicts in " + strings.Join(e.Files, ", ")
}

// git runs git in dir and returns its trimmed standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_MERGE_AUTOEDIT=no")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return strings.TrimSpace(out.String()), fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return strings.TrimSpace(out.String()), nil
}

// isAncestor reports whether a is reachable from b.
func isAncestor(ctx context.Context, dir, a, b string) (bool, error) {
	_, err := git(ctx, dir, "merge-base", "--is-ancestor", a, b)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	}
	return false, err
}

// Merge performs r. On any failure after it switched branches, it
// switches back to the branch (or commit) that was checked out.
func Merge(ctx context.Context, r Request) (Result, error) {
	if st, err := git(ctx, r.Dir, "status", "--porcelain", "--untracked-files=no"); err != nil {
		return Result{}, err
	} else if st != "" {
		return Result{}, ErrDirty
	}
	wants := []string{r.Head}
	if r.BaseCommit != "" {
		wants = append(wants, r.BaseCommit)
	}
	if _, err := git(ctx, r.Dir, append([]string{"-c", "protocol.version=2", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", r.Source}, wants...)...); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	ff := r.BaseCommit == ""
	if !ff {
		var err error
		if ff, err = isAncestor(ctx, r.Dir, r.BaseCommit, r.Head); err != nil {
			return Result{}, err
		}
	}
	if !ff && r.Mode == FastForwardOnly {
		return Result{}, ErrNotFastForward
	}
	// The local branch must not hold work the canonical branch lacks:
	// checking it out at the canonical commit would drop it.
	start := r.BaseCommit
	if start == "" {
		start = r.Head
	}
	local, err := git(ctx, r.Dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+r.Branch)
	if err == nil && local != "" {
		if ok, err := isAncestor(ctx, r.Dir, local, start); err != nil {
			return Result{}, err
		} else if !ok {
			return Result{}, ErrLocalCommits
		}
	}
	back, err := git(ctx, r.Dir, "symbolic-ref", "--quiet", "--short", "HEAD")
	if err != nil || back == "" {
		if back, err = git(ctx, r.Dir, "rev-parse", "--verify", "HEAD"); err != nil {
			back = ""
		}
	}
	restore := func() {
		if back != "" && back != r.Branch {
			_, _ = git(context.WithoutCancel(ctx), r.Dir, "checkout", "--quiet", back)
		}
	}
	if _, err := git(ctx, r.Dir, "checkout", "--quiet", "-B", r.Branch, start); err != nil {
		return Result{}, err
	}
	switch {
	case r.BaseCommit == "":
		// The branch is new: it starts at the head.
		return Result{Commit: r.Head, FastForward: true}, nil
	case ff && r.Mode != NoFastForward:
		if _, err := git(ctx, r.Dir, "merge", "--quiet", "--ff-only", r.Head); err != nil {
			restore()
			return Result{}, err
		}
	default:
		if _, err := git(ctx, r.Dir, "merge", "--quiet", "--no-ff", "--no-edit", "-m", r.Message, r.Head); err != nil {
			files, _ := git(ctx, r.Dir, "diff", "--name-only", "--diff-filter=U")
			_, _ = git(context.WithoutCancel(ctx), r.Dir, "merge", "--abort")
			restore()
			if files == "" {
				return Result{}, err
			}
			return Result{}, &ConflictError{Files: strings.Split(files, "\n")}
		}
	}
	tip, err := git(ctx, r.Dir, "rev-parse", "HEAD")
	if err != nil {
		return Result{}, err
	}
	return Result{Commit: tip, FastForward: tip == r.Head}, nil
}
