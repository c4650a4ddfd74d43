package identity

import (
	"go/build"
	"strings"
	"testing"
)

// TestLeafPackage guards the import direction: identity is a leaf that
// every murmur package may import, so it must import none of them.
func TestLeafPackage(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "murmur" || strings.HasPrefix(imp, "murmur/") {
			t.Errorf("identity imports %s; it must not import other murmur packages", imp)
		}
	}
}
