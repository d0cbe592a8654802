package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

var _ audit.ChecklistStore = (*DB)(nil)

func questionCount(c *audit.Checklist) int {
	n := 0
	for _, s := range c.Sections {
		n += len(s.Questions)
	}
	return n
}

// SaveDraft stores c as its checklist's draft: version 1 of a new
// checklist, the next version after the latest published or retired one,
// or in place of the existing draft. Content identical to the latest
// version, when that is published, returns that version unchanged.
// Errors: EINVALID.
func (db *DB) SaveDraft(ctx context.Context, c *audit.Checklist, by string) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		out, err = saveDraft(ctx, tx, c, by)
		return err
	})
	return out, err
}

func saveDraft(ctx context.Context, tx *Tx, c *audit.Checklist, by string) (*audit.ChecklistVersion, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	content, err := c.CanonicalJSON()
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO checklists (id, created_at) VALUES (?, ?)`, c.ID, millis(tx.now)); err != nil {
		return nil, fmt.Errorf("insert checklist: %w", err)
	}
	var latest int
	var state sql.NullString
	var latestContent []byte
	err = tx.QueryRowContext(ctx, `SELECT version, state, content FROM checklist_versions WHERE checklist_id = ? ORDER BY version DESC LIMIT 1`, c.ID).
		Scan(&latest, &state, &latestContent)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("latest version: %w", err)
	}
	if state.String == string(audit.VersionPublished) && bytes.Equal(latestContent, content) {
		// Importing the same content again changes nothing.
		return findVersion(ctx, tx, c.ID, latest)
	}
	if state.String == string(audit.VersionDraft) {
		_, err = tx.ExecContext(ctx, `UPDATE checklist_versions SET name = ?, channel = ?, content = ?, question_count = ?, created_at = ?, created_by = ?
		WHERE checklist_id = ? AND version = ? AND state = 'draft'`,
			c.Name, string(c.Channel), content, questionCount(c), millis(tx.now), by, c.ID, latest)
	} else {
		latest++
		_, err = tx.ExecContext(ctx, `INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, question_count, created_at, created_by)
		VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?)`, c.ID, latest, c.Name, string(c.Channel), content, questionCount(c), millis(tx.now), by)
	}
	if err != nil {
		return nil, fmt.Errorf("save draft: %w", err)
	}
	return findVersion(ctx, tx, c.ID, latest)
}

// PublishVersion publishes a draft, computing its content hash; from then
// on the version never changes. When the version takes unplanned visits
// it writes the checklist to every shopper's sync feed in the same
// transaction. Errors: ENOTFOUND,
// EPRECONDITION (not a draft), EINVALID.
func (db *DB) PublishVersion(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		out, err = publishVersion(ctx, tx, checklistID, version)
		return err
	})
	return out, err
}

func publishVersion(ctx context.Context, tx *Tx, checklistID string, version int) (*audit.ChecklistVersion, error) {
	v, err := findVersion(ctx, tx, checklistID, version)
	if err != nil {
		return nil, err
	}
	p, err := audit.Publish(v, tx.now)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE checklist_versions SET state = 'published', content_hash = ?, published_at = ?
		WHERE checklist_id = ? AND version = ? AND state = 'draft'`, p.ContentHash, millis(tx.now), checklistID, version); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	// Every shopper's device learns of a new version it may use for
	// unplanned visits.
	if p.Content.AllowUnplanned {
		if err := touchFeed(ctx, tx, "", feedChecklist, checklistID); err != nil {
			return nil, err
		}
	}
	return findVersion(ctx, tx, checklistID, version)
}

// RetireVersion retires a published version, and moves the checklist's
// row in the sync feed so that devices see what is current. Errors:
// ENOTFOUND, EPRECONDITION (not published).
func (db *DB) RetireVersion(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := db.update(ctx, func(tx *Tx) error {
		v, err := findVersion(ctx, tx, checklistID, version)
		if err != nil {
			return err
		}
		if _, err := audit.Retire(v); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checklist_versions SET state = 'retired', retired_at = ?
			WHERE checklist_id = ? AND version = ?`, millis(tx.now), checklistID, version); err != nil {
			return fmt.Errorf("retire: %w", err)
		}
		if v.Content.AllowUnplanned {
			if err := touchFeed(ctx, tx, "", feedChecklist, checklistID); err != nil {
				return err
			}
		}
		out, err = findVersion(ctx, tx, checklistID, version)
		return err
	})
	return out, err
}

// FindVersion returns a version with its content; version 0 is the latest
// published one. Errors: ENOTFOUND, EINTERNAL when a published version no
// longer matches its hash.
func (db *DB) FindVersion(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		out, err = findVersion(ctx, tx, checklistID, version)
		return err
	})
	return out, err
}

const versionColumns = `checklist_id, version, state, content, content_hash, published_at, created_at`

func findVersion(ctx context.Context, tx *Tx, checklistID string, version int) (*audit.ChecklistVersion, error) {
	q := `SELECT ` + versionColumns + ` FROM checklist_versions WHERE checklist_id = ? AND version = ?`
	args := []any{checklistID, version}
	if version == 0 {
		q = `SELECT ` + versionColumns + ` FROM checklist_versions WHERE checklist_id = ? AND state = 'published' ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	v, err := scanVersion(tx.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, audit.Errorf(audit.ENOTFOUND, "checklist %q has no published version", checklistID)
		}
		return nil, audit.Errorf(audit.ENOTFOUND, "checklist %q version %d not found", checklistID, version)
	}
	return v, err
}

func scanVersion(row interface{ Scan(...any) error }) (*audit.ChecklistVersion, error) {
	var v audit.ChecklistVersion
	var state string
	var content []byte
	var published sql.NullInt64
	var created int64
	if err := row.Scan(&v.ChecklistID, &v.Version, &state, &content, &v.ContentHash, &published, &created); err != nil {
		return nil, err
	}
	v.State, v.PublishedAt = audit.VersionState(state), fromNullMillis(published)
	if err := json.Unmarshal(content, &v.Content); err != nil {
		return nil, fmt.Errorf("checklist %s version %d: decode content: %w", v.ChecklistID, v.Version, err)
	}
	if err := v.Verify(); err != nil {
		return nil, fmt.Errorf("checklist %s version %d: stored content does not match its hash: %v", v.ChecklistID, v.Version, err)
	}
	return &v, nil
}

// ListVersions returns every version matching f, by checklist id then
// version.
func (db *DB) ListVersions(ctx context.Context, f audit.VersionFilter) ([]*audit.ChecklistVersion, error) {
	q := `SELECT ` + versionColumns + ` FROM checklist_versions WHERE 1`
	var args []any
	if f.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, string(f.Channel))
	}
	if f.ChecklistID != "" {
		q += ` AND checklist_id = ?`
		args = append(args, f.ChecklistID)
	}
	if f.PublishedOnly {
		q += ` AND state <> 'draft'`
	}
	var out []*audit.ChecklistVersion
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, q+` ORDER BY checklist_id, version`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list checklist versions: %w", err)
	}
	return out, nil
}

// ImportPack parses a standards pack and saves each of its checklists as a
// draft, publishing them when publish is set, all in one transaction: a
// pack with any problem changes nothing, and a dry run (dryRun) returns
// the versions it would make and stores nothing. Errors: EINVALID (every problem
// as file:line:col: path: message), EPRECONDITION.
func (db *DB) ImportPack(ctx context.Context, name string, data []byte, publish, dryRun bool, by string) ([]*audit.ChecklistVersion, error) {
	pack, err := audit.ParsePack(name, data)
	if err != nil {
		return nil, err
	}
	var out []*audit.ChecklistVersion
	err = db.writer(dryRun)(ctx, func(tx *Tx) error {
		for i := range pack.Checklists {
			v, err := saveDraft(ctx, tx, &pack.Checklists[i], by)
			if err != nil {
				return err
			}
			if publish && v.State == audit.VersionDraft {
				if v, err = publishVersion(ctx, tx, v.ChecklistID, v.Version); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// VersionKey names one checklist version.
type VersionKey struct {
	ChecklistID string
	Version     int
}

// ChecklistNames returns the name of every checklist version.
func (db *DB) ChecklistNames(ctx context.Context) (map[VersionKey]string, error) {
	type row struct {
		k    VersionKey
		name string
	}
	rows, err := list(ctx, db, "checklist names", func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.k.ChecklistID, &x.k.Version, &x.name)
	}, `SELECT checklist_id, version, name FROM checklist_versions`)
	if err != nil {
		return nil, err
	}
	out := make(map[VersionKey]string, len(rows))
	for _, r := range rows {
		out[r.k] = r.name
	}
	return out, nil
}
