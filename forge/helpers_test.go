package forge_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// memStore is a forge.Reader over maps: the smallest faithful model of
// what storage does with Apply's results. It records each applied op's
// Meta, the role states, and the materialized repos and objects (as
// canonical CBOR, so every read hands out a fresh copy and equal states
// have equal bytes).
type memStore struct {
	metas    map[op.ID]forge.Meta
	roles    map[forge.RolesID]*forge.Roles
	repos    map[op.ID][]byte
	objects  map[op.ID][]byte
	comments map[op.ID][]byte
	heads    map[op.ID]map[op.ID]bool // repo → DAG heads

	// lent records the values handed to Apply during the current call, so
	// a test can check that a rejected op changed none of them.
	lentRepos    map[op.ID]*forge.Repo
	lentObjects  map[op.ID]*forge.Object
	lentComments map[op.ID]*forge.Comment
}

var detEnc = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// stateDec decodes materialized state. Reaction and assignee elements and
// review keys are raw key bytes in Go strings, so text strings need not be
// valid UTF-8.
var stateDec = func() cbor.DecMode {
	m, err := cbor.DecOptions{UTF8: cbor.UTF8DecodeInvalid}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func newMemStore() *memStore {
	return &memStore{
		metas:    map[op.ID]forge.Meta{},
		roles:    map[forge.RolesID]*forge.Roles{},
		repos:    map[op.ID][]byte{},
		objects:  map[op.ID][]byte{},
		comments: map[op.ID][]byte{},
		heads:    map[op.ID]map[op.ID]bool{},
	}
}

var _ forge.Reader = (*memStore)(nil)

func (m *memStore) Meta(id op.ID) (forge.Meta, bool, error) {
	meta, ok := m.metas[id]
	return meta, ok, nil
}

func (m *memStore) Roles(id forge.RolesID) (*forge.Roles, error) {
	r, ok := m.roles[id]
	if !ok {
		return nil, fmt.Errorf("role state %s not stored", id)
	}
	return r, nil
}

func (m *memStore) Repo(id op.ID) (*forge.Repo, error) {
	b, ok := m.repos[id]
	if !ok {
		return nil, nil
	}
	r := &forge.Repo{}
	if err := stateDec.Unmarshal(b, r); err != nil {
		return nil, err
	}
	if m.lentRepos != nil {
		m.lentRepos[id] = r
	}
	return r, nil
}

func (m *memStore) Object(id op.ID) (*forge.Object, error) {
	b, ok := m.objects[id]
	if !ok {
		return nil, nil
	}
	o := &forge.Object{}
	if err := stateDec.Unmarshal(b, o); err != nil {
		return nil, err
	}
	if m.lentObjects != nil {
		m.lentObjects[id] = o
	}
	return o, nil
}

func (m *memStore) Comment(id op.ID) (*forge.Comment, error) {
	b, ok := m.comments[id]
	if !ok {
		return nil, nil
	}
	c := &forge.Comment{}
	if err := stateDec.Unmarshal(b, c); err != nil {
		return nil, err
	}
	if m.lentComments != nil {
		m.lentComments[id] = c
	}
	return c, nil
}

func mustEncode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := detEnc.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return b
}

// apply runs forge.Apply and records its result the way storage does. A
// returned error is Apply's; nothing is recorded then. For a rejected op it
// fails t if Apply changed a value it was handed.
func (m *memStore) apply(t testing.TB, o *op.Op) (forge.Result, error) {
	t.Helper()
	m.lentRepos, m.lentObjects, m.lentComments = map[op.ID]*forge.Repo{}, map[op.ID]*forge.Object{}, map[op.ID]*forge.Comment{}
	defer func() { m.lentRepos, m.lentObjects, m.lentComments = nil, nil, nil }()
	res, err := forge.Apply(m, o)
	if err != nil {
		return res, err
	}
	if !res.Meta.Accepted {
		if res.Repo != nil || res.Object != nil || res.Err == nil {
			t.Errorf("Apply(%s) rejected with Repo=%v Object=%v Err=%v; want no effect and a reason", o.Kind, res.Repo != nil, res.Object != nil, res.Err)
		}
		for id, r := range m.lentRepos {
			if !bytes.Equal(mustEncode(t, r), m.repos[id]) {
				t.Errorf("rejected %s changed the repo it was handed", o.Kind)
			}
		}
		for id, ob := range m.lentObjects {
			if !bytes.Equal(mustEncode(t, ob), m.objects[id]) {
				t.Errorf("rejected %s changed the object it was handed", o.Kind)
			}
		}
		for id, c := range m.lentComments {
			if !bytes.Equal(mustEncode(t, c), m.comments[id]) {
				t.Errorf("rejected %s changed the comment it was handed", o.Kind)
			}
		}
	}
	id := o.ID()
	m.metas[id] = res.Meta
	if res.Roles != nil {
		if got := res.Roles.ID(); got != res.Meta.Roles {
			t.Errorf("Apply(%s): Result.Roles.ID() = %s, Meta.Roles = %s", o.Kind, got, res.Meta.Roles)
		}
		m.roles[res.Meta.Roles] = res.Roles
	}
	if _, ok := m.roles[res.Meta.Roles]; !ok {
		t.Errorf("Apply(%s): Meta.Roles %s is neither new nor a stored role state", o.Kind, res.Meta.Roles)
	}
	if res.Repo != nil {
		m.repos[res.Meta.Repo] = mustEncode(t, res.Repo)
	}
	if res.Object != nil {
		m.objects[res.Object.ID] = mustEncode(t, res.Object)
	}
	for _, c := range res.Comments {
		m.comments[c.ID] = mustEncode(t, c)
	}
	hs := m.heads[res.Meta.Repo]
	if hs == nil {
		hs = map[op.ID]bool{}
		m.heads[res.Meta.Repo] = hs
	}
	for _, p := range o.Parents {
		delete(hs, p)
	}
	hs[id] = true
	return res, nil
}

// headList returns the repo's heads, sorted.
func (m *memStore) headList(repo op.ID) []op.ID {
	var out []op.ID
	for id := range m.heads[repo] {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b op.ID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// rolesAt returns the role state at the given ops (the union of theirs).
func (m *memStore) rolesAt(t testing.TB, ids ...op.ID) *forge.Roles {
	t.Helper()
	var rs []*forge.Roles
	for _, id := range ids {
		meta, ok := m.metas[id]
		if !ok {
			t.Fatalf("rolesAt: op %s not applied", id.Short())
		}
		rs = append(rs, m.roles[meta.Roles])
	}
	return forge.UnionRoles(rs...)
}

func (m *memStore) object(t testing.TB, id op.ID) *forge.Object {
	t.Helper()
	o, err := m.Object(id)
	if err != nil || o == nil {
		t.Fatalf("object %s: %v, %v", id.Short(), o, err)
	}
	o.Comments = map[op.ID]*forge.Comment{}
	for cid := range m.comments {
		c, err := m.Comment(cid)
		if err != nil {
			t.Fatal(err)
		}
		if c.Object == id {
			o.Comments[cid] = c
		}
	}
	return o
}

func (m *memStore) repo(t testing.TB, id op.ID) *forge.Repo {
	t.Helper()
	r, err := m.Repo(id)
	if err != nil || r == nil {
		t.Fatalf("repo %s: %v, %v", id.Short(), r, err)
	}
	return r
}

// snapshot is the whole materialized state, for before/after comparisons.
func (m *memStore) snapshot(t testing.TB) string {
	t.Helper()
	return string(mustEncode(t, map[string]any{"repos": m.repos, "objects": m.objects}))
}

func testKey(t testing.TB, seed byte) *identity.Key {
	t.Helper()
	k, err := identity.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// baseClock is an arbitrary fixed time, so tests are deterministic.
var baseClock = crdt.NewTimestamp(1_700_000_000_000, 0)

// signOp signs an op with an arbitrary body (not validated: tests also
// make nonsensical ops).
func signOp(t testing.TB, k *identity.Key, repo op.ID, parents []op.ID, clock crdt.Timestamp, kind string, target op.ID, body any) *op.Op {
	t.Helper()
	b, err := op.EncodeBody(body)
	if err != nil {
		t.Fatalf("encode %s body: %v", kind, err)
	}
	o, err := op.Sign(k, op.Unsigned{Repo: repo, Parents: parents, Clock: clock, Kind: kind, Target: target, Body: b})
	if err != nil {
		t.Fatalf("sign %s: %v", kind, err)
	}
	return o
}

// world is a repo on one memStore with a cast of authors and a clock
// that increases with every op, so each op is after everything before it.
type world struct {
	t     testing.TB
	m     *memStore
	repo  op.ID
	clock crdt.Timestamp
	keys  map[string]*identity.Key
	ids   map[string]op.ID // named ops
	ops   map[op.ID]*op.Op // every op made
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, m: newMemStore(), clock: baseClock, ids: map[string]op.ID{}, ops: map[op.ID]*op.Op{}, keys: map[string]*identity.Key{
		"owner": testKey(t, 1),
		"maint": testKey(t, 2),
		"alice": testKey(t, 3),
		"bob":   testKey(t, 4),
		"carol": testKey(t, 5),
	}}
	g := signOp(t, w.keys["owner"], op.ID{}, nil, w.tick(), forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"})
	if res, err := w.m.apply(t, g); err != nil || !res.Meta.Accepted {
		t.Fatalf("genesis: %v, %v", res.Err, err)
	}
	w.repo = g.ID()
	w.ops[g.ID()] = g
	w.ids["repo"] = g.ID()
	return w
}

func (w *world) key(who string) *identity.Key {
	k, ok := w.keys[who]
	if !ok {
		w.t.Fatalf("no author %q", who)
	}
	return k
}

func (w *world) pub(who string) identity.PublicKey { return w.key(who).Public() }

func (w *world) tick() crdt.Timestamp {
	w.clock++
	return w.clock
}

// make signs an op on the current heads without applying it.
func (w *world) make(who, kind string, target op.ID, body any) *op.Op {
	w.t.Helper()
	return w.makeOn(w.m.headList(w.repo), who, kind, target, body)
}

func (w *world) makeOn(parents []op.ID, who, kind string, target op.ID, body any) *op.Op {
	w.t.Helper()
	o := signOp(w.t, w.key(who), w.repo, parents, w.tick(), kind, target, body)
	w.ops[o.ID()] = o
	return o
}

// do makes an op on the current heads and applies it.
func (w *world) do(who, kind string, target op.ID, body any) (*op.Op, forge.Result) {
	w.t.Helper()
	o := w.make(who, kind, target, body)
	res, err := w.m.apply(w.t, o)
	if err != nil {
		w.t.Fatalf("Apply(%s by %s) error: %v", kind, who, err)
	}
	return o, res
}

// must is do for an op that must be accepted; it names the op.
func (w *world) must(name, who, kind string, target op.ID, body any) op.ID {
	w.t.Helper()
	o, res := w.do(who, kind, target, body)
	if !res.Meta.Accepted {
		w.t.Fatalf("%s (%s by %s) rejected: %v", name, kind, who, res.Err)
	}
	if name != "" {
		w.ids[name] = o.ID()
	}
	return o.ID()
}

func (w *world) id(name string) op.ID {
	id, ok := w.ids[name]
	if !ok {
		w.t.Fatalf("no op named %q", name)
	}
	return id
}

const (
	commitA = "1111111111111111111111111111111111111111"
	commitB = "2222222222222222222222222222222222222222"
	commitC = "3333333333333333333333333333333333333333"
)

// deliver applies ops the way storage does: each once all of forge.Deps
// are recorded, whatever order they come in. ErrInvalidOp ops are
// dropped. It fails t if some op never becomes ready.
func (m *memStore) deliver(t testing.TB, ops ...*op.Op) {
	t.Helper()
	pending := slices.Clone(ops)
	for len(pending) > 0 {
		var next []*op.Op
		for _, o := range pending {
			if _, done := m.metas[o.ID()]; done {
				continue
			}
			ready := true
			for _, d := range forge.Deps(o) {
				if _, ok := m.metas[d]; !ok {
					ready = false
				}
			}
			if !ready {
				next = append(next, o)
				continue
			}
			if _, err := m.apply(t, o); err != nil && !errors.Is(err, forge.ErrInvalidOp) {
				t.Fatalf("Apply(%s): %v", o.Kind, err)
			}
		}
		if len(next) == len(pending) {
			t.Fatalf("%d ops never became ready", len(next))
		}
		pending = next
	}
}

// shuffledReplica is a fresh replica that holds the ops of prefix (applied
// to w, in order) and then made, delivered in an order rng shuffles.
func shuffledReplica(t *testing.T, w *world, prefix []op.ID, made []*op.Op, rng *rand.Rand) *memStore {
	t.Helper()
	s := newMemStore()
	for _, id := range prefix {
		replay(t, s, w, id)
	}
	order := slices.Clone(made)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	s.deliver(t, order...)
	return s
}
