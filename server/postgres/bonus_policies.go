package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// Bonus policies on PostgreSQL (storage.BonusPolicies): what they store
// and read. Validation and numbering are package app's; two servers
// numbering the same policy at once conflict on the read of its versions
// (serializable, run again) rather than storing one number twice.

// userName is the SQL expression of the name of the user whose id is in
// column col, for people: the display name, else the e-mail, else the id
// itself ("cli", "demo" for older rows). The e-mail's case-insensitive
// collation is dropped: the name is only shown.
func userName(col string) string {
	return `COALESCE((SELECT COALESCE(NULLIF(u.display_name, ''), u.email COLLATE "default") FROM users u WHERE u.id = ` + col + `), ` + col + `, '')`
}

var policySelect = `SELECT body, created_at, created_by, ` + userName("created_by") + ` FROM bonus_policies`

func scanPolicy(row pgx.Row) (*storage.BonusPolicy, error) {
	var body []byte
	p := &storage.BonusPolicy{}
	if err := row.Scan(&body, &p.CreatedAt, &p.CreatedBy, &p.CreatedByName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &p.Policy); err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	return p, nil
}

// Find returns a version of a policy, or its latest when version is 0
// (storage.BonusPolicies). Errors: ENOTFOUND.
func (r bonusPolicyRows) Find(ctx context.Context, id string, version int) (*storage.BonusPolicy, error) {
	if version == 0 {
		return selectOne(ctx, r.rows, "find policy", fmt.Sprintf("bonus policy %q not found", id), scanPolicy,
			policySelect+` WHERE id = $1 ORDER BY version DESC LIMIT 1`, id)
	}
	return selectOne(ctx, r.rows, "find policy", fmt.Sprintf("bonus policy %q version %d not found", id, version), scanPolicy,
		policySelect+` WHERE id = $1 AND version = $2`, id, version)
}

// Versions returns the version numbers of a policy, oldest first
// (storage.BonusPolicies). Errors: ENOTFOUND.
func (r bonusPolicyRows) Versions(ctx context.Context, id string) ([]int, error) {
	out, err := selectAll(ctx, r.rows, "list policy versions", func(row pgx.Row) (int, error) {
		var v int
		err := row.Scan(&v)
		return v, err
	}, `SELECT version FROM bonus_policies WHERE id = $1 ORDER BY version`, id)
	if err == nil && len(out) == 0 {
		err = audit.Errorf(audit.ENOTFOUND, "bonus policy %q not found", id)
	}
	return out, err
}

// List returns the stored policies by id then version, only the latest
// of each when latestOnly (storage.BonusPolicies).
func (r bonusPolicyRows) List(ctx context.Context, latestOnly bool) ([]*storage.BonusPolicy, error) {
	q := policySelect + ` p`
	if latestOnly {
		q += ` WHERE version = (SELECT MAX(version) FROM bonus_policies l WHERE l.id = p.id)`
	}
	return selectAll(ctx, r.rows, "list policies", scanPolicy, q+` ORDER BY id COLLATE "C", version`)
}

// Add stores a policy version, numbered by the caller, as created by by
// at the transaction's time (storage.BonusPolicies).
func (r bonusPolicyRows) Add(ctx context.Context, p reports.Policy, by string) (*storage.BonusPolicy, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	var out *storage.BonusPolicy
	err = r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO bonus_policies (id, version, name, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.ID, p.Version, p.Name, body, tx.now, by); err != nil {
			return fmt.Errorf("insert policy: %w", err)
		}
		out = &storage.BonusPolicy{Policy: p, CreatedAt: tx.now, CreatedBy: by}
		return nil
	})
	return out, err
}

// StoreID returns the id of the store whose id or code is ref, or ""
// (storage.BonusPolicies).
func (r bonusPolicyRows) StoreID(ctx context.Context, ref string) (string, error) {
	ids, err := selectAll(ctx, r.rows, "find policy store", scanString,
		`SELECT id FROM stores WHERE id = $1 OR code = $1 ORDER BY id = $1 DESC LIMIT 1`, ref)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}
