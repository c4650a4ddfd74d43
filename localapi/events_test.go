package localapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

// waitFor polls cond until it holds, failing the test after a generous
// bound. It asserts an outcome, not a timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// drain reads ch until it is closed, failing the test if that never
// happens.
func drain(t *testing.T, ch <-chan api.Event) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("event channel not closed")
		}
	}
}

func TestEvents(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFake("node")
			c := tr.serve(t, f, HandlerOptions{})
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			ch, err := c.Events(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.subscribers(); n != 1 {
				t.Fatalf("subscribers = %d after Events returned, want 1", n)
			}
			var want []api.Event
			for i := 1; i <= 200; i++ {
				e := api.Event{Seq: uint64(i), Repo: fmt.Sprintf("repo\n%d", i), Op: "op", Kind: "issue.comment",
					Object: "o", Author: person("bob"), At: t0.Add(time.Duration(i)), Local: i%2 == 0}
				want = append(want, e)
				f.publish(e)
			}
			var got []api.Event
			for len(got) < len(want) {
				select {
				case e, ok := <-ch:
					if !ok {
						t.Fatalf("channel closed after %d events", len(got))
					}
					got = append(got, e)
				case <-time.After(10 * time.Second):
					t.Fatalf("got %d events, want %d", len(got), len(want))
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("events differ (-want +got):\n%s", diff)
			}
			cancel()
			drain(t, ch)
			// The server side notices and unsubscribes.
			waitFor(t, "the node subscription to end", func() bool { return f.subscribers() == 0 })
		})
	}
}

func TestEventsEndWhenNodeCloses(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFake("node")
			c := tr.serve(t, f, HandlerOptions{})
			ch, err := c.Events(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			f.publish(api.Event{Seq: 1})
			f.closeEvents()
			var got []uint64
			for e := range ch {
				got = append(got, e.Seq)
			}
			if len(got) != 1 || got[0] != 1 {
				t.Errorf("events = %v, want [1] then the end", got)
			}
		})
	}
}

// noEvents is a node that refuses subscriptions.
type noEvents struct{ *fakeService }

func (noEvents) Events(ctx context.Context) (<-chan api.Event, error) {
	return nil, api.Errorf(api.CodeNoIdentity, "no identity yet")
}

func TestEventsError(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := tr.serve(t, noEvents{newFake("node")}, HandlerOptions{})
			ch, err := c.Events(testCtx(t))
			wantCode(t, err, api.CodeNoIdentity)
			if ch != nil {
				t.Error("Events returned a channel with an error")
			}
		})
	}
}

func TestEventsCanceledBeforeSubscribing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := servePipe(t, newFake("node"), HandlerOptions{})
	if _, err := c.Events(ctx); err == nil {
		t.Fatal("Events with a canceled context succeeded")
	}
}

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []uint64
	}{
		{"plain", "data: {\"seq\":1}\n\ndata: {\"seq\":2}\n\n", []uint64{1, 2}},
		{"comments and crlf", ": hi\r\ndata: {\"seq\":1}\r\n\r\n: beat\n\n", []uint64{1}},
		{"other fields", "id: 7\nevent: x\nretry: 5\ndata: {\"seq\":3}\n\n", []uint64{3}},
		{"multi-line data", "data: {\"seq\":\ndata: 4}\n\n", []uint64{4}},
		{"no space", "data:{\"seq\":5}\n\n", []uint64{5}},
		{"unterminated last event", "data: {\"seq\":1}\n\ndata: {\"seq\":2}\n", []uint64{1}},
		{"garbage ends the stream", "data: {\"seq\":1}\n\ndata: nope\n\ndata: {\"seq\":2}\n\n", []uint64{1}},
		{"blank lines only", "\n\n\n", nil},
		{"oversize event ends the stream", "data: {\"seq\":1}\n\ndata: \"" + strings.Repeat("x", maxEventBytes) + "\"\n\ndata: {\"seq\":2}\n\n", []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := make(chan api.Event, 16)
			readEvents(context.Background(), strings.NewReader(tt.stream), ch)
			close(ch)
			var got []uint64
			for e := range ch {
				got = append(got, e.Seq)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readEvents(%q) (-want +got):\n%s", tt.stream, diff)
			}
		})
	}
}
