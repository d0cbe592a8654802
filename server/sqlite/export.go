package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Export returns a page of the incremental visit export
// (storage.AuditReports): visits after after.Seq in export_seq order
// (migration 0021), which the single writer makes commit order.
func (r auditReportRows) Export(ctx context.Context, scope audit.Scope, after, through storage.FeedPos, limit int) ([]*storage.ExportVisit, error) {
	cond, args := storeScope(scope, "v.store_id")
	var out []*storage.ExportVisit
	err := r.read(ctx, func(tx *Tx) error {
		out = nil
		var nos []sql.NullInt64
		rows, err := tx.QueryContext(ctx, `SELECT v.export_seq, v.id, v.state, v.store_id, s.code, s.name, v.checklist_id, v.checklist_version,
				r.no, coalesce(r.staff_id, ''), coalesce(st.name, ''), coalesce(st.employee_number, ''), coalesce(r.visited_at, 0),
				coalesce(r.points, 0), coalesce(r.max_points, 0), coalesce(r.critical_failed, 0)
			FROM visits v JOIN stores s ON s.id = v.store_id
			LEFT JOIN report_visits r ON r.visit_id = v.id
			LEFT JOIN staff st ON st.id = r.staff_id
			WHERE v.export_seq > ? AND v.export_seq <= ? AND `+cond+` ORDER BY v.export_seq LIMIT ?`, append(append([]any{after.Seq, through.Seq}, args...), limit)...)
		if err != nil {
			return fmt.Errorf("export visits: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e storage.ExportVisit
			var no sql.NullInt64
			var at int64
			if err := rows.Scan(&e.Pos.Seq, &e.VisitID, &e.State, &e.StoreID, &e.StoreCode, &e.StoreName, &e.ChecklistID, &e.ChecklistVersion,
				&no, &e.StaffID, &e.StaffName, &e.StaffNumber, &at, &e.Points, &e.Max, &e.CriticalFailed); err != nil {
				return fmt.Errorf("export visits: %w", err)
			}
			if !no.Valid {
				break // not indexed yet: the page ends before it
			}
			e.VisitedAt = fromMillis(at)
			out = append(out, &e)
			nos = append(nos, no)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export visits: %w", err)
		}
		rows.Close()
		for i, e := range out {
			answers, err := selectAll(ctx, rows2(tx), "export answers", func(row scanner) (storage.ExportAnswer, error) {
				var a storage.ExportAnswer
				var answer, note sql.NullString
				err := row.Scan(&a.QuestionID, &a.StandardCode, &a.Category, &a.Points, &a.Max, &a.NotApplicable, &a.Failed, &a.Critical, &answer, &note)
				a.Answer, a.Note = answer.String, note.String
				return a, err
			}, `SELECT question_id, standard_code, category, points, max_points, not_applicable, failed, critical, answer, note
				FROM visit_answers WHERE visit_no = ? ORDER BY ord`, nos[i].Int64)
			if err != nil {
				return err
			}
			e.Answers = answers
		}
		return nil
	})
	return out, err
}

// ExportEnd returns the end of an export response
// (storage.AuditReports).
func (r auditReportRows) ExportEnd(ctx context.Context, scope audit.Scope, after storage.FeedPos, limit int) (storage.FeedPos, int, error) {
	cond, args := storeScope(scope, "v.store_id")
	end, n := after, 0
	err := r.read(ctx, func(tx *Tx) error {
		end, n = after, 0
		rows, err := tx.QueryContext(ctx, `SELECT v.export_seq, r.visit_id IS NOT NULL FROM visits v LEFT JOIN report_visits r ON r.visit_id = v.id
			WHERE v.export_seq > ? AND `+cond+` ORDER BY v.export_seq LIMIT ?`, append(append([]any{after.Seq}, args...), limit)...)
		if err != nil {
			return fmt.Errorf("export end: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var indexed bool
			if err := rows.Scan(&seq, &indexed); err != nil {
				return fmt.Errorf("export end: %w", err)
			}
			if !indexed {
				break
			}
			end, n = storage.FeedPos{Seq: seq}, n+1
		}
		return rows.Err()
	})
	return end, n, err
}

// rows2 is the rows of the bound transaction tx.
func rows2(tx *Tx) rows { return rows{db: tx.db, tx: tx} }
