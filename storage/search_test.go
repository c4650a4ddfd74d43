package storage_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/op"
	"murmur/search"
	"murmur/storage"
)

// searchIDs runs a search and returns the short IDs of the hits, sorted.
func searchIDs(t *testing.T, s *storage.Store, query string) []string {
	t.Helper()
	q, err := search.Parse(query)
	if err != nil {
		t.Fatalf("Parse(%q): %v", query, err)
	}
	hits, err := s.Search(q.Terms, q.Prefix, op.ID{}, nil, 0)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, h.Summary.ID.Short())
	}
	slices.Sort(out)
	return out
}

func TestSearchFollowsEdits(t *testing.T) {
	s := open(t, nil, nil)
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	ingest(t, s, g)
	repo := g.ID()
	issue := mustCreate(t, s, repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Parser crash", Body: "A segfault in the lexer."})
	other := mustCreate(t, s, repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Docs", Body: "The parser docs are thin."})
	comment := mustCreate(t, s, repo, k, forge.KindCommentAdd, issue, forge.CommentAdd{Body: "Seen with a Zebra file, Grüße."})
	one, both := []string{issue.Short()}, []string{issue.Short(), other.Short()}
	slices.Sort(both)

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"crash", one},
		{"parser", both},
		{"zebra", one},        // only in a comment
		{"grüße", one},        // Unicode, lowercased
		{"GRÜSSE", nil},       // no folding beyond lowercase
		{"seg", one},          // the last word is a prefix
		{"seg ", nil},         // unless the query ends in a space
		{"parser zebra", one}, // AND across title and comment
		{"parser thin", []string{other.Short()}},
		{"nothing", nil},
	} {
		if got := searchIDs(t, s, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("search %q = %v, want %v", tc.query, got, tc.want)
		}
	}

	hits, err := s.Search([]string{"zebra"}, false, repo, nil, 0)
	if err != nil || len(hits) != 1 || hits[0].Comment != comment || hits[0].Title || hits[0].Body {
		t.Fatalf("Search(zebra) = %+v, %v; want a comment hit on %s", hits, err, comment.Short())
	}
	if hits, err := s.Search([]string{"zebra"}, false, op.ID{1}, nil, 0); err != nil || len(hits) != 0 {
		t.Errorf("Search(zebra) in another repo = %+v, %v; want none", hits, err)
	}

	// An edit removes the words it removed, and adds its own.
	mustCreate(t, s, repo, k, forge.KindTitle, issue, forge.Set{Value: "Parser hang"})
	mustCreate(t, s, repo, k, forge.KindCommentEdit, comment, forge.Set{Value: "Seen with a Yak file."})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"crash", nil},
		{"hang", one},
		{"zebra", nil},
		{"yak", one},
		{"segfault", one},
	} {
		if got := searchIDs(t, s, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("after edits, search %q = %v, want %v", tc.query, got, tc.want)
		}
	}
	// A hidden comment is not found; shown again, it is.
	mustCreate(t, s, repo, k, forge.KindCommentHide, comment, forge.SetBool{Value: true})
	if got := searchIDs(t, s, "yak"); got != nil {
		t.Errorf("hidden comment: search yak = %v, want none", got)
	}
	mustCreate(t, s, repo, k, forge.KindCommentHide, comment, forge.SetBool{Value: false})
	if got := searchIDs(t, s, "yak"); !slices.Equal(got, one) {
		t.Errorf("shown again: search yak = %v, want %v", got, one)
	}
	// Title hits come first, and limit cuts the ranked list.
	if hits, err := s.Search([]string{"parser"}, false, op.ID{}, nil, 1); err != nil || len(hits) != 1 || hits[0].Summary.ID != issue || !hits[0].Title {
		t.Errorf("Search(parser, limit 1) = %+v, %v; want the title hit %s", hits, err, issue.Short())
	}
	// The keep filter sees the summary.
	hits, err = s.Search([]string{"parser"}, false, op.ID{}, func(sm *forge.Summary) bool { return sm.Title == "Docs" }, 0)
	if err != nil || len(hits) != 1 || hits[0].Summary.ID != other {
		t.Errorf("Search(parser) keeping Docs = %+v, %v", hits, err)
	}
}

// TestSearchAgreesWithScan applies random creations, edits, comments and
// hides and compares every search with a scan of the materialized state,
// then again after a rebuild.
func TestSearchAgreesWithScan(t *testing.T) {
	vocab := []string{"alpha", "beta", "gamma", "delta", "alp", "betamax", "Éclair"}
	text := func(r *rand.Rand) string {
		n := 1 + r.IntN(3)
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[r.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			s := open(t, nil, nil)
			k := testKey(t, 1)
			g := genesis(t, k, "murmur")
			ingest(t, s, g)
			repo := g.ID()
			var objs, comments []op.ID
			for range 120 {
				switch x := r.IntN(10); {
				case x < 2 || len(objs) == 0:
					objs = append(objs, mustCreate(t, s, repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "t " + text(r), Body: text(r)}))
				case x < 4:
					kind := forge.KindTitle
					if x == 3 {
						kind = forge.KindBody
					}
					mustCreate(t, s, repo, k, kind, objs[r.IntN(len(objs))], forge.Set{Value: "e " + text(r)})
				case x < 7:
					comments = append(comments, mustCreate(t, s, repo, k, forge.KindCommentAdd, objs[r.IntN(len(objs))], forge.CommentAdd{Body: text(r)}))
				case x < 9 && len(comments) > 0:
					mustCreate(t, s, repo, k, forge.KindCommentEdit, comments[r.IntN(len(comments))], forge.Set{Value: text(r)})
				case len(comments) > 0:
					mustCreate(t, s, repo, k, forge.KindCommentHide, comments[r.IntN(len(comments))], forge.SetBool{Value: r.IntN(2) == 0})
				}
			}
			check := func(when string) {
				t.Helper()
				for _, q := range []string{"alpha", "alp", "alp ", "beta", "betamax", "éclair", "alpha beta", "gamma delt", "e", "t alpha"} {
					if got, want := searchIDs(t, s, q), scanSearch(t, s, objs, q); !slices.Equal(got, want) {
						t.Errorf("%s: search %q = %v, scan finds %v", when, q, got, want)
					}
				}
			}
			check("live")
			if err := s.Rebuild(); err != nil {
				t.Fatal(err)
			}
			check("after rebuild")
		})
	}
}

// scanSearch answers a query by reading every object and comment.
func scanSearch(t *testing.T, s *storage.Store, objs []op.ID, query string) []string {
	t.Helper()
	q, err := search.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range objs {
		o, err := s.ObjectWithComments(id)
		if err != nil {
			t.Fatal(err)
		}
		title, _ := o.Title.Get()
		body, _ := o.Body.Get()
		tokens := append(search.Tokens(title), search.Tokens(body)...)
		for _, c := range o.Comments {
			if hidden, _ := c.Hidden.Get(); !hidden {
				b, _ := c.Body.Get()
				tokens = append(tokens, search.Tokens(b)...)
			}
		}
		all := true
		for i, term := range q.Terms {
			all = all && slices.ContainsFunc(tokens, func(tok string) bool {
				return search.Matches(tok, term, q.Prefix && i == len(q.Terms)-1)
			})
		}
		if all {
			out = append(out, id.Short())
		}
	}
	slices.Sort(out)
	return out
}

// TestMigrateSearch opens a format 3 store, which has no search index, and
// finds the index built, also when a first migration was cut short.
func TestMigrateSearch(t *testing.T) {
	for _, keepSome := range []bool{false, true} {
		t.Run(fmt.Sprintf("partial=%v", keepSome), func(t *testing.T) {
			fs := vfs.NewMem()
			s := open(t, fs, nil)
			k := testKey(t, 1)
			g := genesis(t, k, "murmur")
			ingest(t, s, g)
			repo := g.ID()
			var want []string
			for i := range 30 {
				id := mustCreate(t, s, repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("issue %d", i), Body: "body words"})
				mustCreate(t, s, repo, k, forge.KindCommentAdd, id, forge.CommentAdd{Body: fmt.Sprintf("comment marker%d", i%3)})
				if i%3 == 1 {
					want = append(want, id.Short())
				}
			}
			slices.Sort(want)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// Make it a format 3 store: no search tables.
			db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			b := db.NewBatch()
			if keepSome {
				// A cut-short migration left some of the index.
				it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{'x'}, UpperBound: []byte{'x' + 1}})
				if err != nil {
					t.Fatal(err)
				}
				i := 0
				for it.First(); it.Valid(); it.Next() {
					if i++; i%2 == 0 {
						b.Delete(slices.Clone(it.Key()), nil)
					}
				}
				it.Close()
			} else {
				b.DeleteRange([]byte{'x'}, []byte{'x' + 1}, nil)
				b.DeleteRange([]byte{'X'}, []byte{'X' + 1}, nil)
			}
			b.Set([]byte{0x00, 'f', 'o', 'r', 'm', 'a', 't'}, binary.AppendUvarint(nil, 3), nil)
			if err := b.Commit(pebble.Sync); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s = open(t, fs, nil)
			if got := searchIDs(t, s, "marker1"); !slices.Equal(got, want) {
				t.Errorf("after migration, search marker1 = %v, want %v", got, want)
			}
			if got := searchIDs(t, s, "body words"); len(got) != 30 {
				t.Errorf("after migration, search 'body words' finds %d, want 30", len(got))
			}
			if got := searchIDs(t, s, "issue 7"); len(got) != 1 {
				t.Errorf("after migration, search 'issue 7' = %v, want one", got)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
