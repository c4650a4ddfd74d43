// Package node is murmur's service: it owns a replica's store, its identity
// key and clock, the event stream, and the mesh, with every
// goroutine they need, and implements api.Service on top of them. The local
// API serves a Node to the CLI and the TUI; nothing above localapi imports
// node except the command that wires it.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"murmur/api"
	"murmur/crdt"
	"murmur/identity"
	"murmur/mesh"
	"murmur/storage"
)

// Version is reported in Status.
var Version = "0.1.0-dev"

// Config configures a Node. Home is required; the rest have defaults.
type Config struct {
	// Home is the data directory: store, key file, socket.
	Home string
	// Passphrase unlocks an encrypted key file.
	Passphrase []byte
	// Logger receives the node's logs; default discards.
	Logger *slog.Logger
	// Now is the wall clock; default time.Now.
	Now func() time.Time
	// Store passes options to storage.Open (tests use an in-memory FS).
	Store *storage.Options
	// Daemon marks a node run by `murmur serve` (reported in Status).
	Daemon bool
	// Mesh, when set, starts networking (see MeshConfig). Nil: the node
	// runs offline, as ordinary CLI commands do; Sync then fails with
	// api.CodeOffline and Follow only records the follow.
	Mesh *MeshConfig
	// MaxFetchBytes bounds what one peer may send in one fetch of a
	// repo's code; a peer that sends more is penalized. Default 1 GiB
	// (gitstore.DefaultLimits).
	MaxFetchBytes int64
	// MaxRepoCodeBytes is the quota of one repo's object store on disk;
	// a node fetches no more code for a repo at its quota, and bounds a
	// fetch by what is left. Default 4 GiB.
	MaxRepoCodeBytes int64
}

// File names inside Home.
const (
	KeyFile  = "identity.key"
	StoreDir = "store"
)

// Node is a running replica. Create it with Open; Close stops it.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *storage.Store
	clock *crdt.Clock
	bus   *bus
	rep   *replica
	pol   *policyState // local policy (package policy); set in Open
	mesh  *mesh.Node   // nil when offline; set in Open, never changed
	lan   *lan         // nil unless LAN discovery runs; set in Open
	early *earlyDial   // nil unless Open dialed peers while the store opened

	// codeOnce makes code, the git side (see codes).
	codeOnce sync.Once
	code     *codeSide

	stop    chan struct{}   // closed by Close
	stopCtx context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the maintenance loop

	// mu guards key and keyErr.
	mu     sync.Mutex
	key    *identity.Key
	keyErr error // why the key could not be loaded (locked, corrupt)

	closeOnce sync.Once
}

// Open opens (creating if needed) the replica in cfg.Home.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Home == "" {
		return nil, errors.New("node: no data directory")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return nil, fmt.Errorf("node: create data directory: %w", err)
	}
	early := startEarlyDial(cfg)
	sopts := storage.Options{}
	if cfg.Store != nil {
		sopts = *cfg.Store
	}
	if sopts.Now == nil {
		sopts.Now = cfg.Now
	}
	st, err := storage.Open(filepath.Join(cfg.Home, StoreDir), &sopts)
	if err != nil {
		early.stop()
		if errors.Is(err, storage.ErrDamaged) {
			return nil, damagedError(err)
		}
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, store: st, clock: crdt.NewClock(cfg.Now), bus: newBus(), stop: make(chan struct{}), early: early}
	n.stopCtx, n.cancel = context.WithCancel(context.Background())
	if early != nil {
		n.setKey(early.loadedKey())
	} else {
		n.loadKey()
	}
	ok := false
	defer func() {
		if !ok {
			n.cancel()
			early.stop()
			_ = st.Close()
		}
	}()
	if err := n.openPolicy(); err != nil {
		return nil, err
	}
	if n.rep, err = openReplica(n); err != nil {
		if errors.Is(err, storage.ErrDamaged) {
			return nil, damagedError(err)
		}
		return nil, fmt.Errorf("node: load followed repos: %w", err)
	}
	if cfg.Mesh != nil {
		if err := n.startMesh(ctx, *cfg.Mesh); err != nil {
			return nil, err
		}
		if err := n.codes().attach(n.mesh); err != nil {
			_ = n.mesh.Close()
			return nil, err
		}
	}
	ok = true
	if cfg.Mesh != nil {
		n.startLAN(*cfg.Mesh)
	}
	n.wg.Add(1)
	go n.loop()
	if n.mesh != nil && !cfg.Mesh.Manual {
		n.wg.Add(2)
		go n.heal()
		go func() {
			defer n.wg.Done()
			n.joinKnown(n.stopCtx, nil, joinTimeout)
		}()
	}
	return n, nil
}

// Store returns the node's store (for the mesh and tools).
func (n *Node) Store() *storage.Store { return n.store }

// Close stops the node: the mesh first (leaving the cluster, ending sync
// sessions), then the maintenance loop, the event stream and the store.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.cancel()
		n.stopLAN()
		if n.mesh != nil {
			n.saveBook()
			if merr := n.mesh.Close(); merr != nil {
				n.log.Warn("stop mesh", "err", merr)
			}
		}
		n.early.stop()
		close(n.stop)
		n.wg.Wait()
		n.bus.close()
		err = n.store.Close()
	})
	return err
}

func (n *Node) keyPath() string { return filepath.Join(n.cfg.Home, KeyFile) }

func (n *Node) loadKey() {
	n.setKey(identity.Load(n.keyPath(), n.cfg.Passphrase))
}

// setKey records the identity loaded from the key file, or why it could
// not be.
func (n *Node) setKey(k *identity.Key, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) {
		n.key, n.keyErr = nil, nil
		return
	}
	n.key, n.keyErr = k, err
}

// signer returns the key to sign with, creating an identity on first use.
func (n *Node) signer() (*identity.Key, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.key != nil {
		return n.key, nil
	}
	if n.keyErr != nil {
		return nil, keyError(n.keyErr)
	}
	k, err := identity.Generate()
	if err != nil {
		return nil, api.Errorf(api.CodeInternal, "create identity: %v", err)
	}
	if err := identity.Save(n.keyPath(), k, nil); err != nil {
		return nil, keyError(err)
	}
	n.key = k
	n.log.Info("created identity", "id", k.Public().DID())
	return k, nil
}

func keyError(err error) error {
	switch {
	case errors.Is(err, identity.ErrPassphraseRequired), errors.Is(err, identity.ErrWrongPassphrase):
		return &api.Error{Code: api.CodeLocked, Message: err.Error() + "; set MURMUR_PASSPHRASE or pass --passphrase-file"}
	case errors.Is(err, identity.ErrCorruptKeyFile), errors.Is(err, identity.ErrInsecurePermissions):
		return &api.Error{Code: api.CodeInvalid, Message: err.Error()}
	}
	return &api.Error{Code: api.CodeInternal, Message: err.Error()}
}
