package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) inboxCmd() *cobra.Command {
	var (
		all    bool
		limit  int
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "inbox [--all] [-R REPO] [-L N] [--json]",
		Short: "Show what changed since you last looked",
		Long: `List what changed in every followed repo since you last looked, newest
first: new issues and patches, comments, replies to you, mentions of your
alias or key, verdicts on your patches, and state changes on what you opened
or commented on. Your own ops are left out. Items stay unread until marked
with 'murmur inbox read'; read markers stay on this machine.

Off a terminal each item is one tab-separated line: object id, repo, type,
reason, actor, title, when, and "unread" or "read".`,
		Example: `  murmur inbox
  murmur inbox --all -L 100
  murmur inbox --json reason,title --jq '.[] | select(.reason == "mention")'
  murmur inbox read 3f2a
  murmur inbox read --all`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("invalid limit %d: use 0 (all) or more", limit)
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			items, err := svc.Inbox(cmd.Context(), api.InboxQuery{All: all, Limit: limit, Repo: a.repoFlag})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONList(a, items)
			}
			a.writeInbox(items, all)
			if a.pretty() && limit > 0 && len(items) == limit {
				fmt.Fprintf(a.Stderr, "Showing the first %d; -L 0 shows all.\n", limit)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "include items already read")
	c.Flags().IntVarP(&limit, "limit", "L", defaultListLimit, "show at most `N` (0: all)")
	a.addRepoFlag(c)
	a.addJSONFlags(c, &asJSON, "print a JSON array")
	c.AddCommand(a.inboxReadCmd())
	return c
}

func (a *app) inboxReadCmd() *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "read ID... | --all",
		Short: "Mark inbox items read",
		Long: `Mark the inbox items of the issues and patches named by ID (or a unique
prefix of at least 4 hex digits) read, or with --all every item. Later
activity on them is unread again.`,
		Example: `  murmur inbox read 3f2a
  murmur inbox read --all`,
		RunE: func(cmd *cobra.Command, ids []string) error {
			switch {
			case all && len(ids) > 0:
				return usagef("give IDs or --all, not both")
			case !all && len(ids) == 0:
				return usagef("name the issues or patches to mark read (murmur inbox read ID), or pass --all")
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			res, err := svc.MarkRead(cmd.Context(), api.MarkRead{Objects: ids, All: all})
			if err != nil {
				return err
			}
			if a.pretty() {
				what := "everything"
				if !all {
					shorts := make([]string, len(res.Objects))
					for i, id := range res.Objects {
						shorts[i] = short(id)
					}
					what = strings.Join(shorts, ", ")
				}
				fmt.Fprintf(&a.out, "Marked %s read; %s unread.\n", what, unreadCount(res.Unread))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "mark every item read")
	return c
}

// unreadCount is n for humans: "99+" at the cap.
func unreadCount(n int) string {
	if n >= api.InboxUnreadCap {
		return fmt.Sprintf("%d+", api.InboxUnreadCap-1)
	}
	return fmt.Sprint(n)
}

func (a *app) writeInbox(items []api.InboxItem, all bool) {
	if len(items) == 0 {
		if a.pretty() {
			if all {
				fmt.Fprintln(&a.out, "Your inbox is empty: nothing has happened in the repos you follow.")
			} else {
				fmt.Fprintln(&a.out, "Nothing new. 'murmur inbox --all' shows what you already read.")
			}
		}
		return
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Object
	}
	idLen := uniqueLen(ids)
	if !a.pretty() {
		for _, it := range items {
			state := "read"
			if it.Unread {
				state = "unread"
			}
			fmt.Fprintf(&a.out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", prefix(it.Object, idLen), clean(it.RepoName), it.Type,
				it.Reason, clean(personName(it.Actor)), clean(it.Title), it.At.UTC().Format("2006-01-02T15:04:05Z"), state)
		}
		return
	}
	t := newTable(2, "", "ID", "REPO", "TITLE", "REASON", "BY", "WHEN")
	for _, it := range items {
		mark, style := " ", styleDim
		if it.Unread {
			mark, style = "•", styleCyan
		}
		t.add(cell{text: mark, style: styleCyan}, cell{text: prefix(it.Object, idLen), style: style},
			cell{text: it.RepoName}, cell{text: it.Type + ": " + it.Title},
			cell{text: inboxReasonText(it), style: styleYellow}, cell{text: personName(it.Actor)},
			cell{text: a.when(it.At), style: styleDim})
	}
	a.writeTable(&a.out, t)
}

// inboxReasonText says why an item is there, with the state or verdict
// it carries.
func inboxReasonText(it api.InboxItem) string {
	switch {
	case it.State != "":
		return it.Reason + " → " + it.State
	case it.Verdict != "":
		return it.Reason + ": " + it.Verdict
	}
	return it.Reason
}
