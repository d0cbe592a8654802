package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Base pay on PostgreSQL (storage.BasePay). Months are "YYYY-MM" text,
// compared in byte order (COLLATE "C"), as SQLite compares them.

// Set stores one employee's pay of a kind from a month on, replacing the
// row of the same month (storage.BasePay). Errors: ENOTFOUND (no staff
// with the employee number).
func (r basePayRows) Set(ctx context.Context, row storage.BasePayRow, source, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		var staffID string
		err := tx.QueryRow(ctx, `SELECT id FROM staff WHERE employee_number = $1`, row.EmployeeNumber).Scan(&staffID)
		if errors.Is(err, pgx.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no staff with employee number %s", row.EmployeeNumber)
		} else if err != nil {
			return fmt.Errorf("find staff: %w", err)
		}
		// Every write takes the next revision of the table, which a bonus
		// run's stamp reads (InputsStamp). The revisions come from a
		// sequence (migration 0009), not from the table's largest one, so
		// that two servers writing base pay at once neither take the same
		// number nor conflict over reading the whole table: the stamp only
		// needs a rewritten row to get a number it never had.
		if _, err := tx.Exec(ctx, `INSERT INTO base_pay (staff_id, kind, effective_month, amount_minor, source, updated_at, updated_by, revision)
			VALUES ($1, $2, $3, $4, $5, $6, $7, nextval('base_pay_revision'))
			ON CONFLICT (staff_id, kind, effective_month) DO UPDATE SET amount_minor = excluded.amount_minor, source = excluded.source,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by, revision = excluded.revision`,
			staffID, row.Kind, row.EffectiveMonth, row.AmountMinor, source, tx.now, by); err != nil {
			return fmt.Errorf("store base pay: %w", err)
		}
		return nil
	})
}

// EmployeeNumbers returns the current staff's employee numbers
// (storage.BasePay).
func (r basePayRows) EmployeeNumbers(ctx context.Context) ([]string, error) {
	return selectAll(ctx, r.rows, "list employee numbers", scanString,
		`SELECT employee_number FROM staff WHERE deactivated_at IS NULL ORDER BY employee_number COLLATE "C"`)
}

// List returns every current member of staff, and any former one with
// pay of the kind up to month, with the pay of the kind in force in month,
// by employee number (storage.BasePay).
func (r basePayRows) List(ctx context.Context, month, kind string) ([]storage.BasePayEntry, error) {
	return selectAll(ctx, r.rows, "list base pay", func(row pgx.Row) (storage.BasePayEntry, error) {
		e := storage.BasePayEntry{Kind: kind}
		var amount *int64
		var from, source, by *string
		var at *time.Time
		err := row.Scan(&e.StaffID, &e.EmployeeNumber, &e.Name, &e.Position, &e.Department, &e.StoreCode, &e.StoreName,
			&amount, &from, &source, &at, &by)
		if amount != nil {
			e.Set, e.AmountMinor = true, *amount
		}
		e.EffectiveMonth, e.Source, e.UpdatedBy, e.UpdatedAt = deref(from), deref(source), deref(by), timeOf(at)
		return e, err
	}, `SELECT s.id, s.employee_number, s.name, s.position, s.department, COALESCE(st.code, ''), COALESCE(st.name, ''),
			p.amount_minor, p.effective_month, p.source, p.updated_at, `+userName("p.updated_by")+`
		FROM staff s LEFT JOIN stores st ON st.id = s.store_id
		LEFT JOIN base_pay p ON p.staff_id = s.id AND p.kind = $1 AND p.effective_month = (SELECT MAX(l.effective_month COLLATE "C")
			FROM base_pay l WHERE l.staff_id = s.id AND l.kind = $1 AND l.effective_month COLLATE "C" <= $2)
		WHERE s.deactivated_at IS NULL OR p.staff_id IS NOT NULL
		ORDER BY s.employee_number COLLATE "C", s.id COLLATE "C"`, kind, month)
}
