package node

import (
	"context"
	"strings"
	"testing"

	"murmur/api"
	"murmur/identity"
)

// TestModeration drives bans, members, who may open and locks through
// the service on a real store, including what it refuses before any op
// is made.
func TestModeration(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	me, err := n.InitIdentity(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "murmur"}); err != nil {
		t.Fatal(err)
	}
	other := func() string {
		k, err := identity.Generate()
		if err != nil {
			t.Fatal(err)
		}
		return k.Public().DID()
	}
	maint, mallory, member := other(), other(), other()
	if _, err := n.SetMaintainer(ctx, "", maint, true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    api.Standing
		code string
		want string
	}{
		{"owner", api.Standing{Kind: api.StandingBan, Identity: me.ID, On: true}, api.CodeForbidden, "owner cannot be banned"},
		{"maintainer", api.Standing{Kind: api.StandingBan, Identity: maint, On: true}, api.CodeForbidden, "remove them first"},
		{"kind", api.Standing{Kind: "exile", Identity: mallory, On: true}, api.CodeInvalid, "must be"},
		{"identity", api.Standing{Kind: api.StandingBan, Identity: "nobody", On: true}, api.CodeInvalid, "not a did:key"},
		{"reason on unban", api.Standing{Kind: api.StandingBan, Identity: mallory, Reason: "x"}, api.CodeInvalid, "reason"},
	} {
		if _, err := n.SetStanding(ctx, "", c.s); code(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetStanding(%s) = %v, want %s saying %q", c.name, err, c.code, c.want)
		}
	}
	r, err := n.SetStanding(ctx, "", api.Standing{Kind: api.StandingBan, Identity: mallory, On: true, Reason: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Bans) != 1 || r.Bans[0].ID != mallory || r.Bans[0].Reason != "spam" || r.Bans[0].By.ID != me.ID {
		t.Errorf("bans = %+v, want mallory by alice for spam", r.Bans)
	}
	if r, err = n.SetStanding(ctx, "", api.Standing{Kind: api.StandingMember, Identity: member, On: true}); err != nil || len(r.Members) != 1 {
		t.Errorf("add member: %v, members %+v", err, r.Members)
	}
	bad := "friends"
	if _, err := n.EditRepo(ctx, "", api.RepoEdit{WhoOpens: &bad}); code(err) != api.CodeInvalid {
		t.Errorf("who can open %q = %v, want invalid", bad, err)
	}
	v := "Maintainers"
	if r, err = n.EditRepo(ctx, "", api.RepoEdit{WhoOpens: &v}); err != nil || r.WhoOpens != "maintainers" {
		t.Errorf("who can open maintainers: %v, %q", err, r.WhoOpens)
	}
	if r, err = n.SetStanding(ctx, "", api.Standing{Kind: api.StandingBan, Identity: mallory}); err != nil || len(r.Bans) != 0 {
		t.Errorf("unban: %v, bans %+v", err, r.Bans)
	}

	is, err := n.CreateIssue(ctx, "", api.NewIssue{Title: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	lock, unlock := true, false
	if is, err = n.EditIssue(ctx, "", is.ID, api.Edit{Locked: &lock}); err != nil || !is.Locked {
		t.Fatalf("lock: %v, locked %v", err, is.Locked)
	}
	// The owner is a maintainer: a locked thread still takes its comments.
	if _, err := n.Comment(ctx, "", is.ID, api.NewComment{Body: "still open to maintainers"}); err != nil {
		t.Errorf("maintainer comment on a locked issue: %v", err)
	}
	if is, err = n.EditIssue(ctx, "", is.ID, api.Edit{Locked: &unlock}); err != nil || is.Locked {
		t.Errorf("unlock: %v, locked %v", err, is.Locked)
	}
}
