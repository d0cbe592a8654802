package storage

import (
	"context"
	"encoding/json"
	"time"
)

// WebhookSecret is one of an endpoint's signing secrets, in its text form
// (`whsec_…`): the current one has a zero Retires; one rotated out keeps
// signing until Retires. Backends keep an endpoint's list as this JSON.
type WebhookSecret struct {
	Secret  string    `json:"secret"`
	Retires time.Time `json:"retires,omitzero"`
}

// WebhookEndpoint is a URL an admin registered to receive events of some
// types.
type WebhookEndpoint struct {
	ID          string
	URL         string
	Description string
	// EventTypes are the types of the events delivered to it.
	EventTypes []string
	// Secrets sign its deliveries; never shown after they were made.
	Secrets  []WebhookSecret
	Disabled bool
	// FailingSince is when a delivery to it gave up after its retries;
	// zero while it is healthy.
	FailingSince time.Time
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
}

// WebhookEndpoints keeps the registered webhook endpoints.
type WebhookEndpoints interface {
	// Add stores a new endpoint, created and updated at the
	// transaction's time. Errors: EEXISTS (the id is taken).
	Add(ctx context.Context, e *WebhookEndpoint) error
	// Find returns the endpoint with this id. Errors: ENOTFOUND.
	Find(ctx context.Context, id string) (*WebhookEndpoint, error)
	// List returns every endpoint, oldest first.
	List(ctx context.Context) ([]*WebhookEndpoint, error)
	// Subscribed returns the ids of the endpoints, disabled ones
	// included, whose event types hold eventType.
	Subscribed(ctx context.Context, eventType string) ([]string, error)
	// Update stores e's URL, description, event types, secrets and
	// disabled flag, updated at the transaction's time. Errors:
	// ENOTFOUND.
	Update(ctx context.Context, e *WebhookEndpoint) error
	// SetFailing sets when the endpoint started failing (zero: it is
	// healthy again). Errors: ENOTFOUND.
	SetFailing(ctx context.Context, id string, since time.Time) error
	// Delete removes the endpoint with its deliveries and their
	// attempts. Errors: ENOTFOUND.
	Delete(ctx context.Context, id string) error
}

// EncodeList returns the stored form of a list of names (an endpoint's
// event types, a token's scopes): a JSON list, empty rather than null,
// the same on every backend.
func EncodeList(names []string) (string, error) {
	if names == nil {
		names = []string{}
	}
	b, err := json.Marshal(names)
	return string(b), err
}

// EncodeEndpoint returns an endpoint's event types and secrets as their
// columns hold them (JSON lists, EncodeList).
func EncodeEndpoint(e *WebhookEndpoint) (types, secrets string, err error) {
	if types, err = EncodeList(e.EventTypes); err != nil {
		return "", "", err
	}
	ss := e.Secrets
	if ss == nil {
		ss = []WebhookSecret{}
	}
	b, err := json.Marshal(ss)
	return types, string(b), err
}
