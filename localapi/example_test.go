package localapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"murmur/api"
	"murmur/localapi"
)

// demoNode answers Status and Repo; the other api.Service methods are left
// to the nil embedded interface.
type demoNode struct{ api.Service }

func (demoNode) Status(context.Context) (api.Status, error) {
	return api.Status{Version: "demo"}, nil
}

func (demoNode) Repo(_ context.Context, repo string) (api.Repo, error) {
	return api.Repo{}, api.Errorf(api.CodeNotFound, "no repo %q", repo)
}

// A node served by the local API handlers over an in-memory listener, and
// the client that talks to it: errors keep their api codes.
func Example() {
	ln := localapi.NewPipeListener()
	srv := &http.Server{Handler: localapi.NewHandler(demoNode{}, localapi.HandlerOptions{})}
	go srv.Serve(ln)
	defer srv.Close()

	c := localapi.NewClient(ln.Dial)
	defer c.Close()
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("version:", st.Version)
	_, err = c.Repo(ctx, "a/b")
	fmt.Println(api.ErrorCode(err)+":", err)
	// Output:
	// version: demo
	// not_found: no repo "a/b"
}

// Attach is how the CLI and the TUI reach the node of a data directory:
// with no other murmur process around, it runs the node in this process
// and serves it on the data directory's socket for the next one.
func ExampleAttach() {
	home, err := os.MkdirTemp("", "murmur")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(home)

	start := func() (api.Service, func() error, error) {
		// In murmur this opens the node (store, mesh) of home.
		return demoNode{}, func() error { return nil }, nil
	}
	a, err := localapi.Attach(context.Background(), home, start, localapi.AttachOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	st, err := a.Status(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("embedded:", a.Embedded(), "version:", st.Version)
	// Output:
	// embedded: true version: demo
}
