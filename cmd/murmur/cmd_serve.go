package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"murmur/api"
	"murmur/attach"
	"murmur/identity"
	"murmur/internal/memlimit"
	"murmur/localapi"
	"murmur/node"
	"murmur/policy"
)

// serveConfig is the configuration of `murmur serve`, from (in increasing
// precedence) defaults, the config file, MURMUR_* variables and flags.
type serveConfig struct {
	Listen    string
	Advertise string
	Join      []string
	SeedAll   bool
	LAN       bool   // announce on and join peers from the local network
	LogFormat string // text | json
	LogLevel  string // debug | info | warn | error
	// Wait bounds how long serve waits for another murmur command to
	// release the data directory.
	Wait time.Duration
	// MaxFetchBytes bounds one fetch of a repo's code from one peer;
	// RepoCodeQuota bounds one repo's objects on disk.
	MaxFetchBytes, RepoCodeQuota int64
	// fetchFlag and quotaFlag are --max-fetch-bytes and
	// --repo-code-quota as typed.
	fetchFlag, quotaFlag string
	// Seed, when the config file sets a seed rule (seed, seed-repo,
	// trust), replaces the policy file's seed rule at start.
	Seed *policy.Seed
}

// maxConfigFile bounds the config file.
const maxConfigFile = 64 << 10

const serveLong = `Run this node headless on the mesh: it listens for peers on one UDP port,
joins the peers it is told about and those it met before (its address book),
replicates the repos it follows and serves them to peers. CLI commands and
the TUI started meanwhile use this node through its socket in the data
directory. SIGINT or SIGTERM stops it cleanly.

Settings, later ones winning: the config file (--config FILE or
$MURMUR_CONFIG), then environment variables, then flags.

  flag              environment          config file key
  --listen ADDR     MURMUR_LISTEN        listen = ADDR
  --advertise ADDR  MURMUR_ADVERTISE     advertise = ADDR
  --join ADDR       MURMUR_JOIN (a,b)    join = ADDR (repeatable, or a,b)
  --seed-all        MURMUR_SEED_ALL=1    seed-all = true
  --lan-discovery   MURMUR_LAN_DISCOVERY   lan-discovery = true|false
  --log-format F    MURMUR_LOG_FORMAT    log-format = text|json
  --log LEVEL       MURMUR_LOG           log = debug|info|warn|error
  --wait DURATION   MURMUR_WAIT          wait = DURATION
  --max-fetch-bytes SIZE  MURMUR_MAX_FETCH_BYTES  max-fetch-bytes = SIZE
  --repo-code-quota SIZE  MURMUR_REPO_CODE_QUOTA  repo-code-quota = SIZE
                                         seed = none|repos|trusted|all
                                         seed-repo = ID (repeatable)
                                         trust = DID (repeatable)

The seed keys set the node's local policy (see murmur policy) at start:
which announced repos it follows. --seed-all follows every repo whatever
the policy says.

The node announces itself on the local network (mDNS service
_murmur._udp: its identity key and port, nothing else) and joins the murmur
nodes it finds there, so two machines on one network need no --join.
Anyone on that network can see that this identity runs murmur at this
address; --lan-discovery=false (or MURMUR_LAN_DISCOVERY=0) turns it off.

The config file holds "key = value" lines; blank lines and lines starting
with # are ignored. The default listen address is 0.0.0.0:7788 (UDP port
7788 on every interface); a peer address without a port means port 7788.
Logs go to stderr (log/slog), text by default, at level info.

Code limits: a peer that sends more than --max-fetch-bytes (default 1GiB)
in one fetch of a repo's code is cut off and penalized; a repo's objects
may take up to --repo-code-quota (default 4GiB) on disk, after which the
node fetches no more of its code. A SIZE is bytes, or with a unit
(KiB, MiB, GiB, TiB; K, M, G, T mean the same).

When another murmur command is using the data directory, serve waits for
it to finish, up to --wait (default 15s); commands started meanwhile wait
for this node. A terminal UI keeps the data directory until it quits, so
serve refuses at once and names it.`

func (a *app) serveCmd() *cobra.Command {
	var (
		flags      serveConfig
		configFile string
	)
	c := &cobra.Command{
		Use:   "serve [--listen ADDR] [--join ADDR]... [--advertise ADDR] [--seed-all] [--config FILE]",
		Short: "Run a headless replica (a seed) on the mesh",
		Long:  serveLong,
		Example: `  murmur serve
  murmur serve --listen 0.0.0.0:7788 --join seed.example.org --seed-all
  MURMUR_JOIN=10.0.0.2:7788,10.0.0.3 MURMUR_LOG_FORMAT=json murmur serve`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.serveSettings(cmd, flags, configFile)
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg)
		},
	}
	f := c.Flags()
	f.StringVar(&flags.Listen, "listen", "", "the UDP `ADDR` to listen on (default 0.0.0.0:7788)")
	f.StringVar(&flags.Advertise, "advertise", "", "the `IP:PORT` peers should dial, if not the listen address (NAT)")
	f.StringArrayVar(&flags.Join, "join", nil, "a peer `ADDR` (host:port) to join; repeatable")
	f.BoolVar(&flags.SeedAll, "seed-all", false, "follow every repo a peer announces")
	f.BoolVar(&flags.LAN, "lan-discovery", true, "find and join peers on the local network (mDNS), and announce this node there")
	f.StringVar(&configFile, "config", "", "read settings from `FILE` (key = value lines)")
	f.StringVar(&flags.LogFormat, "log-format", "", "log `FORMAT`: text or json (default text)")
	f.StringVar(&flags.LogLevel, "log", "", "log `LEVEL`: debug, info, warn or error (default info)")
	f.DurationVar(&flags.Wait, "wait", 0, "wait up to `DURATION` for other murmur commands to release the data directory (default 15s)")
	f.StringVar(&flags.fetchFlag, "max-fetch-bytes", "", "cut off and penalize a peer that sends more than `SIZE` in one fetch of code (default 1GiB)")
	f.StringVar(&flags.quotaFlag, "repo-code-quota", "", "fetch no more code for a repo whose objects take `SIZE` on disk (default 4GiB)")
	return c
}

// serveSettings merges defaults, config file, environment and flags.
func (a *app) serveSettings(cmd *cobra.Command, flags serveConfig, configFile string) (serveConfig, error) {
	cfg := serveConfig{Listen: fmt.Sprintf("0.0.0.0:%d", node.DefaultPort), LogFormat: "text", LogLevel: "info", Wait: localapi.DefaultServeWait, LAN: true,
		MaxFetchBytes: defaultMaxFetchBytes, RepoCodeQuota: defaultRepoCodeQuota}
	if configFile == "" {
		configFile = a.Getenv("MURMUR_CONFIG")
	}
	if configFile != "" {
		b, err := readLimited(configFile, a.Stdin, maxConfigFile)
		if err != nil {
			return cfg, &userError{what: fmt.Sprintf("cannot read the config file: %s", fileErr(err)), todo: "Check the path given to --config or $MURMUR_CONFIG"}
		}
		if err := parseServeConfig(bytes.NewReader(b), &cfg); err != nil {
			return cfg, &userError{what: fmt.Sprintf("config file %s: %v", configFile, err), todo: "Fix the line; see 'murmur serve --help' for the keys"}
		}
	}
	env := func(name string, dst *string) {
		if v := strings.TrimSpace(a.Getenv(name)); v != "" {
			*dst = v
		}
	}
	env("MURMUR_LISTEN", &cfg.Listen)
	env("MURMUR_ADVERTISE", &cfg.Advertise)
	env("MURMUR_LOG_FORMAT", &cfg.LogFormat)
	env("MURMUR_LOG", &cfg.LogLevel)
	if v := a.Getenv("MURMUR_JOIN"); strings.TrimSpace(v) != "" {
		cfg.Join = splitList(v)
	}
	if v := strings.TrimSpace(a.Getenv("MURMUR_WAIT")); v != "" {
		d, err := parseWait(v)
		if err != nil {
			return cfg, &userError{what: fmt.Sprintf("MURMUR_WAIT=%q: %v", v, err), todo: "Set it to a duration such as 15s"}
		}
		cfg.Wait = d
	}
	if v := strings.TrimSpace(a.Getenv("MURMUR_LAN_DISCOVERY")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, &userError{what: fmt.Sprintf("MURMUR_LAN_DISCOVERY=%q is not a boolean", v), todo: "Set it to 1 or 0"}
		}
		cfg.LAN = b
	}
	if v := strings.TrimSpace(a.Getenv("MURMUR_SEED_ALL")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, &userError{what: fmt.Sprintf("MURMUR_SEED_ALL=%q is not a boolean", v), todo: "Set it to 1 or 0"}
		}
		cfg.SeedAll = b
	}
	for _, e := range []struct {
		name string
		dst  *int64
	}{{"MURMUR_MAX_FETCH_BYTES", &cfg.MaxFetchBytes}, {"MURMUR_REPO_CODE_QUOTA", &cfg.RepoCodeQuota}} {
		if v := strings.TrimSpace(a.Getenv(e.name)); v != "" {
			if err := sizeSetting(e.dst, e.name, v); err != nil {
				return cfg, err
			}
		}
	}
	fl := cmd.Flags()
	if fl.Changed("listen") {
		cfg.Listen = flags.Listen
	}
	if fl.Changed("advertise") {
		cfg.Advertise = flags.Advertise
	}
	if fl.Changed("join") {
		cfg.Join = nil
		for _, j := range flags.Join {
			cfg.Join = append(cfg.Join, splitList(j)...)
		}
	}
	if fl.Changed("seed-all") {
		cfg.SeedAll = flags.SeedAll
	}
	if fl.Changed("lan-discovery") {
		cfg.LAN = flags.LAN
	}
	if fl.Changed("log-format") {
		cfg.LogFormat = flags.LogFormat
	}
	if fl.Changed("log") {
		cfg.LogLevel = flags.LogLevel
	}
	if fl.Changed("wait") {
		if flags.Wait < 0 {
			return cfg, &userError{what: fmt.Sprintf("--wait %v is negative", flags.Wait), todo: "Use --wait 0s not to wait, or a duration such as 15s"}
		}
		cfg.Wait = flags.Wait
	}
	if err := sizeFlags(fl, flags, &cfg); err != nil {
		return cfg, err
	}
	return cfg, validateServe(&cfg)
}

// validateServe checks cfg and normalizes peer addresses.
func validateServe(cfg *serveConfig) error {
	cfg.LogFormat = strings.ToLower(cfg.LogFormat)
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return &userError{what: fmt.Sprintf("log format %q is not text or json", cfg.LogFormat), todo: "Use --log-format text or --log-format json"}
	}
	if _, ok := parseLevel(cfg.LogLevel); !ok {
		return &userError{what: fmt.Sprintf("log level %q is not debug, info, warn or error", cfg.LogLevel), todo: "Use --log info"}
	}
	if _, err := node.NormalizePeerAddr(cfg.Listen); err != nil && !strings.HasPrefix(cfg.Listen, ":") {
		return &userError{what: fmt.Sprintf("listen address %q is not host:port", cfg.Listen), todo: fmt.Sprintf("Use for example --listen 0.0.0.0:%d", node.DefaultPort)}
	}
	for i, j := range cfg.Join {
		n, err := node.NormalizePeerAddr(j)
		if err != nil {
			return &userError{what: err.Error(), todo: "Name peers as host:port, for example --join 192.0.2.7:7788"}
		}
		cfg.Join[i] = n
	}
	return nil
}

// parseServeConfig reads "key = value" lines into cfg.
func parseServeConfig(r io.Reader, cfg *serveConfig) error {
	sc := bufio.NewScanner(r)
	joinSet := false
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("line %d: %q is not key = value", line, text)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch key {
		case "listen":
			cfg.Listen = value
		case "advertise":
			cfg.Advertise = value
		case "join":
			if !joinSet {
				cfg.Join, joinSet = nil, true
			}
			cfg.Join = append(cfg.Join, splitList(value)...)
		case "lan-discovery", "lan_discovery":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("line %d: lan-discovery = %q is not true or false", line, value)
			}
			cfg.LAN = b
		case "seed-all", "seed_all":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("line %d: seed-all = %q is not true or false", line, value)
			}
			cfg.SeedAll = b
		case "log-format", "log_format":
			cfg.LogFormat = value
		case "log", "log-level", "log_level":
			cfg.LogLevel = value
		case "max-fetch-bytes", "max_fetch_bytes", "repo-code-quota", "repo_code_quota":
			n, err := parseBytes(value)
			if err != nil {
				return fmt.Errorf("line %d: %s: %v", line, key, err)
			}
			if strings.HasPrefix(key, "max") {
				cfg.MaxFetchBytes = n
			} else {
				cfg.RepoCodeQuota = n
			}
		case "seed", "seed-repo", "seed_repo", "trust":
			if cfg.Seed == nil {
				cfg.Seed = &policy.Seed{}
			}
			if err := seedKey(cfg.Seed, key, value); err != nil {
				return fmt.Errorf("line %d: %v", line, err)
			}
		case "wait":
			d, err := parseWait(value)
			if err != nil {
				return fmt.Errorf("line %d: wait = %q: %v", line, value, err)
			}
			cfg.Wait = d
		default:
			return fmt.Errorf("line %d: unknown key %q (known: listen, advertise, join, seed-all, seed, seed-repo, trust, lan-discovery, log-format, log, wait, max-fetch-bytes, repo-code-quota)", line, key)
		}
	}
	return sc.Err()
}

// parseWait reads a wait duration such as "15s"; it may be 0, not
// negative.
func parseWait(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("not a duration such as 15s")
	}
	if d < 0 {
		return 0, errors.New("negative")
	}
	return d, nil
}

func splitList(s string) []string { return attach.SplitPeers(s) }

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

// serveOptions are the local API options of the daemon.
func serveOptions(cfg serveConfig, logger *slog.Logger) localapi.ServeOptions {
	wait := cfg.Wait
	if wait == 0 {
		wait = -1 // do not wait
	}
	return localapi.ServeOptions{
		HandlerOptions: localapi.HandlerOptions{Logger: logger},
		Owner:          localapi.Owner{Command: "murmur serve"},
		Wait:           wait,
	}
}

// heldError says which process keeps the store from serve.
func heldError(home string, held *localapi.HeldError) error {
	who := "another murmur process"
	if held.Owner.PID > 0 {
		who = clean(held.Owner.String())
	}
	if held.Owner.Role == localapi.RoleInteractive {
		return &userError{
			what: fmt.Sprintf("cannot start the node: %s is using %s and keeps it until it quits", who, home),
			todo: "Quit the terminal UI, then start murmur serve again; a terminal UI started after murmur serve uses it",
			err:  held,
		}
	}
	return &userError{
		what: fmt.Sprintf("cannot start the node: %s still uses %s after %v", who, home, held.Waited.Round(time.Second)),
		todo: "Wait for it to finish or stop it, or raise --wait",
		err:  held,
	}
}

// serve runs the daemon until ctx ends.
func (a *app) serve(ctx context.Context, cfg serveConfig) error {
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	pass, err := a.passphrase()
	if err != nil {
		return err
	}
	level, _ := parseLevel(cfg.LogLevel)
	hopts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	if cfg.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(a.Stderr, hopts))
	} else {
		logger = slog.New(slog.NewTextHandler(a.Stderr, hopts))
	}
	if cfg.Seed != nil {
		if err := applySeedConfig(home, *cfg.Seed); err != nil {
			return err
		}
	}
	mc := &node.MeshConfig{Listen: cfg.Listen, Advertise: cfg.Advertise, Join: cfg.Join, SeedAll: cfg.SeedAll, LANDiscovery: cfg.LAN}
	var n *node.Node
	srv, err := localapi.ServeNode(ctx, home, func() (api.Service, func() error, error) {
		var err error
		n, err = node.Open(ctx, node.Config{Home: home, Passphrase: pass, Logger: logger, Daemon: true, Mesh: mc,
			MaxFetchBytes: cfg.MaxFetchBytes, MaxRepoCodeBytes: cfg.RepoCodeQuota})
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	}, serveOptions(cfg, logger))
	if err != nil && ctx.Err() != nil {
		logger.Info("stopped before serving", "err", err)
		return nil
	}
	if err != nil {
		if errors.Is(err, localapi.ErrDaemonRunning) {
			what := "a murmur node already serves " + home
			var running *localapi.RunningError
			if errors.As(err, &running) && running.Owner.PID > 0 {
				what += " (" + clean(running.Owner.String()) + ")"
			}
			return &userError{what: what, todo: "Stop it first, or use another --home", err: err}
		}
		var held *localapi.HeldError
		if errors.As(err, &held) {
			return heldError(home, held)
		}
		if api.ErrorCode(err) != "" {
			return err
		}
		return &userError{what: "cannot start the node: " + clean(err.Error()), todo: "Check --listen (is the port in use?) and the data directory", err: err}
	}
	id := ""
	if m := n.Mesh(); m != nil {
		id = m.ID().DID()
	}
	logger.Info("ready", "id", id, "listen", n.Mesh().Addr(), "socket", srv.SocketPath(), "join", cfg.Join, "seed_all", cfg.SeedAll,
		"max_fetch_bytes", formatBytes(cfg.MaxFetchBytes), "repo_code_quota", formatBytes(cfg.RepoCodeQuota))
	limited := make(chan struct{})
	go func() {
		defer close(limited)
		memlimit.Follow(ctx, n.Store().StoredOps, 10*time.Second)
	}()
	<-ctx.Done()
	<-limited
	logger.Info("shutting down")
	if err := srv.Close(); err != nil {
		logger.Error("shutdown", "err", err)
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// seedKey reads one seed key of the config file into s.
func seedKey(s *policy.Seed, key, value string) error {
	switch key {
	case "seed":
		s.Mode = strings.ToLower(value)
	case "trust":
		for _, v := range splitList(value) {
			k, err := identity.ParseDID(v)
			if err != nil {
				return fmt.Errorf("trust = %q is not an identity: give its did:key", v)
			}
			s.Trusted = append(s.Trusted, k.DID())
		}
	default:
		for _, v := range splitList(value) {
			s.Repos = append(s.Repos, strings.ToLower(v))
		}
	}
	p := policy.Policy{Seed: *s}
	return p.Check()
}

// applySeedConfig makes the config file's seed rule the policy's.
func applySeedConfig(home string, s policy.Seed) error {
	p, err := policy.Load(home)
	if err != nil {
		return policyError(err)
	}
	if s.Mode == "" {
		s.Mode = policy.SeedNone
		if len(s.Trusted) > 0 {
			s.Mode = policy.SeedTrusted
		} else if len(s.Repos) > 0 {
			s.Mode = policy.SeedRepos
		}
	}
	p.Seed = s
	return policyError(policy.Save(home, p))
}
