package app

import (
	"context"

	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// The limits of a pull page.
const (
	// MaxPullPage bounds the changes of one pull page.
	MaxPullPage = 500
	// DefaultPullPage is the page size of a pull that names none.
	DefaultPullPage = 200
	// PullBudget bounds the encoded size of one page's changes, so that a
	// page of assignments with large checklists stays well within what
	// clients accept; a page always holds at least one change, however
	// large.
	PullBudget = 2 << 20
)

// PullPage is one page of a shopper's feed, in the form it is sent.
type PullPage struct {
	Changes []*v1.Change
	// NextCursor is the position after the page: the device saves it
	// once it applied the page.
	NextCursor string
	// HasMore says whether more changes wait after NextCursor.
	HasMore bool
	// FullResync is set when the cursor was unknown (empty is not), of
	// another database, or beyond the feed's head or not of its form (a database restored
	// from an older backup): the page starts from the beginning, and the
	// device replaces what it holds of the server's data.
	FullResync bool
}

// Pull returns the page of p's feed after cursor, read and materialized
// in one snapshot (docs/DESIGN.md §3 rules 6 to 8): up to pageSize
// changes (DefaultPullPage for 0), cut short at PullBudget bytes. Each
// row of the feed becomes his assignment with what he needs offline, or
// its tombstone once it was cancelled, expired or given to someone else
// (audit.RemovalFor), a checklist open to unplanned visits with every
// store, or the receipt of a visit of his; a row with nothing to say to
// him now (a checklist closed to unplanned visits) only moves the cursor.
// Errors: EINVALID (pageSize outside 0..MaxPullPage).
func (a *App) Pull(ctx context.Context, p audit.Principal, cursor string, pageSize int) (*PullPage, error) {
	switch {
	case pageSize == 0:
		pageSize = DefaultPullPage
	case pageSize < 0 || pageSize > MaxPullPage:
		return nil, audit.Errorf(audit.EINVALID, "page_size must be 0 to %d", MaxPullPage)
	}
	var page *PullPage
	err := a.st.View(ctx, func(tx storage.Tx) error {
		epoch, err := tx.Feed().Epoch(ctx)
		if err != nil {
			return err
		}
		var after storage.FeedPos
		var known bool
		after.Tx, after.Seq, known = protocol.DecodeCursorAt(cursor, epoch)
		page = &PullPage{FullResync: cursor != "" && !known}
		head, err := tx.Feed().Head(ctx)
		if err != nil {
			return err
		}
		if !after.Within(head) {
			after, page.FullResync = storage.FeedPos{}, true
		}
		rows, err := tx.Feed().Read(ctx, p.UserID, after, pageSize)
		if err != nil {
			return err
		}
		page.HasMore = rows.HasMore
		last, size := after, 0
		for _, r := range rows.Rows {
			c, err := changeOf(r, p.UserID)
			if err != nil {
				return err
			}
			if c != nil {
				if size += proto.Size(c); size > PullBudget && len(page.Changes) > 0 {
					page.HasMore = true
					break
				}
				page.Changes = append(page.Changes, c)
			}
			last = r.Pos
		}
		page.NextCursor = protocol.EncodeCursorAt(epoch, last.Tx, last.Seq)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// changeOf is what one feed row says to shopperID now; nil for nothing.
func changeOf(r storage.FeedRow, shopperID string) (*v1.Change, error) {
	switch {
	case r.Assignment != nil:
		fa := r.Assignment
		if reason, removed := audit.RemovalFor(fa.Assignment, shopperID); removed {
			return protocol.AssignmentRemovalToProto(fa.Assignment.ID, reason), nil
		}
		return protocol.AssignmentUpsertToProto(fa.Assignment, fa.Store, fa.Staff, fa.Version)
	case r.Checklist != nil:
		if !r.Checklist.Version.Content.AllowUnplanned {
			return nil, nil
		}
		return protocol.ChecklistUpsertToProto(r.Checklist.Version, r.Checklist.Stores)
	case r.Receipt != nil:
		return protocol.ReceiptChangeToProto(r.Receipt), nil
	}
	return nil, nil
}
