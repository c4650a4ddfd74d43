package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"murmur/api"
	"murmur/identity"
	"murmur/localapi"
	"murmur/mesh"
	"murmur/node"
)

func init() {
	register("oneshot", "one-shot `murmur sync --peer` of one op, against `issue create` through a daemon and a bare QUIC round trip", oneshot)
}

// kindEcho is a stream kind only this benchmark registers: one byte
// echoed.
const kindEcho mesh.Kind = 0x7f

// oneshot measures what `murmur sync --peer ADDR` of one op costs a user
// with no daemon running: a process that opens its store, shakes hands
// with the peer and reconciles. It compares that with a write through a
// running daemon (`murmur issue create`, also a process) and with a bare
// QUIC connection: handshake plus one stream round trip, and one round
// trip on an open connection.
func oneshot() ([]Result, error) {
	const runs = 10
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := murmurBinary(dir)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(dir, "daemon")
	var n *node.Node
	srv, err := localapi.ServeNode(ctx, home, func() (api.Service, func() error, error) {
		var err error
		n, err = node.Open(ctx, node.Config{Home: home, Daemon: true, Mesh: &node.MeshConfig{Listen: "127.0.0.1:0"}})
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	}, localapi.ServeOptions{})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	// The mesh made the node's identity when it started.
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "bench"})
	if err != nil {
		return nil, err
	}
	peer := n.Mesh().Addr()
	other := filepath.Join(dir, "other")
	if _, _, err := runMurmur(bin, other, "repo", "follow", repo.ID, "--peer", peer); err != nil {
		return nil, err
	}
	var syncTimes, writeTimes []float64
	for i := range runs {
		if _, _, err := runMurmur(bin, other, "issue", "create", "-R", repo.ID, "-t", "offline "+strconv.Itoa(i)); err != nil {
			return nil, err
		}
		d, out, err := runMurmur(bin, other, "sync", "--peer", peer, "--json")
		if err != nil {
			return nil, err
		}
		var res []api.SyncResult
		if err := json.Unmarshal(out, &res); err != nil {
			return nil, fmt.Errorf("murmur sync --json: %w", err)
		}
		if len(res) != 1 || !res[0].InSync {
			return nil, fmt.Errorf("murmur sync = %+v, want the repo synced", res)
		}
		syncTimes = append(syncTimes, ms(d))
		if d, _, err = runMurmur(bin, home, "issue", "create", "-R", repo.ID, "-t", "daemon "+strconv.Itoa(i)); err != nil {
			return nil, err
		}
		writeTimes = append(writeTimes, ms(d))
	}
	got, err := n.Issues(ctx, repo.ID, api.ListFilter{})
	if err != nil {
		return nil, err
	}
	if want := 2 * runs; len(got) != want {
		return nil, fmt.Errorf("the daemon has %d issues after the syncs, want %d", len(got), want)
	}
	fresh, rtt, err := quicRoundTrips(ctx, runs)
	if err != nil {
		return nil, err
	}
	syncMs, writeMs, freshMs := median(syncTimes), median(writeTimes), median(fresh)
	c := "one op, loopback"
	return []Result{
		{"oneshot", c, "sync_ms", syncMs, "ms"},
		{"oneshot", c, "daemon_write_ms", writeMs, "ms"},
		{"oneshot", c, "quic_connect_rtt_ms", freshMs, "ms"},
		{"oneshot", c, "quic_rtt_ms", median(rtt), "ms"},
		{"oneshot", c, "sync_per_daemon_write", syncMs / writeMs, "x"},
		{"oneshot", c, "sync_per_quic_connect", syncMs / freshMs, "x"},
	}, nil
}

// quicRoundTrips measures, runs times each, a fresh authenticated
// connection with one stream round trip on it, and a round trip on an
// open connection.
func quicRoundTrips(ctx context.Context, runs int) (fresh, rtt []float64, err error) {
	listen := func() (*mesh.Endpoint, error) {
		key, err := identity.Generate()
		if err != nil {
			return nil, err
		}
		return mesh.Listen(key, mesh.Config{ListenAddr: "127.0.0.1:0"})
	}
	srv, err := listen()
	if err != nil {
		return nil, nil, err
	}
	defer srv.Close()
	if err := srv.RegisterHandler(kindEcho, func(_ context.Context, _ identity.PublicKey, s *mesh.Stream) {
		defer s.Close()
		var b [1]byte
		if _, err := io.ReadFull(s, b[:]); err == nil {
			_, _ = s.Write(b[:])
		}
	}); err != nil {
		return nil, nil, err
	}
	echo := func(c *mesh.Conn) error {
		s, err := c.OpenStream(ctx, kindEcho)
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := s.Write([]byte{1}); err != nil {
			return err
		}
		var b [1]byte
		_, err = io.ReadFull(s, b[:])
		return err
	}
	for range runs {
		cli, err := listen()
		if err != nil {
			return nil, nil, err
		}
		start := time.Now()
		c, err := cli.Dial(ctx, srv.Addr().String())
		if err == nil {
			err = echo(c)
		}
		fresh = append(fresh, ms(time.Since(start)))
		start = time.Now()
		if err == nil {
			err = echo(c)
		}
		rtt = append(rtt, ms(time.Since(start)))
		_ = cli.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("quic echo: %w", err)
		}
	}
	return fresh, rtt, nil
}
