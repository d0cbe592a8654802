package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/sqlite"
)

const reportUsage = `usage: shopscore report <command> [flags]

commands (offline, on the data folder):
  audit   --from YYYY-MM --to YYYY-MM [--store CODE | --region R] -o FILE.xlsx
          the audit workbook of the months, for one store, one region or all
  payroll (--run ID | --policy ID --period YYYY-MM) [--export csv|xlsx [--locale ru|en]] -o FILE
          the payroll workbook of a bonus run (or, with --export, the flat
          export for payroll systems); with --policy, of the month's
          approved run, or of a run of the policy when the month has none
          (an equal draft is reused, not stored again)
  policy import FILE.json
          store a bonus policy (JSON) as its next version
  basepay import [--kind base_pay|target_variable] --month YYYY-MM FILE
          set employees' base pay from a CSV or XLSX file, from a month on
  bonus run --policy ID [--version N] --period YYYY-MM
          run a bonus policy over the month's approved visits
  bonus approve --run ID --as EMAIL
          approve (lock) a bonus run, recorded as approved by the HR user
          or admin with that e-mail

--as EMAIL names the user a command acts as (recorded on what it stores);
without it, everything but bonus approve is recorded as "cli".
`

// runReport runs "shopscore report ...": the reports and bonuses, offline
// on the data folder like "standards import".
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, reportUsage)
		return errors.New("report: want a command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "policy", "basepay", "bonus":
		if len(rest) == 0 {
			fmt.Fprint(stderr, reportUsage)
			return fmt.Errorf("report %s: want a subcommand", cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "audit", "payroll", "policy import", "basepay import", "bonus run", "bonus approve":
	default:
		fmt.Fprint(stderr, reportUsage)
		return fmt.Errorf("report: unknown command %q", cmd)
	}
	fs := flag.NewFlagSet("shopscore report "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "SHOPSCORE_DATA", "data"), "data folder (env SHOPSCORE_DATA)")
	logFormat := fs.String("log-format", envOr(getenv, "SHOPSCORE_LOG_FORMAT", "text"), "log format: text or json")
	logLevel := fs.String("log-level", envOr(getenv, "SHOPSCORE_LOG_LEVEL", "warn"), "log level: debug, info, warn, error")
	from := fs.String("from", "", "audit: first month, YYYY-MM")
	to := fs.String("to", "", "audit: last month, YYYY-MM (default: --from)")
	store := fs.String("store", "", "audit: one store, by code")
	region := fs.String("region", "", "audit: one region")
	out := fs.String("o", "", "audit, payroll: the workbook to write (.xlsx)")
	runID := fs.String("run", "", "payroll, bonus approve: the bonus run id")
	policy := fs.String("policy", "", "bonus run: the policy id")
	version := fs.Int("version", 0, "bonus run: the policy version (0: the latest)")
	period := fs.String("period", "", "bonus run: the month, YYYY-MM")
	kind := fs.String("kind", sqlite.PayKindBase, "basepay import: base_pay or target_variable")
	as := fs.String("as", "", "the e-mail of the HR user or admin acting (required by bonus approve)")
	export := fs.String("export", "", "payroll: the flat export for payroll systems, csv or xlsx, instead of the workbook")
	locale := fs.String("locale", "ru", "payroll --export: ru or en")
	month := fs.String("month", "", "basepay import: the first month the amounts apply to, YYYY-MM")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	var file string
	switch {
	case cmd == "policy import" || cmd == "basepay import":
		if fs.NArg() != 1 {
			return fmt.Errorf("report %s: give exactly one FILE", cmd)
		}
		file = fs.Arg(0)
	case fs.NArg() > 0:
		return fmt.Errorf("report %s: unexpected arguments %q", cmd, fs.Args())
	}
	switch cmd {
	case "audit":
		if *out == "" {
			return errors.New("report audit: -o FILE.xlsx is required")
		}
	case "payroll":
		if (*runID == "") == (*policy == "" || *period == "") || *out == "" {
			return errors.New("report payroll: give -o FILE.xlsx and either --run ID or --policy ID --period YYYY-MM")
		}
	case "bonus run":
		if *policy == "" || *period == "" {
			return errors.New("report bonus run: --policy ID and --period YYYY-MM are required")
		}
	case "bonus approve":
		if *runID == "" {
			return errors.New("report bonus approve: --run ID is required")
		}
		if *as == "" {
			return errors.New("report bonus approve: --as EMAIL is required: the HR user or admin who approves, recorded on the run")
		}
	case "basepay import":
		if *month == "" {
			return errors.New("report basepay import: --month YYYY-MM is required: the first month the amounts apply to")
		}
	}
	srv, err := openOffline(stderr, *data, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	defer srv.Close()
	db := srv.DB()
	actor := "cli"
	if *as != "" {
		if actor, err = actingUser(ctx, db, *as); err != nil {
			return fmt.Errorf("report %s: %w", cmd, err)
		}
	}
	switch cmd {
	case "audit":
		q, err := srv.AuditQuery(ctx, sqlite.AuditQuery{Scope: audit.Scope{All: true}, From: *from, To: *to, StoreCode: *store, Region: *region})
		if err != nil {
			return err
		}
		bar := newProgress(stderr, "audit workbook")
		err = writeFileAtomic(*out, func(w io.Writer) error {
			return srv.WriteAuditWorkbook(ctx, q, w, bar.update)
		})
		bar.finish(err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *out)
		return nil
	case "payroll":
		format := sqlite.PayrollWorkbook
		switch *export {
		case "":
		case "csv":
			format = sqlite.PayrollExportCSV
		case "xlsx":
			format = sqlite.PayrollExportXLSX
		default:
			return fmt.Errorf("report payroll: --export %q, want csv or xlsx", *export)
		}
		if *runID == "" {
			r, err := payrollRun(ctx, db, *policy, *period, actor)
			if err != nil {
				return err
			}
			how := ""
			if r.Reused {
				how = ", reused: the same inputs as when it was computed"
			}
			fmt.Fprintf(stderr, "payroll of %s run %s (%s v%d, %s%s)\n", r.State, r.ID, r.PolicyID, r.PolicyVersion, r.Period, how)
			*runID = r.ID
		}
		if err := writeFileAtomic(*out, func(w io.Writer) error { return srv.WritePayroll(ctx, *runID, format, *locale, w) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *out)
		return nil
	case "policy import":
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		p, err := server.ParsePolicy(body)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		stored, created, err := db.CreatePolicy(ctx, p, actor)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		what := "stored"
		if !created {
			what = "unchanged, still"
		}
		fmt.Fprintf(stdout, "policy %s %s as version %d (%s)\n", stored.Policy.ID, what, stored.Policy.Version, stored.Policy.Name)
		return nil
	case "basepay import":
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		n, err := server.ImportBasePay(ctx, db, filepath.Base(file), body, *kind, *month, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "set %s of %d employee(s) from %s\n", *kind, n, *month)
		return nil
	case "bonus run":
		start := time.Now()
		r, err := db.RunBonus(ctx, *policy, *version, *period, actor)
		if err != nil {
			return err
		}
		printRun(stdout, r)
		fmt.Fprintf(stderr, "computed in %v from %d observation(s)\n", time.Since(start).Round(time.Millisecond), r.Run.Stats.Observations)
		return nil
	default: // bonus approve
		r, err := db.ApproveBonusRun(ctx, *runID, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "run %s (%s v%d, %s) is %s, by %s\n", r.ID, r.PolicyID, r.PolicyVersion, r.Period, r.State, r.ApprovedByName)
		return nil
	}
}

// actingUser returns the id of the HR user or admin with the e-mail, who
// a command acts as. Errors: an unknown, disabled or other user.
func actingUser(ctx context.Context, db *sqlite.DB, email string) (string, error) {
	u, _, err := db.FindUserByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return "", fmt.Errorf("--as %s: %w", email, err)
	}
	if u.Disabled {
		return "", fmt.Errorf("--as %s: the user is disabled", email)
	}
	if u.Role != audit.RoleHR && u.Role != audit.RoleAdmin {
		return "", fmt.Errorf("--as %s: the user is a %s; HR users and admins run and approve bonuses", email, u.Role)
	}
	return u.ID, nil
}

// payrollRun returns the approved run of a policy and month, or runs the
// policy when the month has none (RunBonus reuses an equal stored draft).
func payrollRun(ctx context.Context, db *sqlite.DB, policy, period, by string) (*sqlite.BonusRun, error) {
	runs, err := db.ListBonusRuns(ctx, sqlite.BonusRunFilter{PolicyID: policy, Period: period})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.State == sqlite.RunApproved {
			return r, nil
		}
	}
	return db.RunBonus(ctx, policy, 0, period, by)
}

// printRun prints a run's totals per employee and its differences from
// the locked run.
func printRun(w io.Writer, r *sqlite.BonusRun) {
	fmt.Fprintf(w, "run %s: policy %s v%d, %s, %s, inputs %s\n", r.ID, r.PolicyID, r.PolicyVersion, r.Period, r.State, r.InputsHash[:16])
	header := []string{"EMPLOYEE", "NAME", "BASE", "UNLINKED"}
	if len(r.Run.Employees) > 0 {
		for _, c := range r.Run.Employees[0].Components {
			header = append(header, strings.ToUpper(c.Name))
		}
	}
	rows := [][]string{append(header, "TOTAL")}
	for _, e := range r.Run.Employees {
		row := []string{e.EmployeeNumber, e.Name, reports.FormatMoney(e.BasePayMinor), reports.FormatMoney(e.UnlinkedMinor)}
		for _, c := range e.Components {
			row = append(row, reports.FormatMoney(c.AmountMinor))
		}
		rows = append(rows, append(row, reports.FormatMoney(e.TotalMinor)))
	}
	printTable(w, rows, 2)
	if len(r.MissingBasePay) > 0 {
		fmt.Fprintf(w, "no base pay for: %s (paid from 0)\n", strings.Join(r.MissingBasePay, ", "))
	}
	if r.Reused {
		fmt.Fprintln(w, "reused: a run with the same inputs was stored already; nothing new was stored")
	}
	if r.ComparedRunID != "" {
		fmt.Fprintf(w, "compared with the approved run %s: %d difference(s)\n", r.ComparedRunID, len(r.Changes))
		for _, c := range r.Changes {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
}

// printTable prints rows as columns two spaces apart: the first text
// columns (names) aligned left, the others (amounts) right, every cell
// padded to its column's width in characters.
func printTable(w io.Writer, rows [][]string, text int) {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < text {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// writeFileAtomic writes a file through a temporary one beside it, renamed
// into place only when write succeeded, so that an interrupted export
// never leaves a truncated workbook.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// progress shows an export's progress on stderr: a bar redrawn in place
// on a terminal, a line every tenth otherwise.
type progress struct {
	w        io.Writer
	what     string
	terminal bool
	start    time.Time
	last     time.Time
	lastTen  int64
	drawn    bool
}

func newProgress(w io.Writer, what string) *progress {
	p := &progress{w: w, what: what, start: time.Now(), lastTen: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int64) {
	if total <= 0 {
		total = max(done, 1)
	}
	frac := min(float64(done)/float64(total), 1)
	if p.terminal {
		if now := time.Now(); now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		} else {
			p.last = now
		}
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d/%d rows %v ", p.what, strings.Repeat("#", n), strings.Repeat(" ", width-n),
			frac*100, done, total, time.Since(p.start).Round(time.Second))
		p.drawn = true
		return
	}
	if ten := int64(frac * 10); ten > p.lastTen {
		p.lastTen = ten
		fmt.Fprintf(p.w, "%s: %3.0f%% (%d of %d rows)\n", p.what, frac*100, done, total)
	}
}

func (p *progress) finish(err error) {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
	if err == nil {
		fmt.Fprintf(p.w, "%s: done in %v\n", p.what, time.Since(p.start).Round(time.Millisecond))
	}
}
