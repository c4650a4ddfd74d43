package forge

import (
	"fmt"
	"maps"

	"murmur/crdt"
	"murmur/identity"
	"murmur/op"
)

// Moderation op kinds. Like the maintainer kinds they are decided from the
// causal past: each accepted one becomes a ModEntry of the role state, so a
// ban, a lock or a change of who may open is in force exactly for the ops
// that have it among their ancestors, on every replica, whatever the
// arrival order.
const (
	KindBan      = "repo.ban"    // body Standing (On = banned)
	KindMember   = "repo.member" // body Standing (On = member)
	KindWhoOpens = "repo.opens"  // who may open issues and patches; body Set (Value = an Opens* value)
	KindLock     = "thread.lock" // target issue|patch; body SetBool (Value = locked)
)

// Who may open issues and patches (KindWhoOpens). The default is anyone.
const (
	OpensAnyone      = "anyone"
	OpensMembers     = "members"     // maintainers and the repo's members (KindMember)
	OpensMaintainers = "maintainers" // maintainers only
)

// MaxReason bounds the reason of a ban.
const MaxReason = 1024

// Standing puts an identity in or out of a repo-level set: the banned
// (KindBan) or the members (KindMember).
type Standing struct {
	Key    identity.PublicKey `cbor:"1,keyasint"`
	On     bool               `cbor:"2,keyasint,omitempty"`
	Reason string             `cbor:"3,keyasint,omitempty"`
}

// ModEntry is one accepted moderation op in a role state. Each names a
// register, (Kind, Subject), whose value is that of the entry with the
// greatest (Clock, Author, op ID) among the entries of the causal past. An
// op that comes causally after another has a greater clock, so a later
// decision always supersedes the one its author saw; concurrent decisions
// resolve the same way on every replica.
//
// Stored format (CBOR, integer keys) is part of the stored role state and
// stable from storage format 3 on; role states without moderation entries
// encode exactly as before.
type ModEntry struct {
	Kind    string             `cbor:"1,keyasint"`
	Subject []byte             `cbor:"2,keyasint,omitempty"` // a public key, an object ID, or none
	Value   string             `cbor:"3,keyasint,omitempty"` // "on" or a KindWhoOpens value; "" is off
	Reason  string             `cbor:"4,keyasint,omitempty"`
	Clock   crdt.Timestamp     `cbor:"5,keyasint"`
	Author  identity.PublicKey `cbor:"6,keyasint"`
}

// Ban is a banned identity as a role state records it.
type Ban struct {
	Key    identity.PublicKey
	Reason string
	By     identity.PublicKey
	At     crdt.Timestamp
}

// modView is the winner of each moderation register of a role state.
type modView map[string]winner

type winner struct {
	id op.ID
	e  ModEntry
}

func modKey(kind string, subject []byte) string { return kind + "\x00" + string(subject) }

func (r *Roles) mods() modView {
	if v := r.modv.Load(); v != nil {
		return *v
	}
	v := modView{}
	for id, e := range r.Mods {
		k := modKey(e.Kind, e.Subject)
		w, ok := v[k]
		if !ok || w.less(id, e) {
			v[k] = winner{id: id, e: e}
		}
	}
	r.modv.Store(&v)
	return v
}

// less reports whether w loses to the entry (id, e).
func (w winner) less(id op.ID, e ModEntry) bool {
	a := crdt.Stamp{Clock: w.e.Clock, Author: w.e.Author, ID: crdt.ID(w.id)}
	b := crdt.Stamp{Clock: e.Clock, Author: e.Author, ID: crdt.ID(id)}
	return a.Less(b)
}

func (r *Roles) mod(kind string, subject []byte) (ModEntry, bool) {
	w, ok := r.mods()[modKey(kind, subject)]
	return w.e, ok
}

// Banned reports whether k is banned from the repo under r. A banned
// identity's ops are rejected, maintainer or not.
func (r *Roles) Banned(k identity.PublicKey) bool {
	e, ok := r.mod(KindBan, k[:])
	return ok && e.Value != ""
}

// IsMember reports whether k is a member under r: a maintainer, or added
// with KindMember.
func (r *Roles) IsMember(k identity.PublicKey) bool {
	if r.IsMaintainer(k) {
		return true
	}
	e, ok := r.mod(KindMember, k[:])
	return ok && e.Value != ""
}

// Locked reports whether the issue or patch obj is locked under r.
func (r *Roles) Locked(obj op.ID) bool {
	e, ok := r.mod(KindLock, obj[:])
	return ok && e.Value != ""
}

// WhoOpens says who may open issues and patches under r: one of the
// Opens* values.
func (r *Roles) WhoOpens() string {
	if e, ok := r.mod(KindWhoOpens, nil); ok {
		return e.Value
	}
	return OpensAnyone
}

// Bans returns the banned identities under r, sorted by key.
func (r *Roles) Bans() []Ban {
	var out []Ban
	for _, w := range r.mods() {
		if w.e.Kind != KindBan || w.e.Value == "" {
			continue
		}
		var k identity.PublicKey
		copy(k[:], w.e.Subject)
		out = append(out, Ban{Key: k, Reason: w.e.Reason, By: w.e.Author, At: w.e.Clock})
	}
	sortBans(out)
	return out
}

// Members returns the identities added as members under r (maintainers
// aside), sorted.
func (r *Roles) Members() []identity.PublicKey {
	var out []identity.PublicKey
	for _, w := range r.mods() {
		if w.e.Kind == KindMember && w.e.Value != "" {
			var k identity.PublicKey
			copy(k[:], w.e.Subject)
			out = append(out, k)
		}
	}
	sortKeys(out)
	return out
}

// withMod returns r plus the moderation entry id. r is not changed.
func (r *Roles) withMod(id op.ID, e ModEntry) *Roles {
	mods := maps.Clone(r.Mods)
	if mods == nil {
		mods = map[op.ID]ModEntry{}
	}
	mods[id] = e
	return &Roles{Owner: r.Owner, Entries: r.Entries, Mods: mods, ext: r.extend(id)}
}

// moderate applies a repo-level moderation op (ban, member, who opens).
func (a *applier) moderate(body any) error {
	o := a.o
	if !o.Target.IsZero() {
		return rejectf(ErrRejected, "%s takes no target", o.Kind)
	}
	if !a.maintainer() {
		return rejectf(ErrUnauthorized, "%s needs a maintainer; %s is not one", o.Kind, o.Author.Short())
	}
	e := ModEntry{Kind: o.Kind, Clock: o.Clock, Author: o.Author}
	switch b := body.(type) {
	case *Standing:
		e.Subject = append([]byte(nil), b.Key[:]...)
		if b.On {
			e.Value = "on"
			e.Reason = b.Reason
		}
		if o.Kind == KindBan && b.On {
			if b.Key == a.roles.Owner {
				return rejectf(ErrUnauthorized, "the repo owner cannot be banned")
			}
			if a.roles.IsMaintainer(b.Key) {
				return rejectf(ErrUnauthorized, "%s is a maintainer; remove them as maintainer before banning them", b.Key.Short())
			}
		}
	case *Set:
		e.Value = b.Value
	}
	a.roles = a.roles.withMod(o.ID(), e)
	return nil
}

// lock applies a thread.lock op: o.Target is an issue or patch.
func (a *applier) lock(body any) error {
	o := a.o
	if o.Target.IsZero() || a.target.Object != o.Target {
		return rejectf(ErrRejected, "%s must target an issue or patch", o.Kind)
	}
	if !a.maintainer() {
		return rejectf(ErrUnauthorized, "%s needs a maintainer; %s is not one", o.Kind, o.Author.Short())
	}
	e := ModEntry{Kind: o.Kind, Subject: append([]byte(nil), o.Target[:]...), Clock: o.Clock, Author: o.Author}
	if body.(*SetBool).Value {
		e.Value = "on"
	}
	a.res.Meta.Object = o.Target
	a.roles = a.roles.withMod(o.ID(), e)
	return nil
}

// banned rejects an op whose author is banned in its causal past.
func (a *applier) banned() error {
	if a.roles.Banned(a.o.Author) {
		return rejectf(ErrUnauthorized, "%s is banned from this repo", a.o.Author.Short())
	}
	return nil
}

// mayOpen rejects an issue.open or patch.open the repo's policy forbids.
func (a *applier) mayOpen() error {
	k := a.o.Author
	switch a.roles.WhoOpens() {
	case OpensMembers:
		if !a.roles.IsMember(k) {
			return rejectf(ErrUnauthorized, "only members may open issues and patches in this repo; %s is not one (ask a maintainer to add you as a member)", k.Short())
		}
	case OpensMaintainers:
		if !a.maintainer() {
			return rejectf(ErrUnauthorized, "only maintainers may open issues and patches in this repo; %s is not one", k.Short())
		}
	}
	return nil
}

// lockedOut rejects, on a locked issue or patch, what a non-maintainer may
// no longer do there: comment, edit a comment, react, review.
func (a *applier) lockedOut(obj *Object, maint bool) error {
	if maint || !a.roles.Locked(obj.ID) {
		return nil
	}
	switch a.o.Kind {
	case KindCommentAdd, KindCommentEdit, KindReactionAdd, KindReactionDel, KindReview:
		return rejectf(ErrUnauthorized, "%s %s is locked; only maintainers may comment, react or review", obj.Type, obj.ID.Short())
	}
	return nil
}

func validateWhoOpens(v string) error {
	switch v {
	case OpensAnyone, OpensMembers, OpensMaintainers:
		return nil
	}
	return invalid("who may open", "%q must be anyone, members or maintainers", v)
}

func validateStanding(kind string, b Standing) error {
	if b.Reason != "" && (kind != KindBan || !b.On) {
		return invalid("reason", "is only for a ban")
	}
	if err := checkText("reason", b.Reason, MaxReason, false); err != nil {
		return err
	}
	if b.Key == (identity.PublicKey{}) {
		return fmt.Errorf("forge: %s names no identity", kind)
	}
	return nil
}
