package server

import (
	"context"
	"errors"
	"strings"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
)

// interceptor checks every request against the length limits
// (requestLimits), authenticates and authorizes every call, unary and
// streaming alike, and turns handler errors into Connect errors through
// one table.
type interceptor struct{ s *Server }

var _ connect.Interceptor = interceptor{}

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		procedure := req.Spec().Procedure
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		if err := limitRequest(req); err != nil {
			return nil, connectError(ctx, i.s.log, procedure, err)
		}
		ctx, err := i.s.authorize(ctx, procedure, req.Header().Get("Authorization"))
		if err != nil {
			return nil, connectError(ctx, i.s.log, procedure, err)
		}
		resp, err := next(ctx, req)
		return resp, connectError(ctx, i.s.log, procedure, err)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		procedure := conn.Spec().Procedure
		ctx, err := i.s.authorize(ctx, procedure, conn.RequestHeader().Get("Authorization"))
		if err != nil {
			return connectError(ctx, i.s.log, procedure, err)
		}
		return connectError(ctx, i.s.log, procedure, next(ctx, limitedConn{conn}))
	}
}

// authorize checks the bearer token of a call to procedure and returns a
// context carrying the caller. Public procedures pass without a token.
// Errors: EUNAUTHORIZED (no, bad, expired or revoked credentials),
// EFORBIDDEN (the caller's role may not call procedure).
func (s *Server) authorize(ctx context.Context, procedure, authorization string) (context.Context, error) {
	if public[procedure] {
		return ctx, nil
	}
	if _, known := policy[procedure]; !known {
		// Deny by default: a procedure served but missing from the table.
		return ctx, audit.Errorf(audit.EFORBIDDEN, "procedure %s is not open to anyone", procedure)
	}
	// The scheme is case-insensitive (RFC 6750, RFC 9110 §11.1).
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return ctx, audit.Errorf(audit.EUNAUTHORIZED, "missing bearer access token")
	}
	claims, err := s.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		return ctx, err
	}
	user, err := s.db.Authenticate(ctx, claims.Device, claims.Subject)
	if err != nil {
		return ctx, err
	}
	p := audit.Principal{UserID: user.ID, Role: user.Role, DeviceID: claims.Device}
	ctx = audit.NewContext(ctx, p)
	if !allowed(procedure, p.Role) {
		return ctx, audit.Errorf(audit.EFORBIDDEN, "a %s may not call %s", p.Role, procedure)
	}
	return ctx, nil
}

// caller returns the authenticated principal of ctx. Every non-public
// procedure has one; its absence is a programming error.
func caller(ctx context.Context) (audit.Principal, error) {
	p, ok := audit.FromContext(ctx)
	if !ok {
		return p, errors.New("no principal in context")
	}
	return p, nil
}
