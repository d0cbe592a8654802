package server

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
)

// codes is the one table from domain error codes to Connect codes
// (DESIGN.md §6). The field client maps back with audit codes of its own.
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

// connectError turns an error returned by a handler into the error the
// caller sees. Domain errors keep their caller-safe message; anything else
// is logged with its cause and answered as Internal with a generic message.
// Unauthenticated errors are logged too (their message is generic on the
// wire, the cause is in the log).
func connectError(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("request cancelled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	}
	code := audit.ErrorCode(err)
	switch code {
	case audit.EINTERNAL:
		log.ErrorContext(ctx, "internal error", "procedure", procedure, "err", err)
		return connect.NewError(connect.CodeInternal, errors.New("internal error"))
	case audit.EUNAUTHORIZED:
		log.InfoContext(ctx, "unauthenticated", "procedure", procedure, "err", err)
	}
	return connect.NewError(codes[code], errors.New(audit.ErrorMessage(err)))
}
