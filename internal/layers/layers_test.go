package layers

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for each package, the murmur packages it may import
// directly. A package missing from the map may import anything (commands,
// test helpers).
var allowed = map[string][]string{
	"murmur/api":               {},
	"murmur/crdt":              {},
	"murmur/identity":          {},
	"murmur/merkle":            {},
	"murmur/search":            {},
	"murmur/gitstore":          {},
	"murmur/discovery":         {"murmur/identity"},
	"murmur/policy":            {"murmur/identity"},
	"murmur/internal/memlimit": {},
	"murmur/internal/repogen":  {},
	"murmur/op":                {"murmur/crdt", "murmur/identity"},
	"murmur/forge":             {"murmur/crdt", "murmur/identity", "murmur/op"},
	"murmur/storage":           {"murmur/crdt", "murmur/identity", "murmur/op", "murmur/forge", "murmur/search"},
	"murmur/mesh":              {"murmur/identity", "murmur/merkle"},
	"murmur/localapi":          {"murmur/api"},
	"murmur/attach":            {"murmur/api", "murmur/localapi", "murmur/node"},
	"murmur/gitremote":         {"murmur/api"},
	"murmur/tui":               {"murmur/api"},
	"murmur/node": {"murmur/api", "murmur/crdt", "murmur/identity", "murmur/op", "murmur/forge",
		"murmur/storage", "murmur/merkle", "murmur/mesh", "murmur/gitstore", "murmur/discovery", "murmur/search",
		"murmur/policy"},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "murmur/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		seen[pkg] = true
		ok, guarded := allowed[pkg]
		if !guarded {
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, "murmur/") {
				continue
			}
			if !slices.Contains(ok, imp) {
				t.Errorf("%s imports %s, which the layering forbids (allowed: %v)", pkg, imp, ok)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("guarded package %s not found; update the table", pkg)
		}
	}
}
