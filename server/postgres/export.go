package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// ExportEnd returns the end of an export response
// (storage.AuditReports): the last of up to limit visits after after in
// (export_xid, export_seq) order (migration 0011), reading only those
// whose position's transaction is below the oldest one in flight when the
// snapshot was taken. That is the pull feed's rule (feed.go,
// ARCHITECTURE.md "The pull feed on PostgreSQL"): every transaction below
// that bound has ended and none can ever again write a position below it,
// so a cursor moved to the last position read is behind every position a
// transaction still running (or not yet begun) will write, whatever order
// their numbers commit in.
func (r auditReportRows) ExportEnd(ctx context.Context, scope audit.Scope, after storage.FeedPos, limit int) (storage.FeedPos, int, error) {
	type end struct {
		pos storage.FeedPos
		n   int
	}
	e, err := query(ctx, r.rows, func(tx *Tx) (end, error) {
		a := args{after.Tx, after.Seq}
		cond := storeScope(&a, scope, "v.store_id")
		out, stop := end{pos: after}, false
		err := each(ctx, tx, "export end", `SELECT v.export_xid, v.export_seq, r.visit_id IS NOT NULL
			FROM visits v LEFT JOIN report_visits r ON r.visit_id = v.id
			WHERE (v.export_xid, v.export_seq) > ($1::xid8, $2::bigint)
				AND v.export_xid < pg_snapshot_xmin(pg_current_snapshot()) AND `+cond+`
			ORDER BY v.export_xid, v.export_seq LIMIT `+a.add(limit), a, func(rows pgx.Rows) error {
			var p storage.FeedPos
			var indexed bool
			if err := rows.Scan(&p.Tx, &p.Seq, &indexed); err != nil {
				return err
			}
			if stop = stop || !indexed; !stop {
				out.pos, out.n = p, out.n+1
			}
			return nil
		})
		return out, err
	})
	return e.pos, e.n, err
}

// Export returns visits in (after, through] (storage.AuditReports), in
// export order; through comes from ExportEnd in the same snapshot.
func (r auditReportRows) Export(ctx context.Context, scope audit.Scope, after, through storage.FeedPos, limit int) ([]*storage.ExportVisit, error) {
	return query(ctx, r.rows, func(tx *Tx) ([]*storage.ExportVisit, error) {
		a := args{after.Tx, after.Seq, through.Tx, through.Seq}
		cond := storeScope(&a, scope, "v.store_id")
		q := `SELECT v.export_xid, v.export_seq, v.id, v.state, v.store_id, s.code, s.name, v.checklist_id, v.checklist_version,
				r.visit_id IS NOT NULL, coalesce(r.staff_id, ''), coalesce(st.name, ''), coalesce(st.employee_number, ''), r.visited_at,
				coalesce(r.points, 0), coalesce(r.max_points, 0), coalesce(r.critical_failed, false)
			FROM visits v JOIN stores s ON s.id = v.store_id
			LEFT JOIN report_visits r ON r.visit_id = v.id
			LEFT JOIN staff st ON st.id = r.staff_id
			WHERE (v.export_xid, v.export_seq) > ($1::xid8, $2::bigint) AND (v.export_xid, v.export_seq) <= ($3::xid8, $4::bigint)
				AND ` + cond + `
			ORDER BY v.export_xid, v.export_seq LIMIT ` + a.add(limit)
		var out []*storage.ExportVisit
		stop := false
		err := each(ctx, tx, "export visits", q, a, func(rows pgx.Rows) error {
			if stop {
				return nil
			}
			var e storage.ExportVisit
			var indexed bool
			var at *time.Time
			if err := rows.Scan(&e.Pos.Tx, &e.Pos.Seq, &e.VisitID, &e.State, &e.StoreID, &e.StoreCode, &e.StoreName, &e.ChecklistID,
				&e.ChecklistVersion, &indexed, &e.StaffID, &e.StaffName, &e.StaffNumber, &at, &e.Points, &e.Max, &e.CriticalFailed); err != nil {
				return err
			}
			if !indexed {
				stop = true // not indexed yet: the page ends before it
				return nil
			}
			e.VisitedAt = timeOf(at)
			out = append(out, &e)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, e := range out {
			err := each(ctx, tx, "export answers", `SELECT question_id, standard_code, category, points, max_points, not_applicable, failed,
					critical, answer, note FROM visit_answers WHERE visit_id = $1 ORDER BY ord`, []any{e.VisitID}, func(rows pgx.Rows) error {
				var x storage.ExportAnswer
				var answer, note *string
				if err := rows.Scan(&x.QuestionID, &x.StandardCode, &x.Category, &x.Points, &x.Max, &x.NotApplicable, &x.Failed, &x.Critical,
					&answer, &note); err != nil {
					return err
				}
				if answer != nil {
					x.Answer = *answer
				}
				if note != nil {
					x.Note = *note
				}
				e.Answers = append(e.Answers, x)
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}
