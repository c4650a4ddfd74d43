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
