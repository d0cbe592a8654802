package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add queues an event for endpoints (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Add(ctx context.Context, eventID string, endpointIDs, ids []string) error {
	if len(ids) != len(endpointIDs) {
		return fmt.Errorf("queue event %s: %d delivery ids for %d endpoints", eventID, len(ids), len(endpointIDs))
	}
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, next_at, created_at)
			SELECT d, e, $3, 'pending', $4, $4 FROM unnest($1::text[], $2::text[]) AS q(d, e)`,
			ids, endpointIDs, eventID, tx.now); err != nil {
			return fmt.Errorf("queue event %s: %w", eventID, err)
		}
		return nil
	})
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, ev.type, d.state, d.attempts, d.first_at, d.next_at, d.created_at,
	d.last_at, d.last_status, d.last_error`

const deliverySelect = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id`

func scanDelivery(row pgx.Row, extra ...any) (*storage.WebhookDelivery, error) {
	var d storage.WebhookDelivery
	var first, last *time.Time
	var state string
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &state, &d.Attempts, &first, &d.NextAt, &d.CreatedAt,
		&last, &d.LastStatus, &d.LastError}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.State = storage.DeliveryState(state)
	d.FirstAt, d.LastAt = timeOf(first), timeOf(last)
	return &d, nil
}

// Claim leases due deliveries (storage.WebhookDeliveries). Called on the
// DB it runs READ COMMITTED, locking the rows it takes FOR UPDATE SKIP
// LOCKED: a row another server's claim holds is passed over, and one it
// has leased and committed no longer qualifies (its lease has not run
// out) when this claim's statement re-reads it.
func (r webhookDeliveryRows) Claim(ctx context.Context, c storage.Claim) ([]*storage.ClaimedDelivery, error) {
	var out []*storage.ClaimedDelivery
	claim := func(tx *Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, `WITH due AS (
				SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
				WHERE d.state = 'pending' AND d.next_at <= $1 AND d.lease_until <= $1 AND NOT e.disabled
				ORDER BY d.next_at, d.id LIMIT $2
				FOR UPDATE OF d SKIP LOCKED)
			UPDATE webhook_deliveries w SET lease_token = $3, lease_until = $4 FROM due WHERE w.id = due.id`,
			ms(c.Now), c.Limit, c.Token, ms(c.Until)); err != nil {
			return fmt.Errorf("claim webhook deliveries: %w", err)
		}
		rs, err := tx.Query(ctx, `SELECT `+deliveryColumns+`, ev.body::text, e.url, e.secrets::text
			FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.lease_token = $1 AND d.state = 'pending' ORDER BY d.next_at, d.id`, c.Token)
		if err != nil {
			return fmt.Errorf("claimed webhook deliveries: %w", err)
		}
		out, err = pgx.CollectRows(rs, func(row pgx.CollectableRow) (*storage.ClaimedDelivery, error) {
			var body, url, secrets string
			d, err := scanDelivery(row, &body, &url, &secrets)
			if err != nil {
				return nil, err
			}
			cd := &storage.ClaimedDelivery{WebhookDelivery: *d, Body: []byte(body), Lease: c.Token,
				Endpoint: storage.WebhookEndpoint{ID: d.EndpointID, URL: url}}
			ep, err := scanEndpointJSON(d.EndpointID, "[]", secrets)
			if err != nil {
				return nil, err
			}
			cd.Endpoint.Secrets = ep.Secrets
			return cd, nil
		})
		if err != nil {
			return fmt.Errorf("claimed webhook deliveries: %w", err)
		}
		return nil
	}
	return out, r.claim(ctx, claim)
}

// Record stores an attempt of a leased delivery
// (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Record(ctx context.Context, res storage.DeliveryResult) (bool, error) {
	var stored bool
	err := r.write(ctx, func(tx *Tx) error {
		a := res.Attempt
		next := res.NextAt
		if next.IsZero() {
			next = a.StartedAt
		}
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = $2, first_at = $3, next_at = $4,
			lease_token = NULL, lease_until = '-infinity', last_at = $5, last_status = $6, last_error = $7
			WHERE id = $8 AND lease_token = $9`,
			string(res.State), a.Number, nullTime(res.FirstAt), ms(next), ms(a.StartedAt), a.StatusCode, a.Error, res.ID, res.Lease)
		if err != nil {
			return fmt.Errorf("record webhook delivery %s: %w", res.ID, err)
		}
		if stored = tag.RowsAffected() > 0; !stored {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, status, excerpt, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, res.ID, a.Number, ms(a.StartedAt), a.Duration.Milliseconds(), a.StatusCode,
			a.Excerpt, a.Error); err != nil {
			return fmt.Errorf("log webhook attempt of %s: %w", res.ID, err)
		}
		return nil
	})
	return stored, err
}

// Find returns one delivery (storage.WebhookDeliveries). Errors: ENOTFOUND.
func (r webhookDeliveryRows) Find(ctx context.Context, id string) (*storage.WebhookDelivery, error) {
	return selectOne(ctx, r.rows, "find webhook delivery", "webhook delivery "+id+" not found",
		func(row pgx.Row) (*storage.WebhookDelivery, error) { return scanDelivery(row) }, deliverySelect+` WHERE d.id = $1`, id)
}

// List returns an endpoint's deliveries, newest first
// (storage.WebhookDeliveries).
func (r webhookDeliveryRows) List(ctx context.Context, f storage.DeliveryFilter) ([]*storage.WebhookDelivery, error) {
	var a args
	q := deliverySelect + ` WHERE d.endpoint_id = ` + a.add(f.EndpointID)
	if b := f.Before; b != nil {
		q += ` AND (d.created_at, d.id) < (` + a.add(ms(b.CreatedAt)) + `, ` + a.add(b.ID) + `)`
	}
	q += ` ORDER BY d.created_at DESC, d.id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return selectAll(ctx, r.rows, "list webhook deliveries", func(row pgx.Row) (*storage.WebhookDelivery, error) {
		return scanDelivery(row)
	}, q, a...)
}

// Attempts returns the attempts of deliveries (storage.WebhookDeliveries).
func (r webhookDeliveryRows) Attempts(ctx context.Context, ids []string) (map[string][]storage.DeliveryAttempt, error) {
	out := map[string][]storage.DeliveryAttempt{}
	if len(ids) == 0 {
		return out, nil
	}
	as, err := selectAll(ctx, r.rows, "webhook attempts", func(row pgx.Row) (storage.DeliveryAttempt, error) {
		var a storage.DeliveryAttempt
		var dur int64
		err := row.Scan(&a.DeliveryID, &a.Number, &a.StartedAt, &dur, &a.StatusCode, &a.Excerpt, &a.Error)
		a.Duration = time.Duration(dur) * time.Millisecond
		return a, err
	}, `SELECT delivery_id, number, started_at, duration_ms, status, excerpt, error FROM webhook_attempts
		WHERE delivery_id = ANY($1::text[]) ORDER BY seq`, ids)
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
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, first_at = NULL, next_at = $1,
			lease_token = NULL, lease_until = '-infinity' WHERE id = $2`, tx.now, id)
		if err != nil {
			return fmt.Errorf("requeue webhook delivery %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return audit.Errorf(audit.ENOTFOUND, "webhook delivery %s not found", id)
		}
		return nil
	})
}
