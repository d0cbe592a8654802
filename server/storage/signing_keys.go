package storage

import (
	"context"
	"time"
)

// SigningKeys keeps the keys that sign access tokens, shared by every
// server on the database (docs/DESIGN.md §9). Each key's private half is
// sealed by the caller (package auth, under the key-encryption key)
// before it comes here: storage holds and returns the sealed bytes and
// never sees a private key.
type SigningKeys interface {
	// List returns the keys of purpose, oldest first (by creation time,
	// then kid).
	List(ctx context.Context, purpose string) ([]SigningKey, error)
	// AddFirst stores keys, all of purpose, when no key of purpose is
	// stored yet, and reports whether it stored them (false: some were
	// there, and nothing was stored). Servers starting at once on an
	// empty database store one first set between them.
	AddFirst(ctx context.Context, purpose string, keys []SigningKey) (bool, error)
	// Rotate stores k, not retired, and marks every other key of its
	// purpose that is not retired as retired at k.CreatedAt, at once.
	// Errors: EEXISTS (k's kid is stored).
	Rotate(ctx context.Context, k SigningKey) error
	// DeleteRetired deletes the keys of purpose retired at or before
	// until and returns how many it deleted.
	DeleteRetired(ctx context.Context, purpose string, until time.Time) (int64, error)
}

// SigningKey is one stored signing key.
type SigningKey struct {
	// KID is the key's id, unique across purposes.
	KID string
	// Purpose says what the key signs ("access-token"); it is part of
	// the associated data of the sealed private key.
	Purpose string
	// PublicKey is the public half, in the clear.
	PublicKey []byte
	// SealedPrivateKey is the private half as the caller sealed it.
	SealedPrivateKey []byte
	// CreatedAt is when the key was made.
	CreatedAt time.Time
	// RetiredAt is when the key stopped signing; zero while it signs.
	RetiredAt time.Time
}
