package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// MaxBasePayBytes bounds an imported base pay file.
const MaxBasePayBytes = 8 << 20

// month reads a month written "YYYY-MM" (UTC) as its period. Errors:
// EINVALID, naming field.
func month(field, s string) (reports.Period, error) {
	t, err := audit.ParseMonth(field, s, nil)
	if err != nil {
		return reports.Period{}, err
	}
	return reports.Month(t), nil
}

// payKind checks a kind of pay; empty is base pay. Errors: EINVALID.
func payKind(kind string) (string, error) {
	switch kind {
	case "":
		return storage.PayKindBase, nil
	case storage.PayKindBase, storage.PayKindTargetVariable:
		return kind, nil
	}
	return "", audit.Errorf(audit.EINVALID, "kind %q, want %q or %q", kind, storage.PayKindBase, storage.PayKindTargetVariable)
}

// SetBasePay stores the rows, all or nothing, replacing any amount of the
// same employee, kind and month; source says where they came from (a file
// name, "api"). Errors: EINVALID (listing every row with an unknown
// employee number, an unknown kind, a bad month or a negative amount).
func (a *App) SetBasePay(ctx context.Context, rows []storage.BasePayRow, source, by string) error {
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
			r.Kind = storage.PayKindBase
		}
		switch {
		case r.EmployeeNumber == "":
			problems = append(problems, fmt.Sprintf("row %d: employee number is empty", r.Row))
		case r.Kind != storage.PayKindBase && r.Kind != storage.PayKindTargetVariable:
			problems = append(problems, fmt.Sprintf("row %d (employee %s): kind %q, want %q or %q", r.Row, r.EmployeeNumber, r.Kind, storage.PayKindBase, storage.PayKindTargetVariable))
		case r.AmountMinor < 0:
			problems = append(problems, fmt.Sprintf("row %d (employee %s): amount %d is negative", r.Row, r.EmployeeNumber, r.AmountMinor))
		}
		if m, err := month("effective month", r.EffectiveMonth); err != nil {
			problems = append(problems, fmt.Sprintf("row %d (employee %s): %s", r.Row, r.EmployeeNumber, audit.ErrorMessage(err)))
		} else {
			r.EffectiveMonth = m.Key()
		}
	}
	if len(problems) > 0 {
		return audit.Errorf(audit.EINVALID, "base pay: %s", strings.Join(problems, "; "))
	}
	return a.st.Update(ctx, func(tx storage.Tx) error {
		var unknown []string
		for _, r := range rows {
			err := tx.BasePay().Set(ctx, r, source, by)
			if audit.ErrorCode(err) == audit.ENOTFOUND {
				unknown = append(unknown, fmt.Sprintf("row %d: %s", r.Row, r.EmployeeNumber))
			} else if err != nil {
				return err
			}
		}
		if len(unknown) > 0 {
			return audit.Errorf(audit.EINVALID, "base pay: no staff with employee number %s; nothing was stored", strings.Join(unknown, ", "))
		}
		return nil
	})
}

// ImportBasePay parses a base pay file (reports.ParseBasePay, which checks
// the employee numbers against the current staff in the same pass) and
// stores its amounts of the given kind from month on, all or nothing,
// returning how many it stored. The API and the CLI share it. Errors:
// EINVALID (every problem of the file with its row, an unknown employee
// among them; a bad month or kind).
func (a *App) ImportBasePay(ctx context.Context, name string, data []byte, kind, effective, by string) (int, error) {
	if name == "" {
		name = "base-pay"
	}
	if len(data) == 0 {
		return 0, audit.Errorf(audit.EINVALID, "%s: the file is empty", name)
	}
	if len(data) > MaxBasePayBytes {
		return 0, audit.Errorf(audit.EINVALID, "%s: %d bytes; at most %d", name, len(data), MaxBasePayBytes)
	}
	if _, err := month("effective_month", effective); err != nil {
		return 0, err
	}
	numbers, err := a.st.BasePay().EmployeeNumbers(ctx)
	if err != nil {
		return 0, err
	}
	known := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		known[n] = true
	}
	pays, err := reports.ParseBasePay(name, data, func(num string) bool { return known[num] })
	if err != nil {
		return 0, audit.Errorf(audit.EINVALID, "%s", strings.TrimPrefix(err.Error(), "reports: "))
	}
	rows := make([]storage.BasePayRow, len(pays))
	for i, p := range pays {
		rows[i] = storage.BasePayRow{EmployeeNumber: p.EmployeeNumber, Kind: kind, EffectiveMonth: effective, AmountMinor: p.AmountMinor, Row: p.Row}
	}
	if err := a.SetBasePay(ctx, rows, name, by); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// ListBasePay returns every current member of staff (and any former one
// with pay of the kind up to the month) with the pay of the kind (base
// pay when empty) in force in month, by employee number. Errors: EINVALID
// (the month or kind).
func (a *App) ListBasePay(ctx context.Context, in, kind string) ([]storage.BasePayEntry, error) {
	m, err := month("month", in)
	if err != nil {
		return nil, err
	}
	if kind, err = payKind(kind); err != nil {
		return nil, err
	}
	return a.st.BasePay().List(ctx, m.Key(), kind)
}
