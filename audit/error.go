// Package audit is the domain of shopscore: corporate service standards,
// the checklists derived from them, stores, staff, shoppers, assignments,
// visits and their scoring. It uses only the standard library: transport
// (server) and storage (server/sqlite) import it, never the other way.
//
// Scoring is one pure function, Score: no clock, no I/O, no randomness, no
// dependence on map order, so the server's authoritative score and the
// phone's preview come from the same code and agree.
//
// Standards packs (standards plus the checklists that check them) are
// written by hand as JSON in the format "shopscore.pack/v1" and read with
// ParsePack, which reports every problem with its file, line, column and
// path. The format is JSON rather than YAML because a YAML reader would need
// a dependency and this package uses only the standard library. The demo
// pack lives in the demopack subpackage.
package audit

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. The server maps each code to one Connect
// code in a single table (server/errors.go); the field client maps back.
type Code string

// The error codes, one per row of the error table in docs/DESIGN.md §6.
const (
	EINVALID      Code = "invalid"             // malformed or invalid input
	EPRECONDITION Code = "failed_precondition" // retired version, cancelled assignment, wrong state
	EEXISTS       Code = "already_exists"      // same ID, different content
	EABORTED      Code = "aborted"             // sequence gap: pull or retry
	EFORBIDDEN    Code = "permission_denied"   // not allowed
	ENOTFOUND     Code = "not_found"           // missing, or not yours
	EUNAUTHORIZED Code = "unauthenticated"     // missing, expired or revoked credentials
	EEXHAUSTED    Code = "resource_exhausted"  // size or rate limit
	EUNAVAILABLE  Code = "unavailable"         // transient fault
	EDATALOSS     Code = "data_loss"           // evidence bytes do not match their hash
	EINTERNAL     Code = "internal"            // anything unexpected
)

// Error is the one domain error type. Message is safe to show to the
// caller; internal causes are wrapped with fmt.Errorf and never reach a
// client (they map to EINTERNAL with a generic message).
type Error struct {
	Code    Code
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("shopscore: %s: %s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and a formatted,
// caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain,
// "" for nil, and EINTERNAL for any other error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of the first domain error in
// err's chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
