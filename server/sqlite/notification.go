package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/server/storage"
)

// notificationRows is storage.Notifications on SQLite.
type notificationRows struct{ rows }

// Notifications returns the e-mail preferences and queue, each call in
// its own transaction.
func (db *DB) Notifications() storage.Notifications { return notificationRows{rows{db: db}} }

// Notifications returns the e-mail preferences and queue as this
// transaction sees them.
func (tx *Tx) Notifications() storage.Notifications {
	return notificationRows{rows{db: tx.db, tx: tx}}
}

// Prefs returns a user's preferences (storage.Notifications).
func (r notificationRows) Prefs(ctx context.Context, userID string) (storage.NotificationPrefs, error) {
	return get(ctx, r.rows, func(tx *Tx) (storage.NotificationPrefs, error) {
		var p storage.NotificationPrefs
		err := tx.QueryRowContext(ctx, `SELECT language, email_off, digest FROM notification_prefs WHERE user_id = ?`, userID).
			Scan(&p.Language, &p.EmailOff, &p.Digest)
		if errors.Is(err, sql.ErrNoRows) {
			return storage.NotificationPrefs{}, nil
		} else if err != nil {
			return p, fmt.Errorf("notification preferences of %s: %w", userID, err)
		}
		return p, nil
	})
}

// SetPrefs stores a user's preferences (storage.Notifications).
func (r notificationRows) SetPrefs(ctx context.Context, userID string, p storage.NotificationPrefs) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_prefs (user_id, language, email_off, digest) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, email_off = excluded.email_off, digest = excluded.digest`,
			userID, p.Language, p.EmailOff, p.Digest); err != nil {
			return fmt.Errorf("store notification preferences of %s: %w", userID, err)
		}
		return nil
	})
}

// Add queues an e-mail; a digest joins the user's pending digest due at
// the same time (storage.Notifications).
func (r notificationRows) Add(ctx context.Context, n *storage.Notification) error {
	return r.write(ctx, func(tx *Tx) error {
		n.State, n.CreatedAt = storage.NotificationPending, tx.now
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, user_id, digest, items, state, next_at, created_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?)
			ON CONFLICT (user_id, next_at) WHERE digest AND state = 'pending'
			DO UPDATE SET items = (SELECT json_group_array(json(value)) FROM
				(SELECT value FROM json_each(notifications.items) UNION ALL SELECT value FROM json_each(excluded.items)))`,
			n.ID, n.UserID, n.Digest, string(n.Items), millis(n.NextAt), millis(tx.now)); err != nil {
			return fmt.Errorf("queue e-mail to %s: %w", n.UserID, err)
		}
		return nil
	})
}

const notificationColumns = `id, user_id, digest, items, state, attempts, first_at, next_at, created_at, done_at, last_error`

func scanNotification(row scanner, extra ...any) (*storage.Notification, error) {
	var n storage.Notification
	var items string
	var first, done sql.NullInt64
	var next, created int64
	if err := row.Scan(append([]any{&n.ID, &n.UserID, &n.Digest, &items, &n.State, &n.Attempts, &first, &next, &created, &done,
		&n.LastError}, extra...)...); err != nil {
		return nil, err
	}
	n.Items = []byte(items)
	n.FirstAt, n.SentAt = fromNullMillis(first), fromNullMillis(done)
	n.NextAt, n.CreatedAt = fromMillis(next), fromMillis(created)
	return &n, nil
}

// dueNotifications selects the ids of the due e-mails whose lease ran
// out, earliest due first: the arguments are now, now and the limit.
const dueNotifications = `SELECT id FROM notifications WHERE state = 'pending' AND next_at <= ? AND lease_until <= ?
	ORDER BY next_at, id LIMIT ?`

// Claim leases due e-mails (storage.Notifications): on SQLite the single
// writer runs one claim at a time. Called on the DB, it looks on a reader
// first and takes the writer only when something is due.
func (r notificationRows) Claim(ctx context.Context, c storage.Claim) ([]*storage.ClaimedNotification, error) {
	now := millis(c.Now)
	if r.tx == nil {
		due, err := get(ctx, r.rows, func(tx *Tx) (bool, error) {
			var id string
			err := tx.QueryRowContext(ctx, dueNotifications, now, now, 1).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil || !due {
			return nil, err
		}
	}
	return put(ctx, r.rows, func(tx *Tx) ([]*storage.ClaimedNotification, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET lease_token = ?, lease_until = ?
			WHERE id IN (`+dueNotifications+`)`, c.Token, millis(c.Until), now, now, c.Limit); err != nil {
			return nil, fmt.Errorf("claim e-mails: %w", err)
		}
		return selectAll(ctx, rows{db: tx.db, tx: tx}, "claimed e-mails", func(row scanner) (*storage.ClaimedNotification, error) {
			n, err := scanNotification(row)
			if err != nil {
				return nil, err
			}
			return &storage.ClaimedNotification{Notification: *n, Lease: c.Token}, nil
		}, `SELECT `+notificationColumns+` FROM notifications WHERE lease_token = ? AND state = 'pending' ORDER BY next_at, id`, c.Token)
	})
}

// Record stores the result of an attempt of a leased e-mail
// (storage.Notifications).
func (r notificationRows) Record(ctx context.Context, res storage.NotificationResult) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		next, done := millis(res.NextAt), nullMillis(res.At)
		if res.State != storage.NotificationPending {
			next = millis(res.At)
		} else {
			done = sql.NullInt64{}
		}
		u, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, attempts = ?, first_at = ?, next_at = ?, done_at = ?,
			last_error = ?, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`,
			res.State, res.Attempts, nullMillis(res.FirstAt), next, done, res.Error, res.ID, res.Lease)
		if err != nil {
			return false, fmt.Errorf("record e-mail %s: %w", res.ID, err)
		}
		n, err := u.RowsAffected()
		return n > 0, err
	})
}

// List returns a user's e-mails, oldest first (storage.Notifications).
func (r notificationRows) List(ctx context.Context, f storage.NotificationFilter) ([]*storage.Notification, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	return selectAll(ctx, r.rows, "list e-mails", func(row scanner) (*storage.Notification, error) { return scanNotification(row) },
		`SELECT `+notificationColumns+` FROM notifications WHERE user_id = ? ORDER BY created_at, id LIMIT ?`, f.UserID, limit)
}

// Mark records a daily reminder once (storage.Notifications).
func (r notificationRows) Mark(ctx context.Context, userID, key, day string) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO notification_marks (user_id, key, day, at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, userID, key, day, millis(tx.now))
		if err != nil {
			return false, fmt.Errorf("mark reminder %s of %s: %w", key, userID, err)
		}
		n, err := res.RowsAffected()
		return n > 0, err
	})
}

// Prune deletes old finished e-mails and reminder marks
// (storage.Notifications).
func (r notificationRows) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE id IN (
			SELECT id FROM notifications WHERE state <> 'pending' AND done_at < ? ORDER BY done_at LIMIT ?)`, millis(before), limit)
		if err != nil {
			return 0, fmt.Errorf("prune e-mails: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notification_marks WHERE at < ?`, millis(before)); err != nil {
			return 0, fmt.Errorf("prune reminder marks: %w", err)
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
}
