package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Bounds of what Messages returns: commits come from peers, so their
// messages may be of any size.
const (
	MaxMessages     = 1000    // commit messages
	MaxMessageBytes = 1 << 20 // bytes of all of them; the rest is dropped
)

// IsAncestor reports whether commit ancestor is reachable from commit
// descendant (a commit is its own ancestor) in the repository of name,
// with one git process. Both objects must be present; a missing one is
// ErrMissing.
func (s *Store) IsAncestor(ctx context.Context, name, ancestor, descendant string) (bool, error) {
	if !oidRE.MatchString(ancestor) || !oidRE.MatchString(descendant) {
		return false, fmt.Errorf("gitstore: is-ancestor: %q / %q are not object IDs", ancestor, descendant)
	}
	dir, err := s.existing(name)
	if err != nil {
		return false, err
	}
	_, err = s.git.run(ctx, dir, nil, "merge-base", "--is-ancestor", ancestor, descendant)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	}
	// git failed: say so plainly when it was for want of an object.
	have, herr := s.HasAll(ctx, name, []string{ancestor, descendant})
	if herr != nil {
		return false, herr
	}
	for _, c := range []string{ancestor, descendant} {
		if !have[c] {
			return false, fmt.Errorf("%w: %s", ErrMissing, c)
		}
	}
	return false, err
}

// Messages returns the messages of the commits reachable from head and
// not from base (all of head's history when base is empty), newest
// first, at most MaxMessages of them and MaxMessageBytes in all (the last
// may be cut short).
func (s *Store) Messages(ctx context.Context, name, base, head string) ([]string, error) {
	if !oidRE.MatchString(head) || (base != "" && !oidRE.MatchString(base)) {
		return nil, fmt.Errorf("gitstore: log: %q / %q are not object IDs", base, head)
	}
	dir, err := s.existing(name)
	if err != nil {
		return nil, err
	}
	args := []string{"log", "-z", "--format=%B", "-n", strconv.Itoa(MaxMessages), head}
	if base != "" {
		args = append(args, "^"+base)
	}
	cmd := s.git.command(ctx, dir, append(args, "--")...)
	stdout := &headBuffer{max: MaxMessageBytes}
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, gitError(args, err, stderr)
	}
	out := stdout.buf
	var msgs []string
	for _, m := range strings.Split(string(out), "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// headBuffer keeps the first max bytes written to it and drops the rest.
type headBuffer struct {
	max int
	buf []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
