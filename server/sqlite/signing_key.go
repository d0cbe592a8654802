package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/server/storage"
)

const signingKeySelect = `SELECT kid, purpose, public_key, sealed_private_key, created_at, retired_at FROM signing_keys`

func scanSigningKey(row scanner) (storage.SigningKey, error) {
	var k storage.SigningKey
	var created int64
	var retired sql.NullInt64
	err := row.Scan(&k.KID, &k.Purpose, &k.PublicKey, &k.SealedPrivateKey, &created, &retired)
	k.CreatedAt, k.RetiredAt = fromMillis(created), fromNullMillis(retired)
	return k, err
}

// List returns the keys of purpose, oldest first (storage.SigningKeys).
func (r signingKeyRows) List(ctx context.Context, purpose string) ([]storage.SigningKey, error) {
	return selectAll(ctx, r.rows, "signing keys", scanSigningKey,
		signingKeySelect+` WHERE purpose = ? ORDER BY created_at, kid`, purpose)
}

// AllSigningKeys returns every signing key q reads, of every purpose,
// oldest first: for a tool reading a database in a transaction of its
// own (migrate-to checks that each opens before it copies them).
func AllSigningKeys(ctx context.Context, q sqlitedb.Queryer) ([]storage.SigningKey, error) {
	rows, err := q.QueryContext(ctx, signingKeySelect+` ORDER BY created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	defer rows.Close()
	var out []storage.SigningKey
	for rows.Next() {
		k, err := scanSigningKey(rows)
		if err != nil {
			return nil, fmt.Errorf("read signing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	return out, nil
}

// insertSigningKey stores k in tx.
func insertSigningKey(ctx context.Context, tx *Tx, k storage.SigningKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, purpose, public_key, sealed_private_key, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.KID, k.Purpose, k.PublicKey, k.SealedPrivateKey, millis(k.CreatedAt), nullMillis(k.RetiredAt))
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "signing key %s is already stored", k.KID)
	} else if err != nil {
		return fmt.Errorf("store signing key %s: %w", k.KID, err)
	}
	return nil
}

// AddFirst stores keys when none of purpose is stored
// (storage.SigningKeys).
func (r signingKeyRows) AddFirst(ctx context.Context, purpose string, keys []storage.SigningKey) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM signing_keys WHERE purpose = ?`, purpose).Scan(&n); err != nil {
			return false, fmt.Errorf("count signing keys: %w", err)
		}
		if n > 0 {
			return false, nil
		}
		for _, k := range keys {
			if k.Purpose != purpose {
				return false, fmt.Errorf("signing key %s is for %q, not %q", k.KID, k.Purpose, purpose)
			}
			if err := insertSigningKey(ctx, tx, k); err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// Rotate stores k and retires the other active keys of its purpose
// (storage.SigningKeys). Errors: EEXISTS.
func (r signingKeyRows) Rotate(ctx context.Context, k storage.SigningKey) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ? WHERE purpose = ? AND retired_at IS NULL AND kid <> ?`,
			millis(k.CreatedAt), k.Purpose, k.KID); err != nil {
			return fmt.Errorf("retire signing keys: %w", err)
		}
		k.RetiredAt = time.Time{}
		return insertSigningKey(ctx, tx, k)
	})
}

// DeleteRetired deletes the keys of purpose retired at or before until
// (storage.SigningKeys).
func (r signingKeyRows) DeleteRetired(ctx context.Context, purpose string, until time.Time) (int64, error) {
	return put(ctx, r.rows, func(tx *Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE purpose = ? AND retired_at <= ?`, purpose, millis(until))
		if err != nil {
			return 0, fmt.Errorf("delete retired signing keys: %w", err)
		}
		return res.RowsAffected()
	})
}
