// Package workload generates realistic op histories and runs the ingest
// pipeline a replica uses for ops that arrive from peers (decode, verify
// signatures in parallel batches, Store.Ingest), so that storage's
// benchmarks and cmd/murmur-bench measure the same thing.
//
// It is internal: only murmur's own tests and tools import it. It imports
// op, forge, identity, crdt and storage.
package workload

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// Shape of the generated repo.
const (
	// MaxIssues bounds the issues Ops opens; the rest of the ops act on
	// them.
	MaxIssues = 1000
	// Maintainers is the number of maintainers besides the owner.
	Maintainers = 2
	// Contributors is the number of authors who are not maintainers.
	Contributors = 9
)

// baseWall is the wall clock, in milliseconds, of the first op: a fixed
// time in the past, so generated ops are never parked.
const baseWall = 1_700_000_000_000

// Keys returns the authors of the history Ops makes for seed: the owner,
// then the maintainers, then the contributors.
func Keys(seed int64) []*identity.Key {
	n := 1 + Maintainers + Contributors
	keys := make([]*identity.Key, n)
	for i := range keys {
		var in [16]byte
		binary.BigEndian.PutUint64(in[:8], uint64(seed))
		binary.BigEndian.PutUint64(in[8:], uint64(i))
		s := sha256.Sum256(in[:])
		k, err := identity.NewKeyFromSeed(s[:])
		if err != nil {
			panic(err) // a 32-byte seed never fails
		}
		keys[i] = k
	}
	return keys
}

// Ops returns n encoded, signed ops of one repo: its genesis, the
// maintainers' appointments, then issues (up to MaxIssues, about one op in
// ten while there is room), comments, title and body edits, labels added
// and removed, assignees, reactions, comment edits and state changes, by
// authors who may make them (every op is accepted). The DAG is mostly a
// chain, as written by one busy replica, with about one op in twenty
// concurrent with its predecessor and merged by the next. Registers and
// removes name the state their author saw.
//
// The same n and seed give the same bytes. Ops[0] is the genesis op, whose
// ID is the repo ID.
func Ops(n int, seed int64) ([][]byte, error) {
	if n < 1 {
		return nil, fmt.Errorf("workload: %d ops requested; want at least 1", n)
	}
	g := &gen{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x6d75726d7572)),
		keys:  Keys(seed),
		clock: crdt.NewTimestamp(baseWall, 0),
		out:   make([][]byte, 0, n),
	}
	if err := g.run(n); err != nil {
		return nil, err
	}
	return g.out, nil
}

type issue struct {
	id        op.ID
	author    int
	title     op.ID // current register heads (one: edits form a chain)
	body      op.ID
	state     op.ID
	closed    bool
	labels    map[string][]op.ID // label → live add tags
	assignees map[int][]op.ID
	comments  []*comment
}

type comment struct {
	id     op.ID
	author int
	body   op.ID
}

type gen struct {
	rng   *rand.Rand
	keys  []*identity.Key
	clock crdt.Timestamp
	out   [][]byte

	repo        op.ID
	heads       []op.ID
	last        op.ID   // the op emitted last
	lastParents []op.ID // its parents
	issues      []*issue
}

var (
	words  = strings.Fields("the a crash on start when config is empty panic in sync after offline work peer refuses handshake slow list view with many issues label filter ignores case review comment lost merge button docs typo in readme timeout while cloning large repo memory grows during ingest")
	labels = []string{"bug", "enhancement", "docs", "perf", "ui", "sync", "good-first-issue", "wontfix"}
	emoji  = []string{"+1", "heart", "rocket", "eyes", "tada"}
)

func (g *gen) text(min, max int) string {
	n := min + g.rng.IntN(max-min+1)
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[g.rng.IntN(len(words))])
	}
	return b.String()
}

func (g *gen) maintainer() int { return g.rng.IntN(1 + Maintainers) }
func (g *gen) anyone() int     { return g.rng.IntN(len(g.keys)) }

// emit signs an op by author on the current heads (or, when fork is set,
// on the previous op's parents, concurrent with it) and appends it.
func (g *gen) emit(author int, kind string, target op.ID, body any, fork bool) (op.ID, error) {
	a, err := forge.NewAction(kind, target, body)
	if err != nil {
		return op.ID{}, fmt.Errorf("workload: %s: %w", kind, err)
	}
	g.clock++
	parents := g.heads
	// A concurrent op must not act on the op it is concurrent with.
	if fork && len(g.lastParents) > 0 && target != g.last {
		parents = g.lastParents
	}
	o, err := op.Sign(g.keys[author], a.Unsigned(g.repo, parents, g.clock))
	if err != nil {
		return op.ID{}, fmt.Errorf("workload: %w", err)
	}
	id := o.ID()
	if g.repo.IsZero() {
		g.repo = id
	}
	// New heads: the old ones minus the parents, plus this op.
	next := make([]op.ID, 0, len(g.heads)+1)
	for _, h := range g.heads {
		if !contains(parents, h) {
			next = append(next, h)
		}
	}
	g.heads = append(next, id)
	g.lastParents = parents
	g.last = id
	g.out = append(g.out, o.Bytes())
	return id, nil
}

func contains(ids []op.ID, id op.ID) bool { return slices.Contains(ids, id) }

func (g *gen) run(n int) error {
	if _, err := g.emit(0, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", Description: "a peer-to-peer forge", DefaultBranch: "main"}, false); err != nil {
		return err
	}
	for i := 1; i <= Maintainers && len(g.out) < n; i++ {
		if _, err := g.emit(0, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: g.keys[i].Public()}, false); err != nil {
			return err
		}
	}
	maxIssues := min(MaxIssues, max(1, n/10))
	for len(g.out) < n {
		if err := g.step(maxIssues); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) step(maxIssues int) error {
	roll := g.rng.IntN(100)
	if len(g.issues) == 0 || roll < 10 && len(g.issues) < maxIssues {
		author := g.anyone()
		id, err := g.emit(author, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: g.text(20, 60), Body: g.text(80, 400)}, false)
		if err != nil {
			return err
		}
		g.issues = append(g.issues, &issue{id: id, author: author, title: id, body: id, state: id,
			labels: map[string][]op.ID{}, assignees: map[int][]op.ID{}})
		return nil
	}
	is := g.issues[g.rng.IntN(len(g.issues))]
	editor := is.author
	if g.rng.IntN(3) == 0 {
		editor = g.maintainer()
	}
	switch {
	case roll < 50: // comment, sometimes a reply, sometimes concurrent with the previous op
		c := forge.CommentAdd{Body: g.text(40, 300)}
		if len(is.comments) > 0 && g.rng.IntN(4) == 0 {
			id := is.comments[g.rng.IntN(len(is.comments))].id
			c.ReplyTo = &id
		}
		author := g.anyone()
		id, err := g.emit(author, forge.KindCommentAdd, is.id, c, c.ReplyTo == nil && g.rng.IntN(10) == 0)
		if err != nil {
			return err
		}
		is.comments = append(is.comments, &comment{id: id, author: author, body: id})
	case roll < 60:
		id, err := g.emit(editor, forge.KindTitle, is.id, forge.Set{Value: g.text(20, 60), Prev: []op.ID{is.title}}, false)
		if err != nil {
			return err
		}
		is.title = id
	case roll < 64:
		id, err := g.emit(editor, forge.KindBody, is.id, forge.Set{Value: g.text(80, 400), Prev: []op.ID{is.body}}, false)
		if err != nil {
			return err
		}
		is.body = id
	case roll < 74:
		l := labels[g.rng.IntN(len(labels))]
		id, err := g.emit(g.maintainer(), forge.KindLabelAdd, is.id, forge.Label{Label: l}, false)
		if err != nil {
			return err
		}
		is.labels[l] = append(is.labels[l], id)
	case roll < 78 && len(is.labels) > 0:
		present := make([]string, 0, len(is.labels))
		for l := range is.labels {
			present = append(present, l)
		}
		slices.Sort(present) // map order is random; the output must not be
		l := present[g.rng.IntN(len(present))]
		tags := is.labels[l]
		if _, err := g.emit(g.maintainer(), forge.KindLabelDel, is.id, forge.Remove{Value: l, Tags: tags}, false); err != nil {
			return err
		}
		delete(is.labels, l)
	case roll < 81:
		who := g.anyone()
		id, err := g.emit(g.maintainer(), forge.KindAssigneeAdd, is.id, forge.Member{Key: g.keys[who].Public()}, false)
		if err != nil {
			return err
		}
		is.assignees[who] = append(is.assignees[who], id)
	case roll < 86 && len(is.comments) > 0:
		c := is.comments[g.rng.IntN(len(is.comments))]
		id, err := g.emit(c.author, forge.KindCommentEdit, c.id, forge.Set{Value: g.text(40, 300), Prev: []op.ID{c.body}}, false)
		if err != nil {
			return err
		}
		c.body = id
	case roll < 91:
		st := forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted, Prev: []op.ID{is.state}}
		if is.closed {
			st = forge.StateSet{State: forge.StateOpen, Prev: []op.ID{is.state}}
		}
		id, err := g.emit(editor, forge.KindState, is.id, st, false)
		if err != nil {
			return err
		}
		is.state, is.closed = id, !is.closed
	default:
		return g.react(is)
	}
	return nil
}

func (g *gen) react(is *issue) error {
	target := is.id
	if len(is.comments) > 0 && g.rng.IntN(2) == 0 {
		target = is.comments[g.rng.IntN(len(is.comments))].id
	}
	_, err := g.emit(g.anyone(), forge.KindReactionAdd, target, forge.React{Emoji: emoji[g.rng.IntN(len(emoji))]}, g.rng.IntN(10) == 0)
	return err
}

// ErrInvalidOps reports ops that did not decode, did not verify, or that
// the store refused as invalid or could not hold.
var ErrInvalidOps = errors.New("workload: invalid ops")

// IngestPipeline ingests raw encoded ops into store the way a replica
// handles ops from a peer: in batches of batch ops (1,000 when batch ≤ 0),
// each decoded and signature-checked in parallel across GOMAXPROCS
// goroutines with batch verification, then handed to store.Ingest (one
// sync per batch). Verification of the next batch overlaps the ingest of
// the current one. It stops at the first op that fails to decode or verify
// or that the store finds invalid or has no room for, with an error
// wrapping ErrInvalidOps (and op's reason), or at the first storage error.
// Ops waiting for missing dependencies are not errors.
func IngestPipeline(store *storage.Store, raw [][]byte, batch int) error {
	if batch <= 0 {
		batch = 1000
	}
	workers := runtime.GOMAXPROCS(0)
	verifiers := make([]*identity.BatchVerifier, workers)
	for i := range verifiers {
		verifiers[i] = identity.NewBatchVerifier()
	}
	type checked struct {
		start int
		ops   []*op.Op
		err   error
	}
	ready := make(chan checked, 1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ready)
		for start := 0; start < len(raw); start += batch {
			end := min(start+batch, len(raw))
			ops, err := decodeVerify(raw[start:end], start, verifiers)
			select {
			case ready <- checked{start, ops, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer wg.Wait()
	defer close(done)

	// Each batch syncs while the next one is applied.
	var syncing *storage.Syncing
	defer func() {
		if syncing != nil {
			syncing.Wait()
		}
	}()
	for c := range ready {
		if c.err != nil {
			return c.err
		}
		rep, next, err := store.IngestAsync(c.ops)
		if err != nil {
			return fmt.Errorf("workload: ingest: %w", err)
		}
		if syncing != nil {
			if err := syncing.Wait(); err != nil {
				return fmt.Errorf("workload: ingest: %w", err)
			}
		}
		syncing = next
		for i, out := range rep.Outcomes {
			if out == storage.Invalid || out == storage.Dropped {
				return fmt.Errorf("workload: op %d (%s): %w: %w", c.start+i, c.ops[i].ID().Short(), ErrInvalidOps, rep.Errors[i])
			}
		}
	}
	err := syncing.Wait()
	syncing = nil
	if err != nil {
		return fmt.Errorf("workload: ingest: %w", err)
	}
	return nil
}

// decodeVerify decodes raw and checks the signatures, splitting the work
// over len(verifiers) goroutines. base is the index of raw[0] in the
// caller's slice, for error messages.
func decodeVerify(raw [][]byte, base int, verifiers []*identity.BatchVerifier) ([]*op.Op, error) {
	ops := make([]*op.Op, len(raw))
	errs := make([]error, len(verifiers))
	per := (len(raw) + len(verifiers) - 1) / len(verifiers)
	var wg sync.WaitGroup
	for w := range verifiers {
		lo, hi := w*per, min((w+1)*per, len(raw))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = decodeVerifyPart(raw[lo:hi], ops[lo:hi], base+lo, verifiers[w])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return ops, nil
}

func decodeVerifyPart(raw [][]byte, ops []*op.Op, base int, bv *identity.BatchVerifier) error {
	bv.Reset()
	for i, b := range raw {
		o, err := op.Decode(b)
		if err != nil {
			return fmt.Errorf("workload: op %d: %w: %w", base+i, ErrInvalidOps, err)
		}
		ops[i] = o
		bv.Add(o.Author, op.SignatureDomain, o.SigningMessage(), o.Sig[:])
	}
	if ok, valid := bv.Verify(); !ok {
		for i, v := range valid {
			if !v {
				return fmt.Errorf("workload: op %d (%s): %w: %w", base+i, ops[i].ID().Short(), ErrInvalidOps, op.ErrBadSignature)
			}
		}
	}
	return nil
}
