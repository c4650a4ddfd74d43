package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

// maxCompletions bounds how many objects a completion lists.
const maxCompletions = 500

// addCompletions completes issue and patch IDs where a command takes one
// as its first argument, and repos for -R, in every shell cobra supports.
// A completion that cannot reach the store offers nothing rather than an
// error.
func (a *app) addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Flags().Lookup("repo") != nil || c.InheritedFlags().Lookup("repo") != nil {
			_ = c.RegisterFlagCompletionFunc("repo", a.completeRepos)
		}
		fields := strings.Fields(c.Use)
		if len(fields) < 2 || c.ValidArgsFunction != nil {
			return
		}
		kind := ""
		switch {
		case fields[1] == "PATCH":
			kind = "patch"
		case fields[1] == "ID" && c.Parent() != nil:
			kind = c.Parent().Name()
		}
		if kind == "issue" || kind == "patch" {
			c.ValidArgsFunction = a.completeObjects(kind)
		}
	}
	walk(root)
}

// completeObjects returns the completion of the first argument with the
// IDs of the repo's issues or patches, the shortest unique prefix of
// each with its title as the description.
func (a *app) completeObjects(kind string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		s, err := a.open(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		f := api.ListFilter{State: "all", Limit: maxCompletions}
		var ids, titles []string
		if kind == "issue" {
			list, err := s.svc.Issues(ctx, s.repo, f)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, is := range list {
				ids, titles = append(ids, is.ID), append(titles, is.Title)
			}
		} else {
			list, err := s.svc.Patches(ctx, s.repo, f)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, p := range list {
				ids, titles = append(ids, p.ID), append(titles, p.Title)
			}
		}
		return completions(ids, titles, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRepos completes -R with repo names and ID prefixes.
func (a *app) completeRepos(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	svc, err := a.service(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	repos, err := svc.Repos(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, r := range repos {
		if strings.HasPrefix(r.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(r.Name, short(r.ID)))
		}
	}
	ids := make([]string, len(repos))
	names := make([]string, len(repos))
	for i, r := range repos {
		ids[i], names[i] = r.ID, r.Name
	}
	return append(out, completions(ids, names, toComplete)...), cobra.ShellCompDirectiveNoFileComp
}

// completions offers the IDs that start with toComplete, as the shortest
// prefix that is unique among ids (and at least as long as what was
// typed), each described by its title.
func completions(ids, titles []string, toComplete string) []cobra.Completion {
	n := uniqueLen(ids)
	var out []cobra.Completion
	for i, id := range ids {
		if !strings.HasPrefix(id, toComplete) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(prefix(id, max(n, len(toComplete))), clean(titles[i])))
		if len(out) == maxCompletions {
			break
		}
	}
	return out
}
