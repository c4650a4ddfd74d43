package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/internal/memreplica"
	"murmur/internal/workload"
	"murmur/mesh"
	"murmur/node"
	"murmur/op"
)

func init() {
	register("flood", "`murmur serve` memory and first-page listing after 100,000 spam issues from fresh identities", flood)
}

// flood starts the real `murmur serve` over a store of 1,000 workload ops,
// then a peer on loopback syncs 100,000 valid issues to it, each signed by
// a fresh identity. It reports the server's resident memory when ready and
// after the flood, and how long `murmur issue list -L 20` takes then.
func flood() ([]Result, error) {
	const base, spam = 1000, 100_000
	dir, bin, err := workspace("murmur-bench-flood-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	if err := fillStore(filepath.Join(home, node.StoreDir), base); err != nil {
		return nil, err
	}
	sv, err := startServe(bin, home)
	if err != nil {
		return nil, err
	}
	defer sv.stop()
	before, err := residentBytes(sv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}

	ops, repo, err := spamOps(base, spam)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	peer, target, err := floodPeer(ctx, ops, repo, sv.addr)
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	start := time.Now()
	if _, err := peer.SyncWith(ctx, target, repo); err != nil {
		return nil, fmt.Errorf("flood sync: %w", err)
	}
	syncTime := time.Since(start)
	after, err := residentBytes(sv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	lists, err := listTimes(bin, home, repo, 5)
	if err != nil {
		return nil, err
	}
	settled, err := residentBytes(sv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	c := fmt.Sprintf("spam=%d", spam)
	return []Result{
		{"flood", c, "sync_seconds", syncTime.Seconds(), "s"},
		{"flood", c, "rss_ready_bytes", float64(before), "bytes"},
		{"flood", c, "rss_after_bytes", float64(after), "bytes"},
		{"flood", c, "rss_after_list_bytes", float64(settled), "bytes"},
		{"flood", c, "list_first_page_ms", median(lists), "ms"},
	}, nil
}

// spamOps returns the first n workload ops followed by spam issues on
// their genesis, each signed by a fresh identity, and the repo ID.
func spamOps(n, spam int) ([][]byte, op.ID, error) {
	ops, err := workload.Ops(n, 1)
	if err != nil {
		return nil, op.ID{}, err
	}
	g, err := op.Decode(ops[0])
	if err != nil {
		return nil, op.ID{}, err
	}
	clock := crdt.NewTimestamp(time.Now().Add(-time.Minute).UnixMilli(), 0)
	body, err := op.EncodeBody(forge.IssueOpen{Title: "buy cheap watches", Body: "spam"})
	if err != nil {
		return nil, op.ID{}, err
	}
	for i := range spam {
		k, err := identity.Generate()
		if err != nil {
			return nil, op.ID{}, err
		}
		o, err := op.Sign(k, op.Unsigned{Repo: g.ID(), Parents: []op.ID{g.ID()}, Clock: clock + crdt.Timestamp(i), Kind: forge.KindIssueOpen, Body: body})
		if err != nil {
			return nil, op.ID{}, err
		}
		ops = append(ops, o.Bytes())
	}
	return ops, g.ID(), nil
}

// floodPeer starts a bare mesh node holding ops of repo, joined to the
// server at addr, the way a modified client floods; it returns the node
// and the server's identity.
func floodPeer(ctx context.Context, ops [][]byte, repo op.ID, addr string) (*mesh.Node, identity.PublicKey, error) {
	r := memreplica.New(repo, func(b []byte) (uint64, [32]byte, error) {
		o, err := op.Decode(b)
		if err != nil {
			return 0, [32]byte{}, err
		}
		return uint64(o.Clock), o.ID(), nil
	})
	for _, b := range ops {
		if _, _, err := r.Add(b); err != nil {
			return nil, identity.PublicKey{}, err
		}
	}
	k, err := identity.Generate()
	if err != nil {
		return nil, identity.PublicKey{}, err
	}
	peer, err := mesh.Start(ctx, mesh.NodeConfig{Key: k, Transport: mesh.Config{ListenAddr: "127.0.0.1:0"}, PushPullInterval: time.Hour}, r)
	if err != nil {
		return nil, identity.PublicKey{}, err
	}
	if _, err := peer.Join(ctx, []string{addr}); err != nil {
		_ = peer.Close()
		return nil, identity.PublicKey{}, err
	}
	var target identity.PublicKey
	for _, p := range peer.Peers() {
		target = p.ID
	}
	return peer, target, nil
}

// listTimes runs `murmur issue list -L 20` on repo n times and returns
// each run's milliseconds.
func listTimes(bin, home string, repo op.ID, n int) ([]float64, error) {
	var out []float64
	for range n {
		cmd := exec.Command(bin, "--home", home, "issue", "list", "-R", repo.String(), "-L", "20")
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return nil, fmt.Errorf("murmur issue list: %v: %s", err, b)
			}
			return nil, err
		}
		out = append(out, ms(time.Since(start)))
	}
	return out, nil
}
