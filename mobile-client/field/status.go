package field

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/internal/sqlitedb"
)

// MissingPhoto is evidence the server still waits for.
type MissingPhoto struct {
	QuestionID string `json:"question_id"`
	Index      int    `json:"index"`
	SHA256     string `json:"sha256"`
}

// Receipt is the server's view of a submitted visit.
type Receipt struct {
	VisitID string
	// State is "submitted" (evidence missing), "complete", "in_review",
	// "approved", "returned", "published" or "superseded".
	State string
	// ScorePercent is the authoritative score; nil when nothing was
	// scorable.
	ScorePercent *float64
	Missing      []MissingPhoto
	// Flags are what a manager will look at: "assignment_cancelled",
	// "unplanned", "outside_window"...
	Flags []string
	// Comments are a returned visit's reviewer comments: correct the visit
	// with StartCorrection and submit the correction.
	Comments    []Comment
	ReceiveTime time.Time
}

// Comment is a reviewer's remark on one question, or (with an empty
// QuestionID) on the whole visit.
type Comment struct {
	QuestionID string `json:"question_id,omitempty"`
	Text       string `json:"text"`
}

// OutboxItem is one mutation of the outbox.
type OutboxItem struct {
	Seq        int64
	MutationID string
	VisitID    string
	Kind       string
	// Status is "pending", "applied", "replayed" or "rejected".
	Status string
	// ErrorCode and ErrorMessage are the server's reason for a rejection.
	ErrorCode    string
	ErrorMessage string
	CreatedAt    time.Time
	ProcessedAt  time.Time
}

// VisitSummary is one visit in a list.
type VisitSummary struct {
	ID               string
	AssignmentID     string
	StoreID          string
	StoreCode        string
	StoreName        string
	ChecklistID      string
	ChecklistVersion int
	ChecklistName    string
	StartedAt        time.Time
	FinishedAt       time.Time
	// State is StateDraft, StateQueued, StateRejected, StateUploading or
	// StateSent: "sent" only when the server's receipt says no evidence is
	// missing.
	State     string
	Receipt   *Receipt
	Rejection *OutboxItem
}

// Status is what the device holds and what still waits.
type Status struct {
	Session Session
	// Visits lists every visit on the device, newest first.
	Visits []VisitSummary
	// Pending is the outbox waiting for Sync, in seq order.
	Pending []OutboxItem
	// Rejected are the mutations the server refused for good, with its
	// message; they never block the queue.
	Rejected []OutboxItem
	// MissingEvidence are the photos of submitted visits the server has
	// not verified yet, with the last upload error.
	MissingEvidence []PhotoInfo
	// Receipts are the server's receipts of the device's visits.
	Receipts []Receipt
	// LastPull and LastPush are when the device last pulled and pushed.
	LastPull, LastPush time.Time
	// PhotoBytesWaiting sums the sizes of MissingEvidence.
	PhotoBytesWaiting int64
	// ServerClockOffset is how far the device's clock was ahead of the
	// server's at the last pull.
	ServerClockOffset time.Duration
	// ServerAppliedSeq is the last seq the server said it applied;
	// NextSeq the seq the next submission gets.
	ServerAppliedSeq, NextSeq int64
	// Assignments and UnplannedChecklists count what the last pull brought.
	Assignments, UnplannedChecklists int
}

// Status reports what waits in the outbox, which evidence is missing, what
// was rejected (with the server's message) and the receipts (state, score,
// flags). It works offline.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	s := &Status{}
	var err error
	if s.Session, err = c.Session(ctx); err != nil {
		return nil, err
	}
	var pull, push, offset int64
	if err := c.db.QueryRowContext(ctx, `SELECT last_pull_ms, last_push_ms, clock_offset_ms, server_applied_seq, next_seq,
		(SELECT COUNT(*) FROM assignments WHERE removed_reason = ''), (SELECT COUNT(*) FROM unplanned_checklists)
		FROM device WHERE id = 1`).Scan(&pull, &push, &offset, &s.ServerAppliedSeq, &s.NextSeq, &s.Assignments, &s.UnplannedChecklists); err != nil {
		return nil, fmt.Errorf("field: read status: %w", err)
	}
	s.LastPull, s.LastPush, s.ServerClockOffset = sqlitedb.FromOptMillis(pull), sqlitedb.FromOptMillis(push), msDuration(offset)
	if s.Visits, err = c.visitSummaries(ctx, ""); err != nil {
		return nil, err
	}
	if s.Pending, err = c.outbox(ctx, `WHERE status = 'pending'`); err != nil {
		return nil, err
	}
	if s.Rejected, err = c.outbox(ctx, `WHERE status = 'rejected'`); err != nil {
		return nil, err
	}
	if s.MissingEvidence, err = c.photos(ctx, c.db, `WHERE verified = 0 AND visit_id IN (SELECT id FROM visits WHERE status = 'submitted')
		AND visit_id NOT IN (SELECT visit_id FROM outbox WHERE status = 'rejected')`); err != nil {
		return nil, err
	}
	for _, p := range s.MissingEvidence {
		s.PhotoBytesWaiting += p.Size
	}
	if s.Receipts, err = c.receipts(ctx, ``); err != nil {
		return nil, err
	}
	return s, nil
}

// Visits lists every visit on the device, newest first. It works offline.
func (c *Client) Visits(ctx context.Context) ([]VisitSummary, error) {
	return c.visitSummaries(ctx, "")
}

func (c *Client) outbox(ctx context.Context, where string, args ...any) ([]OutboxItem, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT seq, mutation_id, visit_id, kind, status, error_code, error_message,
		created_ms, processed_ms FROM outbox `+where+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("field: read outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var o OutboxItem
		var created, processed int64
		if err := rows.Scan(&o.Seq, &o.MutationID, &o.VisitID, &o.Kind, &o.Status, &o.ErrorCode, &o.ErrorMessage, &created, &processed); err != nil {
			return nil, fmt.Errorf("field: read outbox: %w", err)
		}
		o.CreatedAt, o.ProcessedAt = sqlitedb.FromOptMillis(created), sqlitedb.FromOptMillis(processed)
		out = append(out, o)
	}
	return out, rows.Err()
}

func (c *Client) receipts(ctx context.Context, where string, args ...any) ([]Receipt, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT visit_id, state, score_percent, missing_json, flags_json, comments_json, receive_time_ms
		FROM receipts `+where+` ORDER BY receive_time_ms DESC, visit_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("field: read receipts: %w", err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		var r Receipt
		var score sql.NullFloat64
		var missing, flags, comments string
		var received int64
		if err := rows.Scan(&r.VisitID, &r.State, &score, &missing, &flags, &comments, &received); err != nil {
			return nil, fmt.Errorf("field: read receipts: %w", err)
		}
		if score.Valid {
			r.ScorePercent = &score.Float64
		}
		if err := json.Unmarshal([]byte(missing), &r.Missing); err != nil {
			return nil, fmt.Errorf("field: decode receipt: %w", err)
		}
		if err := json.Unmarshal([]byte(comments), &r.Comments); err != nil {
			return nil, fmt.Errorf("field: decode receipt: %w", err)
		}
		if err := json.Unmarshal([]byte(flags), &r.Flags); err != nil {
			return nil, fmt.Errorf("field: decode receipt: %w", err)
		}
		r.ReceiveTime = sqlitedb.FromOptMillis(received)
		out = append(out, r)
	}
	return out, rows.Err()
}

// visitSummaries lists visits matching a WHERE clause over visits v, with
// their local state.
func (c *Client) visitSummaries(ctx context.Context, where string, args ...any) ([]VisitSummary, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT v.id, v.assignment_id, v.store_id, COALESCE(s.code, ''), COALESCE(s.name, ''),
		v.checklist_id, v.checklist_version, cv.name, v.started_ms, v.finished_ms, v.status,
		COALESCE((SELECT o.seq FROM outbox o WHERE o.visit_id = v.id ORDER BY o.seq DESC LIMIT 1), 0)
		FROM visits v
		JOIN checklist_versions cv ON cv.checklist_id = v.checklist_id AND cv.version = v.checklist_version
		LEFT JOIN stores s ON s.id = v.store_id `+where+` ORDER BY v.started_ms DESC, v.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("field: list visits: %w", err)
	}
	var out []VisitSummary
	var seqs []int64
	for rows.Next() {
		var v VisitSummary
		var started, finished, seq int64
		var status string
		if err := rows.Scan(&v.ID, &v.AssignmentID, &v.StoreID, &v.StoreCode, &v.StoreName, &v.ChecklistID, &v.ChecklistVersion,
			&v.ChecklistName, &started, &finished, &status, &seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("field: list visits: %w", err)
		}
		v.StartedAt, v.FinishedAt, v.State = sqlitedb.FromOptMillis(started), sqlitedb.FromOptMillis(finished), status
		out = append(out, v)
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		v := &out[i]
		if v.State == StateDraft {
			continue
		}
		items, err := c.outbox(ctx, `WHERE seq = ?`, seqs[i])
		if err != nil {
			return nil, err
		}
		rs, err := c.receipts(ctx, `WHERE visit_id = ?`, v.ID)
		if err != nil {
			return nil, err
		}
		if len(rs) == 1 {
			v.Receipt = &rs[0]
		}
		switch {
		case len(items) == 0 || items[0].Status == "pending":
			v.State = StateQueued
		case items[0].Status == "rejected":
			v.State = StateRejected
			v.Rejection = &items[0]
		case v.Receipt != nil && len(v.Receipt.Missing) == 0:
			v.State = StateSent
		default:
			v.State = StateUploading
		}
	}
	return out, nil
}
