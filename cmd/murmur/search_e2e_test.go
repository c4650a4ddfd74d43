package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// TestE2ESearchFindsSyncedComment: a word that appears only in a comment
// another process wrote is found by search once the comment has synced,
// and a later edit of that comment on the other node takes it away.
func TestE2ESearchFindsSyncedComment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two murmur serve processes")
	}
	t.Parallel()
	ca, cb, da, db := joinedDaemons(t)

	ca.ok("id", "alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "searchy", "--json")
	issue := ca.id("issue", "create", "-t", "Crash on start", "-b", "It crashes at once.")
	ca.id("issue", "create", "-t", "Unrelated", "-b", "Nothing to see.")

	cb.ok("id", "alias", "bob")
	var fr api.FollowResult
	cb.json(&fr, "repo", "follow", repo.ID, "--peer", da.addr, "--json")
	if !fr.Following || fr.Ops == 0 {
		t.Fatalf("repo follow = %+v, want the repo fetched", fr)
	}
	comment := cb.id("issue", "comment", issue, "-b", "Only with the Quokka theme enabled.")

	var res []api.SearchResult
	eventually(t, "the comment's word is found on A", 30*time.Second, func() error {
		syncAll([]*cli{ca, cb})
		out, err := ca.jsonOf("search", "quokka", "--json")
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			return fmt.Errorf("decode %q: %w", out, err)
		}
		if len(res) != 1 {
			return fmt.Errorf("search quokka on A = %s, want one result", out)
		}
		return nil
	})
	if r := res[0]; !strings.HasPrefix(r.ID, issue) || r.Match != "comment" || !strings.HasPrefix(r.Comment, comment) || r.RepoName != "searchy" ||
		r.Snippet != "Only with the Quokka theme enabled." {
		t.Errorf("search quokka on A = %+v, want issue %s matched by comment %s", r, issue, comment)
	}
	// Qualifiers and -R narrow it; words of no object find nothing.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"search", "quokka", "crash", "is:open", "-R", "searchy"}, 1},
		{[]string{"search", "quok"}, 1},
		{[]string{"search", "quokka", "is:closed"}, 0},
		{[]string{"search", "quokka", "unrelated"}, 0},
	} {
		var got []api.SearchResult
		ca.json(&got, append(tc.args, "--json")...)
		if len(got) != tc.want {
			t.Errorf("murmur %v = %+v, want %d results", tc.args, got, tc.want)
		}
	}
	ca.fail(exitFailure, "no words", "search", "is:open")

	// B edits the comment; once synced, A no longer finds the old word.
	if _, err := db.client().EditComment(context.Background(), repo.ID, comment, "Only with the dark theme enabled."); err != nil {
		t.Fatalf("edit the comment on B: %v", err)
	}
	eventually(t, "the edit reaches A's index", 30*time.Second, func() error {
		syncAll([]*cli{ca, cb})
		var got []api.SearchResult
		ca.json(&got, "search", "quokka", "--json")
		if len(got) != 0 {
			return fmt.Errorf("search quokka on A still finds %+v", got)
		}
		ca.json(&got, "search", "dark", "--json")
		if len(got) != 1 || !strings.HasPrefix(got[0].ID, issue) {
			return fmt.Errorf("search dark on A = %+v, want the issue", got)
		}
		return nil
	})
	da.stop()
	db.stop()
}
