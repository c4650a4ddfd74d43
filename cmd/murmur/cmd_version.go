package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"murmur/node"
)

// versionInfo is `murmur version --json`.
type versionInfo struct {
	Version     string `json:"version"`
	Protocol    uint16 `json:"protocol"`
	MinProtocol uint16 `json:"min_protocol"`
	StoreFormat int    `json:"store_format"`
	Go          string `json:"go"`
}

func (a *app) versionCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print murmur's version and the formats it speaks",
		Long: `Print murmur's version (the same as --version), the mesh protocol
versions it speaks and the store format it writes. Peers whose protocol
versions do not overlap cannot sync; the error names both.`,
		Example: "  murmur version\n  murmur version --json",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := node.BuildVersions()
			info := versionInfo{Version: buildVersion(), Protocol: v.Protocol, MinProtocol: v.MinProtocol,
				StoreFormat: v.StoreFormat, Go: runtime.Version()}
			if asJSON {
				return a.printJSON(info)
			}
			fmt.Fprintf(&a.out, "murmur version %s\n", info.Version)
			fmt.Fprintf(&a.out, "mesh protocol %d (speaks %d to %d), store format %d, %s\n",
				info.Protocol, info.MinProtocol, info.Protocol, info.StoreFormat, info.Go)
			return nil
		},
	}
	a.addJSONFlags(c, &asJSON, "print the version as JSON")
	return c
}
