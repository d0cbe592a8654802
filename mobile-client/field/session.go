package field

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/sync/protocol"
)

// Session is who is signed in on the device.
type Session struct {
	DeviceID      string
	UserID        string
	Email         string
	DisplayName   string
	Role          string
	SessionID     string
	AccessExpiry  time.Time
	RefreshExpiry time.Time
}

// LoggedIn reports whether the device holds a session.
func (s Session) LoggedIn() bool { return s.UserID != "" }

// Session returns the device's session; a zero UserID when nobody is
// signed in. It works offline.
func (c *Client) Session(ctx context.Context) (Session, error) {
	var s Session
	var access, refresh int64
	err := c.db.QueryRowContext(ctx, `SELECT device_id, user_id, email, display_name, role, session_id,
		access_expires_ms, refresh_expires_ms FROM device WHERE id = 1`).Scan(
		&s.DeviceID, &s.UserID, &s.Email, &s.DisplayName, &s.Role, &s.SessionID, &access, &refresh)
	if err != nil {
		return Session{}, fmt.Errorf("field: read session: %w", err)
	}
	s.AccessExpiry, s.RefreshExpiry = sqlitedb.FromOptMillis(access), sqlitedb.FromOptMillis(refresh)
	return s, nil
}

var roleNames = map[v1.Role]string{
	v1.Role_ROLE_SHOPPER: "shopper", v1.Role_ROLE_MANAGER: "manager", v1.Role_ROLE_HR: "hr", v1.Role_ROLE_ADMIN: "admin",
}

// Login signs the user in on this device (online) and keeps the tokens in
// the database, so that everything but Sync works offline afterwards and
// Sync refreshes them as needed. Signing in as the same user again keeps
// everything. Signing in as another user is refused with EPRECONDITION
// while drafts or unsent visits of the previous user remain; otherwise the
// device starts afresh (a new device ID, seq and cursor, the previous
// user's data dropped). Errors: EINVALID (missing e-mail or password),
// EUNAUTHORIZED (wrong credentials, disabled user), EEXHAUSTED (too many
// attempts), EUNAVAILABLE (no network), as the server answered.
func (c *Client) Login(ctx context.Context, email, password string) (Session, error) {
	email = strings.TrimSpace(email)
	if email == "" || password == "" {
		return Session{}, audit.Errorf(audit.EINVALID, "an e-mail and a password are required")
	}
	cur, err := c.Session(ctx)
	if err != nil {
		return Session{}, err
	}
	deviceID := cur.DeviceID
	switching := cur.UserID != "" && !strings.EqualFold(cur.Email, email)
	if switching {
		if n, err := c.unsentCount(ctx); err != nil {
			return Session{}, err
		} else if n > 0 {
			return Session{}, audit.Errorf(audit.EPRECONDITION,
				"%s still has %d draft or unsent visit(s) on this device: sync them (or sign in as %s) before signing in as %s",
				cur.Email, n, cur.Email, email)
		}
		deviceID = uuid.NewString()
	}
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, err := c.auth.Login(callCtx, connect.NewRequest(&v1.LoginRequest{
		Email: email, Password: password, DeviceId: deviceID, DeviceName: c.cfg.DeviceName,
	}))
	if err != nil {
		return Session{}, remote("log in", err)
	}
	u, t := resp.Msg.GetUser(), resp.Msg.GetTokens()
	if u.GetRole() != v1.Role_ROLE_SHOPPER {
		return Session{}, audit.Errorf(audit.EFORBIDDEN, "%s is a %s account: the field client is for shoppers", email, roleNames[u.GetRole()])
	}
	sameUser := cur.UserID == "" || cur.UserID == u.GetId()
	err = c.update(ctx, func(tx *sql.Tx) error {
		if !sameUser {
			if err := c.forgetUser(ctx, tx, deviceID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE device SET user_id = ?, email = ?, display_name = ?, role = ?, session_id = ?,
			access_token = ?, access_expires_ms = ?, refresh_token = ?, refresh_expires_ms = ? WHERE id = 1`,
			u.GetId(), u.GetEmail(), u.GetDisplayName(), roleNames[u.GetRole()], resp.Msg.GetSessionId(),
			t.GetAccessToken(), sqlitedb.OptMillis(t.GetAccessTokenExpireTime().AsTime()),
			t.GetRefreshToken(), sqlitedb.OptMillis(t.GetRefreshTokenExpireTime().AsTime()))
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("field: save session: %w", err)
	}
	return c.Session(ctx)
}

// forgetUser drops everything of the previous user (who has nothing
// unsent) and gives the device a fresh identity for the next one.
func (c *Client) forgetUser(ctx context.Context, tx *sql.Tx, deviceID string) error {
	if err := clearServerData(ctx, tx); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM outbox`, `DELETE FROM timers`, `DELETE FROM photos`, `DELETE FROM answers`, `DELETE FROM visits`,
		`DELETE FROM checklist_versions`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("field: forget previous user: %w", err)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE device SET device_id = ?, next_seq = 1, cursor = '', server_applied_seq = 0,
		last_pull_ms = 0, last_push_ms = 0 WHERE id = 1`, deviceID)
	return err
}

// unsentCount counts drafts and visits whose submission is still pending.
func (c *Client) unsentCount(ctx context.Context) (int, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM visits WHERE status = 'draft') +
		(SELECT COUNT(*) FROM outbox WHERE status = 'pending')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("field: count unsent visits: %w", err)
	}
	return n, nil
}

// Logout forgets the tokens on the device (drafts and the outbox stay, for
// the same user to sync after signing in again). It works offline.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, `UPDATE device SET access_token = '', access_expires_ms = 0, refresh_token = '',
		refresh_expires_ms = 0 WHERE id = 1`)
	if err != nil {
		return fmt.Errorf("field: log out: %w", err)
	}
	return nil
}

// errNotLoggedIn is the answer when the device holds no usable session.
func errNotLoggedIn() error {
	return audit.Errorf(audit.EUNAUTHORIZED, "not signed in on this device: log in first")
}

// tokens reads the stored tokens.
func (c *Client) tokens(ctx context.Context) (access string, accessExp time.Time, refresh, deviceID string, err error) {
	var exp int64
	err = c.db.QueryRowContext(ctx, `SELECT access_token, access_expires_ms, refresh_token, device_id FROM device WHERE id = 1`).
		Scan(&access, &exp, &refresh, &deviceID)
	if err != nil {
		return "", time.Time{}, "", "", fmt.Errorf("field: read tokens: %w", err)
	}
	return access, sqlitedb.FromOptMillis(exp), refresh, deviceID, nil
}

// accessToken returns a usable access token, refreshing it first when it
// expires within RefreshBefore. stale, when not empty, is a token the
// server refused: it is refreshed unless another caller already did.
// Errors: EUNAUTHORIZED (not signed in, or the session is gone: log in
// again), or the refresh's error.
func (c *Client) accessToken(ctx context.Context, stale string) (string, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	access, exp, refresh, deviceID, err := c.tokens(ctx)
	if err != nil {
		return "", err
	}
	if refresh == "" && access == "" {
		return "", errNotLoggedIn()
	}
	fresh := access != "" && access != stale && c.cfg.Now().Add(c.cfg.RefreshBefore).Before(exp)
	if fresh {
		return access, nil
	}
	if refresh == "" {
		return "", errNotLoggedIn()
	}
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, err := c.auth.Refresh(callCtx, connect.NewRequest(&v1.RefreshRequest{RefreshToken: refresh, DeviceId: deviceID}))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			// The session was revoked or the refresh token expired: the
			// tokens are useless; the drafts and outbox are kept.
			_ = c.Logout(ctx)
			return "", audit.Errorf(audit.EUNAUTHORIZED, "the session on this device has ended (%s): log in again", connectMessage(err))
		}
		return "", remote("refresh the session", err)
	}
	t := resp.Msg.GetTokens()
	_, err = c.db.ExecContext(ctx, `UPDATE device SET access_token = ?, access_expires_ms = ?, refresh_token = ?,
		refresh_expires_ms = ? WHERE id = 1`, t.GetAccessToken(), sqlitedb.OptMillis(t.GetAccessTokenExpireTime().AsTime()),
		t.GetRefreshToken(), sqlitedb.OptMillis(t.GetRefreshTokenExpireTime().AsTime()))
	if err != nil {
		return "", fmt.Errorf("field: save refreshed tokens: %w", err)
	}
	return t.GetAccessToken(), nil
}

func connectMessage(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}

// authInterceptor sends the access token on every call of the sync and
// evidence clients, refreshing it when it is about to expire, and once
// more when the server answers Unauthenticated.
type authInterceptor struct{ c *Client }

func (a authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		token, err := a.c.accessToken(ctx, "")
		if err != nil {
			return nil, asConnect(err)
		}
		req.Header().Set("Authorization", "Bearer "+token)
		resp, err := next(ctx, req)
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			return resp, err
		}
		token, rerr := a.c.accessToken(ctx, token)
		if rerr != nil {
			return nil, asConnect(rerr)
		}
		req.Header().Set("Authorization", "Bearer "+token)
		return next(ctx, req)
	}
}

func (a authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// asConnect turns a domain error into a Connect error of the same meaning,
// so that the caller's protocol.FromConnect maps it back unchanged; other
// errors are returned as they are.
func asConnect(err error) error {
	var d *audit.Error
	if errors.As(err, &d) {
		return connect.NewError(protocol.ConnectCode(d.Code), errors.New(d.Message))
	}
	return err
}
