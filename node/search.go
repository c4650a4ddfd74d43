package node

import (
	"context"
	"slices"
	"strings"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/search"
	"murmur/storage"
)

// snippetWidth is about the runes of text a search result shows.
const snippetWidth = 80

// Search implements api.Service.
func (n *Node) Search(ctx context.Context, sq api.SearchQuery) ([]api.SearchResult, error) {
	limit := sq.Limit
	switch {
	case limit < 0 || limit > api.MaxSearchLimit:
		return nil, api.Errorf(api.CodeInvalid, "limit %d: use 1 to %d, or 0 for %d", limit, api.MaxSearchLimit, api.DefaultSearchLimit)
	case limit == 0:
		limit = api.DefaultSearchLimit
	}
	q, err := search.Parse(sq.Query)
	if err != nil {
		return nil, api.Errorf(api.CodeInvalid, "%s", strings.TrimPrefix(err.Error(), "search: "))
	}
	repoArg := strings.TrimSpace(sq.Repo)
	if q.Repo != "" {
		if repoArg != "" && repoArg != q.Repo {
			return nil, api.Errorf(api.CodeInvalid, "the query says repo:%s and -R says %s; give one", q.Repo, repoArg)
		}
		repoArg = q.Repo
	}
	var repo op.ID
	if repoArg != "" {
		if repo, err = n.resolveRepo(repoArg); err != nil {
			return nil, err
		}
	}
	repos := map[op.ID]*forge.Repo{}
	loadRepo := func(id op.ID) (*forge.Repo, error) {
		if r, ok := repos[id]; ok {
			return r, nil
		}
		r, err := n.store.Repo(id)
		if err != nil {
			return nil, err
		}
		repos[id] = r
		return r, nil
	}
	// Authors are aliases of a repo, so they are resolved per repo.
	authors := map[op.ID][]identity.PublicKey{}
	authorsOf := func(id op.ID) []identity.PublicKey {
		ks, ok := authors[id]
		if ok {
			return ks
		}
		r, err := loadRepo(id)
		if err != nil {
			r = nil
		}
		for _, a := range q.Authors {
			if k, err := n.parseKey(r, a); err == nil {
				ks = append(ks, k)
			}
		}
		authors[id] = ks
		return ks
	}
	keep := func(s *forge.Summary) bool {
		if len(q.States) > 0 && !slices.Contains(q.States, s.State) {
			return false
		}
		if len(q.Types) > 0 && !slices.Contains(q.Types, string(s.Type)) {
			return false
		}
		for _, l := range q.Labels {
			if !s.MatchesLabel(l) {
				return false
			}
		}
		return len(q.Authors) == 0 || slices.Contains(authorsOf(s.Repo), s.Author)
	}
	hits, err := n.store.Search(q.Terms, q.Prefix, repo, keep, limit)
	if err != nil {
		return nil, internal(err)
	}
	if len(q.Authors) > 0 && len(hits) == 0 && !n.authorKnown(q.Authors, repo) {
		return nil, api.Errorf(api.CodeInvalid, "author:%s is not a did:key identity or an alias known here", q.Authors[0])
	}
	out := make([]api.SearchResult, 0, len(hits))
	for _, h := range hits {
		r, err := loadRepo(h.Summary.Repo)
		if err != nil {
			return nil, internal(err)
		}
		res, err := n.searchResult(r, q, h)
		if err != nil {
			return nil, internal(err)
		}
		out = append(out, res)
	}
	return out, nil
}

// searchResult makes the result of one hit, with a snippet of the body
// when a word matched it, else of the first matching comment, else of
// the title.
func (n *Node) searchResult(r *forge.Repo, q search.Query, h storage.SearchHit) (api.SearchResult, error) {
	s := h.Summary
	name, _ := r.Name.Get()
	out := api.SearchResult{
		Repo: s.Repo.String(), RepoName: name, ID: s.ID.String(), Type: string(s.Type),
		Title: s.Title, State: s.State, Author: n.people(r).person(s.Author),
		Labels: nonNil(s.Labels), Updated: s.Updated.Time(),
	}
	switch {
	case h.Title:
		out.Match = "title"
	case h.Body:
		out.Match = "body"
	default:
		out.Match = "comment"
	}
	if !h.Comment.IsZero() {
		out.Comment = h.Comment.String()
	}
	switch {
	case h.Body:
		o, err := n.store.Object(s.ID)
		if err != nil {
			return out, err
		}
		body, _ := o.Body.Get()
		out.Snippet = search.Snippet(body, q, snippetWidth)
	case !h.Comment.IsZero():
		c, err := n.store.Comment(h.Comment)
		if err != nil {
			return out, err
		}
		body, _ := c.Body.Get()
		out.Snippet = search.Snippet(body, q, snippetWidth)
	}
	if out.Snippet == "" {
		out.Snippet = search.Snippet(s.Title, q, snippetWidth)
	}
	return out, nil
}

// authorKnown reports whether one of the author qualifiers names someone
// in repo (every repo when zero), so that a misspelt alias is an error
// rather than an empty result.
func (n *Node) authorKnown(authors []string, repo op.ID) bool {
	rs, err := n.store.Repos()
	if err != nil {
		return true
	}
	for _, a := range authors {
		if _, err := n.parseKey(nil, a); err == nil {
			return true
		}
		for _, r := range rs {
			if !repo.IsZero() && r.ID != repo {
				continue
			}
			if _, err := n.parseKey(r, a); err == nil {
				return true
			}
		}
	}
	return false
}
