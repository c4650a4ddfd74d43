package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

// patchBranch resolves the branch a patch is published from: head (a
// branch name, with or without refs/heads/) or the working copy's
// current branch. It returns the branch's full ref name and commit.
func (a *app) patchBranch(ctx context.Context, head string) (ref, commit string, err error) {
	if _, err := a.gitTop(ctx); err != nil {
		if errors.Is(err, errNoGit) {
			return "", "", usagef("outside a git working copy, pass --commit with the full hash of a commit this node holds")
		}
		return "", "", err
	}
	branch := strings.TrimPrefix(strings.TrimSpace(head), "refs/heads/")
	if branch == "" {
		if branch, err = a.git(ctx, "symbolic-ref", "--short", "-q", "HEAD"); err != nil || branch == "" {
			if ctx.Err() != nil {
				return "", "", ctx.Err()
			}
			return "", "", &userError{what: "HEAD is detached, so there is no branch to publish", todo: "Switch to a branch, or pass --head BRANCH or --commit SHA"}
		}
	}
	commit, err = a.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/heads/"+branch+"^{commit}")
	if err != nil || !isCommit(commit) {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", &userError{what: fmt.Sprintf("there is no branch %q in this working copy", clean(branch)), todo: "Pass --head with one of the names 'git branch' lists"}
	}
	return "refs/heads/" + branch, commit, nil
}

// publishPatchBranch copies the branch's commits into the node's object
// store and publishes the branch in the user's own namespace, where
// peers fetch it from. A rebased branch replaces the earlier one (the
// patch's revisions keep the history), so the update is forced.
func (a *app) publishPatchBranch(ctx context.Context, s session, ref, commit string) error {
	top, err := a.gitTop(ctx)
	if err != nil {
		return err
	}
	_, err = s.svc.PushRefs(ctx, s.repo, api.RefPush{Dir: top, Refs: map[string]string{ref: commit}, Namespace: api.NamespaceOwn, Force: true})
	if err != nil {
		return hint(err, api.CodeUnavailable, "A patch names commits its author's node holds; install git where the node runs, or pass --commit with a commit the node already holds")
	}
	if a.pretty() {
		fmt.Fprintf(&a.out, "%s Published %s (%s) in your namespace\n", a.paint(styleGreen, "✓"),
			a.paint(styleCyan, clean(strings.TrimPrefix(ref, "refs/heads/"))), shortCommit(commit))
	}
	return nil
}

func (a *app) patchCheckoutCmd() *cobra.Command {
	var revision int
	var branch string
	c := &cobra.Command{
		Use:   "checkout ID [--revision N] [--branch NAME]",
		Short: "Check out a patch revision as a local branch",
		Long: `Fetch the head commit of a patch revision (the latest unless --revision) from
this node's object store into the working copy, create the branch NAME there
(default patch/<short id>) and switch to it.`,
		Example: `  murmur patch checkout 9c1e
  murmur patch checkout 9c1e --revision 1 --branch review/first-try`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			if revision < 0 || (cmd.Flags().Changed("revision") && revision == 0) {
				return usagef("invalid --revision %d: revisions are numbered from 1", revision)
			}
			if _, err := a.gitTop(ctx); err != nil {
				if errors.Is(err, errNoGit) {
					return usagef("run 'murmur patch checkout' inside a git working copy")
				}
				return err
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.Patch(ctx, s.repo, strings.TrimSpace(argv[0]))
			if err != nil {
				return err
			}
			n := revision
			if n == 0 {
				n = len(p.Revisions)
			}
			if n < 1 || n > len(p.Revisions) {
				return &userError{what: fmt.Sprintf("patch %s has revisions 1 to %d, not %d", short(p.ID), len(p.Revisions), n), todo: "Pick one that 'murmur patch view " + short(p.ID) + "' lists"}
			}
			commit := p.Revisions[n-1].Commit
			r, err := s.svc.Repo(ctx, s.repo)
			if err != nil {
				return err
			}
			if r.GitDir == "" {
				return &userError{what: "this node cannot store code, so it holds no commits to check out", todo: "See 'murmur status' for why"}
			}
			if _, err := a.git(ctx, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", r.GitDir, commit); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return &userError{what: fmt.Sprintf("cannot fetch commit %s from this node's object store: %s", shortCommit(commit), clean(err.Error())),
					todo: "The node may not have fetched it from its peers yet; 'murmur refs list' shows what is missing and why", err: err}
			}
			if branch == "" {
				branch = "patch/" + short(p.ID)
			}
			branch = strings.TrimPrefix(strings.TrimSpace(branch), "refs/heads/")
			if cur, err := a.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/heads/"+branch); err == nil && cur != "" {
				if cur != commit {
					return &userError{what: fmt.Sprintf("branch %s exists and is at %s, not at revision %d (%s)", clean(branch), shortCommit(cur), n, shortCommit(commit)),
						todo: "Pass --branch with another name, or delete the branch with 'git branch -D " + clean(branch) + "'"}
				}
				_, err = a.git(ctx, "checkout", "--quiet", branch, "--")
				if err != nil {
					return err
				}
			} else if _, err := a.git(ctx, "checkout", "--quiet", "-b", branch, commit, "--"); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return &userError{what: fmt.Sprintf("cannot create branch %s: %s", clean(branch), clean(err.Error())), todo: "Commit or stash your changes, or pass --branch with a valid name", err: err}
			}
			a.confirm(branch, "Switched to branch %s at revision %d of patch %s (%s)", a.paint(styleCyan, clean(branch)), n, a.paint(styleCyan, short(p.ID)), shortCommit(commit))
			return nil
		},
	}
	c.Flags().IntVar(&revision, "revision", 0, "check out revision `N` (default: the latest)")
	c.Flags().StringVar(&branch, "branch", "", "the local branch `NAME` (default: patch/<short id>)")
	return c
}

func (a *app) patchDiffCmd() *cobra.Command {
	var q api.DiffQuery
	var asJSON bool
	c := &cobra.Command{
		Use:   "diff ID [--revision N] [--stat] [--from N [--to M]] [--json]",
		Short: "Show the change a patch makes",
		Long: `Show the change a patch revision (the latest unless --revision) makes to the
code it is based on, as git diff shows it. --from N --to M shows the change
between the heads of two revisions (--to defaults to the latest). --stat
lists the files with their added and deleted lines. The node computes the
diff, so it needs the commits; 'murmur refs list' says when they are missing.`,
		Example: `  murmur patch diff 9c1e
  murmur patch diff 9c1e --stat
  murmur patch diff 9c1e --from 1 --to 2`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			for _, f := range []struct {
				name string
				v    int
			}{{"revision", q.Revision}, {"from", q.From}, {"to", q.To}} {
				if f.v < 0 || (cmd.Flags().Changed(f.name) && f.v == 0) {
					return usagef("invalid --%s %d: revisions are numbered from 1", f.name, f.v)
				}
			}
			if q.Revision != 0 && (q.From != 0 || q.To != 0) {
				return usagef("--revision does not go with --from and --to")
			}
			if q.To != 0 && q.From == 0 {
				return usagef("--to needs --from")
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			d, err := s.svc.PatchDiff(ctx, s.repo, strings.TrimSpace(argv[0]), q)
			if err != nil {
				return hint(err, api.CodeUnavailable, "Keep 'murmur serve' running so the node fetches the commits from its peers; 'murmur refs list' shows what is missing")
			}
			if asJSON {
				d.Files = nonNil(d.Files)
				return a.printJSON(d)
			}
			if q.Stat {
				a.writeDiffStat(d)
			} else {
				a.writeDiff(d)
			}
			if d.Truncated {
				fmt.Fprintln(a.Stderr, "murmur: the diff is too large to show whole; it was cut")
			}
			return nil
		},
	}
	c.Flags().IntVar(&q.Revision, "revision", 0, "show revision `N` (default: the latest)")
	c.Flags().IntVar(&q.From, "from", 0, "compare from the head of revision `N`")
	c.Flags().IntVar(&q.To, "to", 0, "compare to the head of revision `M` (default: the latest)")
	c.Flags().BoolVar(&q.Stat, "stat", false, "list the files changed, like git diff --stat")
	a.addJSONFlags(c, &asJSON, "print the diff as JSON")
	return c
}

// diffText makes text from a peer safe on a terminal; piped, it stays
// as git wrote it.
func (a *app) diffText(s string) string {
	if a.pretty() {
		return sanitizeText(strings.ReplaceAll(s, "\n", " "))
	}
	return s
}

// writeDiff prints d as git diff does.
func (a *app) writeDiff(d api.Diff) {
	for _, f := range d.Files {
		oldPath, newPath := cmp.Or(f.OldPath, f.Path), f.Path
		from, to := "a/"+oldPath, "b/"+newPath
		head := []string{"diff --git " + from + " " + to}
		switch f.Status {
		case "added":
			head = append(head, "new file")
			from = "/dev/null"
		case "deleted":
			head = append(head, "deleted file")
			to = "/dev/null"
		case "renamed", "copied":
			verb := map[string]string{"renamed": "rename", "copied": "copy"}[f.Status]
			head = append(head, verb+" from "+oldPath, verb+" to "+newPath)
		}
		for _, h := range head {
			fmt.Fprintln(&a.out, a.paint(styleBold, a.diffText(h)))
		}
		if f.Binary {
			fmt.Fprintf(&a.out, "Binary files %s and %s differ\n", a.diffText(from), a.diffText(to))
			continue
		}
		if len(f.Hunks) == 0 {
			continue
		}
		fmt.Fprintln(&a.out, a.paint(styleBold, "--- "+a.diffText(from)))
		fmt.Fprintln(&a.out, a.paint(styleBold, "+++ "+a.diffText(to)))
		for _, h := range f.Hunks {
			fmt.Fprintln(&a.out, a.paint(styleCyan, a.diffText(h.Header)))
			for _, l := range h.Lines {
				style := styleNone
				switch l.Kind {
				case "+":
					style = styleGreen
				case "-":
					style = styleRed
				}
				fmt.Fprintln(&a.out, a.paint(style, l.Kind+a.diffText(l.Text)))
			}
		}
	}
}

// diffStatWidth is the widest +/- bar of writeDiffStat.
const diffStatWidth = 40

// writeDiffStat prints d's files as git diff --stat does.
func (a *app) writeDiffStat(d api.Diff) {
	names := make([]string, len(d.Files))
	nameW, numW, most := 0, 1, 0
	for i, f := range d.Files {
		names[i] = a.diffText(f.Path)
		if f.OldPath != "" && f.OldPath != f.Path {
			names[i] = a.diffText(f.OldPath) + " => " + names[i]
		}
		nameW = max(nameW, len([]rune(names[i])))
		numW = max(numW, len(strconv.Itoa(f.Added+f.Deleted)))
		most = max(most, f.Added+f.Deleted)
	}
	for i, f := range d.Files {
		pad := strings.Repeat(" ", nameW-len([]rune(names[i])))
		if f.Binary {
			fmt.Fprintf(&a.out, " %s%s | %*s\n", names[i], pad, numW, "Bin")
			continue
		}
		plus, minus := f.Added, f.Deleted
		if most > diffStatWidth {
			plus, minus = scaleStat(f.Added, most), scaleStat(f.Deleted, most)
		}
		bar := ""
		if plus+minus > 0 {
			bar = " " + a.paint(styleGreen, strings.Repeat("+", plus)) + a.paint(styleRed, strings.Repeat("-", minus))
		}
		fmt.Fprintf(&a.out, " %s%s | %*d%s\n", names[i], pad, numW, f.Added+f.Deleted, bar)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, " %d %s changed", len(d.Files), pluralWord(len(d.Files), "file", "files"))
	if d.Added > 0 || d.Deleted == 0 {
		fmt.Fprintf(&sb, ", %d %s(+)", d.Added, pluralWord(d.Added, "insertion", "insertions"))
	}
	if d.Deleted > 0 || d.Added == 0 {
		fmt.Fprintf(&sb, ", %d %s(-)", d.Deleted, pluralWord(d.Deleted, "deletion", "deletions"))
	}
	fmt.Fprintln(&a.out, sb.String())
}

// scaleStat scales n of most to the bar width, keeping at least one
// character for a non-zero count.
func scaleStat(n, most int) int {
	if n == 0 {
		return 0
	}
	return max(1, n*diffStatWidth/most)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// inlineFlags anchor a patch comment to lines of a revision's file.
type inlineFlags struct {
	file, lines string
	revision    int
}

func (f *inlineFlags) usage(kind string) string {
	if kind != "patch" {
		return ""
	}
	return " [--file PATH --line N[-M] [--revision N]]"
}

func (f *inlineFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.file, "file", "", "comment on lines of `PATH` in the revision")
	c.Flags().StringVar(&f.file, "path", "", "the same as --file")
	_ = c.Flags().MarkHidden("path")
	c.Flags().StringVar(&f.lines, "line", "", "the line `N` or lines N-M for --file")
	c.Flags().IntVar(&f.revision, "revision", 0, "comment on revision `N` (default: the latest)")
}

// apply puts the anchor, if any, into nc.
func (f *inlineFlags) apply(cmd *cobra.Command, nc *api.NewComment) error {
	if (f.file == "") != (f.lines == "") {
		return usagef("--file and --line go together")
	}
	if f.revision < 0 || (cmd.Flags().Changed("revision") && f.revision == 0) {
		return usagef("invalid --revision %d: revisions are numbered from 1", f.revision)
	}
	if f.file == "" {
		if cmd.Flags().Changed("revision") {
			return usagef("--revision goes with --file and --line")
		}
		return nil
	}
	start, end, err := lineRange(f.lines)
	if err != nil {
		return err
	}
	nc.Path, nc.Start, nc.End, nc.Revision = strings.TrimSpace(f.file), start, end, f.revision
	return nil
}
