package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
)

// BonusPolicy is one stored version of a bonus policy.
type BonusPolicy struct {
	Policy        reports.Policy
	CreatedAt     time.Time
	CreatedBy     string
	CreatedByName string // for people
}

// ParseMonth reads a month written "YYYY-MM" and returns its period in
// UTC, [first day, first day of the next month). Errors: EINVALID, naming
// field.
func ParseMonth(field, s string) (reports.Period, error) { return ParseMonthIn(field, s, time.UTC) }

// ParseMonthIn is ParseMonth for a month of loc's calendar: its period
// runs from midnight of its first day in loc.
func ParseMonthIn(field, s string, loc *time.Location) (reports.Period, error) {
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(s), loc)
	if err != nil || t.Year() < 2000 || t.Year() > 2999 {
		return reports.Period{}, audit.Errorf(audit.EINVALID, "%s %q is not a month written YYYY-MM (e.g. 2026-03)", field, s)
	}
	return reports.Month(t), nil
}

// monthKey formats a period's first month as "YYYY-MM".
func monthKey(p reports.Period) string { return p.From.Format("2006-01") }

// reportsError turns an error of package reports about bad input into
// EINVALID with its message; other errors pass through.
func reportsError(err error) error {
	if err != nil && errors.Is(err, reports.ErrInvalid) {
		return audit.Errorf(audit.EINVALID, "%s", strings.TrimPrefix(err.Error(), "reports: "))
	}
	return err
}

// CreatePolicy stores p as the next version of the policy p.ID and
// returns it with created true; when p's content equals the latest
// version's, nothing is stored and that version is returned with created
// false. p.Version is ignored (the server numbers versions). The values of
// p.StoreIDs may be store ids or store codes; they are stored as ids.
// Errors: EINVALID (every problem of the policy at once, or an unknown
// store).
func (db *DB) CreatePolicy(ctx context.Context, p reports.Policy, by string) (*BonusPolicy, bool, error) {
	p.ID = strings.TrimSpace(p.ID)
	p.Version = 1
	if err := reportsError(p.Validate()); err != nil {
		return nil, false, err
	}
	var out *BonusPolicy
	created := false
	err := db.update(ctx, func(tx *Tx) error {
		latest, err := planPolicy(ctx, tx, &p)
		if err != nil {
			return err
		}
		if latest != nil && latest.Policy.Version == p.Version {
			out = latest
			return nil
		}
		body, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bonus_policies (id, version, name, body, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, p.Version, p.Name, body, millis(tx.now), by); err != nil {
			return fmt.Errorf("insert policy: %w", err)
		}
		out, created = &BonusPolicy{Policy: p, CreatedAt: tx.now, CreatedBy: by}, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// planPolicy resolves p's store codes and numbers it: the latest stored
// version's number when p's content equals it (then that version is
// returned), the next one otherwise, 1 for a new policy (with a nil
// latest). Errors: EINVALID (an unknown store).
func planPolicy(ctx context.Context, tx *Tx, p *reports.Policy) (*BonusPolicy, error) {
	if err := resolvePolicyStores(ctx, tx, p); err != nil {
		return nil, err
	}
	p.Version = 1
	latest, err := findPolicy(ctx, tx, p.ID, 0)
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND:
		return nil, nil
	case err != nil:
		return nil, err
	}
	p.Version = latest.Policy.Version
	if !samePolicy(&latest.Policy, p) {
		p.Version++
	}
	return latest, nil
}

// CheckPolicy validates p as CreatePolicy would, storing nothing, and
// returns every problem (nil when it can be stored), whether storing it
// would change nothing, and the version it would be stored as. Errors:
// only internal ones.
func (db *DB) CheckPolicy(ctx context.Context, p reports.Policy) (problems []string, unchanged bool, version int, err error) {
	p.ID = strings.TrimSpace(p.ID)
	p.Version = 1
	if verr := p.Validate(); verr != nil {
		for _, line := range strings.Split(verr.Error(), "\n") {
			problems = append(problems, strings.TrimPrefix(line, "reports: "))
		}
	}
	err = db.view(ctx, func(tx *Tx) error {
		latest, err := planPolicy(ctx, tx, &p)
		if audit.ErrorCode(err) == audit.EINVALID {
			problems = append(problems, audit.ErrorMessage(err))
			return nil
		} else if err != nil {
			return err
		}
		unchanged, version = latest != nil && latest.Policy.Version == p.Version, p.Version
		return nil
	})
	return problems, unchanged, version, err
}

// PolicyVersions returns the version numbers of a policy, oldest first.
// Errors: ENOTFOUND.
func (db *DB) PolicyVersions(ctx context.Context, id string) ([]int, error) {
	var out []int
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(row scanner) (int, error) {
			var v int
			err := row.Scan(&v)
			return v, err
		}, `SELECT version FROM bonus_policies WHERE id = ? ORDER BY version`, id)
		return err
	})
	if err == nil && len(out) == 0 {
		err = audit.Errorf(audit.ENOTFOUND, "bonus policy %q not found", id)
	}
	return out, err
}

// resolvePolicyStores replaces the store codes among p.StoreIDs by the
// stores' ids. Errors: EINVALID (neither an id nor a code).
func resolvePolicyStores(ctx context.Context, tx *Tx, p *reports.Policy) error {
	for i, s := range p.StoreIDs {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM stores WHERE id = ? OR code = ?`, s, s).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.EINVALID, "policy %q: store %q is neither a store id nor a store code", p.ID, s)
		} else if err != nil {
			return fmt.Errorf("find policy store: %w", err)
		}
		p.StoreIDs[i] = id
	}
	return nil
}

func samePolicy(a, b *reports.Policy) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// FindPolicy returns a version of a policy, or its latest when version is
// 0. Errors: ENOTFOUND.
func (db *DB) FindPolicy(ctx context.Context, id string, version int) (*BonusPolicy, error) {
	var p *BonusPolicy
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		p, err = findPolicy(ctx, tx, id, version)
		return err
	})
	return p, err
}

func findPolicy(ctx context.Context, tx *Tx, id string, version int) (*BonusPolicy, error) {
	q := policySelect + ` WHERE id = ? AND version = ?`
	args := []any{id, version}
	if version == 0 {
		q = policySelect + ` WHERE id = ? ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	p, err := scanPolicy(tx.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, audit.Errorf(audit.ENOTFOUND, "bonus policy %q not found", id)
		}
		return nil, audit.Errorf(audit.ENOTFOUND, "bonus policy %q version %d not found", id, version)
	} else if err != nil {
		return nil, fmt.Errorf("find policy: %w", err)
	}
	return p, nil
}

// userName is the SQL expression of the name of the user whose id is in
// column col, for people: the display name, else the e-mail, else the id
// itself ("cli", "demo" for older rows).
func userName(col string) string {
	return `COALESCE((SELECT COALESCE(NULLIF(u.display_name, ''), u.email) FROM users u WHERE u.id = ` + col + `), ` + col + `, '')`
}

var policySelect = `SELECT body, created_at, created_by, ` + userName("created_by") + ` FROM bonus_policies`

func scanPolicy(row scanner) (*BonusPolicy, error) {
	var body []byte
	var created int64
	p := &BonusPolicy{}
	if err := row.Scan(&body, &created, &p.CreatedBy, &p.CreatedByName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &p.Policy); err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// ListPolicies returns every version of every policy, by id then version;
// only the latest version of each when latestOnly.
func (db *DB) ListPolicies(ctx context.Context, latestOnly bool) ([]*BonusPolicy, error) {
	q := policySelect + ` p`
	if latestOnly {
		q += ` WHERE version = (SELECT MAX(version) FROM bonus_policies l WHERE l.id = p.id)`
	}
	return list(ctx, db, "list policies", scanPolicy, q+` ORDER BY id, version`)
}

// The kinds of pay a base pay row holds; a policy's Base says which one it
// splits.
const (
	PayKindBase           = reports.BasePay
	PayKindTargetVariable = reports.BaseTargetVariable
)

// BasePayRow is one employee's base (or target variable) pay from a month
// on, in minor units.
type BasePayRow struct {
	EmployeeNumber string
	Kind           string // PayKindBase or PayKindTargetVariable
	EffectiveMonth string // "YYYY-MM"
	AmountMinor    int64
	// Row is where the row came from in an imported file, for messages;
	// 0 names it by its place in the list.
	Row int
}

// SetBasePay stores the rows, all or nothing, replacing any amount of the
// same employee, kind and month; source says where they came from (a file
// name, "api"). Errors: EINVALID (listing every row with an unknown
// employee number, an unknown kind, a bad month or a negative amount).
func (db *DB) SetBasePay(ctx context.Context, rows []BasePayRow, source, by string) error {
	if len(rows) == 0 {
		return audit.Errorf(audit.EINVALID, "no base pay rows given")
	}
	var problems []string
	for i := range rows {
		r := &rows[i]
		if r.Row == 0 {
			r.Row = i + 1
		}
		r.EmployeeNumber = strings.TrimSpace(r.EmployeeNumber)
		if r.Kind == "" {
			r.Kind = PayKindBase
		}
		switch {
		case r.EmployeeNumber == "":
			problems = append(problems, fmt.Sprintf("row %d: employee number is empty", r.Row))
		case r.Kind != PayKindBase && r.Kind != PayKindTargetVariable:
			problems = append(problems, fmt.Sprintf("row %d (employee %s): kind %q, want %q or %q", r.Row, r.EmployeeNumber, r.Kind, PayKindBase, PayKindTargetVariable))
		case r.AmountMinor < 0:
			problems = append(problems, fmt.Sprintf("row %d (employee %s): amount %d is negative", r.Row, r.EmployeeNumber, r.AmountMinor))
		}
		if _, err := ParseMonth("effective month", r.EffectiveMonth); err != nil {
			problems = append(problems, fmt.Sprintf("row %d (employee %s): %s", r.Row, r.EmployeeNumber, audit.ErrorMessage(err)))
		}
	}
	if len(problems) > 0 {
		return audit.Errorf(audit.EINVALID, "base pay: %s", strings.Join(problems, "; "))
	}
	return db.update(ctx, func(tx *Tx) error {
		var unknown []string
		for _, r := range rows {
			var staffID string
			err := tx.QueryRowContext(ctx, `SELECT id FROM staff WHERE employee_number = ?`, r.EmployeeNumber).Scan(&staffID)
			if errors.Is(err, sql.ErrNoRows) {
				unknown = append(unknown, fmt.Sprintf("row %d: %s", r.Row, r.EmployeeNumber))
				continue
			} else if err != nil {
				return fmt.Errorf("find staff: %w", err)
			}
			month, _ := ParseMonth("effective month", r.EffectiveMonth)
			// Every write takes the next revision of the table, which a bonus
			// run's stamp reads (inputsStamp).
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO base_pay (staff_id, kind, effective_month, amount_minor, source, updated_at, updated_by, revision)
				VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(revision), 0) + 1 FROM base_pay))`, staffID, r.Kind, monthKey(month), r.AmountMinor, source, millis(tx.now), by); err != nil {
				return fmt.Errorf("store base pay: %w", err)
			}
		}
		if len(unknown) > 0 {
			return audit.Errorf(audit.EINVALID, "base pay: no staff with employee number %s; nothing was stored", strings.Join(unknown, ", "))
		}
		return nil
	})
}

// BonusRunState is where a bonus run is in its approval.
type BonusRunState string

// The states of a bonus run.
const (
	RunDraft      BonusRunState = "draft"      // computed, not approved
	RunApproved   BonusRunState = "approved"   // locked: what payroll pays
	RunSuperseded BonusRunState = "superseded" // was approved; a later run replaced it
)

// BonusRun is a stored run of a bonus policy version for a month.
type BonusRun struct {
	ID            string
	PolicyID      string
	PolicyVersion int
	Period        string // "YYYY-MM"
	InputsHash    string
	// InputsStamp is the hex SHA-256 of what the run read with its
	// revisions (inputsStamp): the visits that counted and their
	// revisions, the base pay rows and theirs, the staff. A run whose
	// stamp no longer matches the database is stale and cannot be
	// approved.
	InputsStamp string
	State       BonusRunState
	// Result is the reports.Run as stored, JSON: byte-identical for runs
	// with the same inputs. Run is the same, decoded.
	Result []byte
	Run    *reports.Run
	// MissingBasePay lists the covered employees (by employee number) who
	// had no base pay of the policy's kind for the month; they were paid
	// from 0.
	MissingBasePay []string
	// ComparedRunID is the approved run of the same policy and month that
	// existed when this one was computed; Changes are the differences
	// from it (reports.Diff), empty when the figures are the same.
	ComparedRunID string
	Changes       []reports.Change
	CreatedAt     time.Time
	CreatedBy     string
	ApprovedAt    time.Time
	ApprovedBy    string
	// CreatedByName and ApprovedByName name those users for people.
	CreatedByName  string
	ApprovedByName string
	// Reused is set by RunBonus when the run was already stored with the
	// same inputs and stamp, and nothing new was stored.
	Reused bool
}

// noStore stands for the store of an employee tied to no store: such an
// employee counts only the visits that name him.
const noStore = "-"

// computed is a run computed in one read snapshot, with the stamp of
// what it read.
type computed struct {
	run     *reports.Run
	missing []string
	stamp   string
}

// compute runs policy pol over period in tx: the employees with their pay
// of the policy's kind in force in the month, the observations of the
// visits that count (BonusStates), and the stamp of what was read.
func compute(ctx context.Context, tx *Tx, pol reports.Policy, period reports.Period) (*computed, error) {
	emps, hasPay, err := employees(ctx, tx, pol.Base, monthKey(period))
	if err != nil {
		return nil, err
	}
	run, err := reports.Compute(pol, period, emps, Observations(ctx, tx, period))
	if err != nil {
		return nil, reportsError(err)
	}
	c := &computed{run: run, missing: []string{}}
	for _, e := range run.Employees {
		if !hasPay[e.StaffID] {
			c.missing = append(c.missing, e.EmployeeNumber)
		}
	}
	if c.stamp, err = inputsStamp(ctx, tx, pol.Base, period); err != nil {
		return nil, err
	}
	return c, nil
}

// inputsStamp returns the hex SHA-256 of what a run of a policy of the
// given base over period reads, with revisions: every visit that counts
// (the same rows as Observations) and its revision, which every state or
// score change bumps, so a visit reopened and approved again differs from
// before; every base pay row of the kind up to the month and its revision;
// and the staff fields the engine reads. Two stamps are equal only when
// nothing a run reads was touched in between.
func inputsStamp(ctx context.Context, tx *Tx, kind string, period reports.Period) (string, error) {
	h := sha256.New()
	for _, q := range []struct {
		what, query string
		args        []any
	}{
		{"visits", `SELECT r.visit_id, v.revision` + reportVisitsFrom + bonusWhere + ` ORDER BY r.visited_at, r.visit_id`,
			[]any{millis(period.From), millis(period.To)}},
		{"base pay", `SELECT staff_id || ':' || effective_month, revision FROM base_pay WHERE kind = ? AND effective_month <= ?
			ORDER BY staff_id, effective_month`, []any{kind, monthKey(period)}},
		{"staff", `SELECT id, employee_number || ':' || name || ':' || position || ':' || department || ':' || COALESCE(store_id, '')
			FROM staff ORDER BY id`, nil},
	} {
		fmt.Fprintf(h, "%s\n", q.what)
		rows, err := tx.QueryContext(ctx, q.query, q.args...)
		if err != nil {
			return "", fmt.Errorf("stamp %s: %w", q.what, err)
		}
		var key, rev sql.RawBytes
		for rows.Next() {
			if err := rows.Scan(&key, &rev); err != nil {
				rows.Close()
				return "", fmt.Errorf("stamp %s: %w", q.what, err)
			}
			fmt.Fprintf(h, "%d:%s=%s\n", len(key), key, rev)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return "", fmt.Errorf("stamp %s: %w", q.what, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RunBonus runs a version of a policy (its latest when version is 0) over
// the approved visits (BonusStates) of a month ("YYYY-MM") and stores the
// run as a draft. The employees are the staff with their base pay of the
// policy's kind (the latest amount from a month at or before the run's);
// the observations stream from the database in one read snapshot, so
// memory grows with staff and visits, not answers. When an approved run of
// the same policy and month exists, the new run records its differences
// from it.
//
// A run with the same policy version, inputs hash and stamp as a stored
// one (the approved run, or a draft compared with the same approved run)
// is not stored again: that run is returned with Reused set. Errors:
// EINVALID (the month, or data the bonus engine refuses), ENOTFOUND (the
// policy or version).
func (db *DB) RunBonus(ctx context.Context, policyID string, version int, month, by string) (*BonusRun, error) {
	period, err := ParseMonth("period", month)
	if err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, audit.Errorf(audit.EINVALID, "policy version %d is negative; 0 means the latest", version)
	}
	if _, err := db.IndexReportRows(ctx); err != nil {
		return nil, err
	}
	var c *computed
	err = db.view(ctx, func(tx *Tx) error {
		pol, err := findPolicy(ctx, tx, policyID, version)
		if err != nil {
			return err
		}
		c, err = compute(ctx, tx, pol.Policy, period)
		return err
	})
	if err != nil {
		return nil, err
	}
	run := c.run
	result, err := json.Marshal(run)
	if err != nil {
		// Only a non-finite figure fails to encode: the same policy and
		// inputs would fail again.
		return nil, audit.Errorf(audit.EINVALID, "the run's figures cannot be stored (%v): check the policy", err)
	}
	r := &BonusRun{
		ID: uuid.NewString(), PolicyID: run.Policy.ID, PolicyVersion: run.Policy.Version, Period: monthKey(period),
		InputsHash: run.InputsHash, InputsStamp: c.stamp, State: RunDraft, Result: result, Run: run, MissingBasePay: c.missing,
		CreatedBy: by, Changes: []reports.Change{},
	}
	var out *BonusRun
	err = db.update(ctx, func(tx *Tx) error {
		r.CreatedAt = tx.now
		locked, err := scanRun(tx.QueryRowContext(ctx, runSelect+` WHERE policy_id = ? AND period = ? AND state = 'approved'`, r.PolicyID, r.Period))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			locked = nil
		case err != nil:
			return fmt.Errorf("find locked run: %w", err)
		default:
			r.ComparedRunID = locked.ID
		}
		// The same inputs, read at the same revisions: the run is stored
		// already (the locked run itself, or a draft against it).
		same, err := queryAll(ctx, tx, scanRun, runSelect+` WHERE policy_id = ? AND period = ? AND policy_version = ? AND inputs_hash = ?
			AND inputs_stamp = ? AND state <> 'superseded' ORDER BY created_at DESC, id`,
			r.PolicyID, r.Period, r.PolicyVersion, r.InputsHash, r.InputsStamp)
		if err != nil {
			return fmt.Errorf("find an equal run: %w", err)
		}
		for _, s := range same {
			if s.State == RunApproved || s.ComparedRunID == r.ComparedRunID {
				out = s
				out.Reused = true
				return nil
			}
		}
		if locked != nil {
			if d := reports.Diff(locked.Run, run); d != nil {
				r.Changes = d
			}
		}
		missingJSON, _ := json.Marshal(r.MissingBasePay)
		diffJSON, err := json.Marshal(r.Changes)
		if err != nil {
			return fmt.Errorf("encode diff: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO bonus_runs (id, policy_id, policy_version, period, inputs_hash, inputs_stamp, result,
			missing_base_pay, compared_run_id, diff, state, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.PolicyID, r.PolicyVersion, r.Period, r.InputsHash, r.InputsStamp, r.Result, string(missingJSON),
			nullString(r.ComparedRunID), diffJSON, string(r.State), millis(tx.now), by)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		out, err = findRun(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PreviewBonus runs policy p (validated, store codes allowed as in
// CreatePolicy) over a month as RunBonus would, and stores nothing: the
// policy editor's preview. It returns the run and the covered employees
// without base pay. Errors: EINVALID (the policy, every problem at once,
// or the month).
func (db *DB) PreviewBonus(ctx context.Context, p reports.Policy, month string) (*reports.Run, []string, error) {
	period, err := ParseMonth("period", month)
	if err != nil {
		return nil, nil, err
	}
	if p.Version == 0 {
		p.Version = 1
	}
	if err := reportsError(p.Validate()); err != nil {
		return nil, nil, err
	}
	if _, err := db.IndexReportRows(ctx); err != nil {
		return nil, nil, err
	}
	var c *computed
	err = db.view(ctx, func(tx *Tx) error {
		if err := resolvePolicyStores(ctx, tx, &p); err != nil {
			return err
		}
		var err error
		c, err = compute(ctx, tx, p, period)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return c.run, c.missing, nil
}

// employees returns the staff as the bonus engine sees them, with the pay
// of the given kind in force in month, and which of them have such pay.
func employees(ctx context.Context, tx *Tx, kind, month string) ([]reports.Employee, map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(s.store_id, ''),
		(SELECT amount_minor FROM base_pay p WHERE p.staff_id = s.id AND p.kind = ? AND p.effective_month <= ?
			ORDER BY p.effective_month DESC LIMIT 1)
		FROM staff s ORDER BY s.id`, kind, month)
	if err != nil {
		return nil, nil, fmt.Errorf("read staff: %w", err)
	}
	defer rows.Close()
	var out []reports.Employee
	hasPay := map[string]bool{}
	for rows.Next() {
		var e reports.Employee
		var pay sql.NullInt64
		if err := rows.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID, &pay); err != nil {
			return nil, nil, fmt.Errorf("read staff: %w", err)
		}
		if e.StoreID == "" {
			e.StoreID = noStore
		}
		e.BasePayMinor = pay.Int64
		hasPay[e.StaffID] = pay.Valid
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read staff: %w", err)
	}
	return out, hasPay, nil
}

// bonusVisits and bonusAnswers read the visits of a period that count
// toward bonuses, and their answers, in the same order: visit by visit
// (by time, then id), each visit's answers together, clustered on disk.
// Observations merges them, so that the visit's fields are read once per
// visit rather than once per answer.
var (
	bonusWhere   = ` WHERE r.visited_at >= ? AND r.visited_at < ? AND v.state IN ` + stateList(BonusStates)
	bonusVisits  = `SELECT r.visit_id, r.store_id, r.staff_id, r.visited_at` + reportVisitsFrom + bonusWhere + ` ORDER BY r.visited_at, r.visit_id`
	bonusAnswers = `SELECT a.visit_id, a.question_id, a.category, a.standard_code, a.points, a.max_points, a.critical_failure` +
		reportVisitsFrom + ` CROSS JOIN visit_answers a ON a.visit_id = r.visit_id` + bonusWhere + ` ORDER BY r.visited_at, r.visit_id, a.ord`
)

// Observations streams the scored answers of the period's visits that
// count toward bonuses (BonusStates) from streaming SELECTs in tx, as the
// bonus engine reads them: never more than a row of each in memory. A
// visit that names a staff member counts for him; one that names nobody
// is store-level. Strings repeated across rows (store, staff, question,
// category, clause) share one copy.
func Observations(ctx context.Context, tx *Tx, period reports.Period) iter.Seq2[reports.Observation, error] {
	return func(yield func(reports.Observation, error) bool) {
		fail := func(err error) { yield(reports.Observation{}, fmt.Errorf("read observations: %w", err)) }
		from, to := millis(period.From), millis(period.To)
		visits, err := tx.QueryContext(ctx, bonusVisits, from, to)
		if err != nil {
			fail(err)
			return
		}
		defer visits.Close()
		answers, err := tx.QueryContext(ctx, bonusAnswers, from, to)
		if err != nil {
			fail(err)
			return
		}
		defer answers.Close()
		var o reports.Observation
		var visitID, store, staff string
		// The answer's strings are read in place and interned: no copy per row.
		var answerVisit, question, category, clause sql.RawBytes
		var at int64
		names := interner{}
		staffIDs := map[string][]string{}
		for answers.Next() {
			if err := answers.Scan(&answerVisit, &question, &category, &clause, &o.Points, &o.MaxPoints, &o.CriticalFailed); err != nil {
				fail(err)
				return
			}
			if string(answerVisit) != o.VisitID {
				// The next visit: both queries list the same visits in the
				// same order.
				if !visits.Next() {
					fail(fmt.Errorf("answers of visit %s, which is not listed", answerVisit))
					return
				}
				if err := visits.Scan(&visitID, &store, &staff, &at); err != nil {
					fail(err)
					return
				}
				for visitID != string(answerVisit) {
					// A visit with no answer rows: skip it.
					if !visits.Next() {
						fail(fmt.Errorf("answers of visit %s, which is not listed", answerVisit))
						return
					}
					if err := visits.Scan(&visitID, &store, &staff, &at); err != nil {
						fail(err)
						return
					}
				}
				o.VisitID, o.VisitedAt, o.StoreID = visitID, time.UnixMilli(at).UTC(), names.str(store)
				o.StaffIDs = nil
				if staff != "" {
					id := names.str(staff)
					ids, ok := staffIDs[id]
					if !ok {
						ids = []string{id}
						staffIDs[id] = ids
					}
					o.StaffIDs = ids
				}
			}
			o.QuestionID, o.Category, o.Clause = names.get(question), names.get(category), names.get(clause)
			if !yield(o, nil) {
				return
			}
		}
		if err := answers.Err(); err != nil {
			fail(err)
			return
		}
		if err := visits.Err(); err != nil {
			fail(err)
		}
	}
}

// interner keeps one copy of each string of a small set (stores, staff,
// questions, categories): looking a []byte up does not allocate.
type interner map[string]string

func (in interner) str(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

var runSelect = `SELECT id, policy_id, policy_version, period, inputs_hash, inputs_stamp, state, result, missing_base_pay,
	COALESCE(compared_run_id, ''), diff, created_at, created_by, approved_at, COALESCE(approved_by, ''),
	` + userName("created_by") + `, ` + userName("approved_by") + ` FROM bonus_runs`

func scanRun(row scanner) (*BonusRun, error) {
	r := &BonusRun{}
	var state, missing string
	var diff []byte
	var created int64
	var approved sql.NullInt64
	if err := row.Scan(&r.ID, &r.PolicyID, &r.PolicyVersion, &r.Period, &r.InputsHash, &r.InputsStamp, &state, &r.Result, &missing,
		&r.ComparedRunID, &diff, &created, &r.CreatedBy, &approved, &r.ApprovedBy, &r.CreatedByName, &r.ApprovedByName); err != nil {
		return nil, err
	}
	r.State, r.CreatedAt, r.ApprovedAt = BonusRunState(state), fromMillis(created), fromNullMillis(approved)
	r.Run = &reports.Run{}
	if err := json.Unmarshal(r.Result, r.Run); err != nil {
		return nil, fmt.Errorf("run %s: decode result: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(missing), &r.MissingBasePay); err != nil {
		return nil, fmt.Errorf("run %s: decode missing base pay: %w", r.ID, err)
	}
	if err := json.Unmarshal(diff, &r.Changes); err != nil {
		return nil, fmt.Errorf("run %s: decode diff: %w", r.ID, err)
	}
	return r, nil
}

// FindBonusRun returns a stored run. Errors: ENOTFOUND.
func (db *DB) FindBonusRun(ctx context.Context, id string) (*BonusRun, error) {
	var r *BonusRun
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		r, err = findRun(ctx, tx, id)
		return err
	})
	return r, err
}

func findRun(ctx context.Context, tx *Tx, id string) (*BonusRun, error) {
	r, err := scanRun(tx.QueryRowContext(ctx, runSelect+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "bonus run %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find run: %w", err)
	}
	return r, nil
}

// BonusRunFilter selects bonus runs; empty fields match any.
type BonusRunFilter struct {
	PolicyID string
	Period   string // "YYYY-MM"
}

// ListBonusRuns returns the runs that match, newest first, at most 500.
// Errors: EINVALID (a malformed period).
func (db *DB) ListBonusRuns(ctx context.Context, f BonusRunFilter) ([]*BonusRun, error) {
	q, args := runSelect+` WHERE 1`, []any{}
	if f.PolicyID != "" {
		q += ` AND policy_id = ?`
		args = append(args, f.PolicyID)
	}
	if f.Period != "" {
		p, err := ParseMonth("period", f.Period)
		if err != nil {
			return nil, err
		}
		q += ` AND period = ?`
		args = append(args, monthKey(p))
	}
	return list(ctx, db, "list bonus runs", scanRun, q+` ORDER BY created_at DESC, id LIMIT 500`, args...)
}

// ApproveBonusRun approves a draft run, which locks it; an approved run of
// the same policy and month becomes superseded. Approving the approved run
// again is a no-op. Errors: ENOTFOUND, EPRECONDITION (the run is
// superseded, or an approved run of the same policy and month was
// approved after this run was computed: re-run to see the difference
// first).
func (db *DB) ApproveBonusRun(ctx context.Context, id, by string) (*BonusRun, error) {
	var out *BonusRun
	err := db.update(ctx, func(tx *Tx) error {
		r, err := findRun(ctx, tx, id)
		if err != nil {
			return err
		}
		switch r.State {
		case RunApproved:
			out = r
			return nil
		case RunSuperseded:
			return audit.Errorf(audit.EPRECONDITION, "bonus run %s was superseded by a later approved run", id)
		}
		if err := checkFresh(ctx, tx, r); err != nil {
			return err
		}
		var locked string
		err = tx.QueryRowContext(ctx, `SELECT id FROM bonus_runs WHERE policy_id = ? AND period = ? AND state = 'approved'`, r.PolicyID, r.Period).Scan(&locked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("find locked run: %w", err)
		case locked != r.ComparedRunID:
			return audit.Errorf(audit.EPRECONDITION, "bonus run %s was computed before run %s was approved for %s %s; run the policy again to see the difference first", id, locked, r.PolicyID, r.Period)
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE bonus_runs SET state = 'superseded' WHERE id = ?`, locked); err != nil {
				return fmt.Errorf("supersede run: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bonus_runs SET state = 'approved', approved_at = ?, approved_by = ? WHERE id = ?`,
			millis(tx.now), by, id); err != nil {
			return fmt.Errorf("approve run: %w", err)
		}
		out, err = findRun(ctx, tx, id)
		return err
	})
	return out, err
}

// checkFresh refuses a draft whose inputs changed since it was computed:
// the stamp of what it read (inputsStamp), taken again now, must be the
// one stored with it. A visit reopened and approved again, a visit
// approved or reopened since, any base pay written for the month, a staff
// member moved: each changes the stamp. Errors: EPRECONDITION.
func checkFresh(ctx context.Context, tx *Tx, r *BonusRun) error {
	pol, err := findPolicy(ctx, tx, r.PolicyID, r.PolicyVersion)
	if err != nil {
		return err
	}
	period, err := ParseMonth("period", r.Period)
	if err != nil {
		return err
	}
	now, err := inputsStamp(ctx, tx, pol.Policy.Base, period)
	if err != nil {
		return err
	}
	if now != r.InputsStamp {
		return audit.Errorf(audit.EPRECONDITION, "bonus run %s is out of date: visits, base pay or staff it read for %s %s changed after it was computed (%s); run the policy again and approve the new run",
			r.ID, r.PolicyID, r.Period, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
}

// PayrollEmployees returns the current display fields of the staff (store
// codes rather than ids) for the payroll workbook.
func (db *DB) PayrollEmployees(ctx context.Context) ([]reports.Employee, error) {
	return list(ctx, db, "list payroll employees", func(row scanner) (reports.Employee, error) {
		var e reports.Employee
		err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID)
		return e, err
	}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(st.code, '')
		FROM staff s LEFT JOIN stores st ON st.id = s.store_id ORDER BY s.id`)
}

// BasePayEntry is one employee's pay of a kind in force in a month: the
// latest row at or before it, or none.
type BasePayEntry struct {
	StaffID        string
	EmployeeNumber string
	Name           string
	Position       string
	Department     string
	StoreCode      string
	StoreName      string
	Kind           string
	// Set is false when the employee has no pay of the kind up to the
	// month; the other fields of the row are then empty.
	Set            bool
	AmountMinor    int64
	EffectiveMonth string // the month the amount was set from, "YYYY-MM"
	Source         string // a file name, "api"
	UpdatedAt      time.Time
	UpdatedBy      string // the user's name, for people
}

// ListBasePay returns every current member of staff (and any former one
// with pay of the kind up to the month) with the pay of the kind in force
// in month, by employee number. Errors: EINVALID (the month or kind).
func (db *DB) ListBasePay(ctx context.Context, month, kind string) ([]BasePayEntry, error) {
	m, err := ParseMonth("month", month)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = PayKindBase
	}
	if kind != PayKindBase && kind != PayKindTargetVariable {
		return nil, audit.Errorf(audit.EINVALID, "kind %q, want %q or %q", kind, PayKindBase, PayKindTargetVariable)
	}
	return list(ctx, db, "list base pay", func(row scanner) (BasePayEntry, error) {
		e := BasePayEntry{Kind: kind}
		var amount, at sql.NullInt64
		var from, source, by sql.NullString
		err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreCode, &e.StoreName,
			&amount, &from, &source, &at, &by)
		e.Set, e.AmountMinor, e.EffectiveMonth, e.Source, e.UpdatedBy = amount.Valid, amount.Int64, from.String, source.String, by.String
		e.UpdatedAt = fromNullMillis(at)
		return e, err
	}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(st.code, ''), COALESCE(st.name, ''),
		p.amount_minor, p.effective_month, p.source, p.updated_at, `+userName("p.updated_by")+`
		FROM staff s LEFT JOIN stores st ON st.id = s.store_id
		LEFT JOIN base_pay p ON p.staff_id = s.id AND p.kind = ?1 AND p.effective_month = (SELECT MAX(l.effective_month)
			FROM base_pay l WHERE l.staff_id = s.id AND l.kind = ?1 AND l.effective_month <= ?2)
		WHERE s.deactivated_at IS NULL OR p.staff_id IS NOT NULL
		ORDER BY s.employee_number, s.id`, kind, monthKey(m))
}
