package server

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// connectError turns an error returned by a handler into the error the
// caller sees, through the one code table in sync/protocol. Domain errors keep their caller-safe message; anything else
// is logged with its cause and answered as Internal with a generic message.
// The problems of an import (audit.PackErrors) travel as an ImportProblems
// detail too, each with its line and column.
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
	ce = connect.NewError(protocol.ConnectCode(code), errors.New(audit.ErrorMessage(err)))
	var problems audit.PackErrors
	if errors.As(err, &problems) {
		detail := &v1.ImportProblems{}
		for _, p := range problems {
			detail.Problems = append(detail.Problems, &v1.ImportProblem{FileName: p.File, Line: int32(p.Line), Column: int32(p.Col), Path: p.Path, Message: p.Msg})
		}
		if d, err := connect.NewErrorDetail(detail); err == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}
