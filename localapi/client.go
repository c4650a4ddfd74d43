package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"murmur/api"
)

// Client bounds.
const (
	// maxResponseBytes bounds a JSON answer (a list of 10k issues is a few
	// MB).
	maxResponseBytes = 256 << 20
	// maxErrorBytes bounds an error answer.
	maxErrorBytes = 1 << 20
	// maxEventBytes bounds one event of the event stream.
	maxEventBytes = 1 << 20
	// eventBuffer is the capacity of the channel Events returns.
	eventBuffer = 64
)

// baseURL is the URL of every request; the host is never resolved, the
// dial function decides where the connection goes.
const baseURL = "http://murmur/"

// ErrClientClosed is returned by requests made after Client.Close.
var ErrClientClosed = errors.New("localapi: client closed")

// Client is an api.Service that talks to a node's local API over HTTP. It
// is safe for concurrent use. Errors the node returned are *api.Error
// values, so api.ErrorCode works as it does on the node; failures to reach
// the node are wrapped errors ("localapi: GET /v1/status: …") that keep the
// cause (errors.Is(err, context.Canceled) works).
type Client struct {
	hc *http.Client
	tr *http.Transport

	// mu guards dial and closed.
	mu     sync.Mutex
	dial   func(context.Context) (net.Conn, error)
	closed bool

	// reconnect, when set (by Attach, before the Client is shared), is
	// called when a request failed because the server went away; it
	// returns the dial function of a new server. reMu serializes calls;
	// gen counts successful reconnects.
	reconnect func(context.Context) (func(context.Context) (net.Conn, error), error)
	reMu      sync.Mutex
	gen       atomic.Uint64
}

var _ api.Service = (*Client)(nil)

// NewClient returns a Client whose connections come from dial: DialSocket
// for a node's Unix socket, PipeListener.Dial for a node in this process.
func NewClient(dial func(ctx context.Context) (net.Conn, error)) *Client {
	c := &Client{dial: dial}
	c.tr = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.dialConn(ctx)
		},
		DisableCompression: true,
		// One connection per request. A kept-alive connection to another
		// process's embedded node is closed when that process exits, and
		// a write sent on it then fails after it may have been read; a
		// fresh connection either reaches a live server or fails to
		// connect, which is safe to retry. Dialing a Unix socket or an
		// in-memory pipe costs microseconds.
		DisableKeepAlives: true,
	}
	c.hc = &http.Client{
		Transport: c.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// DialSocket returns a dial function for NewClient that connects to the
// Unix socket at path.
func DialSocket(path string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// Close makes every later request fail with ErrClientClosed and closes idle
// connections. Requests in flight finish. It does not stop the node.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.tr.CloseIdleConnections()
	return nil
}

// dialError marks a failure to connect: the request was never sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (c *Client) dialConn(ctx context.Context) (net.Conn, error) {
	c.mu.Lock()
	dial, closed := c.dial, c.closed
	c.mu.Unlock()
	if closed {
		return nil, &dialError{ErrClientClosed}
	}
	conn, err := dial(ctx)
	if err != nil {
		return nil, &dialError{err}
	}
	return conn, nil
}

// shouldReconnect reports whether a request that failed with err may be
// retried on a new server: when the connection could not be made because
// nothing listens any more (the request was never sent), or, for a GET,
// when the connection broke before any answer.
func (c *Client) shouldReconnect(method string, err error) bool {
	if c.reconnect == nil {
		return false
	}
	var de *dialError
	if errors.As(err, &de) {
		return errors.Is(de.err, syscall.ECONNREFUSED) || errors.Is(de.err, syscall.ENOENT)
	}
	if method != http.MethodGet {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// redial replaces the dial function through reconnect, unless another
// request already did since generation gen.
func (c *Client) redial(ctx context.Context, gen uint64) error {
	c.reMu.Lock()
	defer c.reMu.Unlock()
	if c.gen.Load() != gen {
		return nil
	}
	dial, err := c.reconnect(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.dial = dial
	c.mu.Unlock()
	c.gen.Add(1)
	c.tr.CloseIdleConnections()
	return nil
}

// maxDialRetries bounds how often a request that could not connect is
// retried on a newly attached node.
const maxDialRetries = 5

// send makes one request, retrying once on a new server when the old one
// went away (see shouldReconnect), and returns a 2xx response whose body
// the caller closes. Non-2xx answers become *api.Error.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("localapi: %s /%s: encode request: %w", method, path, err)
		}
		if _, secret := in.(identityRequest); secret {
			defer clear(body)
		}
		// A server answers an oversize body before reading it all and
		// closes the connection, so the answer could be lost while the
		// body is still being written: refuse it here instead.
		if len(body) > DefaultMaxBodyBytes {
			return nil, api.Errorf(api.CodeInvalid, "the request is %d bytes, more than the %d bytes the node accepts; shorten the text", len(body), DefaultMaxBodyBytes)
		}
	}
	for attempt := 0; ; attempt++ {
		gen := c.gen.Load()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, baseURL+path, rd)
		if err != nil {
			return nil, fmt.Errorf("localapi: %s /%s: %w", method, path, err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "murmur-localapi/"+APIVersion)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err == nil {
			if err := checkResponse(resp); err != nil {
				resp.Body.Close()
				return nil, err
			}
			return resp, nil
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		// A request that could not connect was never sent and may be
		// retried a few times: the process that answered last may itself
		// be exiting. A broken GET is retried once.
		var de0 *dialError
		retries := 1
		if errors.As(err, &de0) {
			retries = maxDialRetries
		}
		if attempt < retries && ctx.Err() == nil && c.shouldReconnect(method, err) {
			rerr := c.redial(ctx, gen)
			if rerr == nil {
				continue
			}
			return nil, fmt.Errorf("localapi: %s /%s: %w (reconnecting failed: %w)", method, path, err, rerr)
		}
		var de *dialError
		if method != http.MethodGet && ctx.Err() == nil && !errors.As(err, &de) {
			return nil, fmt.Errorf("localapi: %s /%s: the connection to the node broke before its answer; the change may or may not have been made: %w", method, path, err)
		}
		return nil, fmt.Errorf("localapi: %s /%s: %w", method, path, err)
	}
}

// checkResponse verifies that resp comes from a v1 local API and turns a
// non-2xx answer into an *api.Error.
func checkResponse(resp *http.Response) error {
	switch v := resp.Header.Get(VersionHeader); v {
	case APIVersion:
	case "":
		return fmt.Errorf("localapi: the server is not a murmur node (answer %s without a %s header)", resp.Status, VersionHeader)
	default:
		return fmt.Errorf("localapi: the node speaks local API version %q, this client speaks %q; run the same murmur version", v, APIVersion)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	if err != nil {
		return &api.Error{Code: api.CodeInternal, Message: fmt.Sprintf("local API answered %s; reading the error: %v", resp.Status, err)}
	}
	var ae api.Error
	if json.Unmarshal(b, &ae) == nil && ae.Code != "" {
		return &ae
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &api.Error{Code: api.CodeInternal, Message: fmt.Sprintf("local API answered %s: %s", resp.Status, msg)}
}

// do makes a request and decodes a JSON answer into out (nil: none).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("localapi: %s /%s: read answer: %w", method, path, err)
	}
	if len(b) > maxResponseBytes {
		return fmt.Errorf("localapi: %s /%s: answer larger than %d bytes", method, path, maxResponseBytes)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("localapi: %s /%s: decode answer: %w", method, path, err)
	}
	return nil
}

func repoPath(repo string, rest ...string) string {
	var b strings.Builder
	b.WriteString("v1/repos/")
	b.WriteString(escapeSegment(repo))
	for _, s := range rest {
		b.WriteByte('/')
		b.WriteString(s)
	}
	return b.String()
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func filterQuery(f api.ListFilter) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("state", f.State)
	set("label", f.Label)
	set("assignee", f.Assignee)
	set("author", f.Author)
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// Status implements api.Service.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var out api.Status
	err := c.do(ctx, http.MethodGet, "v1/status", nil, &out)
	return out, err
}

// Identity implements api.Service.
func (c *Client) Identity(ctx context.Context) (api.Identity, error) {
	var out api.Identity
	err := c.do(ctx, http.MethodGet, "v1/identity", nil, &out)
	return out, err
}

// InitIdentity implements api.Service.
func (c *Client) InitIdentity(ctx context.Context, alias string, passphrase []byte) (api.Identity, error) {
	var out api.Identity
	err := c.do(ctx, http.MethodPost, "v1/identity", identityRequest{Alias: alias, Passphrase: passphrase}, &out)
	return out, err
}

// SetAlias implements api.Service.
func (c *Client) SetAlias(ctx context.Context, alias string) (api.Identity, error) {
	var out api.Identity
	err := c.do(ctx, http.MethodPut, "v1/identity/alias", aliasRequest{Alias: alias}, &out)
	return out, err
}

// CreateRepo implements api.Service.
func (c *Client) CreateRepo(ctx context.Context, r api.NewRepo) (api.Repo, error) {
	var out api.Repo
	err := c.do(ctx, http.MethodPost, "v1/repos", r, &out)
	return out, err
}

// Repos implements api.Service.
func (c *Client) Repos(ctx context.Context) ([]api.Repo, error) {
	var out []api.Repo
	err := c.do(ctx, http.MethodGet, "v1/repos", nil, &out)
	return out, err
}

// Repo implements api.Service.
func (c *Client) Repo(ctx context.Context, repo string) (api.Repo, error) {
	var out api.Repo
	err := c.do(ctx, http.MethodGet, repoPath(repo), nil, &out)
	return out, err
}

// EditRepo implements api.Service.
func (c *Client) EditRepo(ctx context.Context, repo string, e api.RepoEdit) (api.Repo, error) {
	var out api.Repo
	err := c.do(ctx, http.MethodPatch, repoPath(repo), e, &out)
	return out, err
}

// SetMaintainer implements api.Service.
func (c *Client) SetMaintainer(ctx context.Context, repo, did string, add bool) (api.Repo, error) {
	var out api.Repo
	err := c.do(ctx, http.MethodPost, repoPath(repo, "maintainers"), maintainerRequest{DID: did, Add: add}, &out)
	return out, err
}

// SetStanding implements api.Service.
func (c *Client) SetStanding(ctx context.Context, repo string, st api.Standing) (api.Repo, error) {
	var out api.Repo
	err := c.do(ctx, http.MethodPost, repoPath(repo, "standing"), st, &out)
	return out, err
}

// Refs implements api.Service.
func (c *Client) Refs(ctx context.Context, repo string) ([]api.Ref, error) {
	var out []api.Ref
	err := c.do(ctx, http.MethodGet, repoPath(repo, "refs"), nil, &out)
	return out, err
}

// SetRefs implements api.Service.
func (c *Client) SetRefs(ctx context.Context, repo string, refs map[string]string) ([]api.Ref, error) {
	var out []api.Ref
	err := c.do(ctx, http.MethodPut, repoPath(repo, "refs"), refsRequest{Refs: refs}, &out)
	return out, err
}

// PushRefs implements api.Service.
func (c *Client) PushRefs(ctx context.Context, repo string, p api.RefPush) ([]api.Ref, error) {
	var out []api.Ref
	err := c.do(ctx, http.MethodPost, repoPath(repo, "refs/push"), p, &out)
	return out, err
}

// Activity implements api.Service.
func (c *Client) Activity(ctx context.Context, repo string, limit int) ([]api.Activity, error) {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []api.Activity
	err := c.do(ctx, http.MethodGet, withQuery(repoPath(repo, "activity"), q), nil, &out)
	return out, err
}

// Issues implements api.Service.
func (c *Client) Issues(ctx context.Context, repo string, f api.ListFilter) ([]api.IssueSummary, error) {
	var out []api.IssueSummary
	err := c.do(ctx, http.MethodGet, withQuery(repoPath(repo, "issues"), filterQuery(f)), nil, &out)
	return out, err
}

// Issue implements api.Service.
func (c *Client) Issue(ctx context.Context, repo, id string) (api.Issue, error) {
	var out api.Issue
	err := c.do(ctx, http.MethodGet, repoPath(repo, "issues", escapeSegment(id)), nil, &out)
	return out, err
}

// CreateIssue implements api.Service.
func (c *Client) CreateIssue(ctx context.Context, repo string, n api.NewIssue) (api.Issue, error) {
	var out api.Issue
	err := c.do(ctx, http.MethodPost, repoPath(repo, "issues"), n, &out)
	return out, err
}

// EditIssue implements api.Service.
func (c *Client) EditIssue(ctx context.Context, repo, id string, e api.Edit) (api.Issue, error) {
	var out api.Issue
	err := c.do(ctx, http.MethodPatch, repoPath(repo, "issues", escapeSegment(id)), e, &out)
	return out, err
}

// Patches implements api.Service.
func (c *Client) Patches(ctx context.Context, repo string, f api.ListFilter) ([]api.PatchSummary, error) {
	var out []api.PatchSummary
	err := c.do(ctx, http.MethodGet, withQuery(repoPath(repo, "patches"), filterQuery(f)), nil, &out)
	return out, err
}

// Patch implements api.Service.
func (c *Client) Patch(ctx context.Context, repo, id string) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodGet, repoPath(repo, "patches", escapeSegment(id)), nil, &out)
	return out, err
}

// CreatePatch implements api.Service.
func (c *Client) CreatePatch(ctx context.Context, repo string, n api.NewPatch) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodPost, repoPath(repo, "patches"), n, &out)
	return out, err
}

// EditPatch implements api.Service.
func (c *Client) EditPatch(ctx context.Context, repo, id string, e api.Edit) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodPatch, repoPath(repo, "patches", escapeSegment(id)), e, &out)
	return out, err
}

// AddRevision implements api.Service.
func (c *Client) AddRevision(ctx context.Context, repo, id string, r api.NewRevision) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodPost, repoPath(repo, "patches", escapeSegment(id), "revisions"), r, &out)
	return out, err
}

// PatchDiff implements api.Service.
func (c *Client) PatchDiff(ctx context.Context, repo, id string, d api.DiffQuery) (api.Diff, error) {
	q := url.Values{}
	for name, v := range map[string]int{"revision": d.Revision, "from": d.From, "to": d.To} {
		if v != 0 {
			q.Set(name, strconv.Itoa(v))
		}
	}
	if d.Stat {
		q.Set("stat", "true")
	}
	var out api.Diff
	err := c.do(ctx, http.MethodGet, withQuery(repoPath(repo, "patches", escapeSegment(id), "diff"), q), nil, &out)
	return out, err
}

// AddCheck implements api.Service.
func (c *Client) AddCheck(ctx context.Context, repo, id string, k api.NewCheck) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodPost, repoPath(repo, "patches", escapeSegment(id), "checks"), k, &out)
	return out, err
}

// Review implements api.Service.
func (c *Client) Review(ctx context.Context, repo, id string, r api.NewReview) (api.Patch, error) {
	var out api.Patch
	err := c.do(ctx, http.MethodPost, repoPath(repo, "patches", escapeSegment(id), "reviews"), r, &out)
	return out, err
}

// Comment implements api.Service.
func (c *Client) Comment(ctx context.Context, repo, id string, n api.NewComment) (api.Comment, error) {
	var out api.Comment
	err := c.do(ctx, http.MethodPost, repoPath(repo, "objects", escapeSegment(id), "comments"), n, &out)
	return out, err
}

func (c *Client) editComment(ctx context.Context, repo, commentID string, e commentEditRequest) (api.Comment, error) {
	var out api.Comment
	err := c.do(ctx, http.MethodPatch, repoPath(repo, "comments", escapeSegment(commentID)), e, &out)
	return out, err
}

// EditComment implements api.Service.
func (c *Client) EditComment(ctx context.Context, repo, commentID, body string) (api.Comment, error) {
	return c.editComment(ctx, repo, commentID, commentEditRequest{Body: &body})
}

// HideComment implements api.Service.
func (c *Client) HideComment(ctx context.Context, repo, commentID string, hidden bool) (api.Comment, error) {
	return c.editComment(ctx, repo, commentID, commentEditRequest{Hidden: &hidden})
}

// ResolveComment implements api.Service.
func (c *Client) ResolveComment(ctx context.Context, repo, commentID string, resolved bool) (api.Comment, error) {
	return c.editComment(ctx, repo, commentID, commentEditRequest{Resolved: &resolved})
}

// React implements api.Service.
func (c *Client) React(ctx context.Context, repo, targetID, emoji string, remove bool) error {
	return c.do(ctx, http.MethodPost, repoPath(repo, "reactions"),
		reactionRequest{Target: targetID, Emoji: emoji, Remove: remove}, nil)
}

// Follow implements api.Service.
func (c *Client) Follow(ctx context.Context, repo string, peers []string) (api.FollowResult, error) {
	var out api.FollowResult
	err := c.do(ctx, http.MethodPost, "v1/follows", followRequest{Repo: repo, Peers: peers}, &out)
	return out, err
}

// Unfollow implements api.Service.
func (c *Client) Unfollow(ctx context.Context, repo string) (api.FollowResult, error) {
	var out api.FollowResult
	err := c.do(ctx, http.MethodDelete, "v1/follows/"+escapeSegment(repo), nil, &out)
	return out, err
}

// Sync implements api.Service.
func (c *Client) Sync(ctx context.Context, req api.SyncRequest) ([]api.SyncResult, error) {
	var out []api.SyncResult
	err := c.do(ctx, http.MethodPost, "v1/sync", req, &out)
	return out, err
}

// Search implements api.Service.
func (c *Client) Search(ctx context.Context, q api.SearchQuery) ([]api.SearchResult, error) {
	var out []api.SearchResult
	err := c.do(ctx, http.MethodPost, "v1/search", q, &out)
	return out, err
}

// Inbox implements api.Service.
func (c *Client) Inbox(ctx context.Context, q api.InboxQuery) ([]api.InboxItem, error) {
	v := url.Values{}
	if q.All {
		v.Set("all", "1")
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Repo != "" {
		v.Set("repo", q.Repo)
	}
	var out []api.InboxItem
	err := c.do(ctx, http.MethodGet, withQuery("v1/inbox", v), nil, &out)
	return out, err
}

// MarkRead implements api.Service.
func (c *Client) MarkRead(ctx context.Context, m api.MarkRead) (api.MarkReadResult, error) {
	var out api.MarkReadResult
	err := c.do(ctx, http.MethodPost, "v1/inbox/read", m, &out)
	return out, err
}

// Events implements api.Service. It returns once the node accepted the
// subscription; the channel is closed when ctx ends, the node ends the
// stream (it shut down) or the stream breaks. A consumer that needs
// continuity calls Events again and refreshes what it shows.
func (c *Client) Events(ctx context.Context) (<-chan api.Event, error) {
	resp, err := c.send(ctx, http.MethodGet, "v1/events", nil)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, fmt.Errorf("localapi: GET /v1/events: answer is %q, not an event stream", ct)
	}
	ch := make(chan api.Event, eventBuffer)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		readEvents(ctx, resp.Body, ch)
	}()
	return ch, nil
}

// readEvents parses a Server-Sent Events stream of JSON api.Event values
// and sends them on ch until the stream ends, breaks or holds something
// that is not an event, or ctx ends.
func readEvents(ctx context.Context, r io.Reader, ch chan<- api.Event) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxEventBytes)
	var data []byte // the data lines of the event being read
	have := false   // a data line was seen since the last dispatch
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if !have {
				continue
			}
			var ev api.Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return
			}
			data, have = data[:0], false
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
			continue
		}
		if line[0] == ':' {
			continue // comment: heartbeat
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue // id, event, retry: unused
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if len(data)+len(value)+1 > maxEventBytes {
			return
		}
		if have {
			data = append(data, '\n')
		}
		data, have = append(data, value...), true
	}
}
