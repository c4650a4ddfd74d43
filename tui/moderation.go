package tui

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// lockKey locks and unlocks the issue or patch shown (maintainers).
var lockKey = bind([]string{"L"}, "L", "lock/unlock (maintainers)")

// lockedOut are the keys a locked thread refuses to a non-maintainer:
// the replicas would reject what they write.
var lockedOut = []key.Binding{
	issueKeys.Comment, issueKeys.Reply, issueKeys.EditComment, objectKeys.React,
	patchKeys.Approve, patchKeys.Reject, patchKeys.Inline,
}

// lockedNote is the status-bar text for a key a locked thread refuses.
func lockedNote(kind string) string {
	return "this " + kind + " is locked: only maintainers may comment, react or review"
}

// moderationKey handles lockKey, and refuses the composer on a locked
// thread before anything is written. ok is false for other keys.
func (v *objectView) moderationKey(k tea.KeyPressMsg, locked bool) (tea.Cmd, bool) {
	if key.Matches(k, lockKey) {
		if !v.c.maintains(v.repo) {
			return noteCmd(notAllowed("a maintainer", "lock or unlock")), true
		}
		what := v.kind + " locked"
		if locked {
			what = v.kind + " unlocked"
		}
		lock := !locked
		return write(v.c, v.repo.ID, v.id, what, false, func(ctx context.Context) error {
			return v.edit(ctx, api.Edit{Locked: &lock})
		}), true
	}
	if !locked || v.c.maintains(v.repo) {
		return nil, false
	}
	for _, b := range lockedOut {
		if key.Matches(k, b) {
			return noteCmd(lockedNote(v.kind)), true
		}
	}
	return nil, false
}

// lockedMark is what a thread's state line adds when it is locked.
func lockedMark(locked bool) string {
	if locked {
		return " · locked"
	}
	return ""
}
