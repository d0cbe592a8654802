package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add queues an event for endpoints (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Add(ctx context.Context, eventID string, endpointIDs, ids []string) error {
	if len(ids) != len(endpointIDs) {
		return fmt.Errorf("queue event %s: %d delivery ids for %d endpoints", eventID, len(ids), len(endpointIDs))
	}
	return r.write(ctx, func(tx *Tx) error {
		for i, ep := range endpointIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, next_at, created_at)
				VALUES (?, ?, ?, 'pending', ?, ?)`, ids[i], ep, eventID, millis(tx.now), millis(tx.now)); err != nil {
				return fmt.Errorf("queue event %s for endpoint %s: %w", eventID, ep, err)
			}
		}
		return nil
	})
}

const deliverySelect = `SELECT d.id, d.endpoint_id, d.event_id, ev.type, d.state, d.attempts, d.first_at, d.next_at, d.created_at,
	d.last_at, d.last_status, d.last_error
	FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id`

func scanDelivery(row scanner, extra ...any) (*storage.WebhookDelivery, error) {
	var d storage.WebhookDelivery
	var first, last sql.NullInt64
	var next, created int64
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &first, &next, &created,
		&last, &d.LastStatus, &d.LastError}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.FirstAt, d.LastAt = fromNullMillis(first), fromNullMillis(last)
	d.NextAt, d.CreatedAt = fromMillis(next), fromMillis(created)
	return &d, nil
}

// dueDeliveries selects the ids of the due deliveries to enabled
// endpoints whose lease ran out, earliest due first: the arguments are
// now, now and the limit.
const dueDeliveries = `SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
	WHERE d.state = 'pending' AND d.next_at <= ? AND d.lease_until <= ? AND NOT e.disabled
	ORDER BY d.next_at, d.id LIMIT ?`

// Claim leases due deliveries (storage.WebhookDeliveries): on SQLite the
// single writer runs one claim at a time, so no two claims take one row.
// Called on the DB, it looks on a reader first and takes the writer only
// when something is due, so that an idle worker's polls never make a
// push wait.
func (r webhookDeliveryRows) Claim(ctx context.Context, c storage.Claim) ([]*storage.ClaimedDelivery, error) {
	now := millis(c.Now)
	if r.tx == nil {
		due, err := get(ctx, r.rows, func(tx *Tx) (bool, error) {
			var id string
			err := tx.QueryRowContext(ctx, dueDeliveries, now, now, 1).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil || !due {
			return nil, err
		}
	}
	return put(ctx, r.rows, func(tx *Tx) ([]*storage.ClaimedDelivery, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_token = ?, lease_until = ?
			WHERE id IN (`+dueDeliveries+`)`, c.Token, millis(c.Until), now, now, c.Limit); err != nil {
			return nil, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.endpoint_id, d.event_id, ev.type, d.state, d.attempts, d.first_at, d.next_at,
				d.created_at, d.last_at, d.last_status, d.last_error, ev.body, e.url, e.secrets
			FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.lease_token = ? AND d.state = 'pending' ORDER BY d.next_at, d.id`, c.Token)
		if err != nil {
			return nil, fmt.Errorf("claimed webhook deliveries: %w", err)
		}
		defer rows.Close()
		var out []*storage.ClaimedDelivery
		for rows.Next() {
			var body []byte
			var url, secrets string
			d, err := scanDelivery(rows, &body, &url, &secrets)
			if err != nil {
				return nil, fmt.Errorf("claimed webhook deliveries: %w", err)
			}
			cd := &storage.ClaimedDelivery{WebhookDelivery: *d, Body: body, Lease: c.Token,
				Endpoint: storage.WebhookEndpoint{ID: d.EndpointID, URL: url}}
			if cd.Endpoint.Secrets, err = decodeSecrets(secrets); err != nil {
				return nil, fmt.Errorf("webhook endpoint %s: secrets: %w", d.EndpointID, err)
			}
			out = append(out, cd)
		}
		return out, rows.Err()
	})
}

// Record stores an attempt of a leased delivery
// (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Record(ctx context.Context, res storage.DeliveryResult) (bool, error) {
	return put(ctx, r.rows, func(tx *Tx) (bool, error) {
		a := res.Attempt
		next := millis(res.NextAt)
		if res.NextAt.IsZero() {
			next = millis(a.StartedAt)
		}
		u, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, first_at = ?, next_at = ?,
			lease_token = NULL, lease_until = 0, last_at = ?, last_status = ?, last_error = ?
			WHERE id = ? AND lease_token = ?`,
			res.State, a.Number, nullMillis(res.FirstAt), next, millis(a.StartedAt), a.StatusCode, a.Error, res.ID, res.Lease)
		if err != nil {
			return false, fmt.Errorf("record webhook delivery %s: %w", res.ID, err)
		}
		if n, _ := u.RowsAffected(); n == 0 {
			return false, nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, status, excerpt, error)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, res.ID, a.Number, millis(a.StartedAt), a.Duration.Milliseconds(), a.StatusCode,
			a.Excerpt, a.Error); err != nil {
			return false, fmt.Errorf("log webhook attempt of %s: %w", res.ID, err)
		}
		return true, nil
	})
}

// Find returns one delivery (storage.WebhookDeliveries). Errors: ENOTFOUND.
func (r webhookDeliveryRows) Find(ctx context.Context, id string) (*storage.WebhookDelivery, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.WebhookDelivery, error) {
		d, err := scanDelivery(tx.QueryRowContext(ctx, deliverySelect+` WHERE d.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "webhook delivery %s not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find webhook delivery %s: %w", id, err)
		}
		return d, nil
	})
}

// List returns an endpoint's deliveries, newest first
// (storage.WebhookDeliveries).
func (r webhookDeliveryRows) List(ctx context.Context, f storage.DeliveryFilter) ([]*storage.WebhookDelivery, error) {
	q := deliverySelect + ` WHERE d.endpoint_id = ?`
	args := []any{f.EndpointID}
	if b := f.Before; b != nil {
		q += ` AND (d.created_at < ? OR d.created_at = ? AND d.id < ?)`
		args = append(args, millis(b.CreatedAt), millis(b.CreatedAt), b.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	return selectAll(ctx, r.rows, "list webhook deliveries", func(row scanner) (*storage.WebhookDelivery, error) {
		return scanDelivery(row)
	}, q+` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, append(args, limit)...)
}

// Attempts returns the attempts of deliveries (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Attempts(ctx context.Context, ids []string) (map[string][]storage.DeliveryAttempt, error) {
	out := map[string][]storage.DeliveryAttempt{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	as, err := selectAll(ctx, r.rows, "webhook attempts", func(row scanner) (storage.DeliveryAttempt, error) {
		var a storage.DeliveryAttempt
		var started, dur int64
		err := row.Scan(&a.DeliveryID, &a.Number, &started, &dur, &a.StatusCode, &a.Excerpt, &a.Error)
		a.StartedAt, a.Duration = fromMillis(started), time.Duration(dur)*time.Millisecond
		return a, err
	}, `SELECT delivery_id, number, started_at, duration_ms, status, excerpt, error FROM webhook_attempts
		WHERE delivery_id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`) ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}

// Requeue makes a delivery pending again (storage.WebhookDeliveries).
// Errors: ENOTFOUND.
func (r webhookDeliveryRows) Requeue(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, first_at = NULL, next_at = ?,
			lease_token = NULL, lease_until = 0 WHERE id = ?`, millis(tx.now), id)
		if err != nil {
			return fmt.Errorf("requeue webhook delivery %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Errorf(audit.ENOTFOUND, "webhook delivery %s not found", id)
		}
		return nil
	})
}
