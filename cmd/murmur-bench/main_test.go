package main

import (
	"strings"
	"testing"
)

func TestRunRefusesBadCodeCommits(t *testing.T) {
	defer func(n int) { codeCommits = n }(codeCommits)
	var stdout, stderr strings.Builder
	if code := run([]string{"--code-commits", "0", "code"}, &stdout, &stderr); code != 2 {
		t.Errorf("run(--code-commits 0) = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "1 or more") {
		t.Errorf("stderr = %q, want it to say what to give", stderr.String())
	}
}
