package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// MaxMessages bounds how many commit messages Messages returns.
const MaxMessages = 1000

// IsAncestor reports whether commit ancestor is reachable from commit
// descendant (a commit is its own ancestor) in the repository of name.
// Both objects must be present; a missing one is ErrMissing.
func (s *Store) IsAncestor(ctx context.Context, name, ancestor, descendant string) (bool, error) {
	if !oidRE.MatchString(ancestor) || !oidRE.MatchString(descendant) {
		return false, fmt.Errorf("gitstore: is-ancestor: %q / %q are not object IDs", ancestor, descendant)
	}
	have, err := s.HasAll(ctx, name, []string{ancestor, descendant})
	if err != nil {
		return false, err
	}
	for _, c := range []string{ancestor, descendant} {
		if !have[c] {
			return false, fmt.Errorf("%w: %s", ErrMissing, c)
		}
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
	}
	return false, err
}

// Messages returns the messages of the commits reachable from head and
// not from base (all of head's history when base is empty), newest
// first, at most MaxMessages of them.
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
	out, err := s.git.run(ctx, dir, nil, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var msgs []string
	for _, m := range strings.Split(string(out), "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}
