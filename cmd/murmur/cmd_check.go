package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"murmur/api"
)

func (a *app) patchCheckCmd() *cobra.Command {
	var nc api.NewCheck
	var asJSON bool
	c := &cobra.Command{
		Use:   "check ID --state pending|success|failure [--name CONTEXT] [--url URL] [--summary TEXT] [--revision N]",
		Short: "Report the status of a check on a patch revision",
		Long: `Attach a status to a patch revision (the latest unless --revision) as a
signed op. Anyone may report, a CI job as much as a person. A later report by
the same identity for the same revision and --name replaces the earlier one;
reports by others, or under other names, stay beside it.`,
		Example: `  murmur patch check 9c1e --state pending --name ci/test
  murmur patch check 9c1e --state success --name ci/test --url https://ci.example/runs/42 --summary "212 passed"
  murmur patch check 9c1e --state failure --revision 1`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			switch nc.State = strings.TrimSpace(nc.State); nc.State {
			case api.CheckPending, api.CheckSuccess, api.CheckFailure:
			case "":
				return usagef("--state is required: pending, success or failure")
			default:
				return usagef("invalid --state %q: pass pending, success or failure", clean(nc.State))
			}
			if nc.Revision < 0 || cmd.Flags().Changed("revision") && nc.Revision == 0 {
				return usagef("invalid --revision %d: revisions are numbered from 1", nc.Revision)
			}
			if u := strings.TrimSpace(nc.URL); u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return usagef("invalid --url %q: pass an http:// or https:// URL", clean(u))
			}
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.AddCheck(ctx, s.repo, strings.TrimSpace(argv[0]), nc)
			if err != nil {
				return hint(err, api.CodeNotFound, "Check the patch ID and --revision; 'murmur patch view "+clean(argv[0])+"' lists the revisions")
			}
			if asJSON {
				return a.printJSON(p)
			}
			rev := nc.Revision
			if rev == 0 {
				rev = len(p.Revisions)
			}
			name := nc.Name
			if name == "" {
				name = "default"
			}
			a.confirm(short(p.ID), "Reported %s for %s on patch %s (revision %d)", a.paint(checkStyle(nc.State), nc.State), clean(name), a.paint(styleCyan, short(p.ID)), rev)
			return nil
		},
	}
	c.Flags().StringVar(&nc.State, "state", "", "the `STATE`: pending, success or failure")
	c.Flags().StringVar(&nc.Name, "name", "", "the check's `CONTEXT`, e.g. ci/test (default: the default context)")
	c.Flags().StringVar(&nc.URL, "url", "", "an http(s) `URL` with details")
	c.Flags().StringVar(&nc.Summary, "summary", "", "a short `TEXT` on the outcome")
	c.Flags().IntVar(&nc.Revision, "revision", 0, "the revision `N` checked (default: the latest)")
	a.addJSONFlags(c, &asJSON, "print the patch as JSON")
	return c
}

func (a *app) patchChecksCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "checks ID [--json]",
		Short: "Show the checks of a patch, per revision and reporter",
		Example: `  murmur patch checks 9c1e
  murmur patch checks 9c1e --json | jq '.[] | select(.state == "failure")'`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			s, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := s.svc.Patch(ctx, s.repo, strings.TrimSpace(argv[0]))
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(nonNil(p.Checks))
			}
			if len(p.Checks) == 0 && a.pretty() {
				fmt.Fprintf(&a.out, "No checks on patch %s; report one with 'murmur patch check %s --state STATE'\n", short(p.ID), short(p.ID))
				return nil
			}
			a.writeChecks(p)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the checks as JSON")
	return c
}

// writeChecks prints a patch's checks grouped by revision: on a terminal
// a table per revision, otherwise one tab-separated line per check
// (revision number, state, name, reporter, time, URL, summary).
func (a *app) writeChecks(p api.Patch) {
	if !a.pretty() {
		for _, c := range p.Checks {
			fmt.Fprintf(&a.out, "check\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.RevNumber, c.State, sanitizeLine(c.Name),
				sanitizeLine(personName(c.Reporter)), a.when(c.At), sanitizeLine(c.URL), sanitizeLine(c.Summary))
		}
		return
	}
	commits := map[int]string{}
	for _, r := range p.Revisions {
		commits[r.Number] = r.Commit
	}
	for i := 0; i < len(p.Checks); {
		rev := p.Checks[i].RevNumber
		fmt.Fprintf(&a.out, "%s %s\n", a.paint(styleBold, "Revision "+strconv.Itoa(rev)), a.paint(styleDim, shortCommit(commits[rev])))
		t := newTable(5, "STATE", "NAME", "REPORTER", "WHEN", "URL", "SUMMARY")
		for ; i < len(p.Checks) && p.Checks[i].RevNumber == rev; i++ {
			c := p.Checks[i]
			name := c.Name
			if name == "" {
				name = "default"
			}
			t.add(cell{text: c.State, style: checkStyle(c.State)}, cell{text: name}, cell{text: personShort(c.Reporter)},
				cell{text: a.when(c.At), style: styleDim}, cell{text: c.URL, style: styleDim}, cell{text: c.Summary})
		}
		a.writeTable(&a.out, t)
	}
}

func checkStyle(state string) string {
	switch state {
	case api.CheckSuccess:
		return styleGreen
	case api.CheckFailure:
		return styleRed
	case api.CheckPending:
		return styleYellow
	}
	return styleNone
}
