package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the node: identity, data directory, peers and repos",
		Example: `  murmur status
  murmur status --json | jq .repos`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			svc, err := a.service(ctx)
			if err != nil {
				return err
			}
			st, err := svc.Status(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				st.Peers, st.Repos = nonNil(st.Peers), nonNil(st.Repos)
				return a.printJSON(st)
			}
			node := "embedded (this command)"
			if st.Daemon {
				node = "daemon"
			}
			mesh := "offline"
			if st.Online {
				mesh = "online"
				if st.Listen != "" {
					mesh += ", listening on " + st.Listen
				}
			}
			connected := 0
			for _, p := range st.Peers {
				if p.Connected {
					connected++
				}
			}
			fields := [][2]string{
				{"identity", personName(st.Identity)},
				{"home", st.Home},
				{"node", node},
				{"mesh", mesh},
				{"peers", fmt.Sprintf("%d connected, %d known", connected, len(st.Peers))},
				{"pending", fmt.Sprintf("%d in, %d out", st.PendingIn, st.PendingOut)},
			}
			switch {
			case st.Code.Available:
				fields = append(fields, [2]string{"code", "git " + st.Code.Git})
			case st.Code.Reason != "": // a node from before code says nothing
				fields = append(fields, [2]string{"code", "unavailable: " + st.Code.Reason})
			}
			a.writeFields(&a.out, append(fields, [2]string{"version", st.Version}))
			if len(st.Peers) > 0 {
				fmt.Fprintln(&a.out)
				pt := newTable(1, "PEER", "ALIAS", "ADDRESS", "CONNECTED", "LAST SYNC")
				for _, p := range st.Peers {
					since := "-"
					if p.Connected && !p.ConnectedSince.IsZero() {
						since = a.when(p.ConnectedSince)
					} else if p.Connected {
						since = "yes"
					}
					last := "never"
					if !p.LastSync.IsZero() {
						last = a.when(p.LastSync)
					}
					pt.add(cell{text: shortDID(p.ID), style: styleCyan}, cell{text: p.Alias}, cell{text: p.Addr},
						cell{text: since}, cell{text: last})
				}
				a.writeTable(&a.out, pt)
			}
			if len(st.Repos) == 0 {
				return nil
			}
			fmt.Fprintln(&a.out)
			t := newTable(1, "REPO", "NAME", "OPS", "MERKLE ROOT", "SYNC")
			for _, r := range st.Repos {
				sync, style := "in sync", styleGreen
				switch {
				case !st.Online:
					sync, style = "-", styleDim
				case r.Peers == 0:
					sync, style = "no connected peer follows it", styleDim
				case !r.InSync:
					sync, style = "not in sync with every peer", styleYellow
				}
				t.add(cell{text: short(r.Repo), style: styleCyan}, cell{text: r.Name}, cell{text: strconv.Itoa(r.Ops)},
					cell{text: prefix(r.MerkleRoot, 16)}, cell{text: sync, style: style})
			}
			a.writeTable(&a.out, t)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the status as JSON")
	return c
}
