package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) patchCmd() *cobra.Command {
	c := group("patch", "Propose, revise and merge changes", `  murmur patch open -t "Handle empty config"
  murmur patch list -s all
  murmur patch diff 9c1e --stat
  murmur patch update 9c1e -m "Address review"
  murmur patch checkout 9c1e
  murmur patch merge 9c1e`,
		a.patchOpenCmd(), a.patchListCmd(), a.patchViewCmd(), a.patchUpdateCmd(),
		a.patchDiffCmd(), a.patchCheckoutCmd(),
		a.patchStateCmd("close", "closed", "Close a patch without merging it", "  murmur patch close 9c1e"),
		a.patchStateCmd("reopen", "open", "Reopen a closed patch", "  murmur patch reopen 9c1e"),
		a.patchMergeCmd(),
		a.patchStateCmd("ready", "open", "Mark a draft patch ready for review", "  murmur patch ready 9c1e"),
		a.patchStateCmd("draft", "draft", "Turn a patch back into a draft", "  murmur patch draft 9c1e"),
		a.commentCmd("patch", `  murmur patch comment 9c1e -b "Needs a test."
  murmur patch comment 9c1e --reply-to 1d2e -b "Added one."
  murmur patch comment 9c1e --file main.go --line 12-14 -b "This can overflow."`),
		a.patchEditCmd(),
		a.reactCmd("a patch", "  murmur patch react 9c1e rocket"),
		a.patchCheckCmd(), a.patchChecksCmd(),
		a.lockCmd("patch", true), a.lockCmd("patch", false),
	)
	c.Aliases = []string{"pr"} // gh's name for it
	c.PersistentFlags().StringVarP(&a.repoFlag, "repo", "R", "", "the `REPO`: ID, ID prefix or name (default: the working copy's, or the only one)")
	return c
}

// patchCommit is the commit a patch or revision proposes: --commit as
// given, else the head of the branch to publish (--head or the current
// branch), with that branch's full ref name.
func (a *app) patchCommit(ctx context.Context, cmd *cobra.Command, commit, head string) (string, string, error) {
	if !cmd.Flags().Changed("commit") {
		ref, commit, err := a.patchBranch(ctx, head)
		return commit, ref, err
	}
	if cmd.Flags().Changed("head") {
		return "", "", usagef("--head and --commit do not go together")
	}
	commit, err := a.resolveCommit(ctx, "--commit", commit)
	return commit, "", err
}

func (a *app) patchOpenCmd() *cobra.Command {
	var n api.NewPatch
	var tf textFlags
	var asJSON bool
	var head string
	c := &cobra.Command{
		Use:   "open -t TITLE [--head BRANCH | --commit SHA] [--base REF] [--base-commit SHA] [-b BODY | -F FILE] [--draft] [--json]",
		Short: "Propose a change as a patch",
		Long: `Propose merging a branch into the base ref. In a git working copy, the
current branch (or --head BRANCH) is published in your namespace of the repo
with its commits, so that peers can fetch them, and the patch proposes its
head. --commit proposes a commit the node already holds instead (a full hash;
inside a working copy anything git resolves to a commit). The base commit
defaults to the merge base with the base ref. --base defaults to the repo's
default branch. The description comes from -b, -F (- for stdin) or $EDITOR
on a terminal.`,
		Example: `  murmur patch open -t "Handle empty config"
  murmur patch open -t "WIP: new parser" --head parser --base refs/heads/next --draft
  murmur patch open -t "Fix typo" -b "One-liner." --commit $(git rev-parse HEAD) --json`,
		Aliases: []string{"create", "new"},
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var err error
			if !cmd.Flags().Changed("title") {
				if n.Title, err = a.promptFor("-t/--title", "Title"); err != nil {
					return err
				}
			}
			if n.Title, err = checkTitle(n.Title); err != nil {
				return err
			}
			var ref string
			if n.Commit, ref, err = a.patchCommit(ctx, cmd, n.Commit, head); err != nil {
				return err
			}
			if cmd.Flags().Changed("base-commit") {
				if n.BaseCommit, err = a.resolveCommit(ctx, "--base-commit", n.BaseCommit); err != nil {
					return err
				}
			}
			n.Labels = cleanList(n.Labels)
			n.Base = strings.TrimSpace(n.Base)
			if n.Description, err = a.text(ctx, cmd, &tf, textRequest{what: "patch description", editor: true, context: "Patch: " + n.Title}); err != nil {
				return err
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			if n.Base == "" {
				r, err := s.svc.Repo(ctx, s.repo)
				if err != nil {
					return err
				}
				n.Base = r.DefaultBranch
			}
			n.Base = fullRefName(n.Base)
			if ref != "" {
				if err := a.publishPatchBranch(ctx, s, ref, n.Commit); err != nil {
					return err
				}
			}
			p, err := s.svc.CreatePatch(ctx, s.repo, n)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(p)
			}
			a.confirm(short(p.ID), "Opened patch %s %s", a.paint(styleCyan, short(p.ID)), clean(p.Title))
			return nil
		},
	}
	c.Flags().StringVarP(&n.Title, "title", "t", "", "the patch's `TITLE`")
	c.Flags().StringVar(&n.Base, "base", "", "the `REF` to merge into (default: the repo's default branch)")
	c.Flags().StringVar(&head, "head", "", "publish and propose `BRANCH` (default: the current branch)")
	c.Flags().StringVar(&n.Commit, "commit", "", "propose `COMMIT`, which the node holds, without publishing a branch")
	c.Flags().StringVar(&n.BaseCommit, "base-commit", "", "the `COMMIT` the change is based on (default: the merge base with the base ref)")
	addTextFlags(c, &tf, "patch description")
	c.Flags().BoolVar(&n.Draft, "draft", false, "open it as a draft")
	c.Flags().StringSliceVarP(&n.Labels, "label", "l", nil, "add a `LABEL` (maintainers)")
	a.addJSONFlags(c, &asJSON, "print the new patch as JSON")
	return c
}

func (a *app) patchListCmd() *cobra.Command {
	var lf listFlags
	c := &cobra.Command{
		Use:     "list [-s open|draft|closed|merged|all] [-l LABEL] [-a WHO] [-A WHO] [-L N] [--json]",
		Aliases: []string{"ls"},
		Short:   "List patches",
		Long: `List patches, most recently updated first. Off a terminal each patch is one
tab-separated line: id, state, title, base, revisions, updated.`,
		Example: `  murmur patch list
  murmur patch list -s merged -A alice
  murmur patch list -s all --json | jq -r '.[] | [.id, .state] | @tsv'`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), a, &lf, []string{"open", "draft", "closed", "merged", "all"}, api.Service.Patches, a.writePatchList)
		},
	}
	a.addListFlags(c, &lf, "open, draft, closed, merged or all")
	return c
}

func (a *app) writePatchList(list []api.PatchSummary, state string) {
	if len(list) == 0 {
		if a.pretty() {
			fmt.Fprintf(&a.out, "No %spatches match.\n", statePrefix(state))
		}
		return
	}
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	idLen := uniqueLen(ids)
	t := newTable(2, "ID", "STATE", "TITLE", "BASE", "REVS", "UPDATED")
	for _, p := range list {
		t.add(cell{text: prefix(p.ID, idLen), style: styleCyan}, cell{text: p.State, style: stateStyle(p.State)},
			cell{text: p.Title}, cell{text: strings.TrimPrefix(p.Base, "refs/heads/")},
			cell{text: strconv.Itoa(p.Revisions)}, cell{text: a.when(p.Updated), style: styleDim})
	}
	a.writeTable(&a.out, t)
}

func (a *app) patchViewCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "view ID [--json]",
		Aliases: []string{"show"},
		Short:   "Show a patch with its revisions, reviews and comments",
		Example: "  murmur patch view 9c1e\n  murmur patch view 9c1e --json | jq '.reviews'",
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.Patch(ctx, s.repo, strings.TrimSpace(argv[0]))
			if err != nil {
				return err
			}
			if asJSON {
				p.Labels, p.Assignees = nonNil(p.Labels), nonNil(p.Assignees)
				p.Revisions, p.Reviews = nonNil(p.Revisions), nonNil(p.Reviews)
				p.Comments, p.Reactions = nonNil(p.Comments), nonNil(p.Reactions)
				return a.printJSON(p)
			}
			a.writePatch(p)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

func (a *app) writePatch(p api.Patch) {
	if !a.pretty() {
		a.writeFields(&a.out, [][2]string{
			{"title", p.Title},
			{"id", p.ID},
			{"state", lockedState(p.State, p.Locked)},
			{"author", personName(p.Author)},
			{"base", p.Base},
			{"labels", strings.Join(p.Labels, ", ")},
			{"assignees", people(p.Assignees)},
			{"reviewers", people(p.Reviewers)},
			{"revisions", strconv.Itoa(len(p.Revisions))},
			{"reviews", strconv.Itoa(len(p.Reviews))},
			{"comments", strconv.Itoa(len(p.Comments))},
			{"created", a.when(p.Created)},
			{"updated", a.when(p.Updated)},
		})
		fmt.Fprintln(&a.out, "--")
		fmt.Fprintln(&a.out, sanitizeText(p.Description))
		fmt.Fprintln(&a.out, "--")
		for _, r := range p.Revisions {
			fmt.Fprintf(&a.out, "revision\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Commit, r.BaseCommit,
				sanitizeLine(personName(r.Author)), a.when(r.Created), sanitizeLine(r.Note))
		}
		for _, r := range p.Reviews {
			fmt.Fprintf(&a.out, "review\t%d\t%s\t%s\t%s\t%s\n", r.RevNumber, r.Verdict,
				sanitizeLine(personName(r.Reviewer)), a.when(r.At), sanitizeLine(r.Summary))
		}
		a.writeChecks(p)
		a.writeComments(p.Comments)
		return
	}
	fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleBold, clean(p.Title)), a.paint(styleDim, short(p.ID)))
	verb := "wants to merge into"
	switch p.State {
	case "merged":
		verb = "merged into"
	case "closed":
		verb = "proposed for"
	}
	fmt.Fprintf(&a.out, "%s · %s %s %s · opened %s · %s · %s\n",
		a.paint(stateStyle(p.State), lockedState(p.State, p.Locked)), clean(personName(p.Author)), verb,
		a.paint(styleCyan, clean(strings.TrimPrefix(p.Base, "refs/heads/"))), a.when(p.Created),
		plural(len(p.Revisions), "revision"), plural(len(p.Comments), "comment"))
	if len(p.Labels) > 0 {
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleDim, "Labels:"), a.paint(styleYellow, clean(strings.Join(p.Labels, ", "))))
	}
	if len(p.Assignees) > 0 {
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleDim, "Assignees:"), clean(people(p.Assignees)))
	}
	if len(p.Reviewers) > 0 {
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleDim, "Review requested from:"), clean(people(p.Reviewers)))
	}
	if r := reactions(p.Reactions); r != "" {
		fmt.Fprintln(&a.out, clean(r))
	}
	for _, c := range p.Conflicts {
		a.writeConflict(c)
	}
	fmt.Fprintln(&a.out)
	a.writeBody(p.Description)
	if len(p.Revisions) > 0 {
		fmt.Fprintf(&a.out, "\n%s\n", a.paint(styleBold, "Revisions"))
		t := newTable(5, "", "COMMIT", "BASE", "AUTHOR", "WHEN", "NOTE")
		for _, r := range p.Revisions {
			t.add(cell{text: strconv.Itoa(r.Number)}, cell{text: shortCommit(r.Commit), style: styleCyan},
				cell{text: shortCommit(r.BaseCommit), style: styleDim}, cell{text: personShort(r.Author)},
				cell{text: a.when(r.Created), style: styleDim}, cell{text: r.Note})
		}
		a.writeTable(&a.out, t)
	}
	if len(p.Reviews) > 0 {
		fmt.Fprintf(&a.out, "\n%s\n", a.paint(styleBold, "Reviews"))
		t := newTable(4, "REVIEWER", "VERDICT", "REV", "WHEN", "SUMMARY")
		for _, r := range p.Reviews {
			t.add(cell{text: personShort(r.Reviewer)}, cell{text: r.Verdict, style: stateStyle(r.Verdict)},
				cell{text: strconv.Itoa(r.RevNumber)}, cell{text: a.when(r.At), style: styleDim}, cell{text: r.Summary})
		}
		a.writeTable(&a.out, t)
	}
	if len(p.Checks) > 0 {
		fmt.Fprintf(&a.out, "\n%s\n", a.paint(styleBold, "Checks"))
		a.writeChecks(p)
	}
	if len(p.Comments) > 0 {
		fmt.Fprintf(&a.out, "\n%s\n", a.paint(styleBold, "Comments"))
		a.writeComments(p.Comments)
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func (a *app) patchUpdateCmd() *cobra.Command {
	var r api.NewRevision
	var asJSON bool
	var head string
	c := &cobra.Command{
		Use:   "update ID [--head BRANCH | --commit SHA] [--base-commit SHA] [-m NOTE]",
		Short: "Add a revision to a patch (its author or a maintainer)",
		Long: `Add a revision: the new head proposed by the patch. In a git working copy the
current branch (or --head BRANCH) is published again in your namespace, and
its head becomes the revision; it is refused when the head has not changed.
--commit proposes a commit the node already holds instead.`,
		Example: `  murmur patch update 9c1e -m "Address review"
  murmur patch update 9c1e --commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 --base-commit 5d41402abc4b2a76b9719d911017c592aaaaaaaa`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			var err error
			var ref string
			if r.Commit, ref, err = a.patchCommit(ctx, cmd, r.Commit, head); err != nil {
				return err
			}
			if cmd.Flags().Changed("base-commit") {
				if r.BaseCommit, err = a.resolveCommit(ctx, "--base-commit", r.BaseCommit); err != nil {
					return err
				}
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			if ref != "" {
				if err := a.publishPatchBranch(ctx, s, ref, r.Commit); err != nil {
					return err
				}
			}
			p, err := s.svc.AddRevision(ctx, s.repo, strings.TrimSpace(argv[0]), r)
			if err != nil {
				return hint(err, api.CodeForbidden, "Only the patch's author or a maintainer can add revisions; open your own patch with 'murmur patch open'")
			}
			if asJSON {
				return a.printJSON(p)
			}
			a.confirm(short(p.ID), "Patch %s is at revision %d (%s)", a.paint(styleCyan, short(p.ID)), len(p.Revisions), shortCommit(r.Commit))
			return nil
		},
	}
	c.Flags().StringVar(&head, "head", "", "publish and propose `BRANCH` (default: the current branch)")
	c.Flags().StringVar(&r.Commit, "commit", "", "propose `COMMIT`, which the node holds, without publishing a branch")
	c.Flags().StringVar(&r.BaseCommit, "base-commit", "", "the `COMMIT` it is based on")
	c.Flags().StringVarP(&r.Note, "message", "m", "", "a `NOTE` on what changed")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

func (a *app) patchStateCmd(verb, state, short1, example string) *cobra.Command {
	var asJSON bool
	var comment string
	c := &cobra.Command{
		Use:     verb + " ID",
		Short:   short1,
		Example: example,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.EditPatch(ctx, s.repo, strings.TrimSpace(argv[0]), api.Edit{State: state, Comment: comment})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(p)
			}
			done := map[string]string{"close": "Closed", "reopen": "Reopened", "ready": "Marked ready", "draft": "Marked draft"}[verb]
			a.confirm(short(p.ID), "%s patch %s %s", done, a.paint(styleCyan, short(p.ID)), clean(p.Title))
			return nil
		},
	}
	c.Flags().StringVarP(&comment, "comment", "c", "", "leave a `COMMENT`")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

func (a *app) patchEditCmd() *cobra.Command {
	var ef editFlags
	var base string
	var addReviewer, removeReviewer []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "edit ID [-t TITLE] [-b BODY | -F FILE] [--base REF] [--add-label L] [--remove-label L] [--add-assignee DID] [--remove-assignee DID] [--add-reviewer WHO] [--remove-reviewer WHO]",
		Short: "Change a patch's title, description, base, labels, assignees or requested reviewers",
		Example: `  murmur patch edit 9c1e -t "Handle an empty config file"
  murmur patch edit 9c1e --base refs/heads/release --add-label backport
  murmur patch edit 9c1e --add-reviewer bob`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			e, err := ef.edit(ctx, a, cmd, "patch description")
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("base") {
				b := strings.TrimSpace(base)
				if b == "" {
					return &userError{what: "the base ref is empty", todo: "Pass a ref such as refs/heads/main"}
				}
				e.Base = fullRefName(b)
			}
			e.AddReviewers, e.RemoveReviewers = cleanList(addReviewer), cleanList(removeReviewer)
			if editIsEmpty(e) && len(e.AddReviewers)+len(e.RemoveReviewers) == 0 {
				return usagef("nothing to change; pass -t, -b, -F, --base, --add-label, --remove-label, --add-assignee, --remove-assignee, --add-reviewer or --remove-reviewer")
			}
			return runEdit(ctx, a, "patch", argv[0], e, asJSON, api.Service.EditPatch, func(p api.Patch) (string, string) { return p.ID, p.Title })
		},
	}
	addEditFlags(c, &ef, "patch description")
	c.Flags().StringVar(&base, "base", "", "the new base `REF`")
	c.Flags().StringSliceVar(&addReviewer, "add-reviewer", nil, "ask `WHO` (DID or alias) to review (the patch author or maintainers)")
	c.Flags().StringSliceVar(&removeReviewer, "remove-reviewer", nil, "withdraw the review request of `WHO` (DID or alias)")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

// lineRange parses "N" or "N-M" (1 ≤ N ≤ M).
func lineRange(s string) (start, end int, err error) {
	bad := func() (int, int, error) {
		return 0, 0, &userError{
			what: fmt.Sprintf("--line %q is not a line or a range of lines", clean(s)),
			todo: "Pass N or N-M with 1 ≤ N ≤ M, e.g. --line 12 or --line 12-18",
		}
	}
	from, to, isRange := strings.Cut(strings.TrimSpace(s), "-")
	start, err = strconv.Atoi(from)
	if err != nil || start < 1 {
		return bad()
	}
	end = start
	if isRange {
		if end, err = strconv.Atoi(to); err != nil || end < start {
			return bad()
		}
	}
	return start, end, nil
}

func (a *app) reviewCmd() *cobra.Command {
	var approve, changes, comment, asJSON bool
	var tf textFlags
	var file, lines string
	var revision int
	c := &cobra.Command{
		Use:   "review PATCH (--approve | --request-changes | --comment) [-b BODY] [--file PATH --line N[-M] [--revision N]]",
		Short: "Review a patch",
		Long: `Record your verdict on a patch revision (the latest unless --revision), with
a summary from -b, -F (- for stdin) or $EDITOR on a terminal. With --file and
--line the text is an inline comment on those lines of the revision.
--request-changes, --comment and inline comments need a text; --approve
does not.`,
		Example: `  murmur review 9c1e --approve
  murmur review 9c1e --request-changes -b "Please add a test."
  murmur review 9c1e --comment --file parse.go --line 40-44 -b "This can overflow."`,
		Args: args("PATCH"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			var r api.NewReview
			n := 0
			for _, v := range []struct {
				set  bool
				name string
			}{{approve, "approve"}, {changes, "request-changes"}, {comment, "comment"}} {
				if v.set {
					n++
					r.Verdict = v.name
				}
			}
			if n != 1 {
				return usagef("pass exactly one of --approve, --request-changes or --comment")
			}
			if (file == "") != (lines == "") {
				return usagef("--file and --line go together")
			}
			if revision < 0 {
				return usagef("invalid --revision %d: revisions are numbered from 1", revision)
			}
			if cmd.Flags().Changed("revision") && revision == 0 {
				return usagef("invalid --revision 0: revisions are numbered from 1")
			}
			r.Revision = revision
			if file != "" {
				r.Path = strings.TrimSpace(file)
				var err error
				if r.Start, r.End, err = lineRange(lines); err != nil {
					return err
				}
			}
			need := r.Verdict != "approve" || r.Path != ""
			text, err := a.text(ctx, cmd, &tf, textRequest{what: "review text", required: need, editor: need,
				context: "Review of patch " + argv[0] + " (" + r.Verdict + ")"})
			if err != nil {
				return err
			}
			r.Summary = text
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.Review(ctx, s.repo, strings.TrimSpace(argv[0]), r)
			if err != nil {
				if api.ErrorCode(err) == api.CodeNotFound && revision > 0 {
					return hint(err, api.CodeNotFound, "Check the patch ID and --revision; 'murmur patch view "+clean(argv[0])+"' lists the revisions")
				}
				return err
			}
			if asJSON {
				return a.printJSON(p)
			}
			rev := revision
			if rev == 0 {
				rev = len(p.Revisions)
			}
			what := map[string]string{"approve": "Approved", "request-changes": "Requested changes on", "comment": "Commented on"}[r.Verdict]
			a.confirm(short(p.ID), "%s patch %s (revision %d)", what, a.paint(styleCyan, short(p.ID)), rev)
			return nil
		},
	}
	a.addRepoFlag(c)
	c.Flags().BoolVar(&approve, "approve", false, "approve the revision")
	c.Flags().BoolVar(&changes, "request-changes", false, "ask for changes")
	c.Flags().BoolVar(&comment, "comment", false, "comment without a verdict")
	addTextFlags(c, &tf, "review text")
	c.Flags().StringVar(&file, "file", "", "comment on lines of `PATH` in the revision")
	c.Flags().StringVar(&lines, "line", "", "the line `N` or lines N-M for --file")
	c.Flags().IntVar(&revision, "revision", 0, "review revision `N` (default: the latest)")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}
