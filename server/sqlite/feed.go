package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// The kinds of feed rows. Each names an entity whose current state a pull
// materializes.
const (
	feedAssignment = "assignment" // audience: the shopper who has or had it
	feedChecklist  = "checklist"  // audience: every shopper ('')
	feedVisit      = "visit"      // audience: the visit's shopper
)

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

// Epoch returns the random id of this database's feed, made once with
// the database (storage.Feed).
func (r feedRows) Epoch(ctx context.Context) (string, error) {
	return get(ctx, r.rows, func(tx *Tx) (string, error) {
		var epoch string
		if err := tx.QueryRowContext(ctx, `SELECT feed_epoch FROM sync_meta WHERE id = 1`).Scan(&epoch); err != nil {
			return "", fmt.Errorf("read feed epoch: %w", err)
		}
		return epoch, nil
	})
}

// Head returns the highest position of the feed (storage.Feed).
// SQLite's positions are seqs alone (storage.FeedPos).
func (r feedRows) Head(ctx context.Context) (storage.FeedPos, error) {
	return get(ctx, r.rows, func(tx *Tx) (storage.FeedPos, error) {
		var head sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM sync_feed`).Scan(&head); err != nil {
			return storage.FeedPos{}, fmt.Errorf("feed head: %w", err)
		}
		return storage.FeedPos{Seq: head.Int64}, nil
	})
}

// Read returns up to limit of the shopper's feed rows after position
// after, each with its entity as it is now, all in one read transaction
// (storage.Feed). The shopper's rows are his own assignments and visits
// and the checklists of every shopper (”).
func (r feedRows) Read(ctx context.Context, shopperID string, after storage.FeedPos, limit int) (*storage.FeedRows, error) {
	if after.Tx != 0 {
		// Past every seq: a position of another backend's form.
		return &storage.FeedRows{}, nil
	}
	return get(ctx, r.rows, func(tx *Tx) (*storage.FeedRows, error) {
		type row struct {
			seq          int64
			kind, entity string
		}
		var rs []row
		q, err := tx.QueryContext(ctx, `SELECT seq, kind, entity FROM sync_feed
			WHERE audience IN (?, '') AND seq > ? ORDER BY seq LIMIT ?`, shopperID, after.Seq, limit+1)
		if err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		for q.Next() {
			var r row
			if err := q.Scan(&r.seq, &r.kind, &r.entity); err != nil {
				q.Close()
				return nil, err
			}
			rs = append(rs, r)
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		out := &storage.FeedRows{}
		if len(rs) > limit {
			rs, out.HasMore = rs[:limit], true
		}
		m := materializer{tx: tx, shopper: shopperID}
		for _, r := range rs {
			fr, err := m.row(ctx, r.kind, r.entity)
			if err != nil {
				return nil, err
			}
			fr.Pos = storage.FeedPos{Seq: r.seq}
			out.Rows = append(out.Rows, fr)
		}
		return out, nil
	})
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

// row reads the entity of one feed row as it is now.
func (m *materializer) row(ctx context.Context, kind, entity string) (storage.FeedRow, error) {
	switch kind {
	case feedAssignment:
		a, err := m.assignment(ctx, entity)
		return storage.FeedRow{Assignment: a}, err
	case feedChecklist:
		c, err := m.checklist(ctx, entity)
		return storage.FeedRow{Checklist: c}, err
	case feedVisit:
		r, err := visitReceipt(ctx, m.tx, m.shopper, entity)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return storage.FeedRow{}, nil
		}
		return storage.FeedRow{Receipt: r}, err
	}
	return storage.FeedRow{}, fmt.Errorf("feed row of unknown kind %q", kind)
}

func (m *materializer) assignment(ctx context.Context, id string) (*storage.FeedAssignment, error) {
	a, err := findAssignment(ctx, m.tx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	out := &storage.FeedAssignment{Assignment: a}
	if out.Store, err = m.store(ctx, a.StoreID); err != nil {
		return nil, err
	}
	if out.Staff, err = m.staffOf(ctx, a.StoreID); err != nil {
		return nil, err
	}
	if out.Version, err = m.version(ctx, a.ChecklistID, a.ChecklistVersion); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *materializer) checklist(ctx context.Context, id string) (*storage.FeedChecklist, error) {
	v, err := m.version(ctx, id, 0)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return nil, nil // no published version (any more)
	} else if err != nil {
		return nil, err
	}
	if m.allStores == nil {
		rows, err := m.tx.QueryContext(ctx, storeSelect+` ORDER BY s.code`)
		if err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
		defer rows.Close()
		m.allStores = []*audit.Store{}
		for rows.Next() {
			s, err := scanStore(rows)
			if err != nil {
				return nil, err
			}
			m.allStores = append(m.allStores, s)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
	}
	return &storage.FeedChecklist{Version: v, Stores: m.allStores}, nil
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
