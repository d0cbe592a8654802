package storage

import (
	"context"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

// FeedEntry is a feed row as a backend's feed table holds it: its
// position and the entity it names.
type FeedEntry struct {
	Pos    FeedPos
	Kind   FeedKind
	Entity string
}

// ReadFeedRows reads the entity of each entry as it is now, through tx's
// nouns, for shopperID's pull: what each kind of row carries is decided
// here once, and both backends' Feed.Read call it inside the transaction
// that read the entries. Each store, staff list and checklist version is
// read once per call.
func ReadFeedRows(ctx context.Context, tx Tx, shopperID string, entries []FeedEntry) ([]FeedRow, error) {
	m := feedReader{tx: tx, shopper: shopperID,
		versions: map[versionKey]*audit.ChecklistVersion{}, stores: map[string]*audit.Store{}, staff: map[string][]*audit.Staff{}}
	out := make([]FeedRow, 0, len(entries))
	for _, e := range entries {
		r, err := m.row(ctx, e.Kind, e.Entity)
		if err != nil {
			return nil, err
		}
		r.Pos = e.Pos
		out = append(out, r)
	}
	return out, nil
}

type versionKey struct {
	id      string
	version int
}

// feedReader is one ReadFeedRows call: the transaction and what it has
// read so far.
type feedReader struct {
	tx        Tx
	shopper   string
	versions  map[versionKey]*audit.ChecklistVersion
	stores    map[string]*audit.Store
	staff     map[string][]*audit.Staff
	allStores []*audit.Store
}

// row reads the entity of one feed row. A checklist without a published
// version, or a visit that is gone, is a row with nothing set.
func (m *feedReader) row(ctx context.Context, kind FeedKind, entity string) (FeedRow, error) {
	switch kind {
	case FeedKindAssignment:
		a, err := m.assignment(ctx, entity)
		return FeedRow{Assignment: a}, err
	case FeedKindChecklist:
		c, err := m.checklist(ctx, entity)
		return FeedRow{Checklist: c}, err
	case FeedKindVisit:
		r, err := m.tx.Visits().Receipt(ctx, m.shopper, entity)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return FeedRow{}, nil
		}
		return FeedRow{Receipt: r}, err
	}
	return FeedRow{}, fmt.Errorf("feed row of unknown kind %q", kind)
}

// assignment is the assignment whoever has it, with its store, the
// store's active staff and its checklist version.
func (m *feedReader) assignment(ctx context.Context, id string) (*FeedAssignment, error) {
	a, err := m.tx.Assignments().Find(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	out := &FeedAssignment{Assignment: a}
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

// checklist is the checklist's latest published version with every
// store, deactivated ones too (a phone needs their names for what it
// already holds).
func (m *feedReader) checklist(ctx context.Context, id string) (*FeedChecklist, error) {
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
	return &FeedChecklist{Version: v, Stores: m.allStores}, nil
}

// version returns a checklist version; 0 is the latest published one.
func (m *feedReader) version(ctx context.Context, id string, version int) (*audit.ChecklistVersion, error) {
	k := versionKey{id, version}
	if v, ok := m.versions[k]; ok {
		return v, nil
	}
	v, err := m.tx.Checklists().Find(ctx, id, version)
	if err != nil {
		return nil, err
	}
	m.versions[k] = v
	return v, nil
}

func (m *feedReader) store(ctx context.Context, id string) (*audit.Store, error) {
	if s, ok := m.stores[id]; ok {
		return s, nil
	}
	s, err := m.tx.Stores().Find(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	m.stores[id] = s
	return s, nil
}

// staffOf returns the store's active staff by employee number.
func (m *feedReader) staffOf(ctx context.Context, storeID string) ([]*audit.Staff, error) {
	if s, ok := m.staff[storeID]; ok {
		return s, nil
	}
	s, err := m.tx.Staff().List(ctx, audit.StaffFilter{Scope: audit.Scope{All: true}, StoreID: storeID})
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		s = nil
	}
	m.staff[storeID] = s
	return s, nil
}
