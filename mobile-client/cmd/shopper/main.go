// Command shopper is the field client on the command line: a mystery
// shopper logs in once online, then records visits offline (answers,
// timers, photos, notes, staff, GPS) and syncs when a network is there.
//
//	shopper [--dir DIR] [--server URL] login --email E
//	shopper sync | assignments | checklists | status
//	shopper visit start ASSIGNMENT_ID | visit start --unplanned --checklist C --store S
//	shopper visit answer VISIT Q VALUE [--note TEXT]
//	shopper visit timer start|stop VISIT Q
//	shopper visit photo VISIT Q PATH
//	shopper visit note VISIT [--question Q] TEXT
//	shopper visit staff VISIT STAFF_ID | visit staff VISIT --describe TEXT
//	shopper visit checkin|checkout VISIT LAT LON [ACCURACY_M]
//	shopper visit show VISIT
//	shopper visit submit VISIT
//	shopper visit correct VISIT
//
// Every command has its own flag set (login.go, sync.go, status.go,
// visit.go): its flags, and --dir, --server and --upload-workers, may
// come before or after its arguments; any other flag is refused with the
// command's usage. The folder defaults to $SHOPPER_DIR or
// shopscore-shopper in the user's config folder; the server to
// $SHOPSCORE_SERVER or http://127.0.0.1:8080. The password comes from
// $SHOPSCORE_PASSWORD or is read from stdin.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/mobile-client/field"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `usage: shopper [--dir DIR] [--server URL] [--upload-workers N] COMMAND

--upload-workers N uploads N photos at once during sync (3 by default).

commands:
  login --email E                       sign in (password from $SHOPSCORE_PASSWORD or stdin)
  logout                                sign out and forget the tokens
  sync                                  send visits and photos, fetch assignments
  assignments                           list your assignments
  checklists                            list checklists for unplanned visits, with their stores
  status                                what waits, what evidence is missing, what was rejected
  visit start ASSIGNMENT_ID             start (or resume) a visit
  visit start --unplanned --checklist C --store S
  visit answer VISIT Q VALUE [--note T] yes/no/na, numbers, 1m30s, option values (a,b), text
  visit timer start|stop VISIT Q        measure a timer question
  visit photo VISIT Q PATH              attach a photo
  visit note VISIT [--question Q] TEXT  the visit's notes, or a note on one answer
  visit staff VISIT STAFF_ID            who served you (ID or employee number)
  visit staff VISIT --describe TEXT     or how they looked
  visit checkin|checkout VISIT LAT LON [ACCURACY_M]
  visit show VISIT                      answers, score preview, what is still missing
  visit submit VISIT                    queue a complete visit for sync
  visit correct VISIT                   start a correction of a returned or rejected visit

Run "shopper COMMAND -h" for the flags of a command.
`

// env reads the environment; only this command does.
type env func(string) string

// app is one run of the command.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv env

	// The program's flags, given before the command or among its own.
	dir, server string
	workers     int
	// inspect: the command only looks, so the client is opened with
	// field.Config.Inspect and creates nothing.
	inspect bool

	c *field.Client
}

// command is one command: the words that name it, its usage line, and
// its run function, which defines its flags on its own flag set, parses
// args with it and does the work.
type command struct {
	name     string
	synopsis string
	readOnly bool // it only looks: it creates no folder and no database
	run      func(a *app, fs *cli.FlagSet, args []string) error
}

// commands are every command of shopper, by name.
var commands = map[string]command{}

func register(cmds ...command) {
	for _, c := range cmds {
		commands[c.name] = c
	}
}

// run executes the command line and returns the exit code: 0, 1 for a
// failure, 2 for a command line that does not parse.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		dir: getenv("SHOPPER_DIR"), server: getenv("SHOPSCORE_SERVER")}
	defer func() {
		if a.c != nil {
			a.c.Close()
		}
	}()
	return cli.Exit(stdout, stderr, "shopper", a.dispatch(args), describe)
}

// dispatch parses the program's flags, finds the command and runs it.
func (a *app) dispatch(args []string) error {
	fs := cli.NewFlagSet("shopper", "shopper [--dir DIR] [--server URL] [--upload-workers N] COMMAND")
	a.programFlags(fs)
	// The program's own flags end at the command's name.
	if err := fs.FlagSet.Parse(args); err != nil {
		return cli.Usage(usage, "%v", err)
	}
	args = fs.Args()
	if len(args) == 0 {
		return cli.Usage(usage, "no command given")
	}
	if args[0] == "help" {
		fmt.Fprint(a.stdout, usage)
		return nil
	}
	for n := min(2, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if c, ok := commands[name]; ok {
			fs := cli.NewFlagSet("shopper "+name, c.synopsis)
			a.programFlags(fs)
			a.inspect = c.readOnly
			return c.run(a, fs, args[n:])
		}
	}
	if args[0] == "visit" {
		if len(args) == 1 {
			return cli.Usage(usage, "visit needs a subcommand")
		}
		return cli.Usage(usage, "unknown visit subcommand %q", args[1])
	}
	return cli.Usage(usage, "unknown command %q", args[0])
}

// programFlags defines --dir, --server and --upload-workers on fs, with
// what they were set to so far as defaults.
func (a *app) programFlags(fs *cli.FlagSet) {
	fs.StringVar(&a.dir, "dir", a.dir, "the client's folder ($SHOPPER_DIR, or shopscore-shopper in the user's config folder)")
	fs.StringVar(&a.server, "server", a.server, "the server's URL ($SHOPSCORE_SERVER, or http://127.0.0.1:8080)")
	fs.IntVar(&a.workers, "upload-workers", a.workers, "photos uploaded at once during sync (3 if 0)")
}

// args parses a command's args with fs and checks that there are want
// positional ones (any number if want < 0), which names describes.
func (a *app) args(fs *cli.FlagSet, args []string, want int, names string) ([]string, error) {
	pos, err := fs.Parse(args)
	if err != nil {
		return nil, err
	}
	if want >= 0 && len(pos) != want {
		if want == 0 {
			return nil, fs.Usagef("%s takes no arguments", strings.TrimPrefix(fs.Name(), "shopper "))
		}
		return nil, fs.Usagef("%s takes %s", strings.TrimPrefix(fs.Name(), "shopper "), names)
	}
	return pos, nil
}

// parseOpen parses a command's args like args and opens the client.
func (a *app) parseOpen(fs *cli.FlagSet, args []string, want int, names string) (*field.Client, []string, error) {
	pos, err := a.args(fs, args, want, names)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client()
	return c, pos, err
}

// client opens the field client on the folder and server the flags name.
func (a *app) client() (*field.Client, error) {
	if a.c != nil {
		return a.c, nil
	}
	dir, srv := a.dir, a.server
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, cli.Usage(usage, "no config folder: give --dir DIR or set SHOPPER_DIR")
		}
		dir = filepath.Join(base, "shopscore-shopper")
	}
	if srv == "" {
		srv = "http://127.0.0.1:8080"
	}
	if a.workers < 0 {
		return nil, cli.Usage(usage, "--upload-workers must be 1 or more")
	}
	c, err := field.OpenConfig(field.Config{Dir: dir, ServerURL: srv, UploadWorkers: a.workers, Inspect: a.inspect})
	if err != nil {
		return nil, err
	}
	a.c = c
	return c, nil
}

// describe renders an error for a person: the domain message, with a hint
// for the codes that have an obvious fix.
func describe(err error) string {
	msg := cli.Message(err)
	switch audit.ErrorCode(err) {
	case audit.EUNAVAILABLE:
		return msg + " (no network or the server is down: everything is kept; run `shopper sync` again later)"
	case audit.EUNAUTHORIZED:
		if !strings.Contains(msg, "log in") {
			msg += " (run `shopper login --email E`)"
		}
	}
	return msg
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
