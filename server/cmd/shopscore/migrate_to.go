package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server/migrateto"
)

func init() {
	register(command{name: "migrate-to", synopsis: "shopscore migrate-to [--data ./data] --database postgres://…", run: runMigrateTo})
}

// runMigrateTo runs "shopscore migrate-to": it copies the data folder's
// SQLite database into the PostgreSQL database --database names
// (server/migrateto), with a line per table on stderr as it goes, and
// prints the verification of every table.
func runMigrateTo(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if strings.TrimSpace(*d.database) == "" {
		return fs.Usagef("migrate-to: --database (or SHOPSCORE_DATABASE_URL) names the PostgreSQL database to copy into")
	}
	src := filepath.Join(*d.data, "shopscore.db")
	report, err := migrateto.Run(ctx, migrateto.Options{SQLite: src, Postgres: strings.TrimSpace(*d.database), Progress: o.stderr})
	if report != nil {
		if werr := report.Write(o.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "copied %s into %d tables of the PostgreSQL database; start the servers with --database\n", src, len(report.Tables))
	return nil
}
