package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
	"murmur/patchmerge"
)

func (a *app) patchMergeCmd() *cobra.Command {
	var ffOnly, noFF, markOnly, asJSON bool
	var comment string
	c := &cobra.Command{
		Use:   "merge ID [--ff-only | --no-ff] [--mark-only]",
		Short: "Merge a patch into its base branch and publish it (maintainers)",
		Long: `Merge the patch's latest revision into its base branch, as git would, in the
git working copy you are in, and publish the result as the repo's canonical
base branch. The patch head and the canonical base come from the node's
object store; the base branch is checked out at the canonical commit and
fast-forwarded to the head when it can be, else a merge commit is made
(--ff-only refuses a merge commit, --no-ff always makes one). Once the
branch is published the node marks the patch merged and closes the issues
it fixes ("Fixes <id>" in its description or commits).

A merge that needs conflict resolution is refused and the working copy
left as it was; the message says how to merge by hand.

--mark-only records the patch as merged without touching any code, for a
change that reached the base branch another way (a squash or a rebase).`,
		Example: `  murmur patch merge 9c1e
  murmur patch merge 9c1e --no-ff
  murmur patch merge 9c1e --mark-only`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			id := strings.TrimSpace(argv[0])
			if ffOnly && noFF {
				return usagef("--ff-only and --no-ff exclude each other")
			}
			if markOnly && (ffOnly || noFF) {
				return usagef("--mark-only merges no code; it takes neither --ff-only nor --no-ff")
			}
			if markOnly {
				return a.markMerged(cmd, id, comment, asJSON)
			}
			top, err := a.gitTop(ctx)
			if err != nil {
				if errors.Is(err, errNoGit) {
					return &userError{
						what: "this is not inside a git working copy",
						todo: "Run 'murmur patch merge' in a clone of the repo ('murmur repo clone'), or pass --mark-only if the change reached the base branch another way",
					}
				}
				return err
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.Patch(ctx, s.repo, id)
			if err != nil {
				return err
			}
			switch p.State {
			case "merged":
				return &userError{what: fmt.Sprintf("patch %s is already merged", short(p.ID)), todo: "Nothing to do"}
			case "closed":
				return &userError{what: fmt.Sprintf("patch %s is closed", short(p.ID)), todo: "Reopen it with 'murmur patch reopen " + short(p.ID) + "' first"}
			case "draft":
				return &userError{what: fmt.Sprintf("patch %s is a draft", short(p.ID)), todo: "Mark it ready with 'murmur patch ready " + short(p.ID) + "' first"}
			}
			if len(p.Revisions) == 0 {
				return &userError{what: fmt.Sprintf("patch %s has no revision", short(p.ID)), todo: "Add one with 'murmur patch update'"}
			}
			head := p.Revisions[len(p.Revisions)-1].Commit
			repo, err := s.svc.Repo(ctx, s.repo)
			if err != nil {
				return err
			}
			if err := requireMaintainer(ctx, s, repo); err != nil {
				return err
			}
			if repo.GitDir == "" {
				why := "it cannot store code"
				if st, err := s.svc.Status(ctx); err == nil && st.Code.Reason != "" {
					why = st.Code.Reason
				}
				return &userError{what: "the node holds no code: " + why, todo: "Install git (2.29 or later) and restart 'murmur serve', or pass --mark-only to record the merge without code"}
			}
			if _, err := os.Stat(filepath.Join(repo.GitDir, "HEAD")); err != nil {
				return &userError{what: "the node holds no code of this repo yet", todo: "Wait until 'murmur refs list' shows the objects present ('murmur serve' fetches them from peers), then try again"}
			}
			baseRef := fullRefName(p.Base)
			refs, err := s.svc.Refs(ctx, s.repo)
			if err != nil {
				return err
			}
			canonical := ""
			for _, r := range refs {
				if r.Name == baseRef && r.Namespace == "" {
					canonical = r.Commit
				}
			}
			mode := patchmerge.FastForward
			switch {
			case ffOnly:
				mode = patchmerge.FastForwardOnly
			case noFF:
				mode = patchmerge.NoFastForward
			}
			branch := strings.TrimPrefix(baseRef, "refs/heads/")
			res, err := patchmerge.Merge(ctx, patchmerge.Request{
				Dir: top, Source: repo.GitDir, Head: head, Branch: branch, BaseCommit: canonical, Mode: mode,
				Message: fmt.Sprintf("Merge patch %s: %s", short(p.ID), p.Title),
			})
			if err != nil {
				return mergeError(err, p, branch, repo.GitDir, head)
			}
			if _, err := s.svc.PushRefs(ctx, s.repo, api.RefPush{Dir: top, Refs: map[string]string{baseRef: res.Commit}, Namespace: api.NamespaceCanonical}); err != nil {
				return &userError{
					what: fmt.Sprintf("merged patch %s into your local %s (%s), but could not publish it: %s", short(p.ID), branch, shortCommit(res.Commit), oneLine(err.Error())),
					todo: "Fix that, then publish the branch with 'murmur refs push'", err: err,
				}
			}
			after, err := s.svc.Patch(ctx, s.repo, p.ID)
			if err != nil {
				return err
			}
			if comment != "" {
				if _, err := s.svc.Comment(ctx, s.repo, p.ID, api.NewComment{Body: comment}); err != nil {
					return err
				}
			}
			if asJSON {
				return a.printJSON(after)
			}
			how := "fast-forward"
			if !res.FastForward {
				how = "merge commit " + shortCommit(res.Commit)
			}
			a.confirm(short(p.ID), "Merged patch %s into %s (%s)", a.paint(styleCyan, short(p.ID)), clean(branch), how)
			if after.State != "merged" && a.pretty() {
				fmt.Fprintf(&a.out, "The patch is still %s: only a maintainer's node marks it merged.\n", after.State)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&ffOnly, "ff-only", false, "refuse to merge unless the base branch can be fast-forwarded")
	c.Flags().BoolVar(&noFF, "no-ff", false, "always make a merge commit")
	c.Flags().BoolVar(&markOnly, "mark-only", false, "record the patch as merged without merging code")
	c.Flags().StringVarP(&comment, "comment", "c", "", "leave a `COMMENT`")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

// requireMaintainer refuses, before the working copy is touched, a merge
// by someone whose push of the base branch the node would refuse.
func requireMaintainer(ctx context.Context, s session, repo api.Repo) error {
	id, err := s.svc.Identity(ctx)
	if err != nil {
		return err
	}
	for _, m := range repo.Maintainers {
		if m.ID == id.ID {
			return nil
		}
	}
	return &userError{
		what: "only maintainers can merge patches into the repo's branches, and you are not one",
		todo: "Ask a maintainer to merge it, or to make you one with 'murmur repo maintainer add " + id.ID + "'",
	}
}

// markMerged records a patch as merged without code.
func (a *app) markMerged(cmd *cobra.Command, id, comment string, asJSON bool) error {
	ctx := cmd.Context()
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := s.svc.EditPatch(ctx, s.repo, id, api.Edit{State: "merged", Comment: comment})
	if err != nil {
		return hint(err, api.CodeForbidden, "Only maintainers can merge patches")
	}
	if asJSON {
		return a.printJSON(p)
	}
	a.confirm(short(p.ID), "Marked patch %s merged: %s", a.paint(styleCyan, short(p.ID)), clean(p.Title))
	return nil
}

// mergeError explains a merge that was refused.
func mergeError(err error, p api.Patch, branch, gitDir, head string) error {
	byHand := fmt.Sprintf("To merge by hand: git fetch %s %s && git checkout %s && git merge %s, resolve the conflicts, commit, then publish %s with 'murmur refs push'",
		gitDir, head, branch, shortCommit(head), branch)
	var ce *patchmerge.ConflictError
	switch {
	case errors.As(err, &ce):
		return &userError{
			what: fmt.Sprintf("merging patch %s into %s needs conflict resolution in %s; the merge was aborted and your working copy left as it was", short(p.ID), branch, strings.Join(ce.Files, ", ")),
			todo: byHand + ", or ask the author to rebase the patch on " + branch, err: err,
		}
	case errors.Is(err, patchmerge.ErrNotFastForward):
		return &userError{what: fmt.Sprintf("patch %s cannot be fast-forwarded onto %s", short(p.ID), branch), todo: "Merge without --ff-only to make a merge commit, or ask the author to rebase the patch", err: err}
	case errors.Is(err, patchmerge.ErrDirty):
		return &userError{what: "your working copy has uncommitted changes", todo: "Commit or stash them ('git stash'), then merge again", err: err}
	case errors.Is(err, patchmerge.ErrLocalCommits):
		return &userError{what: fmt.Sprintf("your local %s has commits the repo's %s does not", branch, branch), todo: "Publish them first ('murmur refs push'), or move them to another branch, then merge again", err: err}
	case errors.Is(err, patchmerge.ErrMissing):
		return &userError{what: fmt.Sprintf("the node does not hold the commits of patch %s yet", short(p.ID)), todo: "Wait until 'murmur refs list' shows the objects present, then try again", err: err}
	}
	return err
}
