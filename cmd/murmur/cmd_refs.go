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
			t := newTable(0, "NAME", "COMMIT", "NAMESPACE", "OBJECTS", "FORCED", "CONFLICTS")
			var why []string
			for _, r := range refs {
				objects := cell{text: "present", style: styleGreen}
				if !r.Objects {
					objects = cell{text: "missing", style: styleYellow}
					if r.MissingReason != "" && !slices.Contains(why, r.MissingReason) {
						why = append(why, r.MissingReason)
					}
				}
				t.add(a.refRow(r, objects)...)
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

// refRow is a ref's row of 'refs list': on a terminal the ref inside a
// namespace with its owner's alias, short commits and dashes for
// nothing; in plain output full names and hashes, empty for nothing.
func (a *app) refRow(r api.Ref, objects cell) []cell {
	name, commit, ns, forced, none := r.Name, r.Commit, r.Namespace, "", ""
	if a.pretty() {
		commit, ns, forced, none = prefix(r.Commit, 12), "canonical", "-", "-"
		if r.Namespace != "" {
			_, name = api.SplitNamespace(r.Name)
			ns = shortDID(r.Namespace)
			if r.Owner != nil {
				ns = personName(*r.Owner)
			}
		}
	}
	if r.Commit == "" {
		// A deletion that won over concurrent updates.
		commit, objects = none, cell{text: none}
		if a.pretty() {
			commit = "(deleted)"
		}
	}
	if r.Forced {
		forced = "forced"
	}
	var also []string
	for _, c := range r.Conflicts {
		v, by := c.Value, c.Author.ID
		if a.pretty() {
			v, by = prefix(v, 12), personName(c.Author)
		}
		if v == "" {
			v = "(deleted)"
		}
		also = append(also, v+" by "+by)
	}
	conflicts := strings.Join(also, ", ")
	if conflicts == "" {
		conflicts = none
	}
	return []cell{
		{text: name, style: styleBold}, {text: commit, style: styleCyan}, {text: ns}, objects,
		{text: forced, style: styleYellow}, {text: conflicts, style: styleRed},
	}
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
	var force, own bool
	c := &cobra.Command{
		Use:   "set NAME COMMIT [--own] [--force]",
		Short: "Point a ref at a commit (canonical refs: maintainers)",
		Long: `Point a ref at a commit. NAME is a full ref name (refs/heads/main,
refs/tags/v1.0) or a branch name, which means refs/heads/NAME. COMMIT is a
full commit hash, or inside a git working copy anything git rev-parse
resolves to a commit; there the node also copies the commit into its
object store, from which peers fetch it, and refuses an update that is
not a fast-forward unless --force is given. With --own the ref goes into
your own namespace (refs/namespaces/<your key>/NAME), which needs no
maintainer.`,
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
			ns := api.NamespaceCanonical
			if token, _ := api.SplitNamespace(name); token != "" {
				ns = api.NamespaceOwn // already a namespace's: taken as it is
			} else if own {
				did := a.ownDID()
				if did == "" {
					return &userError{what: "cannot read your identity", todo: "Run 'murmur id' to see what is wrong with it"}
				}
				name, ns = api.NamespaceRef(did, name), api.NamespaceOwn
			}
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
			if _, err := a.publishRefs(ctx, s, top, api.RefPush{Refs: map[string]string{name: commit}, Namespace: ns, Force: force}); err != nil {
				return a.refsRefused(err)
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
	c.Flags().BoolVar(&own, "own", false, "set the ref in your own namespace")
	c.Flags().BoolVarP(&force, "force", "f", false, "allow an update that is not a fast-forward")
	return c
}

// refsRefused explains a refused ref update: a canonical ref set by
// someone who is not a maintainer gets what to do instead; a refusal for
// another reason (another's namespace, not a fast-forward) is the
// node's own message, which says what to do.
func (a *app) refsRefused(err error) error {
	var ae *api.Error
	if api.ErrorCode(err) != api.CodeForbidden || !errors.As(err, &ae) || !strings.Contains(ae.Message, "maintainer") {
		return err
	}
	todo := "Push to your own namespace with 'murmur refs push --own', or ask a maintainer to set it, or to make you one with 'murmur repo maintainer add <your DID>'"
	if did := a.ownDID(); did != "" {
		todo = "Push to your own namespace with 'murmur refs push --own', or ask a maintainer to set it, or to make you one with 'murmur repo maintainer add " + did + "'"
	}
	return &userError{what: "only maintainers can set refs, and you are not one in this repo", todo: todo, err: err}
}

func (a *app) refsPushCmd() *cobra.Command {
	var prune, dryRun, force, own bool
	c := &cobra.Command{
		Use:   "push [--own] [--force] [--prune] [--dry-run]",
		Short: "Publish the working copy's branch and tag heads and their commits",
		Long: `Publish the branch and tag heads of the git working copy you are in
(refs/heads/*, refs/tags/*; annotated tags are published as the commit
they tag). The node first copies the commits into its own object store,
from which peers that follow the repo fetch them. Refs already current
are left alone. With --prune, refs under refs/heads and refs/tags that
the working copy no longer has are deleted.

A maintainer's push sets the repo's canonical refs, what a clone checks
out. Anyone else's, and a push with --own, goes into the pusher's own
namespace, refs/namespaces/<key>/refs/..., which needs no maintainer.
An update that is not a fast-forward of the published ref is refused
unless --force is given; peers then see it as a forced update.`,
		Example: `  murmur refs push
  murmur refs push --own
  murmur refs push --force
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
			ns, prefix, err := a.pushNamespace(ctx, s, own)
			if err != nil {
				return err
			}
			for i := range heads {
				heads[i].name = prefix + heads[i].name
			}
			change := pushChanges(cur, heads, prune, prefix)
			if len(change) == 0 {
				if a.pretty() {
					fmt.Fprintln(&a.out, "Everything up to date.")
				}
				return nil
			}
			var after []api.Ref
			if !dryRun {
				if after, err = a.publishRefs(ctx, s, top, api.RefPush{Refs: change, Namespace: ns, Force: force}); err != nil {
					return a.refsRefused(err)
				}
			}
			a.writeRefChanges(cur, after, change, dryRun)
			if prefix != "" && a.pretty() {
				why := "as you asked with --own"
				if !own {
					why = "you are not a maintainer of this repo, so the canonical refs stay as they are"
				}
				fmt.Fprintf(&a.out, "Published to your own namespace %s (%s).\n", prefix, why)
			}
			return nil
		},
	}
	a.addRepoFlag(c)
	c.Flags().BoolVar(&own, "own", false, "publish to your own namespace even as a maintainer")
	c.Flags().BoolVarP(&force, "force", "f", false, "allow updates that are not fast-forwards")
	c.Flags().BoolVar(&prune, "prune", false, "delete published branches and tags the working copy does not have")
	c.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "show what would change without changing it")
	return c
}

// pushNamespace decides where a push goes: the user's own namespace
// with --own or when they are not a maintainer (then prefix is the
// namespace's ref prefix, and names are mapped here, so the report and
// --prune see the names the node stores), else the canonical refs.
func (a *app) pushNamespace(ctx context.Context, s session, own bool) (ns, prefix string, err error) {
	id, err := s.svc.Identity(ctx)
	if err != nil {
		return "", "", err
	}
	if !own {
		r, err := s.svc.Repo(ctx, s.repo)
		if err != nil {
			return "", "", err
		}
		own = !slices.ContainsFunc(r.Maintainers, func(p api.Person) bool { return p.ID == id.ID })
	}
	if !own {
		return api.NamespaceCanonical, "", nil
	}
	return api.NamespaceOwn, api.NamespaceRef(id.ID, ""), nil
}

// publishRefs sets p.Refs; with a working copy dir, the node first
// copies their commits into its object store. A node that cannot store
// code gets the refs alone (names as they are), with a warning. It
// returns the refs after.
func (a *app) publishRefs(ctx context.Context, s session, dir string, p api.RefPush) ([]api.Ref, error) {
	if dir != "" {
		p.Dir = dir
		after, err := s.svc.PushRefs(ctx, s.repo, p)
		if api.ErrorCode(err) != api.CodeUnavailable {
			return after, err
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			why, _, _ := strings.Cut(ae.Message, ";")
			fmt.Fprintf(a.Stderr, "murmur: %s; publishing the refs without their commits.\n", clean(why))
		}
	}
	return s.svc.SetRefs(ctx, s.repo, p.Refs)
}

// pushChanges is the ref update that makes cur match the local heads
// (named as published: under prefix, a namespace's, or "" for canonical).
// Pruning deletes only branches and tags under prefix.
func pushChanges(cur []api.Ref, heads []localRef, prune bool, prefix string) map[string]string {
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
			if !local[name] && (strings.HasPrefix(name, prefix+"refs/heads/") || strings.HasPrefix(name, prefix+"refs/tags/")) {
				change[name] = ""
			}
		}
	}
	return change
}

// writeRefChanges reports a push: what changed from cur, marking the
// updates the node recorded as forced in after.
func (a *app) writeRefChanges(cur, after []api.Ref, change map[string]string, dryRun bool) {
	old := make(map[string]string, len(cur))
	for _, r := range cur {
		old[r.Name] = r.Commit
	}
	forced := map[string]bool{}
	for _, r := range after {
		forced[r.Name] = r.Forced && r.Commit == change[r.Name]
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
		case forced[n]:
			fmt.Fprintf(&a.out, " %s %s %s...%s\n", a.paint(styleYellow, "+ [forced] "), n, short(oldC), a.paint(styleCyan, short(newC)))
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
