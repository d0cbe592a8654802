package storage

import (
	"context"
	"time"
)

// IntegrationToken is a long-lived API token of a service account (a BI
// tool, a script), made by an admin. Only the SHA-256 of the token is
// stored; the token itself is shown once, when it is made.
type IntegrationToken struct {
	ID   string
	Name string
	// Scopes are what the token reaches (audit.TokenScope values).
	Scopes []string
	// Hash is the hex SHA-256 of the token.
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	// LastUsedAt is when the token last authenticated a call (zero:
	// never); kept to the minute.
	LastUsedAt time.Time
	// RevokedAt is when an admin revoked it (zero: live).
	RevokedAt time.Time
	RevokedBy string
}

// IntegrationTokens keeps the integration tokens.
type IntegrationTokens interface {
	// Add stores a new token, created at the transaction's time.
	// Errors: EEXISTS (the id or the hash is taken).
	Add(ctx context.Context, t *IntegrationToken) error
	// Find returns the token with this id. Errors: ENOTFOUND.
	Find(ctx context.Context, id string) (*IntegrationToken, error)
	// FindByHash returns the token whose hash is hash, revoked or not.
	// Errors: ENOTFOUND.
	FindByHash(ctx context.Context, hash string) (*IntegrationToken, error)
	// List returns every token, revoked ones included, newest first.
	List(ctx context.Context) ([]*IntegrationToken, error)
	// Revoke marks a live token revoked at the transaction's time by
	// the user by; a revoked one stays as it was. Errors: ENOTFOUND.
	Revoke(ctx context.Context, id, by string) error
	// Used sets the token's last use to at. Errors: ENOTFOUND.
	Used(ctx context.Context, id string, at time.Time) error
}
