package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// integrationTokenRows is storage.IntegrationTokens on SQLite.
type integrationTokenRows struct{ rows }

// IntegrationTokens returns the integration tokens, each call in its own transaction.
func (db *DB) IntegrationTokens() storage.IntegrationTokens {
	return integrationTokenRows{rows{db: db}}
}

// IntegrationTokens returns the integration tokens as this transaction sees them.
func (tx *Tx) IntegrationTokens() storage.IntegrationTokens {
	return integrationTokenRows{rows{db: tx.db, tx: tx}}
}

// Add stores a new token (storage.IntegrationTokens). Errors: EEXISTS.
func (r integrationTokenRows) Add(ctx context.Context, t *storage.IntegrationToken) error {
	scopes, err := storage.EncodeList(t.Scopes)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO integration_tokens (id, name, scopes, hash, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.Name, scopes, t.Hash, millis(tx.now), t.CreatedBy)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "integration token %s exists already", t.ID)
		} else if err != nil {
			return fmt.Errorf("add integration token: %w", err)
		}
		t.CreatedAt = fromMillis(millis(tx.now))
		return nil
	})
}

const integrationTokenSelect = `SELECT id, name, scopes, hash, created_at, created_by, last_used_at, revoked_at, revoked_by
	FROM integration_tokens`

func scanIntegrationToken(row scanner) (*storage.IntegrationToken, error) {
	var t storage.IntegrationToken
	var scopes string
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.Name, &scopes, &t.Hash, &created, &t.CreatedBy, &used, &revoked, &t.RevokedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("integration token %s: scopes: %w", t.ID, err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMillis(created), fromNullMillis(used), fromNullMillis(revoked)
	return &t, nil
}

func (r integrationTokenRows) findWhere(ctx context.Context, what, cond string, arg any) (*storage.IntegrationToken, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.IntegrationToken, error) {
		t, err := scanIntegrationToken(tx.QueryRowContext(ctx, integrationTokenSelect+` WHERE `+cond, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "integration token %s not found", what)
		} else if err != nil {
			return nil, fmt.Errorf("find integration token %s: %w", what, err)
		}
		return t, nil
	})
}

// Find returns one token (storage.IntegrationTokens). Errors: ENOTFOUND.
func (r integrationTokenRows) Find(ctx context.Context, id string) (*storage.IntegrationToken, error) {
	return r.findWhere(ctx, id, `id = ?`, id)
}

// FindByHash returns the token of a hash (storage.IntegrationTokens).
// Errors: ENOTFOUND.
func (r integrationTokenRows) FindByHash(ctx context.Context, hash string) (*storage.IntegrationToken, error) {
	return r.findWhere(ctx, "of this hash", `hash = ?`, hash)
}

// List returns every token, newest first (storage.IntegrationTokens).
func (r integrationTokenRows) List(ctx context.Context) ([]*storage.IntegrationToken, error) {
	return selectAll(ctx, r.rows, "list integration tokens", scanIntegrationToken,
		integrationTokenSelect+` ORDER BY created_at DESC, rowid DESC`)
}

// Revoke revokes a live token (storage.IntegrationTokens). Errors:
// ENOTFOUND.
func (r integrationTokenRows) Revoke(ctx context.Context, id, by string) error {
	return r.change(ctx, id, `UPDATE integration_tokens SET revoked_at = coalesce(revoked_at, ?),
		revoked_by = CASE WHEN revoked_at IS NULL THEN ? ELSE revoked_by END WHERE id = ?`, func(tx *Tx) []any {
		return []any{millis(tx.now), by, id}
	})
}

// Used records a token's last use (storage.IntegrationTokens). Errors:
// ENOTFOUND.
func (r integrationTokenRows) Used(ctx context.Context, id string, at time.Time) error {
	return r.change(ctx, id, `UPDATE integration_tokens SET last_used_at = ? WHERE id = ?`, func(*Tx) []any {
		return []any{millis(at), id}
	})
}

func (r integrationTokenRows) change(ctx context.Context, id, q string, args func(*Tx) []any) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, q, args(tx)...)
		if err != nil {
			return fmt.Errorf("change integration token %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "integration token %s not found", id)
		}
		return nil
	})
}
