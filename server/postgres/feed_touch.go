package postgres

import (
	"context"

	"github.com/shopscore/shopscore/server/storage"
)

// The write side of storage.Feed, which every change of an assignment or
// checklist needs in its own transaction (the read side, Read, Head and
// Epoch, is the pull's; see feed.go).

// Touch moves entity's feed row for audience to a position of this
// transaction, past every device (storage.Feed).
func (r feedRows) Touch(ctx context.Context, audience string, kind storage.FeedKind, entity string) error {
	return r.write(ctx, func(tx *Tx) error { return touchFeed(ctx, tx, audience, string(kind), entity) })
}
