package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"murmur/identity"
	"murmur/policy"
)

const policyLong = `A node's local policy decides whose ops it keeps and whom it talks to. It
is local to this data directory (the file policy.json in it), never
replicated, and a running node applies a change within a second.

  blocked        identities whose ops this node refuses and hides
  blocked peers  identities whose mesh connections this node refuses
  seed           which announced repos the node follows by itself:
                 none, repos (a list), trusted (repos owned or maintained
                 by trusted identities) or all
  budget         how many ops and bytes one author, and unknown authors
                 per peer and per repo, may make the node store per window`

func (a *app) blockCmd() *cobra.Command {
	var peer bool
	c := &cobra.Command{
		Use:   "block DID [--peer]",
		Short: "Refuse and hide an identity's ops, or refuse a peer's connections",
		Long: `Block an identity: its new ops are refused when peers send them, and those
already stored are hidden from lists and views. With --peer, refuse the
mesh connections of the peer with that identity instead.` + "\n\n" + policyLong,
		Example: `  murmur block did:key:z6Mk…
  murmur block --peer did:key:z6Mk…`,
		Args: args("DID"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			return a.editBlock(pos[0], peer, true)
		},
	}
	c.Flags().BoolVar(&peer, "peer", false, "block the peer's connections instead of its ops")
	return c
}

func (a *app) unblockCmd() *cobra.Command {
	var peer bool
	c := &cobra.Command{
		Use:   "unblock DID [--peer]",
		Short: "Undo murmur block",
		Long: `Unblock an identity: its stored ops show again and peers may send the ones
this node refused. With --peer, accept the peer's connections again.`,
		Example: `  murmur unblock did:key:z6Mk…
  murmur unblock --peer did:key:z6Mk…`,
		Args: args("DID"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			return a.editBlock(pos[0], peer, false)
		},
	}
	c.Flags().BoolVar(&peer, "peer", false, "unblock the peer's connections")
	return c
}

// parseDID reads an identity argument.
func parseDID(s string) (identity.PublicKey, error) {
	k, err := identity.ParseDID(strings.TrimSpace(s))
	if err != nil {
		return k, &userError{what: fmt.Sprintf("%q is not an identity", s),
			todo: "Give its did:key (murmur repo view and murmur issue view show the authors' keys)", err: err}
	}
	return k, nil
}

func (a *app) editBlock(arg string, peer, block bool) error {
	k, err := parseDID(arg)
	if err != nil {
		return err
	}
	did := k.DID()
	return a.editPolicy(func(p *policy.Policy) (string, string, error) {
		list, what := &p.Blocked, "identity"
		if peer {
			list, what = &p.BlockedPeers, "peer"
		}
		switch {
		case block && policy.Add(list, did):
			return did, fmt.Sprintf("Blocked %s %s", what, did), nil
		case block:
			return did, fmt.Sprintf("%s %s was already blocked", capital(what), did), nil
		case policy.Remove(list, did):
			return did, fmt.Sprintf("Unblocked %s %s", what, did), nil
		}
		return did, fmt.Sprintf("%s %s was not blocked", capital(what), did), nil
	})
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// editPolicy changes the data directory's policy file with f, which
// returns what a script sees (confirm's id) and the sentence a terminal
// user sees.
func (a *app) editPolicy(f func(p *policy.Policy) (id, msg string, err error)) error {
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	p, err := policy.Load(home)
	if err != nil {
		return policyError(err)
	}
	id, msg, err := f(p)
	if err != nil {
		return policyError(err)
	}
	if err := policy.Save(home, p); err != nil {
		return policyError(err)
	}
	a.confirm(id, "%s", msg)
	return nil
}

func policyError(err error) error {
	if errors.Is(err, policy.ErrInvalid) {
		return &userError{what: err.Error(), todo: "See murmur policy set --help", err: err}
	}
	return err
}

func (a *app) policyCmd() *cobra.Command {
	return group("policy", "Show or change this node's local policy", `  murmur policy show
  murmur policy set --seed trusted --trust did:key:z6Mk…
  murmur policy set --author-ops 1000 --unknown-ops 200 --window 1h`,
		a.policyShowCmd(), a.policySetCmd())
}

func (a *app) policyShowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "show [--json]",
		Short:   "Show the local policy",
		Long:    policyLong,
		Example: "  murmur policy show\n  murmur policy show --json",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			p, err := policy.Load(home)
			if err != nil {
				return policyError(err)
			}
			if asJSON {
				return a.printJSON(p)
			}
			mode := p.Seed.Mode
			if mode == "" {
				mode = policy.SeedNone
			}
			b := p.Budget
			num := func(v int64) string {
				if v == 0 {
					return "unlimited"
				}
				return fmt.Sprint(v)
			}
			rows := [][2]string{
				{"blocked", strings.Join(p.Blocked, " ")},
				{"blocked peers", strings.Join(p.BlockedPeers, " ")},
				{"seed", mode},
				{"seed repos", strings.Join(p.Seed.Repos, " ")},
				{"trusted", strings.Join(p.Seed.Trusted, " ")},
				{"window", b.WindowDuration().String()},
				{"author ops", num(int64(b.AuthorOps))},
				{"author bytes", num(b.AuthorBytes)},
				{"unknown ops", num(int64(b.UnknownOps))},
				{"unknown bytes", num(b.UnknownBytes)},
				{"repo bytes", num(b.RepoBytes)},
			}
			for _, r := range rows {
				fmt.Fprintf(&a.out, "%s\t%s\n", r[0], r[1])
			}
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the policy as JSON")
	return c
}

// policyFlags are the flags of policy set; each one given changes its
// field.
type policyFlags struct {
	seed                      string
	seedRepos, noSeedRepos    []string
	trust, untrust            []string
	window                    string
	authorOps, unknownOps     int
	authorBytes, unknownBytes int64
	repoBytes                 int64
}

func (a *app) policySetCmd() *cobra.Command {
	var f policyFlags
	c := &cobra.Command{
		Use:   "set [--seed MODE] [--seed-repo ID]... [--trust DID]... [--window D] [--author-ops N] …",
		Short: "Change the local policy",
		Long:  policyLong + "\n\nOnly the settings given change; 0 means unlimited.",
		Example: `  murmur policy set --seed trusted --trust did:key:z6Mk…
  murmur policy set --seed repos --seed-repo 3f2a…
  murmur policy set --window 1h --author-ops 1000 --unknown-ops 200 --unknown-bytes 1048576`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			if fl.NFlag() == 0 {
				return usagef("say what to change, for example --seed trusted")
			}
			return a.editPolicy(func(p *policy.Policy) (string, string, error) {
				if fl.Changed("seed") {
					p.Seed.Mode = strings.ToLower(f.seed)
				}
				for _, r := range f.seedRepos {
					policy.Add(&p.Seed.Repos, strings.ToLower(r))
				}
				for _, r := range f.noSeedRepos {
					policy.Remove(&p.Seed.Repos, strings.ToLower(r))
				}
				for _, s := range f.trust {
					k, err := parseDID(s)
					if err != nil {
						return "", "", err
					}
					policy.Add(&p.Seed.Trusted, k.DID())
				}
				for _, s := range f.untrust {
					k, err := parseDID(s)
					if err != nil {
						return "", "", err
					}
					policy.Remove(&p.Seed.Trusted, k.DID())
				}
				b := &p.Budget
				if fl.Changed("window") {
					b.Window = f.window
				}
				if fl.Changed("author-ops") {
					b.AuthorOps = f.authorOps
				}
				if fl.Changed("author-bytes") {
					b.AuthorBytes = f.authorBytes
				}
				if fl.Changed("unknown-ops") {
					b.UnknownOps = f.unknownOps
				}
				if fl.Changed("unknown-bytes") {
					b.UnknownBytes = f.unknownBytes
				}
				if fl.Changed("repo-bytes") {
					b.RepoBytes = f.repoBytes
				}
				return "ok", "Policy updated", p.Check()
			})
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.seed, "seed", "", "follow announced repos: none, repos, trusted or all (`MODE`)")
	fs.StringSliceVar(&f.seedRepos, "seed-repo", nil, "add a repo `ID` to the seed list (repeatable)")
	fs.StringSliceVar(&f.noSeedRepos, "no-seed-repo", nil, "remove a repo `ID` from the seed list")
	fs.StringSliceVar(&f.trust, "trust", nil, "trust an identity (`DID`): follow its repos in seed mode trusted (repeatable)")
	fs.StringSliceVar(&f.untrust, "untrust", nil, "stop trusting an identity (`DID`)")
	fs.StringVar(&f.window, "window", "", "the budget window, a `DURATION` such as 1h")
	fs.IntVar(&f.authorOps, "author-ops", 0, "ops one author may add to one repo per window (`N`)")
	fs.Int64Var(&f.authorBytes, "author-bytes", 0, "bytes one author may add to one repo per window (`N`)")
	fs.IntVar(&f.unknownOps, "unknown-ops", 0, "ops of unknown authors per peer and per repo per window (`N`)")
	fs.Int64Var(&f.unknownBytes, "unknown-bytes", 0, "bytes of unknown authors per peer and per repo per window (`N`)")
	fs.Int64Var(&f.repoBytes, "repo-bytes", 0, "stored bytes of a repo beyond which unknown authors are refused (`N`)")
	return c
}
