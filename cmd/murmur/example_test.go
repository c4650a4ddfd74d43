package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// run drives murmur in process: here `issue list` against a service with
// two issues, printed as tab-separated lines since stdout is not a
// terminal.
func Example() {
	svc := oneRepo()
	svc.issues[1].Title = "Docs are thin"
	e := env{
		Stdout: os.Stdout,
		Stderr: os.Stdout,
		Getenv: func(string) string { return "" },
		Dir:    os.TempDir(),
		Connect: func(context.Context, string, []byte) (api.Service, func() error, error) {
			return svc, func() error { return nil }, nil
		},
	}
	code := run(context.Background(), []string{"--home", "/nonexistent", "issue", "list", "-s", "all"}, e)
	fmt.Println("exit", code)
	// Output:
	// 1111aaaa	open	Crash on empty config	bug,ui	2026-03-14T15:04:26Z
	// 2222aaaa	closed	Docs are thin		2026-03-12T14:09:26Z
	// exit 0
}

// BenchmarkIssueList measures the command's own cost of listing 10,000
// issues (the service answers at once): parsing, JSON or table output.
func BenchmarkIssueList(b *testing.B) {
	svc := oneRepo()
	base := svc.issues[0]
	svc.issues = make([]api.IssueSummary, 10000)
	for i := range svc.issues {
		is := base
		is.ID = fmt.Sprintf("%08x%s", i*2654435761%(1<<32), strings.Repeat("0", 56))
		is.Updated = base.Updated.Add(-time.Duration(i) * time.Minute)
		svc.issues[i] = is
	}
	for _, bc := range []struct {
		name string
		args []string
		tty  bool
	}{
		{"json", []string{"issue", "list", "--json"}, false},
		{"tsv", []string{"issue", "list"}, false},
		{"table", []string{"issue", "list"}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := env{
				Stdout:    io.Discard,
				Stderr:    io.Discard,
				Getenv:    func(string) string { return "" },
				Dir:       b.TempDir(),
				StdoutTTY: bc.tty,
				Width:     120,
				Now:       func() time.Time { return testNow },
				Connect: func(context.Context, string, []byte) (api.Service, func() error, error) {
					return svc, func() error { return nil }, nil
				},
			}
			args := append([]string{"--home", b.TempDir()}, bc.args...)
			for b.Loop() {
				if code := run(context.Background(), args, e); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
