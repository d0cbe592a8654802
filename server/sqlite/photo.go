package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// VisitPhoto is one photo slot of a stored visit: the bytes it must be,
// and whether the server has verified them.
type VisitPhoto struct {
	VisitID     string
	QuestionID  string
	Index       int
	SHA256      string // lower-case hex
	Size        int64
	ContentType string
	Verified    bool
}

// FindVisitPhoto returns the photo slot (questionID, index) of one of the
// shopper's visits. Errors: ENOTFOUND (no such visit of the shopper's, or
// no such slot in it).
func (db *DB) FindVisitPhoto(ctx context.Context, shopperID, visitID, questionID string, index int) (*VisitPhoto, error) {
	p := &VisitPhoto{VisitID: visitID, QuestionID: questionID, Index: index}
	var verified sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT p.sha256, p.size, p.content_type, p.verified_at
		FROM visit_photos p JOIN visits v ON v.id = p.visit_id
		WHERE p.visit_id = ? AND p.question_id = ? AND p.idx = ? AND v.shopper_id = ?`,
		visitID, questionID, index, shopperID).Scan(&p.SHA256, &p.Size, &p.ContentType, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "no visit %q of yours has a photo %s[%d]", visitID, questionID, index)
	} else if err != nil {
		return nil, fmt.Errorf("find visit photo: %w", err)
	}
	p.Verified = verified.Valid
	return p, nil
}

// LinkVerifiedBlob marks every unverified photo slot of the bytes with hex
// SHA-256 sha verified when those bytes are verified already (content
// addressing: the same photo in two slots or visits is uploaded once), in
// one write transaction, completing the visits that miss nothing more and
// writing their receipts to the feed. It reports whether the bytes were
// verified.
func (db *DB) LinkVerifiedBlob(ctx context.Context, sha string) (bool, error) {
	sha = strings.ToLower(sha)
	var n int
	// Verified bytes are never forgotten: when the read finds none, there
	// is nothing to mark, and the writer is left alone.
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM verified_blobs WHERE sha256 = ?`, sha).Scan(&n); err != nil {
		return false, fmt.Errorf("find verified blob: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	return true, db.update(ctx, func(tx *Tx) error { return markVerified(ctx, tx, sha) })
}

// Exif is what the server read from a photo's EXIF: the time it was taken
// (zero when absent or without a time zone) and where (nil when absent).
type Exif struct {
	Time  time.Time
	Point *audit.GeoPoint
}

// RecordVerifiedBlob records that the server verified the bytes with hex
// SHA-256 sha (size bytes of contentType) in the blob store, and marks
// every photo slot of those bytes verified, in one write transaction: the
// visits that miss nothing more become complete, and their receipts are
// written to the feed. Recording the same bytes again changes nothing.
func (db *DB) RecordVerifiedBlob(ctx context.Context, sha string, size int64, contentType string, exif Exif) error {
	sha = strings.ToLower(sha)
	var lat, lon sql.NullFloat64
	if exif.Point != nil {
		lat = sql.NullFloat64{Float64: exif.Point.Latitude, Valid: true}
		lon = sql.NullFloat64{Float64: exif.Point.Longitude, Valid: true}
	}
	return db.update(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO verified_blobs (sha256, size, content_type, verified_at, exif_time, exif_latitude, exif_longitude)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sha, size, contentType, millis(tx.now), nullMillis(exif.Time), lat, lon); err != nil {
			return fmt.Errorf("record verified blob: %w", err)
		}
		return markVerified(ctx, tx, sha)
	})
}

// markVerified sets the unverified slots of sha verified, completes the
// submitted visits among theirs that miss no photo any more, and moves
// each touched visit's receipt in its shopper's feed.
func markVerified(ctx context.Context, tx *Tx, sha string) error {
	rows, err := tx.QueryContext(ctx, `UPDATE visit_photos SET verified_at = ? WHERE sha256 = ? AND verified_at IS NULL RETURNING visit_id`,
		millis(tx.now), sha)
	if err != nil {
		return fmt.Errorf("mark photos verified: %w", err)
	}
	seen := map[string]bool{}
	var visits []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if !seen[id] {
			seen[id] = true
			visits = append(visits, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mark photos verified: %w", err)
	}
	for _, id := range visits {
		res, err := tx.ExecContext(ctx, `UPDATE visits SET state = 'complete', completed_at = ?
			WHERE id = ? AND state = 'submitted'
			AND NOT EXISTS (SELECT 1 FROM visit_photos WHERE visit_id = ? AND verified_at IS NULL)`, millis(tx.now), id, id)
		if err != nil {
			return fmt.Errorf("complete visit: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := addTransition(ctx, tx, id, Transition{From: VisitSubmitted, To: VisitComplete, ActorRole: "system",
				Reason: "every photo verified"}); err != nil {
				return err
			}
		}
		if err := refreshProof(ctx, tx, id); err != nil {
			return err
		}
		var shopper string
		if err := tx.QueryRowContext(ctx, `SELECT shopper_id FROM visits WHERE id = ?`, id).Scan(&shopper); err != nil {
			return fmt.Errorf("find visit: %w", err)
		}
		if err := touchFeed(ctx, tx, shopper, feedVisit, id); err != nil {
			return err
		}
	}
	return nil
}
