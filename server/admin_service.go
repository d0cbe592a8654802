package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// adminService implements shopscore.v1.AdminService.
type adminService struct{ s *Server }

// pageSize returns the page size asked for. Errors: EINVALID.
func pageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > 500:
		return 0, audit.Errorf(audit.EINVALID, "page_size must be between 1 and 500, got %d", n)
	}
	return int(n), nil
}

func encodePageToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodePageToken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", audit.Errorf(audit.EINVALID, "page_token is not one this server issued")
	}
	return string(b), nil
}

// page converts one page of a list that was asked for one row more than
// its size n: it returns the rows to send, converted by conv, and the token
// of the next page (empty on the last page), made from the last row sent.
func page[T, P any](rows []T, n int, conv func(T) P, token func(T) string) ([]P, string) {
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		next = token(rows[n-1])
	}
	out := make([]P, 0, len(rows))
	for _, r := range rows {
		out = append(out, conv(r))
	}
	return out, next
}

// encodeCursor returns a page token for lists ordered by (time, id).
func encodeCursor(t time.Time, id string) string {
	return encodePageToken(fmt.Sprintf("%d|%s", t.UnixMilli(), id))
}

// decodeCursor reads a token from encodeCursor; "" is the first page (the
// zero time). Errors: EINVALID.
func decodeCursor(token string) (time.Time, string, error) {
	if token == "" {
		return time.Time{}, "", nil
	}
	raw, err := decodePageToken(token)
	if err != nil {
		return time.Time{}, "", err
	}
	ms, id, ok := strings.Cut(raw, "|")
	v, perr := strconv.ParseInt(ms, 10, 64)
	if !ok || perr != nil || id == "" {
		return time.Time{}, "", audit.Errorf(audit.EINVALID, "page_token is not one this server issued")
	}
	return time.UnixMilli(v), id, nil
}

// CreateUser adds a user. Errors: EINVALID, EEXISTS.
func (a *adminService) CreateUser(ctx context.Context, req *connect.Request[v1.CreateUserRequest]) (*connect.Response[v1.CreateUserResponse], error) {
	m := req.Msg
	role, err := roleFromProto(m.GetRole())
	if err != nil {
		return nil, err
	}
	u := &audit.User{Email: m.GetEmail(), DisplayName: m.GetDisplayName(), Role: role}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	stores, err := a.storeIDs(ctx, m.GetManagedStoreIds(), m.GetManagedStoreCodes())
	if err != nil {
		return nil, err
	}
	if len(stores) > 0 && role != audit.RoleManager {
		return nil, audit.Errorf(audit.EINVALID, "managed_store_ids: only a manager manages stores")
	}
	hash, err := a.s.hashes.HashPassword(ctx, m.GetPassword())
	if err != nil {
		return nil, err
	}
	if err := a.s.app.CreateUser(ctx, u, hash); err != nil {
		return nil, err
	}
	if len(stores) > 0 {
		if err := a.s.app.SetManagedStores(ctx, u.ID, stores); err != nil {
			return nil, err
		}
	}
	out, err := a.s.userView(ctx, u)
	return reply(&v1.CreateUserResponse{User: out}, err)
}

// ListUsers lists users by e-mail, of one role or matching a text when
// asked. Errors: EINVALID.
func (a *adminService) ListUsers(ctx context.Context, req *connect.Request[v1.ListUsersRequest]) (*connect.Response[v1.ListUsersResponse], error) {
	n, err := pageSize(req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.Msg.GetPageToken())
	if err != nil {
		return nil, err
	}
	f := storage.UserFilter{Query: strings.TrimSpace(req.Msg.GetQuery()), AfterEmail: after, Limit: n + 1}
	if r := req.Msg.GetRole(); r != v1.Role_ROLE_UNSPECIFIED {
		if f.Role, err = roleFromProto(r); err != nil {
			return nil, err
		}
	}
	users, err := a.s.st.Users().List(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListUsersResponse{}
	resp.Users, resp.NextPageToken = page(users, n, userToProto, func(u *audit.User) string { return encodePageToken(u.Email) })
	return connect.NewResponse(resp), nil
}

func (a *adminService) setDisabled(ctx context.Context, id string, disabled bool, peer string) (*v1.User, error) {
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "user_id is required")
	}
	u, err := a.s.app.SetUserDisabled(ctx, id, disabled, peer)
	if err != nil {
		return nil, err
	}
	return userToProto(u), nil
}

// DisableUser disables a user and revokes his sessions. Errors: EINVALID,
// ENOTFOUND.
func (a *adminService) DisableUser(ctx context.Context, req *connect.Request[v1.DisableUserRequest]) (*connect.Response[v1.DisableUserResponse], error) {
	u, err := a.setDisabled(ctx, req.Msg.GetUserId(), true, peerHost(req.Peer().Addr))
	return reply(&v1.DisableUserResponse{User: u}, err)
}

// EnableUser enables a user. Errors: EINVALID, ENOTFOUND.
func (a *adminService) EnableUser(ctx context.Context, req *connect.Request[v1.EnableUserRequest]) (*connect.Response[v1.EnableUserResponse], error) {
	u, err := a.setDisabled(ctx, req.Msg.GetUserId(), false, peerHost(req.Peer().Addr))
	return reply(&v1.EnableUserResponse{User: u}, err)
}

// ListSessions lists device sessions newest first, with their users'
// names, only the active ones when asked. Errors: EINVALID.
func (a *adminService) ListSessions(ctx context.Context, req *connect.Request[v1.ListSessionsRequest]) (*connect.Response[v1.ListSessionsResponse], error) {
	n, err := pageSize(req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	before, beforeID, err := decodeCursor(req.Msg.GetPageToken())
	if err != nil {
		return nil, err
	}
	sessions, err := a.s.st.Sessions().List(ctx, storage.SessionFilter{UserID: req.Msg.GetUserId(), ActiveOnly: req.Msg.GetActiveOnly(),
		Before: before, BeforeID: beforeID, Limit: n + 1})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListSessionsResponse{}
	resp.Sessions, resp.NextPageToken = page(sessions, n, sessionToProto, func(s *audit.Session) string { return encodeCursor(s.CreatedAt, s.ID) })
	return connect.NewResponse(resp), nil
}

// RevokeSession revokes a device session. Errors: EINVALID, ENOTFOUND.
func (a *adminService) RevokeSession(ctx context.Context, req *connect.Request[v1.RevokeSessionRequest]) (*connect.Response[v1.RevokeSessionResponse], error) {
	id := req.Msg.GetSessionId()
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "session_id is required")
	}
	s, err := a.s.app.RevokeSession(ctx, id, audit.EventSessionRevoked, "revoked by an admin", peerHost(req.Peer().Addr))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RevokeSessionResponse{Session: sessionToProto(s)}), nil
}

// RotateSigningKey makes a new key sign access tokens.
func (a *adminService) RotateSigningKey(ctx context.Context, req *connect.Request[v1.RotateSigningKeyRequest]) (*connect.Response[v1.RotateSigningKeyResponse], error) {
	kid, err := a.s.keys.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	p, _ := caller(ctx)
	if err := a.s.st.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventKeyRotated, UserID: p.UserID,
		SessionID: p.SessionID, Peer: peerHost(req.Peer().Addr), Detail: kid}); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RotateSigningKeyResponse{KeyId: kid}), nil
}

// StreamSecurityEvents streams the security log after a cursor, a page of
// rows at a time so memory stays flat however long the log is.
func (a *adminService) StreamSecurityEvents(ctx context.Context, req *connect.Request[v1.StreamSecurityEventsRequest], stream *connect.ServerStream[v1.StreamSecurityEventsResponse]) error {
	after := req.Msg.GetAfterSeq()
	if after < 0 {
		return audit.Errorf(audit.EINVALID, "after_seq must not be negative")
	}
	const page = 500
	for {
		events, err := a.s.st.SecurityEvents().After(ctx, after, page)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := stream.Send(&v1.StreamSecurityEventsResponse{
				Seq: e.Seq, CreateTime: timestamppb.New(e.CreatedAt), Kind: e.Kind,
				UserId: e.UserID, SessionId: e.SessionID, Peer: e.Peer, Detail: e.Detail,
			}); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < page {
			return nil
		}
	}
}

// userView converts a user with the stores he manages.
func (s *Server) userView(ctx context.Context, u *audit.User) (*v1.User, error) {
	out := userToProto(u)
	if u.Role != audit.RoleManager {
		return out, nil
	}
	stores, err := s.app.ManagedStores(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range stores {
		out.ManagedStores = append(out.ManagedStores, &v1.StoreRef{Id: st.ID, Code: st.Code, Name: st.Name})
	}
	return out, nil
}

// storeIDs resolves stores named by id or code. Errors: ENOTFOUND.
func (a *adminService) storeIDs(ctx context.Context, ids, codes []string) ([]string, error) {
	out := slices.Clone(ids)
	for _, c := range codes {
		id, err := a.s.storeRef(ctx, audit.Scope{All: true}, "", c)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// GetUser returns a user with his stores. Errors: EINVALID, ENOTFOUND.
func (a *adminService) GetUser(ctx context.Context, req *connect.Request[v1.GetUserRequest]) (*connect.Response[v1.GetUserResponse], error) {
	if req.Msg.GetUserId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "user_id is required")
	}
	u, err := a.s.st.Users().Find(ctx, req.Msg.GetUserId())
	if err != nil {
		return nil, err
	}
	out, err := a.s.userView(ctx, u)
	return reply(&v1.GetUserResponse{User: out}, err)
}

// ResetPassword sets a new password and revokes the user's sessions.
// Errors: EINVALID, ENOTFOUND.
func (a *adminService) ResetPassword(ctx context.Context, req *connect.Request[v1.ResetPasswordRequest]) (*connect.Response[v1.ResetPasswordResponse], error) {
	id := req.Msg.GetUserId()
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "user_id is required")
	}
	if utf8.RuneCountInString(req.Msg.GetNewPassword()) < 8 {
		return nil, audit.Errorf(audit.EINVALID, "new_password must have at least 8 characters")
	}
	hash, err := a.s.hashes.HashPassword(ctx, req.Msg.GetNewPassword())
	if err != nil {
		return nil, err
	}
	n, err := a.s.app.ResetPassword(ctx, id, hash, peerHost(req.Peer().Addr))
	if err != nil {
		return nil, err
	}
	u, err := a.s.st.Users().Find(ctx, id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ResetPasswordResponse{User: userToProto(u), RevokedSessions: int32(n)}), nil
}

// ChangeRole gives a user another role. Errors: EINVALID, ENOTFOUND,
// EPRECONDITION (an admin demoting himself).
func (a *adminService) ChangeRole(ctx context.Context, req *connect.Request[v1.ChangeRoleRequest]) (*connect.Response[v1.ChangeRoleResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetUserId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "user_id is required")
	}
	role, err := roleFromProto(req.Msg.GetRole())
	if err != nil {
		return nil, err
	}
	if req.Msg.GetUserId() == p.UserID && role != audit.RoleAdmin {
		return nil, audit.Errorf(audit.EPRECONDITION, "an admin cannot take his own admin role; ask another admin")
	}
	u, err := a.s.app.ChangeRole(ctx, req.Msg.GetUserId(), role, peerHost(req.Peer().Addr))
	if err != nil {
		return nil, err
	}
	out, err := a.s.userView(ctx, u)
	return reply(&v1.ChangeRoleResponse{User: out}, err)
}

// SetManagedStores replaces a manager's stores. Errors: EINVALID,
// ENOTFOUND.
func (a *adminService) SetManagedStores(ctx context.Context, req *connect.Request[v1.SetManagedStoresRequest]) (*connect.Response[v1.SetManagedStoresResponse], error) {
	id := req.Msg.GetUserId()
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "user_id is required")
	}
	stores, err := a.storeIDs(ctx, req.Msg.GetStoreIds(), req.Msg.GetStoreCodes())
	if err != nil {
		return nil, err
	}
	if err := a.s.app.SetManagedStores(ctx, id, stores); err != nil {
		return nil, err
	}
	u, err := a.s.st.Users().Find(ctx, id)
	if err != nil {
		return nil, err
	}
	out, err := a.s.userView(ctx, u)
	return reply(&v1.SetManagedStoresResponse{User: out}, err)
}

// ListSecurityEvents lists the security log newest first. Errors: EINVALID.
func (a *adminService) ListSecurityEvents(ctx context.Context, req *connect.Request[v1.ListSecurityEventsRequest]) (*connect.Response[v1.ListSecurityEventsResponse], error) {
	m := req.Msg
	n, err := pageSize(m.GetPageSize())
	if err != nil {
		return nil, err
	}
	f := storage.EventFilter{Kinds: m.GetKinds(), UserID: m.GetUserId(), Limit: n + 1}
	if f.From, err = timeFrom("from_time", m.GetFromTime()); err != nil {
		return nil, err
	}
	if f.To, err = timeFrom("to_time", m.GetToTime()); err != nil {
		return nil, err
	}
	if t := m.GetPageToken(); t != "" {
		raw, err := decodePageToken(t)
		if err != nil {
			return nil, err
		}
		if f.BeforeSeq, err = strconv.ParseInt(raw, 10, 64); err != nil || f.BeforeSeq <= 0 {
			return nil, audit.Errorf(audit.EINVALID, "page_token is not one this server issued")
		}
	}
	events, err := a.s.st.SecurityEvents().List(ctx, f)
	if err != nil {
		return nil, err
	}
	users := map[string]*audit.User{}
	resp := &v1.ListSecurityEventsResponse{}
	resp.Events, resp.NextPageToken = page(events, n, func(e audit.SecurityEvent) *v1.SecurityEvent {
		out := &v1.SecurityEvent{Seq: e.Seq, CreateTime: timestamppb.New(e.CreatedAt), Kind: e.Kind, UserId: e.UserID,
			SessionId: e.SessionID, Peer: e.Peer, Detail: e.Detail}
		if e.UserID != "" {
			u, ok := users[e.UserID]
			if !ok {
				u, _ = a.s.st.Users().Find(ctx, e.UserID) // an unknown user (a failed login) has no name
				users[e.UserID] = u
			}
			if u != nil {
				out.UserEmail, out.UserName = u.Email, u.DisplayName
			}
		}
		return out
	}, func(e audit.SecurityEvent) string { return encodePageToken(strconv.FormatInt(e.Seq, 10)) })
	return connect.NewResponse(resp), nil
}
