package node

import (
	"context"
	"errors"
	"path"
	"strings"

	"murmur/api"
	"murmur/forge"
	"murmur/gitstore"
	"murmur/op"
)

// revisionRefPrefix names the refs of patch revisions in a bare
// repository: refs/patches/<revision op ID> is the revision's commit.
// They keep every revision reachable, and so fetched by followers and
// served to peers, after the branch it came from has moved on or been
// rebased.
const revisionRefPrefix = "refs/patches/"

// revisionRefs adds the ref of every revision of repo's patches to want.
func (c *codeSide) revisionRefs(repo op.ID, want map[string]string) error {
	sums, err := c.n.store.ListSummaries(repo, forge.TypePatch, "", 0, nil)
	if err != nil {
		return err
	}
	for _, s := range sums {
		o, err := c.n.store.Object(s.ID)
		if err != nil {
			return err
		}
		for _, rev := range o.Revisions {
			if forge.IsCommit(rev.Commit) {
				want[revisionRefPrefix+rev.ID.String()] = rev.Commit
			}
		}
	}
	return nil
}

// baseRef is the full name of a patch's base: "main" is refs/heads/main.
func baseRef(base string) string {
	if base == "" || strings.HasPrefix(base, "refs/") {
		return base
	}
	return "refs/heads/" + base
}

// patchCommits checks, before a patch or revision is written, that the
// node holds its commit (and its base commit, when given), and fills in
// the base commit when it is not: the merge base of the commit and the
// repo's canonical base branch, when the node holds that. It refuses a
// commit that the base branch already contains.
func (n *Node) patchCommits(ctx context.Context, r *forge.Repo, base, commit, baseCommit string) (string, error) {
	if !forge.IsCommit(commit) || (baseCommit != "" && !forge.IsCommit(baseCommit)) {
		return baseCommit, nil // the forge refuses it with its reason
	}
	c := n.codes()
	if c.store == nil {
		return "", api.Errorf(api.CodeUnavailable, "this node cannot store code (%s), so it cannot hold the patch's commit; a patch names commits its author's node holds", c.status.Reason)
	}
	name := r.ID.String()
	want := []string{commit}
	if baseCommit != "" {
		want = append(want, baseCommit)
	}
	have, err := c.store.HasAll(ctx, name, want)
	if err != nil {
		return "", internal(err)
	}
	for _, w := range want {
		if !have[w] {
			return "", api.Errorf(api.CodeInvalid, "this node does not hold commit %s: push the branch first ('murmur patch open' and 'murmur patch update' in the working copy do that for you; so does 'murmur refs push')", w)
		}
	}
	tip, ok := r.Ref(baseRef(base))
	if !ok || !forge.IsCommit(tip) {
		return baseCommit, nil
	}
	if has, err := c.store.Has(ctx, name, tip); err != nil || !has {
		return baseCommit, nil
	}
	mb, err := c.store.MergeBase(ctx, name, commit, tip)
	if err != nil {
		return "", internal(err)
	}
	if mb == commit {
		return "", api.Errorf(api.CodeInvalid, "commit %s is already in %s: a patch proposes commits the base branch lacks", commit, baseRef(base))
	}
	if baseCommit == "" {
		baseCommit = mb
	}
	return baseCommit, nil
}

// revisionRange returns the commits a revision's diff compares: the
// merge base of its base commit and its head (the base commit itself
// when they share no history), else the merge base of the head and the
// canonical base branch unless that holds the head, else the head's
// first parent ("" for a root commit: the empty tree).
func (n *Node) revisionRange(ctx context.Context, r *forge.Repo, o *forge.Object, rev *forge.RevisionState) (from string, err error) {
	c := n.codes()
	name := r.ID.String()
	base := rev.BaseCommit
	if base == "" {
		b, _ := o.Base.Get()
		if tip, ok := r.Ref(baseRef(b)); ok && forge.IsCommit(tip) {
			if has, err := c.store.Has(ctx, name, tip); err == nil && has {
				base = tip
			}
		}
	}
	if base == "" {
		return c.store.FirstParent(ctx, name, rev.Commit)
	}
	mb, err := c.store.MergeBase(ctx, name, base, rev.Commit)
	switch {
	case err != nil || mb == "":
		return base, err
	case mb == rev.Commit && rev.BaseCommit == "":
		// Merged since: the base branch holds the head now.
		return c.store.FirstParent(ctx, name, rev.Commit)
	}
	return mb, nil
}

// revision returns revision num (1-based, 0: the latest) of patch o.
func revision(o *forge.Object, num int) (*forge.RevisionState, int, error) {
	revs := o.RevisionList()
	if num == 0 {
		num = len(revs)
	}
	if num < 1 || num > len(revs) {
		return nil, 0, api.Errorf(api.CodeInvalid, "patch %s has revisions 1 to %d, not %d", o.ID.Short(), len(revs), num)
	}
	return revs[num-1], num, nil
}

// needCode fails with CodeUnavailable, saying why, unless the node holds
// every commit of commits; what says what they are needed for.
func (n *Node) needCode(ctx context.Context, r *forge.Repo, what string, commits ...string) error {
	c := n.codes()
	if c.store == nil {
		return api.Errorf(api.CodeUnavailable, "this node cannot store code (%s), so it cannot %s", c.status.Reason, what)
	}
	var want []string
	for _, x := range commits {
		if x != "" {
			want = append(want, x)
		}
	}
	have, err := c.store.HasAll(ctx, r.ID.String(), dedupeStrings(want))
	if err != nil {
		return internal(err)
	}
	for _, x := range want {
		if !have[x] {
			return api.Errorf(api.CodeUnavailable, "cannot %s: commit %s is not on this node (%s)", what, x, c.missingReason(r.ID))
		}
	}
	return nil
}

// anchor places an inline comment on lines start to end (start when 0)
// of the file at p in revision num, after checking them against the
// revision's tree: p names a file at the revision's head, and the lines
// are within it.
func (n *Node) anchor(ctx context.Context, r *forge.Repo, rev *forge.RevisionState, num int, p string, start, end int) (*forge.Anchor, error) {
	if end == 0 {
		end = start
	}
	if start < 1 || end < start {
		return nil, api.Errorf(api.CodeInvalid, "line range %d-%d: lines start at 1 and the end is not before the start", start, end)
	}
	p = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
	if err := n.needCode(ctx, r, "check the lines of an inline comment", rev.Commit); err != nil {
		return nil, err
	}
	lines, err := n.codes().store.LineCount(ctx, r.ID.String(), rev.Commit, p)
	if errors.Is(err, gitstore.ErrNoPath) {
		return nil, api.Errorf(api.CodeInvalid, "%s is not a file in revision %d (commit %s): give a path from the top of the repository; 'murmur patch diff' lists the files the patch changes", p, num, rev.Commit[:12])
	} else if err != nil {
		return nil, internal(err)
	}
	if end > lines {
		return nil, api.Errorf(api.CodeInvalid, "%s has %d lines in revision %d, so lines %d-%d are past its end", p, lines, num, start, end)
	}
	return &forge.Anchor{Revision: rev.ID, Path: p, Start: uint32(start), End: uint32(end)}, nil
}

// PatchDiff implements api.Service.
func (n *Node) PatchDiff(ctx context.Context, repo, id string, q api.DiffQuery) (api.Diff, error) {
	r, o, err := n.object(repo, id, forge.TypePatch)
	if err != nil {
		return api.Diff{}, err
	}
	out := api.Diff{Patch: o.ID.String()}
	if q.From != 0 || q.To != 0 {
		if q.From == 0 {
			return api.Diff{}, api.Errorf(api.CodeInvalid, "give the revision to compare from with the one to compare to")
		}
		from, fromN, err := revision(o, q.From)
		if err != nil {
			return api.Diff{}, err
		}
		to, toN, err := revision(o, q.To)
		if err != nil {
			return api.Diff{}, err
		}
		out.From, out.Revision, out.Base, out.Head = fromN, toN, from.Commit, to.Commit
		if err := n.needCode(ctx, r, "show the change between revisions", out.Base, out.Head); err != nil {
			return api.Diff{}, err
		}
	} else {
		rev, num, err := revision(o, q.Revision)
		if err != nil {
			return api.Diff{}, err
		}
		out.Revision, out.Head = num, rev.Commit
		if err := n.needCode(ctx, r, "show the patch's diff", rev.Commit, rev.BaseCommit); err != nil {
			return api.Diff{}, err
		}
		if out.Base, err = n.revisionRange(ctx, r, o, rev); err != nil {
			return api.Diff{}, internal(err)
		}
	}
	d, err := n.codes().store.Diff(ctx, r.ID.String(), out.Base, out.Head, q.Stat)
	if err != nil {
		return api.Diff{}, internal(err)
	}
	out.Truncated = d.Truncated
	out.Files = make([]api.DiffFile, 0, len(d.Files))
	for _, f := range d.Files {
		out.Added += f.Added
		out.Deleted += f.Deleted
		out.Files = append(out.Files, diffFileView(f))
	}
	return out, nil
}

func diffFileView(f gitstore.FileDiff) api.DiffFile {
	v := api.DiffFile{Path: f.Path, OldPath: f.OldPath, Status: f.Status, Binary: f.Binary, Added: f.Added, Deleted: f.Deleted}
	for _, h := range f.Hunks {
		hv := api.DiffHunk{Header: h.Header, OldStart: h.OldStart, OldLines: h.OldLines, NewStart: h.NewStart, NewLines: h.NewLines,
			Lines: make([]api.DiffLine, len(h.Lines))}
		for i, l := range h.Lines {
			hv.Lines[i] = api.DiffLine{Kind: string(l.Kind), Old: l.Old, New: l.New, Text: l.Text}
		}
		v.Hunks = append(v.Hunks, hv)
	}
	return v
}
