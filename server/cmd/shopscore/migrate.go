package main

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/internal/cli"
)

func init() {
	register(command{name: "migrate", synopsis: "shopscore migrate [--data ./data]", run: runMigrate})
}

// runMigrate runs "shopscore migrate": it opens the data folder, which
// applies the pending migrations, and says where the database is.
func runMigrate(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	srv, db, err := d.openOffline(o.stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	names, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "database %s is at migration %s (%d applied)\n", db.Where(), names[len(names)-1], len(names))
	return nil
}
