package localapi

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"murmur/api"
)

// do sends a raw request to a handler over a fake service and returns the
// answer.
func do(t *testing.T, h http.Handler, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// answerError decodes an api.Error answer.
func answerError(t *testing.T, rec *httptest.ResponseRecorder) api.Error {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("answer %d %q is not an api.Error: %v", rec.Code, rec.Body.String(), err)
	}
	return e
}

func TestBrowserRequestsRefused(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		body   string
		header http.Header
	}{
		{"origin", "GET", "/v1/status", "", http.Header{"Origin": {"http://evil.example"}}},
		{"empty origin", "GET", "/v1/status", "", http.Header{"Origin": {""}}},
		{"null origin", "POST", "/v1/repos", `{"name":"x"}`, http.Header{"Origin": {"null"}}},
		{"referer", "GET", "/v1/repos", "", http.Header{"Referer": {"http://evil.example/page"}}},
		{"sec-fetch", "GET", "/v1/events", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"unknown route", "GET", "/nope", "", http.Header{"Origin": {"http://x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("node")
			rec := do(t, NewHandler(f, HandlerOptions{}), tt.method, tt.target, tt.body, tt.header)
			if rec.Code != http.StatusForbidden {
				t.Errorf("status = %d, want 403", rec.Code)
			}
			if e := answerError(t, rec); e.Code != api.CodeBrowserOrigin {
				t.Errorf("code = %q, want %q", e.Code, api.CodeBrowserOrigin)
			}
			if got := rec.Header().Get(VersionHeader); got != APIVersion {
				t.Errorf("%s header = %q, want %q", VersionHeader, got, APIVersion)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("the node was called: %v", calls)
			}
		})
	}
}

func TestBrowserRefusedThroughClient(t *testing.T) {
	// A client that adds Origin (as a browser would) gets browser_origin.
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := tr.serve(t, newFake("node"), HandlerOptions{})
			req, _ := http.NewRequestWithContext(testCtx(t), "GET", baseURL+"v1/status", nil)
			req.Header.Set("Origin", "https://evil.example")
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
			wantCode(t, checkResponse(resp), api.CodeBrowserOrigin)
		})
	}
}

func TestBadRequests(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	tests := []struct {
		name   string
		method string
		target string
		body   string
		status int
		code   string
	}{
		{"oversize body", "POST", "/v1/repos", big, 400, api.CodeInvalid},
		{"unknown field", "POST", "/v1/repos", `{"name":"x","colour":"red"}`, 400, api.CodeInvalid},
		{"unknown nested field", "PATCH", "/v1/repos/r", `{"name":"x","extra":{}}`, 400, api.CodeInvalid},
		{"malformed JSON", "POST", "/v1/repos", `{"name":`, 400, api.CodeInvalid},
		{"wrong type", "POST", "/v1/repos", `{"name":1}`, 400, api.CodeInvalid},
		{"trailing data", "POST", "/v1/repos", `{"name":"x"} {}`, 400, api.CodeInvalid},
		{"empty body", "POST", "/v1/repos", ``, 400, api.CodeInvalid},
		{"not an object", "POST", "/v1/repos", `[1,2]`, 400, api.CodeInvalid},
		{"bad passphrase encoding", "POST", "/v1/identity", `{"alias":"a","passphrase":"%%%"}`, 400, api.CodeInvalid},
		{"comment edit with two fields", "PATCH", "/v1/repos/r/comments/c1", `{"body":"x","hidden":true}`, 400, api.CodeInvalid},
		{"comment edit with none", "PATCH", "/v1/repos/r/comments/c1", `{}`, 400, api.CodeInvalid},
		{"limit not a number", "GET", "/v1/repos/r/activity?limit=ten", ``, 400, api.CodeInvalid},
		{"limit overflow", "GET", "/v1/repos/r/issues?limit=99999999999999999999999", ``, 400, api.CodeInvalid},
		{"unknown query parameter", "GET", "/v1/repos/r/issues?sort=new", ``, 400, api.CodeInvalid},
		{"repeated query parameter", "GET", "/v1/repos/r/issues?label=a&label=b", ``, 400, api.CodeInvalid},
		{"malformed query", "GET", "/v1/repos/r/issues?label=%zz", ``, 400, api.CodeInvalid},
		{"query on events", "GET", "/v1/events?since=3", ``, 400, api.CodeInvalid},
		{"unknown route", "GET", "/v1/nope", ``, 404, api.CodeNotFound},
		{"unversioned route", "GET", "/status", ``, 404, api.CodeNotFound},
		{"wrong method", "DELETE", "/v1/repos/r", ``, 405, api.CodeInvalid},
		{"wrong method on collection", "PUT", "/v1/repos", `{}`, 405, api.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("node")
			rec := do(t, NewHandler(f, HandlerOptions{}), tt.method, tt.target, tt.body, nil)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tt.status, rec.Body.String())
			}
			if e := answerError(t, rec); e.Code != tt.code || e.Message == "" {
				t.Errorf("error = %+v, want code %q and a message", e, tt.code)
			}
			if got := rec.Header().Get(VersionHeader); got != APIVersion {
				t.Errorf("%s header = %q, want %q", VersionHeader, got, APIVersion)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("the node was called: %v", calls)
			}
		})
	}
}

func TestMaxBodyBytesOption(t *testing.T) {
	h := NewHandler(newFake("node"), HandlerOptions{MaxBodyBytes: 64})
	body := `{"name":"` + strings.Repeat("x", 64) + `"}`
	rec := do(t, h, "POST", "/v1/repos", body, nil)
	if e := answerError(t, rec); rec.Code != 400 || e.Code != api.CodeInvalid || !strings.Contains(e.Message, "64 bytes") {
		t.Errorf("answer = %d %+v, want 400 invalid naming the 64-byte limit", rec.Code, e)
	}
	rec = do(t, h, "POST", "/v1/repos", `{"name":"x"}`, nil)
	if rec.Code != http.StatusCreated {
		t.Errorf("small body: status = %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
}

func TestOversizeBodyThroughClient(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFake("node")
			c := tr.serve(t, f, HandlerOptions{})
			_, err := c.CreateIssue(testCtx(t), "r", api.NewIssue{Title: "t", Body: strings.Repeat("b", 2<<20)})
			wantCode(t, err, api.CodeInvalid)
			if n := len(f.Calls()); n != 0 {
				t.Errorf("the node was called %d times", n)
			}
			// The connection survives for the next request.
			if _, err := c.Status(testCtx(t)); err != nil {
				t.Fatalf("Status after an oversize body: %v", err)
			}
		})
	}
}

func TestSuccessStatuses(t *testing.T) {
	h := NewHandler(newFake("node"), HandlerOptions{})
	tests := []struct {
		method, target, body string
		status               int
	}{
		{"GET", "/v1/status", "", 200},
		{"HEAD", "/v1/status", "", 200},
		{"POST", "/v1/identity", `{"alias":"a"}`, 201},
		{"POST", "/v1/repos", `{"name":"r"}`, 201},
		{"POST", "/v1/repos/r/issues", `{"title":"t"}`, 201},
		{"POST", "/v1/repos/r/patches", `{"title":"t"}`, 201},
		{"POST", "/v1/repos/r/objects/i/comments", `{"body":"b"}`, 201},
		{"POST", "/v1/repos/r/reactions", `{"target":"i","emoji":"+1"}`, 204},
		{"PATCH", "/v1/repos/r/comments/c", `{"resolved":false}`, 200},
	}
	for _, tt := range tests {
		rec := do(t, h, tt.method, tt.target, tt.body, nil)
		if rec.Code != tt.status {
			t.Errorf("%s %s = %d, want %d (%s)", tt.method, tt.target, rec.Code, tt.status, rec.Body.String())
		}
		if tt.status == 204 && rec.Body.Len() != 0 {
			t.Errorf("%s %s: 204 with body %q", tt.method, tt.target, rec.Body.String())
		}
	}
}

func TestEmptySegment(t *testing.T) {
	tests := []struct {
		target string
		want   []any
	}{
		{"/v1/repos/-/issues/-", []any{"", ""}},
		{"/v1/repos/%2D/issues/-", []any{"-", ""}},
		{"/v1/repos/-/issues/%2d", []any{"", "-"}},
		{"/v1/repos/a%2Fb/issues/%2E%2E", []any{"a/b", ".."}},
	}
	for _, tt := range tests {
		f := newFake("node")
		rec := do(t, NewHandler(f, HandlerOptions{}), "GET", tt.target, "", nil)
		if rec.Code != 200 {
			t.Fatalf("GET %s = %d %s", tt.target, rec.Code, rec.Body.String())
		}
		calls := f.Calls()
		if len(calls) != 1 || len(calls[0].Args) != 2 || calls[0].Args[0] != tt.want[0] || calls[0].Args[1] != tt.want[1] {
			t.Errorf("GET %s called %v, want Issue%q", tt.target, calls, tt.want)
		}
	}
}

func TestClientRefusesOtherServers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"no version header", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{}`)
		}, "not a murmur node"},
		{"other version", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(VersionHeader, "2")
			io.WriteString(w, `{}`)
		}, `version "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := NewPipeListener()
			serveHTTP(t, ln, tt.handler)
			c := NewClient(ln.Dial)
			defer c.Close()
			_, err := c.Status(testCtx(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Status error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestClientNonJSONError(t *testing.T) {
	ln := NewPipeListener()
	serveHTTP(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(VersionHeader, APIVersion)
		http.Error(w, "gateway on fire", http.StatusBadGateway)
	}))
	c := NewClient(ln.Dial)
	defer c.Close()
	_, err := c.Repos(testCtx(t))
	wantCode(t, err, api.CodeInternal)
	if !strings.Contains(err.Error(), "gateway on fire") {
		t.Errorf("error %q does not carry the answer", err)
	}
}

func TestHeartbeat(t *testing.T) {
	// The handler sends comment lines on an idle stream.
	ln := NewPipeListener()
	serveHTTP(t, ln, NewHandler(newFake("node"), HandlerOptions{Heartbeat: 1}))
	c := NewClient(ln.Dial)
	defer c.Close()
	resp, err := c.send(testCtx(t), "GET", "v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != ": heartbeat\n" {
		t.Fatalf("first line = %q, %v; want a heartbeat comment", line, err)
	}
}
