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

var _ api.Service = (*Node)(nil)

func internal(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, storage.ErrNotFound) {
		return api.Errorf(api.CodeNotFound, "%v", err)
	}
	if errors.Is(err, storage.ErrDamaged) {
		return damagedError(err)
	}
	if de := diskError(err); de != nil {
		return de
	}
	return api.Errorf(api.CodeInternal, "%v", err)
}

// damagedError is the api error for a damaged store: the file and the
// way out.
func damagedError(err error) error {
	msg := err.Error()
	var de *storage.DamageError
	if errors.As(err, &de) {
		msg = strings.TrimPrefix(de.Error(), "storage: ")
	}
	return &api.Error{Code: api.CodeDamaged, Message: "the store cannot be read: " + msg +
		"; run 'murmur doctor' to check it, then 'murmur doctor --repair' to move the damaged files aside and restore the store from what is readable and from peers"}
}

// Status implements api.Service.
func (n *Node) Status(ctx context.Context) (api.Status, error) {
	st := api.Status{Home: n.cfg.Home, Daemon: n.cfg.Daemon, Version: Version, Peers: []api.Peer{}, Repos: []api.RepoSync{}}
	if id, err := n.Identity(ctx); err == nil {
		st.Identity = id.Person
	}
	for _, id := range n.rep.Followed() {
		rs := api.RepoSync{Repo: op.ID(id).String()}
		if r, err := n.store.Repo(id); err == nil {
			rs.Name, _ = r.Name.Get()
		} else if !errors.Is(err, storage.ErrNotFound) {
			return st, internal(err)
		}
		rs.Ops, _ = n.store.OpCount(id)
		if root, ok := n.rep.Root(id); ok {
			rs.MerkleRoot = rootHex(root.Sum)
		}
		st.Repos = append(st.Repos, rs)
	}
	n.meshStatus(ctx, &st)
	st.PendingIn = n.store.Pending()
	st.Code = n.codes().statusNow()
	return st, nil
}

// Identity implements api.Service.
func (n *Node) Identity(ctx context.Context) (api.Identity, error) {
	n.mu.Lock()
	key, keyErr := n.key, n.keyErr
	n.mu.Unlock()
	out := api.Identity{KeyFile: n.keyPath()}
	switch {
	case key != nil:
		out.Person = n.people(nil).person(key.Public())
	case keyErr != nil:
		pub, err := identity.ReadPublicKey(n.keyPath())
		if err != nil {
			return out, keyError(keyErr)
		}
		out.Person = api.Person{ID: pub.DID(), Short: pub.Short(), Alias: n.localAlias()}
		out.Encrypted = true
		return out, nil
	default:
		return out, api.Errorf(api.CodeNoIdentity, "no identity yet; create one with `murmur id init --alias NAME`")
	}
	out.Encrypted, _ = identity.IsEncrypted(n.keyPath())
	return out, nil
}

// InitIdentity implements api.Service.
func (n *Node) InitIdentity(ctx context.Context, alias string, passphrase []byte) (api.Identity, error) {
	if alias != "" {
		if _, err := forge.NewAction(forge.KindProfileAlias, op.ID{}, forge.Set{Value: alias}); err != nil {
			return api.Identity{}, writeError(err)
		}
	}
	n.mu.Lock()
	if n.key != nil || n.keyErr != nil {
		n.mu.Unlock()
		return api.Identity{}, api.Errorf(api.CodeConflict, "an identity already exists in %s; change its alias with `murmur id alias NAME`", n.keyPath())
	}
	k, err := identity.Generate()
	if err == nil {
		err = identity.Save(n.keyPath(), k, passphrase)
	}
	if err != nil {
		n.mu.Unlock()
		return api.Identity{}, keyError(err)
	}
	n.key = k
	n.mu.Unlock()
	if alias != "" {
		if err := n.store.SetLocal(localAliasKey, []byte(alias)); err != nil {
			return api.Identity{}, internal(err)
		}
	}
	return n.Identity(ctx)
}

// SetAlias implements api.Service. The new alias is published in each repo
// with the user's next op there.
func (n *Node) SetAlias(ctx context.Context, alias string) (api.Identity, error) {
	if _, err := forge.NewAction(forge.KindProfileAlias, op.ID{}, forge.Set{Value: alias}); err != nil {
		return api.Identity{}, writeError(err)
	}
	if _, err := n.signer(); err != nil {
		return api.Identity{}, err
	}
	if err := n.store.SetLocal(localAliasKey, []byte(alias)); err != nil {
		return api.Identity{}, internal(err)
	}
	return n.Identity(ctx)
}

// CreateRepo implements api.Service.
func (n *Node) CreateRepo(ctx context.Context, r api.NewRepo) (api.Repo, error) {
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	a, err := action(forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: r.Name, Description: r.Description, DefaultBranch: r.DefaultBranch})
	if err != nil {
		return api.Repo{}, err
	}
	applied, err := n.write(ctx, op.ID{}, a)
	if err != nil {
		return api.Repo{}, err
	}
	id := applied[0].ID
	if alias := n.localAlias(); alias != "" {
		// Publish the owner's alias right away.
		if _, err := n.write(ctx, id); err != nil {
			return api.Repo{}, err
		}
	}
	return n.Repo(ctx, id.String())
}

// Repos implements api.Service.
func (n *Node) Repos(ctx context.Context) ([]api.Repo, error) {
	repos, err := n.store.Repos()
	if err != nil {
		return nil, internal(err)
	}
	out := []api.Repo{}
	for _, r := range repos {
		roles, err := n.store.RolesAt(r.ID)
		if err != nil {
			return nil, internal(err)
		}
		out = append(out, n.repoView(r, roles))
	}
	return out, nil
}

func (n *Node) loadRepo(s string) (*forge.Repo, error) {
	id, err := n.resolveRepo(s)
	if err != nil {
		return nil, err
	}
	r, err := n.store.Repo(id)
	if err != nil {
		return nil, internal(err)
	}
	return r, nil
}

// Repo implements api.Service.
func (n *Node) Repo(ctx context.Context, repo string) (api.Repo, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Repo{}, err
	}
	roles, err := n.store.RolesAt(r.ID)
	if err != nil {
		return api.Repo{}, internal(err)
	}
	return n.repoView(r, roles), nil
}

// EditRepo implements api.Service.
func (n *Node) EditRepo(ctx context.Context, repo string, e api.RepoEdit) (api.Repo, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Repo{}, err
	}
	var acts []forge.Action
	add := func(kind string, v *string, heads []op.ID) error {
		if v == nil {
			return nil
		}
		a, err := action(kind, op.ID{}, forge.Set{Value: *v, Prev: heads})
		acts = append(acts, a)
		return err
	}
	if err := errors.Join(
		add(forge.KindRepoName, e.Name, ids(r.Name.Heads())),
		add(forge.KindRepoDescription, e.Description, ids(r.Description.Heads())),
		add(forge.KindRepoBranch, e.DefaultBranch, ids(r.DefaultBranch.Heads())),
	); err != nil {
		return api.Repo{}, err
	}
	opens, err := whoOpensAction(e.WhoOpens)
	if err != nil {
		return api.Repo{}, err
	}
	acts = append(acts, opens...)
	if _, err := n.write(ctx, r.ID, acts...); err != nil {
		return api.Repo{}, err
	}
	return n.Repo(ctx, r.ID.String())
}

// SetMaintainer implements api.Service.
func (n *Node) SetMaintainer(ctx context.Context, repo, did string, add bool) (api.Repo, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return api.Repo{}, err
	}
	k, err := identity.ParseDID(did)
	if err != nil {
		return api.Repo{}, api.Errorf(api.CodeInvalid, "%q is not a did:key identity (did:key:z6Mk…)", did)
	}
	var a forge.Action
	if add {
		a, err = action(forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: k})
	} else {
		roles, rerr := n.store.RolesAt(r.ID)
		if rerr != nil {
			return api.Repo{}, internal(rerr)
		}
		if k == roles.Owner {
			return api.Repo{}, api.Errorf(api.CodeForbidden, "the repo owner cannot be removed as maintainer")
		}
		tags := roles.Tags(k)
		if len(tags) == 0 {
			return api.Repo{}, api.Errorf(api.CodeNotFound, "%s is not a maintainer of this repo", k.Short())
		}
		a, err = action(forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: k.DID(), Tags: tags})
	}
	if err != nil {
		return api.Repo{}, err
	}
	if _, err := n.write(ctx, r.ID, a); err != nil {
		return api.Repo{}, err
	}
	return n.Repo(ctx, r.ID.String())
}

// Activity implements api.Service: the newest ops of a repo first.
func (n *Node) Activity(ctx context.Context, repo string, limit int) ([]api.Activity, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	recent, err := n.store.RecentOps(r.ID, limit)
	if err != nil {
		return nil, internal(err)
	}
	p := n.people(r)
	rules := n.rules()
	out := []api.Activity{}
	for _, id := range recent {
		m, err := n.store.Meta(id)
		if err != nil {
			return nil, internal(err)
		}
		if rules.Blocked(m.Author) {
			continue
		}
		a := api.Activity{Op: id.String(), Kind: m.Kind, Author: p.person(m.Author), At: m.Clock.Time(), Accepted: m.Accepted, Reason: m.Reason}
		if !m.Object.IsZero() {
			a.Object = m.Object.String()
		}
		out = append(out, a)
	}
	return out, nil
}

// diskError is the api error for a write the disk refused, with the
// store's own message (what happened and that writes resume by
// themselves), or nil when err is not one.
func diskError(err error) error {
	var we *storage.WriteError
	if !errors.As(err, &we) {
		return nil
	}
	return api.Errorf(api.CodeWriteFailed, "%s", we.Error())
}
