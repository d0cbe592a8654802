package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// storage.Feed on PostgreSQL, over the positions of feed.go.

// Epoch returns the random id of this database's feed (storage.Feed).
func (r feedRows) Epoch(ctx context.Context) (string, error) {
	return query(ctx, r.rows, func(tx *Tx) (string, error) { return feedEpoch(ctx, tx) })
}

// Head returns the highest position of the feed the snapshot sees
// (storage.Feed).
func (r feedRows) Head(ctx context.Context) (storage.FeedPos, error) {
	return query(ctx, r.rows, func(tx *Tx) (storage.FeedPos, error) { return feedHead(ctx, tx) })
}

// Read returns up to limit of the shopper's feed rows after position
// after, each with its entity as it is now, read in one snapshot
// (storage.Feed): his own assignments and visits, and the checklists of
// every shopper (”). Only rows of transactions that had all ended when
// the snapshot was taken are read (readFeed), so the positions a page
// returns are final.
func (r feedRows) Read(ctx context.Context, shopperID string, after storage.FeedPos, limit int) (*storage.FeedRows, error) {
	return query(ctx, r.rows, func(tx *Tx) (*storage.FeedRows, error) {
		rs, more, err := readFeed(ctx, tx, shopperID, after, limit)
		if err != nil {
			return nil, err
		}
		out := &storage.FeedRows{HasMore: more}
		m := materializer{tx: tx, shopper: shopperID}
		for _, f := range rs {
			fr, err := m.row(ctx, f.Kind, f.Entity)
			if err != nil {
				return nil, err
			}
			fr.Pos = f.Pos
			out.Rows = append(out.Rows, fr)
		}
		return out, nil
	})
}

// Touch moves entity's feed row for audience past every device
// (storage.Feed).
func (r feedRows) Touch(ctx context.Context, audience string, kind storage.FeedKind, entity string) error {
	return r.write(ctx, func(tx *Tx) error { return touchFeed(ctx, tx, audience, string(kind), entity) })
}

// Has reports whether audience's feed has a row for entity (storage.Feed).
func (r feedRows) Has(ctx context.Context, audience string, kind storage.FeedKind, entity string) (bool, error) {
	return query(ctx, r.rows, func(tx *Tx) (bool, error) {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_feed WHERE audience = $1 AND kind = $2 AND entity = $3)`,
			audience, string(kind), entity).Scan(&ok); err != nil {
			return false, fmt.Errorf("find feed row: %w", err)
		}
		return ok, nil
	})
}

// materializer turns feed rows into changes within one transaction,
// reading each store, staff list and checklist version once per page,
// through the nouns that keep them.
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
	switch storage.FeedKind(kind) {
	case storage.FeedKindAssignment:
		a, err := m.assignment(ctx, entity)
		return storage.FeedRow{Assignment: a}, err
	case storage.FeedKindChecklist:
		c, err := m.checklist(ctx, entity)
		return storage.FeedRow{Checklist: c}, err
	case storage.FeedKindVisit:
		r, err := visitReceipt(ctx, m.tx, m.shopper, entity)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return storage.FeedRow{}, nil
		}
		return storage.FeedRow{Receipt: r}, err
	}
	return storage.FeedRow{}, fmt.Errorf("feed row of unknown kind %q", kind)
}

func (m *materializer) assignment(ctx context.Context, id string) (*storage.FeedAssignment, error) {
	a, err := m.tx.Assignments().Find(ctx, audit.Scope{All: true}, id)
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
		stores, err := m.tx.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{All: true}, IncludeDeactivated: true})
		if err != nil {
			return nil, err
		}
		m.allStores = append([]*audit.Store{}, stores...)
	}
	return &storage.FeedChecklist{Version: v, Stores: m.allStores}, nil
}

// version returns a checklist version; 0 is the latest published one.
func (m *materializer) version(ctx context.Context, id string, version int) (*audit.ChecklistVersion, error) {
	key := fmt.Sprintf("%s\x00%d", id, version)
	if v, ok := m.versions[key]; ok {
		return v, nil
	}
	v, err := m.tx.Checklists().Find(ctx, id, version)
	if err != nil {
		return nil, err
	}
	if m.versions == nil {
		m.versions = map[string]*audit.ChecklistVersion{}
	}
	m.versions[key] = v
	return v, nil
}

func (m *materializer) store(ctx context.Context, id string) (*audit.Store, error) {
	if s, ok := m.stores[id]; ok {
		return s, nil
	}
	s, err := m.tx.Stores().Find(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if m.stores == nil {
		m.stores = map[string]*audit.Store{}
	}
	m.stores[id] = s
	return s, nil
}

// staffOf returns the store's active staff by employee number, with what
// a shopper's phone is sent of each (the fields SQLite's feed reads).
func (m *materializer) staffOf(ctx context.Context, storeID string) ([]*audit.Staff, error) {
	if s, ok := m.staff[storeID]; ok {
		return s, nil
	}
	rows, err := m.tx.Query(ctx, `SELECT id, employee_number, name, position, department, back_office, COALESCE(store_id, ''), created_at
		FROM staff WHERE store_id = $1 AND deactivated_at IS NULL ORDER BY employee_number COLLATE "C"`, storeID)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audit.Staff, error) {
		var s audit.Staff
		var dept string
		var created time.Time
		if err := row.Scan(&s.ID, &s.EmployeeNumber, &s.Name, &s.Position, &dept, &s.BackOffice, &s.StoreID, &created); err != nil {
			return nil, err
		}
		s.Department, s.CreatedAt = audit.Department(dept), created
		return &s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	if m.staff == nil {
		m.staff = map[string][]*audit.Staff{}
	}
	m.staff[storeID] = out
	return out, nil
}
