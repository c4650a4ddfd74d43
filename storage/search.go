package storage

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
	"murmur/search"
)

// The full-text index (format 5). Two derived tables, kept in the batch
// that writes the text they index, so the index never disagrees with the
// materialized objects:
//
//	'x'  token ‖ 0x00 ‖ objectID ‖ where ‖ sourceID           empty: a posting
//	'X'  sourceID ‖ where                                     CBOR []string: the
//	                                                          tokens indexed for it
//
// where is 't' (title), 'd' (body or description) or 'c' (comment);
// sourceID is the object's ID for 't' and 'd' and the comment's ID for
// 'c'. Tokens are search.Tokens of the current text (a hidden comment has
// none); they never contain 0x00, and the tail after the token has a fixed
// length, so a key splits without searching. The 'X' record lists what an
// edit of a title, body or comment must remove. Keys hold no repo: a
// search in one repo filters by the object's header, which it reads anyway
// to rank, and the bytes saved are a third of a posting.
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
const postingTail = 1 + 32 + 1 + 32

func postingKey(token string, obj op.ID, where byte, source op.ID) []byte {
	k := make([]byte, 0, 1+len(token)+postingTail)
	k = append(k, tagPosting)
	k = append(k, token...)
	k = append(k, 0)
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
func indexText(b *pebble.Batch, get func([]byte) ([]byte, bool, error), obj, source op.ID, where byte, text string) error {
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
			b.Delete(postingKey(tok, obj, where, source), nil)
		}
	}
	for _, tok := range tokens {
		if _, found := slices.BinarySearch(old, tok); !found {
			b.Set(postingKey(tok, obj, where, source), nil, nil)
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

// unindexed is the reader of indexText for a text that has no index
// record yet: one created in the same batch, or any during migrateSearch.
func unindexed([]byte) ([]byte, bool, error) { return nil, false, nil }

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
		if err := indexText(b, get, o.ID, o.ID, WhereTitle, title); err != nil {
			return err
		}
	}
	if changed&forge.FieldBody != 0 {
		body, _ := o.Body.Get()
		if err := indexText(b, get, o.ID, o.ID, WhereBody, body); err != nil {
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

// searchCand is an object that matched the terms so far.
type searchCand struct {
	where   byte // bit set: 1 title, 2 body, 4 comment
	comment op.ID
	seen    int // the last term index that matched
	updated crdt.Timestamp
}

// Search returns the objects whose title, body and comments together
// hold every term, the last one as a prefix when prefix is set; only
// those of repo unless it is zero, and only those keep accepts (nil:
// all). Terms are tokens (search.Tokens). Hits come ranked: title hits
// first, then the most recently updated, ties by ID; at most limit of
// them (0: all). Only the summaries of hits up to limit are read; the
// others cost a read of their header, for the ranking.
func (s *Store) Search(terms []string, prefix bool, repo op.ID, keep func(*forge.Summary) bool, limit int) ([]SearchHit, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	cands := map[op.ID]*searchCand{}
	for i, term := range terms {
		p := append([]byte{tagPosting}, term...)
		if !(prefix && i == len(terms)-1) {
			p = append(p, 0)
		}
		err := s.scanPostings(p, func(tail []byte) {
			obj := op.ID(tail[1:33])
			c := cands[obj]
			if i == 0 {
				if c == nil {
					c = &searchCand{}
					cands[obj] = c
				}
			} else if c == nil || c.seen < i-1 {
				return
			}
			c.seen = i
			switch tail[33] {
			case WhereTitle:
				c.where |= 1
			case WhereBody:
				c.where |= 2
			case WhereComment:
				src := op.ID(tail[34:66])
				if c.where&4 == 0 || string(src[:]) < string(c.comment[:]) {
					c.comment = src
				}
				c.where |= 4
			}
		})
		if err != nil {
			return nil, err
		}
	}
	// Rank by the update clock of each object's header, then read the
	// summaries in that order until limit of them pass keep.
	ids := make([]op.ID, 0, len(cands))
	for id, c := range cands {
		if c.seen != len(terms)-1 {
			continue
		}
		h, err := s.header(id)
		if err != nil {
			return nil, err
		}
		if !repo.IsZero() && h.Repo != repo {
			continue
		}
		c.updated = h.Updated
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b op.ID) int {
		ca, cb := cands[a], cands[b]
		if ta, tb := ca.where&1 != 0, cb.where&1 != 0; ta != tb {
			if ta {
				return -1
			}
			return 1
		}
		if ca.updated != cb.updated {
			if ca.updated > cb.updated {
				return -1
			}
			return 1
		}
		return bytes.Compare(a[:], b[:])
	})
	var out []SearchHit
	for _, id := range ids {
		if limit > 0 && len(out) == limit {
			break
		}
		sm, err := s.summary(id)
		if err != nil {
			return nil, err
		}
		if keep != nil && !keep(&sm) {
			continue
		}
		c := cands[id]
		out = append(out, SearchHit{Summary: sm, Title: c.where&1 != 0, Body: c.where&2 != 0, Comment: c.comment})
	}
	return out, nil
}

// scanPostings calls f with the tail (0 ‖ objectID ‖ where ‖
// sourceID) of each posting with prefix p, in key order.
func (s *Store) scanPostings(p []byte, f func(tail []byte)) error {
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return s.damaged("read search index", err)
	}
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) < 1+postingTail || k[len(k)-postingTail] != 0 {
			it.Close()
			return fmt.Errorf("storage: search posting %x: %w", k, ErrCorrupt)
		}
		tail := k[len(k)-postingTail:]
		f(tail)
		valid = it.Next()
	}
	if err := it.Close(); err != nil {
		return s.damaged("read search index", err)
	}
	return nil
}

// header reads the header part of object id.
func (s *Store) header(id op.ID) (forge.ObjectHeader, error) {
	var h forge.ObjectHeader
	v, ok, err := s.get(objectKey(id, 0))
	if err != nil {
		return h, err
	}
	if !ok {
		return h, fmt.Errorf("%s: %w", id.Short(), ErrNotFound)
	}
	if err := decMode.Unmarshal(v, &h); err != nil {
		return h, fmt.Errorf("storage: object %s header: %v: %w", id.Short(), err, ErrCorrupt)
	}
	return h, nil
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
	objects := map[op.ID]bool{} // with a readable header
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
			objects[id] = true
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
		if err := indexText(b, unindexed, id, id, where, t); err != nil {
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
		if !objects[obj] {
			return nil
		}
		if err := indexText(b, unindexed, obj, op.ID(k[33:65]), WhereComment, commentText(&c)); err != nil {
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
