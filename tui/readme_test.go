package tui

import (
	"os"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

// keyTable is the README's table of key bindings, generated from the
// keymaps: the README must contain it verbatim.
func keyTable() string {
	groups := []struct {
		where string
		keys  []key.Binding
	}{
		{"everywhere", []key.Binding{globals.Help, globals.Back, globals.Refresh, globals.Peers, globals.Inbox, globals.Quit}},
		{"lists", append(lists.moves(), lists.Open, lists.Filter)},
		{"filtering", []key.Binding{filterKeys.Accept, filterKeys.Clear}},
		{"repos", []key.Binding{reposKeys.New}},
		{"repo", []key.Binding{tabKeys.Next, tabKeys.Prev, lists.State, repoKeys.New, repoKeys.NewPatch}},
		{"issues & patches", []key.Binding{searchKeys.Start}},
		{"search", []key.Binding{searchKeys.Results, searchKeys.Query, searchKeys.Open}},
		{"new issue", []key.Binding{newIssueKeys.Submit, newIssueKeys.Next, newIssueKeys.Prev, newIssueKeys.Editor, newIssueKeys.Cancel}},
		{"issue or patch", []key.Binding{objectKeys.Edit, objectKeys.Close, objectKeys.Label, objectKeys.Assign, objectKeys.React, objectKeys.Copy,
			issueKeys.Reply, issueKeys.EditComment, issueKeys.Hide, issueKeys.Resolve, lockKey}},
		{"issue", []key.Binding{objectKeys.Reopen, issueKeys.Comment}},
		{"patch", []key.Binding{patchKeys.Diff, patchKeys.Approve, patchKeys.Reject, patchKeys.Comment, patchKeys.Inline, patchKeys.Merge, patchKeys.Draft}},
		{"files & diff", []key.Binding{diffKeys.Focus, diffKeys.Open, diffKeys.Comment, diffKeys.PrevRev, diffKeys.NextRev, diffKeys.FromDown, diffKeys.FromUp}},
		{"inbox", []key.Binding{inboxKeys.Read, inboxKeys.ReadAll}},
		{"peers & sync", []key.Binding{peersKeys.Sync, peersKeys.Add, peersKeys.Follow, peersKeys.Unfollow}},
		{"writing", []key.Binding{composeKeys.Submit, composeKeys.Cancel, composeKeys.Editor}},
		{"questions", []key.Binding{confirmYes, choiceCancel}},
		{"one-line fields", []key.Binding{formKeys.Submit, formKeys.Next}},
	}
	var b strings.Builder
	b.WriteString("| where | key | does |\n|---|---|---|\n")
	for _, g := range groups {
		for _, k := range g.keys {
			h := k.Help()
			keys := "`" + strings.Join(k.Keys(), "` `") + "`"
			b.WriteString("| " + g.where + " | " + strings.ReplaceAll(keys, "|", `\|`) + " | " + h.Desc + " |\n")
		}
	}
	return b.String()
}

func TestREADMEKeyTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skipf("no README beside the module: %v", err)
	}
	want := keyTable()
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md lacks the key bindings as the keymaps define them; the table should read:\n\n%s", want)
	}
}
