package node

import (
	"maps"
	"slices"
	"sort"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// people resolves keys to api.Person with the aliases known in a repo.
type people struct {
	repo  *forge.Repo
	self  identity.PublicKey
	alias string // local alias, for self when the repo has none yet
}

func (n *Node) people(repo *forge.Repo) people {
	p := people{repo: repo, alias: n.localAlias()}
	n.mu.Lock()
	if n.key != nil {
		p.self = n.key.Public()
	}
	n.mu.Unlock()
	return p
}

func (p people) person(k identity.PublicKey) api.Person {
	out := api.Person{ID: k.DID(), Short: k.Short()}
	if p.repo != nil {
		out.Alias = p.repo.Alias(k)
	}
	if out.Alias == "" && k == p.self {
		out.Alias = p.alias
	}
	return out
}

func (p people) persons(ks []identity.PublicKey) []api.Person {
	out := make([]api.Person, 0, len(ks))
	for _, k := range ks {
		out = append(out, p.person(k))
	}
	return out
}

func ids(xs []crdt.ID) []op.ID {
	if len(xs) == 0 {
		return nil
	}
	out := make([]op.ID, len(xs))
	for i, x := range xs {
		out[i] = op.ID(x)
	}
	return out
}

func conflicts[V any](p people, r *crdt.LWW[V], show func(V) string) []api.Conflict {
	var out []api.Conflict
	for _, w := range r.Concurrent() {
		out = append(out, api.Conflict{Value: show(w.Value), Author: p.person(identity.PublicKey(w.Author)), At: w.Clock.Time()})
	}
	return out
}

func str(s string) string { return s }

func (n *Node) repoView(r *forge.Repo, roles *forge.Roles) api.Repo {
	p := n.people(r)
	name, _ := r.Name.Get()
	desc, _ := r.Description.Get()
	branch, _ := r.DefaultBranch.Get()
	out := api.Repo{
		ID:            r.ID.String(),
		Name:          name,
		Description:   desc,
		DefaultBranch: branch,
		Owner:         p.person(r.Owner),
		Created:       r.Created.Time(),
		Updated:       r.Updated.Time(),
		Following:     n.rep.Follows(r.ID),
		GitDir:        n.codes().gitDir(r.ID),
	}
	if roles != nil {
		out.Maintainers = p.persons(roles.Maintainers())
		moderationView(p, roles, &out)
	}
	out.Conflicts = append(conflicts(p, &r.Name, str), conflicts(p, &r.Description, str)...)
	out.OpenIssues, _ = n.store.CountObjects(r.ID, forge.TypeIssue, forge.StateOpen)
	out.OpenPatches, _ = n.store.CountObjects(r.ID, forge.TypePatch, forge.StateOpen)
	out.Ops, _ = n.store.OpCount(r.ID)
	return out
}

func (n *Node) refsView(r *forge.Repo) []api.Ref {
	p := n.people(r)
	out := []api.Ref{}
	for _, name := range slices.Sorted(maps.Keys(r.Refs)) {
		c, _ := r.Refs[name].Get()
		cs := conflicts(p, r.Refs[name], str)
		if c == "" && !slices.ContainsFunc(cs, func(x api.Conflict) bool { return x.Value != "" }) {
			continue // deleted, or never set; a deletion that won over a concurrent update stays listed
		}
		ref := api.Ref{Name: name, Commit: c, Conflicts: cs, Forced: r.RefForced(name)}
		if k, ok := forge.NamespaceOwner(name); ok {
			owner := p.person(k)
			ref.Namespace, ref.Owner = k.DID(), &owner
		}
		out = append(out, ref)
	}
	return out
}

func reactions(p people, s *crdt.ORSet[string]) []api.Reaction {
	by := map[string][]api.Person{}
	var order []string
	for _, r := range forge.Reactions(s) {
		if _, ok := by[r.Emoji]; !ok {
			order = append(order, r.Emoji)
		}
		by[r.Emoji] = append(by[r.Emoji], p.person(r.Author))
	}
	sort.Strings(order)
	out := []api.Reaction{}
	for _, e := range order {
		out = append(out, api.Reaction{Emoji: e, Authors: by[e]})
	}
	return out
}

func summaryIssue(p people, s forge.Summary) api.IssueSummary {
	return api.IssueSummary{
		ID:        s.ID.String(),
		Repo:      s.Repo.String(),
		Title:     s.Title,
		State:     s.State,
		Reason:    s.Reason,
		Author:    p.person(s.Author),
		Labels:    nonNil(s.Labels),
		Assignees: p.persons(s.Assignees),
		Comments:  s.Comments,
		Created:   s.Created.Time(),
		Updated:   s.Updated.Time(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (n *Node) commentsView(p people, o *forge.Object) []api.Comment {
	revs := map[op.ID]*forge.RevisionState{}
	num := map[op.ID]int{}
	for i, r := range o.RevisionList() {
		revs[r.ID] = r
		num[r.ID] = i + 1
	}
	out := []api.Comment{}
	for _, c := range n.hideComments(o.CommentList()) {
		out = append(out, commentView(p, c, revs, num))
	}
	return out
}

func commentView(p people, c *forge.Comment, revs map[op.ID]*forge.RevisionState, num map[op.ID]int) api.Comment {
	body, _ := c.Body.Get()
	hidden, _ := c.Hidden.Get()
	resolved, _ := c.Resolved.Get()
	out := api.Comment{
		ID:        c.ID.String(),
		Author:    p.person(c.Author),
		Body:      body,
		Created:   c.Created.Time(),
		Edits:     c.Body.Len() - 1,
		Hidden:    hidden,
		Resolved:  resolved,
		Reactions: reactions(p, &c.Reactions),
		Conflicts: conflicts(p, &c.Body, str),
	}
	out.Edited = out.Edits > 0
	if !c.ReplyTo.IsZero() {
		out.ReplyTo = c.ReplyTo.String()
	}
	if a := c.Anchor; a != nil {
		an := &api.Anchor{Revision: a.Revision.String(), RevNumber: num[a.Revision], Path: a.Path, Start: int(a.Start), End: int(a.End)}
		if r := revs[a.Revision]; r != nil {
			an.Commit = r.Commit
		}
		out.Anchor = an
	}
	return out
}

func stateShow(s forge.State) string {
	if s.Reason != "" {
		return s.State + " (" + s.Reason + ")"
	}
	return s.State
}

func (n *Node) issueView(r *forge.Repo, o *forge.Object) api.Issue {
	p := n.people(r)
	body, _ := o.Body.Get()
	out := api.Issue{
		IssueSummary: summaryIssue(p, o.Summary()),
		Body:         body,
		Reactions:    reactions(p, &o.Reactions),
		Comments:     n.commentsView(p, o),
	}
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.Title, str)...)
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.Body, str)...)
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.State, stateShow)...)
	out.Locked = n.locked(r.ID, o.ID)
	return out
}

func summaryPatch(p people, s forge.Summary, base string) api.PatchSummary {
	return api.PatchSummary{
		ID:        s.ID.String(),
		Repo:      s.Repo.String(),
		Title:     s.Title,
		State:     s.State,
		Author:    p.person(s.Author),
		Base:      base,
		Labels:    nonNil(s.Labels),
		Assignees: p.persons(s.Assignees),
		Revisions: s.Revisions,
		Comments:  s.Comments,
		Created:   s.Created.Time(),
		Updated:   s.Updated.Time(),
	}
}

func (n *Node) patchView(r *forge.Repo, o *forge.Object) api.Patch {
	p := n.people(r)
	body, _ := o.Body.Get()
	base, _ := o.Base.Get()
	out := api.Patch{
		PatchSummary: summaryPatch(p, o.Summary(), base),
		Description:  body,
		Reviewers:    p.persons(o.ReviewerKeys()),
		Reactions:    reactions(p, &o.Reactions),
		Comments:     n.commentsView(p, o),
		Revisions:    []api.Revision{},
		Reviews:      []api.Review{},
	}
	num := map[op.ID]int{}
	for i, rv := range o.RevisionList() {
		num[rv.ID] = i + 1
		out.Revisions = append(out.Revisions, api.Revision{
			ID: rv.ID.String(), Number: i + 1, Commit: rv.Commit, BaseCommit: rv.BaseCommit,
			Note: rv.Note, Author: p.person(rv.Author), Created: rv.Created.Time(),
		})
	}
	for _, rs := range o.ReviewList() {
		w, ok := rs.Verdict.Winner()
		if !ok {
			continue
		}
		out.Reviews = append(out.Reviews, api.Review{
			Reviewer: p.person(rs.Reviewer), Revision: rs.Revision.String(), RevNumber: num[rs.Revision],
			Verdict: w.Value.Verdict, Summary: w.Value.Summary, At: w.Clock.Time(),
		})
	}
	for _, cs := range o.CheckList() {
		w, ok := cs.Status.Winner()
		if !ok {
			continue
		}
		out.Checks = append(out.Checks, api.Check{
			Revision: cs.Revision.String(), RevNumber: num[cs.Revision], Name: cs.Name,
			State: w.Value.State, URL: w.Value.URL, Summary: w.Value.Summary,
			Reporter: p.person(cs.Reporter), At: w.Clock.Time(),
		})
	}
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.Title, str)...)
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.Body, str)...)
	out.Conflicts = append(out.Conflicts, conflicts(p, &o.State, stateShow)...)
	out.Locked = n.locked(r.ID, o.ID)
	return out
}
