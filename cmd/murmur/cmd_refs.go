package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) refsCmd() *cobra.Command {
	return group("refs", "List and publish the repo's branch and tag heads", `  murmur refs list
  murmur refs push
  murmur refs set refs/heads/main 4b825dc642cb6eb9a060e54bf8d69288fbee4904`,
		a.refsListCmd(), a.refsSetCmd(), a.refsPushCmd())
}

func (a *app) refsListCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "list [--json]",
		Aliases: []string{"ls"},
		Short:   "List the repo's refs",
		Example: "  murmur refs list\n  murmur refs list -R project --json",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			refs, err := s.svc.Refs(ctx, s.repo)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONList(a, refs)
			}
			if len(refs) == 0 {
				if a.pretty() {
					fmt.Fprintln(&a.out, "No refs yet. Publish the working copy's with 'murmur refs push'.")
				}
				return nil
			}
			t := newTable(0, "NAME", "COMMIT", "OBJECTS")
			var why []string
			for _, r := range refs {
				name := r.Name
				if len(r.Conflicts) > 0 && a.pretty() {
					name += " (conflict)"
				}
				objects := cell{text: "present", style: styleGreen}
				if !r.Objects {
					objects = cell{text: "missing", style: styleYellow}
					if r.MissingReason != "" && !slices.Contains(why, r.MissingReason) {
						why = append(why, r.MissingReason)
					}
				}
				t.add(cell{text: name, style: styleBold}, cell{text: r.Commit, style: styleCyan}, objects)
			}
			a.writeTable(&a.out, t)
			for _, w := range why {
				fmt.Fprintf(a.Stderr, "murmur: objects missing: %s\n", w)
			}
			return nil
		},
	}
	a.addRepoFlag(c)
	a.addJSONFlags(c, &asJSON, "print the refs as a JSON array")
	return c
}

// fullRefName turns "main" into "refs/heads/main"; names that start with
// "refs/" stay.
func fullRefName(name string) string {
	if strings.HasPrefix(name, "refs/") {
		return name
	}
	return "refs/heads/" + name
}

func (a *app) refsSetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "set NAME COMMIT",
		Short: "Point a ref at a commit (maintainers)",
		Long: `Point a ref at a commit. NAME is a full ref name (refs/heads/main,
refs/tags/v1.0) or a branch name, which means refs/heads/NAME. COMMIT is a
full commit hash, or inside a git working copy anything git rev-parse
resolves to a commit; there the node also copies the commit into its
object store, from which peers fetch it.`,
		Example: `  murmur refs set main 4b825dc642cb6eb9a060e54bf8d69288fbee4904
  murmur refs set refs/tags/v1.0 $(git rev-parse v1.0^{commit})`,
		Args: args("NAME", "COMMIT"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			name := strings.TrimSpace(argv[0])
			if name == "" || name == "refs/" {
				return &userError{what: "the ref name is empty", todo: "Pass a name such as refs/heads/main"}
			}
			name = fullRefName(name)
			commit, err := a.resolveCommit(ctx, "COMMIT", argv[1])
			if err != nil {
				return err
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			// Inside a working copy that holds the commit, the node
			// takes the commit too, so that peers can fetch it.
			top, _ := a.gitTop(ctx)
			if top != "" && commit != "" {
				if _, err := a.git(ctx, "cat-file", "-e", commit+"^{commit}"); err != nil {
					top = ""
				}
			}
			if err := a.publishRefs(ctx, s, top, map[string]string{name: commit}); err != nil {
				return a.refsForbidden(err)
			}
			if !a.pretty() {
				fmt.Fprintf(&a.out, "%s\t%s\n", name, commit)
				return nil
			}
			a.confirm("", "%s → %s", name, a.paint(styleCyan, commit))
			return nil
		},
	}
	a.addRepoFlag(c)
	return c
}

// refsForbidden explains a refused ref update.
func (a *app) refsForbidden(err error) error {
	if api.ErrorCode(err) != api.CodeForbidden {
		return err
	}
	todo := "Ask a maintainer to set it, or to make you one with 'murmur repo maintainer add <your DID>'"
	if did := a.ownDID(); did != "" {
		todo = "Ask a maintainer to set it, or to make you one with 'murmur repo maintainer add " + did + "'"
	}
	return &userError{what: "only maintainers can set refs, and you are not one in this repo", todo: todo, err: err}
}

func (a *app) refsPushCmd() *cobra.Command {
	var prune, dryRun bool
	c := &cobra.Command{
		Use:   "push [--prune] [--dry-run]",
		Short: "Publish the working copy's branch and tag heads and their commits (maintainers)",
		Long: `Publish the branch and tag heads of the git working copy you are in as the
repo's refs (refs/heads/*, refs/tags/*; annotated tags are published as the
commit they tag). The node first copies the commits into its own object
store, from which peers that follow the repo fetch them. Refs already
current are left alone. With --prune, refs under refs/heads and refs/tags
that the working copy no longer has are deleted.`,
		Example: `  murmur refs push
  murmur refs push --prune --dry-run`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			top, err := a.gitTop(ctx)
			if err != nil {
				if errors.Is(err, errNoGit) {
					return &userError{
						what: "this is not inside a git working copy",
						todo: "Run 'murmur refs push' in the working copy, or set refs one by one with 'murmur refs set'",
					}
				}
				return err
			}
			heads, skipped, err := a.gitHeads(ctx)
			if err != nil {
				return err
			}
			for _, n := range skipped {
				fmt.Fprintf(a.Stderr, "murmur: skipping %s: it does not point at a commit.\n", clean(n))
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			cur, err := s.svc.Refs(ctx, s.repo)
			if err != nil {
				return err
			}
			change := pushChanges(cur, heads, prune)
			if len(change) == 0 {
				if a.pretty() {
					fmt.Fprintln(&a.out, "Everything up to date.")
				}
				return nil
			}
			if !dryRun {
				if err := a.publishRefs(ctx, s, top, change); err != nil {
					return a.refsForbidden(err)
				}
			}
			a.writeRefChanges(cur, change, dryRun)
			return nil
		},
	}
	a.addRepoFlag(c)
	c.Flags().BoolVar(&prune, "prune", false, "delete published branches and tags the working copy does not have")
	c.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "show what would change without changing it")
	return c
}

// publishRefs sets refs; with a working copy dir, the node first copies
// their commits into its object store. A node that cannot store code
// gets the refs alone, with a warning.
func (a *app) publishRefs(ctx context.Context, s session, dir string, refs map[string]string) error {
	if dir != "" {
		_, err := s.svc.PushRefs(ctx, s.repo, api.RefPush{Dir: dir, Refs: refs})
		if api.ErrorCode(err) != api.CodeUnavailable {
			return err
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			why, _, _ := strings.Cut(ae.Message, ";")
			fmt.Fprintf(a.Stderr, "murmur: %s; publishing the refs without their commits.\n", clean(why))
		}
	}
	_, err := s.svc.SetRefs(ctx, s.repo, refs)
	return err
}

// pushChanges is the ref update that makes cur match the local heads.
func pushChanges(cur []api.Ref, heads []localRef, prune bool) map[string]string {
	have := make(map[string]string, len(cur))
	for _, r := range cur {
		have[r.Name] = r.Commit
	}
	change := map[string]string{}
	local := make(map[string]bool, len(heads))
	for _, h := range heads {
		local[h.name] = true
		if have[h.name] != h.commit {
			change[h.name] = h.commit
		}
	}
	if prune {
		for name := range have {
			if !local[name] && (strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")) {
				change[name] = ""
			}
		}
	}
	return change
}

func (a *app) writeRefChanges(cur []api.Ref, change map[string]string, dryRun bool) {
	old := make(map[string]string, len(cur))
	for _, r := range cur {
		old[r.Name] = r.Commit
	}
	names := slices.Sorted(maps.Keys(change))
	if !a.pretty() {
		for _, n := range names {
			fmt.Fprintf(&a.out, "%s\t%s\n", n, change[n])
		}
		return
	}
	for _, n := range names {
		switch newC, oldC := change[n], old[n]; {
		case newC == "":
			fmt.Fprintf(&a.out, " %s %s\n", a.paint(styleRed, "- [deleted]"), n)
		case oldC == "":
			fmt.Fprintf(&a.out, " %s %s %s\n", a.paint(styleGreen, "* [new]    "), n, a.paint(styleCyan, short(newC)))
		default:
			fmt.Fprintf(&a.out, " %s %s %s..%s\n", a.paint(styleYellow, "  [updated]"), n, short(oldC), a.paint(styleCyan, short(newC)))
		}
	}
	if dryRun {
		fmt.Fprintln(&a.out, "Dry run: nothing was published.")
	}
}

// resolveCommit checks a commit argument: a full 40- or 64-hex hash, or,
// inside a git working copy, anything git resolves to a commit.
func (a *app) resolveCommit(ctx context.Context, flag, v string) (string, error) {
	v = strings.TrimSpace(v)
	if isCommit(strings.ToLower(v)) {
		return strings.ToLower(v), nil
	}
	if v != "" && !strings.HasPrefix(v, "-") {
		if out, err := a.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", v+"^{commit}"); err == nil && isCommit(out) {
			return out, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", &userError{
		what: fmt.Sprintf("%s %q is not a full commit hash (40 or 64 hex digits)", flag, clean(v)),
		todo: "Pass the full hash, e.g. from 'git rev-parse HEAD'",
	}
}

// isCommit reports whether s is 40 (SHA-1) or 64 (SHA-256) lowercase hex
// digits, the form the forge stores.
func isCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
