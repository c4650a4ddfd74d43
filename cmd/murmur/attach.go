package main

import (
	"context"
	"log/slog"

	"murmur/api"
	"murmur/attach"
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

// ownerKey is the context key of withCommand and withInteractive.
type ownerKey struct{}

// withCommand returns ctx naming the command being run ("murmur issue
// list"), which the data directory's lock records while an embedded node
// runs, so that a daemon started meanwhile can say who holds the store.
func withCommand(ctx context.Context, path string) context.Context {
	o := ownerFrom(ctx)
	o.Command = path
	return context.WithValue(ctx, ownerKey{}, o)
}

// withInteractive returns ctx marking this process as the terminal UI,
// which keeps the store until the user quits: a daemon does not wait for
// it but says which process to quit.
func withInteractive(ctx context.Context) context.Context {
	o := ownerFrom(ctx)
	o.Command = "murmur (terminal UI)"
	o.Role = localapi.RoleInteractive
	return context.WithValue(ctx, ownerKey{}, o)
}

func ownerFrom(ctx context.Context) localapi.Owner {
	o, _ := ctx.Value(ownerKey{}).(localapi.Owner)
	return o
}

func meshFrom(ctx context.Context) *node.MeshConfig {
	cfg, _ := ctx.Value(meshKey{}).(*node.MeshConfig)
	return cfg
}

// connect reaches the node for home through the local API (attach.Node):
// the running daemon's socket, or a node opened in this process, offline
// unless ctx carries a mesh configuration (withMesh).
func connect(ctx context.Context, home string, passphrase []byte) (api.Service, func() error, error) {
	att, err := attach.Node(ctx, attach.Options{Home: home, Passphrase: passphrase, Mesh: meshFrom(ctx), Owner: ownerFrom(ctx)})
	if err != nil {
		return nil, nil, err
	}
	return att, att.Close, nil
}

// newLogger logs to stderr at the level named by $MURMUR_LOG (debug,
// info, warn, error; default warn).
func newLogger(level string) *slog.Logger { return attach.Logger(level) }
