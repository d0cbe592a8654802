package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/storage"
)

func init() {
	register(
		command{name: "user add", synopsis: "shopscore user add --email E --role shopper|manager|hr|admin [--name N] [--data ./data]", run: runUserAdd},
		command{name: "user list", synopsis: "shopscore user list [--data ./data]", run: runUserList},
		command{name: "user disable", synopsis: "shopscore user disable --email E [--data ./data]", run: runUserDisable},
	)
}

// runUserAdd runs "shopscore user add": a user with the password
// $SHOPSCORE_PASSWORD, or a generated one that it prints.
func runUserAdd(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	email := fs.String("email", "", "the user's e-mail")
	role := fs.String("role", "", "shopper, manager, hr or admin")
	name := fs.String("name", "", "the user's display name")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	srv, _, err := d.openOffline(o.stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	password := o.getenv("SHOPSCORE_PASSWORD")
	generated := password == ""
	if generated {
		password = newPassword()
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := &audit.User{Email: *email, DisplayName: *name, Role: audit.Role(*role)}
	if err := srv.App().CreateUser(ctx, u, hash); err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "added %s %s (id %s)\n", u.Role, u.Email, u.ID)
	if generated {
		fmt.Fprintf(o.stdout, "password: %s\n", password)
	}
	return nil
}

// runUserList runs "shopscore user list". It only reads: it opens the
// database read-only and creates nothing, not even on a data folder that
// has no database yet.
func runUserList(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if _, err := d.logger(o.stderr); err != nil {
		return err
	}
	db, err := d.openReadOnly()
	if err != nil {
		return err
	}
	defer db.Close()
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tSTATUS\tID")
	after := ""
	for {
		users, err := db.Users().List(ctx, storage.UserFilter{AfterEmail: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, u.DisplayName, status, u.ID)
			after = u.Email
		}
		if len(users) < 500 {
			return tw.Flush()
		}
	}
}

// runUserDisable runs "shopscore user disable": the user is refused on
// his next call and his sessions are revoked.
func runUserDisable(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, "info")
	email := fs.String("email", "", "the user's e-mail")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if *email == "" {
		return fs.Usagef("user disable: --email is required")
	}
	srv, _, err := d.openOffline(o.stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	db := srv.Storage()
	u, _, err := db.Users().FindByEmail(ctx, *email)
	if err != nil {
		return err
	}
	if _, err := srv.App().SetUserDisabled(ctx, u.ID, true, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "disabled %s; his sessions are revoked\n", u.Email)
	return nil
}
