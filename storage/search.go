package storage

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
	"murmur/search"
)

// The full-text index (format 4). Two derived tables, kept in the batch
// that writes the text they index, so the index never disagrees with the
// materialized objects:
//
//	'x'  token ‖ 0x00 ‖ repo ‖ objectID ‖ where ‖ sourceID    empty: a posting
//	'X'  sourceID ‖ where                                     CBOR []string: the
//	                                                          tokens indexed for it
//
// where is 't' (title), 'd' (body or description) or 'c' (comment);
// sourceID is the object's ID for 't' and 'd' and the comment's ID for
// 'c'. Tokens are search.Tokens of the current text (a hidden comment has
// none); they never contain 0x00, and the tail after the token has a fixed
// length, so a key splits without searching. The 'X' record lists what an
// edit of a title, body or comment must remove.
const (
	tagPosting = 'x'
	tagIndexed = 'X'
)

// Where a search term matched.
const (
	WhereTitle   byte = 't'
	WhereBody    byte = 'd'
	WhereComment byte = 'c'
)

// postingTail is the length of a posting key after its token.
const postingTail = 1 + 32 + 32 + 1 + 32

func postingKey(token string, repo, obj op.ID, where byte, source op.ID) []byte {
	k := make([]byte, 0, 1+len(token)+postingTail)
	k = append(k, tagPosting)
	k = append(k, token...)
	k = append(k, 0)
	k = append(k, repo[:]...)
	k = append(k, obj[:]...)
	k = append(k, where)
	return append(k, source[:]...)
}

func indexedKey(source op.ID, where byte) []byte {
	k := make([]byte, 0, 34)
	k = append(k, tagIndexed)
	k = append(k, source[:]...)
	return append(k, where)
}

// indexText makes the index of one text (an object's title or body, or a
// comment) hold exactly the tokens of text, in batch b: it removes the
// postings of tokens the text lost and adds those it gained. get reads the
// store as of before b.
func indexText(b *pebble.Batch, get func([]byte) ([]byte, bool, error), repo, obj, source op.ID, where byte, text string) error {
	ik := indexedKey(source, where)
	v, ok, err := get(ik)
	if err != nil {
		return err
	}
	var old []string
	if ok {
		if err := decMode.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("storage: search index of %s: %v: %w", source.Short(), err, ErrCorrupt)
		}
	}
	tokens := search.Tokens(text)
	slices.Sort(tokens)
	if slices.Equal(old, tokens) {
		return nil
	}
	for _, tok := range old {
		if _, found := slices.BinarySearch(tokens, tok); !found {
			b.Delete(postingKey(tok, repo, obj, where, source), nil)
		}
	}
	for _, tok := range tokens {
		if _, found := slices.BinarySearch(old, tok); !found {
			b.Set(postingKey(tok, repo, obj, where, source), nil, nil)
		}
	}
	if len(tokens) == 0 {
		b.Delete(ik, nil)
		return nil
	}
	nv, err := encMode.Marshal(tokens)
	if err != nil {
		return fmt.Errorf("storage: encode search index: %w", err)
	}
	b.Set(ik, nv, nil)
	return nil
}

// commentText is the indexed text of a comment: its body, none when hidden.
func commentText(c *forge.Comment) string {
	if hidden, _ := c.Hidden.Get(); hidden {
		return ""
	}
	body, _ := c.Body.Get()
	return body
}

// indexObject indexes the parts of o that changed.
func indexObject(b *pebble.Batch, get func([]byte) ([]byte, bool, error), o *forge.Object, changed forge.Fields) error {
	if changed&forge.FieldTitle != 0 {
		title, _ := o.Title.Get()
		if err := indexText(b, get, o.Repo, o.ID, o.ID, WhereTitle, title); err != nil {
			return err
		}
	}
	if changed&forge.FieldBody != 0 {
		body, _ := o.Body.Get()
		if err := indexText(b, get, o.Repo, o.ID, o.ID, WhereBody, body); err != nil {
			return err
		}
	}
	return nil
}

// SearchHit is an object whose title, body and comments together hold
// every term of a search.
type SearchHit struct {
	Summary forge.Summary
	Title   bool  // some term matched the title
	Body    bool  // some term matched the body
	Comment op.ID // the first comment (by ID) some term matched; zero when none did
}

// Search returns the objects whose title, body and comments together
// hold every term, the last one as a prefix when prefix is set; only
// those of repo unless it is zero, and only those keep accepts. Terms are
// tokens (search.Tokens). Hits are in no particular order.
func (s *Store) Search(terms []string, prefix bool, repo op.ID, keep func(*forge.Summary) bool) ([]SearchHit, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	type cand struct {
		where   byte // bit set of 1 title, 2 body, 4 comment
		comment op.ID
		seen    int // the last term index that matched
	}
	cands := map[op.ID]*cand{}
	for i, term := range terms {
		last := prefix && i == len(terms)-1
		p := append([]byte{tagPosting}, term...)
		if !last {
			p = append(p, 0)
			if !repo.IsZero() {
				p = append(p, repo[:]...)
			}
		}
		err := s.scan(p, func(k, _ []byte) error {
			if len(k) < 1+postingTail {
				return fmt.Errorf("storage: search posting of %d bytes: %w", len(k), ErrCorrupt)
			}
			tail := k[len(k)-postingTail:]
			if tail[0] != 0 || (!repo.IsZero() && string(tail[1:33]) != string(repo[:])) {
				return nil
			}
			obj := op.ID(tail[33:65])
			c := cands[obj]
			if i == 0 {
				if c == nil {
					c = &cand{}
					cands[obj] = c
				}
			} else if c == nil || c.seen < i-1 {
				return nil
			}
			c.seen = i
			switch tail[65] {
			case WhereTitle:
				c.where |= 1
			case WhereBody:
				c.where |= 2
			case WhereComment:
				src := op.ID(tail[66:98])
				if c.where&4 == 0 || string(src[:]) < string(c.comment[:]) {
					c.comment = src
				}
				c.where |= 4
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]SearchHit, 0, len(cands))
	for id, c := range cands {
		if c.seen != len(terms)-1 {
			continue
		}
		sm, err := s.summary(id)
		if err != nil {
			return nil, err
		}
		if keep != nil && !keep(&sm) {
			continue
		}
		out = append(out, SearchHit{Summary: sm, Title: c.where&1 != 0, Body: c.where&2 != 0, Comment: c.comment})
	}
	return out, nil
}

// summaryParts are the object parts Summary reads.
const summaryParts = forge.FieldHeader | forge.FieldTitle | forge.FieldState | forge.FieldLabels | forge.FieldAssignees | forge.FieldRevisions

// summary reads the listing record of object id, decoding only the parts
// it needs.
func (s *Store) summary(id op.ID) (forge.Summary, error) {
	o := &forge.Object{}
	found := false
	err := s.scan(key1(tagObject, id[:]), func(k, v []byte) error {
		if len(k) != 34 || k[33] >= 16 {
			return fmt.Errorf("storage: object %s: bad part key: %w", id.Short(), ErrCorrupt)
		}
		f := forge.Fields(1) << k[33]
		if f&summaryParts == 0 {
			return nil
		}
		if f == forge.FieldHeader {
			var h forge.ObjectHeader
			if err := decMode.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("storage: object %s header: %v: %w", id.Short(), err, ErrCorrupt)
			}
			o.SetHeader(h)
			found = true
			return nil
		}
		if err := decMode.Unmarshal(v, o.Field(f)); err != nil {
			return fmt.Errorf("storage: object %s part %d: %v: %w", id.Short(), k[33], err, ErrCorrupt)
		}
		return nil
	})
	if err != nil {
		return forge.Summary{}, err
	}
	if !found {
		return forge.Summary{}, fmt.Errorf("%s: %w", id.Short(), ErrNotFound)
	}
	return o.Summary(), nil
}

// migrateSearch builds the full-text index of a store from before format
// 4, from the materialized objects and comments, in batches of at most
// migrateBatch texts. Indexing a text is idempotent, so a migration cut
// short is finished by the next open. It runs during Open, before the
// store is shared, so the texts have not changed since a migration that
// was cut short: it writes every posting again rather than trusting the
// 'X' records such a migration left.
func (s *Store) migrateSearch() error {
	unindexed := func([]byte) ([]byte, bool, error) { return nil, false, nil }
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	n := 0
	step := func() error {
		if n++; n%migrateBatch != 0 {
			return nil
		}
		if err := b.Commit(pebble.NoSync); err != nil || s.fence.failure() != nil {
			return fmt.Errorf("storage: build search index: %w", s.failedLocked(err))
		}
		b.Close()
		b = s.db.NewBatch()
		return nil
	}
	repos := map[op.ID]op.ID{} // object → repo
	var cur op.ID
	err := s.scan([]byte{tagObject}, func(k, v []byte) error {
		if len(k) != 34 {
			return nil
		}
		id := op.ID(k[1:33])
		var where byte
		switch forge.Fields(1) << k[33] {
		case forge.FieldHeader:
			var h forge.ObjectHeader
			if err := decMode.Unmarshal(v, &h); err != nil {
				return nil // Check reports it; Rebuild restores it
			}
			repos[id] = h.Repo
			cur = id
			return nil
		case forge.FieldTitle:
			where = WhereTitle
		case forge.FieldBody:
			where = WhereBody
		default:
			return nil
		}
		var text crdt.LWW[string]
		if id != cur || decMode.Unmarshal(v, &text) != nil {
			return nil
		}
		t, _ := text.Get()
		if err := indexText(b, unindexed, repos[id], id, id, where, t); err != nil {
			return err
		}
		return step()
	})
	if err != nil {
		return err
	}
	err = s.scan([]byte{tagComment}, func(k, v []byte) error {
		var c forge.Comment
		if len(k) != 65 || decMode.Unmarshal(v, &c) != nil {
			return nil
		}
		obj := op.ID(k[1:33])
		repo, ok := repos[obj]
		if !ok {
			return nil
		}
		if err := indexText(b, unindexed, repo, obj, op.ID(k[33:65]), WhereComment, commentText(&c)); err != nil {
			return err
		}
		return step()
	})
	if err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil || s.fence.failure() != nil {
		return fmt.Errorf("storage: build search index: %w", s.failedLocked(err))
	}
	return nil
}
