package forge

import (
	"slices"
	"testing"

	"murmur/identity"
	"murmur/op"
)

// FuzzDecodeBody decodes arbitrary bodies under every kind, as an op
// from a peer would be: a decoder error is fine, a panic is not, and an
// accepted body re-encodes to the bytes that were accepted (bodies are
// canonical CBOR, so one value has one encoding).
func FuzzDecodeBody(f *testing.F) {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	for kind, b := range map[string]any{
		KindIssueOpen:  IssueOpen{Title: "title", Body: "body"},
		KindTitle:      Set{Value: "v"},
		KindCommentAdd: CommentAdd{Body: "hi"},
		KindCheck:      Check{Revision: op.ID{1}, State: CheckSuccess, Name: "ci", URL: "https://ci.example/1"},
		KindBan:        Standing{Key: identity.PublicKey{7}, On: true, Reason: "spam"},
		KindMember:     Standing{Key: identity.PublicKey{8}, On: true},
		KindWhoOpens:   Set{Value: OpensMembers},
		KindLock:       SetBool{Value: true},
	} {
		enc, err := op.EncodeBody(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(slices.Index(names, kind)), enc)
	}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := names[int(k)%len(names)]
		v, err := decodeBodyOnce(&op.Op{Kind: kind, Body: body})
		if err != nil {
			return
		}
		again, err := op.EncodeBody(v)
		if err != nil {
			t.Fatalf("%s: accepted body %x does not re-encode: %v", kind, body, err)
		}
		if string(again) != string(body) {
			t.Fatalf("%s: accepted body %x re-encodes as %x", kind, body, again)
		}
	})
}
