package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"golang.org/x/time/rate"

	"murmur/identity"
	"murmur/merkle"
)

// NodeConfig configures a replicating Node. Key is required; every other
// zero field takes the default documented on it (DefaultNodeConfig spells
// them out).
type NodeConfig struct {
	// Key is this node's identity.
	Key *identity.Key

	// Transport configures the QUIC endpoint (listen and advertise
	// addresses, connection limits, logger if Logger is nil).
	Transport Config

	// Endpoint, when set, is an endpoint already listening with Key,
	// which the node takes over (Transport is then unused): a node
	// started for one command dials its peers while its store opens.
	// The node closes it, also when Start fails. Default nil: Start
	// listens itself.
	Endpoint *Endpoint

	// Join lists "host:port" (or "did:key:.../host:port") addresses
	// that Start joins. A failed join is logged, not fatal: a node can
	// start while its peers are offline and Join later.
	Join []string

	// OnRepo is called when a peer's state names a repo this node does
	// not follow, once per peer state received. If it starts following
	// the repo (Replica.Follows then reports true) and returns true, the
	// node syncs the repo with that peer at once. A seed that follows
	// every repo it hears of does exactly that. Nil: unknown repos are
	// only recorded (see Peers). It runs on memberlist's push-pull path
	// and must not block for long.
	OnRepo func(repo [32]byte, from identity.PublicKey) bool

	// Admit, if set, is asked about every peer once its handshake has
	// proved its identity; a peer it returns an error for is refused
	// (its connection closed with the error as reason, and logged), as
	// a node's local policy does with blocked peers. It must be cheap
	// and must not block. Nil admits every peer not penalized.
	Admit func(peer identity.PublicKey) error

	// Logger receives the node's events. Default: Transport.Logger, or
	// discard.
	Logger *slog.Logger

	// GossipInterval is memberlist's gossip period, which bounds how
	// fast a new op spreads: a few hops of this each. Default 100ms.
	GossipInterval time.Duration
	// GossipNodes is how many random peers each gossip round reaches.
	// Default 4.
	GossipNodes int
	// PushPullInterval is how often memberlist exchanges full state
	// (membership and Merkle roots) with one random peer, which starts
	// anti-entropy sessions for repos whose roots differ. Default 30s.
	PushPullInterval time.Duration
	// ProbeInterval is memberlist's failure-detection period. Default 1s.
	ProbeInterval time.Duration
	// AntiEntropyInterval is how often, jittered, the node reconciles
	// its repos with one known peer on its own timer, whatever
	// memberlist's view: a peer memberlist marked failed, or a node that
	// lost every member, still converges. Default 30s; negative turns
	// it off.
	AntiEntropyInterval time.Duration

	// MaxOpSize bounds one encoded op received. Default 64 KiB, the
	// data model's limit.
	MaxOpSize int
	// MaxInlineOp is the largest op that gossip carries inline; larger
	// ops are announced by ID and fetched. At most 896 (a gossip message
	// must fit one memberlist packet). Default 896.
	MaxInlineOp int
	// MaxBatchBytes bounds one op batch frame, sent or received.
	// Default 1 MiB.
	MaxBatchBytes int
	// MaxStateRepos bounds the repos in a push-pull state, sent or
	// received (64 bytes each). Default 4096.
	MaxStateRepos int
	// MaxFetchIDs bounds the IDs of one fetch request. Default 1024.
	MaxFetchIDs int
	// MaxFetchRounds bounds the rounds of dependency fetching after one
	// gossip message or sync session. Default 8.
	MaxFetchRounds int
	// GossipQueue bounds gossip messages waiting for a worker; further
	// ones are dropped (anti-entropy repairs the loss). Default 1024.
	GossipQueue int
	// GossipWorkers is the number of goroutines processing gossip.
	// Default 4.
	GossipWorkers int
	// MaxQueuedBroadcasts bounds memberlist's broadcast queue; the
	// oldest broadcasts are pruned beyond it. Default 4096.
	MaxQueuedBroadcasts int
	// MaxSessions bounds the concurrent sync sessions, inbound and
	// outbound counted separately. Default 16.
	MaxSessions int

	// SyncTimeout bounds one sync session; FetchTimeout one fetch
	// exchange. Defaults 2m and 30s.
	SyncTimeout  time.Duration
	FetchTimeout time.Duration

	// SyncRate and SyncBurst limit, per peer, the sync sessions it may
	// open with us and the ones we start automatically with it.
	// Defaults 2/s, burst 32.
	SyncRate  rate.Limit
	SyncBurst int
	// FetchRate and FetchBurst limit, per peer, its fetch requests.
	// Defaults 50/s, burst 200.
	FetchRate  rate.Limit
	FetchBurst int

	// PenaltyDuration is how long a peer that sent invalid data is
	// ignored: its connections are closed, its streams refused, and no
	// session or fetch is started with it. Default 10m.
	PenaltyDuration time.Duration
}

// DefaultNodeConfig returns the values used for zero fields.
func DefaultNodeConfig() NodeConfig {
	return NodeConfig{
		Logger:              slog.New(slog.DiscardHandler),
		GossipInterval:      100 * time.Millisecond,
		GossipNodes:         4,
		PushPullInterval:    30 * time.Second,
		AntiEntropyInterval: 30 * time.Second,
		ProbeInterval:       time.Second,
		MaxOpSize:           64 << 10,
		MaxInlineOp:         maxInlineOp,
		MaxBatchBytes:       1 << 20,
		MaxStateRepos:       4096,
		MaxFetchIDs:         1024,
		MaxFetchRounds:      8,
		GossipQueue:         1024,
		GossipWorkers:       4,
		MaxQueuedBroadcasts: 4096,
		MaxSessions:         16,
		SyncTimeout:         2 * time.Minute,
		FetchTimeout:        30 * time.Second,
		SyncRate:            2,
		SyncBurst:           32,
		FetchRate:           50,
		FetchBurst:          200,
		PenaltyDuration:     10 * time.Minute,
	}
}

// maxInlineOp keeps a gossip message (98 bytes of header) within one
// memberlist packet of MemberlistPacketSize with room for memberlist's
// compound and piggyback headers.
const maxInlineOp = 896

func (c NodeConfig) withDefaults() NodeConfig {
	d := DefaultNodeConfig()
	if c.Logger == nil {
		c.Logger = c.Transport.Logger
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setDur(&c.GossipInterval, d.GossipInterval)
	setDur(&c.PushPullInterval, d.PushPullInterval)
	setDur(&c.AntiEntropyInterval, d.AntiEntropyInterval)
	setDur(&c.ProbeInterval, d.ProbeInterval)
	setDur(&c.SyncTimeout, d.SyncTimeout)
	setDur(&c.FetchTimeout, d.FetchTimeout)
	setDur(&c.PenaltyDuration, d.PenaltyDuration)
	setInt(&c.GossipNodes, d.GossipNodes)
	setInt(&c.MaxOpSize, d.MaxOpSize)
	setInt(&c.MaxInlineOp, d.MaxInlineOp)
	setInt(&c.MaxBatchBytes, d.MaxBatchBytes)
	setInt(&c.MaxStateRepos, d.MaxStateRepos)
	setInt(&c.MaxFetchIDs, d.MaxFetchIDs)
	setInt(&c.MaxFetchRounds, d.MaxFetchRounds)
	setInt(&c.GossipQueue, d.GossipQueue)
	setInt(&c.GossipWorkers, d.GossipWorkers)
	setInt(&c.MaxQueuedBroadcasts, d.MaxQueuedBroadcasts)
	setInt(&c.MaxSessions, d.MaxSessions)
	setInt(&c.SyncBurst, d.SyncBurst)
	setInt(&c.FetchBurst, d.FetchBurst)
	if c.SyncRate == 0 {
		c.SyncRate = d.SyncRate
	}
	if c.FetchRate == 0 {
		c.FetchRate = d.FetchRate
	}
	return c
}

func (c NodeConfig) validate() error {
	var errs []error
	if c.Key == nil {
		errs = append(errs, errors.New("Key is required"))
	}
	if c.MaxInlineOp < 0 || c.MaxInlineOp > maxInlineOp {
		errs = append(errs, fmt.Errorf("MaxInlineOp %d must be between 0 and %d", c.MaxInlineOp, maxInlineOp))
	}
	if c.MaxOpSize < 1 {
		errs = append(errs, fmt.Errorf("MaxOpSize %d must be positive", c.MaxOpSize))
	}
	if c.MaxBatchBytes < c.MaxOpSize+2*binaryMaxVarint {
		errs = append(errs, fmt.Errorf("MaxBatchBytes %d must hold one op of MaxOpSize %d", c.MaxBatchBytes, c.MaxOpSize))
	}
	for _, v := range []struct {
		name string
		v    int
	}{
		{"GossipNodes", c.GossipNodes}, {"MaxStateRepos", c.MaxStateRepos}, {"MaxFetchIDs", c.MaxFetchIDs},
		{"MaxFetchRounds", c.MaxFetchRounds}, {"GossipQueue", c.GossipQueue}, {"GossipWorkers", c.GossipWorkers},
		{"MaxQueuedBroadcasts", c.MaxQueuedBroadcasts}, {"MaxSessions", c.MaxSessions},
		{"SyncBurst", c.SyncBurst}, {"FetchBurst", c.FetchBurst},
	} {
		if v.v < 1 {
			errs = append(errs, fmt.Errorf("%s %d must be positive", v.name, v.v))
		}
	}
	for _, v := range []struct {
		name string
		v    time.Duration
	}{
		{"GossipInterval", c.GossipInterval}, {"PushPullInterval", c.PushPullInterval},
		{"ProbeInterval", c.ProbeInterval}, {"SyncTimeout", c.SyncTimeout},
		{"FetchTimeout", c.FetchTimeout}, {"PenaltyDuration", c.PenaltyDuration},
	} {
		if v.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v must not be negative", v.name, v.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mesh: invalid node config: %w", err)
	}
	return nil
}

const binaryMaxVarint = 10

// Node replicates the repos of a Replica with other nodes: it owns an
// Endpoint, a memberlist cluster on it, push gossip of new ops, pull
// anti-entropy sessions and op fetches. Start creates it; Close stops
// every goroutine it started and closes the endpoint. All methods are
// safe for concurrent use.
type Node struct {
	cfg   NodeConfig
	log   *slog.Logger
	r     Replica
	id    identity.PublicKey
	ep    *Endpoint
	tr    *MemberlistTransport
	ml    *memberlist.Memberlist
	queue *memberlist.TransmitLimitedQueue

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers, automatic sessions

	gossipCh chan []byte
	seen     seenSet

	inSessions  chan struct{} // semaphore: inbound sync sessions
	outSessions chan struct{} // semaphore: outbound sync sessions

	// mu guards peers, calls, serving and servingNote.
	mu      sync.Mutex
	peers   map[identity.PublicKey]*peer
	calls   map[pairKey]*syncCall // outbound sessions in flight
	serving map[pairKey]*syncCall // inbound sessions in progress
	// servingNote is closed and replaced whenever an inbound session
	// starts, waking callers waiting for a crossed session (awaitServing).
	servingNote chan struct{}

	closeOnce sync.Once
	closeErr  error

	stats nodeCounters
}

// peer is what a node knows about another node.
type peer struct {
	addr        string // last advertised memberlist address
	member      bool   // currently a live memberlist member
	failed      bool   // memberlist declared it dead (not left) and it has not come back
	since       time.Time
	lastSync    time.Time
	repos       map[[32]byte]digest // from its last push-pull state
	stateAt     time.Time
	synced      map[[32]byte]syncedRoot // roots both sides held after a session
	syncLimit   *rate.Limiter           // sessions it opens, and automatic ones we open
	fetchLimit  *rate.Limiter
	penaltyTill time.Time
	penaltyWhy  string
	notice      noticeState // refusals waiting to be told to it
}

// syncedRoot is the root a repo had here when a session with a peer
// ended: both sides then held the same ops.
type syncedRoot struct {
	d  digest
	at time.Time
}

type pairKey struct {
	peer identity.PublicKey
	repo [32]byte
}

type nodeCounters struct {
	gossipSent, gossipReceived, gossipDuplicates, gossipDropped, gossipInvalid atomic.Uint64
	opsSent, opsReceived, opsInvalid                                           atomic.Uint64
	fetchesServed, fetchesMade                                                 atomic.Uint64
	sessionsIn, sessionsOut, sessionsFailed, sessionsRefused                   atomic.Uint64
	penalties                                                                  atomic.Uint64
	opsRefused, noticesReceived                                                atomic.Uint64
}

// NodeStats is a snapshot of a Node's counters.
type NodeStats struct {
	Endpoint   Stats
	Memberlist MemberlistStats
	Members    int // live memberlist members, this node included

	GossipSent       uint64 // broadcasts queued: own ops and relayed ones
	GossipReceived   uint64 // gossip messages received, duplicates included
	GossipDuplicates uint64 // gossip messages for ops already seen
	GossipDropped    uint64 // gossip messages dropped: queue full or malformed
	GossipInvalid    uint64 // inline gossiped ops the replica rejected
	QueuedBroadcasts int    // broadcasts waiting in memberlist's queue

	OpsSent     uint64 // ops sent in sync sessions and fetch answers
	OpsReceived uint64 // ops received in sync sessions and fetches
	OpsInvalid  uint64 // received ops the replica rejected

	FetchesServed   uint64 // fetch requests answered
	FetchesMade     uint64 // fetch requests sent
	SessionsIn      uint64 // sync sessions accepted
	SessionsOut     uint64 // sync sessions started
	SessionsFailed  uint64 // sessions (either side) that ended in an error
	SessionsRefused uint64 // sessions we refused (busy, rate, unfollowed)
	Penalties       uint64 // peers penalized
	OpsRefused      uint64 // ops the replica refused by local policy
	NoticesReceived uint64 // refusal notices peers sent us (KindNotice)
}

// PeerInfo describes a peer, for status displays.
type PeerInfo struct {
	ID             identity.PublicKey
	Addr           string    // advertised address, "" if unknown
	Member         bool      // a live memberlist member
	Failed         bool      // memberlist declared it dead (not left) and it has not rejoined
	Connected      bool      // has a live authenticated connection
	ConnectedSince time.Time // when it joined (zero if not a member)
	LastSync       time.Time // last completed sync session with it, either side
	Repos          []PeerRepo
	PenalizedUntil time.Time // zero unless penalized
	PenaltyReason  string
}

// PeerRepo is a repo a peer announced in its state, with its root there.
type PeerRepo struct {
	Repo   [32]byte
	Count  uint64 // ops the peer had
	InSync bool   // its root equals ours (false for repos we do not follow)
	// Known is when the peer's root was last learned: from its
	// push-pull state, or a session that ended with both sides equal.
	Known time.Time
}

// Start opens the endpoint (or takes over cfg.Endpoint), starts
// memberlist on it, registers the sync and fetch handlers, starts the
// gossip workers and joins cfg.Join (bounded by ctx; a failed join is
// logged). The caller must Close the node.
func Start(ctx context.Context, cfg NodeConfig, r Replica) (*Node, error) {
	fail := func(err error) (*Node, error) {
		if cfg.Endpoint != nil {
			_ = cfg.Endpoint.Close()
		}
		return nil, err
	}
	if r == nil {
		return fail(errors.New("mesh: start: nil replica"))
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return fail(err)
	}
	if cfg.Transport.Logger == nil {
		cfg.Transport.Logger = cfg.Logger
	}
	ep := cfg.Endpoint
	if ep == nil {
		var err error
		if ep, err = Listen(cfg.Key, cfg.Transport); err != nil {
			return nil, err
		}
	} else if ep.ID() != cfg.Key.Public() {
		return fail(errors.New("mesh: start: the endpoint listens with another identity"))
	}
	ok := false
	defer func() {
		if !ok {
			_ = ep.Close()
		}
	}()
	tr, err := NewMemberlistTransport(ep, MemberlistTransportConfig{})
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "mesh"),
		r:           r,
		id:          ep.ID(),
		ep:          ep,
		tr:          tr,
		ctx:         nctx,
		cancel:      cancel,
		gossipCh:    make(chan []byte, cfg.GossipQueue),
		seen:        newSeenSet(1 << 16),
		inSessions:  make(chan struct{}, cfg.MaxSessions),
		outSessions: make(chan struct{}, cfg.MaxSessions),
		peers:       make(map[identity.PublicKey]*peer),
		calls:       make(map[pairKey]*syncCall),
		serving:     make(map[pairKey]*syncCall),
		servingNote: make(chan struct{}),
	}
	ep.SetAdmit(n.admit)
	defer func() {
		if !ok {
			cancel()
			_ = tr.Shutdown()
		}
	}()
	if err := ep.RegisterHandler(KindSync, n.handleSync); err != nil {
		return nil, err
	}
	if err := ep.RegisterHandler(KindFetch, n.handleFetch); err != nil {
		return nil, err
	}
	if err := ep.RegisterHandler(KindNotice, n.handleNotice); err != nil {
		return nil, err
	}

	mlc := memberlist.DefaultLANConfig()
	tr.Configure(mlc)
	mlc.Delegate = (*delegate)(n)
	mlc.Events = (*delegate)(n)
	mlc.GossipInterval = cfg.GossipInterval
	mlc.GossipNodes = cfg.GossipNodes
	mlc.PushPullInterval = cfg.PushPullInterval
	mlc.ProbeInterval = cfg.ProbeInterval
	// Each op is offered a few more times than memberlist's default, so
	// that gossip alone reaches every node more often; anti-entropy
	// (push-pull) still backs it up.
	mlc.RetransmitMult = 6
	mlc.ProbeTimeout = min(mlc.ProbeTimeout, cfg.ProbeInterval/2)
	mlc.Logger = slog.NewLogLogger(n.log.With("component", "memberlist").Handler(), slog.LevelDebug)
	mlc.LogOutput = nil
	n.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       n.numMembers,
		RetransmitMult: mlc.RetransmitMult,
	}
	ml, err := memberlist.Create(mlc)
	if err != nil {
		return nil, fmt.Errorf("mesh: start memberlist: %w", err)
	}
	n.mu.Lock()
	n.ml = ml
	n.mu.Unlock()

	for range cfg.GossipWorkers {
		n.wg.Add(1)
		go n.gossipWorker()
	}
	if cfg.AntiEntropyInterval > 0 {
		n.wg.Add(1)
		go n.antiEntropyLoop()
	}
	ok = true
	if len(cfg.Join) > 0 {
		if _, err := n.Join(ctx, cfg.Join); err != nil {
			n.log.Warn("join failed", "addrs", cfg.Join, "err", err)
		}
	}
	return n, nil
}

// ID returns this node's identity.
func (n *Node) ID() identity.PublicKey { return n.id }

// Endpoint returns the node's endpoint, for registering further stream
// kinds. The node owns it: do not Close it.
func (n *Node) Endpoint() *Endpoint { return n.ep }

// Addr returns the address peers can join: the endpoint's advertise
// address as "host:port".
func (n *Node) Addr() string {
	if ap, err := n.ep.AdvertiseAddr(); err == nil {
		return ap.String()
	}
	return n.ep.Addr().String()
}

func (n *Node) numMembers() int {
	n.mu.Lock()
	ml := n.ml
	n.mu.Unlock()
	if ml == nil {
		return 1
	}
	return ml.NumMembers()
}

// Join contacts the given addresses ("host:port", or
// "did:key:.../host:port" to require that identity), exchanges state
// with them and so starts syncing repos whose roots differ. It returns
// how many it reached; it fails only if it reached none, with a
// *JoinError naming each address and why it failed.
func (n *Node) Join(ctx context.Context, addrs []string) (int, error) {
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		k, err := n.ml.Join(addrs)
		ch <- result{k, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && r.n == 0 {
			return 0, joinError(addrs, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		je := &JoinError{Addrs: addrs}
		for range addrs {
			je.Causes = append(je.Causes, ctx.Err())
		}
		return 0, je
	}
}

// Peers returns what the node knows about other nodes, ordered by ID.
// A peer's root for a repo is the newer of its last push-pull state and
// the last session with it, so a session (or Verify) brings it up to
// date before the next push-pull.
func (n *Node) Peers() []PeerInfo {
	connected := make(map[identity.PublicKey]bool)
	for _, p := range n.ep.Peers() {
		connected[p] = true
	}
	type known struct {
		d  digest
		at time.Time
	}
	now := time.Now()
	n.mu.Lock()
	out := make([]PeerInfo, 0, len(n.peers))
	roots := make([]map[[32]byte]known, 0, len(n.peers))
	for id, p := range n.peers {
		pi := PeerInfo{
			ID: id, Addr: p.addr, Member: p.member, Failed: p.failed, Connected: connected[id],
			ConnectedSince: p.since, LastSync: p.lastSync,
		}
		if now.Before(p.penaltyTill) {
			pi.PenalizedUntil, pi.PenaltyReason = p.penaltyTill, p.penaltyWhy
		}
		r := make(map[[32]byte]known, len(p.repos))
		for repo, d := range p.repos {
			r[repo] = known{d, p.stateAt}
		}
		for repo, sr := range p.synced {
			if k, ok := r[repo]; !ok || sr.at.After(k.at) {
				r[repo] = known{sr.d, sr.at}
			}
		}
		out = append(out, pi)
		roots = append(roots, r)
	}
	n.mu.Unlock()
	for i := range out {
		for repo, k := range roots[i] {
			pr := PeerRepo{Repo: repo, Count: k.d.Count, Known: k.at}
			if root, ok := n.r.Root(repo); ok {
				pr.InSync = k.d == digestOf(root)
			}
			out[i].Repos = append(out[i].Repos, pr)
		}
		slices.SortFunc(out[i].Repos, func(a, b PeerRepo) int { return compareIDs(a.Repo, b.Repo) })
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return a.ID.Compare(b.ID) })
	return out
}

func compareIDs(a, b [32]byte) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() NodeStats {
	s := &n.stats
	return NodeStats{
		Endpoint:         n.ep.Stats(),
		Memberlist:       n.tr.Stats(),
		Members:          n.numMembers(),
		GossipSent:       s.gossipSent.Load(),
		GossipReceived:   s.gossipReceived.Load(),
		GossipDuplicates: s.gossipDuplicates.Load(),
		GossipDropped:    s.gossipDropped.Load(),
		GossipInvalid:    s.gossipInvalid.Load(),
		QueuedBroadcasts: n.queue.NumQueued(),
		OpsSent:          s.opsSent.Load(),
		OpsReceived:      s.opsReceived.Load(),
		OpsInvalid:       s.opsInvalid.Load(),
		FetchesServed:    s.fetchesServed.Load(),
		FetchesMade:      s.fetchesMade.Load(),
		SessionsIn:       s.sessionsIn.Load(),
		SessionsOut:      s.sessionsOut.Load(),
		SessionsFailed:   s.sessionsFailed.Load(),
		SessionsRefused:  s.sessionsRefused.Load(),
		Penalties:        s.penalties.Load(),
		OpsRefused:       s.opsRefused.Load(),
		NoticesReceived:  s.noticesReceived.Load(),
	}
}

// Close leaves the cluster (telling peers, within a second), stops
// memberlist, the workers and running sessions, and closes the endpoint.
// It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		leaveErr := n.ml.Leave(time.Second)
		n.cancel()
		mlErr := n.ml.Shutdown()
		trErr := n.tr.Shutdown()
		epErr := n.ep.Close()
		n.wg.Wait()
		if err := errors.Join(mlErr, trErr, epErr); err != nil {
			n.closeErr = fmt.Errorf("mesh: close node: %w", err)
		}
		if leaveErr != nil {
			n.log.Debug("leave", "err", leaveErr)
		}
	})
	return n.closeErr
}

// peerLocked returns the record of id, creating it. n.mu must be held.
func (n *Node) peerLocked(id identity.PublicKey) *peer {
	p := n.peers[id]
	if p == nil {
		p = &peer{
			syncLimit:  rate.NewLimiter(n.cfg.SyncRate, n.cfg.SyncBurst),
			fetchLimit: rate.NewLimiter(n.cfg.FetchRate, n.cfg.FetchBurst),
		}
		n.peers[id] = p
		n.pruneLocked()
	}
	return p
}

// maxPeerRecords bounds the peer table: records of peers that are neither
// members nor penalized are dropped beyond it.
const maxPeerRecords = 4096

func (n *Node) pruneLocked() {
	if len(n.peers) <= maxPeerRecords {
		return
	}
	now := time.Now()
	for id, p := range n.peers {
		if !p.member && now.After(p.penaltyTill) {
			delete(n.peers, id)
		}
	}
}

// penalized reports whether id is being ignored.
func (n *Node) penalized(id identity.PublicKey) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[id]
	return p != nil && time.Now().Before(p.penaltyTill)
}

// admit refuses connections with a penalized peer, both ways, so that
// it cannot simply reconnect.
func (n *Node) admit(id identity.PublicKey) error {
	n.mu.Lock()
	p := n.peers[id]
	if p != nil && time.Now().Before(p.penaltyTill) {
		defer n.mu.Unlock()
		return fmt.Errorf("%w until %s: %s", ErrPenalized, p.penaltyTill.UTC().Format(time.RFC3339), p.penaltyWhy)
	}
	n.mu.Unlock()
	if n.cfg.Admit == nil {
		return nil
	}
	if err := n.cfg.Admit(id); err != nil {
		n.log.Warn("refusing connection of peer", "peer", id.DID(), "reason", err)
		return err
	}
	return nil
}

// Disconnect closes the connections with id, as when local policy starts
// refusing it; whether it may reconnect is up to NodeConfig.Admit.
func (n *Node) Disconnect(id identity.PublicKey) {
	n.closeConns(id)
}

// Penalize ignores id for NodeConfig.PenaltyDuration and closes its
// connections, as for a peer that sent invalid ops; reason is logged and
// shown in PeerInfo. Protocols built on the node's endpoint (stream
// kinds it does not serve itself) use it for peers that break them.
func (n *Node) Penalize(id identity.PublicKey, reason error) { n.penalize(id, reason) }

// penalize ignores id for PenaltyDuration and closes its connections.
func (n *Node) penalize(id identity.PublicKey, reason error) {
	if id == n.id {
		return
	}
	n.mu.Lock()
	p := n.peerLocked(id)
	p.penaltyTill = time.Now().Add(n.cfg.PenaltyDuration)
	p.penaltyWhy = reason.Error()
	n.mu.Unlock()
	n.stats.penalties.Add(1)
	n.log.Warn("peer penalized: disconnecting and ignoring it", "peer", id.Short(),
		"for", n.cfg.PenaltyDuration, "reason", reason)
	n.closeConns(id)
}

// closeConns closes the connections with id.
func (n *Node) closeConns(id identity.PublicKey) {
	// A peer has at most one connection per direction; close both.
	e := n.ep
	e.mu.Lock()
	var conns []*Conn
	if pc := e.peers[id]; pc != nil {
		conns = append(conns, pc.in, pc.out)
	}
	e.mu.Unlock()
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// addrOf returns the advertised address of id, or "".
func (n *Node) addrOf(id identity.PublicKey) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.peers[id]; p != nil {
		return p.addr
	}
	return ""
}

// connTo returns a connection to id, dialing its advertised address.
func (n *Node) connTo(ctx context.Context, id identity.PublicKey) (*Conn, error) {
	if n.penalized(id) {
		return nil, fmt.Errorf("%w: %s", ErrPenalized, id.Short())
	}
	if c := n.ep.Conn(id); c != nil {
		return c, nil
	}
	addr := n.addrOf(id)
	if addr == "" {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPeer, id.Short())
	}
	return n.ep.DialPeer(ctx, addr, id)
}

// localState is this node's push-pull state.
func (n *Node) localState() peerState {
	repos := n.r.Followed()
	if len(repos) > n.cfg.MaxStateRepos {
		n.log.Warn("more followed repos than fit the gossiped state; announcing the first ones",
			"repos", len(repos), "limit", n.cfg.MaxStateRepos)
		repos = repos[:n.cfg.MaxStateRepos]
	}
	s := peerState{sender: n.id, repos: make([]repoDigest, 0, len(repos))}
	for _, repo := range repos {
		root, ok := n.r.Root(repo)
		if !ok {
			continue
		}
		s.repos = append(s.repos, repoDigest{repo: repo, d: digestOf(root)})
	}
	return s
}

// mergeState records a peer's state and starts sessions for repos both
// follow whose roots differ.
func (n *Node) mergeState(buf []byte) {
	st, err := decodeState(buf, n.cfg.MaxStateRepos)
	if err != nil {
		n.log.Warn("dropping malformed push-pull state", "err", err)
		return
	}
	if st.sender == n.id || n.penalized(st.sender) {
		return
	}
	n.mu.Lock()
	p := n.peerLocked(st.sender)
	p.repos = make(map[[32]byte]digest, len(st.repos))
	for _, e := range st.repos {
		p.repos[e.repo] = e.d
	}
	p.stateAt = time.Now()
	n.mu.Unlock()

	for _, e := range st.repos {
		follows := n.r.Follows(e.repo)
		if !follows && n.cfg.OnRepo != nil && n.cfg.OnRepo(e.repo, st.sender) {
			follows = n.r.Follows(e.repo)
			if follows {
				n.log.Info("following repo announced by peer", "repo", shortID(e.repo), "peer", st.sender.Short())
				n.autoSync(st.sender, e.repo)
				continue
			}
		}
		if !follows {
			continue
		}
		root, ok := n.r.Root(e.repo)
		if !ok || digestOf(root) == e.d {
			continue
		}
		// Both sides see the mismatch; the side with the lower key
		// starts the session, or the side that is behind, so that one
		// session usually serves both.
		if n.id.Compare(st.sender) < 0 || root.Count < e.d.Count {
			n.autoSync(st.sender, e.repo)
		}
	}
}

func shortID(id [32]byte) string { return fmt.Sprintf("%x", id[:6]) }

// delegate adapts Node to memberlist's Delegate and EventDelegate without
// putting their methods on Node's API.
type delegate Node

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
)

// NodeMeta carries nothing: repo roots travel in push-pull state.
func (d *delegate) NodeMeta(int) []byte { return nil }

// NotifyMsg copies a gossip message to the worker queue, dropping it
// when the queue is full.
func (d *delegate) NotifyMsg(b []byte) {
	n := (*Node)(d)
	n.stats.gossipReceived.Add(1)
	msg := slices.Clone(b)
	select {
	case n.gossipCh <- msg:
	default:
		n.stats.gossipDropped.Add(1)
	}
}

// GetBroadcasts hands memberlist the queued gossip.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

// LocalState returns this node's repos and roots.
func (d *delegate) LocalState(bool) []byte {
	st := (*Node)(d).localState()
	return st.encode()
}

// MergeRemoteState takes in a peer's repos and roots.
func (d *delegate) MergeRemoteState(buf []byte, _ bool) { (*Node)(d).mergeState(buf) }

// NotifyJoin records a member's address and join time.
func (d *delegate) NotifyJoin(m *memberlist.Node) { (*Node)(d).memberEvent(m, true) }

// NotifyLeave marks a member gone.
func (d *delegate) NotifyLeave(m *memberlist.Node) { (*Node)(d).memberEvent(m, false) }

// NotifyUpdate records a member's new address.
func (d *delegate) NotifyUpdate(m *memberlist.Node) { (*Node)(d).memberEvent(m, true) }

func (n *Node) memberEvent(m *memberlist.Node, alive bool) {
	id, err := identity.ParseDID(m.Name)
	if err != nil || id == n.id {
		return
	}
	if ip, ok := netip.AddrFromSlice(m.Addr); ok && alive {
		// A member's connections skip the half-open bounds.
		n.ep.knowAddr(netip.AddrPortFrom(ip.Unmap(), m.Port))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peerLocked(id)
	p.addr = net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port)))
	if alive && !p.member {
		p.since = time.Now()
	}
	p.member = alive
	p.failed = !alive && m.State == memberlist.StateDead
	if !alive {
		p.since = time.Time{}
	}
}

// seenSet remembers recently seen op IDs in two generations of at most
// size entries each, so memory stays bounded.
type seenSet struct {
	mu        sync.Mutex
	size      int
	cur, prev map[[32]byte]struct{}
}

func newSeenSet(size int) seenSet {
	return seenSet{size: size, cur: make(map[[32]byte]struct{}), prev: make(map[[32]byte]struct{})}
}

// add records id and reports whether it was new.
func (s *seenSet) add(id [32]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[id]; ok {
		return false
	}
	if _, ok := s.prev[id]; ok {
		return false
	}
	if len(s.cur) >= s.size {
		s.prev, s.cur = s.cur, make(map[[32]byte]struct{})
	}
	s.cur[id] = struct{}{}
	return true
}

// remove forgets id, so that a later message can retry it.
func (s *seenSet) remove(id [32]byte) {
	s.mu.Lock()
	delete(s.cur, id)
	delete(s.prev, id)
	s.mu.Unlock()
}

// errMerkle reports whether err is the peer's fault in a merkle session.
func errMerkle(err error) bool {
	return errors.Is(err, merkle.ErrMalformed) || errors.Is(err, merkle.ErrTooLarge) ||
		errors.Is(err, merkle.ErrVersion) || errors.Is(err, merkle.ErrProtocol) ||
		errors.Is(err, merkle.ErrVerify) || errors.Is(err, merkle.ErrTooManyRounds)
}
