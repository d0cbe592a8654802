package postgres

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The constraints SQLite's triggers and collations keep hold on
// PostgreSQL too, against raw SQL (a buggy caller).
func TestSchemaKeepsSQLitesConstraints(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	exec := func(q string, args ...any) error {
		_, err := db.pool.Exec(ctx, q, args...)
		return err
	}
	must := func(q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	refused := func(want, q string, args ...any) {
		t.Helper()
		err := exec(q, args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", q, err, want)
		}
	}
	now := time.Now()

	// E-mail addresses are unique and found in any case.
	must(`INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u1', 'Anna@Example.com', 'shopper', 'h', $1)`, now)
	refused("users_email_key", `INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u2', 'anna@example.COM', 'shopper', 'h', $1)`, now)
	var id string
	if err := db.pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'ANNA@example.com'`).Scan(&id); err != nil || id != "u1" {
		t.Errorf("lookup in another case: %q, %v", id, err)
	}
	refused("users_role_check", `INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u3', 'b@x', 'boss', 'h', $1)`, now)
	must(`INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u4', 'staff@x', 'staff', '', $1)`, now)

	// A published checklist version never changes, never goes back to
	// draft and is never deleted; its JSON keeps its bytes.
	content := `{"b":1,  "a":[2]}`
	must(`INSERT INTO checklists (id, created_at) VALUES ('c1', $1)`, now)
	must(`INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at)
		VALUES ('c1', 1, 'n', 'visit', 'draft', $1, 'h1', 1, $2)`, content, now)
	must(`UPDATE checklist_versions SET content = $1 WHERE checklist_id = 'c1'`, content) // a draft may change
	must(`UPDATE checklist_versions SET state = 'published', published_at = $1 WHERE checklist_id = 'c1'`, now)
	var stored string
	if err := db.pool.QueryRow(ctx, `SELECT content::text FROM checklist_versions WHERE checklist_id = 'c1'`).Scan(&stored); err != nil || stored != content {
		t.Errorf("content %q (%v), want the bytes written %q", stored, err, content)
	}
	refused("immutable", `UPDATE checklist_versions SET content = '{}' WHERE checklist_id = 'c1'`)
	refused("immutable", `UPDATE checklist_versions SET content_hash = 'h2' WHERE checklist_id = 'c1'`)
	refused("immutable", `UPDATE checklist_versions SET state = 'draft' WHERE checklist_id = 'c1'`)
	refused("immutable", `DELETE FROM checklist_versions WHERE checklist_id = 'c1'`)
	must(`UPDATE checklist_versions SET state = 'retired', retired_at = $1 WHERE checklist_id = 'c1'`, now)

	// A visit's revision counts changes of its state or score.
	must(`INSERT INTO stores (id, code, name, created_at) VALUES ('s1', 'S1', 'Store', $1)`, now)
	must(`INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest, state,
		score, started_at, received_at, device_id, session_id, mutation_id)
		VALUES ('v1', 'u1', 's1', 'c1', 1, 'h1', 'visit', '{}', 'd', 'submitted', '{"p":1}', $1, $1, 'dev', 'ses', 'm1')`, now)
	must(`UPDATE visits SET state = 'complete' WHERE id = 'v1'`)
	must(`UPDATE visits SET state = 'complete', score = '{"p":1}' WHERE id = 'v1'`) // no change
	must(`UPDATE visits SET score = '{"p":2}' WHERE id = 'v1'`)
	var rev int
	if err := db.pool.QueryRow(ctx, `SELECT revision FROM visits WHERE id = 'v1'`).Scan(&rev); err != nil || rev != 2 {
		t.Errorf("revision %d (%v), want 2", rev, err)
	}
	refused("visits_state_check", `UPDATE visits SET state = 'lost' WHERE id = 'v1'`)

	// A bonus policy version never changes; an approved run is locked and
	// only becomes superseded; a run's figures never change; one approved
	// run per policy and month.
	must(`INSERT INTO bonus_policies (id, version, name, body, created_at, created_by) VALUES ('p1', 1, 'P', '{}', $1, 'u1')`, now)
	refused("never changes", `UPDATE bonus_policies SET name = 'Q'`)
	run := func(id, state string) error {
		return exec(`INSERT INTO bonus_runs (id, policy_id, policy_version, period, inputs_hash, result, state, created_at, created_by)
			VALUES ($1, 'p1', 1, '2026-02', 'ih', '{}', $2, $3, 'u1')`, id, state, now)
	}
	if err := run("r1", "draft"); err != nil {
		t.Fatal(err)
	}
	refused("never change", `UPDATE bonus_runs SET result = '{"x":1}' WHERE id = 'r1'`)
	must(`UPDATE bonus_runs SET state = 'approved', approved_at = $1, approved_by = 'u1' WHERE id = 'r1'`, now)
	refused("locked", `UPDATE bonus_runs SET state = 'draft' WHERE id = 'r1'`)
	refused("locked", `UPDATE bonus_runs SET approved_by = 'u2' WHERE id = 'r1'`)
	if err := run("r2", "approved"); err == nil || !strings.Contains(err.Error(), "bonus_runs_one_approved") {
		t.Errorf("a second approved run: %v", err)
	}
	must(`UPDATE bonus_runs SET state = 'superseded' WHERE id = 'r1'`)
	refused("locked", `UPDATE bonus_runs SET state = 'approved' WHERE id = 'r1'`)
	refused("base_pay_effective_month_check", `INSERT INTO base_pay (staff_id, kind, effective_month, amount_minor, source, updated_at, updated_by)
		VALUES ('x', 'base_pay', '2026-2', 1, 's', $1, 'u1')`, now)
}
