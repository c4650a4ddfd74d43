package localapi

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"murmur/api"
)

// rtCase is one Service call, made both through the client and directly on
// a fake, whose results, errors and recorded arguments must agree.
type rtCase struct {
	name string
	call func(ctx context.Context, s api.Service) (any, error)
}

func ptr[T any](v T) *T { return &v }

// oddNames are repo and object arguments that stress path escaping.
var oddNames = []string{
	"", "-", "--", ".", "..", "./x", "a/../b", "a/b", "/lead", "trail/",
	"with space", "per%cent", "a%2Fb", "q?x=1&y=2#frag", "ünïcødé", "emoji🙂", "+plus;semi,comma",
}

func roundTripCases() []rtCase {
	cases := []rtCase{
		{"Status", func(ctx context.Context, s api.Service) (any, error) { return s.Status(ctx) }},
		{"Identity", func(ctx context.Context, s api.Service) (any, error) { return s.Identity(ctx) }},
		{"InitIdentity", func(ctx context.Context, s api.Service) (any, error) {
			return s.InitIdentity(ctx, "alice", []byte{0, 1, 2, 0xff, 'p', 'w'})
		}},
		{"InitIdentity/no-passphrase", func(ctx context.Context, s api.Service) (any, error) {
			return s.InitIdentity(ctx, "bob", nil)
		}},
		{"InitIdentity/conflict", func(ctx context.Context, s api.Service) (any, error) {
			return s.InitIdentity(ctx, "clash", []byte("x"))
		}},
		{"SetAlias", func(ctx context.Context, s api.Service) (any, error) { return s.SetAlias(ctx, "carol") }},
		{"CreateRepo", func(ctx context.Context, s api.Service) (any, error) {
			return s.CreateRepo(ctx, api.NewRepo{Name: "r", Description: "d", DefaultBranch: "trunk"})
		}},
		{"Repos", func(ctx context.Context, s api.Service) (any, error) { return s.Repos(ctx) }},
		{"EditRepo", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditRepo(ctx, "r", api.RepoEdit{Description: ptr(""), DefaultBranch: ptr("dev")})
		}},
		{"EditRepo/nil-fields", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditRepo(ctx, "r", api.RepoEdit{})
		}},
		{"SetMaintainer/add", func(ctx context.Context, s api.Service) (any, error) {
			return s.SetMaintainer(ctx, "r", "did:key:z6Mkbob", true)
		}},
		{"SetMaintainer/remove", func(ctx context.Context, s api.Service) (any, error) {
			return s.SetMaintainer(ctx, "r", "did:key:z6Mkbob", false)
		}},
		{"SetStanding/ban", func(ctx context.Context, s api.Service) (any, error) {
			return s.SetStanding(ctx, "r", api.Standing{Kind: api.StandingBan, Identity: "did:key:z6Mkbob", On: true, Reason: "spam"})
		}},
		{"SetStanding/member-remove", func(ctx context.Context, s api.Service) (any, error) {
			return s.SetStanding(ctx, "r", api.Standing{Kind: api.StandingMember, Identity: "did:key:z6Mkbob"})
		}},
		{"Refs", func(ctx context.Context, s api.Service) (any, error) { return s.Refs(ctx, "r") }},
		{"SetRefs", func(ctx context.Context, s api.Service) (any, error) {
			return s.SetRefs(ctx, "r", map[string]string{"refs/heads/main": "c0ffee", "refs/heads/gone": ""})
		}},
		{"SetRefs/nil", func(ctx context.Context, s api.Service) (any, error) { return s.SetRefs(ctx, "r", nil) }},
		{"PushRefs", func(ctx context.Context, s api.Service) (any, error) {
			return s.PushRefs(ctx, "r", api.RefPush{Dir: "/work copy", Refs: map[string]string{"refs/heads/main": "c0ffee"}})
		}},
		{"Activity", func(ctx context.Context, s api.Service) (any, error) { return s.Activity(ctx, "r", 0) }},
		{"Activity/limit", func(ctx context.Context, s api.Service) (any, error) { return s.Activity(ctx, "r", 7) }},
		{"Activity/negative", func(ctx context.Context, s api.Service) (any, error) { return s.Activity(ctx, "r", -1) }},
		{"Issues", func(ctx context.Context, s api.Service) (any, error) { return s.Issues(ctx, "r", api.ListFilter{}) }},
		{"Issues/filter", func(ctx context.Context, s api.Service) (any, error) {
			return s.Issues(ctx, "r", api.ListFilter{State: "all", Label: "bug & fix?", Assignee: "did:key:z6Mk+x", Author: "ünï", Limit: 5})
		}},
		{"Issue", func(ctx context.Context, s api.Service) (any, error) { return s.Issue(ctx, "r", "abcd") }},
		{"CreateIssue", func(ctx context.Context, s api.Service) (any, error) {
			return s.CreateIssue(ctx, "r", api.NewIssue{Title: "t", Body: "multi\nline\x00body", Labels: []string{"a", "b"}, Assignees: []string{"did:key:z6Mkx"}})
		}},
		{"EditIssue", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditIssue(ctx, "r", "abcd", api.Edit{Title: ptr("new"), Body: ptr(""), AddLabels: []string{"x"}, RemoveLabels: []string{"y"},
				AddAssignees: []string{"a"}, RemoveAssignees: []string{"b"}, State: "closed", Reason: "not-planned", Comment: "bye", Base: "main"})
		}},
		{"Patches", func(ctx context.Context, s api.Service) (any, error) {
			return s.Patches(ctx, "r", api.ListFilter{State: "merged", Limit: 3})
		}},
		{"Patch", func(ctx context.Context, s api.Service) (any, error) { return s.Patch(ctx, "r", "p1") }},
		{"CreatePatch", func(ctx context.Context, s api.Service) (any, error) {
			return s.CreatePatch(ctx, "r", api.NewPatch{Title: "p", Description: "d", Base: "main", Commit: "c1", BaseCommit: "c0", Draft: true, Labels: []string{"l"}})
		}},
		{"EditPatch", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditPatch(ctx, "r", "p1", api.Edit{State: "draft"})
		}},
		{"AddRevision", func(ctx context.Context, s api.Service) (any, error) {
			return s.AddRevision(ctx, "r", "p1", api.NewRevision{Commit: "c2", BaseCommit: "c0", Note: "rebased"})
		}},
		{"PatchDiff", func(ctx context.Context, s api.Service) (any, error) {
			return s.PatchDiff(ctx, "r", "p1", api.DiffQuery{From: 1, To: 2, Stat: true})
		}},
		{"AddCheck", func(ctx context.Context, s api.Service) (any, error) {
			return s.AddCheck(ctx, "r", "p1", api.NewCheck{Revision: 2, State: "success", Name: "ci", URL: "https://ci.example/1", Summary: "ok"})
		}},
		{"Review", func(ctx context.Context, s api.Service) (any, error) {
			return s.Review(ctx, "r", "p1", api.NewReview{Verdict: "request-changes", Summary: "s", Revision: 1, Path: "a.go", Start: 3, End: 4, Comment: "c"})
		}},
		{"Comment", func(ctx context.Context, s api.Service) (any, error) {
			return s.Comment(ctx, "r", "abcd", api.NewComment{Body: "hello", ReplyTo: "c1"})
		}},
		{"EditComment", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditComment(ctx, "r", "c1", "edited")
		}},
		{"EditComment/empty-body", func(ctx context.Context, s api.Service) (any, error) {
			return s.EditComment(ctx, "r", "c1", "")
		}},
		{"HideComment", func(ctx context.Context, s api.Service) (any, error) { return s.HideComment(ctx, "r", "c1", true) }},
		{"HideComment/show", func(ctx context.Context, s api.Service) (any, error) { return s.HideComment(ctx, "r", "c1", false) }},
		{"ResolveComment", func(ctx context.Context, s api.Service) (any, error) { return s.ResolveComment(ctx, "r", "c1", true) }},
		{"ResolveComment/unresolve", func(ctx context.Context, s api.Service) (any, error) {
			return s.ResolveComment(ctx, "r", "c1", false)
		}},
		{"React", func(ctx context.Context, s api.Service) (any, error) {
			return nil, s.React(ctx, "r", "abcd", "🎉", false)
		}},
		{"React/remove", func(ctx context.Context, s api.Service) (any, error) {
			return nil, s.React(ctx, "r", "abcd", "+1", true)
		}},
		{"Follow", func(ctx context.Context, s api.Service) (any, error) {
			return s.Follow(ctx, "aaaa", []string{"127.0.0.1:7788", "did:key:z6Mkx/host:1"})
		}},
		{"Follow/no-peers", func(ctx context.Context, s api.Service) (any, error) { return s.Follow(ctx, "aaaa", nil) }},
		{"Follow/unavailable", func(ctx context.Context, s api.Service) (any, error) {
			return s.Follow(ctx, "aaaa", []string{"unreachable"})
		}},
		{"Unfollow", func(ctx context.Context, s api.Service) (any, error) { return s.Unfollow(ctx, "aaaa") }},
		{"Unfollow/missing", func(ctx context.Context, s api.Service) (any, error) { return s.Unfollow(ctx, "missing") }},
		{"Sync", func(ctx context.Context, s api.Service) (any, error) {
			return s.Sync(ctx, api.SyncRequest{Peers: []string{"a:1", "b:2"}, Timeout: api.Duration(90 * time.Second)})
		}},
		{"Search", func(ctx context.Context, s api.Service) (any, error) {
			return s.Search(ctx, api.SearchQuery{Query: "crash is:open", Repo: "r", Limit: 5})
		}},
		{"Search/invalid", func(ctx context.Context, s api.Service) (any, error) {
			return s.Search(ctx, api.SearchQuery{Query: "bad"})
		}},
		{"Inbox", func(ctx context.Context, s api.Service) (any, error) { return s.Inbox(ctx, api.InboxQuery{}) }},
		{"Inbox/all", func(ctx context.Context, s api.Service) (any, error) {
			return s.Inbox(ctx, api.InboxQuery{All: true, Limit: 7, Repo: "a/b ü"})
		}},
		{"Inbox/missing", func(ctx context.Context, s api.Service) (any, error) {
			return s.Inbox(ctx, api.InboxQuery{Repo: "missing"})
		}},
		{"MarkRead", func(ctx context.Context, s api.Service) (any, error) {
			return s.MarkRead(ctx, api.MarkRead{Objects: []string{"abcd", "ef01"}})
		}},
		{"MarkRead/all", func(ctx context.Context, s api.Service) (any, error) { return s.MarkRead(ctx, api.MarkRead{All: true}) }},
		{"MarkRead/ambig", func(ctx context.Context, s api.Service) (any, error) {
			return s.MarkRead(ctx, api.MarkRead{Objects: []string{"ambig"}})
		}},
		{"Sync/defaults", func(ctx context.Context, s api.Service) (any, error) { return s.Sync(ctx, api.SyncRequest{}) }},
		{"Sync/offline", func(ctx context.Context, s api.Service) (any, error) {
			return s.Sync(ctx, api.SyncRequest{Peers: []string{"offline"}})
		}},
	}
	// Every error code, from a read and from a write.
	for _, trigger := range []string{"missing", "ambig", "bad", "nope", "noid", "locked", "clash", "norepo", "wrapped", "boom"} {
		cases = append(cases,
			rtCase{"error/Repo/" + trigger, func(ctx context.Context, s api.Service) (any, error) { return s.Repo(ctx, trigger) }},
			rtCase{"error/React/" + trigger, func(ctx context.Context, s api.Service) (any, error) {
				return nil, s.React(ctx, "r", "abcd", trigger, false)
			}},
			rtCase{"error/Comment/" + trigger, func(ctx context.Context, s api.Service) (any, error) {
				return s.Comment(ctx, "r", "abcd", api.NewComment{Body: trigger})
			}},
		)
	}
	// Odd repo and object arguments reach the node unchanged.
	for _, name := range oddNames {
		cases = append(cases,
			rtCase{fmt.Sprintf("odd/Repo/%q", name), func(ctx context.Context, s api.Service) (any, error) { return s.Repo(ctx, name) }},
			rtCase{fmt.Sprintf("odd/Issue/%q", name), func(ctx context.Context, s api.Service) (any, error) { return s.Issue(ctx, name, name) }},
			rtCase{fmt.Sprintf("odd/Review/%q", name), func(ctx context.Context, s api.Service) (any, error) {
				return s.Review(ctx, name, name, api.NewReview{Verdict: "approve"})
			}},
			rtCase{fmt.Sprintf("odd/HideComment/%q", name), func(ctx context.Context, s api.Service) (any, error) {
				return s.HideComment(ctx, name, name, true)
			}},
			rtCase{fmt.Sprintf("odd/Unfollow/%q", name), func(ctx context.Context, s api.Service) (any, error) {
				return s.Unfollow(ctx, name)
			}},
		)
	}
	return cases
}

// TestRoundTrip checks that every Service method, through the real client
// and handlers over each transport, delivers the same arguments to the
// node and the same results and errors to the caller as a direct call.
func TestRoundTrip(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			served := newFake("node")
			c := tr.serve(t, served, HandlerOptions{})
			for _, tc := range roundTripCases() {
				t.Run(tc.name, func(t *testing.T) {
					ctx := testCtx(t)
					direct := newFake("node")
					before := len(served.Calls())
					got, gotErr := tc.call(ctx, c)
					want, wantErr := tc.call(ctx, direct)

					if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("result differs (-direct +client):\n%s", diff)
					}
					if diff := cmp.Diff(wireError(wantErr), wireError(gotErr)); diff != "" {
						t.Errorf("error differs (-direct +client):\n%s\nclient error: %v", diff, gotErr)
					}
					if gotErr != nil {
						var ae *api.Error
						if !errors.As(gotErr, &ae) {
							t.Errorf("client error %v is %T, want *api.Error", gotErr, gotErr)
						}
					}
					if diff := cmp.Diff(direct.Calls(), served.Calls()[before:], cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("calls differ (-direct +served):\n%s", diff)
					}
				})
			}
		})
	}
}

// wireError is what an error returned by the node looks like after the
// trip: an *api.Error's code, message and matches; anything else becomes
// code internal with its message.
func wireError(err error) *api.Error {
	if err == nil {
		return nil
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return &api.Error{Code: ae.Code, Message: ae.Message, Matches: ae.Matches}
	}
	return &api.Error{Code: api.CodeInternal, Message: err.Error()}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{api.CodeNotFound, 404},
		{api.CodeAmbiguous, 409},
		{api.CodeInvalid, 400},
		{api.CodeForbidden, 403},
		{api.CodeNoIdentity, 409},
		{api.CodeLocked, 423},
		{api.CodeConflict, 409},
		{api.CodeInternal, 500},
		{api.CodeNoRepo, 400},
		{api.CodeBrowserOrigin, 403},
		{api.CodeOffline, 409},
		{api.CodeUnavailable, 503},
		{"some_future_code", 500},
	}
	for _, tt := range tests {
		if got := StatusFor(tt.code); got != tt.want {
			t.Errorf("StatusFor(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestPanicBecomesInternal(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := tr.serve(t, newFake("node"), HandlerOptions{})
			_, err := c.Repo(testCtx(t), "panic")
			wantCode(t, err, api.CodeInternal)
			// The server survives.
			if _, err := c.Status(testCtx(t)); err != nil {
				t.Fatalf("Status after a panic: %v", err)
			}
		})
	}
}
