package localapi

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"

	"murmur/api"
)

// TestServerCloseUnderLoad closes a server while clients write through
// its socket: every write is answered or was never sent (its connection
// was refused), and the node saw exactly the answered ones.
func TestServerCloseUnderLoad(t *testing.T) {
	for round := range 10 {
		home := shortTempDir(t)
		st := &starter{name: "x"}
		srv, err := ServeNode(testCtx(t), home, st.start, ServeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var (
			mu      sync.Mutex
			bad     []error
			written int
		)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := NewClient(DialSocket(srv.SocketPath()))
				defer c.Close()
				for {
					_, err := c.CreateIssue(context.Background(), "r", api.NewIssue{Title: "t"})
					mu.Lock()
					switch {
					case err == nil:
						written++
					case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
					default:
						bad = append(bad, err)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		waitFor(t, "writes to be answered", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return written >= 20
		})
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for _, err := range bad {
			t.Errorf("round %d: a write failed after it was sent: %v", round, err)
		}
		if got := len(st.node().Calls()); got != written {
			t.Errorf("round %d: the node made %d writes, %d were answered", round, got, written)
		}
	}
}
