package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/gitstore"
	"murmur/identity"
	"murmur/op"
)

// Refs implements api.Service.
func (n *Node) Refs(ctx context.Context, repo string) ([]api.Ref, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	refs := n.refsView(r)
	n.codes().objects(ctx, r.ID, refs)
	return refs, nil
}

// SetRefs implements api.Service. Names are taken as they are: a ref in
// the user's own namespace needs no maintainer, another participant's
// namespace is refused, and every other ref needs a maintainer. It
// checks no fast-forward (the commits need not be here), but records an
// update as forced when the node holds both commits and the new one does
// not descend from the old, and a deletion always.
func (n *Node) SetRefs(ctx context.Context, repo string, refs map[string]string) ([]api.Ref, error) {
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	u, err := n.refUpdates(ctx, r, refRequest{refs: refs, namespace: namespaceExact})
	if err != nil {
		return nil, err
	}
	if err := n.writeRefs(ctx, r, u); err != nil {
		return nil, err
	}
	return n.Refs(ctx, r.ID.String())
}

// PushRefs implements api.Service.
func (n *Node) PushRefs(ctx context.Context, repo string, p api.RefPush) ([]api.Ref, error) {
	c := n.codes()
	r, err := n.loadRepo(repo)
	if err != nil {
		return nil, err
	}
	if c.store == nil {
		return nil, api.Errorf(api.CodeUnavailable, "this node cannot store code (%s); publish the refs without their commits with 'murmur refs set'", c.status.Reason)
	}
	if !filepath.IsAbs(p.Dir) {
		return nil, api.Errorf(api.CodeInvalid, "the working copy %q is not an absolute path", p.Dir)
	}
	var commits []string
	for name, commit := range p.Refs {
		commit = strings.ToLower(commit)
		if commit == "" {
			continue
		}
		if !forge.IsCommit(commit) {
			return nil, api.Errorf(api.CodeInvalid, "%q for %s is not a full commit hash (40 or 64 hex digits)", commit, name)
		}
		commits = append(commits, commit)
	}
	// Names and rights first: nothing is copied for a push that would be
	// refused anyway.
	if _, err := n.refUpdates(ctx, r, refRequest{refs: p.Refs, namespace: p.Namespace}); err != nil {
		return nil, err
	}
	if err := c.store.Import(ctx, r.ID.String(), p.Dir, dedupeStrings(commits)); err != nil {
		return nil, api.Errorf(api.CodeInvalid, "cannot copy the commits from %s into this node's store: %s", p.Dir, strings.TrimPrefix(err.Error(), "gitstore: "))
	}
	u, err := n.refUpdates(ctx, r, refRequest{refs: p.Refs, namespace: p.Namespace, strict: true, force: p.Force})
	if err != nil {
		return nil, err
	}
	if err := n.writeRefs(ctx, r, u); err != nil {
		return nil, err
	}
	if lacking, err := c.syncRefs(ctx, r.ID); err != nil {
		n.log.Warn("mirror refs into the object store", "repo", r.ID.Short(), "err", err)
	} else if len(lacking) == 0 {
		if err := c.detectMerges(ctx, r.ID); err != nil {
			n.log.Warn("merge detection", "repo", r.ID.Short(), "err", err)
		}
	}
	return n.Refs(ctx, r.ID.String())
}

// refRequest is a ref update a user asked for.
type refRequest struct {
	refs map[string]string // full names → commit, "" deletes
	// namespace is one of api.Namespace*, or namespaceExact (SetRefs):
	// with NamespaceOwn, or NamespaceAuto for a non-maintainer, a name
	// outside refs/namespaces/ goes into the user's own namespace; names
	// already in a namespace stay as they are.
	namespace string
	// strict refuses (CodeConflict) an update that is not a fast-forward
	// of every current value of the ref (the winner and any concurrent
	// ones), or over a value whose commits are not here, unless force is
	// set (the op is then marked forced). Otherwise ancestry is checked
	// only where both commits are here, and only to mark the op forced.
	strict, force bool
}

// namespaceExact takes ref names as they are (SetRefs).
const namespaceExact = "\x00exact"

// refUpdates turns the refs a user asked for into ref.set actions, or
// says why not, before anything is written, so a push is refused whole.
// Refs already at their value with no conflict are left out; deletions
// are forced by nature.
func (n *Node) refUpdates(ctx context.Context, r *forge.Repo, q refRequest) ([]forge.Action, error) {
	key, err := n.signer()
	if err != nil {
		return nil, err
	}
	me := key.Public()
	roles, err := n.store.RolesAt(r.ID)
	if err != nil {
		return nil, internal(err)
	}
	maint := roles.IsMaintainer(me)
	own := false
	switch q.namespace {
	case namespaceExact:
	case api.NamespaceAuto:
		own = !maint
	case api.NamespaceOwn:
		own = true
	case api.NamespaceCanonical:
		if !maint {
			return nil, api.Errorf(api.CodeForbidden, "only maintainers can set the repo's canonical refs, and you (%s) are not one of this repo; push to your own namespace instead (murmur refs push --own), or ask a maintainer to add you with 'murmur repo maintainer add %s'", me.Short(), me.DID())
		}
	default:
		return nil, api.Errorf(api.CodeInvalid, "namespace %q: use %q, %q or empty for automatic", q.namespace, api.NamespaceOwn, api.NamespaceCanonical)
	}
	var out []forge.Action
	var refused []string
	for _, asked := range slices.Sorted(maps.Keys(q.refs)) {
		commit := strings.ToLower(q.refs[asked])
		if commit != "" && !forge.IsCommit(commit) {
			return nil, api.Errorf(api.CodeInvalid, "%q for %s is not a full commit hash (40 or 64 hex digits)", q.refs[asked], asked)
		}
		name := asked
		if _, _, ok := forge.SplitNamespace(name); !ok && own {
			name = forge.NamespacePrefix + forge.NamespaceToken(me) + "/" + name
		}
		if err := n.refAllowed(name, me, maint); err != nil {
			return nil, err
		}
		l := r.Refs[name]
		heads := l.Heads()
		if cur, ok := r.Ref(name); ok && cur == commit && len(heads) == 1 {
			continue
		}
		if commit == "" && len(heads) == 0 {
			continue // nothing to delete
		}
		b := forge.RefSet{Name: name, Commit: commit, Prev: ids(heads), Force: commit == "" && len(heads) > 0}
		if commit != "" {
			notFF, unknown, err := n.fastForward(ctx, r.ID, refValues(l), commit)
			if err != nil {
				return nil, err
			}
			switch {
			case notFF != "":
				b.Force = true
				if q.strict && !q.force {
					refused = append(refused, fmt.Sprintf("%s: %s → %s is not a fast-forward", name, shortCommit(notFF), shortCommit(commit)))
				}
			case unknown != "" && q.strict:
				// A forced push over a value it cannot check says it
				// may not be a fast-forward.
				b.Force = true
				if !q.force {
					return nil, api.Errorf(api.CodeConflict, "%s points at %s, whose commits this node has not fetched yet, so it cannot tell whether %s is a fast-forward; wait until 'murmur refs list' shows its objects present, or push with --force; nothing was pushed", name, shortCommit(unknown), shortCommit(commit))
				}
			}
		}
		a, err := action(forge.KindRefSet, op.ID{}, b)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(refused) > 0 {
		return nil, api.Errorf(api.CodeConflict, "%s; fetch and merge it, or push with --force; nothing was pushed", strings.Join(refused, "; "))
	}
	return out, nil
}

// refAllowed says whether the user me (a maintainer or not) may set ref
// name, as the forge will decide.
func (n *Node) refAllowed(name string, me identity.PublicKey, maint bool) error {
	if _, _, ok := forge.SplitNamespace(name); ok {
		owner, ok := forge.NamespaceOwner(name)
		if !ok {
			return api.Errorf(api.CodeInvalid, "%s: the namespace is not a participant's key; your own refs go under %s%s/", name, forge.NamespacePrefix, forge.NamespaceToken(me))
		}
		if owner != me {
			return api.Errorf(api.CodeForbidden, "%s is in %s's namespace; only its owner can set it (yours is %s%s/)", name, owner.Short(), forge.NamespacePrefix, forge.NamespaceToken(me))
		}
		return nil
	}
	if !maint {
		return api.Errorf(api.CodeForbidden, "only maintainers can set the repo's canonical refs such as %s, and you (%s) are not one of this repo; push to your own namespace instead (murmur refs push --own), or ask a maintainer to add you with 'murmur repo maintainer add %s'", name, me.Short(), me.DID())
	}
	return nil
}

// fastForward checks whether commit descends from every current value
// of a ref: it returns a value it does not descend from (notFF), or else
// a value whose commits are not in the object store, so that it cannot
// tell (unknown); both "" for a fast-forward.
func (n *Node) fastForward(ctx context.Context, repo op.ID, values []string, commit string) (notFF, unknown string, err error) {
	c := n.codes()
	for _, v := range values {
		if v == "" || v == commit {
			continue
		}
		if c.store == nil {
			unknown = v
			continue
		}
		ok, err := c.store.IsAncestor(ctx, repo.String(), v, commit)
		switch {
		case errors.Is(err, gitstore.ErrMissing) || errors.Is(err, gitstore.ErrNoRepo):
			unknown = v
		case err != nil:
			return "", "", internal(err)
		case !ok:
			return v, "", nil
		}
	}
	return "", unknown, nil
}

// writeRefs signs one ref.set op per update, in one batch: all of them
// are stored or none. Everything was checked before, so the forge
// accepts them all.
func (n *Node) writeRefs(ctx context.Context, r *forge.Repo, acts []forge.Action) error {
	_, err := n.write(ctx, r.ID, acts...)
	return err
}

// refValues returns the current values of a ref register: the winner's
// and the concurrent ones.
func refValues(l *crdt.LWW[string]) []string {
	w, ok := l.Winner()
	if !ok {
		return nil
	}
	out := []string{w.Value}
	for _, c := range l.Concurrent() {
		out = append(out, c.Value)
	}
	return out
}

func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}
