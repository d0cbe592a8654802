package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/authn"
	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
)

// Every RPC passes three checks, in this order:
//
//  1. authentication, in HTTP middleware (authn) before connect-go reads
//     the body: the bearer token and its session, from the headers alone,
//     so an unauthenticated caller is answered Unauthenticated whatever he
//     sends and the server decodes nothing for him;
//  2. the length limits (requestLimits), in the interceptor, on the
//     decoded message (they need it), before the handler, a log, a rate
//     limiter or the database sees a field;
//  3. authorization, in the interceptor, by the procedure → roles table
//     (authz.go), deny by default.
//
// Public procedures (Login, Refresh) skip 1 and 3, never 2.

// authenticateRPC is the authn.AuthFunc of the service handlers. A public
// procedure passes without a token; so does a path that is no procedure
// of the table, which connect-go answers Unimplemented or the interceptor
// refuses (deny by default). Any other call needs a valid bearer token of
// a live session; its caller becomes the request's authn info.
func (s *Server) authenticateRPC(ctx context.Context, r *http.Request) (any, error) {
	procedure, _ := authn.InferProcedure(r.URL)
	if _, known := policy[procedure]; !known {
		return nil, nil
	}
	p, err := s.authenticate(ctx, r.Header.Get("Authorization"))
	if err != nil {
		return nil, connectError(ctx, s.log, procedure, err)
	}
	return p, nil
}

// callerPage returns the caller and the page size a list asked for.
// Errors: EINVALID (the size).
func callerPage(ctx context.Context, size int32) (audit.Principal, int, error) {
	p, err := caller(ctx)
	if err != nil {
		return p, 0, err
	}
	n, err := pageSize(size)
	return p, n, err
}

// reply is a handler's answer: msg, or err when there is one (msg is
// then dropped unread).
func reply[T any](msg *T, err error) (*connect.Response[T], error) {
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(msg), nil
}

// interceptor checks every request against the length limits
// (requestLimits), authorizes every call, unary and streaming alike, by
// the caller the authn middleware authenticated, and turns handler errors
// into Connect errors through one table.
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
		ctx, err := authorizeCall(ctx, procedure)
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
		ctx, err := authorizeCall(ctx, procedure)
		if err != nil {
			return connectError(ctx, i.s.log, procedure, err)
		}
		return connectError(ctx, i.s.log, procedure, next(ctx, limitedConn{conn}))
	}
}

// authorizeCall authorizes a call to procedure by the caller that the authn
// middleware put in ctx, and returns a context carrying him for the
// handlers (audit.FromContext).
func authorizeCall(ctx context.Context, procedure string) (context.Context, error) {
	if public[procedure] {
		return ctx, nil
	}
	p, ok := authn.GetInfo(ctx).(audit.Principal)
	if err := authorizeRole(procedure, p, ok); err != nil {
		return ctx, err
	}
	return audit.NewContext(ctx, p), nil
}

// authorize authenticates and authorizes a call to procedure that does not
// pass the authn middleware (the report downloads over plain HTTP GET),
// and returns a context carrying the caller. Public procedures pass
// without a token. Errors as authenticate's and authorizeRole's.
func (s *Server) authorize(ctx context.Context, procedure, authorization string) (context.Context, error) {
	if public[procedure] {
		return ctx, nil
	}
	if _, known := policy[procedure]; !known {
		return ctx, authorizeRole(procedure, audit.Principal{}, false)
	}
	p, err := s.authenticate(ctx, authorization)
	if err != nil {
		return ctx, err
	}
	if err := authorizeRole(procedure, p, true); err != nil {
		return ctx, err
	}
	return audit.NewContext(ctx, p), nil
}

// authenticate verifies a bearer access token (the Authorization header's
// value) and checks in the database that its session is live and its user
// enabled; or, for an integration token (sst_…), that it is a live one. Errors: EUNAUTHORIZED (no, bad, expired or revoked credentials).
func (s *Server) authenticate(ctx context.Context, authorization string) (audit.Principal, error) {
	// The scheme is case-insensitive (RFC 6750, RFC 9110 §11.1).
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return audit.Principal{}, audit.Errorf(audit.EUNAUTHORIZED, "missing bearer access token")
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, audit.IntegrationTokenPrefix) {
		// A service account's integration token (issue 16 §5), checked
		// in the database on every call: a revoked one is refused at once.
		return s.app.AuthenticateIntegrationToken(ctx, token)
	}
	claims, err := s.verifier.Verify(token)
	if err != nil {
		return audit.Principal{}, err
	}
	user, err := s.app.Authenticate(ctx, claims.SessionID, claims.Subject)
	if err != nil {
		return audit.Principal{}, err
	}
	return audit.Principal{UserID: user.ID, Role: user.Role, SessionID: claims.SessionID}, nil
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
