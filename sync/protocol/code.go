package protocol

import (
	"errors"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
)

// codes is the one table from domain error codes to Connect codes
// (docs/DESIGN.md §6). The server maps with ConnectCode, the client back with
// DomainCode.
var codes = map[audit.Code]connect.Code{
	audit.EINVALID:      connect.CodeInvalidArgument,
	audit.EPRECONDITION: connect.CodeFailedPrecondition,
	audit.EEXISTS:       connect.CodeAlreadyExists,
	audit.EABORTED:      connect.CodeAborted,
	audit.EFORBIDDEN:    connect.CodePermissionDenied,
	audit.ENOTFOUND:     connect.CodeNotFound,
	audit.EUNAUTHORIZED: connect.CodeUnauthenticated,
	audit.EEXHAUSTED:    connect.CodeResourceExhausted,
	audit.EUNAVAILABLE:  connect.CodeUnavailable,
	audit.EDATALOSS:     connect.CodeDataLoss,
	audit.EINTERNAL:     connect.CodeInternal,
}

// ConnectCode returns the Connect code for a domain code; Internal for an
// unknown one.
func ConnectCode(c audit.Code) connect.Code {
	if cc, ok := codes[c]; ok {
		return cc
	}
	return connect.CodeInternal
}

// DomainCode returns the domain code for a Connect code. Codes with no
// domain meaning (Canceled, DeadlineExceeded, Unknown) map to EUNAVAILABLE:
// for a device they are all "try again later".
func DomainCode(c connect.Code) audit.Code {
	for d, cc := range codes {
		if cc == c {
			return d
		}
	}
	return audit.EUNAVAILABLE
}

// FromConnect turns an error from a Connect client into a domain error
// with the same meaning, keeping the server's message. Errors that are not
// Connect errors (a cut connection, a refused dial) are EUNAVAILABLE.
func FromConnect(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return &wrapped{audit.Errorf(audit.EUNAVAILABLE, "server unreachable: %v", err), err}
	}
	return &wrapped{audit.Errorf(DomainCode(ce.Code()), "%s", ce.Message()), err}
}

// wrapped is a domain error that keeps its cause for errors.Is and As.
type wrapped struct {
	domain *audit.Error
	cause  error
}

func (w *wrapped) Error() string   { return w.domain.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.domain, w.cause} }

// Retryable reports whether a failed call may succeed if tried again
// unchanged: the network, an overloaded or restarting server, a rate limit.
// Everything else is a permanent answer about the request itself.
func Retryable(err error) bool {
	switch audit.ErrorCode(FromConnect(err)) {
	case audit.EUNAVAILABLE, audit.EEXHAUSTED, audit.EABORTED, audit.EINTERNAL:
		return true
	}
	return false
}
