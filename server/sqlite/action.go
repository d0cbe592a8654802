package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// actionRows is storage.Actions on SQLite.
type actionRows struct{ rows }

// Actions returns the corrective actions, each call in its own transaction.
func (db *DB) Actions() storage.Actions { return actionRows{rows{db: db}} }

// Actions returns the corrective actions as this transaction sees them.
func (tx *Tx) Actions() storage.Actions { return actionRows{rows{db: tx.db, tx: tx}} }

// actionScope is the condition on actions a of a scope: their stores';
// a shopper sees none.
func actionScope(sc audit.Scope) (string, []any) {
	if sc.ShopperID != "" && !sc.All {
		return "0", nil
	}
	return storeScope(sc, "a.store_id")
}

// unresolvedStates is the SQL list of audit.ActionState.Unresolved.
const unresolvedStates = `('open', 'in_progress', 'reopened')`

// Add stores a new action (storage.Actions).
func (r actionRows) Add(ctx context.Context, a *audit.Action) error {
	return r.write(ctx, func(tx *Tx) error {
		a.State, a.OpenedAt, a.UpdatedAt = audit.ActionOpen, tx.now, tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO actions (id, state, severity, store_id, checklist_id, question_id, question_text, standard_code,
			visit_id, visited_at, owner_id, due_date, opened_at, updated_at) VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, string(a.Severity), a.StoreID, a.ChecklistID, a.QuestionID, a.QuestionText, a.StandardCode, a.VisitID, millis(a.VisitedAt),
			nullString(a.OwnerID), a.DueDate, millis(tx.now), millis(tx.now))
		if isUniqueViolation(err) {
			return audit.Errorf(audit.EEXISTS, "store %s has an action on question %q of checklist %s already", a.StoreID, a.QuestionID, a.ChecklistID)
		} else if err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
		return addActionHistory(ctx, tx, a.ID, storage.ActionMove{To: audit.ActionOpen, ActorRole: "system", VisitID: a.VisitID})
	})
}

// addActionHistory appends a history row to action id.
func addActionHistory(ctx context.Context, tx *Tx, id string, m storage.ActionMove) error {
	owner, reassigned := "", m.OwnerID != nil
	if reassigned {
		owner = *m.OwnerID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO action_history (action_id, seq, at, actor_id, actor_role, from_state, to_state, note, visit_id, owner_id, reassigned)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM action_history WHERE action_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, id, millis(tx.now), nullString(m.ActorID), m.ActorRole, string(m.From), string(m.To), m.Note, m.VisitID, owner, reassigned)
	if err != nil {
		return fmt.Errorf("insert action history: %w", err)
	}
	return nil
}

var actionSelect = `SELECT a.id, a.state, a.severity, a.store_id, COALESCE(st.code, ''), COALESCE(st.name, ''), a.checklist_id,
	a.question_id, a.question_text, a.standard_code, a.visit_id, a.visited_at, COALESCE(a.owner_id, ''), ` + userName("a.owner_id") + `,
	a.due_date, a.opened_at, a.note, a.resolved_by_visit_id, a.updated_at
	FROM actions a LEFT JOIN stores st ON st.id = a.store_id`

func scanAction(row scanner) (*audit.Action, error) {
	a := &audit.Action{}
	var state, sev string
	var visited, opened, updated int64
	if err := row.Scan(&a.ID, &state, &sev, &a.StoreID, &a.StoreCode, &a.StoreName, &a.ChecklistID, &a.QuestionID, &a.QuestionText,
		&a.StandardCode, &a.VisitID, &visited, &a.OwnerID, &a.OwnerName, &a.DueDate, &opened, &a.Note, &a.ResolvedByVisitID, &updated); err != nil {
		return nil, err
	}
	a.State, a.Severity = audit.ActionState(state), audit.Severity(sev)
	a.VisitedAt, a.OpenedAt, a.UpdatedAt = fromMillis(visited), fromMillis(opened), fromMillis(updated)
	return a, nil
}

// actionProof reads the proof photos of the actions, in place.
func actionProof(ctx context.Context, tx *Tx, as []*audit.Action) error {
	for _, a := range as {
		ps, err := queryAll(ctx, tx, func(row scanner) (audit.ActionProof, error) {
			var p audit.ActionProof
			err := row.Scan(&p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.FileName, &p.Verified)
			return p, err
		}, `SELECT idx, sha256, size, content_type, file_name, verified_at IS NOT NULL FROM action_proof WHERE action_id = ? ORDER BY idx`, a.ID)
		if err != nil {
			return fmt.Errorf("action proof: %w", err)
		}
		a.Proof = ps
	}
	return nil
}

// Find returns an action in scope (storage.Actions).
func (r actionRows) Find(ctx context.Context, scope audit.Scope, id string) (*audit.Action, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Action, error) {
		cond, args := actionScope(scope)
		a, err := scanAction(tx.QueryRowContext(ctx, actionSelect+` WHERE a.id = ? AND `+cond, append([]any{id}, args...)...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "no action %s", id)
		} else if err != nil {
			return nil, fmt.Errorf("find action: %w", err)
		}
		if err := actionProof(ctx, tx, []*audit.Action{a}); err != nil {
			return nil, err
		}
		a.History, err = queryAll(ctx, tx, func(row scanner) (audit.ActionChange, error) {
			var c audit.ActionChange
			var at int64
			var from, to string
			err := row.Scan(&at, &c.ActorID, &c.ActorName, &c.ActorRole, &from, &to, &c.Note, &c.VisitID, &c.OwnerID, &c.OwnerName, &c.Reassigned)
			c.At, c.From, c.To = fromMillis(at), audit.ActionState(from), audit.ActionState(to)
			return c, err
		}, `SELECT at, COALESCE(actor_id, ''), CASE WHEN actor_id IS NULL THEN '' ELSE `+userName("actor_id")+` END, actor_role, from_state, to_state,
			note, visit_id, owner_id, CASE WHEN owner_id = '' THEN '' ELSE `+userName("owner_id")+` END, reassigned
			FROM action_history WHERE action_id = ? ORDER BY seq`, id)
		if err != nil {
			return nil, fmt.Errorf("action history: %w", err)
		}
		return a, nil
	})
}

// Live returns the store's live action on a question (storage.Actions).
func (r actionRows) Live(ctx context.Context, storeID, checklistID, questionID string) (*audit.Action, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.Action, error) {
		a, err := scanAction(tx.QueryRowContext(ctx, actionSelect+` WHERE a.store_id = ? AND a.checklist_id = ? AND a.question_id = ?
			AND a.state <> 'verified'`, storeID, checklistID, questionID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("live action: %w", err)
		}
		return a, actionProof(ctx, tx, []*audit.Action{a})
	})
}

// List returns the actions matching f (storage.Actions).
func (r actionRows) List(ctx context.Context, f storage.ActionFilter) ([]*audit.Action, error) {
	return get(ctx, r.rows, func(tx *Tx) ([]*audit.Action, error) {
		cond, args := actionScope(f.Scope)
		where := []string{cond}
		for _, c := range []struct{ col, v string }{{"a.store_id", f.StoreID}, {"a.owner_id", f.OwnerID}, {"a.visit_id", f.VisitID}} {
			if c.v != "" {
				where, args = append(where, c.col+` = ?`), append(args, c.v)
			}
		}
		if len(f.States) > 0 {
			where = append(where, `a.state IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(f.States)), ", ")+`)`)
			for _, s := range f.States {
				args = append(args, string(s))
			}
		}
		if f.DueBefore != "" {
			where, args = append(where, `a.due_date < ?`), append(args, f.DueBefore)
		}
		if f.Region != "" {
			where, args = append(where, `a.store_id IN (SELECT id FROM stores WHERE region = ?)`), append(args, f.Region)
		}
		if !f.VisitFrom.IsZero() {
			where, args = append(where, `a.visited_at >= ?`), append(args, millis(f.VisitFrom))
		}
		if !f.VisitTo.IsZero() {
			where, args = append(where, `a.visited_at < ?`), append(args, millis(f.VisitTo))
		}
		limit := f.Limit
		if limit <= 0 {
			limit = 100
		}
		as, err := queryAll(ctx, tx, scanAction, actionSelect+` WHERE `+strings.Join(where, " AND ")+
			` ORDER BY a.due_date, a.opened_at DESC, a.id LIMIT ?`, append(args, min(limit, 1000))...)
		if err != nil {
			return nil, fmt.Errorf("list actions: %w", err)
		}
		return as, actionProof(ctx, tx, as)
	})
}

// Move records a change of an action (storage.Actions).
func (r actionRows) Move(ctx context.Context, id string, m storage.ActionMove) error {
	return r.write(ctx, func(tx *Tx) error {
		set, args := `state = ?, updated_at = ?`, []any{string(m.To), millis(tx.now)}
		if m.SetNote {
			set, args = set+`, note = ?`, append(args, m.Note)
		}
		if m.VisitID != "" {
			set, args = set+`, resolved_by_visit_id = ?`, append(args, m.VisitID)
		}
		if m.OwnerID != nil {
			set, args = set+`, owner_id = ?`, append(args, nullString(*m.OwnerID))
		}
		res, err := tx.ExecContext(ctx, `UPDATE actions SET `+set+` WHERE id = ? AND state = ?`, append(args, id, string(m.From))...)
		if err != nil {
			return fmt.Errorf("move action: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return audit.Errorf(audit.EPRECONDITION, "action %s is no longer %s: it was changed meanwhile", id, m.From)
		}
		return addActionHistory(ctx, tx, id, m)
	})
}

// SetProof replaces an action's proof photos (storage.Actions).
func (r actionRows) SetProof(ctx context.Context, id string, ps []audit.ActionProof) error {
	return r.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM action_proof WHERE action_id = ?`, id); err != nil {
			return fmt.Errorf("delete action proof: %w", err)
		}
		for _, p := range ps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO action_proof (action_id, idx, sha256, size, content_type, file_name, verified_at)
				VALUES (?, ?, ?, ?, ?, ?, (SELECT ? FROM verified_blobs WHERE sha256 = ?))`,
				id, p.Index, p.SHA256, p.Size, p.ContentType, p.FileName, millis(tx.now), p.SHA256); err != nil {
				return fmt.Errorf("insert action proof: %w", err)
			}
		}
		return nil
	})
}

// FindProof returns one proof photo of an action in scope
// (storage.Actions).
func (r actionRows) FindProof(ctx context.Context, scope audit.Scope, id string, index int) (*audit.ActionProof, error) {
	return get(ctx, r.rows, func(tx *Tx) (*audit.ActionProof, error) {
		cond, args := actionScope(scope)
		p := &audit.ActionProof{}
		err := tx.QueryRowContext(ctx, `SELECT p.idx, p.sha256, p.size, p.content_type, p.file_name, p.verified_at IS NOT NULL
			FROM action_proof p JOIN actions a ON a.id = p.action_id WHERE p.action_id = ? AND p.idx = ? AND `+cond,
			append([]any{id, index}, args...)...).Scan(&p.Index, &p.SHA256, &p.Size, &p.ContentType, &p.FileName, &p.Verified)
		if errors.Is(err, sql.ErrNoRows) {
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
	return put(ctx, r.rows, func(tx *Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `UPDATE action_proof SET verified_at = ? WHERE sha256 = ? AND verified_at IS NULL`, millis(tx.now), sha)
		if err != nil {
			return 0, fmt.Errorf("mark action proof verified: %w", err)
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
}

// ClaimOverdue claims the overdue actions not reported yet
// (storage.Actions). SQLite's single writer serializes the claims.
func (r actionRows) ClaimOverdue(ctx context.Context, today string, limit int) ([]*audit.Action, error) {
	return put(ctx, r.rows, func(tx *Tx) ([]*audit.Action, error) {
		as, err := queryAll(ctx, tx, scanAction, actionSelect+` WHERE a.overdue_at IS NULL AND a.state IN `+unresolvedStates+`
			AND a.due_date < ? ORDER BY a.due_date, a.id LIMIT ?`, today, limit)
		if err != nil {
			return nil, fmt.Errorf("overdue actions: %w", err)
		}
		for _, a := range as {
			if _, err := tx.ExecContext(ctx, `UPDATE actions SET overdue_at = ? WHERE id = ?`, millis(tx.now), a.ID); err != nil {
				return nil, fmt.Errorf("mark action overdue: %w", err)
			}
		}
		return as, nil
	})
}

// CountOverdue counts the overdue actions in scope per store
// (storage.Actions).
func (r actionRows) CountOverdue(ctx context.Context, scope audit.Scope, today string) (map[string]int, error) {
	return get(ctx, r.rows, func(tx *Tx) (map[string]int, error) {
		cond, args := actionScope(scope)
		type count struct {
			store string
			n     int
		}
		cs, err := queryAll(ctx, tx, func(row scanner) (count, error) {
			var c count
			err := row.Scan(&c.store, &c.n)
			return c, err
		}, `SELECT a.store_id, COUNT(*) FROM actions a WHERE a.state IN `+unresolvedStates+` AND a.due_date < ? AND `+cond+
			` GROUP BY a.store_id`, append([]any{today}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("count overdue actions: %w", err)
		}
		out := make(map[string]int, len(cs))
		for _, c := range cs {
			out[c.store] = c.n
		}
		return out, nil
	})
}
