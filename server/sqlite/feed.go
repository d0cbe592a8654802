package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

// The kinds of feed rows. Each names an entity whose current state a pull
// materializes.
const (
	feedAssignment = "assignment" // audience: the shopper who has or had it
	feedChecklist  = "checklist"  // audience: every shopper ('')
	feedVisit      = "visit"      // audience: the visit's shopper
)

// The reasons an assignment leaves a shopper's device.
const (
	RemovalCancelled  = "cancelled"
	RemovalReassigned = "reassigned"
	RemovalExpired    = "expired"
)

// MaxPullPage bounds the changes of one pull.
const MaxPullPage = 500

// touchFeed records that entity changed for audience: its feed row moves to
// a new, higher seq (INSERT OR REPLACE deletes the old row), so the feed
// keeps one row per entity and a device past its old seq sees it again.
// It must run in the transaction that made the change.
func touchFeed(ctx context.Context, tx *Tx, audience, kind, entity string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sync_feed (audience, kind, entity) VALUES (?, ?, ?)`,
		audience, kind, entity); err != nil {
		return fmt.Errorf("write feed row: %w", err)
	}
	return nil
}

// AssignmentUpsert is an assignment a shopper has, with what he needs to
// carry it out offline.
type AssignmentUpsert struct {
	Assignment *audit.Assignment
	Store      *audit.Store
	Staff      []*audit.Staff
	Version    *audit.ChecklistVersion
}

// AssignmentRemoval is a tombstone: the assignment left the shopper.
type AssignmentRemoval struct {
	AssignmentID string
	Reason       string // RemovalCancelled, RemovalReassigned or RemovalExpired
}

// ChecklistUpsert is the latest published version of a checklist that
// takes unplanned visits, with the stores a shopper may visit with it.
type ChecklistUpsert struct {
	Version *audit.ChecklistVersion
	Stores  []*audit.Store
}

// Change is one materialized row of the feed; exactly one field besides
// Seq is set.
type Change struct {
	Seq               int64
	AssignmentUpsert  *AssignmentUpsert
	AssignmentRemoval *AssignmentRemoval
	ChecklistUpsert   *ChecklistUpsert
	VisitReceipt      *VisitReceipt
}

// FeedPage is one page of a shopper's feed.
type FeedPage struct {
	Changes []Change
	// Last is the feed position the page ends at: the seq of the last row
	// read (rows that materialize to nothing count), or where it started
	// for an empty page.
	Last    int64
	HasMore bool
	// Reset is set when the position asked for lies beyond the feed's
	// head (a database restored from an older backup): the page starts
	// from the beginning instead.
	Reset bool
}

// FeedEpoch returns the random id of this database's feed, made once with
// the database; cursors of another epoch are unknown.
func (db *DB) FeedEpoch(ctx context.Context) (string, error) {
	var epoch string
	if err := db.read.QueryRowContext(ctx, `SELECT feed_epoch FROM sync_meta WHERE id = 1`).Scan(&epoch); err != nil {
		return "", fmt.Errorf("read feed epoch: %w", err)
	}
	return epoch, nil
}

// Pull reads up to limit changes of the shopper's feed after position
// after, and materializes each from the entity's current state, all in one
// read transaction (one snapshot, docs/DESIGN.md §3 rule 6). The shopper's feed
// holds his own assignments (upserts and tombstones) and visit receipts,
// and the checklists every shopper may use for unplanned visits. Errors:
// EINVALID (limit outside 1..MaxPullPage, a negative position).
func (db *DB) Pull(ctx context.Context, shopperID string, after int64, limit int) (*FeedPage, error) {
	if limit < 1 || limit > MaxPullPage {
		return nil, audit.Errorf(audit.EINVALID, "page size must be 1 to %d, not %d", MaxPullPage, limit)
	}
	if after < 0 {
		return nil, audit.Errorf(audit.EINVALID, "feed position %d is negative", after)
	}
	page := &FeedPage{}
	err := db.view(ctx, func(tx *Tx) error {
		var head sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM sync_feed`).Scan(&head); err != nil {
			return fmt.Errorf("feed head: %w", err)
		}
		if after > head.Int64 {
			after, page.Reset = 0, true
		}
		page.Last = after
		type row struct {
			seq                    int64
			audience, kind, entity string
		}
		var rs []row
		q, err := tx.QueryContext(ctx, `SELECT seq, audience, kind, entity FROM sync_feed
			WHERE audience IN (?, '') AND seq > ? ORDER BY seq LIMIT ?`, shopperID, after, limit+1)
		if err != nil {
			return fmt.Errorf("read feed: %w", err)
		}
		for q.Next() {
			var r row
			if err := q.Scan(&r.seq, &r.audience, &r.kind, &r.entity); err != nil {
				q.Close()
				return err
			}
			rs = append(rs, r)
		}
		q.Close()
		if err := q.Err(); err != nil {
			return fmt.Errorf("read feed: %w", err)
		}
		if len(rs) > limit {
			rs, page.HasMore = rs[:limit], true
		}
		m := materializer{tx: tx, shopper: shopperID}
		for _, r := range rs {
			c, ok, err := m.change(ctx, r.kind, r.entity)
			if err != nil {
				return err
			}
			page.Last = r.seq
			if ok {
				c.Seq = r.seq
				page.Changes = append(page.Changes, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// materializer turns feed rows into changes within one read transaction,
// reading each store, staff list and checklist version once per page.
type materializer struct {
	tx        *Tx
	shopper   string
	versions  map[string]*audit.ChecklistVersion
	stores    map[string]*audit.Store
	staff     map[string][]*audit.Staff
	allStores []*audit.Store
}

// change materializes one feed row; false when it has nothing to say to
// this shopper now (a checklist that no longer takes unplanned visits).
func (m *materializer) change(ctx context.Context, kind, entity string) (Change, bool, error) {
	switch kind {
	case feedAssignment:
		return m.assignment(ctx, entity)
	case feedChecklist:
		return m.checklist(ctx, entity)
	case feedVisit:
		r, err := visitReceipt(ctx, m.tx, m.shopper, entity)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return Change{}, false, nil
		} else if err != nil {
			return Change{}, false, err
		}
		return Change{VisitReceipt: r}, true, nil
	}
	return Change{}, false, fmt.Errorf("feed row of unknown kind %q", kind)
}

func (m *materializer) assignment(ctx context.Context, id string) (Change, bool, error) {
	a, err := findAssignment(ctx, m.tx, audit.Scope{All: true}, id)
	if err != nil {
		return Change{}, false, err
	}
	switch {
	case a.ShopperID != m.shopper:
		return Change{AssignmentRemoval: &AssignmentRemoval{AssignmentID: id, Reason: RemovalReassigned}}, true, nil
	case a.State == audit.AssignmentCancelled:
		return Change{AssignmentRemoval: &AssignmentRemoval{AssignmentID: id, Reason: RemovalCancelled}}, true, nil
	case a.State == audit.AssignmentExpired:
		return Change{AssignmentRemoval: &AssignmentRemoval{AssignmentID: id, Reason: RemovalExpired}}, true, nil
	}
	up := &AssignmentUpsert{Assignment: a}
	if up.Store, err = m.store(ctx, a.StoreID); err != nil {
		return Change{}, false, err
	}
	if up.Staff, err = m.staffOf(ctx, a.StoreID); err != nil {
		return Change{}, false, err
	}
	if up.Version, err = m.version(ctx, a.ChecklistID, a.ChecklistVersion); err != nil {
		return Change{}, false, err
	}
	return Change{AssignmentUpsert: up}, true, nil
}

func (m *materializer) checklist(ctx context.Context, id string) (Change, bool, error) {
	v, err := m.version(ctx, id, 0)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return Change{}, false, nil // no published version (any more)
	} else if err != nil {
		return Change{}, false, err
	}
	if !v.Content.AllowUnplanned {
		return Change{}, false, nil
	}
	if m.allStores == nil {
		rows, err := m.tx.QueryContext(ctx, storeSelect+` ORDER BY s.code`)
		if err != nil {
			return Change{}, false, fmt.Errorf("list stores: %w", err)
		}
		defer rows.Close()
		m.allStores = []*audit.Store{}
		for rows.Next() {
			s, err := scanStore(rows)
			if err != nil {
				return Change{}, false, err
			}
			m.allStores = append(m.allStores, s)
		}
		if err := rows.Err(); err != nil {
			return Change{}, false, fmt.Errorf("list stores: %w", err)
		}
	}
	return Change{ChecklistUpsert: &ChecklistUpsert{Version: v, Stores: m.allStores}}, true, nil
}

func (m *materializer) version(ctx context.Context, id string, version int) (*audit.ChecklistVersion, error) {
	return memo(&m.versions, fmt.Sprintf("%s\x00%d", id, version), func() (*audit.ChecklistVersion, error) {
		return findVersion(ctx, m.tx, id, version)
	})
}

func (m *materializer) store(ctx context.Context, id string) (*audit.Store, error) {
	if s, ok := m.stores[id]; ok {
		return s, nil
	}
	s, err := findStore(ctx, m.tx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if m.stores == nil {
		m.stores = map[string]*audit.Store{}
	}
	m.stores[id] = s
	return s, nil
}

func (m *materializer) staffOf(ctx context.Context, storeID string) ([]*audit.Staff, error) {
	if s, ok := m.staff[storeID]; ok {
		return s, nil
	}
	rows, err := m.tx.QueryContext(ctx, `SELECT id, employee_number, name, position, department, back_office, COALESCE(store_id, ''), created_at
		FROM staff WHERE store_id = ? AND deactivated_at IS NULL ORDER BY employee_number`, storeID)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []*audit.Staff
	for rows.Next() {
		var s audit.Staff
		var dept string
		var created int64
		if err := rows.Scan(&s.ID, &s.EmployeeNumber, &s.Name, &s.Position, &dept, &s.BackOffice, &s.StoreID, &created); err != nil {
			return nil, err
		}
		s.Department, s.CreatedAt = audit.Department(dept), fromMillis(created)
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	if m.staff == nil {
		m.staff = map[string][]*audit.Staff{}
	}
	m.staff[storeID] = out
	return out, nil
}
