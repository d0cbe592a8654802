package storage

import (
	"context"

	"github.com/shopscore/shopscore/audit"
)

// Feed keeps the pull feed: which entity changed for which audience, in commit order.
type Feed interface {
	// The read side: what a pull reads (docs/DESIGN.md §3 rule 6).

	// Epoch returns the random id of this database's feed, made once with
	// the database: a cursor of another epoch is unknown.
	Epoch(ctx context.Context) (string, error)
	// Head returns the highest position of the feed; the zero position
	// for an empty one.
	Head(ctx context.Context) (FeedPos, error)
	// Read returns up to limit rows of the feed after position after
	// that are shopperID's (his assignments and visits) or everyone's
	// (checklists), in feed order, each with its entity as it is now;
	// HasMore says whether more rows follow. Call it inside View for a
	// page read in one snapshot.
	Read(ctx context.Context, shopperID string, after FeedPos, limit int) (*FeedRows, error)

	// The write side: what a change records for the devices.

	// Touch records that entity of kind changed for audience (a
	// shopper's id, or "" for every shopper): its row moves past every
	// device's position, so each sees it again. It belongs in the
	// transaction that made the change.
	Touch(ctx context.Context, audience string, kind FeedKind, entity string) error
	// Has reports whether audience's feed has a row for entity of kind:
	// the entity was ever his.
	Has(ctx context.Context, audience string, kind FeedKind, entity string) (bool, error)
}

// FeedPos is a position in the feed. Rows are in (Tx, Seq) order. On
// SQLite, whose one writer commits in the order it numbers, Seq alone is
// commit order and Tx is always 0; PostgreSQL numbers rows in no commit
// order, and Tx is the writing transaction, which a pull reads only once
// every transaction before it has ended (server/postgres/feed.go). The
// zero position is before every row.
type FeedPos struct {
	Tx  uint64
	Seq int64
}

// Less reports whether p comes before q.
func (p FeedPos) Less(q FeedPos) bool {
	return p.Tx < q.Tx || p.Tx == q.Tx && p.Seq < q.Seq
}

// Within reports whether p is a position the feed whose head is head
// can have given out: not past the head, and of its form (one feed's
// positions either all have a Tx or none has, so a one-number position
// but the zero one is foreign to a feed of two-number ones).
func (p FeedPos) Within(head FeedPos) bool {
	return !head.Less(p) && !(p.Tx == 0 && p.Seq > 0 && head.Tx > 0)
}

// FeedKind names what a feed row is about.
type FeedKind string

// The kinds of feed rows. Each names an entity whose current state a
// pull materializes.
const (
	FeedKindAssignment FeedKind = "assignment" // audience: the shopper who has or had it
	FeedKindChecklist  FeedKind = "checklist"  // audience: every shopper ("")
	FeedKindVisit      FeedKind = "visit"      // audience: the visit's shopper
)

// FeedRows is a stretch of the feed, each row with the current state of
// the entity it names.
type FeedRows struct {
	Rows    []FeedRow
	HasMore bool
}

// FeedRow is one row of the feed: its position, and the current state of
// the entity it names. Exactly one of Assignment, Checklist and Receipt is
// set after the row's kind, or none when the entity has nothing left to
// read (a checklist without a published version, a visit gone).
type FeedRow struct {
	Pos        FeedPos
	Assignment *FeedAssignment
	Checklist  *FeedChecklist
	Receipt    *audit.VisitReceipt
}

// FeedAssignment is an assignment as it is now, whoever has it and
// whatever its state, with what a shopper needs to carry it out offline.
type FeedAssignment struct {
	Assignment *audit.Assignment
	Store      *audit.Store
	Staff      []*audit.Staff // the store's active staff
	Version    *audit.ChecklistVersion
}

// FeedChecklist is the latest published version of a checklist, and
// every store (each active or not), for unplanned visits.
type FeedChecklist struct {
	Version *audit.ChecklistVersion
	Stores  []*audit.Store
}
