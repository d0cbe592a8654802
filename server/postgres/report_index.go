package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
)

// Report indexing on PostgreSQL: every stored visit has its report rows
// (report_visits, visit_answers), which every report reads instead of the
// visit's JSON. A visit's rows are worked out by audit.ReportRows and
// written by writeReportRows, which the visit's insert may call too.

// indexBatch is how many visits one write transaction indexes when reports
// catch up, so that no transaction runs long.
const indexBatch = 200

// Index indexes the visits without report rows and returns how many it
// indexed (storage.AuditReports): on the database in short transactions
// of its own, checking only the visits stored since its last check;
// inside the bound transaction all at once.
func (r auditReportRows) Index(ctx context.Context) (int, error) {
	if r.tx == nil {
		return r.db.indexReportRows(ctx)
	}
	n := 0
	err := r.write(ctx, func(tx *Tx) error {
		var ids []string
		err := each(ctx, tx, "find visits to index", `SELECT v.id FROM visits v
			WHERE NOT EXISTS (SELECT 1 FROM report_visits r WHERE r.visit_id = v.id) ORDER BY v.xid, v.seq`, nil, func(rows pgx.Rows) error {
			var id string
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return err
		}
		n = len(ids)
		return indexVisits(ctx, tx, ids)
	})
	return n, err
}

// visitPos is a visit's position in the order visits are stored in:
// (xid, seq), the inserting transaction and the visit's number.
type visitPos struct {
	XID uint64
	Seq int64
	ID  string
}

// indexReportRows indexes every stored visit that has no report rows yet,
// in short write transactions, and returns how many it indexed. It checks
// only the visits after report_watermark's position, in position order,
// and indexes every one it sees without rows. The mark moves, like a
// pull's cursor (feed.go), only over visits whose xid is below the oldest
// transaction in flight when the batch was read ("settled"): a visit whose
// transaction commits later always lies after the mark, whatever its seq,
// so none is passed over for good; the visits after the mark that are
// already there are checked again next time, and cost nothing then but
// the check.
func (db *DB) indexReportRows(ctx context.Context) (int, error) {
	var mark visitPos
	err := db.view(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT m.through_xid, m.through, m.through_id FROM report_watermark m
			JOIN visits v ON v.seq = m.through AND v.id = m.through_id WHERE m.id = 1`).Scan(&mark.XID, &mark.Seq, &mark.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			// No mark, or one at a visit that is not there: check every visit.
			mark = visitPos{}
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read the report watermark: %w", err)
	}
	total := 0
	for from := mark; ; {
		var batch []visitPos
		var todo []string
		var settled visitPos // the last visit of the batch below the bound, if any
		err := db.view(ctx, func(tx *Tx) error {
			return each(ctx, tx, "find visits to index", `SELECT v.xid, v.seq, v.id,
					NOT EXISTS (SELECT 1 FROM report_visits r WHERE r.visit_id = v.id), v.xid < pg_snapshot_xmin(pg_current_snapshot())
				FROM visits v WHERE (v.xid, v.seq) > ($1::xid8, $2::bigint) ORDER BY v.xid, v.seq LIMIT $3`,
				[]any{from.XID, from.Seq, indexBatch}, func(rows pgx.Rows) error {
					var p visitPos
					var missing, done bool
					if err := rows.Scan(&p.XID, &p.Seq, &p.ID, &missing, &done); err != nil {
						return err
					}
					batch = append(batch, p)
					if missing {
						todo = append(todo, p.ID)
					}
					if done {
						settled = p
					}
					return nil
				})
		})
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, nil
		}
		if settled != (visitPos{}) {
			mark = settled
		}
		err = db.update(ctx, func(tx *Tx) error {
			if err := indexVisits(ctx, tx, todo); err != nil {
				return err
			}
			if mark == (visitPos{}) {
				return nil
			}
			if _, err := tx.Exec(ctx, `INSERT INTO report_watermark (id, through_xid, through, through_id) VALUES (1, $1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET through_xid = excluded.through_xid, through = excluded.through, through_id = excluded.through_id`,
				mark.XID, mark.Seq, mark.ID); err != nil {
				return fmt.Errorf("move the report watermark: %w", err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(todo)
		if len(batch) < indexBatch {
			return total, nil
		}
		from = batch[len(batch)-1]
	}
}

// indexVisits writes the report rows of the visits ids, which have none,
// reading each checklist version once.
func indexVisits(ctx context.Context, tx *Tx, ids []string) error {
	versions := map[versionKey]*audit.ChecklistVersion{}
	for _, id := range ids {
		var storeID string
		var k versionKey
		var body, score []byte
		err := tx.QueryRow(ctx, `SELECT store_id, checklist_id, checklist_version, body, score FROM visits WHERE id = $1`, id).
			Scan(&storeID, &k.checklist, &k.version, &body, &score)
		if errors.Is(err, pgx.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "visit %q not found", id)
		} else if err != nil {
			return fmt.Errorf("index visit %s: %w", id, err)
		}
		var v audit.Visit
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("index visit %s: decode body: %w", id, err)
		}
		var vs audit.VisitScore
		if err := json.Unmarshal(score, &vs); err != nil {
			return fmt.Errorf("index visit %s: decode score: %w", id, err)
		}
		cv := versions[k]
		if cv == nil {
			var content []byte
			err := tx.QueryRow(ctx, `SELECT content FROM checklist_versions WHERE checklist_id = $1 AND version = $2`, k.checklist, k.version).
				Scan(&content)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("index visit %s: %w", id, versionNotFound(k))
			} else if err != nil {
				return fmt.Errorf("index visit %s: %w", id, err)
			}
			cv = &audit.ChecklistVersion{ChecklistID: k.checklist, Version: k.version}
			if err := json.Unmarshal(content, &cv.Content); err != nil {
				return fmt.Errorf("index visit %s: checklist %s version %d: decode content: %w", id, k.checklist, k.version, err)
			}
			versions[k] = cv
		}
		if err := writeReportRows(ctx, tx, audit.ReportRows(&v, storeID, &vs, cv)); err != nil {
			return err
		}
	}
	return nil
}

// writeReportRows replaces a visit's report rows with rv: its
// report_visits row, and its answers' rows copied in one COPY.
func writeReportRows(ctx context.Context, tx *Tx, rv *audit.ReportVisit) error {
	for _, q := range []string{`DELETE FROM visit_answers WHERE visit_id = $1`, `DELETE FROM report_visits WHERE visit_id = $1`} {
		if _, err := tx.Exec(ctx, q, rv.VisitID); err != nil {
			return fmt.Errorf("index visit %s: %w", rv.VisitID, err)
		}
	}
	// report_visits first: visit_answers rows name the visit, whose
	// report row every reader joins.
	if _, err := tx.Exec(ctx, `INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, rv.VisitID, rv.StoreID, rv.StaffID, ms(rv.VisitedAt), rv.Points, rv.Max,
		rv.CriticalFailed, len(rv.Answers)); err != nil {
		return fmt.Errorf("index visit %s: %w", rv.VisitID, err)
	}
	if len(rv.Answers) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"visit_answers"}, []string{"visit_id", "ord", "question_id", "section_id", "standard_code",
		"category", "points", "max_points", "not_applicable", "failed", "critical", "critical_failure", "nps", "answer", "note", "value", "unit"},
		pgx.CopyFromSlice(len(rv.Answers), func(i int) ([]any, error) {
			a := &rv.Answers[i]
			return []any{rv.VisitID, a.Ord, a.QuestionID, a.SectionID, a.StandardCode, a.Category, a.Points, a.Max, a.NA, a.Failed,
				a.Critical, a.CriticalFailure, a.NPS, a.Answer, a.Note, a.Value, a.Unit}, nil
		}))
	if err != nil {
		return fmt.Errorf("index visit %s answers: %w", rv.VisitID, err)
	}
	return nil
}
