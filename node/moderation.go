package node

import (
	"context"
	"strings"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// SetStanding implements api.Service: it bans or unbans an identity, or
// adds or removes a member. It refuses, before making any op, what forge
// would reject: a non-maintainer's change, a ban of the owner or of a
// maintainer.
func (n *Node) SetStanding(ctx context.Context, repo string, s api.Standing) (api.Repo, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Repo{}, err
	}
	kind := forge.KindBan
	switch s.Kind {
	case api.StandingBan:
	case api.StandingMember:
		kind = forge.KindMember
	default:
		return api.Repo{}, api.Errorf(api.CodeInvalid, "standing %q must be %q or %q", s.Kind, api.StandingBan, api.StandingMember)
	}
	what := map[bool]string{true: "ban identities", false: "unban identities"}[s.On]
	if kind == forge.KindMember {
		what = "change the repo's members"
	}
	if err := n.requireMaintainer(r, what); err != nil {
		return api.Repo{}, err
	}
	k, err := n.parseKey(r, s.Identity)
	if err != nil {
		return api.Repo{}, err
	}
	roles, err := n.store.RolesAt(r.ID)
	if err != nil {
		return api.Repo{}, internal(err)
	}
	if kind == forge.KindBan && s.On {
		switch {
		case k == roles.Owner:
			return api.Repo{}, api.Errorf(api.CodeForbidden, "the repo owner cannot be banned")
		case roles.IsMaintainer(k):
			return api.Repo{}, api.Errorf(api.CodeForbidden, "%s is a maintainer; remove them first (murmur repo maintainer remove %s), then ban them", k.Short(), k.DID())
		}
	}
	a, err := action(kind, op.ID{}, forge.Standing{Key: k, On: s.On, Reason: strings.TrimSpace(s.Reason)})
	if err != nil {
		return api.Repo{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Repo{}, err
	}
	return n.Repo(ctx, r.ID.String())
}

// whoOpensAction is the op of RepoEdit.WhoOpens.
func whoOpensAction(v *string) ([]forge.Action, error) {
	if v == nil {
		return nil, nil
	}
	a, err := action(forge.KindWhoOpens, op.ID{}, forge.Set{Value: strings.ToLower(strings.TrimSpace(*v))})
	if err != nil {
		return nil, err
	}
	return []forge.Action{a}, nil
}

// lockAction is the op of Edit.Locked on o.
func (n *Node) lockAction(r *forge.Repo, o *forge.Object, locked *bool) ([]forge.Action, error) {
	if locked == nil {
		return nil, nil
	}
	verb := "lock"
	if !*locked {
		verb = "unlock"
	}
	if err := n.requireMaintainer(r, verb+" "+string(o.Type)+"s"); err != nil {
		return nil, err
	}
	a, err := action(forge.KindLock, o.ID, forge.SetBool{Value: *locked})
	if err != nil {
		return nil, err
	}
	return []forge.Action{a}, nil
}

// refuseBanned refuses a write by a key that roles, the role state the
// write would extend, bans: forge would reject the op, so it is not even
// signed.
func refuseBanned(roles *forge.Roles, k identity.PublicKey) error {
	if roles == nil || !roles.Banned(k) {
		return nil
	}
	for _, b := range roles.Bans() {
		if b.Key == k {
			msg := "you (" + k.Short() + ") are banned from this repo by " + b.By.Short()
			if b.Reason != "" {
				msg += ": " + b.Reason
			}
			return api.Errorf(api.CodeForbidden, "%s; a maintainer can lift the ban with murmur repo unban %s", msg, k.DID())
		}
	}
	return nil
}

// moderationView adds a repo's moderation state to its view.
func moderationView(p people, roles *forge.Roles, out *api.Repo) {
	out.WhoOpens = roles.WhoOpens()
	out.Members = p.persons(roles.Members())
	for _, b := range roles.Bans() {
		out.Bans = append(out.Bans, api.Ban{Person: p.person(b.Key), Reason: b.Reason, By: p.person(b.By), At: b.At.Time()})
	}
}

// locked reports whether the issue or patch id of repo is locked now.
func (n *Node) locked(repo, id op.ID) bool {
	roles, err := n.store.RolesAt(repo)
	return err == nil && roles.Locked(id)
}
