package api

import "time"

// SearchQuery asks for the issues and patches whose title, body and
// comments hold every word of Query.
type SearchQuery struct {
	// Query is words and gh-style qualifiers: is:open|closed|merged|draft,
	// is:issue|patch, label:NAME, author:ALIAS|DID, repo:NAME. The last
	// word matches as a prefix unless the query ends in a space.
	Query string `json:"query"`
	// Repo limits the search to one repo (as -R takes it); "" searches
	// every repo here, unless Query has repo:.
	Repo string `json:"repo,omitempty"`
	// Limit bounds the results; 0: 30. At most MaxSearchLimit.
	Limit int `json:"limit,omitempty"`
}

// MaxSearchLimit bounds SearchQuery.Limit.
const MaxSearchLimit = 1000

// DefaultSearchLimit is the number of results when SearchQuery.Limit is 0.
const DefaultSearchLimit = 30

// SearchResult is one issue or patch a search found: title hits first,
// then the most recently updated.
type SearchResult struct {
	Repo     string    `json:"repo"` // full ID
	RepoName string    `json:"repo_name"`
	ID       string    `json:"id"`   // the or patch's full ID
	Type     string    `json:"type"` // issue | patch
	Title    string    `json:"title"`
	State    string    `json:"state"` // open | closed | merged | draft
	Author   Person    `json:"author"`
	Labels   []string  `json:"labels"`
	Match    string    `json:"match"`             // where a word matched: title | body | comment
	Comment  string    `json:"comment,omitempty"` // the matching comment's ID, for "comment"
	Snippet  string    `json:"snippet"`           // text around the hit, on one line
	Updated  time.Time `json:"updated"`
}
