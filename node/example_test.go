package node_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"murmur/api"
	"murmur/node"
)

// Two replicas on loopback: alice creates a repo and an issue; bob follows
// the repo by its ID (the way one clones), writes an issue of his own,
// and one sync brings it to alice.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "murmur-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	open := func(name string) *node.Node {
		home := filepath.Join(dir, name)
		n, err := node.Open(ctx, node.Config{Home: home, Mesh: &node.MeshConfig{Listen: "127.0.0.1:0", Manual: true}})
		if err != nil {
			log.Fatal(err)
		}
		return n
	}
	alice, bob := open("alice"), open("bob")
	defer alice.Close()
	defer bob.Close()

	repo, err := alice.CreateRepo(ctx, api.NewRepo{Name: "murmur"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := alice.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "crash on start"}); err != nil {
		log.Fatal(err)
	}

	followed, err := bob.Follow(ctx, repo.ID, []string{alice.Mesh().Addr()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob follows", followed.Name)
	issues, _ := bob.Issues(ctx, repo.ID, api.ListFilter{})
	fmt.Println("bob sees:", issues[0].Title)

	if _, err := bob.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "docs typo"}); err != nil {
		log.Fatal(err)
	}
	if _, err := bob.Sync(ctx, api.SyncRequest{Peers: []string{alice.Mesh().Addr()}}); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if issues, _ = alice.Issues(ctx, repo.ID, api.ListFilter{}); len(issues) == 2 {
			break
		}
	}
	fmt.Println("alice has", len(issues), "issues")
	// Output:
	// bob follows murmur
	// bob sees: crash on start
	// alice has 2 issues
}
