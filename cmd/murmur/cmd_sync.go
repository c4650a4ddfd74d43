package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"murmur/api"
	"murmur/attach"
	"murmur/node"
)

func (a *app) syncCmd() *cobra.Command {
	var (
		peers   []string
		timeout time.Duration
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "sync [--peer ADDR]... [--timeout D] [--json]",
		Short: "Sync every followed repo with peers, once",
		Long: `Reach peers (the ones given with --peer, else the configured ones and those
in the address book), reconcile every followed repo with each reachable peer
that follows it, and report how many ops went each way. With a running
'murmur serve' the daemon does it; otherwise this command starts the node
with networking for the time of the sync, connects to the peers directly
(without joining the mesh's membership) and leaves when done.

Exit status 0 means every followed repo was reconciled with at least one
peer; otherwise the status is 1 and the repos that failed are named.`,
		Example: `  murmur sync --peer 192.0.2.7:7788
  murmur sync --timeout 1m --json`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := withMesh(cmd.Context(), embeddedMesh(a, peers))
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			res, err := svc.Sync(ctx, api.SyncRequest{Peers: peers, Timeout: api.Duration(timeout)})
			if err != nil {
				return err
			}
			return a.printSync(res, asJSON)
		},
	}
	c.Flags().StringArrayVar(&peers, "peer", nil, "a peer `ADDR` (host:port) to sync with; repeatable")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after `D`")
	a.addJSONFlags(c, &asJSON, "print the results as JSON")
	return c
}

// embeddedMesh is the networking of a node this command starts itself
// (attach.Mesh): the peers named are dialed while the store opens.
func embeddedMesh(a *app, peers []string) *node.MeshConfig {
	return attach.Mesh(a.Getenv, peers)
}

// printSync prints the results; it fails unless every repo synced. The
// report is printed in either case.
func (a *app) printSync(res []api.SyncResult, asJSON bool) error {
	var failed []string
	for _, r := range res {
		if !r.InSync {
			name := short(r.Repo)
			if r.Name != "" {
				name += " " + clean(r.Name)
			}
			failed = append(failed, fmt.Sprintf("%s (%s)", name, clean(r.Err)))
		}
	}
	if asJSON {
		if err := printJSONList(a, res); err != nil {
			return err
		}
	} else if len(res) == 0 {
		fmt.Fprintln(&a.out, "No followed repos: nothing to sync. Follow one with 'murmur repo follow ID --peer ADDR'.")
	} else {
		t := newTable(1, "REPO", "NAME", "SENT", "RECEIVED", "PEERS", "RESULT")
		for _, r := range res {
			result, style := "synced", styleGreen
			if !r.InSync {
				result, style = "failed: "+r.Err, styleRed
			}
			t.add(cell{text: short(r.Repo), style: styleCyan}, cell{text: r.Name},
				cell{text: strconv.Itoa(r.Sent)}, cell{text: strconv.Itoa(r.Received)},
				cell{text: strconv.Itoa(r.Peers)}, cell{text: result, style: style})
		}
		a.writeTable(&a.out, t)
	}
	if len(failed) == 0 {
		return nil
	}
	// The report goes out even though the command fails.
	_, _ = a.Stdout.Write(a.out.Bytes())
	a.out.Reset()
	return &userError{
		what: fmt.Sprintf("%d of %d followed repos did not sync: %s", len(failed), len(res), strings.Join(failed, ", ")),
		todo: "Check that a peer runs 'murmur serve' and is reachable, or name one with --peer HOST:PORT",
	}
}

func (a *app) followCmd() *cobra.Command {
	var (
		peers  []string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "follow ID [--peer ADDR]... [--json]",
		Short: "Start replicating a repo, fetching it from peers",
		Long: `Follow a repo by its full ID (64 hex digits): this node then keeps a replica
of it and syncs it with peers, the way one clones. With --peer, the repo is
fetched from those peers now; the command waits until it has arrived.
Without, it arrives with the next sync ('murmur sync', or a running
'murmur serve').`,
		Example: `  murmur repo follow 3f2a…c9 --peer 192.0.2.7:7788
  murmur repo follow 3f2a…c9`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(peers) > 0 {
				ctx = withMesh(ctx, embeddedMesh(a, peers))
			}
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			res, err := svc.Follow(ctx, args[0], peers)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			name := clean(res.Name)
			if name == "" {
				name = "(not fetched yet)"
			}
			a.confirm(short(res.Repo), "Following repo %s %s: %d ops here, %d received from %d peers",
				a.paint(styleCyan, short(res.Repo)), name, res.Ops, res.Received, res.Peers)
			return nil
		},
	}
	c.Flags().StringArrayVar(&peers, "peer", nil, "fetch the repo from the peer at `ADDR` (host:port); repeatable")
	a.addJSONFlags(c, &asJSON, "print the result as JSON")
	return c
}

func (a *app) unfollowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "unfollow ID [--json]",
		Short:   "Stop replicating a repo (its data stays here)",
		Example: `  murmur repo unfollow 3f2a`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			res, err := svc.Unfollow(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			a.confirm(short(res.Repo), "No longer following repo %s %s", a.paint(styleCyan, short(res.Repo)), clean(res.Name))
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the result as JSON")
	return c
}
