package policy

import (
	"testing"
)

// FuzzParse checks that any policy file either fails with ErrInvalid or
// parses to a policy that compiles and saves.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version":1,"blocked":[],"seed":{"mode":"trusted"},"budget":{"window":"1h","author_ops":5}}`))
	f.Add([]byte(`{"seed":{"mode":"repos","repos":["` + "00000000000000000000000000000000000000000000000000000000000000aa" + `"]}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := Compile(p); err != nil {
			t.Fatalf("Compile of a parsed policy: %v", err)
		}
		if err := Save(t.TempDir(), p); err != nil {
			t.Fatalf("Save of a parsed policy: %v", err)
		}
	})
}
