package server

import (
	"context"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// The integration tokens of AdminService (issue 16 §5): admins make,
// list and revoke them; the server authenticates them (authenticate) and
// authorizes them by the procedure table within their scopes (authz.go).

// CreateIntegrationToken makes a token and returns it once. Errors:
// EINVALID.
func (a *adminService) CreateIntegrationToken(ctx context.Context, req *connect.Request[v1.CreateIntegrationTokenRequest]) (*connect.Response[v1.CreateIntegrationTokenResponse], error) {
	actor, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, secret, err := a.s.app.CreateIntegrationToken(ctx, actor, req.Msg.GetName(), req.Msg.GetScopes())
	if err != nil {
		return nil, err
	}
	pt, err := a.integrationTokensToProto(ctx, []*storage.IntegrationToken{t})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateIntegrationTokenResponse{Token: pt[0], Secret: secret}), nil
}

// ListIntegrationTokens lists every token, newest first.
func (a *adminService) ListIntegrationTokens(ctx context.Context, _ *connect.Request[v1.ListIntegrationTokensRequest]) (*connect.Response[v1.ListIntegrationTokensResponse], error) {
	ts, err := a.s.app.ListIntegrationTokens(ctx)
	if err != nil {
		return nil, err
	}
	pt, err := a.integrationTokensToProto(ctx, ts)
	return reply(&v1.ListIntegrationTokensResponse{Tokens: pt}, err)
}

// RevokeIntegrationToken revokes a token. Errors: EINVALID, ENOTFOUND.
func (a *adminService) RevokeIntegrationToken(ctx context.Context, req *connect.Request[v1.RevokeIntegrationTokenRequest]) (*connect.Response[v1.RevokeIntegrationTokenResponse], error) {
	actor, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetTokenId()
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "token_id is required")
	}
	t, err := a.s.app.RevokeIntegrationToken(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	pt, err := a.integrationTokensToProto(ctx, []*storage.IntegrationToken{t})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RevokeIntegrationTokenResponse{Token: pt[0]}), nil
}

// integrationTokensToProto converts tokens, naming the admins who made
// and revoked them (an admin since removed is named by his id).
func (a *adminService) integrationTokensToProto(ctx context.Context, ts []*storage.IntegrationToken) ([]*v1.IntegrationToken, error) {
	names := map[string]string{}
	name := func(id string) (string, error) {
		if id == "" {
			return "", nil
		}
		if n, ok := names[id]; ok {
			return n, nil
		}
		u, err := a.s.st.Users().Find(ctx, id)
		switch {
		case audit.ErrorCode(err) == audit.ENOTFOUND:
			names[id] = id
		case err != nil:
			return "", err
		default:
			names[id] = u.DisplayName
		}
		return names[id], nil
	}
	out := make([]*v1.IntegrationToken, len(ts))
	for i, t := range ts {
		created, err := name(t.CreatedBy)
		if err != nil {
			return nil, err
		}
		revoked, err := name(t.RevokedBy)
		if err != nil {
			return nil, err
		}
		out[i] = &v1.IntegrationToken{Id: t.ID, Name: t.Name, Scopes: t.Scopes, CreateTime: timestamp(t.CreatedAt),
			CreatedByName: created, LastUsedTime: timestamp(t.LastUsedAt), RevokeTime: timestamp(t.RevokedAt), RevokedByName: revoked}
	}
	return out, nil
}
