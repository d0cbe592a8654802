package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Savepoint runs fn inside the transaction and undoes what it did when it
// returns an error (storage.Tx).
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT mutation`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO mutation`); rerr != nil {
			return fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		if _, rerr := tx.ExecContext(ctx, `RELEASE mutation`); rerr != nil {
			return fmt.Errorf("release savepoint: %w", rerr)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE mutation`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// Find returns the device of a live session of the user (storage.Devices).
func (r deviceRows) Find(ctx context.Context, userID, sessionID string) (*storage.Device, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.Device, error) {
		d := &storage.Device{UserID: userID}
		err := tx.QueryRowContext(ctx, `SELECT device_id FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL`,
			sessionID, userID).Scan(&d.DeviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no live session %q of the user", sessionID)
		} else if err != nil {
			return nil, fmt.Errorf("find session: %w", err)
		}
		err = tx.QueryRowContext(ctx, `SELECT last_seq FROM device_seqs WHERE user_id = ? AND device_id = ?`, userID, d.DeviceID).Scan(&d.LastSeq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find device seq: %w", err)
		}
		return d, nil
	})
}

// LastSeq returns the last seq of the device of a session (storage.Devices).
func (r deviceRows) LastSeq(ctx context.Context, userID, sessionID string) (int64, error) {
	return get(ctx, r.rows, func(tx *Tx) (int64, error) {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT d.last_seq FROM sessions s JOIN device_seqs d ON d.user_id = s.user_id AND d.device_id = s.device_id
			WHERE s.id = ? AND s.user_id = ?`, sessionID, userID).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("find device seq: %w", err)
		}
		return last, nil
	})
}

// Advance sets the device's last seq and clock offset (storage.Devices).
func (r deviceRows) Advance(ctx context.Context, d storage.Device, seq int64, offset *time.Duration) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO device_seqs (user_id, device_id, last_seq, clock_offset_ms, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, device_id) DO UPDATE SET last_seq = excluded.last_seq,
				clock_offset_ms = COALESCE(excluded.clock_offset_ms, clock_offset_ms), updated_at = excluded.updated_at`,
			d.UserID, d.DeviceID, seq, nullDuration(offset), millis(tx.now))
		if err != nil {
			return fmt.Errorf("advance device seq: %w", err)
		}
		return nil
	})
}

// Record keeps the result of a mutation for replays (storage.Devices).
func (r deviceRows) Record(ctx context.Context, d storage.Device, m storage.StoredMutation, keepID bool) error {
	return r.write(ctx, func(tx *Tx) error {
		b, err := storage.EncodeResult(m)
		if err != nil {
			return err
		}
		id := sql.NullString{String: m.MutationID, Valid: keepID}
		_, err = tx.ExecContext(ctx, `INSERT INTO sync_mutations (user_id, device_id, seq, mutation_id, digest, result, device_time, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.UserID, d.DeviceID, m.Seq, id, m.Digest, b, nullMillis(m.DeviceTime), millis(tx.now))
		switch {
		case isUniqueViolation(err):
			return storage.ErrMutationIDTaken
		case err != nil:
			return fmt.Errorf("store mutation result: %w", err)
		}
		return nil
	})
}

// Result returns the stored result of a seq of the device (storage.Devices).
func (r deviceRows) Result(ctx context.Context, d storage.Device, seq int64) (*storage.StoredMutation, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.StoredMutation, error) {
		m := &storage.StoredMutation{Seq: seq}
		var raw []byte
		var at sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT digest, result, device_time FROM sync_mutations WHERE user_id = ? AND device_id = ? AND seq = ?`,
			d.UserID, d.DeviceID, seq).Scan(&m.Digest, &raw, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no result of seq %d", seq)
		} else if err != nil {
			return nil, fmt.Errorf("find result of seq %d: %w", seq, err)
		}
		if err := storage.DecodeResult(raw, m); err != nil {
			return nil, err
		}
		m.DeviceTime = fromNullMillis(at)
		return m, nil
	})
}

// PruneResults deletes old stored results (storage.Devices). Rows are
// read in rowid order, which is the order they were stored in: the batch
// is the oldest limit rows, of which those received before before go.
// Nothing needs an index of receive times.
func (r deviceRows) PruneResults(ctx context.Context, before time.Time, limit int) (int, error) {
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM sync_mutations WHERE rowid IN (SELECT rowid FROM sync_mutations ORDER BY rowid LIMIT ?)
			AND received_at < ?`, limit, millis(before))
		if err != nil {
			return 0, fmt.Errorf("prune mutation results: %w", err)
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
}

// nullDuration stores a duration in milliseconds; nil is NULL.
func nullDuration(d *time.Duration) sql.NullInt64 {
	if d == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: d.Milliseconds(), Valid: true}
}
