// Command shopscore runs the shopscore server and its offline admin tasks.
//
//	shopscore serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--log-format text|json]
//	                [--public-url URL] [--s3-endpoint E --s3-bucket B --s3-region R]
//	shopscore migrate [--data ./data]
//	shopscore user add --email E --role shopper|manager|hr|admin [--name N]
//	shopscore user list
//	shopscore user disable --email E
//	shopscore standards import [--publish] FILE
//	shopscore report audit|payroll|policy|basepay|bonus ...   (see report.go)
//
// Flags fall back to environment variables (SHOPSCORE_ADDR, SHOPSCORE_DATA,
// SHOPSCORE_LOG_FORMAT, SHOPSCORE_LOG_LEVEL, SHOPSCORE_PUBLIC_URL,
// SHOPSCORE_S3_ENDPOINT, SHOPSCORE_S3_BUCKET, SHOPSCORE_S3_REGION); the S3
// keys come only from SHOPSCORE_S3_ACCESS_KEY and SHOPSCORE_S3_SECRET_KEY;
// the demo password comes from SHOPSCORE_DEMO_PASSWORD and a new user's
// from SHOPSCORE_PASSWORD, or is generated and printed.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/console"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "shopscore:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: shopscore <command> [flags]

commands:
  serve          run the server (Connect, gRPC and gRPC-Web on one port)
  migrate        apply database migrations and exit
  user add       add a user (--email, --role, --name)
  user list      list users
  user disable   disable a user and revoke his sessions (--email)
  standards import FILE
                 validate a standards pack (JSON) and store its checklists as
                 drafts; --publish publishes them at once
  report ...     audit and payroll workbooks, bonus policies, base pay and
                 bonus runs ("shopscore report" lists them)

Run "shopscore <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "report":
		return runReport(ctx, rest, stdout, stderr, getenv)
	case "user", "standards":
		if len(rest) == 0 {
			fmt.Fprint(stderr, usage)
			return fmt.Errorf("%s: want a subcommand", cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("shopscore "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "SHOPSCORE_DATA", "data"), "data folder: database, signing keys, local evidence (env SHOPSCORE_DATA)")
	logFormat := fs.String("log-format", envOr(getenv, "SHOPSCORE_LOG_FORMAT", "text"), "log format: text or json (env SHOPSCORE_LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr(getenv, "SHOPSCORE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env SHOPSCORE_LOG_LEVEL)")
	switch cmd {
	case "serve":
		addr := fs.String("addr", envOr(getenv, "SHOPSCORE_ADDR", "127.0.0.1:8080"), "listen address (env SHOPSCORE_ADDR)")
		demo := fs.Bool("demo", false, "seed demo data into an empty database")
		maxReq := fs.Int("max-request-bytes", 4<<20, "largest request message accepted, after decompression")
		publicURL := fs.String("public-url", getenv("SHOPSCORE_PUBLIC_URL"), "base URL devices reach the server at, for photo upload URLs; derived from --addr if empty (env SHOPSCORE_PUBLIC_URL)")
		s3Endpoint := fs.String("s3-endpoint", getenv("SHOPSCORE_S3_ENDPOINT"), "S3 endpoint for photo evidence, host:port or http(s) URL; the local store under --data if empty (env SHOPSCORE_S3_ENDPOINT)")
		s3Bucket := fs.String("s3-bucket", envOr(getenv, "SHOPSCORE_S3_BUCKET", "shopscore-evidence"), "S3 bucket for photo evidence, created if missing (env SHOPSCORE_S3_BUCKET)")
		s3Region := fs.String("s3-region", envOr(getenv, "SHOPSCORE_S3_REGION", blob.DefaultS3Region), "S3 region (env SHOPSCORE_S3_REGION)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		log, err := newLogger(stderr, *logFormat, *logLevel)
		if err != nil {
			return err
		}
		cfg := server.Config{DataDir: *data, Logger: log, MaxRequestBytes: *maxReq, PublicURL: *publicURL}
		cfg.Console = console.Handler(console.Options{ImageOrigins: endpointOrigins(*s3Endpoint)})
		if *s3Endpoint != "" {
			// The keys come from the environment only, so that ps never
			// shows them.
			store, err := blob.NewS3(ctx, blob.S3Config{
				Endpoint: *s3Endpoint, Bucket: *s3Bucket, Region: *s3Region,
				AccessKey: getenv("SHOPSCORE_S3_ACCESS_KEY"), SecretKey: getenv("SHOPSCORE_S3_SECRET_KEY"),
			})
			if err != nil {
				return fmt.Errorf("evidence store: %w", err)
			}
			cfg.Blob = store
		}
		return serve(ctx, cfg, *addr, *demo, stdout, getenv)
	case "migrate", "user list", "user add", "user disable", "standards import":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	email := fs.String("email", "", "the user's e-mail")
	role := fs.String("role", "", "shopper, manager, hr or admin")
	name := fs.String("name", "", "the user's display name")
	publish := fs.Bool("publish", false, "standards import: publish the imported drafts")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	var file string
	switch {
	case cmd == "standards import" && fs.NArg() == 1:
		file = fs.Arg(0)
	case cmd == "standards import":
		return errors.New("standards import: give exactly one FILE (a standards pack in JSON)")
	case fs.NArg() > 0:
		return fmt.Errorf("%s: unexpected arguments %q", cmd, fs.Args())
	}
	srv, err := openOffline(stderr, *data, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	defer srv.Close()
	db := srv.DB()
	switch cmd {
	case "migrate":
		names, err := db.Migrations(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database %s is at migration %s (%d applied)\n", db.Path, names[len(names)-1], len(names))
		return nil
	case "standards import":
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		versions, err := db.ImportPack(ctx, filepath.Base(file), data, *publish, false, "cli")
		if err != nil {
			return err
		}
		for _, v := range versions {
			fmt.Fprintf(stdout, "%-20s version %d  %-9s %s\n", v.ChecklistID, v.Version, v.State, v.Content.Name)
		}
		if !*publish {
			fmt.Fprintln(stdout, "Drafts saved; publish them with --publish or ChecklistService/PublishVersion.")
		}
		return nil
	case "user list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tSTATUS\tID")
		after := ""
		for {
			users, err := db.ListUsers(ctx, sqlite.UserFilter{AfterEmail: after, Limit: 500})
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
	case "user add":
		password := getenv("SHOPSCORE_PASSWORD")
		generated := password == ""
		if generated {
			password = newPassword()
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return err
		}
		u := &audit.User{Email: *email, DisplayName: *name, Role: audit.Role(*role)}
		if err := db.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s %s (id %s)\n", u.Role, u.Email, u.ID)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", password)
		}
		return nil
	default: // user disable
		if *email == "" {
			return errors.New("user disable: --email is required")
		}
		u, _, err := db.FindUserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		if _, err := db.SetUserDisabled(ctx, u.ID, true, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s; his sessions are revoked\n", u.Email)
		return nil
	}
}

func serve(ctx context.Context, cfg server.Config, addr string, demo bool, stdout io.Writer, getenv func(string) string) error {
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	log := cfg.Logger
	if demo {
		password := getenv("SHOPSCORE_DEMO_PASSWORD")
		generated := password == ""
		if generated {
			password = newPassword()
		}
		seeded, err := srv.SeedDemo(ctx, password)
		if err == nil && seeded {
			err = srv.SeedDemoReports(ctx)
		}
		if err != nil {
			srv.Close()
			return err
		}
		switch {
		case seeded:
			fmt.Fprintf(stdout, "Seeded demo data. Users (password %s):\n", password)
			for _, r := range audit.Roles {
				fmt.Fprintf(stdout, "  %-8s %s\n", r, server.DemoUsers[r])
			}
			if generated {
				fmt.Fprintln(stdout, "  (the password was generated; set SHOPSCORE_DEMO_PASSWORD to choose it)")
			}
		default:
			fmt.Fprintf(stdout, "The database in %s already has users; demo data not seeded again.\n", cfg.DataDir)
			fmt.Fprintln(stdout, demoPasswordNote(ctx, srv, password, generated))
			fmt.Fprintf(stdout, "To start over with fresh demo data and a new password, stop the server, delete %s (`make reset`) and start it again.\n", cfg.DataDir)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return err
	}
	log.Info("shopscore listening", "addr", ln.Addr().String(), "data", cfg.DataDir)
	if cfg.Console != nil {
		fmt.Fprintf(stdout, "Console: %s/\n", listenURL(ln.Addr().String()))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// demoPasswordNote says which password the demo users of an already
// seeded database have: the one they were seeded with, which is the given
// one only if it checks against the demo admin's hash.
func demoPasswordNote(ctx context.Context, srv *server.Server, password string, generated bool) string {
	const kept = "The demo users keep the password they were first seeded with"
	if generated {
		return kept + " (printed when they were seeded); SHOPSCORE_DEMO_PASSWORD was not set."
	}
	_, hash, err := srv.DB().FindUserByEmail(ctx, server.DemoUsers[audit.RoleAdmin])
	if err != nil {
		return kept + "."
	}
	if ok, err := auth.CheckPassword(hash, password); err == nil && ok {
		return "The demo users' password is SHOPSCORE_DEMO_PASSWORD, as when they were seeded."
	}
	return kept + ": SHOPSCORE_DEMO_PASSWORD is not it, and logins with it will fail."
}

// openOffline opens the data folder for a command that works on it
// directly, with or without a running server (SQLite serializes writers).
func openOffline(stderr io.Writer, data, logFormat, logLevel string) (*server.Server, error) {
	log, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return nil, err
	}
	return server.New(server.Config{DataDir: data, Logger: log})
}

// listenURL is the address a browser on this machine opens for a listener.
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// endpointOrigins are the origins an S3 endpoint's download URLs may have,
// for the console's image policy: the URL's own, or both schemes of a
// bare host:port.
func endpointOrigins(endpoint string) []string {
	if endpoint == "" {
		return nil
	}
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		return []string{u.Scheme + "://" + u.Host}
	}
	return []string{"https://" + endpoint, "http://" + endpoint}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// newPassword returns a random password of 20 characters.
func newPassword() string {
	return rand.Text()[:20]
}
