package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MinGitVersion is the oldest git this package runs: protocol v2 and
// fetch --no-write-fetch-head.
var MinGitVersion = [3]int{2, 29, 0}

// ErrNoGit is matched by the error of FindGit when no usable git is
// installed: murmur still replicates metadata, but not code.
var ErrNoGit = errors.New("gitstore: git not available")

// Git is a located git program.
type Git struct {
	Path    string
	Version [3]int
}

// FindGit looks git up in PATH and checks its version.
func FindGit(ctx context.Context) (*Git, error) {
	path, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("%w: git is not installed or not in PATH; install git %s or later to replicate code", ErrNoGit, versionString(MinGitVersion))
	}
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s version: %v", ErrNoGit, path, err)
	}
	v, ok := parseGitVersion(string(out))
	if !ok {
		return nil, fmt.Errorf("%w: cannot read the version of %s from %q", ErrNoGit, path, strings.TrimSpace(string(out)))
	}
	if compareVersions(v, MinGitVersion) < 0 {
		return nil, fmt.Errorf("%w: %s is git %s; murmur needs %s or later to replicate code", ErrNoGit, path, versionString(v), versionString(MinGitVersion))
	}
	return &Git{Path: path, Version: v}, nil
}

var gitVersionRE = regexp.MustCompile(`^git version (\d+)\.(\d+)(?:\.(\d+))?`)

func parseGitVersion(s string) ([3]int, bool) {
	m := gitVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range 3 {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return [3]int{}, false
		}
		v[i] = n
	}
	return v, true
}

func compareVersions(a, b [3]int) int {
	for i := range 3 {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}

func versionString(v [3]int) string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// baseConfig is passed to every git this package runs, so that neither
// the user's nor the system's configuration changes what a replica
// stores or serves.
var baseConfig = []string{
	"-c", "protocol.version=2",
	"-c", "gc.auto=0",
	"-c", "maintenance.auto=false",
	"-c", "fetch.fsckObjects=true",
	"-c", "transfer.fsckObjects=true",
	"-c", "receive.fsckObjects=true",
	"-c", "core.hooksPath=" + os.DevNull,
}

// command returns git with the base configuration and a clean
// environment: no user or system config, no terminal prompts.
func (g *Git) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, g.Path, append(append([]string(nil), baseConfig...), args...)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ()),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_PROTOCOL=version=2",
	)
	cmd.WaitDelay = waitDelay
	return cmd
}

// repoEnv are the variables with which git tells a program it runs (a
// hook, a remote helper) which repository it works in. They would
// redirect the store's git commands, so they are dropped.
var repoEnv = []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_PROTOCOL"}

// cleanEnv returns env without repoEnv.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(repoEnv, k) {
			out = append(out, kv)
		}
	}
	return out
}

// run runs git and returns its standard output; the error carries the
// tail of its standard error.
func (g *Git) run(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := g.command(ctx, dir, args...)
	cmd.Stdin = stdin
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), gitError(args, err, stderr)
	}
	return stdout.Bytes(), nil
}

func gitError(args []string, err error, stderr *tailBuffer) error {
	name := "git"
	if len(args) > 0 {
		name += " " + args[0]
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		return fmt.Errorf("gitstore: %s: %w: %s", name, err, msg)
	}
	return fmt.Errorf("gitstore: %s: %w", name, err)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
