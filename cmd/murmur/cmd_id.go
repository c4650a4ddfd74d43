package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) idCmd() *cobra.Command {
	return group("id", "Show or create your identity (an Ed25519 key)", `  murmur id init --alias alice
  murmur id show`,
		a.idInitCmd(), a.idShowCmd(), a.idAliasCmd())
}

func (a *app) idInitCmd() *cobra.Command {
	var alias string
	var asJSON bool
	c := &cobra.Command{
		Use:   "init [--alias NAME] [--passphrase-file FILE]",
		Short: "Create your identity",
		Long: `Create your identity: an Ed25519 key in a file in the data directory.
With --passphrase-file (or $MURMUR_PASSPHRASE) the key file is encrypted
with that passphrase, and every later command needs it.

The first command that writes creates an identity without asking; init is
for choosing an alias or a passphrase up front.`,
		Example: `  murmur id init --alias alice
  murmur id init --alias alice --passphrase-file ~/.murmur-pass`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			alias = strings.TrimSpace(alias)
			ctx := cmd.Context()
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			pass, err := a.passphrase()
			if err != nil {
				return err
			}
			id, err := svc.InitIdentity(ctx, alias, pass)
			if err != nil {
				return hint(err, api.CodeConflict, "Show it with 'murmur id show'; change its alias with 'murmur id alias NAME'")
			}
			if asJSON {
				return a.printJSON(id)
			}
			if !a.pretty() {
				fmt.Fprintln(&a.out, id.ID)
				return nil
			}
			fmt.Fprintf(&a.out, "%s Created identity %s\n", a.paint(styleGreen, "✓"), personName(id.Person))
			a.writeIdentity(id)
			return nil
		},
	}
	c.Flags().StringVar(&alias, "alias", "", "the `NAME` others see next to your key")
	a.addJSONFlags(c, &asJSON, "print the identity as JSON")
	return c
}

func (a *app) idShowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "show [--json]",
		Short:   "Show your identity",
		Example: "  murmur id show\n  murmur id show --json | jq -r .id",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			id, err := svc.Identity(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(id)
			}
			a.writeIdentity(id)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the identity as JSON")
	return c
}

func (a *app) idAliasCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "alias NAME",
		Short:   "Change the alias others see next to your key",
		Example: "  murmur id alias alice",
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			alias := strings.TrimSpace(argv[0])
			if alias == "" {
				return &userError{what: "the alias is empty", todo: "Pass a name, e.g. 'murmur id alias alice'"}
			}
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			id, err := svc.SetAlias(ctx, alias)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(id)
			}
			a.confirm(id.ID, "Alias is now %s", clean(id.Alias))
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the identity as JSON")
	return c
}

func (a *app) writeIdentity(id api.Identity) {
	enc := "no"
	if id.Encrypted {
		enc = "yes"
	}
	a.writeFields(&a.out, [][2]string{
		{"id", id.ID},
		{"alias", id.Alias},
		{"short", id.Short},
		{"key file", id.KeyFile},
		{"encrypted", enc},
	})
}

// confirm reports a write: on a terminal a sentence, otherwise just the
// ID, so scripts can capture it.
func (a *app) confirm(id string, format string, args ...any) {
	if !a.pretty() {
		fmt.Fprintln(&a.out, id)
		return
	}
	fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleGreen, "✓"), fmt.Sprintf(format, args...))
}
