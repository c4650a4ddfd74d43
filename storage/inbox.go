package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// The inbox index records, in the order ops were stored here, the ops a
// user may want to hear about: new issues and patches, comments, state
// changes, review verdicts and review requests (the notable kinds). Who hears about which is
// decided when the inbox is read (package node), from what each entry
// carries; the index itself is the same for every user.
//
//	tag  key                      value
//	'n'  seq                      InboxEntry CBOR; seq is 8-byte big-endian,
//	                              the order in which this replica stored the ops
//	'N'  opID                     seq, uvarint: the entry of an op
//	'Q'  repo ‖ seq                empty: the entries of one repo
//	'P'  objectID ‖ author key    empty: author opened or commented on the object
//
// seq is local: it orders entries by arrival, so an op from a peer that was
// offline for a week is new here even though its clock is old. Rebuild keeps
// 'n' and 'N' (read markers name seqs) and adds entries only for ops that
// lack one; 'P' is idempotent.
const (
	tagInbox       = 'n'
	tagInboxOp     = 'N'
	tagParticipant = 'P'
	tagInboxRepo   = 'Q'
)

// Bounds of what one entry keeps of an op's text.
const (
	maxMentions   = 16
	maxMentionLen = 64
)

// InboxEntry is one notable op, as the inbox index stores it. Its CBOR form
// is part of the store format.
type InboxEntry struct {
	Seq     uint64             `cbor:"-"`
	Op      op.ID              `cbor:"1,keyasint"`
	Repo    op.ID              `cbor:"2,keyasint"`
	Object  op.ID              `cbor:"3,keyasint"`
	Kind    string             `cbor:"4,keyasint"`
	Actor   identity.PublicKey `cbor:"5,keyasint"`
	At      crdt.Timestamp     `cbor:"6,keyasint"`
	Owner   identity.PublicKey `cbor:"7,keyasint"`           // the object's author
	ReplyTo identity.PublicKey `cbor:"8,keyasint,omitempty"` // author of the comment answered
	// Mentions are the "@alias" words and did:key strings in the op's text,
	// at most maxMentions of at most maxMentionLen bytes each.
	Mentions []string `cbor:"9,keyasint,omitempty"`
	// Value is the new state of a state change or the verdict of a review.
	Value string `cbor:"10,keyasint,omitempty"`
	// Reviewer is the key a review request names.
	Reviewer identity.PublicKey `cbor:"11,keyasint,omitempty"`
}

// notable reports whether ops of kind go into the inbox index.
func notable(kind string) bool {
	switch kind {
	case forge.KindIssueOpen, forge.KindPatchOpen, forge.KindCommentAdd, forge.KindState, forge.KindReview, forge.KindReviewerAdd:
		return true
	}
	return false
}

// metaFunc reads an op's meta: a transaction's or the store's.
type metaFunc func(op.ID) (forge.Meta, bool, error)

// inboxEntry returns the entry of an accepted op, or nil when the op is not
// notable. Its body is decoded again here (storage does not see forge's
// decoded form); only notable ops pay for it.
func inboxEntry(o *op.Op, m forge.Meta, meta metaFunc) (*InboxEntry, error) {
	if !m.Accepted || !notable(m.Kind) || m.Object.IsZero() {
		return nil, nil
	}
	e := &InboxEntry{Op: o.ID(), Repo: m.Repo, Object: m.Object, Kind: m.Kind, Actor: m.Author, At: m.Clock}
	if m.Object == e.Op {
		e.Owner = m.Author
	} else if om, ok, err := meta(m.Object); err != nil {
		return nil, err
	} else if ok {
		e.Owner = om.Author
	}
	var text string
	switch m.Kind {
	case forge.KindIssueOpen:
		var b forge.IssueOpen
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		text = b.Title + "\n" + b.Body
	case forge.KindPatchOpen:
		var b forge.PatchOpen
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		text = b.Title + "\n" + b.Description
	case forge.KindCommentAdd:
		var b forge.CommentAdd
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		text = b.Body
		if b.ReplyTo != nil {
			if rm, ok, err := meta(*b.ReplyTo); err != nil {
				return nil, err
			} else if ok {
				e.ReplyTo = rm.Author
			}
		}
	case forge.KindState:
		var b forge.StateSet
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		e.Value = b.State
	case forge.KindReview:
		var b forge.Review
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		e.Value = b.Verdict
		text = b.Summary
	case forge.KindReviewerAdd:
		var b forge.Member
		if err := entryBody(o, &b); err != nil {
			return nil, err
		}
		e.Reviewer = b.Key
	}
	e.Mentions = Mentions(text)
	return e, nil
}

// entryBody decodes the body of a stored op, which verified when it came.
func entryBody(o *op.Op, v any) error {
	if err := decMode.Unmarshal(o.Body, v); err != nil {
		return fmt.Errorf("storage: inbox: op %s: %v: %w", o.ID().Short(), err, ErrCorrupt)
	}
	return nil
}

// Mentions returns the distinct "@name" words and "did:key:" strings of
// text, at most 16, each cut to 64 bytes.
func Mentions(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r == '@' || r == ':' || r == '-' || r == '_' || r == '.' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		w = strings.TrimRight(w, ".:-")
		switch {
		case strings.HasPrefix(w, "@") && len(w) > 1:
			w = strings.ToLower(w[1:])
		case strings.HasPrefix(w, "did:key:"):
		default:
			continue
		}
		if len(w) > maxMentionLen {
			w = w[:maxMentionLen]
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxMentions {
			break
		}
	}
	return out
}

// participant reports whether an op makes its author a participant of its
// object: opening it or commenting on it.
func participant(m forge.Meta) bool {
	return m.Accepted && !m.Object.IsZero() &&
		(m.Kind == forge.KindIssueOpen || m.Kind == forge.KindPatchOpen || m.Kind == forge.KindCommentAdd)
}

func participantKey(obj op.ID, who identity.PublicKey) []byte {
	k := make([]byte, 0, 1+32+len(who))
	k = append(k, tagParticipant)
	k = append(k, obj[:]...)
	return append(k, who[:]...)
}

func inboxKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagInbox}, seq)
}

func inboxRepoKey(repo op.ID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(key1(tagInboxRepo, repo[:]), seq)
}

// writeInbox adds the entries of a committed transaction's notable ops to
// its batch, numbering them from s.inboxSeq. It runs under s.mu.
func (t *txn) writeInbox() error {
	for _, e := range t.inbox {
		t.s.inboxSeq++
		if err := t.set(inboxKey(t.s.inboxSeq), e); err != nil {
			return fmt.Errorf("storage: encode inbox entry: %w", err)
		}
		t.b.Set(key1(tagInboxOp, e.Op[:]), binary.AppendUvarint(nil, t.s.inboxSeq), nil)
		t.b.Set(inboxRepoKey(e.Repo, t.s.inboxSeq), nil, nil)
	}
	return nil
}

// loadInboxSeq sets s.inboxSeq to the newest entry's seq.
func (s *Store) loadInboxSeq() error {
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagInbox}, UpperBound: []byte{tagInbox + 1}})
	if err != nil {
		return s.damaged("read inbox index", err)
	}
	defer it.Close()
	if it.Last() {
		if k := it.Key(); len(k) == 9 {
			s.inboxSeq = binary.BigEndian.Uint64(k[1:])
		}
	}
	return nil
}

// backfillInbox adds the inbox entries and participants of stored ops that
// have none, in each repo's (clock, ID) order: for a store written before
// the index existed (format < 4), and after Rebuild. It runs under s.mu or
// during Open.
func (s *Store) backfillInbox() error {
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	t := &txn{s: s, b: b}
	meta := func(id op.ID) (forge.Meta, bool, error) {
		m, err := s.Meta(id)
		if errors.Is(err, ErrNotFound) {
			return forge.Meta{}, false, nil
		}
		return m, err == nil, err
	}
	flush := func() error {
		if err := t.writeInbox(); err != nil {
			return err
		}
		t.inbox = t.inbox[:0]
		if err := s.fence.guard(func() error { return b.Commit(pebble.Sync) }); err != nil || s.fence.failure() != nil {
			return fmt.Errorf("storage: build inbox index: %w", s.failedLocked(err))
		}
		b.Close()
		b = s.db.NewBatch()
		t.b = b
		return nil
	}
	err := s.scan([]byte{tagClock}, func(k, _ []byte) error {
		var id op.ID
		copy(id[:], k[41:])
		m, err := s.Meta(id)
		if err != nil {
			return err
		}
		if participant(m) {
			b.Set(participantKey(m.Object, m.Author), nil, nil)
		}
		if !m.Accepted || !notable(m.Kind) {
			return nil
		}
		if ok, err := s.has(key1(tagInboxOp, id[:])); err != nil || ok {
			return err
		}
		o, err := s.Op(id)
		if err != nil {
			return err
		}
		e, err := inboxEntry(o, m, meta)
		if err != nil || e == nil {
			return err
		}
		t.inbox = append(t.inbox, e)
		if len(t.inbox) >= migrateBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// InboxEntries calls f with the inbox index's entries, newest first, until
// f returns false. A non-zero repo keeps that repo's entries, read through
// its own index, so that a repo's page does not decode the others'.
func (s *Store) InboxEntries(repo op.ID, f func(e *InboxEntry) (bool, error)) error {
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	lower, seqAt := []byte{tagInbox}, 1
	if !repo.IsZero() {
		lower, seqAt = key1(tagInboxRepo, repo[:]), 33
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return s.damaged("read inbox index", err)
	}
	defer it.Close()
	for valid := it.Last(); valid; valid = it.Prev() {
		k := it.Key()
		if len(k) != seqAt+8 {
			continue
		}
		e := &InboxEntry{Seq: binary.BigEndian.Uint64(k[seqAt:])}
		var v []byte
		var closer io.Closer
		if repo.IsZero() {
			v, err = it.ValueAndErr()
		} else {
			v, closer, err = db.Get(inboxKey(e.Seq))
		}
		if err != nil {
			return s.damaged("read inbox index", err)
		}
		err = decMode.Unmarshal(v, e)
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			return fmt.Errorf("storage: inbox entry %d: %v: %w", e.Seq, err, ErrCorrupt)
		}
		if more, err := f(e); err != nil || !more {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return s.damaged("read inbox index", err)
	}
	return nil
}

// InboxSeq returns the seq of the newest inbox entry (0 when there is none).
func (s *Store) InboxSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inboxSeq
}

// Participated reports whether who opened or commented on the object.
func (s *Store) Participated(obj op.ID, who identity.PublicKey) (bool, error) {
	return s.has(participantKey(obj, who))
}
