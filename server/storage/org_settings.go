package storage

import (
	"context"

	"github.com/shopscore/shopscore/audit"
)

// OrgSettings keeps the organisation's settings (time zone, locale,
// currency): one row, present from the first migration on.
type OrgSettings interface {
	// Find returns the settings.
	Find(ctx context.Context) (*audit.OrgSettings, error)
	// Set stores s, validated by the caller, as changed by the user by
	// at the transaction's time.
	Set(ctx context.Context, s audit.OrgSettings, by string) error
}
