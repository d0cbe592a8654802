package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// decodeSecrets reads an endpoint's secrets from their column
// (storage.EncodeEndpoint).
func decodeSecrets(text string) ([]storage.WebhookSecret, error) {
	var out []storage.WebhookSecret
	return out, json.Unmarshal([]byte(text), &out)
}

// Add stores a new endpoint (storage.WebhookEndpoints). Errors: EEXISTS.
func (r webhookEndpointRows) Add(ctx context.Context, e *storage.WebhookEndpoint) error {
	types, secrets, err := storage.EncodeEndpoint(e)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints
			(id, url, description, event_types, secrets, disabled, failing_since, created_at, created_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.URL, e.Description, types, secrets, e.Disabled, nullMillis(e.FailingSince), millis(tx.now), e.CreatedBy, millis(tx.now))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "webhook endpoint %s exists already", e.ID)
		} else if err != nil {
			return fmt.Errorf("add webhook endpoint: %w", err)
		}
		e.CreatedAt, e.UpdatedAt = fromMillis(millis(tx.now)), fromMillis(millis(tx.now))
		return nil
	})
}

const endpointSelect = `SELECT id, url, description, event_types, secrets, disabled, failing_since, created_at, created_by, updated_at
	FROM webhook_endpoints`

func scanEndpoint(row scanner) (*storage.WebhookEndpoint, error) {
	var e storage.WebhookEndpoint
	var types, secrets string
	var failing sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.URL, &e.Description, &types, &secrets, &e.Disabled, &failing, &created, &e.CreatedBy, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("webhook endpoint %s: event types: %w", e.ID, err)
	}
	var err error
	if e.Secrets, err = decodeSecrets(secrets); err != nil {
		return nil, fmt.Errorf("webhook endpoint %s: secrets: %w", e.ID, err)
	}
	e.FailingSince = fromNullMillis(failing)
	e.CreatedAt, e.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &e, nil
}

// Find returns one endpoint (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) Find(ctx context.Context, id string) (*storage.WebhookEndpoint, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.WebhookEndpoint, error) {
		e, err := scanEndpoint(tx.QueryRowContext(ctx, endpointSelect+` WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "webhook endpoint %s not found", id)
		} else if err != nil {
			return nil, fmt.Errorf("find webhook endpoint %s: %w", id, err)
		}
		return e, nil
	})
}

// List returns every endpoint, oldest first (storage.WebhookEndpoints).
func (r webhookEndpointRows) List(ctx context.Context) ([]*storage.WebhookEndpoint, error) {
	return selectAll(ctx, r.rows, "list webhook endpoints", scanEndpoint, endpointSelect+` ORDER BY created_at, id`)
}

// Subscribed returns the endpoints of an event type
// (storage.WebhookEndpoints).
func (r webhookEndpointRows) Subscribed(ctx context.Context, eventType string) ([]string, error) {
	return selectAll(ctx, r.rows, "subscribed webhook endpoints", func(row scanner) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT id FROM webhook_endpoints e
		WHERE EXISTS (SELECT 1 FROM json_each(e.event_types) WHERE value = ?) ORDER BY created_at, id`, eventType)
}

// Update stores an endpoint's changes (storage.WebhookEndpoints). Errors:
// ENOTFOUND.
func (r webhookEndpointRows) Update(ctx context.Context, e *storage.WebhookEndpoint) error {
	types, secrets, err := storage.EncodeEndpoint(e)
	if err != nil {
		return err
	}
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, secrets = ?,
			disabled = ?, updated_at = ? WHERE id = ?`, e.URL, e.Description, types, secrets, e.Disabled, millis(tx.now), e.ID)
		return endpointChanged(res, err, "update", e.ID)
	})
}

// SetFailing marks an endpoint failing, or healthy for a zero time
// (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) SetFailing(ctx context.Context, id string, since time.Time) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?`, nullMillis(since), id)
		return endpointChanged(res, err, "mark", id)
	})
}

// Delete removes an endpoint with its deliveries
// (storage.WebhookEndpoints). Errors: ENOTFOUND.
func (r webhookEndpointRows) Delete(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
		return endpointChanged(res, err, "delete", id)
	})
}

// endpointChanged is the error of a statement on one endpoint: ENOTFOUND
// when it touched none.
func endpointChanged(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s webhook endpoint %s: %w", what, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return audit.Errorf(audit.ENOTFOUND, "webhook endpoint %s not found", id)
	}
	return nil
}
