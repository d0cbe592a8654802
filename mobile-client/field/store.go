package field

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// AssignmentInfo is an assignment with what a shopper needs to see of it.
type AssignmentInfo struct {
	audit.Assignment
	StoreCode     string
	StoreName     string
	StoreAddress  string
	ChecklistName string
	// Removed is why the server withdrew the assignment ("cancelled",
	// "reassigned", "expired"); empty while it stands. A visit already
	// started on it is still sent, and flagged.
	Removed string
	// DraftVisitID is the visit in progress on this assignment, if any.
	DraftVisitID string
}

// Assignments lists the device's assignments by window start, as of the
// last pull. Withdrawn assignments are listed only when a visit was
// started on them. It works offline.
func (c *Client) Assignments(ctx context.Context) ([]AssignmentInfo, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT a.id, a.store_id, a.checklist_id, a.checklist_version, a.channel,
		a.window_start_ms, a.window_end_ms, a.shopper_id, a.state, a.cancel_reason, a.removed_reason,
		COALESCE(s.code, ''), COALESCE(s.name, ''), COALESCE(s.address, ''), cv.name,
		COALESCE((SELECT v.id FROM visits v WHERE v.assignment_id = a.id AND v.status = 'draft' ORDER BY v.started_ms LIMIT 1), '')
		FROM assignments a
		JOIN checklist_versions cv ON cv.checklist_id = a.checklist_id AND cv.version = a.checklist_version
		LEFT JOIN stores s ON s.id = a.store_id
		WHERE a.removed_reason = '' OR EXISTS (SELECT 1 FROM visits v WHERE v.assignment_id = a.id)
		ORDER BY a.window_start_ms, a.id`)
	if err != nil {
		return nil, fmt.Errorf("field: list assignments: %w", err)
	}
	defer rows.Close()
	var out []AssignmentInfo
	for rows.Next() {
		var a AssignmentInfo
		var start, end int64
		if err := rows.Scan(&a.ID, &a.StoreID, &a.ChecklistID, &a.ChecklistVersion, &a.Channel, &start, &end,
			&a.ShopperID, &a.State, &a.CancelReason, &a.Removed, &a.StoreCode, &a.StoreName, &a.StoreAddress,
			&a.ChecklistName, &a.DraftVisitID); err != nil {
			return nil, fmt.Errorf("field: list assignments: %w", err)
		}
		a.WindowStart, a.WindowEnd = sqlitedb.FromOptMillis(start), sqlitedb.FromOptMillis(end)
		out = append(out, a)
	}
	return out, rows.Err()
}

// UnplannedChecklist is a published checklist the shopper may use without
// an assignment, and the stores he may use it for.
type UnplannedChecklist struct {
	ChecklistID string
	Version     int
	Name        string
	Channel     audit.Channel
	Stores      []audit.Store
}

// UnplannedChecklists lists the checklists offered for unplanned visits,
// by ID, as of the last pull. It works offline.
func (c *Client) UnplannedChecklists(ctx context.Context) ([]UnplannedChecklist, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT u.checklist_id, u.version, cv.name, cv.channel
		FROM unplanned_checklists u JOIN checklist_versions cv ON cv.checklist_id = u.checklist_id AND cv.version = u.version
		WHERE cv.allow_unplanned = 1 ORDER BY u.checklist_id`)
	if err != nil {
		return nil, fmt.Errorf("field: list checklists: %w", err)
	}
	var out []UnplannedChecklist
	for rows.Next() {
		var u UnplannedChecklist
		if err := rows.Scan(&u.ChecklistID, &u.Version, &u.Name, &u.Channel); err != nil {
			rows.Close()
			return nil, fmt.Errorf("field: list checklists: %w", err)
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		stores, err := c.queryStores(ctx, c.db, `SELECT s.id, s.code, s.name, s.address, s.region, s.latitude, s.longitude,
			s.geofence_meters FROM unplanned_stores u JOIN stores s ON s.id = u.store_id WHERE u.checklist_id = ? ORDER BY s.code`,
			out[i].ChecklistID)
		if err != nil {
			return nil, err
		}
		out[i].Stores = stores
	}
	return out, nil
}

func (c *Client) queryStores(ctx context.Context, q querier, query string, args ...any) ([]audit.Store, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("field: list stores: %w", err)
	}
	defer rows.Close()
	var out []audit.Store
	for rows.Next() {
		var s audit.Store
		if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Address, &s.Region, &s.Latitude, &s.Longitude, &s.GeofenceMeters); err != nil {
			return nil, fmt.Errorf("field: list stores: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Stores lists the stores the device knows, by code. It works offline.
func (c *Client) Stores(ctx context.Context) ([]audit.Store, error) {
	return c.queryStores(ctx, c.db, `SELECT id, code, name, address, region, latitude, longitude, geofence_meters
		FROM stores ORDER BY code`)
}

// store returns a store by ID or code. Errors: ENOTFOUND.
func (c *Client) store(ctx context.Context, q querier, idOrCode string) (audit.Store, error) {
	ss, err := c.queryStores(ctx, q, `SELECT id, code, name, address, region, latitude, longitude, geofence_meters
		FROM stores WHERE id = ? OR code = ? ORDER BY id = ? DESC LIMIT 1`, idOrCode, idOrCode, idOrCode)
	if err != nil {
		return audit.Store{}, err
	}
	if len(ss) == 0 {
		return audit.Store{}, audit.Errorf(audit.ENOTFOUND, "no store %q on this device: sync, or pick one of `shopper assignments`", idOrCode)
	}
	return ss[0], nil
}

// Staff lists the staff of a store (by ID or code), by name, as of the
// last pull. It works offline. Errors: ENOTFOUND (no such store).
func (c *Client) Staff(ctx context.Context, store string) ([]audit.Staff, error) {
	s, err := c.store(ctx, c.db, store)
	if err != nil {
		return nil, err
	}
	return c.staffOf(ctx, c.db, s.ID)
}

func (c *Client) staffOf(ctx context.Context, q querier, storeID string) ([]audit.Staff, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, store_id, employee_number, name, position, department, back_office
		FROM staff WHERE store_id = ? ORDER BY name, id`, storeID)
	if err != nil {
		return nil, fmt.Errorf("field: list staff: %w", err)
	}
	defer rows.Close()
	var out []audit.Staff
	for rows.Next() {
		var s audit.Staff
		if err := rows.Scan(&s.ID, &s.StoreID, &s.EmployeeNumber, &s.Name, &s.Position, &s.Department, &s.BackOffice); err != nil {
			return nil, fmt.Errorf("field: list staff: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// version loads a checklist version with its content, and checks that the
// content still matches its hash. Errors: ENOTFOUND, EPRECONDITION (the
// content does not match its hash).
func (c *Client) version(ctx context.Context, q querier, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var v audit.ChecklistVersion
	var content []byte
	err := q.QueryRowContext(ctx, `SELECT checklist_id, version, state, content_hash, content FROM checklist_versions
		WHERE checklist_id = ? AND version = ?`, checklistID, version).Scan(&v.ChecklistID, &v.Version, &v.State, &v.ContentHash, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "checklist %s version %d is not on this device: sync first", checklistID, version)
	}
	if err != nil {
		return nil, fmt.Errorf("field: read checklist %s version %d: %w", checklistID, version, err)
	}
	if err := json.Unmarshal(content, &v.Content); err != nil {
		return nil, fmt.Errorf("field: decode checklist %s version %d: %w", checklistID, version, err)
	}
	if err := v.Verify(); err != nil {
		return nil, err
	}
	return &v, nil
}

// assignment loads one assignment. Errors: ENOTFOUND.
func (c *Client) assignment(ctx context.Context, q querier, id string) (AssignmentInfo, error) {
	var a AssignmentInfo
	var start, end int64
	err := q.QueryRowContext(ctx, `SELECT id, store_id, checklist_id, checklist_version, channel, window_start_ms,
		window_end_ms, shopper_id, state, cancel_reason, removed_reason FROM assignments WHERE id = ?`, id).Scan(
		&a.ID, &a.StoreID, &a.ChecklistID, &a.ChecklistVersion, &a.Channel, &start, &end, &a.ShopperID, &a.State,
		&a.CancelReason, &a.Removed)
	if errors.Is(err, sql.ErrNoRows) {
		return a, audit.Errorf(audit.ENOTFOUND, "no assignment %q on this device: sync, then pick one of `shopper assignments`", id)
	}
	if err != nil {
		return a, fmt.Errorf("field: read assignment %s: %w", id, err)
	}
	a.WindowStart, a.WindowEnd = sqlitedb.FromOptMillis(start), sqlitedb.FromOptMillis(end)
	return a, nil
}

// clearServerData drops the server-owned tables before a full snapshot
// replaces them. Drafts, submitted visits, photos, timers and the outbox
// are never touched, nor the checklist versions visits were recorded with.
func clearServerData(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`DELETE FROM unplanned_stores`,
		`DELETE FROM unplanned_checklists`,
		`DELETE FROM assignments`,
		`DELETE FROM staff`,
		`DELETE FROM stores`,
		`DELETE FROM receipts`,
		`DELETE FROM checklist_versions WHERE NOT EXISTS (SELECT 1 FROM visits v
			WHERE v.checklist_id = checklist_versions.checklist_id AND v.checklist_version = checklist_versions.version)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("field: clear server data: %w", err)
		}
	}
	return nil
}

// joinLimited joins up to n strings, saying how many more there are.
func joinLimited(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ", ")
	}
	return strings.Join(ss[:n], ", ") + fmt.Sprintf(" and %d more", len(ss)-n)
}

// claimed returns t, or now when t is zero.
func claimed(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC()
}
