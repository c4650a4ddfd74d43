package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"murmur/doctor"
	"murmur/localapi"
)

func (a *app) doctorCmd() *cobra.Command {
	var (
		repair  bool
		peers   []string
		timeout time.Duration
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "doctor [--repair [--peer ADDR]...] [--json]",
		Short: "Check the store, and repair it from what is readable and from peers",
		Long: `Check this replica's store: Pebble's own consistency checks and every
block's checksum, every op decoded and its signature and ID verified, and
every index compared with a rebuild from the ops. Nothing is changed.

With --repair, a store with problems is repaired: when only indexes are
wrong they are rebuilt in place; otherwise the whole store directory is moved
aside into store.damaged-DATE (nothing is deleted), every op still readable is
salvaged from its files, a new store is built from them, and the rest is
fetched again from peers: the ones given with --peer, else the address book.
The store is checked again afterwards.

No murmur process may use the data directory meanwhile: stop 'murmur serve'
first. Exit status 0 means the store is (now) clean, 1 that problems remain.`,
		Example: `  murmur doctor
  murmur doctor --repair --peer 192.0.2.7:7788
  murmur doctor --json`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			var rep doctor.Report
			if repair {
				pass, perr := a.passphrase()
				if perr != nil {
					return perr
				}
				rep, err = doctor.Repair(cmd.Context(), home, doctor.Options{Peers: peers,
					Listen: embeddedMesh(a, peers).Listen, Timeout: timeout, Passphrase: pass,
					Logger: newLogger(os.Getenv("MURMUR_LOG"))})
			} else {
				rep, err = doctor.Check(cmd.Context(), home)
			}
			if errors.Is(err, localapi.ErrBusy) {
				return &userError{what: "another murmur process uses " + home,
					todo: "Stop 'murmur serve' (and any other murmur command) and run 'murmur doctor' again", err: err}
			}
			if err != nil {
				return err
			}
			return a.printDoctor(rep, asJSON)
		},
	}
	c.Flags().BoolVar(&repair, "repair", false, "repair the store: move damaged files aside, rebuild, fetch the rest from peers")
	c.Flags().StringArrayVar(&peers, "peer", nil, "with --repair, fetch from the peer at `ADDR` (host:port); repeatable")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "with --repair, give up fetching from peers after `D`")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

// printDoctor prints the report; it fails unless the store is clean. The
// report is printed in either case.
func (a *app) printDoctor(rep doctor.Report, asJSON bool) error {
	if asJSON {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		if r := rep.Repaired; r != nil {
			if len(r.Found) == 0 {
				fmt.Fprintln(&a.out, "The store was clean.")
			}
			for _, f := range r.Found {
				fmt.Fprintln(&a.out, "found: "+finding(f.Kind, f.File, f.Op, f.Table, f.Detail))
			}
			if r.MovedAside != "" {
				fmt.Fprintf(&a.out, "moved the damaged store aside to %s\n", r.MovedAside)
			}
			for _, f := range r.Unreadable {
				fmt.Fprintln(&a.out, "unreadable: "+finding(f.Kind, f.File, f.Op, f.Table, f.Detail))
			}
			if r.MovedAside != "" {
				fmt.Fprintf(&a.out, "salvaged %d ops: %d stored, %d waiting for ops that were lost\n", r.Salvaged, r.Restored, r.Waiting)
			}
			if r.Rebuilt {
				fmt.Fprintln(&a.out, "rebuilt the indexes from the ops")
			}
			for _, s := range r.Sync {
				res := "synced with " + strconv.Itoa(s.Peers) + " peers"
				if !s.InSync {
					res = "not synced: " + clean(s.Err)
				}
				fmt.Fprintf(&a.out, "repo %s %s: %s\n", short(s.Repo), clean(s.Name), res)
			}
			if len(r.Sync) > 0 {
				fmt.Fprintf(&a.out, "fetched %d ops from peers\n", r.Fetched)
			}
			if r.SyncErr != "" {
				fmt.Fprintln(&a.out, "could not fetch from peers: "+clean(r.SyncErr))
			}
		}
		if rep.Clean {
			fmt.Fprintf(&a.out, "%s: clean, %d ops, %d waiting for dependencies.\n", rep.Store, rep.Ops, rep.Pending)
		}
		for _, f := range rep.Findings {
			fmt.Fprintln(&a.out, "problem: "+finding(f.Kind, f.File, f.Op, f.Table, f.Detail))
		}
	}
	if rep.Clean && (rep.Repaired == nil || rep.Repaired.Complete()) {
		return nil
	}
	_, _ = a.Stdout.Write(a.out.Bytes())
	a.out.Reset()
	if rep.Clean {
		return &userError{what: "the store was rebuilt from what was readable, but not every repo was fetched again from a peer",
			todo: "Run 'murmur doctor --repair --peer ADDR' with a peer that holds the repos"}
	}
	todo := "Run 'murmur doctor --repair' (with --peer ADDR to fetch what is lost from a peer)"
	if rep.Repaired != nil {
		todo = "Run 'murmur doctor --repair --peer ADDR' with a peer that holds the repos"
	}
	return &userError{what: fmt.Sprintf("the store %s has %d problem(s)", rep.Store, len(rep.Findings)), todo: todo}
}

// finding is one line for a problem.
func finding(kind, file, opID, table, detail string) string {
	switch {
	case file != "":
		return clean(file + " " + detail)
	case opID != "":
		return clean("op " + opID + ": " + detail)
	case table != "":
		return clean(table + ": " + detail)
	}
	return clean(kind + ": " + detail)
}
