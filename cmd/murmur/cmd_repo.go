package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) repoCmd() *cobra.Command {
	return group("repo", "Create, list and view repos", `  murmur repo create --name project --description "A tool"
  murmur repo init
  murmur repo clone ID --peer 192.0.2.7:7788
  murmur repo list
  murmur repo follow ID --peer 192.0.2.7:7788`,
		a.repoCreateCmd(), a.repoInitCmd(), a.repoCloneCmd(), a.repoListCmd(), a.repoViewCmd(), a.repoEditCmd(), a.repoMaintainerCmd(),
		a.repoBanCmd(true), a.repoBanCmd(false), a.repoMemberCmd(),
		a.followCmd(), a.unfollowCmd())
}

func (a *app) repoCreateCmd() *cobra.Command {
	var n api.NewRepo
	var asJSON bool
	c := &cobra.Command{
		Use:   "create NAME [--description D] [--default-branch main] [--json]",
		Short: "Create a repo",
		Long: `Create a repo. You become its owner and first maintainer. Inside a git
working copy, 'murmur repo init' also records the repo in the git config.`,
		Example: `  murmur repo create project
  murmur repo create project --description "A tool" --default-branch trunk --json`,
		Args: args("[NAME]"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			switch {
			case len(pos) == 1 && cmd.Flags().Changed("name"):
				return usagef("name the repo once: as NAME or with --name")
			case len(pos) == 1:
				n.Name = pos[0]
			case !cmd.Flags().Changed("name"):
				name, err := a.promptFor("NAME", "Repo name")
				if err != nil {
					return err
				}
				n.Name = name
			}
			ctx := cmd.Context()
			n.Name = strings.TrimSpace(n.Name)
			n.DefaultBranch = strings.TrimSpace(n.DefaultBranch)
			if n.Name == "" {
				return &userError{what: "the repo name is empty", todo: "Pass one with --name NAME"}
			}
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			r, err := svc.CreateRepo(ctx, n)
			if err != nil {
				return err
			}
			return a.printCreatedRepo(r, asJSON)
		},
	}
	c.Flags().StringVar(&n.Name, "name", "", "the repo's `NAME` (the same as the NAME argument)")
	c.Flags().StringVar(&n.Description, "description", "", "a one-line description")
	c.Flags().StringVar(&n.DefaultBranch, "default-branch", "main", "the default `BRANCH`")
	a.addJSONFlags(c, &asJSON, "print the repo as JSON")
	return c
}

func (a *app) printCreatedRepo(r api.Repo, asJSON bool) error {
	if asJSON {
		return a.printJSON(r)
	}
	a.confirm(short(r.ID), "Created repo %s %s", a.paint(styleCyan, short(r.ID)), clean(r.Name))
	return nil
}

func (a *app) repoInitCmd() *cobra.Command {
	var name, desc, branch string
	var asJSON bool
	c := &cobra.Command{
		Use:   "init [--name NAME] [--description D] [--default-branch BRANCH]",
		Short: "Create a repo for the git working copy you are in",
		Long: `Create a repo for the git working copy you are in, record its ID in the
working copy's git config (murmur.repo), so later commands here need no -R,
and add the git remote "murmur" (murmur://ID), so 'git push murmur BRANCH'
publishes the branch. In a working copy cloned from a repo this node has
(a remote whose URL is murmur://ID), init links to that repo instead of
creating another.

The name is the origin remote's last path element without .git, else the
name of the working copy's top directory. The default branch is the
current branch, else init.defaultBranch, else main. Flags override both.`,
		Example: `  cd ~/src/project && murmur repo init
  murmur repo init --name project --description "A tool"`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			top, err := a.gitTop(ctx)
			if err != nil {
				if errors.Is(err, errNoGit) {
					return &userError{
						what: "this is not inside a git working copy",
						todo: "Run 'murmur repo init' in one, or use 'murmur repo create --name NAME'",
					}
				}
				return err
			}
			if cur := a.workingCopyRepo(ctx); cur != "" {
				return &userError{
					what: fmt.Sprintf("this working copy is already linked to repo %s (git config %s)", short(clean(cur)), gitConfigKey),
					todo: "See it with 'murmur repo view'; to link another, first run 'git config --unset " + gitConfigKey + "'",
				}
			}
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			if r, remote, err := a.clonedRepo(ctx, svc); err != nil {
				return err
			} else if remote != "" {
				// A clone of a repo this node has: link, do not duplicate.
				if _, err := a.git(ctx, "config", "--local", gitConfigKey, r.ID); err != nil {
					return &userError{
						what: fmt.Sprintf("could not record repo %s in the git config: %v", r.ID, err),
						todo: fmt.Sprintf("Run 'git config %s %s'", gitConfigKey, r.ID),
					}
				}
				if asJSON {
					return a.printJSON(r)
				}
				a.confirm(short(r.ID), "Linked this working copy to repo %s %s (git remote %s)", a.paint(styleCyan, short(r.ID)), clean(r.Name), remote)
				return nil
			}
			n := api.NewRepo{Name: strings.TrimSpace(name), Description: desc, DefaultBranch: strings.TrimSpace(branch)}
			if n.Name == "" {
				n.Name = a.gitRepoName(ctx, top)
			}
			if n.DefaultBranch == "" {
				n.DefaultBranch = a.gitDefaultBranch(ctx)
			}
			r, err := svc.CreateRepo(ctx, n)
			if err != nil {
				return err
			}
			if _, err := a.git(ctx, "config", "--local", gitConfigKey, r.ID); err != nil {
				return &userError{
					what: fmt.Sprintf("created repo %s but could not record it in the git config: %v", r.ID, err),
					todo: fmt.Sprintf("Run 'git config %s %s'", gitConfigKey, r.ID),
				}
			}
			a.addRemote(ctx, r.ID)
			return a.printCreatedRepo(r, asJSON)
		},
	}
	c.Flags().StringVar(&name, "name", "", "the repo's `NAME` (default from git)")
	c.Flags().StringVar(&desc, "description", "", "a one-line description")
	c.Flags().StringVar(&branch, "default-branch", "", "the default `BRANCH` (default from git)")
	a.addJSONFlags(c, &asJSON, "print the repo as JSON")
	return c
}

func (a *app) repoListCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the repos in the data directory",
		Example: `  murmur repo list
  murmur repo list --json | jq -r '.[].name'`,
		Aliases: []string{"ls"},
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			repos, err := svc.Repos(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONList(a, repos)
			}
			if len(repos) == 0 {
				if a.pretty() {
					fmt.Fprintln(&a.out, "No repos yet. Create one with 'murmur repo create --name NAME'.")
				}
				return nil
			}
			t := newTable(4, "ID", "NAME", "ISSUES", "PATCHES", "DESCRIPTION")
			for _, r := range repos {
				t.add(cell{text: short(r.ID), style: styleCyan}, cell{text: r.Name, style: styleBold},
					cell{text: strconv.Itoa(r.OpenIssues)}, cell{text: strconv.Itoa(r.OpenPatches)},
					cell{text: r.Description})
			}
			a.writeTable(&a.out, t)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the repos as a JSON array")
	return c
}

func (a *app) repoViewCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "view [REPO] [--json]",
		Short: "Show a repo",
		Example: `  murmur repo view
  murmur repo view project --json`,
		Args: args("[REPO]"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			if len(argv) == 1 {
				a.repoFlag = argv[0]
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			r, err := s.svc.Repo(ctx, s.repo)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			a.writeRepo(r)
			return nil
		},
	}
	a.addRepoFlag(c)
	a.addJSONFlags(c, &asJSON, "print the repo as JSON")
	return c
}

func (a *app) writeRepo(r api.Repo) {
	maint := make([]string, len(r.Maintainers))
	for i, m := range r.Maintainers {
		maint[i] = personName(m)
	}
	a.writeFields(&a.out, [][2]string{
		{"id", r.ID},
		{"name", r.Name},
		{"description", r.Description},
		{"default branch", r.DefaultBranch},
		{"owner", personName(r.Owner)},
		{"maintainers", strings.Join(maint, ", ")},
		{"open issues", strconv.Itoa(r.OpenIssues)},
		{"open patches", strconv.Itoa(r.OpenPatches)},
		{"ops", strconv.Itoa(r.Ops)},
		{"created", a.when(r.Created)},
		{"updated", a.when(r.Updated)},
	})
	a.writeFields(&a.out, moderationFields(r))
	for _, c := range r.Conflicts {
		a.writeConflict(c)
	}
}

func (a *app) writeConflict(c api.Conflict) {
	fmt.Fprintf(&a.out, "%s %q by %s %s\n", a.paint(styleYellow, "also set concurrently:"),
		clean(c.Value), clean(personName(c.Author)), a.when(c.At))
}

func (a *app) repoEditCmd() *cobra.Command {
	var name, desc, branch, opens string
	var asJSON bool
	c := &cobra.Command{
		Use:   "edit [REPO] [--name NAME] [--description D] [--default-branch BRANCH] [--who-can-open anyone|members|maintainers]",
		Short: "Change a repo's name, description, default branch or who may open issues and patches (maintainers)",
		Example: `  murmur repo edit --description "A better tool"
  murmur repo edit project --default-branch trunk
  murmur repo edit --who-can-open maintainers`,
		Args: args("[REPO]"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			if len(argv) == 1 {
				a.repoFlag = argv[0]
			}
			var e api.RepoEdit
			f := cmd.Flags()
			if f.Changed("name") {
				v := strings.TrimSpace(name)
				if v == "" {
					return &userError{what: "the repo name is empty", todo: "Pass a name with --name"}
				}
				e.Name = &v
			}
			if f.Changed("description") {
				e.Description = &desc
			}
			if f.Changed("default-branch") {
				v := strings.TrimSpace(branch)
				e.DefaultBranch = &v
			}
			if f.Changed("who-can-open") {
				v, err := whoOpens(opens)
				if err != nil {
					return err
				}
				e.WhoOpens = &v
			}
			if e.Name == nil && e.Description == nil && e.DefaultBranch == nil && e.WhoOpens == nil {
				return usagef("nothing to change; pass --name, --description, --default-branch or --who-can-open")
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			r, err := s.svc.EditRepo(ctx, s.repo, e)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			a.confirm(short(r.ID), "Updated repo %s %s", short(r.ID), clean(r.Name))
			return nil
		},
	}
	a.addRepoFlag(c)
	c.Flags().StringVar(&name, "name", "", "the new `NAME`")
	c.Flags().StringVar(&desc, "description", "", "the new description")
	c.Flags().StringVar(&branch, "default-branch", "", "the new default `BRANCH`")
	c.Flags().StringVar(&opens, "who-can-open", "", "who may open issues and patches: anyone, members ('repo member add') or maintainers")
	a.addJSONFlags(c, &asJSON, "print the repo as JSON")
	return c
}

func (a *app) repoMaintainerCmd() *cobra.Command {
	mk := func(add bool) *cobra.Command {
		verb, short1, ex := "add", "Make someone a maintainer (maintainers)", "  murmur repo maintainer add did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
		if !add {
			verb, short1, ex = "remove", "Remove a maintainer (maintainers; not the owner)", "  murmur repo maintainer remove did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
		}
		c := &cobra.Command{
			Use:     verb + " DID",
			Short:   short1,
			Example: ex,
			Args:    args("DID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return a.setMaintainer(cmd.Context(), strings.TrimSpace(argv[0]), add)
			},
		}
		a.addRepoFlag(c)
		return c
	}
	return group("maintainer", "Add or remove maintainers", "  murmur repo maintainer add did:key:z6Mk…\n  murmur repo maintainer remove did:key:z6Mk…", mk(true), mk(false))
}

func (a *app) setMaintainer(ctx context.Context, did string, add bool) error {
	if !strings.HasPrefix(did, "did:key:") {
		return &userError{
			what: fmt.Sprintf("%q is not a DID", clean(did)),
			todo: "Pass the person's did:key:… as shown by their 'murmur id show'",
		}
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	r, err := s.svc.SetMaintainer(ctx, s.repo, did, add)
	if err != nil {
		return hint(err, api.CodeForbidden, "Only maintainers can change maintainers, and the owner cannot be removed")
	}
	verb := "Added"
	if !add {
		verb = "Removed"
	}
	a.confirm(did, "%s maintainer %s in repo %s", verb, shortDID(did), clean(r.Name))
	return nil
}
