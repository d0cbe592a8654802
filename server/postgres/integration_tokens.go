package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// integrationTokenRows is storage.IntegrationTokens on PostgreSQL.
type integrationTokenRows struct{ rows }

// IntegrationTokens returns the integration tokens, each call in a transaction of its own.
func (db *DB) IntegrationTokens() storage.IntegrationTokens {
	return integrationTokenRows{in(db, nil)}
}

// IntegrationTokens returns the integration tokens as this transaction sees them.
func (tx *Tx) IntegrationTokens() storage.IntegrationTokens {
	return integrationTokenRows{in(tx.db, tx)}
}

// Add stores a new token (storage.IntegrationTokens). Errors: EEXISTS.
func (r integrationTokenRows) Add(ctx context.Context, t *storage.IntegrationToken) error {
	scopes, err := storage.EncodeList(t.Scopes)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO integration_tokens (id, name, scopes, hash, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.Name, scopes, t.Hash, tx.now, t.CreatedBy)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "integration token %s exists already", t.ID)
		} else if err != nil {
			return fmt.Errorf("add integration token: %w", err)
		}
		t.CreatedAt = tx.now
		return nil
	})
}

const integrationTokenSelect = `SELECT id, name, scopes::text, hash, created_at, created_by, last_used_at, revoked_at, revoked_by
	FROM integration_tokens`

func scanIntegrationToken(row pgx.Row) (*storage.IntegrationToken, error) {
	var t storage.IntegrationToken
	var scopes string
	var used, revoked *time.Time
	if err := row.Scan(&t.ID, &t.Name, &scopes, &t.Hash, &t.CreatedAt, &t.CreatedBy, &used, &revoked, &t.RevokedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("integration token %s: scopes: %w", t.ID, err)
	}
	t.LastUsedAt, t.RevokedAt = timeOf(used), timeOf(revoked)
	return &t, nil
}

func (r integrationTokenRows) findWhere(ctx context.Context, what, cond string, arg any) (*storage.IntegrationToken, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.IntegrationToken, error) {
		t, err := scanIntegrationToken(tx.QueryRow(ctx, integrationTokenSelect+` WHERE `+cond, arg))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "integration token %s not found", what)
		} else if err != nil {
			return nil, fmt.Errorf("find integration token %s: %w", what, err)
		}
		return t, nil
	})
}

// Find returns one token (storage.IntegrationTokens). Errors: ENOTFOUND.
func (r integrationTokenRows) Find(ctx context.Context, id string) (*storage.IntegrationToken, error) {
	return r.findWhere(ctx, id, `id = $1`, id)
}

// FindByHash returns the token of a hash (storage.IntegrationTokens).
// Errors: ENOTFOUND.
func (r integrationTokenRows) FindByHash(ctx context.Context, hash string) (*storage.IntegrationToken, error) {
	return r.findWhere(ctx, "of this hash", `hash = $1`, hash)
}

// List returns every token, newest first (storage.IntegrationTokens).
func (r integrationTokenRows) List(ctx context.Context) ([]*storage.IntegrationToken, error) {
	return query(ctx, r.rows, func(tx *Tx) ([]*storage.IntegrationToken, error) {
		var out []*storage.IntegrationToken
		err := each(ctx, tx, "list integration tokens", integrationTokenSelect+` ORDER BY created_at DESC, id COLLATE "C"`, nil,
			func(rows pgx.Rows) error {
				t, err := scanIntegrationToken(rows)
				out = append(out, t)
				return err
			})
		return out, err
	})
}

// Revoke revokes a live token (storage.IntegrationTokens). Errors:
// ENOTFOUND.
func (r integrationTokenRows) Revoke(ctx context.Context, id, by string) error {
	return r.change(ctx, id, `UPDATE integration_tokens SET revoked_at = coalesce(revoked_at, $1),
		revoked_by = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoked_by END WHERE id = $3`, func(tx *Tx) []any {
		return []any{tx.now, by, id}
	})
}

// Used records a token's last use (storage.IntegrationTokens). Errors:
// ENOTFOUND.
func (r integrationTokenRows) Used(ctx context.Context, id string, at time.Time) error {
	return r.change(ctx, id, `UPDATE integration_tokens SET last_used_at = $1 WHERE id = $2`, func(*Tx) []any {
		return []any{at, id}
	})
}

func (r integrationTokenRows) change(ctx context.Context, id, q string, args func(*Tx) []any) error {
	return r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, q, args(tx)...)
		if err != nil {
			return fmt.Errorf("change integration token %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return audit.Errorf(audit.ENOTFOUND, "integration token %s not found", id)
		}
		return nil
	})
}
