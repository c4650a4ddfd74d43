package main

import (
	"strings"
	"testing"
)

// FuzzParseServeConfig reads arbitrary config files: an error names the
// line, a panic is a bug.
func FuzzParseServeConfig(f *testing.F) {
	f.Add("listen = 0.0.0.0:7788\njoin = a:1, b:2\nseed-all = true\n# comment\nlog = debug\n")
	f.Add("join\n")
	f.Add("seed_all = maybe")
	f.Fuzz(func(t *testing.T, text string) {
		var cfg serveConfig
		if err := parseServeConfig(strings.NewReader(text), &cfg); err != nil && !strings.HasPrefix(err.Error(), "line ") && !strings.Contains(err.Error(), "token too long") {
			t.Fatalf("error %q does not name the line", err)
		}
	})
}
