package node

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"murmur/forge"
	"murmur/gitstore"
	"murmur/op"
)

// Merge detection. Once the object store mirrors a repo's refs, a node
// whose identity is a maintainer of the repo looks at its open and draft
// patches: a patch whose latest revision's head commit is reachable from
// the canonical base branch has been merged, whoever pushed it. The node
// closes the issues the patch names with "Fixes <id>" (in its description
// or the messages of its commits) as completed, then marks the patch
// merged, each with a signed op. Replicas that lack the objects agree by
// receiving the ops. Issues are closed before the patch is marked, so a
// pass cut short is finished by the next one; a patch already merged is
// not looked at again.

// fixesRE finds "Fixes", "Closes" or "Resolves" (any case, also the
// "fixed", "close" ... forms) followed by one or more issue ID prefixes,
// separated by commas, spaces or "and".
var fixesRE = regexp.MustCompile(`(?i)\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?)\b:?[ \t]+((?:#?[0-9a-f]{4,64}\b(?:[ \t]*(?:,|\band\b)?[ \t]*)?)+)`)

var hexRE = regexp.MustCompile(`(?i)[0-9a-f]{4,64}`)

// maxFixes bounds the issues one merged patch closes.
const maxFixes = 64

// FixesIn returns the issue ID prefixes that text names with "Fixes <id>",
// "Closes <id>" or "Resolves <id>", lowercased, in order, without repeats.
func FixesIn(text string) []string {
	var out []string
	for _, m := range fixesRE.FindAllStringSubmatch(text, -1) {
		for _, id := range hexRE.FindAllString(m[1], -1) {
			id = strings.ToLower(id)
			if !containsString(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

func containsString(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// detectMerges marks merged the open and draft patches of repo whose head
// the canonical base branch reaches, and closes the issues they fix, when
// this node's identity is a maintainer of repo. The bare repository must
// mirror the repo's refs (syncRefs found nothing lacking).
func (c *codeSide) detectMerges(ctx context.Context, repo op.ID) error {
	n := c.n
	if c.store == nil {
		return nil
	}
	key, err := n.signer()
	if err != nil {
		return nil // no usable identity: nobody to sign as
	}
	roles, err := n.store.RolesAt(repo)
	if err != nil {
		return err
	}
	if !roles.IsMaintainer(key.Public()) {
		return nil
	}
	c.detecting.Lock()
	defer c.detecting.Unlock()
	r, err := n.store.Repo(repo)
	if err != nil {
		return err
	}
	if len(r.RefNames()) == 0 {
		return nil // no branch to merge into
	}
	var sums []forge.Summary
	for _, st := range []string{forge.StateOpen, forge.StateDraft} {
		s, err := n.store.ListSummaries(repo, forge.TypePatch, st, 0, nil)
		if err != nil {
			return err
		}
		sums = append(sums, s...)
	}
	for _, s := range sums {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.detectMerge(ctx, r, s.ID); err != nil {
			n.log.Warn("merge detection", "repo", repo.Short(), "patch", s.ID.Short(), "err", err)
		}
	}
	return nil
}

// unmergedLocked reports whether patch id was last found not merged at
// the same head and canonical base, so git need not be asked again.
// c.detecting must be held.
func (c *codeSide) unmergedLocked(id op.ID, key string) bool {
	return c.unmerged[id] == key
}

// detectMerge looks at one patch. c.detecting must be held.
func (c *codeSide) detectMerge(ctx context.Context, r *forge.Repo, id op.ID) error {
	n := c.n
	o, err := n.store.Object(id)
	if err != nil {
		return err
	}
	if st := o.CurrentState().State; st != forge.StateOpen && st != forge.StateDraft {
		return nil
	}
	revs := o.RevisionList()
	if len(revs) == 0 {
		return nil
	}
	rev := revs[len(revs)-1]
	base, _ := o.Base.Get()
	canonical, ok := r.Ref(baseRef(base))
	if !ok {
		return nil
	}
	name := r.ID.String()
	key := rev.Commit + " " + canonical
	if c.unmergedLocked(id, key) {
		return nil
	}
	merged, err := c.store.IsAncestor(ctx, name, rev.Commit, canonical)
	if errors.Is(err, gitstore.ErrMissing) || errors.Is(err, gitstore.ErrNoRepo) {
		return nil // the objects are not here (yet); a node that has them decides
	}
	if err != nil {
		return err
	}
	if !merged {
		c.unmerged[id] = key
		return nil
	}
	delete(c.unmerged, id)
	text, _ := o.Body.Get()
	from := ""
	if rev.BaseCommit != "" {
		if have, err := c.store.HasAll(ctx, name, []string{rev.BaseCommit}); err == nil && have[rev.BaseCommit] {
			from = rev.BaseCommit
		}
	}
	var msgs []string
	if from != "" {
		msgs, err = c.store.Messages(ctx, name, from, rev.Commit)
	} else {
		// Without a known base, only the head commit is the patch's own.
		msgs, err = c.store.Messages(ctx, name, "", rev.Commit)
		msgs = msgs[:min(len(msgs), 1)]
	}
	if err != nil {
		return err
	}
	var acts []forge.Action
	fixes := FixesIn(strings.Join(append(msgs, text), "\n"))
	for _, prefix := range fixes[:min(len(fixes), maxFixes)] {
		iid, _, err := n.resolveOp(r.ID, prefix, "issue", forge.KindIssueOpen)
		if err != nil {
			continue // not an issue of this repo, or ambiguous: named in passing
		}
		issue, err := n.store.Object(iid)
		if err != nil {
			return err
		}
		if issue.CurrentState().State != forge.StateOpen {
			continue
		}
		a, err := action(forge.KindState, iid, forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted, Prev: ids(issue.State.Heads())})
		if err != nil {
			return err
		}
		acts = append(acts, a)
	}
	a, err := action(forge.KindState, o.ID, forge.StateSet{State: forge.StateMerged, Prev: ids(o.State.Heads())})
	if err != nil {
		return err
	}
	if _, err := n.write(ctx, r.ID, append(acts, a)...); err != nil {
		return err
	}
	n.log.Info("patch merged", "repo", r.ID.Short(), "patch", o.ID.Short(), "commit", rev.Commit, "base", baseRef(base), "closed issues", len(acts))
	return nil
}
