// Package attach is how a murmur program reaches the node of a data
// directory: it finds the data directory the way every murmur program
// does, and attaches through the local API to the process that runs the
// node (the daemon, or another command), or starts the node in this
// process, offline or with networking for a command that needs peers.
//
// The murmur command and git-remote-murmur both use it, so they find the
// same node by the same rules and never open the store beside a running
// daemon. It sits above node and localapi and below the commands.
package attach

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"murmur/api"
	"murmur/localapi"
	"murmur/node"
)

// ErrNoHome is returned by Home when no data directory can be named:
// no flag, no $MURMUR_HOME or $XDG_DATA_HOME, and no home directory.
var ErrNoHome = errors.New("attach: cannot find the data directory: $HOME is not set")

// Home is the data directory: flag when not empty, else $MURMUR_HOME,
// else $XDG_DATA_HOME/murmur, else ~/.local/share/murmur. getenv reads
// the environment (os.Getenv in a real process).
func Home(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if h := getenv("MURMUR_HOME"); h != "" {
		return filepath.Abs(h)
	}
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "murmur"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", ErrNoHome
		}
	}
	return filepath.Join(home, ".local", "share", "murmur"), nil
}

// Options say how to reach a node.
type Options struct {
	// Home is the data directory (see Home).
	Home string
	// Passphrase unlocks an encrypted key file when the node is started
	// in this process; nil when there is none.
	Passphrase []byte
	// Mesh is the networking of a node started in this process; nil
	// keeps it offline. A running daemon has its own.
	Mesh *node.MeshConfig
	// Owner describes this process in the data directory's lock while it
	// runs the node (see localapi.AttachOptions).
	Owner localapi.Owner
	// Logger receives the embedded node's logs; nil: Logger($MURMUR_LOG).
	Logger *slog.Logger
}

// Node reaches the node of o.Home through the local API: the running
// daemon's socket, or a node opened in this process (which then serves
// the socket itself, so a second command run meanwhile talks to this
// one). The caller closes the result, which stops what it started.
func Node(ctx context.Context, o Options) (*localapi.Attached, error) {
	logger := o.Logger
	if logger == nil {
		logger = Logger(os.Getenv("MURMUR_LOG"))
	}
	return localapi.Attach(ctx, o.Home, func() (api.Service, func() error, error) {
		n, err := node.Open(ctx, node.Config{Home: o.Home, Passphrase: o.Passphrase, Logger: logger, Mesh: o.Mesh})
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	}, localapi.AttachOptions{Owner: o.Owner})
}

// Mesh is the networking of a node a command starts itself: an ephemeral
// port, on loopback when every peer named is on loopback, else on every
// interface ($MURMUR_LISTEN overrides; $MURMUR_ADVERTISE sets the
// advertised address). The node joins no one by itself; the peers named
// are dialed while the store opens.
func Mesh(getenv func(string) string, peers []string) *node.MeshConfig {
	listen := "0.0.0.0:0"
	if len(peers) > 0 && allLoopback(peers) {
		listen = "127.0.0.1:0"
	}
	if v := strings.TrimSpace(getenv("MURMUR_LISTEN")); v != "" {
		listen = v
	}
	return &node.MeshConfig{Listen: listen, Advertise: strings.TrimSpace(getenv("MURMUR_ADVERTISE")), Manual: true, Dial: peers}
}

func allLoopback(peers []string) bool {
	for _, p := range peers {
		if i := strings.LastIndex(p, "/"); i >= 0 {
			p = p[i+1:]
		}
		host, _, err := net.SplitHostPort(p)
		if err != nil {
			host = p
		}
		ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if host != "localhost" && (err != nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// SplitPeers splits a comma-separated list of peer addresses, as
// $MURMUR_JOIN holds them, dropping empty entries.
func SplitPeers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Logger logs to stderr at the level named (debug, info, warn, error;
// default warn), as $MURMUR_LOG names it.
func Logger(level string) *slog.Logger {
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
