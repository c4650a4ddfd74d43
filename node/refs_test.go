package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"murmur/api"
	"murmur/identity"
)

func refNamed(refs []api.Ref, name string) (api.Ref, bool) {
	for _, r := range refs {
		if r.Name == name {
			return r, true
		}
	}
	return api.Ref{}, false
}

// TestPushRefsForceAndNamespaces: a maintainer's push moves canonical
// refs, a non-fast-forward is refused whole unless forced and then
// shown forced, and pushes into a namespace need no maintainer but only
// reach the pusher's own namespace.
func TestPushRefsForceAndNamespaces(t *testing.T) {
	w := newWorkCopy(t)
	base := w.commit("a", 100)
	next := w.commit("b", 100)
	w.git("checkout", "--quiet", "-b", "side", base)
	side := w.commit("c", 100)
	ctx := testCtx(t)
	home := t.TempDir()
	n := openNode(t, home)
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	if repo.GitDir != filepath.Join(home, CodeDir, repo.ID+".git") {
		t.Errorf("GitDir = %q, want the bare repository under %s", repo.GitDir, filepath.Join(home, CodeDir))
	}
	const main, topic = "refs/heads/main", "refs/heads/topic"
	push := func(p api.RefPush) ([]api.Ref, error) {
		t.Helper()
		p.Dir = w.dir
		return n.PushRefs(ctx, repo.ID, p)
	}
	if _, err := push(api.RefPush{Refs: map[string]string{main: next}}); err != nil {
		t.Fatalf("first push: %v", err)
	}

	// Not a fast-forward, together with a new ref: refused whole.
	_, err = push(api.RefPush{Refs: map[string]string{main: side, topic: side}})
	if code(err) != api.CodeConflict || !strings.Contains(err.Error(), main) || !strings.Contains(err.Error(), next[:7]) ||
		!strings.Contains(err.Error(), side[:7]) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("non-fast-forward push = %v, want a conflict naming %s, %.7s, %.7s and --force", err, main, next, side)
	}
	refs, _ := n.Refs(ctx, repo.ID)
	if r, _ := refNamed(refs, main); r.Commit != next || r.Forced {
		t.Errorf("main after a refused push = %+v, want %s not forced", r, next)
	}
	if _, ok := refNamed(refs, topic); ok {
		t.Errorf("a refused push set %s", topic)
	}

	refs, err = push(api.RefPush{Refs: map[string]string{main: side}, Force: true})
	if err != nil {
		t.Fatalf("forced push: %v", err)
	}
	if r, _ := refNamed(refs, main); r.Commit != side || !r.Forced || !r.Objects {
		t.Errorf("main after a forced push = %+v, want %s forced with objects", r, side)
	}
	// A fast-forward with --force is not a force update.
	w.git("checkout", "--quiet", "side")
	ahead := w.commit("d", 100)
	refs, err = push(api.RefPush{Refs: map[string]string{main: ahead}, Force: true})
	if r, _ := refNamed(refs, main); err != nil || r.Commit != ahead || r.Forced {
		t.Errorf("fast-forward push with force = %+v, %v; want %s not forced", r, err, ahead)
	}

	// The maintainer's own namespace.
	me, err := n.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs, err = push(api.RefPush{Refs: map[string]string{topic: next}, Namespace: api.NamespaceOwn})
	nsTopic := api.NamespaceRef(me.ID, topic)
	if r, ok := refNamed(refs, nsTopic); err != nil || !ok || r.Namespace != me.ID || r.Owner == nil || r.Owner.ID != me.ID || !r.Objects {
		t.Fatalf("push to own namespace: %+v, %v; want %s in %s's namespace", refs, err, nsTopic, me.ID)
	}
	if _, err := push(api.RefPush{Refs: map[string]string{topic: next}, Namespace: "elsewhere"}); code(err) != api.CodeInvalid {
		t.Errorf("push to namespace \"elsewhere\" = %v, want invalid", err)
	}
	n.Close()

	// Another identity, not a maintainer.
	if err := os.Remove(filepath.Join(home, KeyFile)); err != nil {
		t.Fatal(err)
	}
	k, _ := identity.Generate()
	if err := identity.Save(filepath.Join(home, KeyFile), k, nil); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, home)
	refs, err = push(api.RefPush{Refs: map[string]string{main: next}})
	mine := api.NamespaceRef(k.Public().DID(), main)
	if r, ok := refNamed(refs, mine); err != nil || !ok || r.Commit != next || r.Namespace != k.Public().DID() {
		t.Fatalf("non-maintainer's push: %+v, %v; want %s at %s", refs, err, mine, next)
	}
	if r, _ := refNamed(refs, main); r.Commit != ahead {
		t.Errorf("non-maintainer's push moved canonical main to %s", r.Commit)
	}
	if _, err := push(api.RefPush{Refs: map[string]string{main: next}, Namespace: api.NamespaceCanonical}); code(err) != api.CodeForbidden || !strings.Contains(err.Error(), "--own") {
		t.Errorf("non-maintainer's canonical push = %v, want forbidden, pointing at --own", err)
	}
	if _, err := push(api.RefPush{Refs: map[string]string{nsTopic: side}}); code(err) != api.CodeForbidden {
		t.Errorf("push into another's namespace = %v, want forbidden", err)
	}
	if _, err := n.SetRefs(ctx, repo.ID, map[string]string{main: side}); code(err) != api.CodeForbidden {
		t.Errorf("non-maintainer's SetRefs of a canonical ref = %v, want forbidden", err)
	}
	if _, err := n.SetRefs(ctx, repo.ID, map[string]string{nsTopic: side}); code(err) != api.CodeForbidden {
		t.Errorf("SetRefs into another's namespace = %v, want forbidden", err)
	}
	refs, err = n.SetRefs(ctx, repo.ID, map[string]string{mine: side})
	if r, _ := refNamed(refs, mine); err != nil || r.Commit != side || !r.Forced {
		t.Errorf("SetRefs in the own namespace, not a fast-forward = %+v, %v; want %s forced", r, err, side)
	}
}

// TestPushOverCommitsNotFetched: a ref whose current commit the node has
// not fetched cannot be checked for a fast-forward, so a push over it
// needs --force, and is then marked forced.
func TestPushOverCommitsNotFetched(t *testing.T) {
	w := newWorkCopy(t)
	head := w.commit("a", 100)
	ctx := testCtx(t)
	n := openNode(t, t.TempDir())
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	const main = "refs/heads/main"
	elsewhere := strings.Repeat("ab", 20)
	if _, err := n.SetRefs(ctx, repo.ID, map[string]string{main: elsewhere}); err != nil {
		t.Fatal(err)
	}
	_, err = n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{main: head}})
	if code(err) != api.CodeConflict || !strings.Contains(err.Error(), "not fetched") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("push over a commit not here = %v, want a conflict saying so", err)
	}
	refs, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{main: head}, Force: true})
	if r, _ := refNamed(refs, main); err != nil || r.Commit != head || !r.Forced {
		t.Errorf("forced push over a commit not here = %+v, %v; want %.7s forced", r, err, head)
	}
}
