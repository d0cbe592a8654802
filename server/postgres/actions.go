package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// actionRows is storage.Actions on PostgreSQL.
type actionRows struct{ rows }

// Actions returns the corrective actions, each call in a transaction of its own.
func (db *DB) Actions() storage.Actions { return actionRows{in(db, nil)} }

// Actions returns the corrective actions as this transaction sees them.
func (tx *Tx) Actions() storage.Actions { return actionRows{in(tx.db, tx)} }

// actionScope is the condition on actions a of a scope: their stores';
// a shopper sees none.
func actionScope(a *args, sc audit.Scope) string {
	if sc.ShopperID != "" && !sc.All {
		return "false"
	}
	return storeScope(a, sc, "a.store_id")
}

// unresolvedStates is the SQL list of audit.ActionState.Unresolved.
const unresolvedStates = `('open', 'in_progress', 'reopened')`

// Add stores a new action (storage.Actions). Errors: EEXISTS.
func (r actionRows) Add(ctx context.Context, a *audit.Action) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO actions (id, state, severity, store_id, checklist_id, question_id, question_text, standard_code,
			visit_id, visited_at, owner_id, due_date, opened_at, updated_at) VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
			a.ID, string(a.Severity), a.StoreID, a.ChecklistID, a.QuestionID, a.QuestionText, a.StandardCode, a.VisitID, ms(a.VisitedAt),
			nullString(a.OwnerID), a.DueDate, tx.now)
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "store %s has an action on question %q of checklist %s already", a.StoreID, a.QuestionID, a.ChecklistID)
		} else if err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
		a.State, a.OpenedAt, a.UpdatedAt = audit.ActionOpen, tx.now, tx.now
		return addActionHistory(ctx, tx, a.ID, storage.ActionMove{To: audit.ActionOpen, ActorRole: "system", VisitID: a.VisitID})
	})
}

// addActionHistory appends a history row to action id.
func addActionHistory(ctx context.Context, tx *Tx, id string, m storage.ActionMove) error {
	owner, reassigned := "", m.OwnerID != nil
	if reassigned {
		owner = *m.OwnerID
	}
	_, err := tx.Exec(ctx, `INSERT INTO action_history (action_id, seq, at, actor_id, actor_role, from_state, to_state, note, visit_id, owner_id, reassigned)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM action_history WHERE action_id = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id, tx.now, nullString(m.ActorID), m.ActorRole, string(m.From), string(m.To), m.Note, m.VisitID, owner, reassigned)
	if err != nil {
		return fmt.Errorf("insert action history: %w", err)
	}
	return nil
}

var actionSelect = `SELECT a.id, a.state, a.severity, a.store_id, COALESCE(st.code, ''), COALESCE(st.name, ''), a.checklist_id,
	a.question_id, a.question_text, a.standard_code, a.visit_id, a.visited_at, COALESCE(a.owner_id, ''), ` + userName("a.owner_id") + `,
	a.due_date, a.opened_at, a.note, a.resolved_by_visit_id, a.updated_at
	FROM actions a LEFT JOIN stores st ON st.id = a.store_id`

func scanAction(row pgx.Row) (*audit.Action, error) {
	a := &audit.Action{}
	var state, sev string
	if err := row.Scan(&a.ID, &state, &sev, &a.StoreID, &a.StoreCode, &a.StoreName, &a.ChecklistID, &a.QuestionID, &a.QuestionText,
		&a.StandardCode, &a.VisitID, &a.VisitedAt, &a.OwnerID, &a.OwnerName, &a.DueDate, &a.OpenedAt, &a.Note, &a.ResolvedByVisitID, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.State, a.Severity = audit.ActionState(state), audit.Severity(sev)
	a.VisitedAt, a.OpenedAt, a.UpdatedAt = a.VisitedAt.UTC(), a.OpenedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// collect runs q in tx and scans every row with scan.
func collect[T any](ctx context.Context, tx *Tx, scan func(pgx.Row) (T, error), q string, a ...any) ([]T, error) {
	rs, err := tx.Query(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// actionProof reads the proof photos of the actions, in place.
func actionProof(ctx context.Context, tx *Tx, as []*audit.Action) error {
	for _, a := range as {
		ps, err := collect(ctx, tx, func(row pgx.Row) (audit.ActionProof, error) {
			var p audit.ActionProof
			err := row.Scan(&p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.FileName, &p.Verified)
			return p, err
		}, `SELECT idx, sha256, size, content_type, file_name, verified_at IS NOT NULL FROM action_proof WHERE action_id = $1 ORDER BY idx`, a.ID)
		if err != nil {
			return fmt.Errorf("action proof: %w", err)
		}
		a.Proof = ps
	}
	return nil
}

// Find returns an action in scope (storage.Actions).
func (r actionRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Action, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.Action, error) {
		ar := args{id}
		cond := actionScope(&ar, scope)
		a, err := scanAction(tx.QueryRow(ctx, actionSelect+` WHERE a.id = $1 AND `+cond, ar...))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no action %s", id)
		} else if err != nil {
			return nil, fmt.Errorf("find action: %w", err)
		}
		if err := actionProof(ctx, tx, []*audit.Action{a}); err != nil {
			return nil, err
		}
		a.History, err = collect(ctx, tx, func(row pgx.Row) (audit.ActionChange, error) {
			var c audit.ActionChange
			var from, to string
			err := row.Scan(&c.At, &c.ActorID, &c.ActorName, &c.ActorRole, &from, &to, &c.Note, &c.VisitID, &c.OwnerID, &c.OwnerName, &c.Reassigned)
			c.At, c.From, c.To = c.At.UTC(), audit.ActionState(from), audit.ActionState(to)
			return c, err
		}, `SELECT at, COALESCE(actor_id, ''), CASE WHEN actor_id IS NULL THEN '' ELSE `+userName("actor_id")+` END, actor_role, from_state, to_state,
			note, visit_id, owner_id, CASE WHEN owner_id = '' THEN '' ELSE `+userName("owner_id")+` END, reassigned
			FROM action_history WHERE action_id = $1 ORDER BY seq`, id)
		if err != nil {
			return nil, fmt.Errorf("action history: %w", err)
		}
		return a, nil
	})
}

// Live returns the store's live action on a question (storage.Actions).
func (r actionRows) Live(ctx context.Context, storeID, checklistID, questionID string) (*audit.Action, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.Action, error) {
		a, err := scanAction(tx.QueryRow(ctx, actionSelect+` WHERE a.store_id = $1 AND a.checklist_id = $2 AND a.question_id = $3
			AND a.state <> 'verified'`, storeID, checklistID, questionID))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("live action: %w", err)
		}
		return a, actionProof(ctx, tx, []*audit.Action{a})
	})
}

// List returns the actions matching f (storage.Actions).
func (r actionRows) List(ctx context.Context, f storage.ActionFilter) ([]*audit.Action, error) {
	return query(ctx, r.rows, func(tx *Tx) ([]*audit.Action, error) {
		var ar args
		where := []string{actionScope(&ar, f.Scope)}
		for _, c := range []struct{ col, v string }{{"a.store_id", f.StoreID}, {"a.owner_id", f.OwnerID}, {"a.visit_id", f.VisitID}} {
			if c.v != "" {
				where = append(where, c.col+` = `+ar.add(c.v))
			}
		}
		if len(f.States) > 0 {
			ss := make([]string, len(f.States))
			for i, s := range f.States {
				ss[i] = string(s)
			}
			where = append(where, `a.state = ANY(`+ar.add(ss)+`)`)
		}
		if f.DueBefore != "" {
			where = append(where, `a.due_date < `+ar.add(f.DueBefore))
		}
		if f.Region != "" {
			where = append(where, `a.store_id IN (SELECT id FROM stores WHERE region = `+ar.add(f.Region)+`)`)
		}
		if !f.VisitFrom.IsZero() {
			where = append(where, `a.visited_at >= `+ar.add(ms(f.VisitFrom)))
		}
		if !f.VisitTo.IsZero() {
			where = append(where, `a.visited_at < `+ar.add(ms(f.VisitTo)))
		}
		limit := f.Limit
		if limit <= 0 {
			limit = 100
		}
		as, err := collect(ctx, tx, scanAction, actionSelect+` WHERE `+strings.Join(where, " AND ")+
			` ORDER BY a.due_date COLLATE "C", a.opened_at DESC, a.id COLLATE "C" LIMIT `+ar.add(min(limit, 1000)), ar...)
		if err != nil {
			return nil, fmt.Errorf("list actions: %w", err)
		}
		return as, actionProof(ctx, tx, as)
	})
}

// Move records a change of an action (storage.Actions).
func (r actionRows) Move(ctx context.Context, id string, m storage.ActionMove) error {
	return r.write(ctx, func(tx *Tx) error {
		ar := args{string(m.To), tx.now}
		set := `state = $1, updated_at = $2`
		if m.SetNote {
			set += `, note = ` + ar.add(m.Note)
		}
		if m.VisitID != "" {
			set += `, resolved_by_visit_id = ` + ar.add(m.VisitID)
		}
		if m.OwnerID != nil {
			set += `, owner_id = ` + ar.add(nullString(*m.OwnerID))
		}
		tag, err := tx.Exec(ctx, `UPDATE actions SET `+set+` WHERE id = `+ar.add(id)+` AND state = `+ar.add(string(m.From)), ar...)
		if err != nil {
			return fmt.Errorf("move action: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return audit.Errorf(audit.EPRECONDITION, "action %s is no longer %s: it was changed meanwhile", id, m.From)
		}
		return addActionHistory(ctx, tx, id, m)
	})
}

// SetProof replaces an action's proof photos (storage.Actions).
func (r actionRows) SetProof(ctx context.Context, id string, ps []audit.ActionProof) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM action_proof WHERE action_id = $1`, id); err != nil {
			return fmt.Errorf("delete action proof: %w", err)
		}
		for _, p := range ps {
			if _, err := tx.Exec(ctx, `INSERT INTO action_proof (action_id, idx, sha256, size, content_type, file_name, verified_at)
				VALUES ($1, $2, $3, $4, $5, $6, (SELECT $7::timestamptz FROM verified_blobs WHERE sha256 = $3))`,
				id, p.Index, p.SHA256, p.Size, p.ContentType, p.FileName, tx.now); err != nil {
				return fmt.Errorf("insert action proof: %w", err)
			}
		}
		return nil
	})
}

// FindProof returns one proof photo of an action in scope
// (storage.Actions).
func (r actionRows) FindProof(ctx context.Context, scope audit.Scope, id string, index int) (*audit.ActionProof, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.ActionProof, error) {
		ar := args{id, index}
		cond := actionScope(&ar, scope)
		p := &audit.ActionProof{}
		err := tx.QueryRow(ctx, `SELECT p.idx, p.sha256, p.size, p.content_type, p.file_name, p.verified_at IS NOT NULL
			FROM action_proof p JOIN actions a ON a.id = p.action_id WHERE p.action_id = $1 AND p.idx = $2 AND `+cond, ar...).
			Scan(&p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.FileName, &p.Verified)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "action %s has no proof photo %d", id, index)
		} else if err != nil {
			return nil, fmt.Errorf("find action proof: %w", err)
		}
		return p, nil
	})
}

// MarkProofVerified marks the proof photos of sha verified
// (storage.Actions).
func (r actionRows) MarkProofVerified(ctx context.Context, sha string) (int, error) {
	var n int64
	err := r.write(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE action_proof SET verified_at = $1 WHERE sha256 = $2 AND verified_at IS NULL`, tx.now, sha)
		if err != nil {
			return fmt.Errorf("mark action proof verified: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// ClaimOverdue claims the overdue actions not reported yet
// (storage.Actions): FOR UPDATE SKIP LOCKED passes over the rows another
// server's claim holds, and a row it marked and committed no longer
// qualifies.
func (r actionRows) ClaimOverdue(ctx context.Context, today string, limit int) ([]*audit.Action, error) {
	var out []*audit.Action
	err := r.write(ctx, func(tx *Tx) error {
		ids, err := collect(ctx, tx, scanString, `SELECT a.id FROM actions a WHERE a.overdue_at IS NULL AND a.state IN `+unresolvedStates+`
			AND a.due_date < $1 ORDER BY a.due_date COLLATE "C", a.id COLLATE "C" LIMIT $2 FOR UPDATE SKIP LOCKED`, today, limit)
		if err != nil {
			return fmt.Errorf("overdue actions: %w", err)
		}
		if len(ids) == 0 {
			out = nil
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE actions SET overdue_at = $1 WHERE id = ANY($2)`, tx.now, ids); err != nil {
			return fmt.Errorf("mark actions overdue: %w", err)
		}
		out, err = collect(ctx, tx, scanAction, actionSelect+` WHERE a.id = ANY($1) ORDER BY a.due_date COLLATE "C", a.id COLLATE "C"`, ids)
		return err
	})
	return out, err
}

// CountOverdue counts the overdue actions in scope per store
// (storage.Actions).
func (r actionRows) CountOverdue(ctx context.Context, scope audit.Scope, today string) (map[string]int, error) {
	return query(ctx, r.rows, func(tx *Tx) (map[string]int, error) {
		ar := args{today}
		cond := actionScope(&ar, scope)
		rs, err := tx.Query(ctx, `SELECT a.store_id, COUNT(*) FROM actions a WHERE a.state IN `+unresolvedStates+` AND a.due_date < $1 AND `+cond+
			` GROUP BY a.store_id`, ar...)
		if err != nil {
			return nil, fmt.Errorf("count overdue actions: %w", err)
		}
		out := map[string]int{}
		var store string
		var n int
		_, err = pgx.ForEachRow(rs, []any{&store, &n}, func() error { out[store] = n; return nil })
		if err != nil {
			return nil, fmt.Errorf("count overdue actions: %w", err)
		}
		return out, nil
	})
}
