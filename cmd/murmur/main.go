// Command murmur is the peer-to-peer forge's command line: repos, refs,
// issues, patches and reviews, read and written in the local store with no
// network needed. With no arguments on a terminal it opens the terminal UI.
//
// The grammar follows gh: `murmur issue list`, `murmur patch open`,
// `murmur review PATCH --approve`, with -R/--repo to pick the repo and
// --json for one machine-readable document on stdout. Every command reaches
// the node through api.Service: the running daemon's socket when there is
// one, else a node started in this process (package localapi decides).
//
// Exit status: 0 on success, 1 when the command failed, 2 when it was used
// wrongly (unknown flag, missing argument), 130 when interrupted. On failure
// nothing is written to stdout and stderr holds one line:
//
//	murmur: <what was wrong>. <what to do>
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], osEnv())
	stop()
	os.Exit(code)
}
