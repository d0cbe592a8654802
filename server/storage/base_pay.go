package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/reports"
)

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

// BasePay keeps employees' base pay by month.
type BasePay interface {
	// Set stores r, validated by the caller (its month "YYYY-MM"),
	// replacing any amount of the same employee, kind and month, from
	// source (a file name, "api"), by the user by at the transaction's
	// time. Every write takes the next revision of the table, which a
	// bonus run's inputs stamp reads. Errors: ENOTFOUND (no staff with
	// the employee number).
	Set(ctx context.Context, r BasePayRow, source, by string) error
	// List returns every current member of staff (and any former one
	// with pay of the kind up to the month) with the pay of the kind in
	// force in month ("YYYY-MM"), by employee number.
	List(ctx context.Context, month, kind string) ([]BasePayEntry, error)
	// EmployeeNumbers returns the employee numbers of the current (not
	// deactivated) staff, whose pay a file may set.
	EmployeeNumbers(ctx context.Context) ([]string, error)
}
