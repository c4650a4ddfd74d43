package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) issueCmd() *cobra.Command {
	c := group("issue", "File, discuss and close issues", `  murmur issue create -t "Crash on empty config" -l bug
  murmur issue list -s all -l bug
  murmur issue view 3f2a --comments`,
		a.issueCreateCmd(), a.issueListCmd(), a.issueViewCmd(), a.issueCommentCmd(),
		a.issueEditCmd(), a.issueCloseCmd(), a.issueReopenCmd(), a.issueReactCmd(),
		a.lockCmd("issue", true), a.lockCmd("issue", false))
	c.PersistentFlags().StringVarP(&a.repoFlag, "repo", "R", "", "the `REPO`: ID, ID prefix or name (default: the working copy's, or the only one)")
	return c
}

// cleanList trims items and drops empty ones.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// resolveMe resolves "@me" in a list of DIDs or aliases.
func (a *app) resolveMe(ctx context.Context, svc api.Service, in []string) ([]string, error) {
	if len(in) == 0 {
		return in, nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		if s == "@me" {
			id, err := svc.Identity(ctx)
			if err != nil {
				return nil, err
			}
			s = id.ID
		}
		out[i] = s
	}
	return out, nil
}

// checkTitle trims a title and refuses an empty one.
func checkTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "", &userError{what: "the title is empty", todo: "Pass a title with -t TITLE"}
	}
	return t, nil
}

func (a *app) issueCreateCmd() *cobra.Command {
	var n api.NewIssue
	var tf textFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "create -t TITLE [-b BODY | -F FILE] [-l LABEL]... [-a DID]... [--json]",
		Short: "File an issue",
		Long: `File an issue. The body comes from -b, from a file with -F (- for stdin),
or from $EDITOR when neither is given and stdin is a terminal. Labels and
assignees are set by maintainers; -a @me assigns yourself.`,
		Example: `  murmur issue create -t "Crash on empty config" -b "Steps: run with an empty file." -l bug
  murmur issue create -t "Write the manual" -F notes.md -a @me
  echo "details" | murmur issue create -t "From a script" -F - --json`,
		Aliases: []string{"new"},
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
			n.Labels, n.Assignees = cleanList(n.Labels), cleanList(n.Assignees)
			if n.Body, err = a.text(ctx, cmd, &tf, textRequest{what: "issue body", editor: true, context: "Issue: " + n.Title}); err != nil {
				return err
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			if n.Assignees, err = a.resolveMe(ctx, s.svc, n.Assignees); err != nil {
				return err
			}
			is, err := s.svc.CreateIssue(ctx, s.repo, n)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(is)
			}
			a.confirm(short(is.ID), "Created issue %s %s", a.paint(styleCyan, short(is.ID)), clean(is.Title))
			return nil
		},
	}
	c.Flags().StringVarP(&n.Title, "title", "t", "", "the issue's `TITLE`")
	addTextFlags(c, &tf, "issue body")
	c.Flags().StringSliceVarP(&n.Labels, "label", "l", nil, "add a `LABEL` (repeat or separate with commas)")
	c.Flags().StringSliceVarP(&n.Assignees, "assignee", "a", nil, "assign a person by `DID` (@me for yourself)")
	a.addJSONFlags(c, &asJSON, "print the new issue as JSON")
	return c
}

// defaultListLimit is how many items a list shows without -L, as in gh.
const defaultListLimit = 30

// listFlags are the filters of issue and patch lists.
type listFlags struct {
	f      api.ListFilter
	asJSON bool
}

func (a *app) addListFlags(c *cobra.Command, lf *listFlags, states string) {
	c.Flags().StringVarP(&lf.f.State, "state", "s", "open", "show `STATE`: "+states)
	c.Flags().StringVarP(&lf.f.Label, "label", "l", "", "only those with this `LABEL`")
	c.Flags().StringVarP(&lf.f.Assignee, "assignee", "a", "", "only those assigned to `WHO` (DID, alias or @me)")
	c.Flags().StringVarP(&lf.f.Author, "author", "A", "", "only those by `WHO` (DID, alias or @me)")
	c.Flags().IntVarP(&lf.f.Limit, "limit", "L", defaultListLimit, "show at most `N` (0: all)")
	a.addJSONFlags(c, &lf.asJSON, "print a JSON array")
}

// validate checks the state and limit.
func (lf *listFlags) validate(states ...string) error {
	lf.f.State = strings.ToLower(strings.TrimSpace(lf.f.State))
	ok := false
	for _, s := range states {
		ok = ok || lf.f.State == s
	}
	if !ok {
		return usagef("invalid state %q: use one of %s", lf.f.State, strings.Join(states, ", "))
	}
	if lf.f.Limit < 0 {
		return usagef("invalid limit %d: use 0 (all) or more", lf.f.Limit)
	}
	return nil
}

// resolve turns @me into the local identity's DID.
func (lf *listFlags) resolve(ctx context.Context, a *app, svc api.Service) error {
	who, err := a.resolveMe(ctx, svc, []string{strings.TrimSpace(lf.f.Assignee), strings.TrimSpace(lf.f.Author)})
	if err != nil {
		return err
	}
	lf.f.Assignee, lf.f.Author = who[0], who[1]
	return nil
}

func (a *app) issueListCmd() *cobra.Command {
	var lf listFlags
	c := &cobra.Command{
		Use:     "list [-s open|closed|all] [-l LABEL] [-a WHO] [-A WHO] [-L N] [--json]",
		Aliases: []string{"ls"},
		Short:   "List issues",
		Long: `List issues, most recently updated first. Off a terminal each issue is one
tab-separated line: id, state, title, labels (comma-separated), updated.`,
		Example: `  murmur issue list
  murmur issue list -s all -l bug -a @me
  murmur issue list -s closed --json | jq -r '.[].title'`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), a, &lf, []string{"open", "closed", "all"}, api.Service.Issues, a.writeIssueList)
		},
	}
	a.addListFlags(c, &lf, "open, closed or all")
	return c
}

// runList is a list command: check and resolve the filter flags, fetch,
// and print as JSON or with write.
func runList[T any](ctx context.Context, a *app, lf *listFlags, states []string,
	fetch func(api.Service, context.Context, string, api.ListFilter) ([]T, error), write func([]T, string)) error {
	if err := lf.validate(states...); err != nil {
		return err
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	if err := lf.resolve(ctx, a, s.svc); err != nil {
		return err
	}
	list, err := fetch(s.svc, ctx, s.repo, lf.f)
	if err != nil {
		return err
	}
	if lf.asJSON {
		return printJSONList(a, list)
	}
	write(list, lf.f.State)
	if a.pretty() && lf.f.Limit > 0 && len(list) == lf.f.Limit {
		fmt.Fprintf(a.Stderr, "Showing the first %d; -L 0 shows all.\n", lf.f.Limit)
	}
	return nil
}

func (a *app) writeIssueList(list []api.IssueSummary, state string) {
	if len(list) == 0 {
		if a.pretty() {
			fmt.Fprintf(&a.out, "No %sissues match.\n", statePrefix(state))
		}
		return
	}
	ids := make([]string, len(list))
	for i, is := range list {
		ids[i] = is.ID
	}
	idLen := uniqueLen(ids)
	t := newTable(2, "ID", "STATE", "TITLE", "LABELS", "UPDATED")
	for _, is := range list {
		t.add(cell{text: prefix(is.ID, idLen), style: styleCyan}, cell{text: is.State, style: stateStyle(is.State)},
			cell{text: is.Title}, cell{text: strings.Join(is.Labels, ","), style: styleYellow},
			cell{text: a.when(is.Updated), style: styleDim})
	}
	a.writeTable(&a.out, t)
}

func statePrefix(state string) string {
	if state == "" || state == "all" {
		return ""
	}
	return state + " "
}

func (a *app) issueViewCmd() *cobra.Command {
	var comments, asJSON bool
	c := &cobra.Command{
		Use:   "view ID [--comments] [--json]",
		Short: "Show an issue",
		Long: `Show an issue. ID is the issue's ID or a unique prefix of it (at least 4
hex digits). --json prints the whole issue, comments included.`,
		Example: `  murmur issue view 3f2a
  murmur issue view 3f2a --comments
  murmur issue view 3f2a --json | jq '.comments | length'`,
		Aliases: []string{"show"},
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			is, err := s.svc.Issue(ctx, s.repo, strings.TrimSpace(argv[0]))
			if err != nil {
				return err
			}
			if asJSON {
				is.Labels, is.Assignees = nonNil(is.Labels), nonNil(is.Assignees)
				is.Comments, is.Reactions = nonNil(is.Comments), nonNil(is.Reactions)
				return a.printJSON(is)
			}
			a.writeIssue(is, comments)
			return nil
		},
	}
	c.Flags().BoolVarP(&comments, "comments", "c", false, "show the comments")
	a.addJSONFlags(c, &asJSON, "print the issue as JSON (always with comments)")
	return c
}

func (a *app) writeIssue(is api.Issue, comments bool) {
	state := is.State
	if is.Reason != "" && is.State == "closed" {
		state += " (" + is.Reason + ")"
	}
	state = lockedState(state, is.Locked)
	if !a.pretty() {
		a.writeFields(&a.out, [][2]string{
			{"title", is.Title},
			{"id", is.ID},
			{"state", state},
			{"author", personName(is.Author)},
			{"labels", strings.Join(is.Labels, ", ")},
			{"assignees", people(is.Assignees)},
			{"reactions", reactions(is.Reactions)},
			{"comments", strconv.Itoa(len(is.Comments))},
			{"created", a.when(is.Created)},
			{"updated", a.when(is.Updated)},
		})
		fmt.Fprintln(&a.out, "--")
		fmt.Fprintln(&a.out, sanitizeText(is.Body))
		if comments {
			a.writeComments(is.Comments)
		}
		return
	}
	fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleBold, clean(is.Title)), a.paint(styleDim, short(is.ID)))
	fmt.Fprintf(&a.out, "%s · %s opened %s · %s\n", a.paint(stateStyle(is.State), state),
		clean(personName(is.Author)), a.when(is.Created), plural(len(is.Comments), "comment"))
	if len(is.Labels) > 0 {
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleDim, "Labels:"), a.paint(styleYellow, clean(strings.Join(is.Labels, ", "))))
	}
	if len(is.Assignees) > 0 {
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleDim, "Assignees:"), clean(people(is.Assignees)))
	}
	if r := reactions(is.Reactions); r != "" {
		fmt.Fprintln(&a.out, clean(r))
	}
	for _, c := range is.Conflicts {
		a.writeConflict(c)
	}
	fmt.Fprintln(&a.out)
	a.writeBody(is.Body)
	switch {
	case comments:
		a.writeComments(is.Comments)
	case len(is.Comments) > 0:
		fmt.Fprintf(&a.out, "\n%s\n", a.paint(styleDim, fmt.Sprintf("%s; show them with --comments.", plural(len(is.Comments), "comment"))))
	}
}

func (a *app) writeBody(body string) {
	if strings.TrimSpace(body) == "" {
		fmt.Fprintln(&a.out, a.paint(styleDim, "  No description provided."))
		return
	}
	fmt.Fprintln(&a.out, indent(sanitizeText(body), "  "))
}

func (a *app) writeComments(cs []api.Comment) {
	for _, c := range cs {
		if !a.pretty() {
			fmt.Fprintln(&a.out, "--")
			fields := [][2]string{
				{"comment", c.ID},
				{"author", personName(c.Author)},
				{"created", a.when(c.Created)},
			}
			if c.ReplyTo != "" {
				fields = append(fields, [2]string{"reply_to", c.ReplyTo})
			}
			if c.Anchor != nil {
				fields = append(fields, [2]string{"anchor", anchorText(c.Anchor)})
			}
			if c.Hidden {
				fields = append(fields, [2]string{"hidden", "yes"})
			}
			if r := reactions(c.Reactions); r != "" {
				fields = append(fields, [2]string{"reactions", r})
			}
			a.writeFields(&a.out, fields)
			fmt.Fprintln(&a.out, "--")
			fmt.Fprintln(&a.out, sanitizeText(c.Body))
			continue
		}
		head := fmt.Sprintf("%s · %s · %s", a.paint(styleBold, clean(personName(c.Author))), a.when(c.Created), a.paint(styleDim, short(c.ID)))
		if c.ReplyTo != "" {
			head += a.paint(styleDim, " · reply to "+short(c.ReplyTo))
		}
		if c.Anchor != nil {
			head += " · " + a.paint(styleCyan, clean(anchorText(c.Anchor)))
		}
		if c.Edited {
			head += a.paint(styleDim, " · edited")
		}
		if c.Resolved {
			head += a.paint(styleGreen, " · resolved")
		}
		fmt.Fprintln(&a.out)
		fmt.Fprintln(&a.out, head)
		if c.Hidden {
			fmt.Fprintln(&a.out, a.paint(styleDim, "  (hidden by a maintainer)"))
			continue
		}
		fmt.Fprintln(&a.out, indent(sanitizeText(c.Body), "  "))
		if r := reactions(c.Reactions); r != "" {
			fmt.Fprintln(&a.out, "  "+clean(r))
		}
	}
}

func anchorText(an *api.Anchor) string {
	lines := strconv.Itoa(an.Start)
	if an.End > an.Start {
		lines += "-" + strconv.Itoa(an.End)
	}
	return fmt.Sprintf("%s:%s (revision %d)", an.Path, lines, an.RevNumber)
}

func reactions(rs []api.Reaction) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		if len(r.Authors) > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.Emoji, len(r.Authors)))
		}
	}
	return strings.Join(parts, "  ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// commentCmd is `issue comment` and `patch comment`.
func (a *app) commentCmd(kind, example string) *cobra.Command {
	var tf textFlags
	var replyTo string
	var asJSON bool
	var at inlineFlags
	c := &cobra.Command{
		Use:   "comment ID [-b BODY | -F FILE] [--reply-to COMMENT]" + at.usage(kind),
		Short: "Comment on " + article(kind),
		Long: `Add a comment. The text comes from -b, from a file with -F (- for stdin),
or from $EDITOR when neither is given and stdin is a terminal.`,
		Example: example,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			nc := api.NewComment{ReplyTo: strings.TrimSpace(replyTo)}
			if err := at.apply(cmd, &nc); err != nil {
				return err
			}
			body, err := a.text(ctx, cmd, &tf, textRequest{what: "comment body", required: true, editor: true,
				context: "Comment on " + kind + " " + argv[0]})
			if err != nil {
				return err
			}
			nc.Body = body
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			cm, err := s.svc.Comment(ctx, s.repo, strings.TrimSpace(argv[0]), nc)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(cm)
			}
			a.confirm(short(cm.ID), "Commented on %s %s (comment %s)", kind, short(argv[0]), a.paint(styleCyan, short(cm.ID)))
			return nil
		},
	}
	addTextFlags(c, &tf, "comment text")
	c.Flags().StringVar(&replyTo, "reply-to", "", "reply to the `COMMENT` with this ID or prefix")
	if kind == "patch" {
		at.add(c)
	}
	a.addJSONFlags(c, &asJSON, "print the comment as JSON")
	return c
}

func article(kind string) string {
	if kind == "issue" {
		return "an issue"
	}
	return "a " + kind
}

func (a *app) issueCommentCmd() *cobra.Command {
	return a.commentCmd("issue", `  murmur issue comment 3f2a -b "Reproduced on main."
  murmur issue comment 3f2a --reply-to 77c0 -b "Fixed by 9c1e."
  git log -1 --format=%B | murmur issue comment 3f2a -F -`)
}

// editFlags are the label and assignee changes of `issue edit` and
// `patch edit`.
type editFlags struct {
	title                       string
	tf                          textFlags
	addLabel, removeLabel       []string
	addAssignee, removeAssignee []string
}

func addEditFlags(c *cobra.Command, ef *editFlags, bodyWhat string) {
	c.Flags().StringVarP(&ef.title, "title", "t", "", "the new `TITLE`")
	addTextFlags(c, &ef.tf, bodyWhat)
	c.Flags().StringSliceVar(&ef.addLabel, "add-label", nil, "add a `LABEL` (maintainers)")
	c.Flags().StringSliceVar(&ef.removeLabel, "remove-label", nil, "remove a `LABEL` (maintainers)")
	c.Flags().StringSliceVar(&ef.addAssignee, "add-assignee", nil, "assign a person by `DID` (@me for yourself; maintainers)")
	c.Flags().StringSliceVar(&ef.removeAssignee, "remove-assignee", nil, "unassign a person by `DID` (maintainers)")
}

// edit builds the api.Edit; it is a usage error to change nothing.
func (ef *editFlags) edit(ctx context.Context, a *app, cmd *cobra.Command, bodyWhat string) (api.Edit, error) {
	var e api.Edit
	if cmd.Flags().Changed("title") {
		t, err := checkTitle(ef.title)
		if err != nil {
			return e, err
		}
		e.Title = &t
	}
	if ef.tf.given(cmd) {
		b, err := a.text(ctx, cmd, &ef.tf, textRequest{what: bodyWhat})
		if err != nil {
			return e, err
		}
		e.Body = &b
	}
	e.AddLabels, e.RemoveLabels = cleanList(ef.addLabel), cleanList(ef.removeLabel)
	e.AddAssignees, e.RemoveAssignees = cleanList(ef.addAssignee), cleanList(ef.removeAssignee)
	return e, nil
}

// runEdit applies e to the object id of the given kind, once the people it
// names are resolved, and prints the result.
func runEdit[T any](ctx context.Context, a *app, kind, id string, e api.Edit, asJSON bool,
	apply func(api.Service, context.Context, string, string, api.Edit) (T, error), describe func(T) (id, title string)) error {
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	if err := a.resolveEditPeople(ctx, s.svc, &e); err != nil {
		return err
	}
	v, err := apply(s.svc, ctx, s.repo, strings.TrimSpace(id), e)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(v)
	}
	oid, title := describe(v)
	a.confirm(short(oid), "Updated %s %s %s", kind, a.paint(styleCyan, short(oid)), clean(title))
	return nil
}

func editIsEmpty(e api.Edit) bool {
	return e.Title == nil && e.Body == nil && len(e.AddLabels) == 0 && len(e.RemoveLabels) == 0 &&
		len(e.AddAssignees) == 0 && len(e.RemoveAssignees) == 0 && e.State == "" && e.Base == ""
}

func (a *app) resolveEditPeople(ctx context.Context, svc api.Service, e *api.Edit) error {
	var err error
	if e.AddAssignees, err = a.resolveMe(ctx, svc, e.AddAssignees); err != nil {
		return err
	}
	if e.RemoveAssignees, err = a.resolveMe(ctx, svc, e.RemoveAssignees); err != nil {
		return err
	}
	if e.AddReviewers, err = a.resolveMe(ctx, svc, e.AddReviewers); err != nil {
		return err
	}
	e.RemoveReviewers, err = a.resolveMe(ctx, svc, e.RemoveReviewers)
	return err
}

func (a *app) issueEditCmd() *cobra.Command {
	var ef editFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "edit ID [-t TITLE] [-b BODY | -F FILE] [--add-label L] [--remove-label L] [--add-assignee DID] [--remove-assignee DID]",
		Short: "Change an issue's title, body, labels or assignees",
		Long: `Change an issue. Its author or a maintainer may change the title and body;
labels and assignees are for maintainers.`,
		Example: `  murmur issue edit 3f2a -t "Crash on an empty config file"
  murmur issue edit 3f2a --add-label bug --remove-label triage --add-assignee @me`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			e, err := ef.edit(ctx, a, cmd, "issue body")
			if err != nil {
				return err
			}
			if editIsEmpty(e) {
				return usagef("nothing to change; pass -t, -b, -F, --add-label, --remove-label, --add-assignee or --remove-assignee")
			}
			return runEdit(ctx, a, "issue", argv[0], e, asJSON, api.Service.EditIssue, func(is api.Issue) (string, string) { return is.ID, is.Title })
		},
	}
	addEditFlags(c, &ef, "issue body")
	a.addJSONFlags(c, &asJSON, "print the issue as JSON")
	return c
}

// closeReason normalizes -r.
func closeReason(r string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(r)) {
	case "", "completed", "complete", "done":
		return "completed", nil
	case "not-planned", "not_planned", "notplanned", "wontfix":
		return "not-planned", nil
	}
	return "", usagef("invalid reason %q: use completed or not-planned", r)
}

func (a *app) issueCloseCmd() *cobra.Command {
	var reason, comment string
	var asJSON bool
	c := &cobra.Command{
		Use:   "close ID [-r completed|not-planned] [-c COMMENT]",
		Short: "Close an issue",
		Example: `  murmur issue close 3f2a
  murmur issue close 3f2a -r not-planned -c "Works as intended."`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			r, err := closeReason(reason)
			if err != nil {
				return err
			}
			return a.setIssueState(cmd.Context(), argv[0], api.Edit{State: "closed", Reason: r, Comment: comment}, asJSON)
		},
	}
	c.Flags().StringVarP(&reason, "reason", "r", "completed", "why: completed or not-planned")
	c.Flags().StringVarP(&comment, "comment", "c", "", "leave a closing `COMMENT`")
	a.addJSONFlags(c, &asJSON, "print the issue as JSON")
	return c
}

func (a *app) issueReopenCmd() *cobra.Command {
	var comment string
	var asJSON bool
	c := &cobra.Command{
		Use:     "reopen ID [-c COMMENT]",
		Short:   "Reopen a closed issue",
		Example: "  murmur issue reopen 3f2a\n  murmur issue reopen 3f2a -c \"Still happens on 1.2.\"",
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.setIssueState(cmd.Context(), argv[0], api.Edit{State: "open", Comment: comment}, asJSON)
		},
	}
	c.Flags().StringVarP(&comment, "comment", "c", "", "leave a `COMMENT`")
	a.addJSONFlags(c, &asJSON, "print the issue as JSON")
	return c
}

func (a *app) setIssueState(ctx context.Context, id string, e api.Edit, asJSON bool) error {
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	is, err := s.svc.EditIssue(ctx, s.repo, strings.TrimSpace(id), e)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(is)
	}
	verb := "Closed"
	if e.State == "open" {
		verb = "Reopened"
	}
	a.confirm(short(is.ID), "%s issue %s %s", verb, a.paint(styleCyan, short(is.ID)), clean(is.Title))
	return nil
}

// emojiNames maps GitHub's reaction names to emoji.
var emojiNames = map[string]string{
	"+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎",
	"laugh": "😄", "smile": "😄", "hooray": "🎉", "tada": "🎉",
	"confused": "😕", "heart": "❤️", "rocket": "🚀", "eyes": "👀",
}

func (a *app) reactCmd(kinds, example string) *cobra.Command {
	var remove bool
	c := &cobra.Command{
		Use:   "react ID EMOJI [--remove]",
		Short: "React to " + kinds + " or a comment with an emoji",
		Long: `React with an emoji. ID names the ` + kinds + ` or a comment on it. EMOJI is
an emoji or one of the names +1, -1, laugh, hooray, confused, heart,
rocket, eyes.`,
		Example: example,
		Args:    args("ID", "EMOJI"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			emoji := strings.TrimSpace(argv[1])
			if e, ok := emojiNames[strings.ToLower(strings.Trim(emoji, ":"))]; ok {
				emoji = e
			}
			if emoji == "" {
				return &userError{what: "the emoji is empty", todo: "Pass one, e.g. 'murmur issue react 3f2a +1'"}
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			target := strings.TrimSpace(argv[0])
			if err := s.svc.React(ctx, s.repo, target, emoji, remove); err != nil {
				return err
			}
			verb := "Reacted"
			if remove {
				verb = "Withdrew"
			}
			a.confirm(short(target), "%s %s on %s", verb, clean(emoji), short(target))
			return nil
		},
	}
	c.Flags().BoolVar(&remove, "remove", false, "withdraw the reaction")
	return c
}

func (a *app) issueReactCmd() *cobra.Command {
	return a.reactCmd("an issue", "  murmur issue react 3f2a +1\n  murmur issue react 77c0 🎉\n  murmur issue react 3f2a +1 --remove")
}
