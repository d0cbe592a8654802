package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Find returns a photo slot of one of the shopper's visits (storage.Photos).
func (r photoRows) Find(ctx context.Context, shopperID, visitID, questionID string, index int) (*storage.VisitPhoto, error) {
	return get(ctx, r.rows, func(tx *Tx) (*storage.VisitPhoto, error) {
		p := &storage.VisitPhoto{VisitID: visitID, QuestionID: questionID, Index: index}
		var verified sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT p.sha256, p.size, p.content_type, p.verified_at
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
	})
}

// Verified reports whether bytes are verified (storage.Photos).
func (r photoRows) Verified(ctx context.Context, sha string) (bool, error) {
	return get(ctx, r.rows, func(tx *Tx) (bool, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM verified_blobs WHERE sha256 = ?`, sha).Scan(&n); err != nil {
			return false, fmt.Errorf("find verified blob: %w", err)
		}
		return n > 0, nil
	})
}

// Reused returns the hashes other visits reference too (storage.Photos).
func (r photoRows) Reused(ctx context.Context, visitID, correctsID string, hashes []string) ([]string, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]string, error) {
		list, err := json.Marshal(hashes)
		if err != nil {
			return nil, err
		}
		out, err := queryAll(ctx, tx, scanString, `SELECT DISTINCT o.sha256 FROM visit_photos o
			WHERE o.sha256 IN (SELECT value FROM json_each(?1)) AND o.visit_id <> ?2 AND o.visit_id <> ?3
			AND o.visit_id NOT IN (SELECT id FROM visits WHERE corrects_visit_id = ?2)`, string(list), visitID, correctsID)
		if err != nil {
			return nil, fmt.Errorf("find reused photos: %w", err)
		}
		return out, nil
	})
}

// Exif returns what the server read from verified bytes (storage.Photos).
func (r photoRows) Exif(ctx context.Context, hashes []string) (map[string]storage.Exif, error) {
	return get(ctx, r.rows, func(tx *Tx) (map[string]storage.Exif, error) {
		list, err := json.Marshal(hashes)
		if err != nil {
			return nil, err
		}
		out := map[string]storage.Exif{}
		_, err = queryAll(ctx, tx, func(row scanner) (struct{}, error) {
			var sha string
			var at sql.NullInt64
			var lat, lon sql.NullFloat64
			if err := row.Scan(&sha, &at, &lat, &lon); err != nil {
				return struct{}{}, err
			}
			x := storage.Exif{Time: fromNullMillis(at)}
			if lat.Valid && lon.Valid {
				x.Point = &audit.GeoPoint{Latitude: lat.Float64, Longitude: lon.Float64}
			}
			out[sha] = x
			return struct{}{}, nil
		}, `SELECT sha256, exif_time, exif_latitude, exif_longitude FROM verified_blobs WHERE sha256 IN (SELECT value FROM json_each(?))`, string(list))
		if err != nil {
			return nil, fmt.Errorf("proof: read EXIF: %w", err)
		}
		return out, nil
	})
}

// Missing returns how many photos of a visit are not verified yet
// (storage.Photos).
func (r photoRows) Missing(ctx context.Context, visitID string) (int, error) {
	return get(ctx, r.rows, func(tx *Tx) (int, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_photos WHERE visit_id = ? AND verified_at IS NULL`, visitID).Scan(&n); err != nil {
			return 0, fmt.Errorf("count missing photos: %w", err)
		}
		return n, nil
	})
}

// RecordVerified records verified bytes (storage.Photos).
func (r photoRows) RecordVerified(ctx context.Context, b storage.VerifiedBlob) error {
	return r.write(ctx, func(tx *Tx) error {
		var lat, lon sql.NullFloat64
		if p := b.Exif.Point; p != nil {
			lat = sql.NullFloat64{Float64: p.Latitude, Valid: true}
			lon = sql.NullFloat64{Float64: p.Longitude, Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO verified_blobs (sha256, size, content_type, verified_at, exif_time, exif_latitude, exif_longitude)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, b.SHA256, b.Size, b.ContentType, millis(tx.now), nullMillis(b.Exif.Time), lat, lon); err != nil {
			return fmt.Errorf("record verified blob: %w", err)
		}
		return nil
	})
}

// MarkVerified marks the unverified slots of bytes verified and returns
// their visits (storage.Photos).
func (r photoRows) MarkVerified(ctx context.Context, sha string) ([]string, error) {
	return put(ctx, r.rows, func(tx *Tx) ([]string, error) {
		ids, err := queryAll(ctx, tx, scanString, `UPDATE visit_photos SET verified_at = ? WHERE sha256 = ? AND verified_at IS NULL RETURNING visit_id`,
			millis(tx.now), sha)
		if err != nil {
			return nil, fmt.Errorf("mark photos verified: %w", err)
		}
		seen := map[string]bool{}
		out := ids[:0]
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		return out, nil
	})
}

// LockHash takes the lock of the bytes sha (storage.Photos): a mutex of
// this process, chosen by the hash of sha (two hashes may share one,
// and then wait for each other needlessly, never wrongly). That is the
// lock of every server, because a SQLite database is served by one
// process. The single writer would not do: the verification holds the
// lock while it reads the bytes from the blob store, outside any
// transaction, and it must not hold the writer, which every push needs,
// for that long. On a Tx it is the same lock, given back by unlock.
func (r photoRows) LockHash(ctx context.Context, sha string) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(sha))
	lock := r.db.hashLocks[h.Sum32()%uint32(len(r.db.hashLocks))]
	select {
	case <-lock:
		return func() { lock <- struct{}{} }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
