package doctor_test

import (
	"context"
	"fmt"
	"os"

	"murmur/api"
	"murmur/doctor"
	"murmur/node"
)

// Check a replica's store: the ops verify and the indexes match a rebuild.
func ExampleCheck() {
	ctx := context.Background()
	home, err := os.MkdirTemp("", "murmur-doctor-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	n, err := node.Open(ctx, node.Config{Home: home})
	if err != nil {
		panic(err)
	}
	r, err := n.CreateRepo(ctx, api.NewRepo{Name: "example"})
	if err != nil {
		panic(err)
	}
	if _, err := n.CreateIssue(ctx, r.ID, api.NewIssue{Title: "first"}); err != nil {
		panic(err)
	}
	n.Close()

	rep, err := doctor.Check(ctx, home)
	if err != nil {
		panic(err)
	}
	fmt.Printf("clean: %v, ops: %d, problems: %d\n", rep.Clean, rep.Ops, len(rep.Findings))
	// Output: clean: true, ops: 2, problems: 0
}
