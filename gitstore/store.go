package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// waitDelay bounds how long a git process may keep its pipes open after
// its context is done.
const waitDelay = 5 * time.Second

var (
	// ErrNoRepo: the store holds no repository of that name.
	ErrNoRepo = errors.New("gitstore: no such repository")
	// ErrMissing: an object named in a request is not in the store.
	ErrMissing = errors.New("gitstore: object missing")
)

// Store is a directory of bare git repositories, one per replicated repo.
// It is safe for concurrent use; git itself serializes ref updates.
type Store struct {
	git  *Git
	root string
}

// Open returns the store rooted at dir, creating dir if needed.
func Open(g *Git, dir string) (*Store, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: no git program given", ErrNoGit)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("gitstore: %w", err)
	}
	return &Store{git: g, root: dir}, nil
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
	oidRE  = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// Dir returns the bare repository of name, which must be a plain token
// (a repo ID in hex, say): letters, digits, '.', '_' and '-'.
func (s *Store) Dir(name string) (string, error) {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("gitstore: repository name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return filepath.Join(s.root, name+".git"), nil
}

// Init creates the bare repository of name if it does not exist and
// returns its directory.
func (s *Store) Init(ctx context.Context, name string) (string, error) {
	dir, err := s.Dir(name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return dir, nil
	}
	// Initialise beside the final name and rename, so that a crash never
	// leaves a half-made repository under the real name.
	tmp, err := os.MkdirTemp(s.root, "."+name+".init-")
	if err != nil {
		return "", fmt.Errorf("gitstore: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := s.git.run(ctx, tmp, nil, "init", "--quiet", "--bare", "."); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "HEAD")); statErr == nil {
			return dir, nil // made concurrently
		}
		return "", fmt.Errorf("gitstore: %w", err)
	}
	return dir, nil
}

// existing returns the directory of a repository that exists.
func (s *Store) existing(name string) (string, error) {
	dir, err := s.Dir(name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNoRepo, name)
	}
	return dir, nil
}

// Has reports whether the repository of name holds object oid.
func (s *Store) Has(ctx context.Context, name, oid string) (bool, error) {
	if !oidRE.MatchString(oid) {
		return false, fmt.Errorf("gitstore: %q is not an object ID", oid)
	}
	dir, err := s.existing(name)
	if errors.Is(err, ErrNoRepo) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	out, err := s.git.run(ctx, dir, strings.NewReader(oid+"\n"), "cat-file", "--batch-check=%(objectname)")
	if err != nil {
		return false, err
	}
	return !bytes.HasSuffix(bytes.TrimSpace(out), []byte("missing")), nil
}

// HasAll reports which of oids the repository of name holds, with one
// git process for all of them.
func (s *Store) HasAll(ctx context.Context, name string, oids []string) (map[string]bool, error) {
	have := make(map[string]bool, len(oids))
	var in strings.Builder
	for _, oid := range oids {
		if !oidRE.MatchString(oid) {
			return nil, fmt.Errorf("gitstore: %q is not an object ID", oid)
		}
		have[oid] = false
		in.WriteString(oid + "\n")
	}
	dir, err := s.existing(name)
	if errors.Is(err, ErrNoRepo) || len(oids) == 0 {
		return have, nil
	} else if err != nil {
		return nil, err
	}
	out, err := s.git.run(ctx, dir, strings.NewReader(in.String()), "cat-file", "--batch-check=%(objectname)")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if oidRE.MatchString(line) {
			have[line] = true
		}
	}
	return have, nil
}

// SetRef points ref at oid in the repository of name, which must hold
// the object. If old is not empty the update happens only while the ref
// is at old (the zero ID for "does not exist").
func (s *Store) SetRef(ctx context.Context, name, ref, oid, old string) error {
	dir, err := s.existing(name)
	if err != nil {
		return err
	}
	if !oidRE.MatchString(oid) || (old != "" && !oidRE.MatchString(old)) {
		return fmt.Errorf("gitstore: set %s: %q / %q are not object IDs", ref, oid, old)
	}
	if _, err := s.git.run(ctx, dir, nil, "check-ref-format", ref); err != nil {
		return fmt.Errorf("gitstore: %q is not a valid ref name", ref)
	}
	args := []string{"update-ref", "--no-deref", ref, oid}
	if old != "" {
		args = append(args, old)
	}
	_, err = s.git.run(ctx, dir, nil, args...)
	return err
}

// Refs returns every ref of the repository of name with the object it
// names.
func (s *Store) Refs(ctx context.Context, name string) (map[string]string, error) {
	dir, err := s.existing(name)
	if err != nil {
		return nil, err
	}
	out, err := s.git.run(ctx, dir, nil, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if oid, ref, ok := strings.Cut(line, " "); ok {
			refs[ref] = oid
		}
	}
	return refs, nil
}

// DeleteRef removes ref from the repository of name; a missing ref or
// repository is not an error.
func (s *Store) DeleteRef(ctx context.Context, name, ref string) error {
	dir, err := s.existing(name)
	if errors.Is(err, ErrNoRepo) {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := s.git.run(ctx, dir, nil, "check-ref-format", ref); err != nil {
		return fmt.Errorf("gitstore: %q is not a valid ref name", ref)
	}
	_, err = s.git.run(ctx, dir, nil, "update-ref", "--no-deref", "-d", ref)
	return err
}

// Import copies the objects wants (object IDs) and everything they reach
// from the git repository at src (a working copy or a bare repository on
// this machine) into the repository of name, which it creates if
// needed. Like Fetch it checks every object and changes no ref.
func (s *Store) Import(ctx context.Context, name, src string, wants []string) error {
	for _, w := range wants {
		if !oidRE.MatchString(w) {
			return fmt.Errorf("gitstore: import: %q is not an object ID", w)
		}
	}
	if len(wants) == 0 {
		return nil
	}
	if !filepath.IsAbs(src) {
		return fmt.Errorf("gitstore: import: %q is not an absolute path", src)
	}
	dir, err := s.Init(ctx, name)
	if err != nil {
		return err
	}
	args := append([]string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-gc", "--end-of-options", src}, wants...)
	if _, err := s.git.run(ctx, dir, nil, args...); err != nil {
		return err
	}
	for _, w := range wants {
		if ok, err := s.Has(ctx, name, w); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: %s is not in %s", ErrMissing, w, src)
		}
	}
	return nil
}

// IsAncestor reports whether commit old is an ancestor of commit new (or
// is new) in the repository of name: whether moving a ref from old to
// new is a fast-forward. Both must be in the store (ErrMissing if not).
func (s *Store) IsAncestor(ctx context.Context, name, old, new string) (bool, error) {
	if !oidRE.MatchString(old) || !oidRE.MatchString(new) {
		return false, fmt.Errorf("gitstore: is-ancestor: %q / %q are not object IDs", old, new)
	}
	have, err := s.HasAll(ctx, name, []string{old, new})
	if err != nil {
		return false, err
	}
	for _, oid := range []string{old, new} {
		if !have[oid] {
			return false, fmt.Errorf("%w: %s", ErrMissing, oid)
		}
	}
	dir, err := s.existing(name)
	if err != nil {
		return false, err
	}
	_, err = s.git.run(ctx, dir, nil, "merge-base", "--is-ancestor", "--end-of-options", old, new)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}
