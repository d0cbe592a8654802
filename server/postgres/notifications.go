package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/server/storage"
)

// Prefs returns a user's preferences (storage.Notifications).
func (r notificationRows) Prefs(ctx context.Context, userID string) (storage.NotificationPrefs, error) {
	return query(ctx, r.rows, func(tx *Tx) (storage.NotificationPrefs, error) {
		var p storage.NotificationPrefs
		err := tx.QueryRow(ctx, `SELECT language, email_off, digest FROM notification_prefs WHERE user_id = $1`, userID).
			Scan(&p.Language, &p.EmailOff, &p.Digest)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.NotificationPrefs{}, nil
		} else if err != nil {
			return p, fmt.Errorf("notification preferences of %s: %w", userID, err)
		}
		return p, nil
	})
}

// SetPrefs stores a user's preferences (storage.Notifications).
func (r notificationRows) SetPrefs(ctx context.Context, userID string, p storage.NotificationPrefs) error {
	_, err := exec(ctx, r.rows, "store notification preferences of "+userID,
		`INSERT INTO notification_prefs (user_id, language, email_off, digest) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, email_off = excluded.email_off, digest = excluded.digest`,
		userID, p.Language, p.EmailOff, p.Digest)
	return err
}

// Add queues an e-mail; a digest joins the user's pending digest due at
// the same time (storage.Notifications).
func (r notificationRows) Add(ctx context.Context, n *storage.Notification) error {
	return r.write(ctx, func(tx *Tx) error {
		n.State, n.CreatedAt = storage.NotificationPending, tx.now
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (id, user_id, digest, items, state, next_at, created_at)
			VALUES ($1, $2, $3, $4::jsonb, 'pending', $5, $6)
			ON CONFLICT (user_id, next_at) WHERE digest AND state = 'pending'
			DO UPDATE SET items = notifications.items || excluded.items`,
			n.ID, n.UserID, n.Digest, string(n.Items), ms(n.NextAt), tx.now); err != nil {
			return fmt.Errorf("queue e-mail to %s: %w", n.UserID, err)
		}
		return nil
	})
}

const notificationColumns = `id, user_id, digest, items::text, state, attempts, first_at, next_at, created_at, done_at, last_error`

func scanNotification(row pgx.Row) (*storage.Notification, error) {
	var n storage.Notification
	var items, state string
	var first, done *time.Time
	if err := row.Scan(&n.ID, &n.UserID, &n.Digest, &items, &state, &n.Attempts, &first, &n.NextAt, &n.CreatedAt, &done,
		&n.LastError); err != nil {
		return nil, err
	}
	n.Items, n.State = []byte(items), storage.NotificationState(state)
	n.FirstAt, n.SentAt = timeOf(first), timeOf(done)
	return &n, nil
}

// Claim leases due e-mails (storage.Notifications). Called on the DB it
// runs READ COMMITTED, locking the rows it takes FOR UPDATE SKIP LOCKED,
// as the webhook deliveries' claim does: each e-mail is leased to one
// server.
func (r notificationRows) Claim(ctx context.Context, c storage.Claim) ([]*storage.ClaimedNotification, error) {
	var out []*storage.ClaimedNotification
	claim := func(tx *Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, `WITH due AS (
				SELECT id FROM notifications WHERE state = 'pending' AND next_at <= $1 AND lease_until <= $1
				ORDER BY next_at, id LIMIT $2
				FOR UPDATE SKIP LOCKED)
			UPDATE notifications n SET lease_token = $3, lease_until = $4 FROM due WHERE n.id = due.id`,
			ms(c.Now), c.Limit, c.Token, ms(c.Until)); err != nil {
			return fmt.Errorf("claim e-mails: %w", err)
		}
		rs, err := tx.Query(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE lease_token = $1 AND state = 'pending'
			ORDER BY next_at, id`, c.Token)
		if err != nil {
			return fmt.Errorf("claimed e-mails: %w", err)
		}
		out, err = pgx.CollectRows(rs, func(row pgx.CollectableRow) (*storage.ClaimedNotification, error) {
			n, err := scanNotification(row)
			if err != nil {
				return nil, err
			}
			return &storage.ClaimedNotification{Notification: *n, Lease: c.Token}, nil
		})
		if err != nil {
			return fmt.Errorf("claimed e-mails: %w", err)
		}
		return nil
	}
	return out, r.claim(ctx, claim)
}

// Record stores the result of an attempt of a leased e-mail
// (storage.Notifications).
func (r notificationRows) Record(ctx context.Context, res storage.NotificationResult) (bool, error) {
	next, done := res.NextAt, nullTime(res.At)
	if res.State != storage.NotificationPending {
		next = res.At
	} else {
		done = nil
	}
	n, err := exec(ctx, r.rows, "record e-mail "+res.ID, `UPDATE notifications SET state = $1, attempts = $2, first_at = $3,
		next_at = $4, done_at = $5, last_error = $6, lease_token = NULL, lease_until = '-infinity' WHERE id = $7 AND lease_token = $8`,
		string(res.State), res.Attempts, nullTime(res.FirstAt), ms(next), done, res.Error, res.ID, res.Lease)
	return n > 0, err
}

// List returns a user's e-mails, oldest first (storage.Notifications).
func (r notificationRows) List(ctx context.Context, f storage.NotificationFilter) ([]*storage.Notification, error) {
	var a args
	q := `SELECT ` + notificationColumns + ` FROM notifications WHERE user_id = ` + a.add(f.UserID) + ` ORDER BY created_at, id`
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return selectAll(ctx, r.rows, "list e-mails", scanNotification, q, a...)
}

// Mark records a daily reminder once (storage.Notifications).
func (r notificationRows) Mark(ctx context.Context, userID, key, day string) (bool, error) {
	var first bool
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO notification_marks (user_id, key, day, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, userID, key, day, tx.now)
		if err != nil {
			return fmt.Errorf("mark reminder %s of %s: %w", key, userID, err)
		}
		first = tag.RowsAffected() > 0
		return nil
	})
	return first, err
}

// Prune deletes old finished e-mails and reminder marks
// (storage.Notifications).
func (r notificationRows) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM notifications WHERE id IN (
			SELECT id FROM notifications WHERE state <> 'pending' AND done_at < $1 ORDER BY done_at LIMIT $2)`, ms(before), limit)
		if err != nil {
			return fmt.Errorf("prune e-mails: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM notification_marks WHERE at < $1`, ms(before)); err != nil {
			return fmt.Errorf("prune reminder marks: %w", err)
		}
		return nil
	})
	return int(n), err
}
