package localapi

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports guards the import direction: localapi sits between the
// node and its users and is handed an api.Service, so of murmur it may
// import only murmur/api, and besides the standard library nothing but
// golang.org/x/sys.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		switch {
		case imp == "murmur/api":
		case imp == "murmur" || strings.HasPrefix(imp, "murmur/"):
			t.Errorf("localapi imports %s; of murmur it may import only murmur/api", imp)
		case strings.HasPrefix(imp, "golang.org/x/sys/"):
		case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
			t.Errorf("localapi imports %s; it may use only the standard library and golang.org/x/sys", imp)
		}
	}
}
