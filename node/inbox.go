package node

import (
	"context"
	"encoding/binary"
	"strings"
	"time"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// Read markers of the inbox are local settings (never replicated): the
// global marker is the seq of the newest inbox entry when the user last
// marked everything read; an object's marker is that seq when they last
// marked the object read. An entry is unread while its seq is above both.
const (
	inboxReadKey    = "inbox.read"
	inboxReadPrefix = "inbox.read/"
)

// inboxReader decides, for one user, which inbox entries are theirs, why,
// and whether they are read. It caches what it looks up; one serves one
// query.
type inboxReader struct {
	n       *Node
	me      identity.PublicKey
	did     string
	alias   string // lower case; "" when none
	global  uint64
	marks   map[op.ID]uint64
	repos   map[op.ID]people
	objects map[op.ID]*forge.Object
	only    op.ID // zero: every followed repo
}

func (n *Node) inboxReader(repo string) (*inboxReader, error) {
	n.mu.Lock()
	key := n.key
	n.mu.Unlock()
	if key == nil {
		return nil, api.Errorf(api.CodeNoIdentity, "no identity yet, so no inbox; create one with `murmur id init --alias NAME`")
	}
	r := &inboxReader{n: n, me: key.Public(), alias: strings.ToLower(n.localAlias()),
		marks: map[op.ID]uint64{}, repos: map[op.ID]people{}, objects: map[op.ID]*forge.Object{}}
	r.did = r.me.DID()
	if repo != "" {
		id, err := n.resolveRepo(repo)
		if err != nil {
			return nil, err
		}
		r.only = id
	}
	v, err := n.store.Local(inboxReadKey)
	if err != nil {
		return nil, internal(err)
	}
	r.global, _ = binary.Uvarint(v)
	return r, nil
}

// reason returns why e is in the user's inbox, or "" when it is not.
func (r *inboxReader) reason(e *storage.InboxEntry) (string, error) {
	if e.Actor == r.me || (!r.only.IsZero() && e.Repo != r.only) || !r.n.rep.Follows(e.Repo) {
		return "", nil
	}
	if e.Kind == forge.KindReviewerAdd {
		if e.Reviewer == r.me {
			return api.ReasonReviewRequested, nil
		}
		return "", nil
	}
	for _, m := range e.Mentions {
		if m == r.did || (r.alias != "" && m == r.alias) {
			return api.ReasonMention, nil
		}
	}
	if e.ReplyTo == r.me {
		return api.ReasonReply, nil
	}
	switch e.Kind {
	case forge.KindReview:
		if e.Owner == r.me {
			return api.ReasonReview, nil
		}
		return "", nil
	case forge.KindIssueOpen, forge.KindPatchOpen:
		return api.ReasonNew, nil
	}
	if e.Owner == r.me {
		if e.Kind == forge.KindState {
			return api.ReasonStateChange, nil
		}
		return api.ReasonAuthor, nil
	}
	took, err := r.n.store.Participated(e.Object, r.me)
	if err != nil {
		return "", internal(err)
	}
	switch {
	case e.Kind == forge.KindState && took:
		return api.ReasonStateChange, nil
	case e.Kind == forge.KindState:
		return "", nil
	case took:
		return api.ReasonComment, nil
	}
	return api.ReasonSubscribed, nil
}

// unread reports whether e is above the global and its object's markers.
func (r *inboxReader) unread(e *storage.InboxEntry) (bool, error) {
	if e.Seq <= r.global {
		return false, nil
	}
	mark, ok := r.marks[e.Object]
	if !ok {
		v, err := r.n.store.Local(inboxReadPrefix + e.Object.String())
		if err != nil {
			return false, internal(err)
		}
		mark, _ = binary.Uvarint(v)
		r.marks[e.Object] = mark
	}
	return e.Seq > mark, nil
}

// walk calls f with the user's entries, newest first, with their reason
// and read state, until f returns false. Without all, it stops at the
// global marker, below which nothing is unread.
func (r *inboxReader) walk(all bool, f func(e *storage.InboxEntry, reason string, unread bool) bool) error {
	err := r.n.store.InboxEntries(r.only, func(e *storage.InboxEntry) (bool, error) {
		if !all && e.Seq <= r.global {
			return false, nil
		}
		reason, err := r.reason(e)
		if err != nil || reason == "" {
			return true, err
		}
		unread, err := r.unread(e)
		if err != nil {
			return false, err
		}
		if !all && !unread {
			return true, nil
		}
		return f(e, reason, unread), nil
	})
	if err != nil {
		return internal(err)
	}
	return nil
}

// item converts an entry to the API's form.
func (r *inboxReader) item(e *storage.InboxEntry, reason string, unread bool) (api.InboxItem, error) {
	p, ok := r.repos[e.Repo]
	if !ok {
		repo, err := r.n.store.Repo(e.Repo)
		if err != nil {
			return api.InboxItem{}, internal(err)
		}
		p = r.n.people(repo)
		r.repos[e.Repo] = p
	}
	obj, ok := r.objects[e.Object]
	if !ok {
		var err error
		if obj, err = r.n.store.Object(e.Object); err != nil {
			return api.InboxItem{}, internal(err)
		}
		r.objects[e.Object] = obj
	}
	name, _ := p.repo.Name.Get()
	title, _ := obj.Title.Get()
	it := api.InboxItem{
		ID: e.Op.String(), Repo: e.Repo.String(), RepoName: name, Object: e.Object.String(),
		Type: string(obj.Type), Title: title, Kind: e.Kind, Reason: reason,
		Actor: p.person(e.Actor), At: e.At.Time(), Unread: unread,
	}
	switch e.Kind {
	case forge.KindState:
		it.State = e.Value
	case forge.KindReview:
		it.Verdict = e.Value
	}
	return it, nil
}

// Inbox implements api.Service.
func (n *Node) Inbox(ctx context.Context, q api.InboxQuery) ([]api.InboxItem, error) {
	r, err := n.inboxReader(q.Repo)
	if err != nil {
		return nil, err
	}
	out := []api.InboxItem{}
	var itemErr error
	err = r.walk(q.All, func(e *storage.InboxEntry, reason string, unread bool) bool {
		it, err := r.item(e, reason, unread)
		if err != nil {
			itemErr = err
			return false
		}
		out = append(out, it)
		return (q.Limit <= 0 || len(out) < q.Limit) && ctx.Err() == nil
	})
	if err == nil {
		err = itemErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkRead implements api.Service.
func (n *Node) MarkRead(ctx context.Context, m api.MarkRead) (api.MarkReadResult, error) {
	if !m.All && len(m.Objects) == 0 {
		return api.MarkReadResult{}, api.Errorf(api.CodeInvalid, "name the issues or patches to mark read, or mark all of them")
	}
	// Resolve every name before marking any, so a typo marks nothing.
	var objs []op.ID
	for _, s := range m.Objects {
		id, err := n.resolveObject(s)
		if err != nil {
			return api.MarkReadResult{}, err
		}
		objs = append(objs, id)
	}
	seq := binary.AppendUvarint(nil, n.store.InboxSeq())
	out := api.MarkReadResult{Objects: []string{}}
	if m.All {
		if err := n.store.SetLocal(inboxReadKey, seq); err != nil {
			return out, internal(err)
		}
		// The per-object markers are all below the global one now.
		var old []string
		if err := n.store.LocalPrefix(inboxReadPrefix, func(name string, _ []byte) error {
			old = append(old, name)
			return nil
		}); err != nil {
			return out, internal(err)
		}
		for _, name := range old {
			if err := n.store.SetLocal(name, nil); err != nil {
				return out, internal(err)
			}
		}
	}
	for _, id := range objs {
		if err := n.store.SetLocal(inboxReadPrefix+id.String(), seq); err != nil {
			return out, internal(err)
		}
		out.Objects = append(out.Objects, id.String())
	}
	items, err := n.Inbox(ctx, api.InboxQuery{Limit: api.InboxUnreadCap})
	if err != nil {
		return out, err
	}
	out.Unread = len(items)
	n.bus.publish(api.Event{Kind: api.EventInboxRead, At: time.Now(), Local: true})
	return out, nil
}

// resolveObject finds an issue or patch of any repo by ID prefix.
func (n *Node) resolveObject(s string) (op.ID, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !isHexPrefix(s) {
		return op.ID{}, api.Errorf(api.CodeInvalid, "%q is not an issue or patch ID: use at least 4 hex digits of it", s)
	}
	found, err := n.store.Resolve(s, func(m forge.Meta) bool {
		return m.Accepted && (m.Kind == forge.KindIssueOpen || m.Kind == forge.KindPatchOpen)
	})
	if err != nil {
		return op.ID{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	switch len(found) {
	case 0:
		return op.ID{}, api.Errorf(api.CodeNotFound, "no issue or patch %s; list the inbox with `murmur inbox --all`", s)
	case 1:
		return found[0], nil
	}
	e := api.Errorf(api.CodeAmbiguous, "ID %q is ambiguous: it matches %d issues and patches; use more digits", s, len(found))
	for _, id := range found {
		e.Matches = append(e.Matches, id.String()[:16])
	}
	return op.ID{}, e
}
