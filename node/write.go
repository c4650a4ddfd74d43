package node

import (
	"context"
	"errors"
	"strings"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

const localAliasKey = "alias"

// localAlias returns the alias the local user chose ("" when none).
func (n *Node) localAlias() string {
	v, err := n.store.Local(localAliasKey)
	if err != nil {
		return ""
	}
	return string(v)
}

// write signs and stores actions in repo (zero repo: a genesis action),
// one op each, and publishes events. The ops of an existing repo are
// written in one durable batch: all of them or, if forge would reject
// one, none. Before the user's first op in a repo, or when their alias
// changed, it publishes their alias there.
func (n *Node) write(ctx context.Context, repo op.ID, actions ...forge.Action) ([]storage.Applied, error) {
	key, err := n.signer()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if repo.IsZero() {
		return n.writeGenesis(key, actions)
	}
	if alias := n.localAlias(); alias != "" {
		r, err := n.store.Repo(repo)
		if err == nil && r.Alias(key.Public()) != alias {
			a, err := forge.NewAction(forge.KindProfileAlias, op.ID{}, forge.Set{Value: alias, Prev: aliasHeads(r, key.Public())})
			if err == nil {
				actions = append([]forge.Action{a}, actions...)
			}
		}
	}
	if len(actions) == 0 {
		return nil, nil
	}
	built := make([]*op.Op, len(actions))
	applied, err := n.store.CreateAll(repo, len(actions), func(i int, tip storage.Tip) (*op.Op, error) {
		if err := refuseBanned(tip.Roles, key.Public()); err != nil {
			return nil, err
		}
		o, err := op.Sign(key, actions[i].Unsigned(repo, tip.Parents, n.clock.Now(tip.Clock)))
		built[i] = o
		return o, err
	})
	if err != nil {
		return nil, writeError(err) // the caller reports it
	}
	n.rep.storeWrote(nil)
	n.rep.added(applied)
	for i, a := range applied {
		n.published(key, repo, a, built[i])
	}
	return applied, nil
}

// writeGenesis makes a repo from its genesis action, and follows it.
func (n *Node) writeGenesis(key *identity.Key, actions []forge.Action) ([]storage.Applied, error) {
	if len(actions) != 1 {
		return nil, api.Errorf(api.CodeInternal, "a new repo is made by one genesis op, not %d", len(actions))
	}
	var built *op.Op
	applied, err := n.store.Create(op.ID{}, func(tip storage.Tip) (*op.Op, error) {
		o, err := op.Sign(key, actions[0].Unsigned(op.ID{}, tip.Parents, n.clock.Now(tip.Clock)))
		built = o
		return o, err
	})
	if err != nil {
		return nil, writeError(err) // the caller reports it
	}
	n.rep.storeWrote(nil)
	// A repo made here is followed (its tree is built from the store,
	// genesis included).
	if _, err := n.rep.follow(applied.ID); err != nil {
		n.log.Warn("cannot follow new repo", "repo", applied.ID.Short(), "err", err)
	}
	n.published(key, applied.ID, applied, built)
	return []storage.Applied{applied}, nil
}

// published tells the node's event stream and the mesh about an op the
// user made.
func (n *Node) published(key *identity.Key, repo op.ID, a storage.Applied, o *op.Op) {
	n.bus.publish(eventFor(a, key.Public(), true))
	if n.mesh != nil && n.rep.Follows(repo) {
		n.mesh.Announce(repo, o.Bytes(), a.ID)
	}
}

func aliasHeads(r *forge.Repo, k identity.PublicKey) []op.ID {
	if l := r.Aliases[k]; l != nil {
		return ids(l.Heads())
	}
	return nil
}

// writeError turns store and forge errors into api errors a user can act on.
func writeError(err error) error {
	var ae *api.Error
	var ve *forge.ValidationError
	switch {
	case errors.As(err, &ae):
		return err
	case diskError(err) != nil:
		return diskError(err)
	case errors.As(err, &ve):
		return api.Errorf(api.CodeInvalid, "%s", ve.Error())
	case errors.Is(err, forge.ErrUnauthorized):
		return api.Errorf(api.CodeForbidden, "%s", reason(err))
	case errors.Is(err, storage.ErrRejected):
		return api.Errorf(api.CodeInvalid, "%s", reason(err))
	case errors.Is(err, storage.ErrNotFound):
		return api.Errorf(api.CodeNotFound, "%s", err.Error())
	case errors.Is(err, storage.ErrDamaged):
		return damagedError(err)
	}
	return api.Errorf(api.CodeInternal, "%v", err)
}

// reason strips the sentinel suffixes from a forge rejection.
func reason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, storage.ErrRejected.Error()+": ")
	s = strings.TrimSuffix(s, ": "+forge.ErrUnauthorized.Error())
	s = strings.TrimSuffix(s, ": "+forge.ErrRejected.Error())
	return s
}

func action(kind string, target op.ID, body any) (forge.Action, error) {
	a, err := forge.NewAction(kind, target, body)
	if err != nil {
		return a, writeError(err)
	}
	return a, nil
}

// resolveRepo finds a repo by ID, unique ID prefix (≥ 4 hex digits) or
// name. An empty string means "the only repo".
func (n *Node) resolveRepo(s string) (op.ID, error) {
	s = strings.TrimSpace(s)
	repos, err := n.store.Repos()
	if err != nil {
		return op.ID{}, api.Errorf(api.CodeInternal, "%v", err)
	}
	describe := func(rs []*forge.Repo) []string {
		var out []string
		for _, r := range rs {
			name, _ := r.Name.Get()
			out = append(out, r.ID.String()[:12]+"  "+name)
		}
		return out
	}
	if s == "" {
		switch len(repos) {
		case 0:
			return op.ID{}, api.Errorf(api.CodeNoRepo, "no repos yet; create one with `murmur repo create --name NAME` or follow one with `murmur repo follow ID`")
		case 1:
			return repos[0].ID, nil
		}
		e := api.Errorf(api.CodeNoRepo, "there are %d repos; pick one with -R ID or -R NAME", len(repos))
		e.Matches = describe(repos)
		return op.ID{}, e
	}
	var matches []*forge.Repo
	for _, r := range repos {
		if name, _ := r.Name.Get(); name == s {
			matches = append(matches, r)
		}
	}
	if len(matches) == 0 && isHexPrefix(s) {
		for _, r := range repos {
			if strings.HasPrefix(r.ID.String(), strings.ToLower(s)) {
				matches = append(matches, r)
			}
		}
	}
	switch len(matches) {
	case 0:
		e := api.Errorf(api.CodeNotFound, "no repo named or with ID %q", s)
		e.Matches = describe(repos)
		return op.ID{}, e
	case 1:
		return matches[0].ID, nil
	}
	e := api.Errorf(api.CodeAmbiguous, "%q matches %d repos; use a longer ID", s, len(matches))
	e.Matches = describe(matches)
	return op.ID{}, e
}

func isHexPrefix(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// resolveOp finds an accepted op of repo by ID prefix whose kind is one of
// kinds. what names the thing for messages ("issue", "comment").
func (n *Node) resolveOp(repo op.ID, s, what string, kinds ...string) (op.ID, forge.Meta, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !isHexPrefix(s) {
		return op.ID{}, forge.Meta{}, api.Errorf(api.CodeInvalid, "%q is not a %s ID: use at least 4 hex digits of it", s, what)
	}
	var metas []forge.Meta
	found, err := n.store.Resolve(s, func(m forge.Meta) bool {
		if m.Repo != repo || !m.Accepted {
			return false
		}
		for _, k := range kinds {
			if m.Kind == k {
				metas = append(metas, m)
				return true
			}
		}
		return false
	})
	if err != nil {
		return op.ID{}, forge.Meta{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	switch len(found) {
	case 0:
		return op.ID{}, forge.Meta{}, api.Errorf(api.CodeNotFound, "no %s %s in this repo; list them with `murmur %s list`", what, s, listCmd(what))
	case 1:
		return found[0], metas[0], nil
	}
	e := api.Errorf(api.CodeAmbiguous, "%s ID %q is ambiguous: it matches %d; use more digits", what, s, len(found))
	for _, id := range found {
		e.Matches = append(e.Matches, id.String()[:16])
	}
	return op.ID{}, forge.Meta{}, e
}

func listCmd(what string) string {
	switch what {
	case "patch":
		return "patch"
	case "comment":
		return "issue view --comments"
	}
	return "issue"
}

// parseKey accepts a did:key or an alias known in repo.
func (n *Node) parseKey(repo *forge.Repo, s string) (identity.PublicKey, error) {
	s = strings.TrimSpace(s)
	if k, err := identity.ParseDID(s); err == nil {
		return k, nil
	}
	if repo != nil {
		var found []identity.PublicKey
		for k := range repo.Aliases {
			if repo.Alias(k) == s {
				found = append(found, k)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
	}
	if key, err := n.signer(); err == nil && (s == "@me" || s == n.localAlias() && s != "") {
		return key.Public(), nil
	}
	return identity.PublicKey{}, api.Errorf(api.CodeInvalid, "%q is not a did:key identity (did:key:z6Mk…) or a known alias", s)
}
