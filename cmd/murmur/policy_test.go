package main

import (
	"slices"
	"strings"
	"testing"

	"murmur/identity"
	"murmur/policy"
)

func TestServeSeedSettings(t *testing.T) {
	k, err := identity.NewKeyFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	did := k.Public().DID()
	repo := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		config  string
		want    *policy.Seed
		wantErr string
	}{
		{name: "none", config: "log = debug\n"},
		{name: "trusted", config: "seed = trusted\ntrust = " + did + "\n", want: &policy.Seed{Mode: "trusted", Trusted: []string{did}}},
		{name: "repos", config: "seed-repo = " + repo + "\n", want: &policy.Seed{Repos: []string{repo}}},
		{name: "bad identity", config: "trust = alice\n", wantErr: `line 1: trust = "alice" is not an identity`},
		{name: "bad mode", config: "seed = some\n", wantErr: "seed.mode"},
		{name: "bad repo", config: "seed-repo = 12\n", wantErr: "not a repo ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := settingsWith(t, tt.config, "", "", "", "", func(*serveConfig) {})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("serveSettings = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.Seed == nil) != (tt.want == nil) {
				t.Fatalf("Seed = %+v, want %+v", cfg.Seed, tt.want)
			}
			if tt.want != nil && (cfg.Seed.Mode != tt.want.Mode || !slices.Equal(cfg.Seed.Trusted, tt.want.Trusted) || !slices.Equal(cfg.Seed.Repos, tt.want.Repos)) {
				t.Fatalf("Seed = %+v, want %+v", *cfg.Seed, *tt.want)
			}
		})
	}
}

func TestApplySeedConfig(t *testing.T) {
	home := t.TempDir()
	if err := policy.Save(home, &policy.Policy{Blocked: nil, Budget: policy.Budget{AuthorOps: 5}}); err != nil {
		t.Fatal(err)
	}
	repo := strings.Repeat("cd", 32)
	if err := applySeedConfig(home, policy.Seed{Repos: []string{repo}}); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if p.Seed.Mode != policy.SeedRepos || !slices.Equal(p.Seed.Repos, []string{repo}) || p.Budget.AuthorOps != 5 {
		t.Fatalf("policy after the config's seed rule = %+v, want mode repos [%s] and the budget kept", p, repo)
	}
}
