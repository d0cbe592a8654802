package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/reports"
)

// BonusPolicy is one stored version of a bonus policy.
type BonusPolicy struct {
	Policy        reports.Policy
	CreatedAt     time.Time
	CreatedBy     string
	CreatedByName string // for people
}

// BonusPolicies keeps bonus policies and their versions.
type BonusPolicies interface {
	// Find returns a version of a policy, or its latest when version is
	// 0. Errors: ENOTFOUND.
	Find(ctx context.Context, id string, version int) (*BonusPolicy, error)
	// Versions returns the version numbers of a policy, oldest first.
	// Errors: ENOTFOUND (no version).
	Versions(ctx context.Context, id string) ([]int, error)
	// List returns every version of every policy, by id then version;
	// only the latest version of each when latestOnly.
	List(ctx context.Context, latestOnly bool) ([]*BonusPolicy, error)
	// Add stores p, validated and numbered by the caller, as created by
	// the user by at the transaction's time, and returns it as stored.
	Add(ctx context.Context, p reports.Policy, by string) (*BonusPolicy, error)
	// StoreID returns the id of the store whose id or code is ref, or ""
	// when there is none (a policy may name its stores either way).
	StoreID(ctx context.Context, ref string) (string, error)
}
