package node

import (
	"context"
	"testing"

	"murmur/api"
)

func TestAddCheck(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	if _, err := n.InitIdentity(ctx, "ci", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	w := newWorkCopy(t)
	first, second := w.commit("a", 10), w.commit("b", 10)
	if _, err := n.PushRefs(ctx, "r", api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/topic": second}}); err != nil {
		t.Fatal(err)
	}
	p, err := n.CreatePatch(ctx, "r", api.NewPatch{Title: "p", Commit: first})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddRevision(ctx, "r", p.ID, api.NewRevision{Commit: second}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []api.NewCheck{
		{State: api.CheckPending, Name: "ci/test"},
		{State: api.CheckFailure, Name: "ci/test", URL: "https://ci.example/2", Summary: "1 failed"},
		{State: api.CheckSuccess, Revision: 1},
	} {
		if p, err = n.AddCheck(ctx, "r", p.ID, c); err != nil {
			t.Fatalf("AddCheck(%+v): %v", c, err)
		}
	}
	if len(p.Checks) != 2 {
		t.Fatalf("checks = %+v, want 2: the later ci/test report replaces the earlier", p.Checks)
	}
	if c := p.Checks[0]; c.RevNumber != 1 || c.Name != "" || c.State != api.CheckSuccess || c.Reporter.Alias != "ci" {
		t.Errorf("first check = %+v, want revision 1's default context, success", c)
	}
	if c := p.Checks[1]; c.RevNumber != 2 || c.Name != "ci/test" || c.State != api.CheckFailure || c.URL != "https://ci.example/2" || c.Summary != "1 failed" {
		t.Errorf("second check = %+v, want revision 2's ci/test, failure", c)
	}
	for _, bad := range []api.NewCheck{
		{State: "done"},
		{State: api.CheckPending, Revision: 3},
		{State: api.CheckPending, URL: "file:///etc/passwd"},
	} {
		if _, err := n.AddCheck(ctx, "r", p.ID, bad); code(err) != api.CodeInvalid {
			t.Errorf("AddCheck(%+v) = %v, want %s", bad, err, api.CodeInvalid)
		}
	}
}
