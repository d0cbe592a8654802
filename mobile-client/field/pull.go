package field

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
	"github.com/shopscore/shopscore/sync/protocol"
)

// PullResult says what a pull brought.
type PullResult struct {
	Pages   int
	Changes int
	// FullResync is true when the server did not know the device's cursor
	// and sent a full snapshot, which replaced the server-owned data.
	FullResync bool
}

// Pull fetches what changed for the shopper since the saved cursor, page by
// page, applying each page in one local transaction together with its
// cursor. When the server answers full_resync, the outbox is pushed first (it is
// never discarded), then the server-owned data (assignments, checklist
// versions not used by a visit, stores, staff, receipts) is replaced;
// drafts and the outbox are kept. Errors: EUNAUTHORIZED (log in again),
// EUNAVAILABLE (no network, after bounded retries), EINVALID (a change the
// device cannot apply; nothing of its page is kept), and the push's errors
// on a reset.
func (c *Client) Pull(ctx context.Context) (PullResult, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.pull(ctx, nil)
}

func (c *Client) pull(ctx context.Context, progress func(Progress)) (PullResult, error) {
	return c.pullPages(ctx, progress, true)
}

// pullPages pulls every page after the saved cursor; pushFirst false is
// a reset's pull (push.go), which must not push the outbox it is
// repairing.
func (c *Client) pullPages(ctx context.Context, progress func(Progress), pushFirst bool) (PullResult, error) {
	var res PullResult
	for {
		var cursor string
		if err := c.db.QueryRowContext(ctx, `SELECT cursor FROM device WHERE id = 1`).Scan(&cursor); err != nil {
			return res, fmt.Errorf("field: read cursor: %w", err)
		}
		var resp *v1.PullResponse
		err := c.retry(ctx, "pull changes", func(ctx context.Context) error {
			r, err := c.sync.Pull(ctx, connect.NewRequest(&v1.PullRequest{Cursor: cursor, PageSize: c.cfg.PullPageSize}))
			if err != nil {
				return err
			}
			resp = r.Msg
			return nil
		})
		if err != nil {
			return res, err
		}
		if resp.GetFullResync() && pushFirst {
			// Rule 7: the outbox goes first, and is never discarded.
			if _, err := c.push(ctx, progress); err != nil {
				return res, err
			}
			res.FullResync = true
		}
		if err := c.applyPage(ctx, resp); err != nil {
			return res, err
		}
		res.Pages++
		res.Changes += len(resp.GetChanges())
		if !resp.GetHasMore() {
			return res, nil
		}
	}
}

// applyPage applies one pull page and saves its cursor in one transaction:
// either all of it is kept or none, and the cursor never runs ahead of the
// data. Errors: EINVALID for a change that cannot be applied.
func (c *Client) applyPage(ctx context.Context, resp *v1.PullResponse) error {
	return c.update(ctx, func(tx *sql.Tx) error {
		if resp.GetFullResync() {
			if err := clearServerData(ctx, tx); err != nil {
				return err
			}
		}
		for i, ch := range resp.GetChanges() {
			if c.beforeChange != nil {
				if err := c.beforeChange(i); err != nil {
					return err
				}
			}
			if err := c.applyChange(ctx, tx, ch); err != nil {
				return fmt.Errorf("field: apply change %d of the page: %w", i+1, err)
			}
		}
		now := c.now()
		offset := int64(0)
		if st := resp.GetServerTime(); st != nil && st.IsValid() {
			offset = now.Sub(st.AsTime()).Milliseconds()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE device SET cursor = ?, last_pull_ms = ?, clock_offset_ms = ? WHERE id = 1`,
			resp.GetNextCursor(), now.UnixMilli(), offset); err != nil {
			return fmt.Errorf("field: save cursor: %w", err)
		}
		return nil
	})
}

func (c *Client) applyChange(ctx context.Context, tx *sql.Tx, ch *v1.Change) error {
	switch k := ch.GetKind().(type) {
	case *v1.Change_AssignmentUpsert:
		return c.applyAssignment(ctx, tx, k.AssignmentUpsert)
	case *v1.Change_AssignmentRemoval:
		r := k.AssignmentRemoval
		reason, err := protocol.RemovalReasonFromProto(r)
		if err != nil {
			return err
		}
		state := string(reason.AssignmentState())
		_, err = tx.ExecContext(ctx, `UPDATE assignments SET removed_reason = ?, state = CASE WHEN ? = '' THEN state ELSE ? END
			WHERE id = ?`, string(reason), state, state, r.GetAssignmentId())
		return err
	case *v1.Change_ChecklistUpsert:
		u := k.ChecklistUpsert
		cv, err := putVersion(ctx, tx, u.GetChecklist())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO unplanned_checklists (checklist_id, version) VALUES (?, ?)
			ON CONFLICT (checklist_id) DO UPDATE SET version = excluded.version`, cv.ChecklistID, cv.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM unplanned_stores WHERE checklist_id = ?`, cv.ChecklistID); err != nil {
			return err
		}
		for _, s := range u.GetStores() {
			if err := putStore(ctx, tx, s); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO unplanned_stores (checklist_id, store_id) VALUES (?, ?)`,
				cv.ChecklistID, s.GetId()); err != nil {
				return err
			}
		}
		return nil
	case *v1.Change_VisitReceipt:
		return putReceipt(ctx, tx, k.VisitReceipt)
	default:
		// A change kind newer than this client: nothing to keep of it.
		return nil
	}
}

func (c *Client) applyAssignment(ctx context.Context, tx *sql.Tx, u *v1.AssignmentUpsert) error {
	a, err := protocol.AssignmentFromProto(u.GetAssignment())
	if err != nil {
		return err
	}
	if _, err := putVersion(ctx, tx, u.GetChecklist()); err != nil {
		return err
	}
	if s := u.GetStore(); s != nil {
		if err := putStore(ctx, tx, s); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff WHERE store_id = ?`, s.GetId()); err != nil {
			return err
		}
	}
	for _, st := range u.GetStaff() {
		storeID := st.GetStoreId()
		if storeID == "" {
			storeID = a.StoreID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, store_id, employee_number, name, position, department, back_office)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET store_id = excluded.store_id,
			employee_number = excluded.employee_number, name = excluded.name, position = excluded.position,
			department = excluded.department, back_office = excluded.back_office`,
			st.GetId(), storeID, st.GetEmployeeNumber(), st.GetName(), st.GetPosition(), st.GetDepartment(), st.GetBackOffice()); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO assignments (id, store_id, checklist_id, checklist_version, channel,
		window_start_ms, window_end_ms, shopper_id, state, cancel_reason, removed_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '') ON CONFLICT (id) DO UPDATE SET store_id = excluded.store_id,
		checklist_id = excluded.checklist_id, checklist_version = excluded.checklist_version, channel = excluded.channel,
		window_start_ms = excluded.window_start_ms, window_end_ms = excluded.window_end_ms, shopper_id = excluded.shopper_id,
		state = excluded.state, cancel_reason = excluded.cancel_reason, removed_reason = ''`,
		a.ID, a.StoreID, a.ChecklistID, a.ChecklistVersion, string(a.Channel),
		sqlitedb.OptMillis(a.WindowStart), sqlitedb.OptMillis(a.WindowEnd), a.ShopperID, string(a.State), a.CancelReason)
	return err
}

// putVersion stores a checklist version with its content. The content must
// decode and match its hash (published versions are immutable, and a
// visit is scored against exactly this content); a version already on the
// device keeps its content and takes the new state (retired).
// Errors: EINVALID.
func putVersion(ctx context.Context, tx *sql.Tx, p *v1.ChecklistVersion) (*audit.ChecklistVersion, error) {
	if p == nil {
		return nil, audit.Errorf(audit.EINVALID, "change without its checklist version")
	}
	cv, err := protocol.VersionFromProto(p)
	if err != nil {
		return nil, err
	}
	if cv.State == audit.VersionDraft {
		return nil, audit.Errorf(audit.EINVALID, "checklist %s version %d: state %v cannot be used for visits", cv.ChecklistID, cv.Version, p.GetState())
	}
	if err := cv.Verify(); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "checklist %s version %d: %s", cv.ChecklistID, cv.Version, audit.ErrorMessage(err))
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content_hash,
		content, allow_unplanned) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (checklist_id, version) DO UPDATE SET state = excluded.state`,
		cv.ChecklistID, cv.Version, cv.Content.Name, string(cv.Content.Channel), string(cv.State), cv.ContentHash,
		p.GetContent(), cv.Content.AllowUnplanned)
	if err != nil {
		return nil, err
	}
	return cv, nil
}

func putStore(ctx context.Context, tx *sql.Tx, s *v1.Store) error {
	if s.GetId() == "" {
		return audit.Errorf(audit.EINVALID, "store without an id")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stores (id, code, name, address, region, latitude, longitude, geofence_meters)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
		address = excluded.address, region = excluded.region, latitude = excluded.latitude, longitude = excluded.longitude,
		geofence_meters = excluded.geofence_meters`,
		s.GetId(), s.GetCode(), s.GetName(), s.GetAddress(), s.GetRegion(), s.GetLatitude(), s.GetLongitude(), s.GetGeofenceMeters())
	return err
}

// putReceipt stores the server's receipt of a visit and brings the local
// photos' verified marks in line with it: what the server still misses is
// not verified, whatever the device thought.
func putReceipt(ctx context.Context, tx *sql.Tx, r *v1.VisitReceipt) error {
	if r == nil || r.GetVisitId() == "" {
		return nil
	}
	rec, err := protocol.ReceiptFromProto(r)
	if err != nil {
		return err
	}
	missing := make([]MissingPhoto, 0, len(rec.Missing))
	for _, m := range rec.Missing {
		missing = append(missing, MissingPhoto{QuestionID: m.QuestionID, Index: m.Index, SHA256: m.SHA256})
	}
	comments := make([]Comment, 0, len(rec.Comments))
	for _, cm := range rec.Comments {
		comments = append(comments, Comment{QuestionID: cm.QuestionID, Text: cm.Text})
	}
	flags := make([]string, 0, len(rec.Flags))
	for _, f := range rec.Flags {
		flags = append(flags, string(f))
	}
	cj, _ := json.Marshal(comments)
	mj, _ := json.Marshal(missing)
	fj, _ := json.Marshal(flags)
	var score any
	if rec.ScorePercent != nil {
		score = *rec.ScorePercent
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (visit_id, state, score_percent, missing_json, flags_json, comments_json, receive_time_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (visit_id) DO UPDATE SET state = excluded.state, score_percent = excluded.score_percent,
		missing_json = excluded.missing_json, flags_json = excluded.flags_json, comments_json = excluded.comments_json, receive_time_ms = excluded.receive_time_ms`,
		rec.VisitID, string(rec.State), score, string(mj), string(fj), string(cj), sqlitedb.OptMillis(rec.ReceivedAt)); err != nil {
		return fmt.Errorf("field: save receipt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE photos SET verified = 1, last_error = '' WHERE visit_id = ?`, r.GetVisitId()); err != nil {
		return err
	}
	for _, m := range missing {
		if _, err := tx.ExecContext(ctx, `UPDATE photos SET verified = 0 WHERE visit_id = ? AND question_id = ? AND idx = ?`,
			r.GetVisitId(), m.QuestionID, m.Index); err != nil {
			return err
		}
	}
	return nil
}

// retry runs fn with a per-call timeout, retrying transient failures
// (protocol.Retryable) with backoff up to MaxAttempts times. The error is a
// domain error saying what was being done.
func (c *Client) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 0; attempt < c.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if werr := sleep(ctx, c.cfg.Backoff.Delay(attempt-1)); werr != nil {
				return remote(what, err)
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		err = fn(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !protocol.Retryable(err) {
			break
		}
	}
	return remote(what, err)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
