package localapi

import (
	"context"
	"testing"

	"murmur/api"
)

// BenchmarkRoundTrip measures the local API's own cost per call (the fake
// node answers at once) over each transport.
func BenchmarkRoundTrip(b *testing.B) {
	calls := []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"Status", func(ctx context.Context, c *Client) error { _, err := c.Status(ctx); return err }},
		{"CreateIssue", func(ctx context.Context, c *Client) error {
			_, err := c.CreateIssue(ctx, "repo", api.NewIssue{Title: "title", Body: "body", Labels: []string{"bug"}})
			return err
		}},
	}
	for _, tr := range transports {
		for _, cl := range calls {
			b.Run(tr.name+"/"+cl.name, func(b *testing.B) {
				c := tr.serve(b, newFake("node"), HandlerOptions{})
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := cl.call(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEvents measures event delivery through the stream.
func BenchmarkEvents(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			f := newFake("node")
			c := tr.serve(b, f, HandlerOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch, err := c.Events(ctx)
			if err != nil {
				b.Fatal(err)
			}
			e := api.Event{Repo: "repo", Op: "op", Kind: "issue.comment", Author: person("bob"), At: t0}
			b.ReportAllocs()
			for b.Loop() {
				f.publish(e)
				<-ch
			}
		})
	}
}
