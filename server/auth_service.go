package server

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/storage"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// authService implements shopscore.v1.AuthService.
type authService struct{ s *Server }

// maxDeviceID bounds the device identifiers a client may choose.
const maxDeviceID = 128

func checkDeviceID(id string) error {
	switch {
	case id == "":
		return audit.Errorf(audit.EINVALID, "device_id is required (a stable identifier the device generates once)")
	case len(id) > maxDeviceID || !utf8.ValidString(id):
		return audit.Errorf(audit.EINVALID, "device_id must be valid UTF-8 of at most %d bytes", maxDeviceID)
	}
	return nil
}

// errTooManyLogins answers a login over one of its limits.
func errTooManyLogins() error {
	return audit.Errorf(audit.EEXHAUSTED, "too many login attempts; wait a minute and try again")
}

// Login checks credentials and opens a device session. Errors: EINVALID,
// EUNAUTHORIZED, EEXHAUSTED.
func (a *authService) Login(ctx context.Context, req *connect.Request[v1.LoginRequest]) (*connect.Response[v1.LoginResponse], error) {
	s, m := a.s, req.Msg
	email := strings.ToLower(strings.TrimSpace(m.GetEmail()))
	switch {
	case email == "":
		return nil, audit.Errorf(audit.EINVALID, "email is required")
	case m.GetPassword() == "":
		return nil, audit.Errorf(audit.EINVALID, "password is required")
	}
	if err := checkDeviceID(m.GetDeviceId()); err != nil {
		return nil, err
	}
	peer := peerHost(req.Peer().Addr)
	// The tight limit is per account and address, so that one attacker's
	// guesses lock out only himself; the looser per-account one bounds
	// guesses spread over many addresses. Both are counted in the
	// database, so that they hold across servers; the one per address
	// alone is this server's.
	if !s.addrLimiter.Allow(peer) {
		return nil, errTooManyLogins()
	}
	for _, l := range []struct {
		lim *auth.SharedLimiter
		key string
	}{{s.loginLimiter, email + "\x00" + peer}, {s.accountLimiter, email}} {
		if ok, err := l.lim.Allow(ctx, l.key); err != nil {
			return nil, err
		} else if !ok {
			return nil, errTooManyLogins()
		}
	}
	user, hash, err := s.st.Users().FindByEmail(ctx, email)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		hash = auth.DummyHash // spend the same time as for a real account
	} else if err != nil {
		return nil, err
	} else if hash == "" {
		// An employee who has not set his password from his invitation
		// yet: no password opens it, and the time spent is the same.
		hash = auth.DummyHash
	}
	ok, err := s.hashes.CheckPassword(ctx, hash, m.GetPassword())
	if err != nil {
		return nil, err
	}
	if !ok || user == nil || user.Disabled {
		ev := audit.SecurityEvent{Kind: audit.EventLoginFailed, Peer: peer}
		if user != nil {
			ev.UserID, ev.Detail = user.ID, user.Email
		} else {
			ev.Detail = unknownLogin(email)
		}
		if err := s.st.SecurityEvents().Add(ctx, ev); err != nil {
			return nil, err
		}
		return nil, audit.Errorf(audit.EUNAUTHORIZED, "wrong e-mail or password, or the account is disabled")
	}
	refresh, refreshHash, err := auth.NewRefreshToken()
	if err != nil {
		return nil, err
	}
	refreshExpiry := s.cfg.Now().Add(s.cfg.RefreshTTL)
	sess, err := s.app.CreateSession(ctx, user.ID, m.GetDeviceId(), m.GetDeviceName(), refreshHash, refreshExpiry, peer)
	if err != nil {
		return nil, err
	}
	tokens, err := s.tokens(user, sess.ID, refresh, refreshExpiry)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.LoginResponse{Tokens: tokens, User: userToProto(user), SessionId: sess.ID}), nil
}

// unknownLogin describes, for the security log, what was typed as the
// e-mail of a login no account has. People type passwords into the e-mail
// field, so it is never kept: only its length, and for something shaped
// like an address its domain.
func unknownLogin(typed string) string {
	local, domain, ok := strings.Cut(typed, "@")
	if ok && local != "" && plausibleDomain(domain) {
		return fmt.Sprintf("unknown e-mail …@%s (%d characters)", domain, utf8.RuneCountInString(typed))
	}
	return fmt.Sprintf("unknown e-mail, not an address (%d characters)", utf8.RuneCountInString(typed))
}

// plausibleDomain reports whether d looks like a DNS name with a dot.
func plausibleDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Server) tokens(user *audit.User, sessionID, refresh string, refreshExpiry time.Time) (*v1.Tokens, error) {
	access, claims, err := s.issuer.IssueAccess(user.ID, string(user.Role), sessionID)
	if err != nil {
		return nil, err
	}
	return &v1.Tokens{
		AccessToken:            access,
		AccessTokenExpireTime:  timestamppb.New(claims.Expiry),
		RefreshToken:           refresh,
		RefreshTokenExpireTime: timestamppb.New(refreshExpiry),
	}, nil
}

// Refresh rotates a refresh token. Errors: EINVALID, EUNAUTHORIZED,
// EEXHAUSTED.
func (a *authService) Refresh(ctx context.Context, req *connect.Request[v1.RefreshRequest]) (*connect.Response[v1.RefreshResponse], error) {
	s, m := a.s, req.Msg
	if err := checkDeviceID(m.GetDeviceId()); err != nil {
		return nil, err
	}
	peer := peerHost(req.Peer().Addr)
	if !s.refreshLimiter.Allow("addr:" + peer) {
		return nil, audit.Errorf(audit.EEXHAUSTED, "too many refresh attempts; slow down")
	}
	if err := auth.CheckRefreshToken(m.GetRefreshToken()); err != nil {
		return nil, err
	}
	refresh, refreshHash, err := auth.NewRefreshToken()
	if err != nil {
		return nil, err
	}
	refreshExpiry := s.cfg.Now().Add(s.cfg.RefreshTTL)
	sess, user, err := s.app.RotateRefresh(ctx, auth.HashRefreshToken(m.GetRefreshToken()), m.GetDeviceId(), refreshHash, refreshExpiry, s.cfg.RefreshRetryGrace, peer)
	if err != nil {
		return nil, err
	}
	tokens, err := s.tokens(user, sess.ID, refresh, refreshExpiry)
	return reply(&v1.RefreshResponse{Tokens: tokens}, err)
}

// Logout revokes the caller's session.
func (a *authService) Logout(ctx context.Context, req *connect.Request[v1.LogoutRequest]) (*connect.Response[v1.LogoutResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := a.s.app.RevokeSession(ctx, p.SessionID, audit.EventLogout, "logout", peerHost(req.Peer().Addr)); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.LogoutResponse{}), nil
}

// WhoAmI returns the caller, a manager with the stores he manages.
func (a *authService) WhoAmI(ctx context.Context, _ *connect.Request[v1.WhoAmIRequest]) (*connect.Response[v1.WhoAmIResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := a.s.st.Users().Find(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out, err := a.s.userView(ctx, u)
	return reply(&v1.WhoAmIResponse{User: out, SessionId: p.SessionID}, err)
}

// GetNotificationSettings returns the caller's own e-mail settings.
func (a *authService) GetNotificationSettings(ctx context.Context, _ *connect.Request[v1.GetNotificationSettingsRequest]) (*connect.Response[v1.GetNotificationSettingsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefs, err := a.s.app.NotificationPrefs(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetNotificationSettingsResponse{Settings: prefsToProto(prefs),
		EmailConfigured: a.s.app.MailEnabled(), DigestHour: app.DigestHour}), nil
}

// SetNotificationSettings replaces the caller's own e-mail settings.
// Errors: EINVALID (the language).
func (a *authService) SetNotificationSettings(ctx context.Context, req *connect.Request[v1.SetNotificationSettingsRequest]) (*connect.Response[v1.SetNotificationSettingsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg.GetSettings()
	prefs, err := a.s.app.SetNotificationPrefs(ctx, p.UserID, storage.NotificationPrefs{Language: m.GetLanguage(),
		EmailOff: m.GetEmailOff(), Digest: m.GetDailyDigest()})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.SetNotificationSettingsResponse{Settings: prefsToProto(prefs)}), nil
}

func prefsToProto(p storage.NotificationPrefs) *v1.NotificationSettings {
	return &v1.NotificationSettings{Language: p.Language, EmailOff: p.EmailOff, DailyDigest: p.Digest}
}
