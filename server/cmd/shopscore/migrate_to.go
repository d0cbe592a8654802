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
	_, err := parseArgs(fs, args, "")
	if err != nil {
		return err
	}
	if strings.TrimSpace(*d.database) == "" {
		return fs.Usagef("migrate-to: --database (or SHOPSCORE_DATABASE_URL) names the PostgreSQL database to copy into")
	}
	src := filepath.Join(*d.data, "shopscore.db")
	opts := migrateto.Options{SQLite: src, Postgres: strings.TrimSpace(*d.database), Progress: o.stderr}
	// The key the SQLite server was given, or none: then the data
	// folder's, which migrateto reads (and never makes).
	if opts.KEK, err = d.keyEncryptionKey(); err != nil {
		return err
	}
	switch {
	case d.getenv(kekVar) != "":
		opts.KEKFrom = kekVar
	case *d.kekFile != "":
		opts.KEKFrom = *d.kekFile
		if abs, err := filepath.Abs(opts.KEKFrom); err == nil {
			opts.KEKFrom = abs
		}
	}
	report, err := migrateto.Run(ctx, opts)
	if report != nil {
		if werr := report.Write(o.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "copied %s into %d tables of the PostgreSQL database; start the servers with --database\n", src, len(report.Tables))
	fmt.Fprintln(o.stdout, kekAdvice(report))
	return nil
}

// kekAdvice says which key-encryption key the PostgreSQL servers must be
// given: the one the moved signing keys opened with.
func kekAdvice(r *migrateto.Report) string {
	switch {
	case r.KEKFrom == kekVar:
		return fmt.Sprintf("the %s opened with the key in %s: give every PostgreSQL server that same %s", signingKeys(r.Keys), kekVar, kekVar)
	case r.KEKFrom != "":
		return fmt.Sprintf("the %s opened with the key-encryption key in %s: give every PostgreSQL server that key: "+
			"--key-encryption-key-file %s (a copy, mode 0600, on each server) or its content in %s", signingKeys(r.Keys), r.KEKFrom, r.KEKFrom, kekVar)
	}
	return fmt.Sprintf("no signing keys were stored: give every PostgreSQL server one new key-encryption key, the same on each "+
		"(%s=$(openssl rand -base64 32))", kekVar)
}

// signingKeys says n signing keys.
func signingKeys(n int) string {
	if n == 1 {
		return "1 signing key"
	}
	return fmt.Sprintf("%d signing keys", n)
}
