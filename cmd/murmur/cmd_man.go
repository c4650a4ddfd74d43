package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func (a *app) manCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages for every command into a directory",
		Long: `Write a man page (section 1) for murmur and for each of its commands
into DIR, generated from the same command tree as --help.`,
		Example: `  murmur man ~/.local/share/man/man1 && man murmur-issue-create`,
		Args:    args("DIR"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			dir := pos[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &userError{what: "cannot create " + fileErr(err), todo: "Pick a directory you can write", err: err}
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "MURMUR", Section: "1", Source: "murmur " + buildVersion(), Manual: "murmur manual"}
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return &userError{what: "cannot write the man pages: " + err.Error(), todo: "Check that " + dir + " is writable", err: err}
			}
			fmt.Fprintf(&a.out, "%s\n", dir)
			return nil
		},
	}
}
