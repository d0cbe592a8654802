package app

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Integration tokens (issue 16 §5): long-lived API tokens an admin makes
// for a service account (a BI tool, a script), each with scopes
// (audit.TokenScope), stored as their SHA-256 only, shown once, and
// revocable; the server authenticates them in the same middleware as
// access tokens and authorizes them by the same procedure table, within
// their scopes (server/authz.go).

// tokenUseGranularity is how stale a token's last-used time may be
// before a call writes it again: one write a minute per token, not one
// per call.
const tokenUseGranularity = time.Minute

// CreateIntegrationToken makes a token named name with scopes for the
// admin actor and returns it with the token itself, which is never
// stored or shown again. Errors: EINVALID (no name, a name too long, an
// unknown or repeated scope, naming it).
func (a *App) CreateIntegrationToken(ctx context.Context, actor audit.Principal, name string, scopes []string) (*storage.IntegrationToken, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, "", audit.Errorf(audit.EINVALID, "an integration token needs a name (what uses it)")
	case len(name) > audit.MaxNameLen || !utf8.ValidString(name):
		return nil, "", audit.Errorf(audit.EINVALID, "integration token name %.40q…: at most %d bytes of UTF-8", name, audit.MaxNameLen)
	}
	parsed, err := audit.ParseTokenScopes(scopes)
	if err != nil {
		return nil, "", err
	}
	secret, hash, err := newSecretToken(audit.IntegrationTokenPrefix)
	if err != nil {
		return nil, "", err
	}
	t := &storage.IntegrationToken{ID: newID(), Name: name, Hash: hash, CreatedBy: actor.UserID}
	for _, s := range parsed {
		t.Scopes = append(t.Scopes, string(s))
	}
	err = a.st.Update(ctx, func(tx storage.Tx) error {
		return tx.IntegrationTokens().Add(ctx, t)
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// ListIntegrationTokens returns every integration token, revoked ones
// included, newest first.
func (a *App) ListIntegrationTokens(ctx context.Context) ([]*storage.IntegrationToken, error) {
	return a.st.IntegrationTokens().List(ctx)
}

// RevokeIntegrationToken revokes a token for good: its next call is
// refused. Revoking a revoked token changes nothing. Errors: ENOTFOUND.
func (a *App) RevokeIntegrationToken(ctx context.Context, actor audit.Principal, id string) (*storage.IntegrationToken, error) {
	var out *storage.IntegrationToken
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.IntegrationTokens().Revoke(ctx, id, actor.UserID); err != nil {
			return err
		}
		var err error
		out, err = tx.IntegrationTokens().Find(ctx, id)
		return err
	})
	return out, err
}

// AuthenticateIntegrationToken returns the caller a presented
// integration token stands for, and records its use (at most once a
// minute). Errors: EUNAUTHORIZED (unknown or revoked; one message for
// both outside the log).
func (a *App) AuthenticateIntegrationToken(ctx context.Context, token string) (audit.Principal, error) {
	t, err := a.st.IntegrationTokens().FindByHash(ctx, invitationHash(token))
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND:
		return audit.Principal{}, audit.Errorf(audit.EUNAUTHORIZED, "unknown integration token")
	case err != nil:
		return audit.Principal{}, err
	case !t.RevokedAt.IsZero():
		return audit.Principal{}, audit.Errorf(audit.EUNAUTHORIZED, "integration token %q was revoked", t.Name)
	}
	p := audit.Principal{TokenID: t.ID}
	for _, s := range t.Scopes {
		p.Scopes = append(p.Scopes, audit.TokenScope(s))
	}
	if now := a.now(); now.Sub(t.LastUsedAt) >= tokenUseGranularity {
		err := a.st.Update(ctx, func(tx storage.Tx) error {
			return tx.IntegrationTokens().Used(ctx, t.ID, now)
		})
		if err != nil {
			return audit.Principal{}, err
		}
	}
	return p, nil
}
