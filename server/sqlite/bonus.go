package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// Bonus policies, base pay and bonus runs on SQLite (storage.BonusPolicies,
// storage.BasePay, storage.BonusRuns): what they store and read. The rules
// (validation, numbering, staleness, approval) are package app's.

// userName is the SQL expression of the name of the user whose id is in
// column col, for people: the display name, else the e-mail, else the id
// itself ("cli", "demo" for older rows).
func userName(col string) string {
	return `COALESCE((SELECT COALESCE(NULLIF(u.display_name, ''), u.email) FROM users u WHERE u.id = ` + col + `), ` + col + `, '')`
}

var policySelect = `SELECT body, created_at, created_by, ` + userName("created_by") + ` FROM bonus_policies`

func scanPolicy(row scanner) (*storage.BonusPolicy, error) {
	var body []byte
	var created int64
	p := &storage.BonusPolicy{}
	if err := row.Scan(&body, &created, &p.CreatedBy, &p.CreatedByName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &p.Policy); err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// Find returns a version of a policy, or its latest when version is 0
// (storage.BonusPolicies).
func (r bonusPolicyRows) Find(ctx context.Context, id string, version int) (*storage.BonusPolicy, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.BonusPolicy, error) {
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
	})
}

// Versions returns the version numbers of a policy, oldest first
// (storage.BonusPolicies).
func (r bonusPolicyRows) Versions(ctx context.Context, id string) ([]int, error) {
	out, err := get(ctx, r.rows, func(tx *Tx) ([]int, error) {
		return queryAll(ctx, tx, func(row scanner) (int, error) {
			var v int
			err := row.Scan(&v)
			return v, err
		}, `SELECT version FROM bonus_policies WHERE id = ? ORDER BY version`, id)
	})
	if err == nil && len(out) == 0 {
		err = audit.Errorf(audit.ENOTFOUND, "bonus policy %q not found", id)
	}
	return out, err
}

// List returns the stored policies (storage.BonusPolicies).
func (r bonusPolicyRows) List(ctx context.Context, latestOnly bool) ([]*storage.BonusPolicy, error) {
	q := policySelect + ` p`
	if latestOnly {
		q += ` WHERE version = (SELECT MAX(version) FROM bonus_policies l WHERE l.id = p.id)`
	}
	out, err := get(ctx, r.rows, func(tx *Tx) ([]*storage.BonusPolicy, error) {
		return queryAll(ctx, tx, scanPolicy, q+` ORDER BY id, version`)
	})
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return out, nil
}

// Add stores a policy version (storage.BonusPolicies).
func (r bonusPolicyRows) Add(ctx context.Context, p reports.Policy, by string) (*storage.BonusPolicy, error) {
	return put(ctx, r.rows, func(tx *Tx) (*storage.BonusPolicy, error) {
		body, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bonus_policies (id, version, name, body, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, p.Version, p.Name, body, millis(tx.now), by); err != nil {
			return nil, fmt.Errorf("insert policy: %w", err)
		}
		return &storage.BonusPolicy{Policy: p, CreatedAt: tx.now, CreatedBy: by}, nil
	})
}

// StoreID returns the id of the store with the id or code ref, or ""
// (storage.BonusPolicies).
func (r bonusPolicyRows) StoreID(ctx context.Context, ref string) (string, error) {
	return get(ctx, r.rows, func(tx *Tx) (string, error) {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM stores WHERE id = ? OR code = ?`, ref, ref).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		} else if err != nil {
			return "", fmt.Errorf("find policy store: %w", err)
		}
		return id, nil
	})
}

// Set stores one employee's pay from a month on (storage.BasePay).
func (r basePayRows) Set(ctx context.Context, row storage.BasePayRow, source, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		var staffID string
		err := tx.QueryRowContext(ctx, `SELECT id FROM staff WHERE employee_number = ?`, row.EmployeeNumber).Scan(&staffID)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no staff with employee number %s", row.EmployeeNumber)
		} else if err != nil {
			return fmt.Errorf("find staff: %w", err)
		}
		// Every write takes the next revision of the table, which a bonus
		// run's stamp reads (InputsStamp).
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO base_pay (staff_id, kind, effective_month, amount_minor, source, updated_at, updated_by, revision)
			VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(revision), 0) + 1 FROM base_pay))`, staffID, row.Kind, row.EffectiveMonth, row.AmountMinor, source, millis(tx.now), by); err != nil {
			return fmt.Errorf("store base pay: %w", err)
		}
		return nil
	})
}

// EmployeeNumbers returns the current staff's employee numbers
// (storage.BasePay).
func (r basePayRows) EmployeeNumbers(ctx context.Context) ([]string, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]string, error) {
		out, err := queryAll(ctx, tx, scanString, `SELECT employee_number FROM staff WHERE deactivated_at IS NULL`)
		if err != nil {
			return nil, fmt.Errorf("list employee numbers: %w", err)
		}
		return out, nil
	})
}

// List returns the pay of a kind in force in a month (storage.BasePay).
func (r basePayRows) List(ctx context.Context, month, kind string) ([]storage.BasePayEntry, error) {
	out, err := get(ctx, r.rows, func(tx *Tx) ([]storage.BasePayEntry, error) {
		return queryAll(ctx, tx, func(row scanner) (storage.BasePayEntry, error) {
			e := storage.BasePayEntry{Kind: kind}
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
			ORDER BY s.employee_number, s.id`, kind, month)
	})
	if err != nil {
		return nil, fmt.Errorf("list base pay: %w", err)
	}
	return out, nil
}

// Employees returns the staff as the bonus engine sees them, with the pay
// of the given kind in force in month (storage.BonusRuns).
func (r bonusRunRows) Employees(ctx context.Context, kind, month string) ([]reports.Employee, map[string]bool, error) {
	var out []reports.Employee
	hasPay := map[string]bool{}
	err := r.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(s.store_id, ''),
			(SELECT amount_minor FROM base_pay p WHERE p.staff_id = s.id AND p.kind = ? AND p.effective_month <= ?
				ORDER BY p.effective_month DESC LIMIT 1)
			FROM staff s ORDER BY s.id`, kind, month)
		if err != nil {
			return fmt.Errorf("read staff: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e reports.Employee
			var pay sql.NullInt64
			if err := rows.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID, &pay); err != nil {
				return fmt.Errorf("read staff: %w", err)
			}
			if e.StoreID == "" {
				e.StoreID = storage.NoStore
			}
			e.BasePayMinor = pay.Int64
			hasPay[e.StaffID] = pay.Valid
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read staff: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, hasPay, nil
}

// InputsStamp returns the stamp of what a run reads (storage.BonusRuns).
func (r bonusRunRows) InputsStamp(ctx context.Context, kind string, period reports.Period) (string, error) {
	return get(ctx, r.rows, func(tx *Tx) (string, error) { return inputsStamp(ctx, tx, kind, period) })
}

func inputsStamp(ctx context.Context, tx *Tx, kind string, period reports.Period) (string, error) {
	h := sha256.New()
	for _, q := range []struct {
		what, query string
		args        []any
	}{
		{"visits", `SELECT r.visit_id, v.revision` + reportVisitsFrom + bonusWhere + ` ORDER BY r.visited_at, r.visit_id`,
			[]any{millis(period.From), millis(period.To)}},
		{"base pay", `SELECT staff_id || ':' || effective_month, revision FROM base_pay WHERE kind = ? AND effective_month <= ?
			ORDER BY staff_id, effective_month`, []any{kind, period.Key()}},
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

// bonusVisits and bonusAnswers read the visits of a period that count
// toward bonuses, and their answers, in the same order: visit by visit
// (by time, then id), each visit's answers together, clustered on disk.
// Observations merges them, so that the visit's fields are read once per
// visit rather than once per answer (one query with the visit's columns on
// every answer row measured slower: BENCHMARKS.md, W3). A visit's answers
// are not ordered: a run does not depend on their order (reports.Compute),
// and asking for it made SQLite sort each visit's answers in a temporary
// B-tree.
var (
	bonusWhere   = ` WHERE r.visited_at >= ? AND r.visited_at < ? AND v.state IN ` + stateList(audit.BonusStates)
	bonusVisits  = `SELECT r.visit_id, r.store_id, r.staff_id, r.visited_at` + reportVisitsFrom + bonusWhere + ` ORDER BY r.visited_at, r.visit_id`
	bonusAnswers = `SELECT r.visit_id, a.question_id, a.category, a.standard_code, a.points, a.max_points, a.critical_failure` +
		reportVisitsFrom + ` CROSS JOIN visit_answers a ON a.visit_no = r.no` + bonusWhere + ` ORDER BY r.visited_at, r.visit_id`
)

// Observations streams the scored answers of the period's visits that
// count toward bonuses (audit.BonusStates) from streaming SELECTs, as the bonus
// engine reads them: never more than a row of each in memory
// (storage.BonusRuns). Strings repeated across rows (store, staff,
// question, category, clause) share one copy.
func (r bonusRunRows) Observations(ctx context.Context, period reports.Period) iter.Seq2[reports.Observation, error] {
	return func(yield func(reports.Observation, error) bool) {
		err := r.read(ctx, func(tx *Tx) error {
			observations(ctx, tx, period)(func(o reports.Observation, err error) bool {
				if !yield(o, err) {
					return false
				}
				return err == nil
			})
			return nil
		})
		if err != nil {
			yield(reports.Observation{}, err)
		}
	}
}

func observations(ctx context.Context, tx *Tx, period reports.Period) iter.Seq2[reports.Observation, error] {
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
	override_reason, overridden_appeals, ` + userName("created_by") + `, ` + userName("approved_by") + ` FROM bonus_runs`

func scanRun(row scanner) (*storage.BonusRun, error) {
	r := &storage.BonusRun{}
	var state, missing, overridden string
	var diff []byte
	var created int64
	var approved sql.NullInt64
	if err := row.Scan(&r.ID, &r.PolicyID, &r.PolicyVersion, &r.Period, &r.InputsHash, &r.InputsStamp, &state, &r.Result, &missing,
		&r.ComparedRunID, &diff, &created, &r.CreatedBy, &approved, &r.ApprovedBy, &r.OverrideReason, &overridden,
		&r.CreatedByName, &r.ApprovedByName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(overridden), &r.OverriddenAppeals); err != nil {
		return nil, fmt.Errorf("run %s: decode overridden appeals: %w", r.ID, err)
	}
	r.State, r.CreatedAt, r.ApprovedAt = storage.BonusRunState(state), fromMillis(created), fromNullMillis(approved)
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

// Find returns a stored run (storage.BonusRuns).
func (r bonusRunRows) Find(ctx context.Context, id string) (*storage.BonusRun, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.BonusRun, error) {
		run, err := scanRun(tx.QueryRowContext(ctx, runSelect+` WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "bonus run %q not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find run: %w", err)
		}
		return run, nil
	})
}

// List returns the runs that match, newest first, at most 500
// (storage.BonusRuns).
func (r bonusRunRows) List(ctx context.Context, f storage.BonusRunFilter) ([]*storage.BonusRun, error) {
	q, args := runSelect+` WHERE 1`, []any{}
	if f.PolicyID != "" {
		q += ` AND policy_id = ?`
		args = append(args, f.PolicyID)
	}
	if f.Period != "" {
		q += ` AND period = ?`
		args = append(args, f.Period)
	}
	out, err := get(ctx, r.rows, func(tx *Tx) ([]*storage.BonusRun, error) {
		return queryAll(ctx, tx, scanRun, q+` ORDER BY created_at DESC, rowid DESC LIMIT 500`, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("list bonus runs: %w", err)
	}
	return out, nil
}

// Approved returns the approved run of a policy and month, or nil
// (storage.BonusRuns).
func (r bonusRunRows) Approved(ctx context.Context, policyID, period string) (*storage.BonusRun, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.BonusRun, error) {
		run, err := scanRun(tx.QueryRowContext(ctx, runSelect+` WHERE policy_id = ? AND period = ? AND state = 'approved'`, policyID, period))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("find locked run: %w", err)
		}
		return run, nil
	})
}

// Same returns the stored runs with r's inputs (storage.BonusRuns).
func (r bonusRunRows) Same(ctx context.Context, run *storage.BonusRun) ([]*storage.BonusRun, error) {
	out, err := get(ctx, r.rows, func(tx *Tx) ([]*storage.BonusRun, error) {
		return queryAll(ctx, tx, scanRun, runSelect+` WHERE policy_id = ? AND period = ? AND policy_version = ? AND inputs_hash = ?
			AND inputs_stamp = ? AND state <> 'superseded' ORDER BY created_at DESC, rowid DESC`,
			run.PolicyID, run.Period, run.PolicyVersion, run.InputsHash, run.InputsStamp)
	})
	if err != nil {
		return nil, fmt.Errorf("find an equal run: %w", err)
	}
	return out, nil
}

// Add stores a run (storage.BonusRuns).
func (r bonusRunRows) Add(ctx context.Context, run *storage.BonusRun) error {
	return r.write(ctx, func(tx *Tx) error {
		missingJSON, err := json.Marshal(run.MissingBasePay)
		if err != nil {
			return fmt.Errorf("encode missing base pay: %w", err)
		}
		diffJSON, err := json.Marshal(run.Changes)
		if err != nil {
			return fmt.Errorf("encode diff: %w", err)
		}
		run.CreatedAt = tx.now
		_, err = tx.ExecContext(ctx, `INSERT INTO bonus_runs (id, policy_id, policy_version, period, inputs_hash, inputs_stamp, result,
			missing_base_pay, compared_run_id, diff, state, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.ID, run.PolicyID, run.PolicyVersion, run.Period, run.InputsHash, run.InputsStamp, run.Result, string(missingJSON),
			nullString(run.ComparedRunID), diffJSON, string(run.State), millis(tx.now), run.CreatedBy)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		return nil
	})
}

// Approve marks a run approved (storage.BonusRuns).
func (r bonusRunRows) Approve(ctx context.Context, id, by, overrideReason string, overridden []string) error {
	return r.write(ctx, func(tx *Tx) error {
		if overridden == nil {
			overridden = []string{}
		}
		ids, err := json.Marshal(overridden)
		if err != nil {
			return fmt.Errorf("encode overridden appeals: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bonus_runs SET state = 'approved', approved_at = ?, approved_by = ?,
			override_reason = ?, overridden_appeals = ? WHERE id = ?`, millis(tx.now), by, overrideReason, string(ids), id); err != nil {
			return fmt.Errorf("approve run: %w", err)
		}
		return nil
	})
}

// Supersede marks a run superseded (storage.BonusRuns).
func (r bonusRunRows) Supersede(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE bonus_runs SET state = 'superseded' WHERE id = ?`, id); err != nil {
			return fmt.Errorf("supersede run: %w", err)
		}
		return nil
	})
}

// PayrollEmployees returns the staff's current display fields
// (storage.BonusRuns).
func (r bonusRunRows) PayrollEmployees(ctx context.Context) ([]reports.Employee, error) {
	out, err := get(ctx, r.rows, func(tx *Tx) ([]reports.Employee, error) {
		return queryAll(ctx, tx, func(row scanner) (reports.Employee, error) {
			var e reports.Employee
			err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreID)
			return e, err
		}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(st.code, '')
			FROM staff s LEFT JOIN stores st ON st.id = s.store_id ORDER BY s.id`)
	})
	if err != nil {
		return nil, fmt.Errorf("list payroll employees: %w", err)
	}
	return out, nil
}
