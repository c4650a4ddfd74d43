// Command git-remote-murmur is git's remote helper for murmur:// URLs:
// with it in PATH (go install ./cmd/... puts it beside murmur), git clone,
// fetch, pull and push work with murmur://<repo-id>. git runs it; users
// do not. Package gitremote holds the protocol; this command reaches the
// local node the way murmur does (package attach): the running daemon,
// else a node started in this process, with the data directory from
// $MURMUR_HOME (else $XDG_DATA_HOME/murmur, else ~/.local/share/murmur),
// the key file's passphrase from $MURMUR_PASSPHRASE, peers to fetch from
// in $MURMUR_JOIN (comma-separated host:port), how long to wait for
// code in $MURMUR_FETCH_TIMEOUT (default 2m), and an embedded node's log
// level in $MURMUR_LOG (default error).
//
// Exit status 0 on success, 1 with one line on stderr otherwise.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"murmur/attach"
	"murmur/gitremote"
	"murmur/localapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "murmur: %s\n", strings.TrimSuffix(err.Error(), "."))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("git-remote-murmur is run by git, as 'git-remote-murmur REMOTE URL'; use git clone murmur://<repo-id>")
	}
	home, err := attach.Home("", os.Getenv)
	if err != nil {
		return fmt.Errorf("cannot find the data directory: set MURMUR_HOME")
	}
	wait := gitremote.DefaultWait
	if v := strings.TrimSpace(os.Getenv("MURMUR_FETCH_TIMEOUT")); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait <= 0 {
			return fmt.Errorf("MURMUR_FETCH_TIMEOUT=%q is not a duration; set it to one such as 2m", v)
		}
	}
	gitDir := os.Getenv("GIT_DIR")
	if gitDir != "" {
		if gitDir, err = filepath.Abs(gitDir); err != nil {
			return err
		}
	}
	var pass []byte
	if p := os.Getenv("MURMUR_PASSPHRASE"); p != "" {
		pass = []byte(p)
	}
	peers := attach.SplitPeers(os.Getenv("MURMUR_JOIN"))
	// An embedded node logs only errors into git's output unless
	// $MURMUR_LOG asks for more.
	level := os.Getenv("MURMUR_LOG")
	if level == "" {
		level = "error"
	}
	logger := attach.Logger(level)
	h := &gitremote.Helper{
		URL:    args[1],
		GitDir: gitDir,
		Peers:  peers,
		Wait:   wait,
		Stderr: os.Stderr,
		Connect: func(ctx context.Context, network bool) (*gitremote.Node, error) {
			o := attach.Options{Home: home, Passphrase: pass, Owner: localapi.Owner{Command: "git-remote-murmur " + args[0]}, Logger: logger}
			if network {
				o.Mesh = attach.Mesh(os.Getenv, peers)
			}
			att, err := attach.Node(ctx, o)
			if err != nil {
				return nil, err
			}
			return &gitremote.Node{Service: att, Embedded: att.Embedded(), Close: att.Close}, nil
		},
	}
	return h.Run(ctx, os.Stdin, os.Stdout)
}
