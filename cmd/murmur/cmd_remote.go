package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
	"murmur/gitremote"
)

// remoteName is the git remote 'murmur repo init' adds.
const remoteName = "murmur"

func (a *app) repoCloneCmd() *cobra.Command {
	var peers []string
	c := &cobra.Command{
		Use:   "clone REPO [DIR] [--peer ADDR]...",
		Short: "Clone a repo's code into a new git working copy",
		Long: `Follow the repo, fetch its ops and its code from peers, and check out its
default branch in DIR (default: the repo's name): 'git clone murmur://REPO'
with the peers passed to git-remote-murmur. REPO is a full ID (64 hex
digits), or the ID prefix or name of a repo this node has. The working copy
records the repo (git config murmur.repo), so murmur commands there need
no -R; its origin remote is murmur://ID, so git fetch, pull and push work.`,
		Example: `  murmur repo clone 3f2a…c9 --peer 192.0.2.7:7788
  murmur repo clone project ~/src/project`,
		Args: args("REPO", "[DIR]"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := withMesh(cmd.Context(), embeddedMesh(a, peers))
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			r, err := a.cloneTarget(ctx, svc, pos[0], peers)
			if err != nil {
				return err
			}
			dir := cloneDir(r)
			if len(pos) == 2 {
				dir = pos[1]
			}
			if err := a.gitClone(ctx, r.ID, dir, peers); err != nil {
				return err
			}
			if out, err := a.gitIn(ctx, dir, "config", "--local", gitConfigKey, r.ID); err != nil {
				return &userError{
					what: fmt.Sprintf("cloned into %s but could not record the repo in its git config: %v %s", dir, err, out),
					todo: fmt.Sprintf("Run 'git -C %s config %s %s'", dir, gitConfigKey, r.ID),
				}
			}
			a.confirm(short(r.ID), "Cloned repo %s %s into %s", a.paint(styleCyan, short(r.ID)), clean(r.Name), dir)
			return nil
		},
	}
	c.Flags().StringArrayVar(&peers, "peer", nil, "fetch from the peer at `ADDR` (host:port); repeatable")
	return c
}

// cloneTarget finds the repo to clone, following it (and fetching its
// ops from peers) when REPO is the full ID of a repo this node lacks.
func (a *app) cloneTarget(ctx context.Context, svc api.Service, repo string, peers []string) (api.Repo, error) {
	r, err := svc.Repo(ctx, repo)
	if err == nil || api.ErrorCode(err) != api.CodeNotFound {
		return r, err
	}
	id := strings.ToLower(strings.TrimSpace(repo))
	if !hexID64.MatchString(id) {
		return api.Repo{}, &userError{
			what: fmt.Sprintf("no repo %q here", clean(repo)),
			todo: "Clone a repo this node does not have by its full ID (64 hex digits), with --peer HOST:PORT of a peer that has it",
		}
	}
	if _, err := svc.Follow(ctx, id, peers); err != nil {
		return api.Repo{}, err
	}
	if len(peers) == 0 {
		// Peers from the configuration and the address book.
		_, _ = svc.Sync(ctx, api.SyncRequest{})
	}
	r, err = svc.Repo(ctx, id)
	if api.ErrorCode(err) == api.CodeNotFound {
		return api.Repo{}, &userError{
			what: fmt.Sprintf("repo %s did not arrive from any peer", short(id)),
			todo: "Check that a peer that has it runs 'murmur serve', and name it with --peer HOST:PORT",
		}
	}
	return r, err
}

var hexID64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// cloneDir is the default directory of a clone: the repo's name when it
// is a plain file name, else its short ID.
func cloneDir(r api.Repo) string {
	name := strings.TrimSpace(r.Name)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || clean(name) != name {
		return short(r.ID)
	}
	return name
}

// gitClone runs git clone murmur://id dir, with git's progress on
// stderr. The helper git runs reaches the node this command attached
// (the daemon, or the node it serves on the data directory's socket).
func (a *app) gitClone(ctx context.Context, id, dir string, peers []string) error {
	bin, err := exec.LookPath("git")
	if err != nil {
		return &userError{what: "git is not installed", todo: "Install git 2.29 or later"}
	}
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "clone", "--", gitremote.Scheme+id, dir)
	cmd.Dir = a.Dir
	cmd.Stdout, cmd.Stderr = a.Stderr, a.Stderr
	cmd.Env = append(helperEnv(a.Getenv), "MURMUR_HOME="+home)
	if join := strings.Join(peers, ","); join != "" {
		cmd.Env = append(cmd.Env, "MURMUR_JOIN="+join)
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &userError{
			what: fmt.Sprintf("git clone of repo %s failed (%v); git said why above", short(id), err),
			todo: "Fix what git reported, then run the command again",
		}
	}
	return nil
}

// helperEnv is the environment of a git that may run git-remote-murmur:
// the process's, with the directory of this murmur binary first in PATH,
// where 'go install ./cmd/...' puts the helper beside it.
func helperEnv(getenv func(string) string) []string {
	env := os.Environ()
	path := getenv("PATH")
	if exe, err := os.Executable(); err == nil {
		path = filepath.Dir(exe) + string(os.PathListSeparator) + path
	}
	return append(env, "PATH="+path)
}

// gitIn runs git in dir.
func (a *app) gitIn(ctx context.Context, dir string, args ...string) (string, error) {
	full := dir
	if !filepath.IsAbs(dir) && a.Dir != "" {
		full = filepath.Join(a.Dir, dir)
	}
	return a.git(ctx, append([]string{"-C", full}, args...)...)
}

// clonedRepo is the repo a working copy was cloned from: the first
// remote whose URL is murmur://REPO naming a repo this node has. A
// working copy whose murmur remotes name only repos this node lacks is
// an error: a new repo would duplicate theirs.
func (a *app) clonedRepo(ctx context.Context, svc api.Service) (api.Repo, string, error) {
	out, err := a.git(ctx, "config", "--get-regexp", `^remote\..*\.url$`)
	if err != nil {
		return api.Repo{}, "", nil
	}
	var elsewhere string
	for _, line := range strings.Split(out, "\n") {
		key, url, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		target, err := gitremote.ParseURL(strings.TrimSpace(url))
		if err != nil {
			continue
		}
		r, err := svc.Repo(ctx, target)
		switch {
		case err == nil:
			return r, strings.TrimSuffix(strings.TrimPrefix(key, "remote."), ".url"), nil
		case api.ErrorCode(err) != api.CodeNotFound:
			return api.Repo{}, "", err
		case elsewhere == "":
			elsewhere = strings.TrimSpace(url)
		}
	}
	if elsewhere != "" {
		return api.Repo{}, "", &userError{
			what: fmt.Sprintf("this working copy was cloned from %s, a repo that is not in this data directory", clean(elsewhere)),
			todo: "Check --home/MURMUR_HOME, or follow the repo with 'murmur repo follow ID --peer HOST:PORT' and run 'murmur repo init' again",
		}
	}
	return api.Repo{}, "", nil
}

// addRemote adds the git remote "murmur" for repo id, unless a remote of
// that name exists; it says so on stderr when it cannot.
func (a *app) addRemote(ctx context.Context, id string) {
	if _, err := a.git(ctx, "remote", "get-url", remoteName); err == nil {
		return
	}
	if _, err := a.git(ctx, "remote", "add", remoteName, gitremote.Scheme+id); err != nil {
		fmt.Fprintf(a.Stderr, "murmur: could not add the git remote %q: %v; add it with 'git remote add %s %s%s'\n", remoteName, err, remoteName, gitremote.Scheme, id)
	}
}
