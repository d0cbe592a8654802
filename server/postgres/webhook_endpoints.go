package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Add stores a new endpoint (storage.WebhookEndpoints). Errors: EEXISTS.
func (r webhookEndpointRows) Add(ctx context.Context, e *storage.WebhookEndpoint) error {
	types, secrets, err := storage.EncodeEndpoint(e)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhook_endpoints
			(id, url, description, event_types, secrets, disabled, failing_since, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)`,
			e.ID, e.URL, e.Description, types, secrets, e.Disabled, nullTime(e.FailingSince), tx.now, e.CreatedBy)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "webhook endpoint %s exists already", e.ID)
		} else if err != nil {
			return fmt.Errorf("add webhook endpoint: %w", err)
		}
		e.CreatedAt, e.UpdatedAt = tx.now, tx.now
		return nil
	})
}

const endpointSelect = `SELECT id, url, description, event_types::text, secrets::text, disabled, failing_since, created_at, created_by, updated_at
	FROM webhook_endpoints`

func scanEndpoint(row pgx.Row) (*storage.WebhookEndpoint, error) {
	var e storage.WebhookEndpoint
	var types, secrets string
	var failing *time.Time
	if err := row.Scan(&e.ID, &e.URL, &e.Description, &types, &secrets, &e.Disabled, &failing, &e.CreatedAt, &e.CreatedBy, &e.UpdatedAt); err != nil {
		return nil, err
	}
	decoded, err := scanEndpointJSON(e.ID, types, secrets)
	if err != nil {
		return nil, err
	}
	e.EventTypes, e.Secrets = decoded.EventTypes, decoded.Secrets
	e.FailingSince = timeOf(failing)
	return &e, nil
}

// scanEndpointJSON decodes an endpoint's event types and secrets from
// their columns.
func scanEndpointJSON(id, types, secrets string) (*storage.WebhookEndpoint, error) {
	var e storage.WebhookEndpoint
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("webhook endpoint %s: event types: %w", id, err)
	}
	if err := json.Unmarshal([]byte(secrets), &e.Secrets); err != nil {
		return nil, fmt.Errorf("webhook endpoint %s: secrets: %w", id, err)
	}
	return &e, nil
}

// Find returns one endpoint (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) Find(ctx context.Context, id string) (*storage.WebhookEndpoint, error) {
	return selectOne(ctx, r.rows, "find webhook endpoint", "webhook endpoint "+id+" not found", scanEndpoint,
		endpointSelect+` WHERE id = $1`, id)
}

// List returns every endpoint, oldest first (storage.WebhookEndpoints).
func (r webhookEndpointRows) List(ctx context.Context) ([]*storage.WebhookEndpoint, error) {
	return selectAll(ctx, r.rows, "list webhook endpoints", scanEndpoint, endpointSelect+` ORDER BY created_at, id`)
}

// Subscribed returns the endpoints of an event type
// (storage.WebhookEndpoints).
func (r webhookEndpointRows) Subscribed(ctx context.Context, eventType string) ([]string, error) {
	return selectAll(ctx, r.rows, "subscribed webhook endpoints", func(row pgx.Row) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT id FROM webhook_endpoints WHERE event_types @> jsonb_build_array($1::text) ORDER BY created_at, id`, eventType)
}

// Update stores an endpoint's changes (storage.WebhookEndpoints). Errors:
// ENOTFOUND.
func (r webhookEndpointRows) Update(ctx context.Context, e *storage.WebhookEndpoint) error {
	types, secrets, err := storage.EncodeEndpoint(e)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, secrets = $4,
			disabled = $5, updated_at = $6 WHERE id = $7`, e.URL, e.Description, types, secrets, e.Disabled, tx.now, e.ID)
		return endpointChanged(tag.RowsAffected(), err, "update", e.ID)
	})
}

// SetFailing marks an endpoint failing, or healthy for a zero time
// (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) SetFailing(ctx context.Context, id string, since time.Time) error {
	n, err := exec(ctx, r.rows, "mark webhook endpoint", `UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2`, nullTime(since), id)
	return endpointChanged(n, err, "mark", id)
}

// Delete removes an endpoint with its deliveries
// (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) Delete(ctx context.Context, id string) error {
	n, err := exec(ctx, r.rows, "delete webhook endpoint", `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	return endpointChanged(n, err, "delete", id)
}

// endpointChanged is the error of a statement on one endpoint that
// changed n rows: ENOTFOUND when it touched none.
func endpointChanged(n int64, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s webhook endpoint %s: %w", what, id, err)
	}
	if n == 0 {
		return audit.Errorf(audit.ENOTFOUND, "webhook endpoint %s not found", id)
	}
	return nil
}
