package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// TestE2EInbox runs two nodes: bob, on the second, comments on alice's
// issue and mentions her; the items reach alice's inbox over the mesh,
// and `inbox read` clears them.
func TestE2EInbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes")
	}
	t.Parallel()
	ca, cb, da, _ := joinedDaemons(t)

	ca.ok("id", "alias", "alice")
	cb.ok("id", "alias", "bob")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "inboxed", "--json")
	issue := ca.id("issue", "create", "-t", "Crash on start")
	var none []api.InboxItem
	ca.json(&none, "inbox", "--json")
	if len(none) != 0 {
		t.Fatalf("alice's inbox before bob wrote = %+v, want empty (her own ops are not news)", none)
	}

	var fr api.FollowResult
	cb.json(&fr, "repo", "follow", repo.ID, "--peer", da.addr, "--json")
	if !fr.Following || fr.Ops == 0 {
		t.Fatalf("repo follow = %+v, want the repo fetched", fr)
	}
	var bobs []api.InboxItem
	cb.json(&bobs, "inbox", "--json")
	if len(bobs) != 1 || bobs[0].Reason != api.ReasonNew || bobs[0].Actor.Alias != "alice" || !bobs[0].Unread {
		t.Fatalf("bob's inbox after following = %+v, want alice's new issue", bobs)
	}
	comment := cb.id("issue", "comment", issue, "-b", "Same here, @alice: it crashes on an empty config.")

	var items []api.InboxItem
	eventually(t, "the mention reaches alice's inbox", 30*time.Second, func() error {
		items = nil
		out, err := ca.jsonOf("inbox", "--json")
		if err != nil {
			return err
		}
		if !strings.Contains(out, comment) {
			return fmt.Errorf("no item %s yet:\n%s", comment, out)
		}
		ca.json(&items, "inbox", "--json")
		return nil
	})
	if len(items) != 1 {
		t.Fatalf("alice's inbox = %+v, want one item", items)
	}
	it := items[0]
	if !strings.HasPrefix(it.ID, comment) || !strings.HasPrefix(it.Object, issue) || it.Repo != repo.ID ||
		it.Reason != api.ReasonMention || it.Actor.Alias != "bob" || !it.Unread || it.Title != "Crash on start" || it.At.IsZero() {
		t.Errorf("alice's item = %+v, want bob's mention on %s", it, issue)
	}
	// Plain output: one tab-separated line per item.
	if out := ca.ok("inbox"); !strings.HasPrefix(out, issue[:4]) || !strings.Contains(out, "\tinboxed\tissue\tmention\tbob (z6Mk") ||
		!strings.HasSuffix(out, "\tunread\n") {
		t.Errorf("murmur inbox printed %q", out)
	}
	if got := strings.TrimSpace(ca.ok("inbox", "--jq", ".[0].reason")); got != "mention" {
		t.Errorf("inbox --jq .[0].reason = %q, want mention", got)
	}

	ca.fail(2, "name the issues or patches", "inbox", "read")
	ca.fail(1, "no issue or patch", "inbox", "read", "0000")
	ca.ok("inbox", "read", issue)
	ca.json(&none, "inbox", "--json")
	if len(none) != 0 {
		t.Fatalf("alice's inbox after `inbox read %s` = %+v, want empty", issue, none)
	}
	ca.json(&items, "inbox", "--all", "--json")
	if len(items) != 1 || items[0].Unread {
		t.Fatalf("inbox --all after read = %+v, want the item, read", items)
	}

	// A later comment on the read issue is unread again; read --all
	// clears it.
	cb.id("issue", "comment", issue, "-b", "Workaround: delete the file.")
	eventually(t, "the second comment reaches alice's inbox", 30*time.Second, func() error {
		out, err := ca.jsonOf("inbox", "--json")
		if err == nil && !strings.Contains(out, `"reason": "author"`) {
			err = fmt.Errorf("no author item yet:\n%s", out)
		}
		return err
	})
	ca.ok("inbox", "read", "--all")
	ca.json(&none, "inbox", "--json")
	if len(none) != 0 {
		t.Fatalf("alice's inbox after `inbox read --all` = %+v, want empty", none)
	}
}

// TestE2ETUIInbox runs the TUI on alice's data directory, through her
// daemon: bob's mention, written on another node, shows up in her inbox
// screen and status bar without a keypress, and opening it marks it read.
func TestE2ETUIInbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes and drives the binary in a pseudo-terminal")
	}
	t.Parallel()
	ca, cb, da, _ := joinedDaemons(t)
	ca.ok("id", "alias", "alice")
	cb.ok("id", "alias", "bob")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "inboxed", "--description", "watched", "--json")
	issue := ca.id("issue", "create", "-t", "Crash on start")
	var fr api.FollowResult
	cb.json(&fr, "repo", "follow", repo.ID, "--peer", da.addr, "--json")

	s := startTUI(t, ca)
	s.waitFor("watched")
	s.send("I")
	s.waitFor("Inbox (0 unread)")
	cb.id("issue", "comment", issue, "-b", "@alice it crashes here too")
	s.waitFor("Inbox (1 unread)")
	s.waitFor("✉ 1")
	s.waitFor("mention")
	s.send("enter")
	s.waitFor("it crashes here too")
	s.send("\x1b")
	s.waitFor("Inbox (0 unread)")
	s.send("q")
	s.wait()
	var items []api.InboxItem
	ca.json(&items, "inbox", "--json")
	if len(items) != 0 {
		t.Errorf("inbox after opening the item in the TUI = %+v, want empty", items)
	}
}
