package localapi

import (
	"net/url"
	"strings"
)

// Wire types of request bodies that are not api types. Field names are part
// of the v1 local API: add fields freely, never rename or remove one.

// identityRequest is the body of POST /v1/identity. Passphrase travels as
// standard base64 (encoding/json's []byte form) so that any bytes survive.
type identityRequest struct {
	Alias      string `json:"alias"`
	Passphrase []byte `json:"passphrase,omitempty"`
}

// aliasRequest is the body of PUT /v1/identity/alias.
type aliasRequest struct {
	Alias string `json:"alias"`
}

// maintainerRequest is the body of POST /v1/repos/{repo}/maintainers.
type maintainerRequest struct {
	DID string `json:"did"`
	Add bool   `json:"add"`
}

// refsRequest is the body of PUT /v1/repos/{repo}/refs: ref name to commit,
// "" deletes.
type refsRequest struct {
	Refs map[string]string `json:"refs"`
}

// commentEditRequest is the body of PATCH /v1/repos/{repo}/comments/{id}.
// Exactly one field is set.
type commentEditRequest struct {
	Body     *string `json:"body,omitempty"`
	Hidden   *bool   `json:"hidden,omitempty"`
	Resolved *bool   `json:"resolved,omitempty"`
}

// reactionRequest is the body of POST /v1/repos/{repo}/reactions.
type reactionRequest struct {
	Target string `json:"target"`
	Emoji  string `json:"emoji"`
	Remove bool   `json:"remove,omitempty"`
}

// followRequest is the body of POST /v1/follows.
type followRequest struct {
	Repo  string   `json:"repo"`
	Peers []string `json:"peers,omitempty"`
}

// emptySegment is the path segment that stands for an empty argument (the
// node's default repo). A literal "-" is sent escaped, as "%2D".
const emptySegment = "-"

// escapeSegment encodes one path argument so that any string, including
// "", ".", ".." and strings holding "/", reaches the handler unchanged:
// "" becomes "-", "-" becomes "%2D", dots-only segments are escaped so that
// path cleaning leaves them alone, and everything else is url.PathEscape'd.
func escapeSegment(s string) string {
	switch s {
	case "":
		return emptySegment
	case emptySegment:
		return "%2D"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// segmentIsEmpty reports whether the raw (still escaped) path segment that
// matched the wildcard name in pattern (a ServeMux pattern such as
// "GET /v1/repos/{repo}/issues") is the empty-argument marker.
func segmentIsEmpty(pattern, escapedPath, name string) bool {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	want := "{" + name + "}"
	psegs := strings.Split(pattern, "/")
	esegs := strings.Split(escapedPath, "/")
	for i, s := range psegs {
		if s == want {
			return i < len(esegs) && esegs[i] == emptySegment
		}
	}
	return false
}
