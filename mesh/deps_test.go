package mesh

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps mesh below node in the layering: of murmur's own
// packages it may import only identity and merkle.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if (imp == "murmur" || strings.HasPrefix(imp, "murmur/")) && imp != "murmur/identity" && imp != "murmur/merkle" {
			t.Errorf("mesh imports %s; only murmur/identity and murmur/merkle are allowed", imp)
		}
	}
}
