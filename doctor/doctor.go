// Package doctor checks a replica's store and repairs it. It owns deciding
// whether a store is sound (Pebble's own checks, every op decoded and
// verified, every derived table compared with a rebuild from the ops; see
// storage.Store.Check) and, when it is not, the repair: unreadable files
// are moved aside into a dated sibling directory, never deleted; every op
// still readable is salvaged from them, directly from the table and log
// files when Pebble will not open the store; a fresh store and its derived
// state are rebuilt from those ops; and what is still missing is fetched
// again from peers with the node's one-shot sync. A replica has copies
// elsewhere, so a damaged one heals.
//
// Both Check and Repair take the data directory's lock, so they never run
// beside a daemon or another command. doctor imports storage, node,
// localapi and api; only the command line imports doctor.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"murmur/api"
	"murmur/localapi"
	"murmur/node"
	"murmur/op"
	"murmur/storage"
)

// Complete reports whether a repair is known to have left nothing to
// fetch: the store was not moved aside, or every file of it was read and no
// salvaged op waits for a lost one, or every followed repo synced with a
// peer.
func (a *Actions) Complete() bool {
	if a.MovedAside == "" || len(a.Unreadable) == 0 && a.Waiting == 0 {
		return true
	}
	if a.SyncErr != "" || len(a.Sync) == 0 {
		return false
	}
	for _, s := range a.Sync {
		if !s.InSync {
			return false
		}
	}
	return true
}

// Report is what Check or Repair found and did.
type Report struct {
	// Store is the store directory checked.
	Store string `json:"store"`
	// Clean is true when the store has no problem (after a repair: when
	// the repaired store checks clean).
	Clean bool `json:"clean"`
	// Ops and Pending are the stored and waiting ops the check read.
	Ops     int `json:"ops"`
	Pending int `json:"pending"`
	// Findings are the problems, empty when Clean.
	Findings []storage.Finding `json:"findings"`

	// Repaired is set by Repair.
	Repaired *Actions `json:"repair,omitempty"`
}

// Actions is what Repair did.
type Actions struct {
	// Found are the problems the store had before the repair.
	Found []storage.Finding `json:"found"`
	// MovedAside is the directory the damaged store was moved into, ""
	// when the store was readable and only its derived tables were
	// rebuilt in place.
	MovedAside string `json:"moved_aside,omitempty"`
	// Unreadable are the files, or their ends, no op could be read from.
	Unreadable []storage.Finding `json:"unreadable,omitempty"`
	// Salvaged ops were read back and verified; Restored of them are
	// stored in the new store.
	Salvaged int `json:"salvaged"`
	Restored int `json:"restored"`
	// Waiting of them wait in the new store for ops that were lost.
	Waiting int `json:"waiting"`
	// Rebuilt is true when the derived tables were recomputed in place.
	Rebuilt bool `json:"rebuilt,omitempty"`
	// Fetched is how many ops the store gained from peers.
	Fetched int `json:"fetched"`
	// Sync is the result of fetching from peers; SyncErr why it could not
	// run.
	Sync    []api.SyncResult `json:"sync,omitempty"`
	SyncErr string           `json:"sync_error,omitempty"`
}

// Options configures Repair. The zero value is usable.
type Options struct {
	// Peers are peer addresses (host:port) to fetch from; empty means the
	// address book of the salvaged store.
	Peers []string
	// Listen is the UDP address the node listens on while it fetches;
	// default "0.0.0.0:0".
	Listen string
	// Timeout bounds the fetching; default 30 s.
	Timeout time.Duration
	// Passphrase unlocks an encrypted key file (the node needs the
	// identity to join peers).
	Passphrase []byte
	// Logger receives the node's logs; default discards.
	Logger *slog.Logger
	// Now is the time used to name the directory damaged files are moved
	// into; default time.Now.
	Now func() time.Time
}

// scratchName is the directory inside the data directory where Check
// rebuilds the ops to compare; it exists only while Check runs.
const scratchName = "doctor-scratch"

// Check checks the store of data directory home. It changes nothing. The
// error is for a failure to check (another process holds the data
// directory, say), not for problems found: those are in the report.
func Check(ctx context.Context, home string) (Report, error) {
	release, err := localapi.LockHome(home)
	if err != nil {
		return Report{}, err
	}
	defer release()
	return check(home)
}

func check(home string) (Report, error) {
	rep := Report{Store: filepath.Join(home, node.StoreDir)}
	s, err := storage.Open(rep.Store, nil)
	var de *storage.DamageError
	switch {
	case errors.As(err, &de):
		rep.Findings = []storage.Finding{{Kind: "damaged", File: de.File, Detail: de.Problem}}
		return rep, nil
	case err != nil:
		return rep, err
	}
	defer s.Close()
	cr, err := s.Check(filepath.Join(home, scratchName))
	if err != nil {
		return rep, err
	}
	rep.Ops, rep.Pending, rep.Findings = cr.Ops, cr.Pending, cr.Findings
	rep.Clean = len(rep.Findings) == 0
	return rep, nil
}

// Repair repairs the store of data directory home (see the package
// comment) and checks it again. A clean store is left as it is, apart from
// fetching from peers when some are named.
func Repair(ctx context.Context, home string, opts Options) (Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	release, err := localapi.LockHome(home)
	if err != nil {
		return Report{}, err
	}
	defer release()
	before, err := check(home)
	if err != nil {
		return Report{}, err
	}
	rp := &Actions{Found: before.Findings}
	switch {
	case before.Clean:
	case onlyIndexes(before.Findings):
		if err := rebuildInPlace(before.Store); err != nil {
			return Report{}, err
		}
		rp.Rebuilt = true
	default:
		if err := restore(before.Store, rp, opts.Now()); err != nil {
			return Report{}, err
		}
	}
	base := before.Ops + before.Pending
	if rp.MovedAside != "" {
		base = rp.Restored + rp.Waiting
	}
	if !before.Clean || len(opts.Peers) > 0 {
		fetch(ctx, home, opts, rp)
	}
	after, err := check(home)
	if err != nil {
		return Report{}, err
	}
	rp.Fetched = max(0, after.Ops+after.Pending-base)
	after.Repaired = rp
	return after, nil
}

func onlyIndexes(fs []storage.Finding) bool {
	for _, f := range fs {
		if f.Kind != "index" {
			return false
		}
	}
	return true
}

func rebuildInPlace(dir string) error {
	s, err := storage.Open(dir, nil)
	if err != nil {
		return err
	}
	if err := s.Rebuild(); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// restore moves the store aside, salvages its ops and local settings and
// stores them in a new store in its place.
func restore(dir string, rp *Actions, now time.Time) error {
	aside := dir + ".damaged-" + now.UTC().Format("20060102T150405Z")
	if _, err := os.Stat(aside); err == nil {
		return fmt.Errorf("doctor: %s already exists; move it away and run the repair again", aside)
	}
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("doctor: move the damaged store aside: %w", err)
	}
	rp.MovedAside = aside
	sv, err := storage.Salvage(aside)
	if err != nil {
		return err
	}
	rp.Unreadable = sv.Unreadable
	ops := make([]*op.Op, 0, len(sv.Ops))
	for _, raw := range sv.Ops {
		if o, err := op.Decode(raw); err == nil {
			ops = append(ops, o)
		}
	}
	errs := op.VerifyBatch(ops)
	good := ops[:0]
	for i, o := range ops {
		if errs[i] == nil {
			good = append(good, o)
		}
	}
	rp.Salvaged = len(good)
	// Clock order is a topological order of every repo's DAG.
	slices.SortFunc(good, func(a, b *op.Op) int {
		switch {
		case a.Clock < b.Clock:
			return -1
		case a.Clock > b.Clock:
			return 1
		}
		return strings.Compare(a.ID().String(), b.ID().String())
	})
	s, err := storage.Open(dir, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	const batch = 2000
	for i := 0; i < len(good); i += batch {
		rep, err := s.Ingest(good[i:min(i+batch, len(good))])
		if err != nil {
			return fmt.Errorf("doctor: store salvaged ops: %w", err)
		}
		rp.Restored += len(rep.Applied)
	}
	rp.Waiting = s.Pending()
	followed := false
	for name, v := range sv.Local {
		followed = followed || strings.HasPrefix(name, node.FollowPrefix)
		if err := s.SetLocal(name, v); err != nil {
			return err
		}
	}
	if !followed {
		// The follow set is lost: let the node follow every repo it holds.
		if err := s.SetLocal(node.FollowInit, nil); err != nil {
			return err
		}
	}
	return s.Close()
}

// fetch starts the node with networking and syncs every followed repo
// with peers, once.
func fetch(ctx context.Context, home string, opts Options, rp *Actions) {
	listen := opts.Listen
	if listen == "" {
		listen = "0.0.0.0:0"
	}
	n, err := node.Open(ctx, node.Config{Home: home, Passphrase: opts.Passphrase, Logger: opts.Logger,
		Mesh: &node.MeshConfig{Listen: listen, Manual: true}})
	if err != nil {
		rp.SyncErr = err.Error()
		return
	}
	defer n.Close()
	res, err := n.Sync(ctx, api.SyncRequest{Peers: opts.Peers, Timeout: api.Duration(opts.Timeout)})
	if err != nil {
		rp.SyncErr = err.Error()
	}
	rp.Sync = res
}
