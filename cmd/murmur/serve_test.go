package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/localapi"
)

func TestServeWaitSettings(t *testing.T) {
	tests := []struct {
		name    string
		config  string // config file content; "" for none
		env     string // MURMUR_WAIT
		flag    string // --wait
		want    time.Duration
		wantErr string
	}{
		{name: "default", want: localapi.DefaultServeWait},
		{name: "config", config: "wait = 3s\n", want: 3 * time.Second},
		{name: "env wins over config", config: "wait = 3s\n", env: "0", want: 0},
		{name: "flag wins over env", env: "1m", flag: "2s", want: 2 * time.Second},
		{name: "bad env", env: "soon", wantErr: `MURMUR_WAIT="soon"`},
		{name: "negative config", config: "wait = -1s\n", wantErr: "negative"},
		{name: "negative flag", flag: "-1s", wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := settingsWith(t, tt.config, "MURMUR_WAIT", tt.env, "wait", tt.flag, func(f *serveConfig) {
				f.Wait, _ = time.ParseDuration(tt.flag)
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("serveSettings = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Wait != tt.want {
				t.Errorf("Wait = %v, want %v", cfg.Wait, tt.want)
			}
		})
	}
}

func TestServeLANDiscoverySettings(t *testing.T) {
	tests := []struct {
		name   string
		config string // config file content; "" for none
		env    string // MURMUR_LAN_DISCOVERY
		flag   string // --lan-discovery
		want   bool
	}{
		{name: "on by default", want: true},
		{name: "config turns it off", config: "lan-discovery = false\n", want: false},
		{name: "env wins over config", config: "lan-discovery = false\n", env: "1", want: true},
		{name: "env turns it off", env: "0", want: false},
		{name: "flag wins over env", env: "0", flag: "true", want: true},
		{name: "flag turns it off", flag: "false", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := settingsWith(t, tt.config, "MURMUR_LAN_DISCOVERY", tt.env, "lan-discovery", tt.flag, func(f *serveConfig) {
				f.LAN = tt.flag == "true"
			})
			if err != nil || cfg.LAN != tt.want {
				t.Errorf("serveSettings: LAN = %v, %v; want %v", cfg.LAN, err, tt.want)
			}
		})
	}
}

// settingsWith runs serveSettings with a config file (unless config is
// empty), one environment variable and one flag set (unless value is
// empty); set puts the flag's value where serveCmd's own flags would.
func settingsWith(t *testing.T, config, envName, envValue, flag, value string, set func(*serveConfig)) (serveConfig, error) {
	t.Helper()
	file := ""
	if config != "" {
		file = filepath.Join(t.TempDir(), "serve.conf")
		if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := &app{env: env{Getenv: func(k string) string {
		if k == envName {
			return envValue
		}
		return ""
	}}}
	cmd := a.serveCmd()
	var flags serveConfig
	if value != "" {
		if err := cmd.Flags().Set(flag, value); err != nil {
			t.Fatal(err)
		}
		set(&flags)
	}
	return a.serveSettings(cmd, flags, file)
}

func TestServeCodeLimitSettings(t *testing.T) {
	tests := []struct {
		name      string
		config    string // config file content; "" for none
		env       string // MURMUR_MAX_FETCH_BYTES
		flag      string // --max-fetch-bytes
		wantFetch int64
		wantQuota int64
		wantErr   string
	}{
		{name: "defaults", wantFetch: 1 << 30, wantQuota: 4 << 30},
		{name: "config", config: "max-fetch-bytes = 64MiB\nrepo-code-quota = 2G\n", wantFetch: 64 << 20, wantQuota: 2 << 30},
		{name: "env wins over config", config: "max-fetch-bytes = 64MiB\n", env: "1024", wantFetch: 1024, wantQuota: 4 << 30},
		{name: "flag wins over env", env: "1024", flag: "512k", wantFetch: 512 << 10, wantQuota: 4 << 30},
		{name: "bad config", config: "repo-code-quota = lots\n", wantErr: `line 1: repo-code-quota: "lots" is not a size`},
		{name: "zero config", config: "max-fetch-bytes = 0\n", wantErr: "not a positive size"},
		{name: "bad env", env: "-5", wantErr: "MURMUR_MAX_FETCH_BYTES"},
		{name: "bad flag", flag: "1.5G", wantErr: "--max-fetch-bytes"},
		{name: "overflow", flag: "9999999999T", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := settingsWith(t, tt.config, "MURMUR_MAX_FETCH_BYTES", tt.env, "max-fetch-bytes", tt.flag, func(f *serveConfig) {
				f.fetchFlag = tt.flag
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("serveSettings = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxFetchBytes != tt.wantFetch || cfg.RepoCodeQuota != tt.wantQuota {
				t.Errorf("serveSettings: max fetch %d, quota %d; want %d, %d", cfg.MaxFetchBytes, cfg.RepoCodeQuota, tt.wantFetch, tt.wantQuota)
			}
		})
	}
}

func TestFormatBytesRoundTrips(t *testing.T) {
	for _, n := range []int64{1, 1000, 1 << 10, 3 << 20, 1 << 30, 5 << 40, 1<<20 + 1} {
		if got, err := parseBytes(formatBytes(n)); err != nil || got != n {
			t.Errorf("parseBytes(formatBytes(%d) = %q) = %d, %v", n, formatBytes(n), got, err)
		}
	}
}
