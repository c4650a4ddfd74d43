package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

const rootExample = `  # Who am I? (the first write creates an identity without asking)
  murmur id init --alias alice

  # Make a repo for the git working copy you are in, and publish its heads
  cd ~/src/project && murmur repo init && murmur refs push

  # File, discuss and close issues
  murmur issue create -t "Crash on empty config" -l bug
  murmur issue list -l bug
  murmur issue comment 3f2a -b "Reproduced on main."
  murmur issue close 3f2a -r completed

  # Propose a change and review it
  murmur patch open -t "Handle empty config"
  murmur patch diff 9c1e
  murmur review 9c1e --approve -b "Looks good."`

// newRoot builds the command tree for one run.
func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "murmur",
		Short: "A peer-to-peer forge: repos, issues, patches and reviews, offline first",
		Long: `murmur keeps a repository's refs, issues, patches and reviews as signed
operations in a local store and shares them with peers. Everything works with
no network; peers sync when they meet.

With no arguments on a terminal, murmur opens the terminal UI.

Data directory: --home, else $MURMUR_HOME, else $XDG_DATA_HOME/murmur, else
~/.local/share/murmur. An encrypted key file is unlocked with
--passphrase-file or $MURMUR_PASSPHRASE.

Output: --json prints one JSON document; on a terminal, tables are aligned
and coloured (NO_COLOR turns colours off); otherwise lines are
tab-separated. Exit status is 1 when a command fails and 2 when it was
used wrongly.`,
		Example:       rootExample,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Suggest "issue" for "isue".
		SuggestionsMinimumDistance: 2,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q", args[0])
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf("; did you mean %q?", s[0])
				}
				return &usageError{msg: msg}
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			a.ran = true
			cmd.SetContext(withCommand(cmd.Context(), cmd.CommandPath()))
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runRoot(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{msg: err.Error()}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.home, "home", "", "the data `DIR` (default $MURMUR_HOME, else $XDG_DATA_HOME/murmur)")
	pf.StringVar(&a.passFile, "passphrase-file", "", "read the key file's passphrase from `FILE` (else $MURMUR_PASSPHRASE)")
	root.Flags().BoolVar(&a.offline, "offline", false, "open the terminal UI without joining the mesh (when no daemon runs)")

	root.AddCommand(
		a.idCmd(),
		a.repoCmd(),
		a.refsCmd(),
		a.issueCmd(),
		a.patchCmd(),
		a.reviewCmd(),
		a.searchCmd(),
		a.statusCmd(),
		a.serveCmd(),
		a.syncCmd(),
		a.inboxCmd(),
		a.versionCmd(),
		a.manCmd(),
		a.doctorCmd(),
		a.blockCmd(),
		a.unblockCmd(),
		a.policyCmd(),
	)
	a.addCompletions(root)
	root.SetVersionTemplate("murmur version {{.Version}}\n")
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  murmur help issue create"
		case "completion":
			c.Example = "  murmur completion bash > ~/.local/share/bash-completion/completions/murmur"
			for _, sub := range c.Commands() {
				sub.Example = "  murmur completion " + sub.Name() + " --help"
			}
		}
	}
	return root
}

// runRoot is `murmur` with no arguments: the terminal UI on a terminal,
// help otherwise.
func (a *app) runRoot(cmd *cobra.Command) error {
	if a.StdinTTY && a.StdoutTTY {
		err := runTUI(cmd.Context(), a)
		if !errors.Is(err, errTUINotBuilt) {
			return err
		}
		if herr := cmd.Help(); herr != nil {
			return herr
		}
		fmt.Fprintln(&a.out, "\nThe terminal UI is not available here; use the commands above.")
		return nil
	}
	return cmd.Help()
}

// group makes a command that only holds subcommands: alone it prints its
// help, with an unknown subcommand it is a usage error.
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ArbitraryArgs,
		// Suggest "list" for "lst".
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf("; did you mean %q?", s[0])
				}
				return &usageError{msg: msg}
			}
			return cmd.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

// args checks a command's positional arguments by name: "ID", "EMOJI",
// or "[REPO]" for an optional one.
func args(names ...string) cobra.PositionalArgs {
	minN := 0
	for _, n := range names {
		if !strings.HasPrefix(n, "[") {
			minN++
		}
	}
	return func(cmd *cobra.Command, got []string) error {
		switch {
		case len(got) < minN:
			return usagef("missing %s", strings.Join(names[len(got):minN], " and "))
		case len(got) > len(names):
			if len(names) == 0 {
				return usagef("unexpected argument %q", got[0])
			}
			return usagef("too many arguments: expected %s, got %d", strings.Join(names, " "), len(got))
		}
		return nil
	}
}

// repoFlag adds -R/--repo to a command.
func (a *app) addRepoFlag(c *cobra.Command) {
	c.Flags().StringVarP(&a.repoFlag, "repo", "R", "", "the `REPO`: ID, ID prefix or name (default: the working copy's, or the only one)")
}

// selectRepo picks the repo a command works on: -R, else the working
// copy's git config murmur.repo, else the only repo in the store.
func (a *app) selectRepo(ctx context.Context, svc api.Service) (string, error) {
	if a.repoFlag != "" {
		return a.repoFlag, nil
	}
	if r := a.workingCopyRepo(ctx); r != "" {
		if _, err := svc.Repo(ctx, r); err != nil {
			if api.ErrorCode(err) == api.CodeNotFound {
				return "", &userError{
					what: fmt.Sprintf("this working copy names repo %s (git config %s), which is not in this data directory", short(clean(r)), gitConfigKey),
					todo: "Pass -R REPO, or check --home/MURMUR_HOME",
					err:  err,
				}
			}
			return "", err
		}
		return r, nil
	}
	repos, err := svc.Repos(ctx)
	if err != nil {
		return "", err
	}
	switch len(repos) {
	case 0:
		return "", &userError{
			what: "there are no repos here yet",
			todo: "Create one with 'murmur repo create --name NAME', or 'murmur repo init' in a git working copy",
		}
	case 1:
		return repos[0].ID, nil
	}
	choices := make([]string, len(repos))
	for i, r := range repos {
		choices[i] = short(r.ID) + " " + clean(r.Name)
	}
	return "", &userError{what: "several repos here; pick one with -R: " + strings.Join(choices, ", ")}
}

// session is what a repo-scoped command works with.
type session struct {
	svc  api.Service
	repo string
}

// open attaches to the node and picks the repo, once per run.
func (a *app) open(ctx context.Context) (session, error) {
	if a.sess != nil {
		return *a.sess, nil
	}
	svc, err := a.service(ctx)
	if err != nil {
		return session{}, err
	}
	repo, err := a.selectRepo(ctx, svc)
	if err != nil {
		return session{}, err
	}
	a.sess = &session{svc: svc, repo: repo}
	return *a.sess, nil
}
