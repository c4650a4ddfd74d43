package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

// repoBanCmd is `repo ban` (ban true) or `repo unban`.
func (a *app) repoBanCmd(ban bool) *cobra.Command {
	var reason string
	use, short1, ex := "ban ID [--reason TEXT]", "Ban an identity from the repo (maintainers)",
		"  murmur repo ban did:key:z6Mk… --reason spam\n  murmur repo ban mallory"
	if !ban {
		use, short1, ex = "unban ID", "Lift a ban (maintainers)", "  murmur repo unban did:key:z6Mk…"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short1,
		Long: short1 + ".\n\nEvery replica rejects a banned identity's ops that come after the ban; " +
			"what it wrote before stays. ID is a did:key or an alias known in the repo. " +
			"A maintainer must be removed as maintainer before being banned.",
		Example: ex,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.setStanding(cmd.Context(), api.Standing{Kind: api.StandingBan, Identity: strings.TrimSpace(argv[0]), On: ban, Reason: reason})
		},
	}
	a.addRepoFlag(c)
	if ban {
		c.Flags().StringVar(&reason, "reason", "", "why, shown with the ban")
	}
	return c
}

func (a *app) repoMemberCmd() *cobra.Command {
	mk := func(add bool) *cobra.Command {
		verb, short1 := "add", "Make someone a member (maintainers)"
		if !add {
			verb, short1 = "remove", "Remove a member (maintainers)"
		}
		c := &cobra.Command{
			Use:     verb + " ID",
			Short:   short1,
			Example: "  murmur repo member " + verb + " did:key:z6Mk…",
			Args:    args("ID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				return a.setStanding(cmd.Context(), api.Standing{Kind: api.StandingMember, Identity: strings.TrimSpace(argv[0]), On: add})
			},
		}
		a.addRepoFlag(c)
		return c
	}
	return group("member", "Add or remove members: who may open issues and patches under 'repo edit --who-can-open members'",
		"  murmur repo member add did:key:z6Mk…\n  murmur repo edit --who-can-open members", mk(true), mk(false))
}

func (a *app) setStanding(ctx context.Context, st api.Standing) error {
	if st.Identity == "" {
		return usagef("give the identity: a did:key or an alias known in the repo")
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	r, err := s.svc.SetStanding(ctx, s.repo, st)
	if err != nil {
		return err // the node's message says who may and what to do
	}
	verb := map[string]map[bool]string{
		api.StandingBan:    {true: "Banned", false: "Unbanned"},
		api.StandingMember: {true: "Added member", false: "Removed member"},
	}[st.Kind][st.On]
	a.confirm(st.Identity, "%s %s in repo %s", verb, clean(shortID(st.Identity)), clean(r.Name))
	return nil
}

// shortID shortens a DID and leaves an alias as it is.
func shortID(s string) string {
	if strings.HasPrefix(s, "did:key:") {
		return shortDID(s)
	}
	return s
}

// lockCmd is `issue lock|unlock` and `patch lock|unlock`.
func (a *app) lockCmd(what string, lock bool) *cobra.Command {
	verb := "lock"
	short1 := "Lock " + aOrAn(what) + ": only maintainers may comment, react or review (maintainers)"
	if !lock {
		verb, short1 = "unlock", "Unlock "+aOrAn(what)+" (maintainers)"
	}
	var asJSON bool
	c := &cobra.Command{
		Use:     verb + " ID",
		Short:   short1,
		Example: fmt.Sprintf("  murmur %s %s 3f2a", what, verb),
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			e := api.Edit{Locked: &lock}
			id := strings.TrimSpace(argv[0])
			var out any
			var oid, title string
			if what == "issue" {
				is, err := s.svc.EditIssue(ctx, s.repo, id, e)
				if err != nil {
					return err
				}
				out, oid, title = is, is.ID, is.Title
			} else {
				p, err := s.svc.EditPatch(ctx, s.repo, id, e)
				if err != nil {
					return err
				}
				out, oid, title = p, p.ID, p.Title
			}
			if asJSON {
				return a.printJSON(out)
			}
			done := map[bool]string{true: "Locked", false: "Unlocked"}[lock]
			a.confirm(short(oid), "%s %s %s %s", done, what, a.paint(styleCyan, short(oid)), clean(title))
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the "+what+" as JSON")
	return c
}

func aOrAn(what string) string {
	if what == "issue" {
		return "an issue"
	}
	return "a patch"
}

// moderationFields are the repo view's lines about moderation.
func moderationFields(r api.Repo) [][2]string {
	out := [][2]string{{"who can open", r.WhoOpens}}
	if len(r.Members) > 0 {
		out = append(out, [2]string{"members", people(r.Members)})
	}
	for _, b := range r.Bans {
		v := personName(b.Person) + " by " + personName(b.By)
		if b.Reason != "" {
			v += ": " + b.Reason
		}
		out = append(out, [2]string{"banned", v})
	}
	return out
}

// whoOpens checks the value of --who-can-open.
func whoOpens(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case api.OpensAnyone, api.OpensMembers, api.OpensMaintainers:
		return v, nil
	}
	return "", usagef("invalid --who-can-open %q: use anyone, members or maintainers", v)
}

// lockedState adds ", locked" to a thread's state when it is locked.
func lockedState(state string, locked bool) string {
	if locked {
		return state + ", locked"
	}
	return state
}
