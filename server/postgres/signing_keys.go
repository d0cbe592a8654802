package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

const signingKeySelect = `SELECT kid, purpose, public_key, sealed_private_key, created_at, retired_at FROM signing_keys`

func scanSigningKey(row pgx.Row) (storage.SigningKey, error) {
	var k storage.SigningKey
	var retired *time.Time
	err := row.Scan(&k.KID, &k.Purpose, &k.PublicKey, &k.SealedPrivateKey, &k.CreatedAt, &retired)
	k.RetiredAt = timeOf(retired)
	return k, err
}

// List returns the keys of purpose, oldest first (storage.SigningKeys).
func (r signingKeyRows) List(ctx context.Context, purpose string) ([]storage.SigningKey, error) {
	return selectAll(ctx, r.rows, "signing keys", scanSigningKey,
		signingKeySelect+` WHERE purpose = $1 ORDER BY created_at, kid`, purpose)
}

// insertSigningKey stores k in tx.
func insertSigningKey(ctx context.Context, tx *Tx, k storage.SigningKey) error {
	_, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, purpose, public_key, sealed_private_key, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Purpose, k.PublicKey, k.SealedPrivateKey, ms(k.CreatedAt), nullTime(k.RetiredAt))
	if isUniqueViolation(err) {
		return audit.Errorf(audit.EEXISTS, "signing key %s is already stored", k.KID)
	} else if err != nil {
		return fmt.Errorf("store signing key %s: %w", k.KID, err)
	}
	return nil
}

// AddFirst stores keys when none of purpose is stored
// (storage.SigningKeys). Servers doing it at once wait for each other on
// a lock of the purpose held until commit; a later one whose snapshot
// predates the first one's commit meets its rows in the unique indexes
// (or a serialization failure, run again) and has lost the race: it
// stores nothing and reports false. Inside a caller's transaction that
// is an error, since the transaction is spoiled.
func (r signingKeyRows) AddFirst(ctx context.Context, purpose string, keys []storage.SigningKey) (bool, error) {
	var stored bool
	err := r.write(ctx, func(tx *Tx) error {
		stored = false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('shopscore signing keys ' || $1, 0))`, purpose); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE purpose = $1)`, purpose).Scan(&any); err != nil {
			return fmt.Errorf("look for signing keys: %w", err)
		}
		if any {
			return nil
		}
		for _, k := range keys {
			if k.Purpose != purpose {
				return fmt.Errorf("signing key %s is for %q, not %q", k.KID, k.Purpose, purpose)
			}
			if err := insertSigningKey(ctx, tx, k); err != nil {
				if audit.ErrorCode(err) == audit.EEXISTS && r.tx == nil {
					return errLostFirst
				}
				return err
			}
		}
		stored = true
		return nil
	})
	if errors.Is(err, errLostFirst) {
		return false, nil
	}
	return stored, err
}

// errLostFirst is AddFirst meeting another server's first keys.
var errLostFirst = errors.New("postgres: another server stored the first signing keys")

// Rotate stores k and retires the other active keys of its purpose
// (storage.SigningKeys). Errors: EEXISTS.
func (r signingKeyRows) Rotate(ctx context.Context, k storage.SigningKey) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE purpose = $2 AND retired_at IS NULL AND kid <> $3`,
			ms(k.CreatedAt), k.Purpose, k.KID); err != nil {
			return fmt.Errorf("retire signing keys: %w", err)
		}
		k.RetiredAt = time.Time{}
		return insertSigningKey(ctx, tx, k)
	})
}

// DeleteRetired deletes the keys of purpose retired at or before until
// (storage.SigningKeys).
func (r signingKeyRows) DeleteRetired(ctx context.Context, purpose string, until time.Time) (int64, error) {
	return exec(ctx, r.rows, "delete retired signing keys",
		`DELETE FROM signing_keys WHERE purpose = $1 AND retired_at <= $2`, purpose, ms(until))
}
