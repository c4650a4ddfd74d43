// Package policy owns a node's local policy: the identities whose ops it
// refuses and hides, the peers it refuses to talk to, which repos a seed
// follows, and how much one identity, peer or repo may make it store. A
// policy is local to one node and never replicated; no op carries it.
//
// The policy is a JSON file in the data directory (File), written
// atomically by Save and read by Load, so the commands that change it work
// the same with or without a running daemon; a running node picks up a
// changed file (Watcher). Package policy imports only identity and the
// standard library; node applies it.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"murmur/identity"
)

// File is the policy's file name inside a data directory.
const File = "policy.json"

// MaxFileSize bounds the policy file read by Load.
const MaxFileSize = 1 << 20

// Seed modes: which announced repos a node follows by itself.
const (
	SeedNone    = "none"    // only repos followed by hand
	SeedRepos   = "repos"   // the repos listed in Seed.Repos
	SeedTrusted = "trusted" // repos whose owner or a maintainer is in Seed.Trusted
	SeedAll     = "all"     // every repo a peer announces
)

// Policy is a node's local policy. The zero value blocks nobody, follows
// nothing by itself and sets no budget.
//
// File format (version 1), JSON:
//
//	{"version": 1,
//	 "blocked": ["did:key:…"], "blocked_peers": ["did:key:…"],
//	 "seed": {"mode": "trusted", "repos": ["<64 hex>"], "trusted": ["did:key:…"]},
//	 "budget": {"window": "1h", "author_ops": 1000, "author_bytes": 4194304,
//	            "unknown_ops": 200, "unknown_bytes": 1048576, "repo_bytes": 0}}
//
// Unknown fields are rejected, so a typo is an error rather than a rule
// silently not applied.
type Policy struct {
	Version int `json:"version"`
	// Blocked lists identities (did:key) whose ops the node refuses and
	// hides.
	Blocked []string `json:"blocked,omitempty"`
	// BlockedPeers lists identities whose mesh connections the node
	// refuses at the handshake.
	BlockedPeers []string `json:"blocked_peers,omitempty"`
	Seed         Seed     `json:"seed"`
	Budget       Budget   `json:"budget"`
}

// Seed is the seeding rule: which repos announced by peers the node
// follows without being asked.
type Seed struct {
	// Mode is SeedNone (default, ""), SeedRepos, SeedTrusted or SeedAll.
	Mode string `json:"mode,omitempty"`
	// Repos are repo IDs (64 hex digits) followed in mode SeedRepos.
	Repos []string `json:"repos,omitempty"`
	// Trusted are identities (did:key) whose repos are followed in mode
	// SeedTrusted: repos they own or maintain. Their ops are also never
	// charged to the budgets of unknown authors.
	Trusted []string `json:"trusted,omitempty"`
}

// Budget bounds what one identity, peer or repo can make the node store
// from the network per window. Zero fields are unlimited. The node's own
// writes are never charged.
type Budget struct {
	// Window is the length of a budget window, as a Go duration ("1h").
	// Default 1h.
	Window string `json:"window,omitempty"`
	// AuthorOps and AuthorBytes bound the ops of one author in one repo
	// per window.
	AuthorOps   int   `json:"author_ops,omitempty"`
	AuthorBytes int64 `json:"author_bytes,omitempty"`
	// UnknownOps and UnknownBytes bound the ops of unknown authors (not
	// the repo's owner or maintainers, not trusted) per window, counted
	// per delivering peer and per repo, since fresh identities cost
	// nothing to make.
	UnknownOps   int   `json:"unknown_ops,omitempty"`
	UnknownBytes int64 `json:"unknown_bytes,omitempty"`
	// RepoBytes is a per-repo storage quota: ops of unknown authors are
	// refused once the repo's stored ops take this many bytes.
	RepoBytes int64 `json:"repo_bytes,omitempty"`
}

// DefaultWindow is the budget window when Budget.Window is empty.
const DefaultWindow = time.Hour

// WindowDuration returns the budget window.
func (b Budget) WindowDuration() time.Duration {
	d, err := time.ParseDuration(b.Window)
	if err != nil || d <= 0 {
		return DefaultWindow
	}
	return d
}

// Limited reports whether any budget is set.
func (b Budget) Limited() bool {
	return b.AuthorOps > 0 || b.AuthorBytes > 0 || b.UnknownOps > 0 || b.UnknownBytes > 0 || b.RepoBytes > 0
}

// ErrInvalid is matched (errors.Is) by every error Check returns.
var ErrInvalid = errors.New("policy: invalid")

// Check reports the first thing wrong with p, saying how to fix it.
func (p *Policy) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if p.Version != 0 && p.Version != 1 {
		return bad("version %d is not known (this murmur reads version 1)", p.Version)
	}
	for _, list := range []struct {
		name string
		ids  []string
	}{{"blocked", p.Blocked}, {"blocked_peers", p.BlockedPeers}, {"seed.trusted", p.Seed.Trusted}} {
		for _, s := range list.ids {
			if _, err := identity.ParseDID(s); err != nil {
				return bad("%s: %q is not an identity: give its did:key", list.name, s)
			}
		}
	}
	for _, r := range p.Seed.Repos {
		if !isRepoID(r) {
			return bad("seed.repos: %q is not a repo ID: give its 64 hex digits", r)
		}
	}
	switch p.Seed.Mode {
	case "", SeedNone, SeedRepos, SeedTrusted, SeedAll:
	default:
		return bad("seed.mode %q is not one of none, repos, trusted, all", p.Seed.Mode)
	}
	if w := p.Budget.Window; w != "" {
		if d, err := time.ParseDuration(w); err != nil || d <= 0 {
			return bad("budget.window %q is not a positive duration such as 1h or 10m", w)
		}
	}
	b := p.Budget
	if b.AuthorOps < 0 || b.AuthorBytes < 0 || b.UnknownOps < 0 || b.UnknownBytes < 0 || b.RepoBytes < 0 {
		return bad("budgets are counts of ops or bytes: use 0 for unlimited, not a negative number")
	}
	return nil
}

func isRepoID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Load reads the policy of data directory home. A missing file is the
// zero policy.
func Load(home string) (*Policy, error) {
	path := filepath.Join(home, File)
	b, err := readBounded(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Policy{Version: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", path, st.Size(), MaxFileSize)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return b, nil
}

// Parse decodes and checks a policy file's contents.
func Parse(b []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %s: fix the JSON or remove the file", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the policy object", ErrInvalid)
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	p.Version = 1
	return &p, nil
}

// Save checks p and writes it to home atomically (a temporary file
// renamed over the old one), mode 0600.
func Save(home string, p *Policy) error {
	if err := p.Check(); err != nil {
		return err
	}
	q := *p
	q.Version = 1
	q.normalize()
	b, err := json.MarshalIndent(&q, "", "  ")
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	tmp, err := os.CreateTemp(home, File+".*")
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("policy: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("policy: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(home, File)); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	ok = true
	return nil
}

// normalize sorts and deduplicates the lists.
func (p *Policy) normalize() {
	for _, l := range []*[]string{&p.Blocked, &p.BlockedPeers, &p.Seed.Repos, &p.Seed.Trusted} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
}

// Add puts s into list unless it is there, reporting whether it added it.
func Add(list *[]string, s string) bool {
	if slices.Contains(*list, s) {
		return false
	}
	*list = append(*list, s)
	return true
}

// Remove takes s out of list, reporting whether it was there.
func Remove(list *[]string, s string) bool {
	i := slices.Index(*list, s)
	if i < 0 {
		return false
	}
	*list = slices.Delete(*list, i, i+1)
	return true
}
