// Package reports computes quality-linked staff bonuses from approved audit
// scores and writes the Excel workbooks managers and HR download: the audit
// workbook for a period and a scope, and the payroll workbook for a bonus run.
//
// The package is pure: it knows nothing of storage or transport. The server
// feeds it rows through iterators and callbacks, so memory stays bounded by
// the number of employees, stores, months and categories, never by the number
// of answers.
//
// Every error caused by bad input wraps ErrInvalid, which the server maps to
// InvalidArgument; any other error (a failing iterator, a failing writer) is
// passed through wrapped with context.
package reports

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error this package returns for malformed
// input: a policy that does not validate, an employee or observation with a
// missing or out-of-range field, or a row that cannot be written.
var ErrInvalid = errors.New("invalid input")

// invalidf returns an error wrapping ErrInvalid with a formatted message.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// invalidError is a caller-safe message about bad input that matches
// ErrInvalid with errors.Is.
type invalidError struct{ msg string }

// Error returns the message prefixed with the package name.
func (e *invalidError) Error() string { return "reports: " + e.msg }

// Unwrap returns ErrInvalid.
func (e *invalidError) Unwrap() error { return ErrInvalid }
