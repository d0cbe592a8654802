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
// Every command has its own flags (one file and one flag set per command:
// serve.go, migrate.go, user.go, standards.go, report.go); they may come
// before or after its arguments, and a flag the command does not have is
// refused with its usage. Flags fall back to environment variables
// (SHOPSCORE_ADDR, SHOPSCORE_DATA, SHOPSCORE_LOG_FORMAT, SHOPSCORE_LOG_LEVEL,
// SHOPSCORE_KEY_ENCRYPTION_KEY_FILE, SHOPSCORE_PUBLIC_URL,
// SHOPSCORE_S3_ENDPOINT, SHOPSCORE_S3_BUCKET, SHOPSCORE_S3_REGION); the S3
// keys come only from SHOPSCORE_S3_ACCESS_KEY and SHOPSCORE_S3_SECRET_KEY,
// and the key-encryption key itself (instead of a file) only from
// SHOPSCORE_KEY_ENCRYPTION_KEY; the demo password comes from
// SHOPSCORE_DEMO_PASSWORD and a new user's from SHOPSCORE_PASSWORD, or is
// generated and printed.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	code := cli.Exit(os.Stdout, os.Stderr, "shopscore", err, nil)
	stop()
	os.Exit(code)
}

const usage = `usage: shopscore <command> [flags] [arguments]

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

// cmdIO is where a command writes and how it reads the environment.
type cmdIO struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one command: the words that name it, its usage line, and
// its run function, which defines the command's flags on its own flag
// set, parses args with it and does the work.
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error
}

// commands are every command of shopscore, by name.
var commands = map[string]command{}

func register(cmds ...command) {
	for _, c := range cmds {
		commands[c.name] = c
	}
}

// groups are the first words of commands with subcommands, and the usage
// shown when the subcommand is missing or unknown.
var groups = map[string]string{
	"user":           usage,
	"standards":      usage,
	"report":         reportUsage,
	"report policy":  reportUsage,
	"report basepay": reportUsage,
	"report bonus":   reportUsage,
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return cli.Usage(usage, "no command given")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	// The longest run of leading words that names a command.
	for n := min(3, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if c, ok := commands[name]; ok {
			fs := cli.NewFlagSet("shopscore "+name, c.synopsis)
			return c.run(ctx, fs, args[n:], cmdIO{stdout: stdout, stderr: stderr, getenv: getenv})
		}
	}
	for n := min(2, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if u, ok := groups[name]; ok {
			if len(args) == n {
				return cli.Usage(u, "%s: want a subcommand", name)
			}
			return cli.Usage(u, "%s: unknown command %q", name, args[n])
		}
	}
	return cli.Usage(usage, "unknown command %q", args[0])
}

// dataFlags are the flags of every command that works on the data folder.
type dataFlags struct {
	data, database, logFormat, logLevel, kekFile *string
	getenv                                       func(string) string
}

// kekVar names the variable that holds the key-encryption key itself.
const kekVar = "SHOPSCORE_KEY_ENCRYPTION_KEY"

// addDataFlags defines --data, --log-format, --log-level and
// --key-encryption-key-file on fs, the log level defaulting to level.
func addDataFlags(fs *cli.FlagSet, getenv func(string) string, level string) dataFlags {
	return dataFlags{
		data:      fs.String("data", envOr(getenv, "SHOPSCORE_DATA", "data"), "data folder: SQLite database, local evidence, and the key-encryption key unless one is given (env SHOPSCORE_DATA)"),
		database:  fs.String("database", envOr(getenv, "SHOPSCORE_DATABASE_URL", ""), "PostgreSQL URL (postgres://user:password@host:5432/shopscore); empty: SQLite in the data folder (env SHOPSCORE_DATABASE_URL)"),
		logFormat: fs.String("log-format", envOr(getenv, "SHOPSCORE_LOG_FORMAT", "text"), "log format: text or json (env SHOPSCORE_LOG_FORMAT)"),
		logLevel:  fs.String("log-level", envOr(getenv, "SHOPSCORE_LOG_LEVEL", level), "log level: debug, info, warn, error (env SHOPSCORE_LOG_LEVEL)"),
		kekFile: fs.String("key-encryption-key-file", getenv("SHOPSCORE_KEY_ENCRYPTION_KEY_FILE"),
			"file (mode 0600) holding the key-encryption key, base64 of 32 bytes, that seals the signing keys in the database; "+
				"or the key itself in env "+kekVar+"; if neither, <data>/"+server.KEKFileName+", made on first start (env SHOPSCORE_KEY_ENCRYPTION_KEY_FILE)"),
		getenv: getenv,
	}
}

// keyEncryptionKey returns the key-encryption key the flags or the
// environment give, or nil when neither does (the server then uses the
// data folder's). Errors: EINVALID for both at once or a key that is not
// base64 of 32 bytes, naming where it came from and never its text.
func (d dataFlags) keyEncryptionKey() (*auth.KEK, error) {
	text, file := d.getenv(kekVar), *d.kekFile
	switch {
	case text != "" && file != "":
		return nil, audit.Errorf(audit.EINVALID, "give the key-encryption key once: %s and --key-encryption-key-file are both set", kekVar)
	case text != "":
		k, err := auth.ParseKEK(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kekVar, err)
		}
		return k, nil
	case file != "":
		return auth.ReadKEKFile(file)
	}
	return nil, nil
}

// serverConfig returns the configuration every command that starts a
// server shares: the data folder, the logger, the key-encryption key and
// the storage (opened last, so that a bad flag opens nothing).
func (d dataFlags) serverConfig(stderr io.Writer) (server.Config, error) {
	log, err := d.logger(stderr)
	if err != nil {
		return server.Config{}, err
	}
	cfg := server.Config{DataDir: *d.data, Logger: log}
	if cfg.KeyEncryptionKey, err = d.keyEncryptionKey(); err != nil {
		return server.Config{}, err
	}
	return cfg, nil
}

// logger returns the logger the flags ask for, writing to w.
func (d dataFlags) logger(w io.Writer) (*slog.Logger, error) {
	return newLogger(w, *d.logFormat, *d.logLevel)
}

// openOffline opens the data folder for a command that works on it
// directly, with or without a running server (SQLite serializes
// writers), creating what a first start creates.
func (d dataFlags) openOffline(stderr io.Writer) (*server.Server, database, error) {
	cfg, err := d.serverConfig(stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := d.openStorage(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, nil, err
	}
	cfg.Storage = db
	srv, err := server.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return srv, db, nil
}

// database is a storage backend as the binary uses it: the storage, the
// migrations it applied, and where it is, for people.
type database interface {
	storage.Storage
	Migrations(ctx context.Context) ([]string, error)
	Where() string
}

// openStorage opens (creating and migrating) the database: PostgreSQL at
// --database when it is given, else SQLite in the data folder. It is the
// one place the binary chooses its storage backend. kek is the
// key-encryption key the flags gave (nil: none), which PostgreSQL needs
// (checkKEK).
func (d dataFlags) openStorage(kek *auth.KEK) (database, error) {
	if err := checkKEK(strings.TrimSpace(*d.database), kek); err != nil {
		return nil, err
	}
	return d.open()
}

// open opens the database as openStorage does, the key unchecked.
func (d dataFlags) open() (database, error) {
	if url := strings.TrimSpace(*d.database); url != "" {
		if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
			return nil, audit.Errorf(audit.EINVALID, "--database: want a PostgreSQL URL (postgres://user:password@host:5432/name), got %q", redactURL(url))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	db, err := sqlite.Open(filepath.Join(*d.data, "shopscore.db"), nil)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openReadOnly opens the database for a command that only reads: SQLite
// read-only, creating nothing (not even a database where there is none);
// PostgreSQL as openStorage opens it (reading creates nothing there but
// the migrations a new database lacks).
func (d dataFlags) openReadOnly() (storage.Storage, error) {
	if strings.TrimSpace(*d.database) != "" {
		return d.open()
	}
	db := sqlite.NewDB(filepath.Join(*d.data, "shopscore.db"))
	if err := db.OpenReadOnly(); err != nil {
		return nil, err
	}
	return db, nil
}

// redactURL returns url with its password, if any, replaced by "xxxxx",
// for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// checkKEK is the rule between the database and the key-encryption key:
// several servers share a PostgreSQL database (database is a postgres://
// or postgresql:// URL), so they must be given one key explicitly; the
// key made in one server's data folder is for SQLite (database empty, or
// a file path), where one server runs. Errors: EINVALID.
func checkKEK(database string, kek *auth.KEK) error {
	if kek != nil || !isPostgresURL(database) {
		return nil
	}
	return audit.Errorf(audit.EINVALID, "a PostgreSQL database needs a key-encryption key given explicitly, the same on every server: "+
		"set %s to the base64 of 32 random bytes (openssl rand -base64 32) or name a file holding it with --key-encryption-key-file; "+
		"the key a single server makes in its data folder is for SQLite only", kekVar)
}

// isPostgresURL reports whether database names a PostgreSQL database.
func isPostgresURL(database string) bool {
	scheme, _, ok := strings.Cut(database, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// parseArgs parses args with fs and checks the positional arguments:
// none when file is empty, else exactly one, which file describes ("FILE
// (a standards pack in JSON)").
func parseArgs(fs *cli.FlagSet, args []string, file string) ([]string, error) {
	pos, err := fs.Parse(args)
	switch {
	case err != nil:
		return nil, err
	case file == "" && len(pos) > 0:
		return nil, fs.Usagef("%s: unexpected arguments %q", strings.TrimPrefix(fs.Name(), "shopscore "), pos)
	case file != "" && len(pos) != 1:
		return nil, fs.Usagef("%s: give exactly one %s", strings.TrimPrefix(fs.Name(), "shopscore "), file)
	}
	return pos, nil
}

// parseFile parses args with fs, wants exactly one positional argument,
// the FILE that what describes, and reads it before anything else is
// opened, so that a missing file changes nothing.
func parseFile(fs *cli.FlagSet, args []string, what string) (name string, body []byte, err error) {
	pos, err := parseArgs(fs, args, what)
	if err != nil {
		return "", nil, err
	}
	body, err = os.ReadFile(pos[0])
	return pos[0], body, err
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
