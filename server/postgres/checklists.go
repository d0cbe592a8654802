package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// feedChecklist is the feed kind of a checklist (its audience: every
// shopper).
const feedChecklist = "checklist"

// AddDraft stores c as the draft version of its checklist, creating the
// checklist when it is new (storage.Checklists).
func (r checklistRows) AddDraft(ctx context.Context, c *audit.Checklist, version int, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		content, err := c.CanonicalJSON()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO checklists (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, c.ID, tx.now); err != nil {
			return fmt.Errorf("insert checklist: %w", err)
		}
		// content goes as text: the json column keeps its bytes, which
		// the version's hash covers.
		if _, err := tx.Exec(ctx, `INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, question_count, created_at, created_by)
			VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8)`, c.ID, version, c.Name, string(c.Channel), string(content), c.QuestionCount(), tx.now, by); err != nil {
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
		if _, err := tx.Exec(ctx, `UPDATE checklist_versions SET name = $1, channel = $2, content = $3, question_count = $4, created_at = $5, created_by = $6
			WHERE checklist_id = $7 AND version = $8 AND state = 'draft'`,
			c.Name, string(c.Channel), string(content), c.QuestionCount(), tx.now, by, c.ID, version); err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		return nil
	})
}

// Publish marks a draft published (storage.Checklists).
func (r checklistRows) Publish(ctx context.Context, checklistID string, version int, contentHash string) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE checklist_versions SET state = 'published', content_hash = $1, published_at = $2
			WHERE checklist_id = $3 AND version = $4 AND state = 'draft'`, contentHash, tx.now, checklistID, version); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		return nil
	})
}

// Retire marks a version retired (storage.Checklists).
func (r checklistRows) Retire(ctx context.Context, checklistID string, version int) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE checklist_versions SET state = 'retired', retired_at = $1
			WHERE checklist_id = $2 AND version = $3`, tx.now, checklistID, version); err != nil {
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
// open or accepted assignments of a version, in code order (bytewise, as
// SQLite orders them) (storage.Checklists).
func (r checklistRows) PendingStoresOutside(ctx context.Context, scope audit.Scope, checklistID string, version int) ([]string, error) {
	if scope.All {
		return nil, nil
	}
	var a args
	q := `SELECT DISTINCT s.code COLLATE "C" FROM assignments a JOIN stores s ON s.id = a.store_id
		WHERE a.checklist_id = ` + a.add(checklistID) + ` AND a.checklist_version = ` + a.add(version) + `
			AND a.state IN ('open', 'accepted') AND NOT ` + storeScope(&a, scope, "a.store_id") + `
		ORDER BY 1`
	return selectAll(ctx, r.rows, "find stores using the version", scanText, q, a...)
}

// scanText scans a row of one text column.
func scanText(row pgx.Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// Find returns a version with its content; version 0 is the latest
// published one (storage.Checklists). Errors: ENOTFOUND, EINTERNAL when a
// published version no longer matches its hash.
func (r checklistRows) Find(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.ChecklistVersion, error) { return findVersion(ctx, tx, checklistID, version) })
}

// Latest returns the checklist's highest version in any state
// (storage.Checklists). Errors: ENOTFOUND.
func (r checklistRows) Latest(ctx context.Context, checklistID string) (*audit.ChecklistVersion, error) {
	return selectOne(ctx, r.rows, "find checklist version", fmt.Sprintf("checklist %q has no version", checklistID), scanVersion,
		`SELECT `+versionColumns+` FROM checklist_versions WHERE checklist_id = $1 ORDER BY version DESC LIMIT 1`, checklistID)
}

// versionColumns are what scanVersion reads; content as its text, the
// bytes written.
const versionColumns = `checklist_id, version, state, content::text, content_hash, published_at`

// findVersion returns a checklist version in tx; version 0 is the latest
// published one. Errors: ENOTFOUND, and an internal error when its content
// no longer matches its hash.
func findVersion(ctx context.Context, tx *Tx, checklistID string, version int) (*audit.ChecklistVersion, error) {
	q := `SELECT ` + versionColumns + ` FROM checklist_versions WHERE checklist_id = $1 AND version = $2`
	a := []any{checklistID, version}
	notFound := fmt.Sprintf("checklist %q version %d not found", checklistID, version)
	if version == 0 {
		q = `SELECT ` + versionColumns + ` FROM checklist_versions WHERE checklist_id = $1 AND state = 'published' ORDER BY version DESC LIMIT 1`
		a = a[:1]
		notFound = fmt.Sprintf("checklist %q has no published version", checklistID)
	}
	v, err := scanVersion(tx.QueryRow(ctx, q, a...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "%s", notFound)
	} else if err != nil {
		return nil, fmt.Errorf("find checklist version: %w", err)
	}
	return v, nil
}

func scanVersion(row pgx.Row) (*audit.ChecklistVersion, error) {
	var v audit.ChecklistVersion
	var state, content string
	var published *time.Time
	if err := row.Scan(&v.ChecklistID, &v.Version, &state, &content, &v.ContentHash, &published); err != nil {
		return nil, err
	}
	v.State, v.PublishedAt = audit.VersionState(state), timeOf(published)
	if err := json.Unmarshal([]byte(content), &v.Content); err != nil {
		return nil, fmt.Errorf("checklist %s version %d: decode content: %w", v.ChecklistID, v.Version, err)
	}
	if err := v.Verify(); err != nil {
		return nil, fmt.Errorf("checklist %s version %d: stored content does not match its hash: %v", v.ChecklistID, v.Version, err)
	}
	return &v, nil
}

// List returns every version matching f, by checklist id (bytewise) then
// version (storage.Checklists).
func (r checklistRows) List(ctx context.Context, f audit.VersionFilter) ([]*audit.ChecklistVersion, error) {
	var a args
	q := `SELECT ` + versionColumns + ` FROM checklist_versions WHERE true`
	if f.Channel != "" {
		q += ` AND channel = ` + a.add(string(f.Channel))
	}
	if f.ChecklistID != "" {
		q += ` AND checklist_id = ` + a.add(f.ChecklistID)
	}
	if f.PublishedOnly {
		q += ` AND state <> 'draft'`
	}
	return selectAll(ctx, r.rows, "list checklist versions", scanVersion, q+` ORDER BY checklist_id COLLATE "C", version`, a...)
}

// Names returns the name of every checklist version
// (storage.Checklists).
func (r checklistRows) Names(ctx context.Context) (map[storage.VersionKey]string, error) {
	type named struct {
		k    storage.VersionKey
		name string
	}
	list, err := selectAll(ctx, r.rows, "checklist names", func(row pgx.Row) (named, error) {
		var x named
		return x, row.Scan(&x.k.ChecklistID, &x.k.Version, &x.name)
	}, `SELECT checklist_id, version, name FROM checklist_versions`)
	if err != nil {
		return nil, err
	}
	out := make(map[storage.VersionKey]string, len(list))
	for _, x := range list {
		out[x.k] = x.name
	}
	return out, nil
}

// State returns a checklist version's state (storage.Checklists).
// Errors: ENOTFOUND.
func (r checklistRows) State(ctx context.Context, checklistID string, version int) (audit.VersionState, error) {
	state, err := selectOne(ctx, r.rows, "find checklist version state", fmt.Sprintf("checklist %q version %d not found", checklistID, version),
		scanText, `SELECT state FROM checklist_versions WHERE checklist_id = $1 AND version = $2`, checklistID, version)
	return audit.VersionState(state), err
}

// checklistTexts reads, and keeps, the checklist versions a report names,
// for the texts of their questions and clauses (versions are few, a
// report's rows many). A version that cannot be read has no texts.
type checklistTexts struct {
	tx       *Tx
	versions map[storage.VersionKey]*audit.Checklist
}

func newChecklistTexts(tx *Tx) *checklistTexts {
	return &checklistTexts{tx: tx, versions: map[storage.VersionKey]*audit.Checklist{}}
}

func (vt *checklistTexts) content(ctx context.Context, checklist string, version int) *audit.Checklist {
	k := storage.VersionKey{ChecklistID: checklist, Version: version}
	if c, ok := vt.versions[k]; ok {
		return c
	}
	var c *audit.Checklist
	if v, err := findVersion(ctx, vt.tx, checklist, version); err == nil {
		c = &v.Content
	}
	vt.versions[k] = c
	return c
}

// question returns the text of a question of a checklist version.
func (vt *checklistTexts) question(ctx context.Context, checklist string, version int, id string) string {
	if c := vt.content(ctx, checklist, version); c != nil {
		if q, _, ok := c.Question(id); ok {
			return q.Text
		}
	}
	return ""
}

// clause returns the text of a standard clause of a checklist version.
func (vt *checklistTexts) clause(ctx context.Context, checklist string, version int, code string) string {
	if c := vt.content(ctx, checklist, version); c != nil {
		if s, ok := c.Standard(code); ok {
			return s.Clause
		}
	}
	return ""
}
