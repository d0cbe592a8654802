package field

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

// PhotoInfo is a photo of a visit with its upload state on this device.
type PhotoInfo struct {
	audit.Photo
	VisitID string
	// Verified is true once the server verified the bytes.
	Verified bool
	// Attempts counts failed upload attempts; LastError says why the last
	// one failed.
	Attempts  int
	LastError string
}

// AddPhoto copies the photo file at path into the client's own
// content-addressed store (written atomically), computing its SHA-256 from
// the exact bytes copied and its type from its content (JPEG, PNG, WebP or
// HEIC), and appends it to the answer of a question of a draft visit
// (any question may carry photos as evidence). The original file may be
// deleted afterwards. It works offline. Errors: ENOTFOUND (visit),
// EPRECONDITION (submitted), EINVALID (unknown question, a file that is
// missing, empty, too large or not a photo of an accepted type).
func (c *Client) AddPhoto(ctx context.Context, visitID, questionID, path string) (PhotoInfo, error) {
	v, err := c.loadVisit(ctx, c.db, visitID)
	if err != nil {
		return PhotoInfo{}, err
	}
	if v.status != StateDraft {
		return PhotoInfo{}, audit.Errorf(audit.EPRECONDITION, "visit %s is submitted and cannot change", visitID)
	}
	cv, err := c.version(ctx, c.db, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return PhotoInfo{}, err
	}
	if _, _, ok := cv.Content.Question(questionID); !ok {
		return PhotoInfo{}, unknownQuestion(&cv.Content, questionID)
	}
	sum, size, ctype, err := c.capture(path)
	if err != nil {
		return PhotoInfo{}, err
	}
	info := PhotoInfo{VisitID: visitID, Photo: audit.Photo{
		QuestionID: questionID, SHA256: sum, Size: size, ContentType: ctype, CapturedAt: c.now(),
	}}
	err = c.update(ctx, func(tx *sql.Tx) error {
		if _, _, err := c.draft(ctx, tx, visitID); err != nil {
			return err
		}
		a, err := loadAnswer(ctx, tx, visitID, questionID)
		if err != nil {
			return err
		}
		a.PhotoHashes = append(a.PhotoHashes, sum)
		info.Index = len(a.PhotoHashes) - 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO photos (visit_id, question_id, idx, sha256, size_bytes, content_type, captured_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, visitID, questionID, info.Index, sum, size, ctype, info.CapturedAt.UnixMilli()); err != nil {
			return fmt.Errorf("field: save photo: %w", err)
		}
		return c.saveAnswer(ctx, tx, visitID, a)
	})
	if err != nil {
		return PhotoInfo{}, err
	}
	return info, nil
}

// capture copies a photo file into the store: to a temporary file in the
// store's folder, hashing the bytes as they are written, synced, then
// renamed to its hash. It returns the hex SHA-256, the size and the
// detected content type.
func (c *Client) capture(path string) (sum string, size int64, ctype string, err error) {
	src, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", 0, "", audit.Errorf(audit.EINVALID, "no photo file %s: check the path", path)
		}
		return "", 0, "", audit.Errorf(audit.EINVALID, "cannot read photo %s: %v", path, err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return "", 0, "", audit.Errorf(audit.EINVALID, "cannot read photo %s: %v", path, err)
	}
	switch {
	case !st.Mode().IsRegular():
		return "", 0, "", audit.Errorf(audit.EINVALID, "%s is not a file: give the path of a photo", path)
	case st.Size() == 0:
		return "", 0, "", audit.Errorf(audit.EINVALID, "photo %s is empty: take it again", path)
	case st.Size() > audit.MaxPhotoBytes:
		return "", 0, "", audit.Errorf(audit.EINVALID, "photo %s has %d bytes; at most %d are accepted: take it at a lower resolution", path, st.Size(), audit.MaxPhotoBytes)
	}
	tmp, err := os.CreateTemp(c.photoDir, ".capture-*")
	if err != nil {
		return "", 0, "", fmt.Errorf("field: store photo: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	head := &prefix{limit: 512}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), io.LimitReader(src, audit.MaxPhotoBytes+1))
	if err != nil {
		return "", 0, "", fmt.Errorf("field: copy photo %s: %w", path, err)
	}
	if n > audit.MaxPhotoBytes {
		return "", 0, "", audit.Errorf(audit.EINVALID, "photo %s grew beyond %d bytes while it was copied", path, audit.MaxPhotoBytes)
	}
	if n == 0 {
		return "", 0, "", audit.Errorf(audit.EINVALID, "photo %s is empty: take it again", path)
	}
	ctype = DetectPhotoType(head.buf.Bytes())
	if !slices.Contains(audit.PhotoContentTypes, ctype) {
		return "", 0, "", audit.Errorf(audit.EINVALID, "%s is %s, not a photo: accepted are %s", path, ctype, strings.Join(audit.PhotoContentTypes, ", "))
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, "", fmt.Errorf("field: store photo: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", 0, "", fmt.Errorf("field: store photo: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if err = os.Rename(tmp.Name(), c.photoPath(sum)); err != nil {
		return "", 0, "", fmt.Errorf("field: store photo: %w", err)
	}
	if err = syncDir(c.photoDir); err != nil {
		return "", 0, "", err
	}
	return sum, n, ctype, nil
}

// photoPath is where the bytes of a photo live: named by their hash, so the
// same photo in two slots is stored once.
func (c *Client) photoPath(sum string) string {
	return filepath.Join(c.photoDir, sum)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("field: sync photo folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("field: sync photo folder: %w", err)
	}
	return nil
}

// prefix keeps the first limit bytes written to it.
type prefix struct {
	buf   bytes.Buffer
	limit int
}

func (p *prefix) Write(b []byte) (int, error) {
	if room := p.limit - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// heicBrands are the ISO BMFF major brands of HEIF/HEIC images.
var heicBrands = []string{"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"}

// DetectPhotoType returns the content type of a photo from its first
// bytes: http.DetectContentType, which knows JPEG, PNG and WebP, plus HEIC
// (an ISO BMFF "ftyp" box with a HEIF brand), which it does not.
func DetectPhotoType(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" && slices.Contains(heicBrands, string(head[8:12])) {
		return "image/heic"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// photos lists photos matching a WHERE clause, by visit and slot.
func (c *Client) photos(ctx context.Context, q querier, where string, args ...any) ([]PhotoInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT visit_id, question_id, idx, sha256, size_bytes, content_type, captured_ms,
		verified, attempts, last_error FROM photos `+where+` ORDER BY visit_id, question_id, idx`, args...)
	if err != nil {
		return nil, fmt.Errorf("field: list photos: %w", err)
	}
	defer rows.Close()
	var out []PhotoInfo
	for rows.Next() {
		var p PhotoInfo
		var captured int64
		if err := rows.Scan(&p.VisitID, &p.QuestionID, &p.Index, &p.SHA256, &p.Size, &p.ContentType, &captured,
			&p.Verified, &p.Attempts, &p.LastError); err != nil {
			return nil, fmt.Errorf("field: list photos: %w", err)
		}
		p.CapturedAt = sqlitedb.FromOptMillis(captured)
		out = append(out, p)
	}
	return out, rows.Err()
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
