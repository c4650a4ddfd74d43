package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Defaults of the code limits of `murmur serve`, as node.Config documents
// them (0 there means these).
const (
	defaultMaxFetchBytes = 1 << 30 // one fetch from one peer
	defaultRepoCodeQuota = 4 << 30 // one repo's objects on disk
)

// byteUnits are the suffixes parseBytes accepts, powers of 1024.
var byteUnits = []struct {
	suffix string
	shift  uint
}{
	{"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40},
	{"kb", 10}, {"mb", 20}, {"gb", 30}, {"tb", 40},
	{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40},
	{"b", 0},
}

// parseBytes reads a size such as "1048576", "64MiB", "512k" or "4G"
// (units are powers of 1024). It must be at least 1 byte.
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := uint(0)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 64MiB or 1GiB", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

// formatBytes writes n as parseBytes reads it, in the largest unit that
// divides it.
func formatBytes(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d%s", n>>u.shift, u.name)
		}
	}
	return strconv.FormatInt(n, 10)
}

// sizeSetting applies one size setting (a code limit) from the config
// file, the environment or a flag; where names the source in errors.
func sizeSetting(dst *int64, where, value string) error {
	n, err := parseBytes(value)
	if err != nil {
		return &userError{what: fmt.Sprintf("%s: %v", where, err), todo: "Give a size in bytes, or with a unit: 512KiB, 64MiB, 1GiB"}
	}
	*dst = n
	return nil
}

// sizeFlags applies --max-fetch-bytes and --repo-code-quota, which win
// over the config file and the environment.
func sizeFlags(fl interface{ Changed(string) bool }, flags serveConfig, cfg *serveConfig) error {
	if fl.Changed("max-fetch-bytes") {
		if err := sizeSetting(&cfg.MaxFetchBytes, "--max-fetch-bytes", flags.fetchFlag); err != nil {
			return err
		}
	}
	if fl.Changed("repo-code-quota") {
		if err := sizeSetting(&cfg.RepoCodeQuota, "--repo-code-quota", flags.quotaFlag); err != nil {
			return err
		}
	}
	return nil
}
