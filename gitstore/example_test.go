package gitstore_test

import (
	"context"
	"fmt"
	"net"
	"os"

	"murmur/gitstore"
)

// A node serves a repository's objects to a peer, which fetches a commit
// and everything it reaches. In murmur the stream is an authenticated
// mesh stream; here it is an in-memory pipe.
func Example() {
	ctx := context.Background()
	g, err := gitstore.FindGit(ctx)
	if err != nil {
		fmt.Println(err) // metadata still replicates; code does not
		return
	}
	serverDir, _ := os.MkdirTemp("", "server")
	clientDir, _ := os.MkdirTemp("", "client")
	defer os.RemoveAll(serverDir)
	defer os.RemoveAll(clientDir)
	server, _ := gitstore.Open(g, serverDir)
	client, _ := gitstore.Open(g, clientDir)
	if _, err := server.Init(ctx, "repo"); err != nil {
		fmt.Println(err)
		return
	}
	// ... commits arrive in the server's repository by push or fetch ...
	head := "0123456789abcdef0123456789abcdef01234567"

	a, b := net.Pipe()
	go func() { _ = server.ServeFetch(ctx, "repo", a) }()
	if err := client.Fetch(ctx, "repo", b, []string{head}, gitstore.Limits{}); err != nil {
		fmt.Println("fetch failed: the server holds no such commit")
	}
}
