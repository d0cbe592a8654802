package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Find returns a photo slot of one of the shopper's visits (storage.Photos).
func (r photoRows) Find(ctx context.Context, shopperID, visitID, questionID string, index int) (*storage.VisitPhoto, error) {
	return selectOne(ctx, r.rows, "find visit photo", fmt.Sprintf("no visit %q of yours has a photo %s[%d]", visitID, questionID, index),
		func(row pgx.Row) (*storage.VisitPhoto, error) {
			p := &storage.VisitPhoto{VisitID: visitID, QuestionID: questionID, Index: index}
			return p, row.Scan(&p.SHA256, &p.Size, &p.ContentType, &p.Verified)
		}, `SELECT p.sha256, p.size, p.content_type, p.verified_at IS NOT NULL
			FROM visit_photos p JOIN visits v ON v.id = p.visit_id
			WHERE p.visit_id = $1 AND p.question_id = $2 AND p.idx = $3 AND v.shopper_id = $4`,
		visitID, questionID, index, shopperID)
}

// Verified reports whether bytes are verified (storage.Photos).
func (r photoRows) Verified(ctx context.Context, sha string) (bool, error) {
	return query(ctx, r.rows, func(tx *Tx) (bool, error) {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM verified_blobs WHERE sha256 = $1)`, sha).Scan(&ok); err != nil {
			return false, fmt.Errorf("find verified blob: %w", err)
		}
		return ok, nil
	})
}

// Reused returns the hashes other visits reference too (storage.Photos).
func (r photoRows) Reused(ctx context.Context, visitID, correctsID string, hashes []string) ([]string, error) {
	out, err := selectAll(ctx, r.rows, "find reused photos", scanText, `SELECT DISTINCT o.sha256 FROM visit_photos o
		WHERE o.sha256 = ANY($1::text[]) AND o.visit_id <> $2 AND o.visit_id <> $3
		AND o.visit_id NOT IN (SELECT id FROM visits WHERE corrects_visit_id = $2)`, hashes, visitID, correctsID)
	if len(out) == 0 {
		return nil, err
	}
	return out, err
}

// Exif returns what the server read from verified bytes (storage.Photos).
func (r photoRows) Exif(ctx context.Context, hashes []string) (map[string]storage.Exif, error) {
	type blobExif struct {
		sha string
		x   storage.Exif
	}
	rows, err := selectAll(ctx, r.rows, "proof: read EXIF", func(row pgx.Row) (blobExif, error) {
		var b blobExif
		var at *time.Time
		var lat, lon *float64
		if err := row.Scan(&b.sha, &at, &lat, &lon); err != nil {
			return b, err
		}
		b.x.Time = timeOf(at)
		if lat != nil && lon != nil {
			b.x.Point = &audit.GeoPoint{Latitude: *lat, Longitude: *lon}
		}
		return b, nil
	}, `SELECT sha256, exif_time, exif_latitude, exif_longitude FROM verified_blobs WHERE sha256 = ANY($1::text[])`, hashes)
	if err != nil {
		return nil, err
	}
	out := make(map[string]storage.Exif, len(rows))
	for _, b := range rows {
		out[b.sha] = b.x
	}
	return out, nil
}

// Missing returns how many photos of a visit are not verified yet
// (storage.Photos).
func (r photoRows) Missing(ctx context.Context, visitID string) (int, error) {
	return query(ctx, r.rows, func(tx *Tx) (int, error) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM visit_photos WHERE visit_id = $1 AND verified_at IS NULL`, visitID).Scan(&n); err != nil {
			return 0, fmt.Errorf("count missing photos: %w", err)
		}
		return n, nil
	})
}

// RecordVerified records verified bytes; bytes recorded already stay as
// they were (storage.Photos).
func (r photoRows) RecordVerified(ctx context.Context, b storage.VerifiedBlob) error {
	var lat, lon *float64
	if p := b.Exif.Point; p != nil {
		lat, lon = &p.Latitude, &p.Longitude
	}
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO verified_blobs (sha256, size, content_type, verified_at, exif_time, exif_latitude, exif_longitude)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING`,
			b.SHA256, b.Size, b.ContentType, tx.now, nullTime(b.Exif.Time), lat, lon); err != nil {
			return fmt.Errorf("record verified blob: %w", err)
		}
		return nil
	})
}

// MarkVerified marks the unverified slots of bytes verified and returns
// their visits, each once, in the order their slots were stored
// (storage.Photos).
func (r photoRows) MarkVerified(ctx context.Context, sha string) ([]string, error) {
	var out []string
	err := r.write(ctx, func(tx *Tx) error {
		rs, err := tx.Query(ctx, `WITH marked AS (
				UPDATE visit_photos SET verified_at = $1 WHERE sha256 = $2 AND verified_at IS NULL RETURNING visit_id, ord)
			SELECT visit_id FROM marked GROUP BY visit_id ORDER BY min(ord)`, tx.now, sha)
		if err != nil {
			return fmt.Errorf("mark photos verified: %w", err)
		}
		out, err = pgx.CollectRows(rs, func(row pgx.CollectableRow) (string, error) { return scanText(row) })
		if err != nil {
			return fmt.Errorf("mark photos verified: %w", err)
		}
		if len(out) == 0 {
			out = nil // as SQLite answers none
		}
		return nil
	})
	return out, err
}

// photoLockSpace is the first key of the advisory locks of LockHash (the
// two-key form, whose keys never meet the one-key migration lock's):
// "phot" in ASCII.
const photoLockSpace = 0x70686f74

// LockHash takes the lock of the bytes sha against every server of the
// database (storage.Photos): pg_advisory_xact_lock on the hash of sha,
// which PostgreSQL gives back when the transaction holding it ends, also
// when its connection or its server dies. On a Tx that transaction holds
// it, and unlock does nothing. On the DB a transaction of its own holds
// it, on a connection of the lock pool (db.locks), and unlock ends that
// transaction: the caller goes on to run transactions of the main pool
// while holding the lock, and a lock holder waiting for a main
// connection must never be what keeps a main connection from being
// free.
func (r photoRows) LockHash(ctx context.Context, sha string) (func(), error) {
	const lock = `SELECT pg_advisory_xact_lock($1, hashtext($2))`
	if r.tx != nil {
		if _, err := r.tx.Exec(ctx, lock, photoLockSpace, sha); err != nil {
			return nil, fmt.Errorf("lock photo %s: %w", sha, err)
		}
		return func() {}, nil
	}
	tx, err := r.db.locks.Begin(ctx)
	if err != nil {
		return nil, unavailable(ctx, fmt.Errorf("lock photo %s: %w", sha, err))
	}
	if _, err := tx.Exec(ctx, lock, photoLockSpace, sha); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, unavailable(ctx, fmt.Errorf("lock photo %s: %w", sha, err))
	}
	// A rollback that fails found the connection broken: its server
	// ended the transaction, and the lock with it.
	return func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
}
