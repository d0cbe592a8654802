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

// Savepoint runs fn inside the transaction and undoes what it did when it
// returns an error (storage.Tx). A savepoint rolled back is released too,
// so that a push of many refused mutations does not nest one
// subtransaction in the next. Nested calls nest: the name is reused, and
// PostgreSQL rolls back to, and releases, the innermost savepoint of a
// name.
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.Exec(ctx, `SAVEPOINT mutation`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT mutation`); rerr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after %w)", rerr, err)
		}
		if _, rerr := tx.Exec(ctx, `RELEASE SAVEPOINT mutation`); rerr != nil {
			return fmt.Errorf("release savepoint: %w (after %w)", rerr, err)
		}
		return err
	}
	if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT mutation`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// Find returns the device of a live session of the user (storage.Devices).
//
// In a write transaction it locks the device's sequence row (FOR UPDATE,
// making the row first for a device that never pushed): a push reads the
// last seq here and advances it at its end, so two pushes of one device
// reaching two servers at once must not both read the same last seq. The
// second waits for the first to end; then SERIALIZABLE aborts it (the row
// changed under its snapshot) and db.update runs it again, in a snapshot
// that sees the first push's seqs, so it replays them or continues after
// them, in order and once.
func (r deviceRows) Find(ctx context.Context, userID, sessionID string) (*storage.Device, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.Device, error) {
		d := &storage.Device{UserID: userID}
		err := tx.QueryRow(ctx, `SELECT device_id FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
			sessionID, userID).Scan(&d.DeviceID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no live session %q of the user", sessionID)
		} else if err != nil {
			return nil, fmt.Errorf("find session: %w", err)
		}
		if tx.readOnly {
			err = tx.QueryRow(ctx, `SELECT last_seq FROM device_seqs WHERE user_id = $1 AND device_id = $2`, userID, d.DeviceID).Scan(&d.LastSeq)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return nil, fmt.Errorf("find device seq: %w", err)
			}
			return d, nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO device_seqs (user_id, device_id, last_seq, updated_at) VALUES ($1, $2, 0, $3)
			ON CONFLICT (user_id, device_id) DO NOTHING`, userID, d.DeviceID, tx.now); err != nil {
			return nil, fmt.Errorf("find device seq: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT last_seq FROM device_seqs WHERE user_id = $1 AND device_id = $2 FOR UPDATE`,
			userID, d.DeviceID).Scan(&d.LastSeq); err != nil {
			return nil, fmt.Errorf("lock device seq: %w", err)
		}
		return d, nil
	})
}

// LastSeq returns the last seq of the device of a session, without a lock
// (storage.Devices).
func (r deviceRows) LastSeq(ctx context.Context, userID, sessionID string) (int64, error) {
	return query(ctx, r.rows, func(tx *Tx) (int64, error) {
		var last int64
		err := tx.QueryRow(ctx, `SELECT d.last_seq FROM sessions s JOIN device_seqs d ON d.user_id = s.user_id AND d.device_id = s.device_id
			WHERE s.id = $1 AND s.user_id = $2`, sessionID, userID).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("find device seq: %w", err)
		}
		return last, nil
	})
}

// Advance sets the device's last seq and clock offset (storage.Devices).
func (r deviceRows) Advance(ctx context.Context, d storage.Device, seq int64, offset *time.Duration) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO device_seqs (user_id, device_id, last_seq, clock_offset_ms, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id, device_id) DO UPDATE SET last_seq = excluded.last_seq,
				clock_offset_ms = COALESCE(excluded.clock_offset_ms, device_seqs.clock_offset_ms), updated_at = excluded.updated_at`,
			d.UserID, d.DeviceID, seq, durationMillis(offset), tx.now)
		if err != nil {
			return fmt.Errorf("advance device seq: %w", err)
		}
		return nil
	})
}

// Record keeps the result of a mutation for replays (storage.Devices). A
// mutation id another seq holds is found by ON CONFLICT rather than by a
// failing INSERT: a failed statement would abort the whole transaction
// here, and the push goes on to record the seq as refused.
func (r deviceRows) Record(ctx context.Context, d storage.Device, m storage.StoredMutation, keepID bool) error {
	return r.write(ctx, func(tx *Tx) error {
		b, err := storage.EncodeResult(m)
		if err != nil {
			return err
		}
		var id *string
		if keepID {
			id = &m.MutationID
		}
		tag, err := tx.Exec(ctx, `INSERT INTO sync_mutations (user_id, device_id, seq, mutation_id, digest, result, device_time, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (mutation_id) DO NOTHING`,
			d.UserID, d.DeviceID, m.Seq, id, m.Digest, b, nullTime(m.DeviceTime), tx.now)
		switch {
		case err != nil:
			return fmt.Errorf("store mutation result: %w", err)
		case tag.RowsAffected() == 0:
			return storage.ErrMutationIDTaken
		}
		return nil
	})
}

// Result returns the stored result of a seq of the device (storage.Devices).
func (r deviceRows) Result(ctx context.Context, d storage.Device, seq int64) (*storage.StoredMutation, error) {
	return selectOne(ctx, r.rows, fmt.Sprintf("find result of seq %d", seq), fmt.Sprintf("no result of seq %d", seq),
		func(row pgx.Row) (*storage.StoredMutation, error) {
			m := &storage.StoredMutation{Seq: seq}
			var raw []byte
			var at *time.Time
			if err := row.Scan(&m.Digest, &raw, &at); err != nil {
				return nil, err
			}
			if err := storage.DecodeResult(raw, m); err != nil {
				return nil, err
			}
			m.DeviceTime = timeOf(at)
			return m, nil
		}, `SELECT digest, result, device_time FROM sync_mutations WHERE user_id = $1 AND device_id = $2 AND seq = $3`,
		d.UserID, d.DeviceID, seq)
}

// PruneResults deletes at most limit stored results received before
// before, oldest first (storage.Devices), through the index of receive
// times (migration 0007).
func (r deviceRows) PruneResults(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := exec(ctx, r.rows, "prune mutation results", `DELETE FROM sync_mutations WHERE ctid IN (
		SELECT ctid FROM sync_mutations WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, ms(before), limit)
	return int(n), err
}

// durationMillis stores a duration in milliseconds; nil is NULL.
func durationMillis(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}
	n := d.Milliseconds()
	return &n
}
