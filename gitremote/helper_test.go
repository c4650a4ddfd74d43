package gitremote

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/api"
	"murmur/node"
)

func TestParseURL(t *testing.T) {
	id := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"murmur://" + id, id, true},
		{"murmur://" + id + "/", id, true},
		{"murmur://project.git", "project", true},
		{"murmur://3f2a", "3f2a", true},
		{"https://example.com/x", "", false},
		{"murmur://", "", false},
		{"murmur://a/b", "", false},
		{"murmur://" + strings.Repeat("x", 300), "", false},
	} {
		got, err := ParseURL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseURL(%q) = %q, %v; want %q (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// fixture is a real node (Pebble store, git object store, no network)
// with one repo, and a git working copy with two commits.
type fixture struct {
	t      *testing.T
	n      *node.Node
	repo   api.Repo
	work   string
	first  string
	second string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	n, err := node.Open(ctx, node.Config{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	r, err := n.CreateRepo(ctx, api.NewRepo{Name: "p", DefaultBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, n: n, repo: r, work: t.TempDir()}
	f.git("init", "-q", "-b", "main")
	f.first = f.commit("a")
	f.second = f.commit("b")
	return f
}

func (f *fixture) git(args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = f.work
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+f.work,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (f *fixture) commit(file string) string {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.work, file), []byte(file), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.git("add", file)
	f.git("commit", "-q", "-m", file)
	return f.git("rev-parse", "HEAD")
}

// run runs the helper on the commands in, as git would, and returns what
// it answered.
func (f *fixture) run(url, in string) (string, error) {
	f.t.Helper()
	var out, errb strings.Builder
	h := &Helper{
		URL:    url,
		GitDir: filepath.Join(f.work, ".git"),
		Stderr: &errb,
		Connect: func(context.Context, bool) (*Node, error) {
			return &Node{Service: f.n, Embedded: true}, nil
		},
	}
	err := h.Run(context.Background(), strings.NewReader(in), &out)
	return out.String(), err
}

func (f *fixture) ref(name string) string {
	f.t.Helper()
	refs, err := f.n.Refs(context.Background(), f.repo.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range refs {
		if r.Name == name {
			return r.Commit
		}
	}
	return ""
}

func TestPushAndList(t *testing.T) {
	f := newFixture(t)
	url := Scheme + f.repo.ID
	out, err := f.run(url, "capabilities\noption progress false\noption cas x\nlist for-push\npush refs/heads/main:refs/heads/main\n\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "connect\npush\noption\n\nok\nunsupported\n\nok refs/heads/main\n\n"; out != want {
		t.Errorf("push answered %q, want %q", out, want)
	}
	if got := f.ref("refs/heads/main"); got != f.second {
		t.Errorf("main on the node = %q, want %s", got, f.second)
	}

	// By name, listed for the next push; a tag is pushed as its commit,
	// a ref deleted with an empty source.
	f.git("tag", "-a", "-m", "v1", "v1", f.first)
	out, err = f.run(Scheme+"p", "list for-push\npush +refs/tags/v1:refs/tags/v1\npush :refs/heads/main\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := f.second + " refs/heads/main\n\nok refs/tags/v1\nok refs/heads/main\n\n"; out != want {
		t.Errorf("second push answered %q, want %q", out, want)
	}
	if got := f.ref("refs/tags/v1"); got != f.first {
		t.Errorf("v1 on the node = %q, want the tagged commit %s", got, f.first)
	}
	if got := f.ref("refs/heads/main"); got != "" {
		t.Errorf("main on the node = %q after deleting it", got)
	}

	// A dry run checks and changes nothing.
	out, err = f.run(url, "option dry-run true\npush refs/heads/main:refs/heads/dry\npush refs/heads/nope:refs/heads/y\n\n")
	if err != nil || !strings.HasPrefix(out, "ok\nok refs/heads/dry\nerror refs/heads/y ") {
		t.Errorf("dry run answered %q, %v", out, err)
	}
	if got := f.ref("refs/heads/dry"); got != "" {
		t.Errorf("a dry run set refs/heads/dry to %s", got)
	}

	// A source that is not here is reported on its ref, not fatally.
	out, err = f.run(url, "push refs/heads/nope:refs/heads/x\n\n")
	if err != nil || !strings.HasPrefix(out, "error refs/heads/x ") {
		t.Errorf("push of a missing source: %q, %v; want an error line for refs/heads/x", out, err)
	}

	// The node's own non-fast-forward refusal is in git's spelling, so
	// that git shows "[rejected] (non-fast-forward)".
	if out, err = f.run(url, "push "+f.second+":refs/heads/nf\n\n"); err != nil || out != "ok refs/heads/nf\n\n" {
		t.Fatalf("push of a new branch: %q, %v", out, err)
	}
	if out, err = f.run(url, "push "+f.first+":refs/heads/nf\n\n"); err != nil || out != "error refs/heads/nf non-fast forward\n\n" {
		t.Errorf("push of an older commit without +: %q, %v; want %q", out, err, "error refs/heads/nf non-fast forward\n\n")
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	url := Scheme + f.repo.ID
	for _, tc := range []struct{ url, in, want string }{
		{"https://x", "capabilities\n", "not a murmur URL"},
		{Scheme + "nosuchrepo", "list for-push\n", "no repo"},
		{Scheme + strings.Repeat("cd", 32), "list for-push\n", "not on this machine's node"},
		{url, "frobnicate\n", "does not know"},
		{url, "connect git-upload-archive\n", "git-upload-archive"},
		{url, "push refs/heads/main\n\n", "no destination"},
		{url, "push refs/heads/main:refs/heads/main\nlist\n", "inside a push batch"},
		{url, strings.Repeat("x", maxLine+10) + "\n", "over"},
	} {
		t.Run(tc.in[:min(len(tc.in), 20)], func(t *testing.T) {
			_, err := f.run(tc.url, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) = %v, want an error containing %q", tc.in[:min(len(tc.in), 40)], err, tc.want)
			}
		})
	}
}

func ExampleParseURL() {
	repo, err := ParseURL("murmur://3f2a")
	fmt.Println(repo, err)
	// Output: 3f2a <nil>
}

// TestFetchWithoutCode: a fetch of a repo whose commits this node lacks,
// with no peer to bring them, fails at once and says why.
func TestFetchWithoutCode(t *testing.T) {
	f := newFixture(t)
	missing := strings.Repeat("1", 40)
	if _, err := f.n.SetRefs(context.Background(), f.repo.ID, map[string]string{"refs/heads/main": missing}); err != nil {
		t.Fatal(err)
	}
	out, err := f.run(Scheme+f.repo.ID, "capabilities\nconnect git-upload-pack\n")
	if err == nil || !strings.Contains(err.Error(), "no peer could be reached") || !strings.Contains(err.Error(), "offline") {
		t.Errorf("fetch without code = %v, want it to say no peer could be reached and why", err)
	}
	if strings.Count(out, "\n") != 4 {
		t.Errorf("the helper answered %q; it must not tell git the connection is up", out)
	}
}
