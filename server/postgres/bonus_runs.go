package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// Bonus runs on PostgreSQL (storage.BonusRuns): what they store and read.
// Staleness and approval are package app's rules.

// states returns states as the text[] a query compares v.state with.
func states(s []audit.VisitState) []string {
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = string(st)
	}
	return out
}

// periodVisits starts every query of the visits of a period in some
// states (bonus runs, the audit workbook): report_visits r, in the period
// [$1, $2), joined to its visit v, in one of the states $3; visitOrder is
// their order, SQLite's (the id in byte order), which the time index of
// report_visits gives (migration 0009). The queries that stream run as
// cursors (stream), for which the planner chooses a plan that returns its
// first rows at once: the month read from the time index, each visit's
// rows looked up by key, in order, rather than every month's visits or
// answers hashed and the month sorted (plan_test.go holds this), so that
// the first row's time and the memory follow the month asked, never the
// history (issue 14).
const (
	periodVisits = ` FROM report_visits r JOIN visits v ON v.id = r.visit_id`
	periodWhere  = ` WHERE r.visited_at >= $1 AND r.visited_at < $2 AND v.state = ANY($3)`
	visitOrder   = ` ORDER BY r.visited_at, r.visit_id COLLATE "C"`
)

// Employees returns the staff as the bonus engine sees them, with the pay
// of the given kind in force in month, and which of them have such pay
// (storage.BonusRuns).
func (r bonusRunRows) Employees(ctx context.Context, kind, month string) ([]reports.Employee, map[string]bool, error) {
	hasPay := map[string]bool{}
	out, err := selectAll(ctx, r.rows, "read staff", func(row pgx.Row) (reports.Employee, error) {
		var e reports.Employee
		var pay *int64
		if err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID, &pay); err != nil {
			return e, err
		}
		if e.StoreID == "" {
			e.StoreID = storage.NoStore
		}
		if pay != nil {
			e.BasePayMinor = *pay
		}
		hasPay[e.StaffID] = pay != nil
		return e, nil
	}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(s.store_id, ''),
		(SELECT amount_minor FROM base_pay p WHERE p.staff_id = s.id AND p.kind = $1 AND p.effective_month COLLATE "C" <= $2
			ORDER BY p.effective_month COLLATE "C" DESC LIMIT 1)
		FROM staff s ORDER BY s.id COLLATE "C"`, kind, month)
	if err != nil {
		return nil, nil, err
	}
	return out, hasPay, nil
}

// stampVisits lists the visits a run counts with their revisions, for its
// stamp.
const stampVisits = `SELECT r.visit_id, v.revision::text` + periodVisits + periodWhere + visitOrder

// InputsStamp returns the stamp of what a run reads (storage.BonusRuns):
// the same text hashed as on SQLite, so that the same rows at the same
// revisions give the same stamp on either backend.
func (r bonusRunRows) InputsStamp(ctx context.Context, kind string, period reports.Period) (string, error) {
	return query(ctx, r.rows, func(tx *Tx) (string, error) {
		h := sha256.New()
		for _, q := range []struct {
			what, query string
			args        []any
		}{
			{"visits", stampVisits,
				[]any{ms(period.From), ms(period.To), states(audit.BonusStates)}},
			{"base pay", `SELECT staff_id || ':' || effective_month, revision::text FROM base_pay
				WHERE kind = $1 AND effective_month COLLATE "C" <= $2 ORDER BY staff_id COLLATE "C", effective_month COLLATE "C"`,
				[]any{kind, period.Key()}},
			{"staff", `SELECT id, employee_number || ':' || name || ':' || position || ':' || department || ':' || COALESCE(store_id, '')
				FROM staff ORDER BY id COLLATE "C"`, nil},
		} {
			fmt.Fprintf(h, "%s\n", q.what)
			err := stream(ctx, tx, "stamp "+q.what, q.query, q.args, func(rows pgx.Rows) error {
				v := rows.RawValues()
				fmt.Fprintf(h, "%d:%s=%s\n", len(v[0]), v[0], v[1])
				return nil
			})
			if err != nil {
				return "", err
			}
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	})
}

// bonusAnswers reads the scored answers of the visits of a period that
// count toward bonuses, visit by visit (by time, then id), each visit's
// answers together in checklist order. The visit's fields repeat on each
// of its answers' rows, one cursor, where SQLite merges two queries: a
// connection answers one query at a time, so two cursors would have to
// copy each batch out before FETCHing the other's.
var bonusAnswers = `SELECT r.visit_id, r.store_id, r.staff_id, r.visited_at, a.question_id, a.category, a.standard_code,
	a.points, a.max_points, a.critical_failure` + periodVisits + answersJoin + periodWhere + visitOrder + `, a.ord`

// answersJoin joins a visit's answers (visit_answers a) in a query over
// periodVisits.
const answersJoin = ` JOIN visit_answers a ON a.visit_id = r.visit_id`

// Observations streams the scored answers of the period's visits that
// count toward bonuses, as the bonus engine reads them: from a cursor, a
// batch of rows at a time (stream), never the whole result, and
// strings repeated across rows (store, staff, question, category,
// clause) share one copy (storage.BonusRuns).
func (r bonusRunRows) Observations(ctx context.Context, period reports.Period) iter.Seq2[reports.Observation, error] {
	return func(yield func(reports.Observation, error) bool) {
		stopped := false
		err := r.read(ctx, func(tx *Tx) error {
			var o reports.Observation
			names := interner{}
			staffIDs := map[string][]string{}
			return stream(ctx, tx, "read observations", bonusAnswers, []any{ms(period.From), ms(period.To), states(audit.BonusStates)}, func(rows pgx.Rows) error {
				v := rows.RawValues()
				if string(v[0]) != o.VisitID {
					o.VisitID = string(v[0])
					if err := rows.Scan(nil, nil, nil, &o.VisitedAt, nil, nil, nil, &o.Points, &o.MaxPoints, &o.CriticalFailed); err != nil {
						return err
					}
					o.StoreID, o.StaffIDs = names.get(v[1]), nil
					if len(v[2]) > 0 {
						id := names.get(v[2])
						ids, ok := staffIDs[id]
						if !ok {
							ids = []string{id}
							staffIDs[id] = ids
						}
						o.StaffIDs = ids
					}
				} else if err := rows.Scan(nil, nil, nil, nil, nil, nil, nil, &o.Points, &o.MaxPoints, &o.CriticalFailed); err != nil {
					return err
				}
				o.QuestionID, o.Category, o.Clause = names.get(v[4]), names.get(v[5]), names.get(v[6])
				if !yield(o, nil) {
					stopped = true
					return errStop
				}
				return nil
			})
		})
		if err != nil && !stopped {
			yield(reports.Observation{}, err)
		}
	}
}

// interner keeps one copy of each string of a small set (stores, staff,
// questions, categories): looking a []byte up does not allocate.
type interner map[string]string

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
	override_reason, overridden_appeals, ` + userName("created_by") + `, ` + userName("approved_by") + ` FROM bonus_runs`

func scanRun(row pgx.Row) (*storage.BonusRun, error) {
	r := &storage.BonusRun{}
	var state string
	var missing, diff, overridden []byte
	var approved *time.Time
	if err := row.Scan(&r.ID, &r.PolicyID, &r.PolicyVersion, &r.Period, &r.InputsHash, &r.InputsStamp, &state, &r.Result, &missing,
		&r.ComparedRunID, &diff, &r.CreatedAt, &r.CreatedBy, &approved, &r.ApprovedBy, &r.OverrideReason, &overridden,
		&r.CreatedByName, &r.ApprovedByName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(overridden, &r.OverriddenAppeals); err != nil {
		return nil, fmt.Errorf("run %s: decode overridden appeals: %w", r.ID, err)
	}
	r.State, r.ApprovedAt = storage.BonusRunState(state), timeOf(approved)
	r.Run = &reports.Run{}
	if err := json.Unmarshal(r.Result, r.Run); err != nil {
		return nil, fmt.Errorf("run %s: decode result: %w", r.ID, err)
	}
	if err := json.Unmarshal(missing, &r.MissingBasePay); err != nil {
		return nil, fmt.Errorf("run %s: decode missing base pay: %w", r.ID, err)
	}
	if err := json.Unmarshal(diff, &r.Changes); err != nil {
		return nil, fmt.Errorf("run %s: decode diff: %w", r.ID, err)
	}
	return r, nil
}

// Find returns a stored run (storage.BonusRuns). Errors: ENOTFOUND.
func (r bonusRunRows) Find(ctx context.Context, id string) (*storage.BonusRun, error) {
	return selectOne(ctx, r.rows, "find run", fmt.Sprintf("bonus run %q not found", id), scanRun, runSelect+` WHERE id = $1`, id)
}

// List returns the runs that match, newest first, at most 500
// (storage.BonusRuns).
func (r bonusRunRows) List(ctx context.Context, f storage.BonusRunFilter) ([]*storage.BonusRun, error) {
	var a args
	q := runSelect + ` WHERE true`
	if f.PolicyID != "" {
		q += ` AND policy_id = ` + a.add(f.PolicyID)
	}
	if f.Period != "" {
		q += ` AND period = ` + a.add(f.Period)
	}
	return selectAll(ctx, r.rows, "list bonus runs", scanRun, q+` ORDER BY created_at DESC, id COLLATE "C" LIMIT 500`, a...)
}

// Approved returns the approved run of a policy and month, or nil
// (storage.BonusRuns).
func (r bonusRunRows) Approved(ctx context.Context, policyID, period string) (*storage.BonusRun, error) {
	out, err := selectAll(ctx, r.rows, "find locked run", scanRun,
		runSelect+` WHERE policy_id = $1 AND period = $2 AND state = 'approved'`, policyID, period)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// Same returns the runs of run's policy version and month, not
// superseded, with its inputs hash and stamp, newest first
// (storage.BonusRuns).
func (r bonusRunRows) Same(ctx context.Context, run *storage.BonusRun) ([]*storage.BonusRun, error) {
	return selectAll(ctx, r.rows, "find an equal run", scanRun, runSelect+` WHERE policy_id = $1 AND period = $2 AND policy_version = $3
		AND inputs_hash = $4 AND inputs_stamp = $5 AND state <> 'superseded' ORDER BY created_at DESC, id COLLATE "C"`,
		run.PolicyID, run.Period, run.PolicyVersion, run.InputsHash, run.InputsStamp)
}

// Add stores a run as created at the transaction's time
// (storage.BonusRuns). Two servers storing the same run at once conflict
// over Same's read (serializable): one runs again and reuses the other's.
func (r bonusRunRows) Add(ctx context.Context, run *storage.BonusRun) error {
	missing, err := json.Marshal(run.MissingBasePay)
	if err != nil {
		return fmt.Errorf("encode missing base pay: %w", err)
	}
	diff, err := json.Marshal(run.Changes)
	if err != nil {
		return fmt.Errorf("encode diff: %w", err)
	}
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO bonus_runs (id, policy_id, policy_version, period, inputs_hash, inputs_stamp, result,
			missing_base_pay, compared_run_id, diff, state, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			run.ID, run.PolicyID, run.PolicyVersion, run.Period, run.InputsHash, run.InputsStamp, run.Result, missing,
			nullString(run.ComparedRunID), diff, string(run.State), tx.now, run.CreatedBy); err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		run.CreatedAt = tx.now
		return nil
	})
}

// Approve marks a run approved by by at the transaction's time
// (storage.BonusRuns). No lock: two servers approving two runs of one
// policy and month at once both read the month's approved run (none) and
// write theirs, which serializable isolation refuses to one of them; it
// runs again and sees the other's approval, as it would have one after
// the other (the unique index bonus_runs_one_approved backs it).
func (r bonusRunRows) Approve(ctx context.Context, id, by, overrideReason string, overridden []string) error {
	return r.write(ctx, func(tx *Tx) error {
		if overridden == nil {
			overridden = []string{}
		}
		ids, err := json.Marshal(overridden)
		if err != nil {
			return fmt.Errorf("encode overridden appeals: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE bonus_runs SET state = 'approved', approved_at = $1, approved_by = $2,
			override_reason = $3, overridden_appeals = $4::jsonb WHERE id = $5`, tx.now, by, overrideReason, string(ids), id); err != nil {
			return fmt.Errorf("approve run: %w", err)
		}
		return nil
	})
}

// Supersede marks a run superseded (storage.BonusRuns).
func (r bonusRunRows) Supersede(ctx context.Context, id string) error {
	_, err := exec(ctx, r.rows, "supersede run", `UPDATE bonus_runs SET state = 'superseded' WHERE id = $1`, id)
	return err
}

// PayrollEmployees returns the staff's current display fields, their
// stores by code (storage.BonusRuns).
func (r bonusRunRows) PayrollEmployees(ctx context.Context) ([]reports.Employee, error) {
	return selectAll(ctx, r.rows, "list payroll employees", func(row pgx.Row) (reports.Employee, error) {
		var e reports.Employee
		err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID)
		return e, err
	}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(st.code, '')
		FROM staff s LEFT JOIN stores st ON st.id = s.store_id ORDER BY s.id COLLATE "C"`)
}

// Names reads the names of what a run's explanation lines refer to: every
// store by code and name, and the question texts of each visit the lines
// name, from the checklist version it was recorded with
// (storage.BonusRuns).
func (r bonusRunRows) Names(ctx context.Context, run *reports.Run) (*storage.RunNames, error) {
	var ids []string
	seen := map[string]bool{}
	for _, e := range run.Employees {
		for _, c := range e.Components {
			for _, l := range c.Lines {
				if l.VisitID != "" && !seen[l.VisitID] {
					seen[l.VisitID] = true
					ids = append(ids, l.VisitID)
				}
			}
		}
	}
	out := &storage.RunNames{Stores: map[string]reports.StoreName{}}
	err := r.read(ctx, func(tx *Tx) error {
		err := each(ctx, tx, "read stores", `SELECT id, code, name FROM stores`, nil, func(rows pgx.Rows) error {
			var id string
			var n reports.StoreName
			if err := rows.Scan(&id, &n.Code, &n.Name); err != nil {
				return err
			}
			out.Stores[id] = n
			return nil
		})
		if err != nil {
			return err
		}
		byVisit := map[string]versionKey{}
		err = each(ctx, tx, "read the visits of the run", `SELECT id, checklist_id, checklist_version FROM visits WHERE id = ANY($1)`, []any{ids}, func(rows pgx.Rows) error {
			var id string
			var k versionKey
			if err := rows.Scan(&id, &k.checklist, &k.version); err != nil {
				return err
			}
			byVisit[id] = k
			return nil
		})
		if err != nil {
			return err
		}
		texts, err := readWorkbookTexts(ctx, tx, `SELECT DISTINCT checklist_id, checklist_version FROM visits WHERE id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		for _, k := range byVisit {
			if texts[k] == nil {
				return versionNotFound(k)
			}
		}
		out.QuestionText = func(visitID, questionID string) string {
			if k, ok := byVisit[visitID]; ok {
				return texts[k].questions[questionID]
			}
			return ""
		}
		return nil
	})
	return out, err
}
