package localapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"murmur/api"
)

// Defaults of HandlerOptions.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultMaxBodyBytes = 1 << 20
)

// Protocol constants.
const (
	// VersionHeader is set on every response; its value is APIVersion.
	VersionHeader = "Murmur-Api"
	// APIVersion is the version of the routes under /v1.
	APIVersion = "1"
)

// streamWriteTimeout bounds one write to an event stream, so that a client
// that stops reading is dropped instead of pinning a handler forever.
const streamWriteTimeout = 30 * time.Second

// HandlerOptions configures NewHandler. The zero value is ready to use.
type HandlerOptions struct {
	// Logger receives one Debug record per request and an Error record per
	// internal error or recovered panic. nil: nothing is logged.
	Logger *slog.Logger
	// Heartbeat is the interval between comment lines on an event stream,
	// which let both sides notice a dead peer. 0: DefaultHeartbeat (15 s).
	Heartbeat time.Duration
	// MaxBodyBytes bounds a request body. 0: DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
}

func (o HandlerOptions) withDefaults() HandlerOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return o
}

// NewHandler returns the v1 local API over svc: every api.Service method
// under /v1/ (see the package documentation for the routes). It may be
// served by any http.Server; an event stream ends when its request's
// context ends or svc closes the event channel. Serve and ServeNode also end
// event streams when the server shuts down.
func NewHandler(svc api.Service, opts HandlerOptions) http.Handler {
	return newHandler(svc, opts)
}

// handler serves the v1 routes.
type handler struct {
	svc  api.Service
	opts HandlerOptions
	mux  *http.ServeMux

	// done is closed by closeStreams to end every event stream.
	done      chan struct{}
	closeOnce sync.Once
}

func newHandler(svc api.Service, opts HandlerOptions) *handler {
	h := &handler{
		svc:  svc,
		opts: opts.withDefaults(),
		mux:  http.NewServeMux(),
		done: make(chan struct{}),
	}
	h.routes()
	return h
}

// closeStreams ends every event stream served by h, now and later.
func (h *handler) closeStreams() { h.closeOnce.Do(func() { close(h.done) }) }

// endpoint is a route's body: it returns the success status and the value
// to encode (nil for no body), or an error.
type endpoint func(r *http.Request) (int, any, error)

func (h *handler) routes() {
	s := h.svc
	h.handle("GET /v1/status", func(r *http.Request) (int, any, error) {
		return ok(s.Status(r.Context()))
	})
	h.handle("GET /v1/identity", func(r *http.Request) (int, any, error) {
		return ok(s.Identity(r.Context()))
	})
	h.handle("POST /v1/identity", func(r *http.Request) (int, any, error) {
		var in identityRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		defer clear(in.Passphrase)
		return created(s.InitIdentity(r.Context(), in.Alias, in.Passphrase))
	})
	h.handle("PUT /v1/identity/alias", func(r *http.Request) (int, any, error) {
		var in aliasRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.SetAlias(r.Context(), in.Alias))
	})

	h.handle("GET /v1/repos", func(r *http.Request) (int, any, error) {
		return ok(s.Repos(r.Context()))
	})
	h.handle("POST /v1/repos", func(r *http.Request) (int, any, error) {
		var in api.NewRepo
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return created(s.CreateRepo(r.Context(), in))
	})
	h.handle("GET /v1/repos/{repo}", func(r *http.Request) (int, any, error) {
		return ok(s.Repo(r.Context(), pathArg(r, "repo")))
	})
	h.handle("PATCH /v1/repos/{repo}", func(r *http.Request) (int, any, error) {
		var in api.RepoEdit
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.EditRepo(r.Context(), pathArg(r, "repo"), in))
	})
	h.handle("POST /v1/repos/{repo}/maintainers", func(r *http.Request) (int, any, error) {
		var in maintainerRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.SetMaintainer(r.Context(), pathArg(r, "repo"), in.DID, in.Add))
	})
	h.handle("POST /v1/repos/{repo}/standing", func(r *http.Request) (int, any, error) {
		var in api.Standing
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.SetStanding(r.Context(), pathArg(r, "repo"), in))
	})
	h.handle("GET /v1/repos/{repo}/refs", func(r *http.Request) (int, any, error) {
		return ok(s.Refs(r.Context(), pathArg(r, "repo")))
	})
	h.handle("PUT /v1/repos/{repo}/refs", func(r *http.Request) (int, any, error) {
		var in refsRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.SetRefs(r.Context(), pathArg(r, "repo"), in.Refs))
	})
	h.handle("POST /v1/repos/{repo}/refs/push", func(r *http.Request) (int, any, error) {
		var in api.RefPush
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.PushRefs(r.Context(), pathArg(r, "repo"), in))
	})
	h.handle("GET /v1/repos/{repo}/activity", func(r *http.Request) (int, any, error) {
		q, err := query(r, "limit")
		if err != nil {
			return 0, nil, err
		}
		limit, err := intParam(q, "limit")
		if err != nil {
			return 0, nil, err
		}
		return ok(s.Activity(r.Context(), pathArg(r, "repo"), limit))
	})

	h.handle("GET /v1/repos/{repo}/issues", func(r *http.Request) (int, any, error) {
		f, err := listFilter(r)
		if err != nil {
			return 0, nil, err
		}
		return ok(s.Issues(r.Context(), pathArg(r, "repo"), f))
	})
	h.handle("POST /v1/repos/{repo}/issues", func(r *http.Request) (int, any, error) {
		var in api.NewIssue
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return created(s.CreateIssue(r.Context(), pathArg(r, "repo"), in))
	})
	h.handle("GET /v1/repos/{repo}/issues/{id}", func(r *http.Request) (int, any, error) {
		return ok(s.Issue(r.Context(), pathArg(r, "repo"), pathArg(r, "id")))
	})
	h.handle("PATCH /v1/repos/{repo}/issues/{id}", func(r *http.Request) (int, any, error) {
		var in api.Edit
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.EditIssue(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})

	h.handle("GET /v1/repos/{repo}/patches", func(r *http.Request) (int, any, error) {
		f, err := listFilter(r)
		if err != nil {
			return 0, nil, err
		}
		return ok(s.Patches(r.Context(), pathArg(r, "repo"), f))
	})
	h.handle("POST /v1/repos/{repo}/patches", func(r *http.Request) (int, any, error) {
		var in api.NewPatch
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return created(s.CreatePatch(r.Context(), pathArg(r, "repo"), in))
	})
	h.handle("GET /v1/repos/{repo}/patches/{id}", func(r *http.Request) (int, any, error) {
		return ok(s.Patch(r.Context(), pathArg(r, "repo"), pathArg(r, "id")))
	})
	h.handle("PATCH /v1/repos/{repo}/patches/{id}", func(r *http.Request) (int, any, error) {
		var in api.Edit
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.EditPatch(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})
	h.handle("POST /v1/repos/{repo}/patches/{id}/revisions", func(r *http.Request) (int, any, error) {
		var in api.NewRevision
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.AddRevision(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})
	h.handle("GET /v1/repos/{repo}/patches/{id}/diff", func(r *http.Request) (int, any, error) {
		q, err := query(r, "revision", "from", "to", "stat")
		if err != nil {
			return 0, nil, err
		}
		var d api.DiffQuery
		for name, p := range map[string]*int{"revision": &d.Revision, "from": &d.From, "to": &d.To} {
			if *p, err = intParam(q, name); err != nil {
				return 0, nil, err
			}
		}
		switch q.Get("stat") {
		case "", "false":
		case "true":
			d.Stat = true
		default:
			return 0, nil, api.Errorf(api.CodeInvalid, "query parameter stat=%q must be true or false", q.Get("stat"))
		}
		return ok(s.PatchDiff(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), d))
	})
	h.handle("POST /v1/repos/{repo}/patches/{id}/checks", func(r *http.Request) (int, any, error) {
		var in api.NewCheck
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.AddCheck(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})
	h.handle("POST /v1/repos/{repo}/patches/{id}/reviews", func(r *http.Request) (int, any, error) {
		var in api.NewReview
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.Review(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})

	h.handle("POST /v1/repos/{repo}/objects/{id}/comments", func(r *http.Request) (int, any, error) {
		var in api.NewComment
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return created(s.Comment(r.Context(), pathArg(r, "repo"), pathArg(r, "id"), in))
	})
	h.handle("PATCH /v1/repos/{repo}/comments/{id}", func(r *http.Request) (int, any, error) {
		var in commentEditRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		repo, id := pathArg(r, "repo"), pathArg(r, "id")
		switch {
		case in.Body != nil && in.Hidden == nil && in.Resolved == nil:
			return ok(s.EditComment(r.Context(), repo, id, *in.Body))
		case in.Body == nil && in.Hidden != nil && in.Resolved == nil:
			return ok(s.HideComment(r.Context(), repo, id, *in.Hidden))
		case in.Body == nil && in.Hidden == nil && in.Resolved != nil:
			return ok(s.ResolveComment(r.Context(), repo, id, *in.Resolved))
		}
		return 0, nil, api.Errorf(api.CodeInvalid, "a comment edit sets exactly one of body, hidden and resolved")
	})
	h.handle("POST /v1/repos/{repo}/reactions", func(r *http.Request) (int, any, error) {
		var in reactionRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		if err := s.React(r.Context(), pathArg(r, "repo"), in.Target, in.Emoji, in.Remove); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	})

	h.handle("POST /v1/follows", func(r *http.Request) (int, any, error) {
		var in followRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.Follow(r.Context(), in.Repo, in.Peers))
	})
	h.handle("DELETE /v1/follows/{repo}", func(r *http.Request) (int, any, error) {
		return ok(s.Unfollow(r.Context(), pathArg(r, "repo")))
	})
	h.handle("GET /v1/inbox", func(r *http.Request) (int, any, error) {
		q, err := query(r, "all", "limit", "repo")
		if err != nil {
			return 0, nil, err
		}
		limit, err := intParam(q, "limit")
		if err != nil {
			return 0, nil, err
		}
		all := q.Get("all")
		if all != "" && all != "1" {
			return 0, nil, api.Errorf(api.CodeInvalid, "query parameter all=%q: use all=1 or leave it out", all)
		}
		return ok(s.Inbox(r.Context(), api.InboxQuery{All: all == "1", Limit: limit, Repo: q.Get("repo")}))
	})
	h.handle("POST /v1/inbox/read", func(r *http.Request) (int, any, error) {
		var in api.MarkRead
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.MarkRead(r.Context(), in))
	})
	h.handle("POST /v1/sync", func(r *http.Request) (int, any, error) {
		var in api.SyncRequest
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.Sync(r.Context(), in))
	})
	h.handle("POST /v1/search", func(r *http.Request) (int, any, error) {
		var in api.SearchQuery
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		return ok(s.Search(r.Context(), in))
	})

	h.mux.HandleFunc("GET /v1/events", h.events)
}

func ok[T any](v T, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

func created[T any](v T, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, v, nil
}

// handle registers an endpoint: it runs fn, encodes its value as JSON or its
// error as an api.Error, and turns a panic into an internal error.
func (h *handler) handle(pattern string, fn endpoint) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.opts.Logger.Error("local api: panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				h.writeError(w, r, api.Errorf(api.CodeInternal, "internal error: %v", p))
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
		status, v, err := fn(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	})
}

// ServeHTTP refuses browser requests, then routes; requests that match no
// route get an api.Error (not_found, or invalid with 405 when only the
// method is wrong).
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		h.opts.Logger.Debug("local api", "method", r.Method, "path", r.URL.EscapedPath(),
			"status", sw.status, "duration", time.Since(start))
	}()
	sw.Header().Set(VersionHeader, APIVersion)
	if fromBrowser(r) {
		h.writeError(sw, r, api.Errorf(api.CodeBrowserOrigin,
			"the murmur local API does not accept requests from web browsers"))
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.unmatched(sw, r)
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// fromBrowser reports whether r carries a header that browsers set and
// other HTTP clients do not: Origin, Referer or any Sec-Fetch-* header.
func fromBrowser(r *http.Request) bool {
	if _, ok := r.Header["Origin"]; ok {
		return true
	}
	if _, ok := r.Header["Referer"]; ok {
		return true
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "Sec-Fetch-") {
			return true
		}
	}
	return false
}

// unmatched answers a request that matches no route.
func (h *handler) unmatched(w http.ResponseWriter, r *http.Request) {
	rec := &headerRecorder{header: http.Header{}}
	h.mux.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, api.Errorf(api.CodeInvalid,
			"method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.EscapedPath(), allow))
	case http.StatusNotFound, 0:
		writeJSON(w, http.StatusNotFound, api.Errorf(api.CodeNotFound,
			"no local API route %s %s", r.Method, r.URL.EscapedPath()))
	default:
		// A redirect to a cleaned path: replay it.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

// StatusFor returns the HTTP status the local API answers an api.Error code
// with. Unknown codes map to 500; clients read the code from the body.
func StatusFor(code string) int {
	switch code {
	case api.CodeNotFound:
		return http.StatusNotFound
	case api.CodeInvalid, api.CodeNoRepo:
		return http.StatusBadRequest
	case api.CodeForbidden, api.CodeBrowserOrigin:
		return http.StatusForbidden
	case api.CodeAmbiguous, api.CodeConflict, api.CodeNoIdentity, api.CodeOffline:
		return http.StatusConflict
	case api.CodeUnavailable:
		return http.StatusServiceUnavailable
	case api.CodeLocked:
		return http.StatusLocked
	case api.CodeWriteFailed:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers with err as an api.Error. An error that is not an
// *api.Error becomes code internal with err's message.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code == "" {
		if r.Context().Err() == nil {
			h.opts.Logger.Error("local api: internal error", "method", r.Method,
				"path", r.URL.EscapedPath(), "err", err)
		}
		ae = &api.Error{Code: api.CodeInternal, Message: err.Error()}
	}
	writeJSON(w, StatusFor(ae.Code), ae)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(api.Errorf(api.CodeInternal, "encode response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decode reads r's JSON body into v: bounded by MaxBodyBytes, unknown
// fields and trailing data refused. Every failure is an invalid api.Error.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body) // bounded by handle
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return api.Errorf(api.CodeInvalid, "request body is larger than %d bytes", tooBig.Limit)
		}
		return api.Errorf(api.CodeInvalid, "read request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return api.Errorf(api.CodeInvalid, "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.Errorf(api.CodeInvalid, "malformed JSON request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return api.Errorf(api.CodeInvalid, "malformed JSON request body: data after the JSON value")
	}
	return nil
}

// pathArg returns the path wildcard name, with the empty-argument marker
// "-" turned back into "".
func pathArg(r *http.Request, name string) string {
	v := r.PathValue(name)
	if v == emptySegment && segmentIsEmpty(r.Pattern, r.URL.EscapedPath(), name) {
		return ""
	}
	return v
}

// query parses r's query string, refusing malformed escapes, repeated
// parameters and parameters not in allowed.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, api.Errorf(api.CodeInvalid, "malformed query string: %v", err)
	}
	for k, vs := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return nil, api.Errorf(api.CodeInvalid, "unknown query parameter %q (known: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, api.Errorf(api.CodeInvalid, "query parameter %q is repeated", k)
		}
	}
	return q, nil
}

func intParam(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, api.Errorf(api.CodeInvalid, "query parameter %s=%q is not an integer", name, s)
	}
	return n, nil
}

func listFilter(r *http.Request) (api.ListFilter, error) {
	q, err := query(r, "state", "label", "assignee", "author", "limit")
	if err != nil {
		return api.ListFilter{}, err
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		return api.ListFilter{}, err
	}
	return api.ListFilter{
		State:    q.Get("state"),
		Label:    q.Get("label"),
		Assignee: q.Get("assignee"),
		Author:   q.Get("author"),
		Limit:    limit,
	}, nil
}

// events serves GET /v1/events as Server-Sent Events: one "data:" line of
// JSON per api.Event, a comment line every Heartbeat.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	ch, err := h.svc.Events(ctx)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		h.opts.Logger.Error("local api: event stream cannot flush", "err", err)
		return
	}
	tick := time.NewTicker(h.opts.Heartbeat)
	defer tick.Stop()
	var buf []byte
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			b, err := json.Marshal(ev)
			if err != nil {
				h.opts.Logger.Error("local api: encode event", "err", err)
				return
			}
			buf = append(append(append(buf[:0], "data: "...), b...), "\n\n"...)
			if !send(buf) {
				return
			}
		case <-tick.C:
			if !send([]byte(": heartbeat\n\n")) {
				return
			}
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

// statusWriter records the status of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerRecorder captures the status and headers ServeMux answers an
// unmatched request with, discarding its plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

func (r *headerRecorder) Header() http.Header { return r.header }

func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

func (r *headerRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
