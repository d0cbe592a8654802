package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/shopscore/shopscore/internal/cli"
)

func init() {
	register(command{name: "standards import", synopsis: "shopscore standards import [--publish] [--data ./data] FILE", run: runStandardsImport})
}

// runStandardsImport runs "shopscore standards import": it validates a
// standards pack and stores its checklists as drafts, or publishes them.
func runStandardsImport(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	publish := fs.Bool("publish", false, "publish the imported drafts")
	file, data, err := parseFile(fs, args, "FILE (a standards pack in JSON)")
	if err != nil {
		return err
	}
	srv, _, err := d.openOffline(o.stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	versions, err := srv.App().ImportPack(ctx, filepath.Base(file), data, *publish, false, "cli")
	if err != nil {
		return err
	}
	for _, v := range versions {
		fmt.Fprintf(o.stdout, "%-20s version %d  %-9s %s\n", v.ChecklistID, v.Version, v.State, v.Content.Name)
	}
	if !*publish {
		fmt.Fprintln(o.stdout, "Drafts saved; publish them with --publish or ChecklistService/PublishVersion.")
	}
	return nil
}
