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
// The folder defaults to $SHOPPER_DIR or shopscore-shopper in the user's
// config folder; the server to $SHOPSCORE_SERVER or http://127.0.0.1:8080.
// The password comes from $SHOPSCORE_PASSWORD or is read from stdin.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const usage = `usage: shopper [--dir DIR] [--server URL] [--upload-workers N] COMMAND

--upload-workers N uploads N photos at once during sync (3 by default).

commands:
  login --email E                       sign in (password from $SHOPSCORE_PASSWORD or stdin)
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
	c      *field.Client
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("shopper", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", getenv("SHOPPER_DIR"), "")
	srv := fs.String("server", getenv("SHOPSCORE_SERVER"), "")
	workers := fs.Int("upload-workers", 0, "")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "shopper: %v\n\n", err)
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	if *dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			fmt.Fprintln(stderr, "shopper: no config folder: give --dir DIR or set SHOPPER_DIR")
			return 2
		}
		*dir = filepath.Join(base, "shopscore-shopper")
	}
	if *srv == "" {
		*srv = "http://127.0.0.1:8080"
	}
	if *workers < 0 {
		fmt.Fprintf(stderr, "shopper: --upload-workers must be 1 or more\n\n%s", usage)
		return 2
	}
	c, err := field.OpenConfig(field.Config{Dir: *dir, ServerURL: *srv, UploadWorkers: *workers})
	if err != nil {
		fmt.Fprintf(stderr, "shopper: %s\n", describe(err))
		return 1
	}
	defer c.Close()
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, c: c}
	if err := a.dispatch(fs.Args()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "shopper: %s\n\n%s", ue, usage)
			return 2
		}
		fmt.Fprintf(stderr, "shopper: %s\n", describe(err))
		return 1
	}
	return 0
}

// usageError is a command line that does not parse.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

// describe renders an error for a person: the domain message, with a hint
// for the codes that have an obvious fix.
func describe(err error) string {
	msg := err.Error()
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

func (a *app) dispatch(args []string) error {
	switch args[0] {
	case "login":
		return a.login(args[1:])
	case "logout":
		return a.c.Logout(a.ctx)
	case "sync":
		return a.sync(args[1:])
	case "assignments":
		return a.assignments()
	case "checklists":
		return a.checklists()
	case "status":
		return a.status()
	case "visit":
		if len(args) < 2 {
			return usagef("visit needs a subcommand")
		}
		return a.visit(args[1], args[2:])
	case "help", "-h", "--help":
		fmt.Fprint(a.stdout, usage)
		return nil
	}
	return usagef("unknown command %q", args[0])
}

// parse parses flags that may come before or after the positional
// arguments, and checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, want int, names string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if want >= 0 && len(pos) != want {
		return nil, usagef("%s takes %s", fs.Name(), names)
	}
	return pos, nil
}

func (a *app) login(args []string) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	email := fs.String("email", "", "")
	if _, err := parse(fs, args, 0, "--email E"); err != nil {
		return err
	}
	if *email == "" {
		return usagef("login needs --email E")
	}
	password := a.getenv("SHOPSCORE_PASSWORD")
	if password == "" {
		fmt.Fprint(a.stderr, "password: ")
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return audit.Errorf(audit.EINVALID, "no password given: type it, or set SHOPSCORE_PASSWORD")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	s, err := a.c.Login(a.ctx, *email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "signed in as %s (%s) on device %s\nnext: shopper sync\n", s.DisplayName, s.Email, s.DeviceID)
	return nil
}

func (a *app) sync(args []string) error {
	if len(args) > 0 {
		return usagef("sync takes no arguments")
	}
	bar := newProgressBar(a.stdout, isTerminal(a.stdout))
	res, err := a.c.Sync(a.ctx, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "pushed %d visit(s), %d photo(s) verified, %d change(s) pulled", res.Pushed, res.PhotosVerified, res.Pull.Changes)
	if res.Pull.FullResync {
		fmt.Fprint(a.stdout, " (full resync)")
	}
	fmt.Fprintln(a.stdout)
	for _, e := range res.PhotoErrors {
		fmt.Fprintf(a.stdout, "photo not sent yet: %s\n", describe(e))
	}
	if res.Rejected > 0 {
		fmt.Fprintf(a.stdout, "%d visit(s) rejected by the server: see `shopper status`\n", res.Rejected)
	}
	return nil
}

func (a *app) assignments() error {
	as, err := a.c.Assignments(a.ctx)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(a.stdout, "no assignments on this device (run `shopper sync` when online)")
		return nil
	}
	for _, x := range as {
		line := fmt.Sprintf("%s  %-8s %-30s %s v%d  %s..%s  %s", x.ID, x.StoreCode, x.StoreName, x.ChecklistID, x.ChecklistVersion,
			x.WindowStart.Local().Format("Jan 2"), x.WindowEnd.Local().Format("Jan 2"), x.State)
		if x.Removed != "" {
			line += "  WITHDRAWN (" + x.Removed + ")"
		}
		if x.DraftVisitID != "" {
			line += "  visit in progress: " + x.DraftVisitID
		}
		fmt.Fprintln(a.stdout, line)
	}
	return nil
}

func (a *app) checklists() error {
	us, err := a.c.UnplannedChecklists(a.ctx)
	if err != nil {
		return err
	}
	if len(us) == 0 {
		fmt.Fprintln(a.stdout, "no checklists for unplanned visits on this device")
	}
	for _, u := range us {
		var stores []string
		for _, s := range u.Stores {
			stores = append(stores, s.Code)
		}
		fmt.Fprintf(a.stdout, "%s v%d  %s (%s)  stores: %s\n", u.ChecklistID, u.Version, u.Name, u.Channel, strings.Join(stores, ", "))
	}
	return nil
}

func (a *app) status() error {
	s, err := a.c.Status(a.ctx)
	if err != nil {
		return err
	}
	w := a.stdout
	if s.Session.LoggedIn() {
		fmt.Fprintf(w, "signed in as %s; device %s\n", s.Session.Email, s.Session.DeviceID)
	} else {
		fmt.Fprintln(w, "not signed in (shopper login --email E)")
	}
	fmt.Fprintf(w, "last pull: %s; last push: %s\n", when(s.LastPull), when(s.LastPush))
	fmt.Fprintf(w, "outbox: %d visit(s) waiting to be sent\n", len(s.Pending))
	for _, o := range s.Pending {
		fmt.Fprintf(w, "  #%d visit %s (queued %s)\n", o.Seq, o.VisitID, when(o.CreatedAt))
	}
	fmt.Fprintf(w, "evidence missing: %d photo(s), %d bytes\n", len(s.MissingEvidence), s.PhotoBytesWaiting)
	for _, p := range s.MissingEvidence {
		line := fmt.Sprintf("  visit %s %s[%d] %s", p.VisitID, p.QuestionID, p.Index, p.SHA256[:12])
		if p.LastError != "" {
			line += "  last error: " + p.LastError
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "rejected: %d\n", len(s.Rejected))
	for _, o := range s.Rejected {
		fmt.Fprintf(w, "  visit %s: %s: %s (fix with `shopper visit correct %s`)\n", o.VisitID, o.ErrorCode, o.ErrorMessage, o.VisitID)
	}
	fmt.Fprintln(w, "visits:")
	for _, v := range s.Visits {
		line := fmt.Sprintf("  %s  %-9s %-8s %s", v.ID, v.State, v.StoreCode, v.ChecklistID)
		if r := v.Receipt; r != nil {
			line += "  server: " + r.State
			if r.ScorePercent != nil {
				line += fmt.Sprintf(" score %.1f%%", *r.ScorePercent)
			}
			if len(r.Flags) > 0 {
				line += " flags " + strings.Join(r.Flags, ",")
			}
			for _, cm := range r.Comments {
				line += fmt.Sprintf("\n      reviewer on %s: %s", nonEmpty(cm.QuestionID, "the visit"), cm.Text)
			}
		}
		fmt.Fprintln(w, line)
	}
	return nil
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

func (a *app) visit(sub string, args []string) error {
	switch sub {
	case "start":
		fs := flag.NewFlagSet("visit start", flag.ContinueOnError)
		unplanned := fs.Bool("unplanned", false, "")
		checklist := fs.String("checklist", "", "")
		store := fs.String("store", "", "")
		pos, err := parse(fs, args, -1, "")
		if err != nil {
			return err
		}
		var id string
		if *unplanned {
			if len(pos) != 0 || *checklist == "" || *store == "" {
				return usagef("visit start --unplanned takes --checklist C --store S (see `shopper checklists`)")
			}
			id, err = a.c.StartUnplannedVisit(a.ctx, *checklist, *store)
		} else {
			if len(pos) != 1 {
				return usagef("visit start takes ASSIGNMENT_ID (see `shopper assignments`), or --unplanned --checklist C --store S")
			}
			id, err = a.c.StartVisit(a.ctx, pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, id)
		return nil
	case "answer":
		fs := flag.NewFlagSet("visit answer", flag.ContinueOnError)
		note := fs.String("note", "", "")
		pos, err := parse(fs, args, 3, "VISIT QUESTION VALUE")
		if err != nil {
			return err
		}
		pending, err := a.c.AnswerText(a.ctx, pos[0], pos[1], pos[2])
		if err != nil {
			return err
		}
		if *note != "" {
			if pending, err = a.c.AnswerNote(a.ctx, pos[0], pos[1], *note); err != nil {
				return err
			}
		}
		a.saved(pending)
		return nil
	case "timer":
		if len(args) != 3 || (args[0] != "start" && args[0] != "stop") {
			return usagef("visit timer takes start|stop VISIT QUESTION")
		}
		if args[0] == "start" {
			if err := a.c.TimerStart(a.ctx, args[1], args[2]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "timer for %s started; stop it with `shopper visit timer stop %s %s`\n", args[2], args[1], args[2])
			return nil
		}
		ms, pending, err := a.c.TimerStop(a.ctx, args[1], args[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: %s\n", args[2], time.Duration(ms)*time.Millisecond)
		a.saved(pending)
		return nil
	case "photo":
		pos, err := parse(flag.NewFlagSet("visit photo", flag.ContinueOnError), args, 3, "VISIT QUESTION PATH")
		if err != nil {
			return err
		}
		p, err := a.c.AddPhoto(a.ctx, pos[0], pos[1], pos[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "photo %s[%d]: %s, %d bytes, sha256 %s\n", p.QuestionID, p.Index, p.ContentType, p.Size, p.SHA256)
		return nil
	case "note":
		fs := flag.NewFlagSet("visit note", flag.ContinueOnError)
		question := fs.String("question", "", "")
		pos, err := parse(fs, args, 2, "VISIT TEXT")
		if err != nil {
			return err
		}
		if *question != "" {
			pending, err := a.c.AnswerNote(a.ctx, pos[0], *question, pos[1])
			if err != nil {
				return err
			}
			a.saved(pending)
			return nil
		}
		return a.c.SetNotes(a.ctx, pos[0], pos[1])
	case "staff":
		fs := flag.NewFlagSet("visit staff", flag.ContinueOnError)
		describeText := fs.String("describe", "", "")
		pos, err := parse(fs, args, -1, "")
		if err != nil {
			return err
		}
		switch {
		case *describeText != "" && len(pos) == 1:
			return a.c.DescribeStaff(a.ctx, pos[0], *describeText)
		case *describeText == "" && len(pos) == 2:
			return a.c.SetStaff(a.ctx, pos[0], pos[1])
		}
		return usagef("visit staff takes VISIT STAFF_ID, or VISIT --describe TEXT")
	case "checkin", "checkout":
		if len(args) != 3 && len(args) != 4 {
			return usagef("visit %s takes VISIT LATITUDE LONGITUDE [ACCURACY_METRES]", sub)
		}
		var nums []float64
		for _, s := range args[1:] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return usagef("visit %s: %q is not a number (write 55.7652, not 55°45')", sub, s)
			}
			nums = append(nums, x)
		}
		p := audit.GeoPoint{Latitude: nums[0], Longitude: nums[1]}
		if len(nums) == 3 {
			p.AccuracyMeters = nums[2]
		}
		if sub == "checkin" {
			return a.c.CheckIn(a.ctx, args[0], p)
		}
		return a.c.CheckOut(a.ctx, args[0], p)
	case "show":
		if len(args) != 1 {
			return usagef("visit show takes VISIT")
		}
		return a.show(args[0])
	case "submit":
		if len(args) != 1 {
			return usagef("visit submit takes VISIT")
		}
		if err := a.c.Submit(a.ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, "queued; run `shopper sync` when online")
		return nil
	case "correct":
		if len(args) != 1 {
			return usagef("visit correct takes VISIT")
		}
		id, err := a.c.StartCorrection(a.ctx, args[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, id)
		return nil
	}
	return usagef("unknown visit subcommand %q", sub)
}

// saved confirms an answer and lists the evidence it still demands.
func (a *app) saved(pending []audit.AnswerError) {
	fmt.Fprintln(a.stdout, "saved")
	for _, e := range pending {
		fmt.Fprintf(a.stdout, "  still needed: %s\n", e.Error())
	}
}

func (a *app) show(id string) error {
	d, err := a.c.Visit(a.ctx, id)
	if err != nil {
		return err
	}
	w := a.stdout
	v := d.Visit
	fmt.Fprintf(w, "visit %s  %s  %s %s (%s)  checklist %s v%d\n", v.ID, d.State, d.StoreCode, d.StoreName, v.StoreID, v.ChecklistID, v.ChecklistVersion)
	fmt.Fprintln(w, "(* must be answered before submit; choice questions list their options)")
	answers := map[string]audit.Answer{}
	for _, x := range v.Answers {
		answers[x.QuestionID] = x
	}
	for _, s := range d.Checklist.Sections {
		fmt.Fprintf(w, "\n[%s] %s\n", s.ID, s.Title)
		for _, q := range s.Questions {
			req := " "
			if q.MustAnswer() {
				req = "*"
			}
			fmt.Fprintf(w, " %s %-16s %-13s %s\n", req, q.ID, q.Type, q.Text)
			if q.Type == audit.QuestionPhoto && q.PhotoCount > 1 {
				fmt.Fprintf(w, "     (%d photos)\n", q.PhotoCount)
			}
			for _, o := range q.Options {
				fmt.Fprintf(w, "     - %-14s %s (%s points)\n", o.Value, o.Label, strconv.FormatFloat(o.Points, 'f', -1, 64))
			}
			if x, ok := answers[q.ID]; ok {
				fmt.Fprintf(w, "     = %s\n", render(x))
			}
		}
	}
	for _, t := range d.Timers {
		if t.ElapsedMS < 0 {
			fmt.Fprintf(w, "\ntimer %s: lost (the device restarted): start it again\n", t.QuestionID)
		} else {
			fmt.Fprintf(w, "\ntimer %s running: %s\n", t.QuestionID, time.Duration(t.ElapsedMS)*time.Millisecond)
		}
	}
	if v.StaffID != "" || v.StaffDescription != "" {
		fmt.Fprintf(w, "\nstaff: %s%s\n", v.StaffID, v.StaffDescription)
	}
	for _, p := range []struct {
		what string
		at   *audit.GeoPoint
	}{{"check-in", v.CheckIn}, {"check-out", v.CheckOut}} {
		if p.at != nil {
			fmt.Fprintf(w, "%s: %.6f, %.6f (±%.0f m)\n", p.what, p.at.Latitude, p.at.Longitude, p.at.AccuracyMeters)
		}
	}
	if v.Notes != "" {
		fmt.Fprintf(w, "notes: %s\n", v.Notes)
	}
	if p := d.Preview.Overall.Percent; p != nil {
		fmt.Fprintf(w, "\nscore preview: %.1f%% (%.2f of %.2f points)\n", *p, d.Preview.Overall.Points, d.Preview.Overall.Max)
	} else {
		fmt.Fprintln(w, "\nscore preview: nothing scorable answered yet")
	}
	if len(d.Missing) > 0 {
		fmt.Fprintln(w, "still missing before submit:")
		for _, e := range d.Missing {
			fmt.Fprintf(w, "  %s\n", e.Error())
		}
	} else if d.State == field.StateDraft {
		fmt.Fprintf(w, "complete: submit with `shopper visit submit %s`\n", v.ID)
	}
	if r := d.Receipt; r != nil {
		fmt.Fprintf(w, "server: %s", r.State)
		if r.ScorePercent != nil {
			fmt.Fprintf(w, ", score %.1f%%", *r.ScorePercent)
		}
		fmt.Fprintf(w, ", %d photo(s) missing\n", len(r.Missing))
	}
	if o := d.Rejection; o != nil {
		fmt.Fprintf(w, "rejected: %s: %s\n", o.ErrorCode, o.ErrorMessage)
	}
	return nil
}

// render shows an answer's value and evidence.
func render(a audit.Answer) string {
	var parts []string
	switch {
	case a.NA:
		parts = append(parts, "n/a")
	case a.Bool != nil:
		parts = append(parts, map[bool]string{true: "yes", false: "no"}[*a.Bool])
	case a.Number != nil:
		parts = append(parts, strconv.FormatFloat(*a.Number, 'f', -1, 64))
	case a.DurationMS != nil:
		parts = append(parts, (time.Duration(*a.DurationMS) * time.Millisecond).String())
	case a.Choices != nil:
		parts = append(parts, strings.Join(a.Choices, ", "))
	case a.Text != "":
		parts = append(parts, strconv.Quote(a.Text))
	default:
		parts = append(parts, "(no value yet)")
	}
	if a.Note != "" {
		parts = append(parts, "note: "+strconv.Quote(a.Note))
	}
	if n := len(a.PhotoHashes); n > 0 {
		parts = append(parts, fmt.Sprintf("%d photo(s)", n))
	}
	return strings.Join(parts, "; ")
}
