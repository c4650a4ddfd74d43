package node

import (
	"context"
	"sync"

	"murmur/api"
	"murmur/identity"
	"murmur/storage"
)

// subscriberBuffer bounds each subscriber's queue. A subscriber that falls
// this far behind loses events (it sees a gap in Seq and should refresh).
const subscriberBuffer = 1024

// bus fans events out to subscribers without ever blocking the publisher.
type bus struct {
	// done is closed by close, so that subscription goroutines end with
	// the bus even when their contexts live on.
	done chan struct{}

	// mu guards seq, subs and closed.
	mu     sync.Mutex
	seq    uint64
	subs   map[chan api.Event]struct{}
	closed bool
}

func newBus() *bus { return &bus{subs: map[chan api.Event]struct{}{}, done: make(chan struct{})} }

func (b *bus) publish(e api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	for ch := range b.subs {
		select {
		case ch <- e:
		default: // slow subscriber: drop rather than block writers
		}
	}
}

func (b *bus) subscribe(ctx context.Context) <-chan api.Event {
	ch := make(chan api.Event, subscriberBuffer)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-b.done:
		}
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}()
	return ch
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	close(b.done)
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

func eventFor(a storage.Applied, author identity.PublicKey, local bool) api.Event {
	e := api.Event{
		Repo:   a.Meta.Repo.String(),
		Op:     a.ID.String(),
		Kind:   a.Meta.Kind,
		Author: api.Person{ID: author.DID(), Short: author.Short()},
		At:     a.Meta.Clock.Time(),
		Local:  local,
	}
	if !a.Meta.Object.IsZero() {
		e.Object = a.Meta.Object.String()
	}
	return e
}

// Events implements api.Service.
func (n *Node) Events(ctx context.Context) (<-chan api.Event, error) {
	return n.bus.subscribe(ctx), nil
}

// Published reports ops stored from elsewhere (the mesh) to subscribers.
func (n *Node) Published(applied []storage.Applied) {
	for _, a := range applied {
		n.bus.publish(eventFor(a, a.Meta.Author, false))
	}
}
