package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"murmur/api"
	"murmur/localapi"
	"murmur/node"
)

// meshKey is the context key of withMesh.
type meshKey struct{}

// withMesh returns ctx asking attach to start an embedded node with
// networking (cfg) rather than offline: `murmur sync` and `murmur repo
// follow --peer` need it; every other command runs offline when no daemon
// is running.
func withMesh(ctx context.Context, cfg *node.MeshConfig) context.Context {
	return context.WithValue(ctx, meshKey{}, cfg)
}

func meshFrom(ctx context.Context) *node.MeshConfig {
	cfg, _ := ctx.Value(meshKey{}).(*node.MeshConfig)
	return cfg
}

// attach reaches the node for home through the local API: the running
// daemon's socket, or a node opened in this process (which then serves the
// socket itself, so a second command run meanwhile talks to this one).
// The embedded node is offline unless ctx carries a mesh configuration
// (withMesh).
func attach(ctx context.Context, home string, passphrase []byte) (api.Service, func() error, error) {
	logger := newLogger(os.Getenv("MURMUR_LOG"))
	mc := meshFrom(ctx)
	att, err := localapi.Attach(ctx, home, func() (api.Service, func() error, error) {
		n, err := node.Open(ctx, node.Config{Home: home, Passphrase: passphrase, Logger: logger, Mesh: mc})
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return att, att.Close, nil
}

// newLogger logs to stderr at the level named by $MURMUR_LOG (debug,
// info, warn, error; default warn).
func newLogger(level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
