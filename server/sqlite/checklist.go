package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// AddDraft stores c as the draft version of its checklist
// (storage.Checklists).
func (r checklistRows) AddDraft(ctx context.Context, c *audit.Checklist, version int, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		content, err := c.CanonicalJSON()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO checklists (id, created_at) VALUES (?, ?)`, c.ID, millis(tx.now)); err != nil {
			return fmt.Errorf("insert checklist: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, question_count, created_at, created_by)
			VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?)`, c.ID, version, c.Name, string(c.Channel), content, c.QuestionCount(), millis(tx.now), by); err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		return nil
	})
}

// ReplaceDraft replaces the content of a draft (storage.Checklists).
func (r checklistRows) ReplaceDraft(ctx context.Context, c *audit.Checklist, version int, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		content, err := c.CanonicalJSON()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checklist_versions SET name = ?, channel = ?, content = ?, question_count = ?, created_at = ?, created_by = ?
			WHERE checklist_id = ? AND version = ? AND state = 'draft'`,
			c.Name, string(c.Channel), content, c.QuestionCount(), millis(tx.now), by, c.ID, version); err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		return nil
	})
}

// Publish marks a draft published (storage.Checklists).
func (r checklistRows) Publish(ctx context.Context, checklistID string, version int, contentHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE checklist_versions SET state = 'published', content_hash = ?, published_at = ?
			WHERE checklist_id = ? AND version = ? AND state = 'draft'`, contentHash, millis(tx.now), checklistID, version); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		return nil
	})
}

// Retire marks a version retired (storage.Checklists).
func (r checklistRows) Retire(ctx context.Context, checklistID string, version int) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE checklist_versions SET state = 'retired', retired_at = ?
			WHERE checklist_id = ? AND version = ?`, millis(tx.now), checklistID, version); err != nil {
			return fmt.Errorf("retire: %w", err)
		}
		return nil
	})
}

// Touch moves the checklist in every shopper's sync feed
// (storage.Checklists).
func (r checklistRows) Touch(ctx context.Context, checklistID string) error {
	return r.write(ctx, func(tx *Tx) error { return touchFeed(ctx, tx, "", feedChecklist, checklistID) })
}

// PendingStoresOutside returns the codes of the stores outside scope with
// open or accepted assignments of a version (storage.Checklists).
func (r checklistRows) PendingStoresOutside(ctx context.Context, scope audit.Scope, checklistID string, version int) ([]string, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]string, error) { return foreignPendingStores(ctx, tx, scope, checklistID, version) })
}

// foreignPendingStores returns the codes of the stores outside scope with
// open or accepted assignments of a checklist version, in code order.
func foreignPendingStores(ctx context.Context, tx *Tx, scope audit.Scope, checklistID string, version int) ([]string, error) {
	if scope.All {
		return nil, nil
	}
	cond, args := storeScope(scope, "a.store_id")
	codes, err := queryAll(ctx, tx, scanString, `SELECT DISTINCT s.code FROM assignments a JOIN stores s ON s.id = a.store_id
		WHERE a.checklist_id = ? AND a.checklist_version = ? AND a.state IN ('open', 'accepted') AND NOT (`+cond+`)
		ORDER BY s.code`, append([]any{checklistID, version}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("find stores using the version: %w", err)
	}
	return codes, nil
}

// Find returns a version with its content; version 0 is the latest
// published one (storage.Checklists). Errors: ENOTFOUND, EINTERNAL when a
// published version no longer matches its hash.
func (r checklistRows) Find(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.ChecklistVersion, error) { return findVersion(ctx, tx, checklistID, version) })
}

// Latest returns the checklist's highest version in any state
// (storage.Checklists). Errors: ENOTFOUND.
func (r checklistRows) Latest(ctx context.Context, checklistID string) (*audit.ChecklistVersion, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.ChecklistVersion, error) {
		v, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM checklist_versions WHERE checklist_id = ?
			ORDER BY version DESC LIMIT 1`, checklistID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "checklist %q has no version", checklistID)
		}
		return v, err
	})
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

// List returns every version matching f, by checklist id then version
// (storage.Checklists).
func (r checklistRows) List(ctx context.Context, f audit.VersionFilter) ([]*audit.ChecklistVersion, error) {
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
	return selectAll(ctx, r.rows, "list checklist versions", scanVersionRow, q+` ORDER BY checklist_id, version`, args...)
}

func scanVersionRow(row scanner) (*audit.ChecklistVersion, error) { return scanVersion(row) }

// Names returns the name of every checklist version
// (storage.Checklists).
func (r checklistRows) Names(ctx context.Context) (map[storage.VersionKey]string, error) {
	type row struct {
		k    storage.VersionKey
		name string
	}
	rows, err := selectAll(ctx, r.rows, "checklist names", func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.k.ChecklistID, &x.k.Version, &x.name)
	}, `SELECT checklist_id, version, name FROM checklist_versions`)
	if err != nil {
		return nil, err
	}
	out := make(map[storage.VersionKey]string, len(rows))
	for _, r := range rows {
		out[r.k] = r.name
	}
	return out, nil
}

// State returns a checklist version's state (storage.Checklists).
func (r checklistRows) State(ctx context.Context, checklistID string, version int) (audit.VersionState, error) {
	return get(ctx, r.rows, func(tx *Tx) (audit.VersionState, error) {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM checklist_versions WHERE checklist_id = ? AND version = ?`, checklistID, version).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return "", audit.Errorf(audit.ENOTFOUND, "checklist %q version %d not found", checklistID, version)
		} else if err != nil {
			return "", fmt.Errorf("find checklist version state: %w", err)
		}
		return audit.VersionState(state), nil
	})
}
