package storage_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

const crashDirEnv = "MURMUR_STORAGE_CRASH_DIR"

// TestHelperCrashChild is the child process of TestCrashSafety. It opens
// the store named by the environment and creates issues until it is
// killed, printing each op ID once Create has returned.
func TestHelperCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	s, err := storage.Open(dir, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	owner := testKey(t, 1)
	a, err := create(t, s, op.ID{}, owner, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "crash", DefaultBranch: "main"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "repo", a.ID)
	out.Flush()
	for i := 0; ; i++ {
		a, err := create(t, s, a.Meta.Repo, owner, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("issue %d", i)})
		if err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, "issue", a.ID)
		out.Flush()
	}
}

// TestCrashSafety kills a process that is creating ops and checks that
// every op it reported as created is in the store, which opens cleanly.
func TestCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	dir := filepath.Join(t.TempDir(), "db")
	want := 300
	if testing.Short() {
		want = 50
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	var repo op.ID
	var issues []op.ID
	deadline := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(stdout)
	for len(issues) < want && sc.Scan() {
		kind, id, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "repo", "issue":
			parsed, err := op.ParseID(id)
			if err != nil {
				t.Fatalf("child printed %q: %v", sc.Text(), err)
			}
			if kind == "repo" {
				repo = parsed
			} else {
				issues = append(issues, parsed)
			}
		default:
			t.Fatalf("child: %s", sc.Text())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	if len(issues) < want {
		t.Fatalf("child reported %d issues before it stopped, want %d", len(issues), want)
	}

	s, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	defer s.Close()
	for _, id := range append([]op.ID{repo}, issues...) {
		m, err := s.Meta(id)
		if err != nil || !m.Accepted {
			t.Fatalf("op %s reported created before the crash: %+v, %v", id.Short(), m, err)
		}
	}
	sums, err := s.Summaries(repo, forge.TypeIssue, "")
	if err != nil || len(sums) < len(issues) {
		t.Fatalf("Summaries after crash: %d, %v; want at least %d", len(sums), err, len(issues))
	}
	n, err := s.OpCount(repo)
	if err != nil || n < len(issues)+1 || n != len(sums)+1 {
		t.Errorf("OpCount = %d, %v; want %d summaries + genesis, at least %d", n, err, len(sums), len(issues)+1)
	}
	heads, err := s.Heads(repo)
	if err != nil || len(heads) != 1 {
		t.Errorf("Heads after crash = %v, %v; want one head", heads, err)
	}
	// The store keeps working after the crash.
	if _, err := create(t, s, repo, testKey(t, 1), forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "after crash"}); err != nil {
		t.Errorf("Create after crash: %v", err)
	}
}
