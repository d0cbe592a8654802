package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// stateList returns states as an SQL list of literals for an IN clause.
// The states are constants of this package, never input.
func stateList(states []VisitState) string {
	quoted := make([]string, len(states))
	for i, s := range states {
		quoted[i] = "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// reportVisitsFrom starts every report query that reads the visits of a
// period (bonus runs, the audit workbook): the time index of report_visits
// drives it, and each visit's review state is looked up by id. Without it
// SQLite, which has no statistics here, starts from the visits in a state
// (visits_state) and sorts every answer of every month; CROSS JOIN keeps
// the order (SQLite never reorders across it), so rows arrive in time order
// from the first one and the cost follows the period asked, not the history.
const reportVisitsFrom = ` FROM report_visits r INDEXED BY report_visits_time CROSS JOIN visits v ON v.id = r.visit_id`

// indexBatch is how many visits one write transaction indexes when reports
// catch up, so that the writer is never held long.
const indexBatch = 200

// IndexReportRows indexes every stored visit that has no report rows yet
// (report_visits and visit_answers), in short write transactions, and
// returns how many it indexed. Reports call it before they read, so that a
// visit stored by any path, and every visit of a database older than the
// reports, is counted. It checks only the visits stored since its last
// check (report_watermark), so its cost follows what arrived since, not
// the history. Errors: only internal ones (a stored visit that cannot be
// decoded, or a database fault).
func (db *DB) IndexReportRows(ctx context.Context) (int, error) {
	total := 0
	for {
		var ids []string
		var from, through watermark
		err := db.view(ctx, func(tx *Tx) error {
			var err error
			if from, err = readWatermark(ctx, tx); err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT v.rowid, v.id FROM visits v WHERE v.rowid > ?
				AND NOT EXISTS (SELECT 1 FROM report_visits r WHERE r.visit_id = v.id) ORDER BY v.rowid LIMIT ?`, from.rowid, indexBatch)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := rows.Scan(&through.rowid, &through.id); err != nil {
					return err
				}
				ids = append(ids, through.id)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(ids) < indexBatch {
				// Everything after the mark is checked: move it to the last
				// visit of this snapshot. A visit stored later gets a larger
				// rowid (the server never deletes visits).
				err := tx.QueryRowContext(ctx, `SELECT rowid, id FROM visits ORDER BY rowid DESC LIMIT 1`).Scan(&through.rowid, &through.id)
				if errors.Is(err, sql.ErrNoRows) {
					through = from
					return nil
				}
				return err
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("find visits to index: %w", err)
		}
		if len(ids) == 0 && through == from {
			return total, nil
		}
		err = db.update(ctx, func(tx *Tx) error {
			ix := &answerIndexer{}
			for _, id := range ids {
				if err := ix.index(ctx, tx, id); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO report_watermark (id, through, through_id) VALUES (1, ?, ?)
				ON CONFLICT (id) DO UPDATE SET through = excluded.through, through_id = excluded.through_id`, through.rowid, through.id)
			if err != nil {
				return fmt.Errorf("move the report watermark: %w", err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(ids)
		if len(ids) < indexBatch {
			return total, nil
		}
	}
}

// watermark is a visit by its rowid and id.
type watermark struct {
	rowid int64
	id    string
}

// readWatermark returns IndexReportRows' mark, or the zero mark (check
// every visit) when there is none or the visit at its rowid is another
// one.
func readWatermark(ctx context.Context, tx *Tx) (watermark, error) {
	var w watermark
	err := tx.QueryRowContext(ctx, `SELECT m.through, m.through_id FROM report_watermark m
		JOIN visits v ON v.rowid = m.through AND v.id = m.through_id WHERE m.id = 1`).Scan(&w.rowid, &w.id)
	if errors.Is(err, sql.ErrNoRows) {
		return watermark{}, nil
	} else if err != nil {
		return watermark{}, fmt.Errorf("read the report watermark: %w", err)
	}
	return w, nil
}

func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// answerIndexer indexes visits, reading each checklist version once.
type answerIndexer struct {
	versions map[string]*audit.ChecklistVersion
}

func (ix *answerIndexer) version(ctx context.Context, tx *Tx, id string, version int) (*audit.ChecklistVersion, error) {
	return memo(&ix.versions, id+"\x00"+strconv.Itoa(version), func() (*audit.ChecklistVersion, error) {
		return findVersion(ctx, tx, id, version)
	})
}

func (ix *answerIndexer) index(ctx context.Context, tx *Tx, visitID string) error {
	var storeID, checklistID string
	var version int
	var body, scoreJSON []byte
	err := tx.QueryRowContext(ctx, `SELECT store_id, checklist_id, checklist_version, body, score FROM visits WHERE id = ?`, visitID).
		Scan(&storeID, &checklistID, &version, &body, &scoreJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Errorf(audit.ENOTFOUND, "visit %q not found", visitID)
	} else if err != nil {
		return fmt.Errorf("index visit %s: %w", visitID, err)
	}
	var v audit.Visit
	if err := unpackJSON(body, &v); err != nil {
		return fmt.Errorf("index visit %s: decode body: %w", visitID, err)
	}
	var score audit.VisitScore
	if err := unpackJSON(scoreJSON, &score); err != nil {
		return fmt.Errorf("index visit %s: decode score: %w", visitID, err)
	}
	cv, err := ix.version(ctx, tx, checklistID, version)
	if err != nil {
		return fmt.Errorf("index visit %s: %w", visitID, err)
	}
	return writeVisitIndex(ctx, tx, &v, storeID, &score, cv)
}

// writeVisitIndex (re)writes the report rows of a visit from its decoded
// body, its score and its checklist version: the report_visits row and the
// visit_answers rows, the latter in multi-row INSERTs.
func writeVisitIndex(ctx context.Context, tx *Tx, v *audit.Visit, storeID string, score *audit.VisitScore, cv *audit.ChecklistVersion) error {
	return insertVisitIndex(ctx, tx, visitIndexOf(v, storeID, score, cv))
}

// visitIndex is a visit's report rows, worked out from the visit, its
// score and its version's content alone (a push does it before it takes
// the writer).
type visitIndex struct {
	visitID, storeID, staffID string
	visitedAt                 int64
	points, max               float64
	criticalFailed            bool
	answers                   int
	args                      []any // visitAnswerColumns values of each answer row, in order
}

// visitAnswerColumns is how many values an answer row has.
const visitAnswerColumns = 17

// visitIndexOf returns the report rows of a visit (audit.ReportRows), as
// the values of their INSERTs.
func visitIndexOf(v *audit.Visit, storeID string, score *audit.VisitScore, cv *audit.ChecklistVersion) *visitIndex {
	rv := audit.ReportRows(v, storeID, score, cv)
	ix := &visitIndex{visitID: rv.VisitID, storeID: rv.StoreID, staffID: rv.StaffID, visitedAt: millis(rv.VisitedAt),
		points: rv.Points, max: rv.Max, criticalFailed: rv.CriticalFailed,
		answers: len(rv.Answers), args: make([]any, 0, visitAnswerColumns*len(rv.Answers))}
	for _, a := range rv.Answers {
		var nps sql.NullInt64
		if a.NPS != nil {
			nps = sql.NullInt64{Int64: int64(*a.NPS), Valid: true}
		}
		var value sql.NullFloat64
		if a.Value != nil {
			value = sql.NullFloat64{Float64: *a.Value, Valid: true}
		}
		ix.args = append(ix.args, rv.VisitID, a.Ord, a.QuestionID, a.SectionID, a.StandardCode, a.Category,
			a.Points, a.Max, a.NA, a.Failed, a.Critical, a.CriticalFailure, nps, a.Answer, a.Note, value, a.Unit)
	}
	return ix
}

// insertVisitIndex replaces a visit's report rows with ix.
func insertVisitIndex(ctx context.Context, tx *Tx, ix *visitIndex) error {
	for _, q := range []string{`DELETE FROM visit_answers WHERE visit_id = ?`, `DELETE FROM report_visits WHERE visit_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, ix.visitID); err != nil {
			return fmt.Errorf("index visit %s: %w", ix.visitID, err)
		}
	}
	const batch = 45 // rows per INSERT: 900 parameters, far below SQLite's limit
	for rest := ix.args; len(rest) > 0; {
		rows := min(batch, len(rest)/visitAnswerColumns)
		q := `INSERT INTO visit_answers (visit_id, ord, question_id, section_id, standard_code, category, points, max_points,
			not_applicable, failed, critical, critical_failure, nps, answer, note, value, unit) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", rows), ",")
		if _, err := tx.ExecContext(ctx, q, rest[:rows*visitAnswerColumns]...); err != nil {
			return fmt.Errorf("index visit %s answers: %w", ix.visitID, err)
		}
		rest = rest[rows*visitAnswerColumns:]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ix.visitID, ix.storeID, ix.staffID, ix.visitedAt, ix.points, ix.max,
		ix.criticalFailed, ix.answers); err != nil {
		return fmt.Errorf("index visit %s: %w", ix.visitID, err)
	}
	return nil
}
