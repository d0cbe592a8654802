package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
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

func init() {
	register(
		command{name: "report audit", run: runReportAudit,
			synopsis: "shopscore report audit --from YYYY-MM [--to YYYY-MM] [--store CODE | --region R] -o FILE.xlsx"},
		command{name: "report payroll", run: runReportPayroll,
			synopsis: "shopscore report payroll (--run ID | --policy ID --period YYYY-MM) [--export csv|xlsx [--locale ru|en]] [--as EMAIL] -o FILE"},
		command{name: "report policy import", run: runReportPolicyImport,
			synopsis: "shopscore report policy import [--as EMAIL] FILE.json"},
		command{name: "report basepay import", run: runReportBasePayImport,
			synopsis: "shopscore report basepay import [--kind base_pay|target_variable] --month YYYY-MM [--as EMAIL] FILE"},
		command{name: "report bonus run", run: runReportBonusRun,
			synopsis: "shopscore report bonus run --policy ID [--version N] --period YYYY-MM [--as EMAIL]"},
		command{name: "report bonus approve", run: runReportBonusApprove,
			synopsis: "shopscore report bonus approve --run ID --as EMAIL"},
	)
}

// The report commands work offline on the data folder like "standards
// import"; they log warnings and worse unless told otherwise.
const reportLogLevel = "warn"

// addActorFlag defines --as on fs: the HR user or admin a command acts as.
func addActorFlag(fs *cli.FlagSet, required bool) *string {
	what := `the e-mail of the HR user or admin acting, recorded on what the command stores ("cli" if empty)`
	if required {
		what = "the e-mail of the HR user or admin acting, recorded on what the command stores (required)"
	}
	return fs.String("as", "", what)
}

// actor returns the user id --as names, or "cli" when it is empty.
func actor(ctx context.Context, db storage.Storage, fs *cli.FlagSet, as string) (string, error) {
	if as == "" {
		return "cli", nil
	}
	id, err := actingUser(ctx, db, as)
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.TrimPrefix(fs.Name(), "shopscore "), err)
	}
	return id, nil
}

// openAs opens the data folder like openOffline and returns the user id
// --as names ("cli" if empty). The caller closes the server.
func (d dataFlags) openAs(ctx context.Context, stderr io.Writer, fs *cli.FlagSet, as string) (*server.Server, string, error) {
	srv, _, err := d.openOffline(stderr)
	if err != nil {
		return nil, "", err
	}
	by, err := actor(ctx, srv.Storage(), fs, as)
	if err != nil {
		srv.Close()
		return nil, "", err
	}
	return srv, by, nil
}

// runReportAudit runs "shopscore report audit": the audit workbook.
func runReportAudit(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	from := fs.String("from", "", "the first month, YYYY-MM")
	to := fs.String("to", "", "the last month, YYYY-MM (default: --from)")
	store := fs.String("store", "", "one store, by code")
	region := fs.String("region", "", "one region")
	out := fs.String("o", "", "the workbook to write (.xlsx)")
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if *out == "" {
		return fs.Usagef("report audit: -o FILE.xlsx is required")
	}
	srv, _, err := d.openOffline(o.stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	q, err := srv.AuditQuery(ctx, app.AuditQuery{Scope: audit.Scope{All: true}, From: *from, To: *to, StoreCode: *store, Region: *region})
	if err != nil {
		return err
	}
	bar := newProgress(o.stderr, "audit workbook")
	err = writeFileAtomic(*out, func(w io.Writer) error {
		return srv.WriteAuditWorkbook(ctx, q, w, bar.update)
	})
	bar.finish(err)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "wrote %s\n", *out)
	return nil
}

// runReportPayroll runs "shopscore report payroll": the payroll workbook
// or flat export of a run, or of the month's approved run of a policy.
func runReportPayroll(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	runID := fs.String("run", "", "the bonus run id")
	policy := fs.String("policy", "", "the policy id, with --period")
	period := fs.String("period", "", "the month, YYYY-MM, with --policy")
	export := fs.String("export", "", "the flat export for payroll systems, csv or xlsx, instead of the workbook")
	locale := fs.String("locale", "ru", "--export: ru or en")
	out := fs.String("o", "", "the file to write")
	as := addActorFlag(fs, false)
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if (*runID == "") == (*policy == "" || *period == "") || *out == "" {
		return fs.Usagef("report payroll: give -o FILE.xlsx and either --run ID or --policy ID --period YYYY-MM")
	}
	format := app.PayrollWorkbook
	switch *export {
	case "":
	case "csv":
		format = app.PayrollExportCSV
	case "xlsx":
		format = app.PayrollExportXLSX
	default:
		return fs.Usagef("report payroll: --export %q, want csv or xlsx", *export)
	}
	srv, by, err := d.openAs(ctx, o.stderr, fs, *as)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *runID == "" {
		r, err := payrollRun(ctx, srv.App(), *policy, *period, by)
		if err != nil {
			return err
		}
		how := ""
		if r.Reused {
			how = ", reused: the same inputs as when it was computed"
		}
		fmt.Fprintf(o.stderr, "payroll of %s run %s (%s v%d, %s%s)\n", r.State, r.ID, r.PolicyID, r.PolicyVersion, r.Period, how)
		*runID = r.ID
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { return srv.WritePayroll(ctx, *runID, format, *locale, w) }); err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "wrote %s\n", *out)
	return nil
}

// runReportPolicyImport runs "shopscore report policy import": a bonus
// policy stored as its next version (unchanged content is a no-op).
func runReportPolicyImport(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	as := addActorFlag(fs, false)
	file, body, err := parseFile(fs, args, "FILE")
	if err != nil {
		return err
	}
	srv, by, err := d.openAs(ctx, o.stderr, fs, *as)
	if err != nil {
		return err
	}
	defer srv.Close()
	p, err := app.ParsePolicy(body)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	stored, created, err := srv.App().CreatePolicy(ctx, p, by)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	what := "stored"
	if !created {
		what = "unchanged, still"
	}
	fmt.Fprintf(o.stdout, "policy %s %s as version %d (%s)\n", stored.Policy.ID, what, stored.Policy.Version, stored.Policy.Name)
	return nil
}

// runReportBasePayImport runs "shopscore report basepay import": base pay
// from a CSV or XLSX file, all or nothing.
func runReportBasePayImport(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	kind := fs.String("kind", storage.PayKindBase, "base_pay or target_variable")
	month := fs.String("month", "", "the first month the amounts apply to, YYYY-MM")
	as := addActorFlag(fs, false)
	file, body, err := parseFile(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *month == "" {
		return fs.Usagef("report basepay import: --month YYYY-MM is required: the first month the amounts apply to")
	}
	srv, by, err := d.openAs(ctx, o.stderr, fs, *as)
	if err != nil {
		return err
	}
	defer srv.Close()
	n, err := srv.App().ImportBasePay(ctx, filepath.Base(file), body, *kind, *month, by)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "set %s of %d employee(s) from %s\n", *kind, n, *month)
	return nil
}

// runReportBonusRun runs "shopscore report bonus run": a policy over the
// month's approved visits, printed with its differences from the locked
// run.
func runReportBonusRun(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	policy := fs.String("policy", "", "the policy id")
	version := fs.Int("version", 0, "the policy version (0: the latest)")
	period := fs.String("period", "", "the month, YYYY-MM")
	as := addActorFlag(fs, false)
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if *policy == "" || *period == "" {
		return fs.Usagef("report bonus run: --policy ID and --period YYYY-MM are required")
	}
	srv, by, err := d.openAs(ctx, o.stderr, fs, *as)
	if err != nil {
		return err
	}
	defer srv.Close()
	start := time.Now()
	r, err := srv.App().RunBonus(ctx, *policy, *version, *period, by)
	if err != nil {
		return err
	}
	printRun(o.stdout, r)
	fmt.Fprintf(o.stderr, "computed in %v from %d observation(s)\n", time.Since(start).Round(time.Millisecond), r.Run.Stats.Observations)
	return nil
}

// runReportBonusApprove runs "shopscore report bonus approve": the run is
// locked, recorded as approved by the HR user or admin --as names.
func runReportBonusApprove(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	d := addDataFlags(fs, o.getenv, reportLogLevel)
	runID := fs.String("run", "", "the bonus run id")
	override := fs.String("override-reason", "", "why the run is approved while appeals on visits of its month are open (recorded on the run)")
	as := addActorFlag(fs, true)
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	if *runID == "" {
		return fs.Usagef("report bonus approve: --run ID is required")
	}
	if *as == "" {
		return fs.Usagef("report bonus approve: --as EMAIL is required: the HR user or admin who approves, recorded on the run")
	}
	srv, by, err := d.openAs(ctx, o.stderr, fs, *as)
	if err != nil {
		return err
	}
	defer srv.Close()
	r, err := srv.App().ApproveBonusRun(ctx, *runID, by, *override)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "run %s (%s v%d, %s) is %s, by %s\n", r.ID, r.PolicyID, r.PolicyVersion, r.Period, r.State, r.ApprovedByName)
	return nil
}

// actingUser returns the id of the HR user or admin with the e-mail, who
// a command acts as. Errors: an unknown, disabled or other user.
func actingUser(ctx context.Context, db storage.Storage, email string) (string, error) {
	u, _, err := db.Users().FindByEmail(ctx, strings.TrimSpace(email))
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
func payrollRun(ctx context.Context, a *app.App, policy, period, by string) (*storage.BonusRun, error) {
	runs, err := a.ListBonusRuns(ctx, storage.BonusRunFilter{PolicyID: policy, Period: period})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.State == storage.RunApproved {
			return r, nil
		}
	}
	return a.RunBonus(ctx, policy, 0, period, by)
}

// printRun prints a run's totals per employee and its differences from
// the locked run.
func printRun(w io.Writer, r *storage.BonusRun) {
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
