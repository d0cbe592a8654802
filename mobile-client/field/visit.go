package field

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/sqlitedb"
)

// The local states of a visit, as Visits and VisitDetail report them.
const (
	// StateDraft is a visit being recorded; it may change.
	StateDraft = "draft"
	// StateQueued is a submitted visit waiting in the outbox.
	StateQueued = "queued"
	// StateRejected is a visit the server refused for good; the rejection
	// says why.
	StateRejected = "rejected"
	// StateUploading is a visit the server has, whose evidence it still
	// misses.
	StateUploading = "uploading"
	// StateSent is a visit the server has with every photo verified.
	StateSent = "sent"
)

// StartVisit starts (or resumes) the visit of an assignment: it returns the
// ID of a new draft, or of the draft already started on the assignment.
// It works offline. Errors: EUNAUTHORIZED (nobody signed in), ENOTFOUND (no
// such assignment on the device), EPRECONDITION (the assignment was
// withdrawn, or is cancelled, expired or done).
func (c *Client) StartVisit(ctx context.Context, assignmentID string) (string, error) {
	if _, err := c.shopper(ctx); err != nil {
		return "", err
	}
	var id string
	err := c.update(ctx, func(tx *sql.Tx) error {
		a, err := c.assignment(ctx, tx, assignmentID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM visits WHERE assignment_id = ? AND status = 'draft' ORDER BY started_ms LIMIT 1`, a.ID).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("field: find draft: %w", err)
		}
		switch {
		case a.Removed != "":
			return audit.Errorf(audit.EPRECONDITION, "assignment %s was withdrawn (%s): pick another one", a.ID, a.Removed)
		case a.State == audit.AssignmentCancelled || a.State == audit.AssignmentExpired || a.State == audit.AssignmentDone:
			return audit.Errorf(audit.EPRECONDITION, "assignment %s is %s: pick another one", a.ID, a.State)
		}
		cv, err := c.version(ctx, tx, a.ChecklistID, a.ChecklistVersion)
		if err != nil {
			return err
		}
		id, err = c.insertVisit(ctx, tx, a.ID, a.StoreID, cv)
		return err
	})
	return id, err
}

// StartUnplannedVisit starts a visit without an assignment, with the
// current version of a checklist that allows it, at a store (by ID or code)
// it is offered for. It works offline. Errors: EUNAUTHORIZED, ENOTFOUND (no
// such checklist or store on the device), EPRECONDITION (the checklist
// takes no unplanned visits), EINVALID (the checklist is not offered for
// that store).
func (c *Client) StartUnplannedVisit(ctx context.Context, checklistID, store string) (string, error) {
	if _, err := c.shopper(ctx); err != nil {
		return "", err
	}
	var id string
	err := c.update(ctx, func(tx *sql.Tx) error {
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM unplanned_checklists WHERE checklist_id = ?`, checklistID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `SELECT MAX(version) FROM checklist_versions WHERE checklist_id = ? HAVING COUNT(*) > 0`, checklistID).Scan(&version)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no checklist %q on this device: sync, or pick one of `shopper checklists`", checklistID)
		}
		if err != nil {
			return fmt.Errorf("field: find checklist %s: %w", checklistID, err)
		}
		cv, err := c.version(ctx, tx, checklistID, version)
		if err != nil {
			return err
		}
		if !cv.Content.AllowUnplanned {
			return audit.Errorf(audit.EPRECONDITION, "checklist %s takes no unplanned visits: start one of your assignments instead", checklistID)
		}
		s, err := c.store(ctx, tx, store)
		if err != nil {
			return err
		}
		var offered, here int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(store_id = ?), 0) FROM unplanned_stores WHERE checklist_id = ?`,
			s.ID, checklistID).Scan(&offered, &here); err != nil {
			return fmt.Errorf("field: check store: %w", err)
		}
		if offered > 0 && here == 0 {
			return audit.Errorf(audit.EINVALID, "checklist %s is not offered for store %s: pick one of the stores `shopper checklists` lists", checklistID, s.Code)
		}
		id, err = c.insertVisit(ctx, tx, "", s.ID, cv)
		return err
	})
	return id, err
}

func (c *Client) insertVisit(ctx context.Context, tx *sql.Tx, assignmentID, storeID string, cv *audit.ChecklistVersion) (string, error) {
	id := uuid.NewString()
	_, err := tx.ExecContext(ctx, `INSERT INTO visits (id, assignment_id, store_id, checklist_id, checklist_version,
		content_hash, channel, started_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, assignmentID, storeID, cv.ChecklistID, cv.Version, cv.ContentHash, string(cv.Content.Channel), c.now().UnixMilli())
	if err != nil {
		return "", fmt.Errorf("field: start visit: %w", err)
	}
	return id, nil
}

// StartCorrection starts a draft that corrects a visit the server returned
// for correction (or rejected): a copy of its answers, photos, staff,
// positions and notes, recorded against the same checklist version and
// pointing at the original; the original is never changed. When a
// correction draft already exists, its ID is returned. It works offline.
// Errors: EUNAUTHORIZED, ENOTFOUND, EPRECONDITION (the visit is a draft, or
// neither returned nor rejected).
func (c *Client) StartCorrection(ctx context.Context, visitID string) (string, error) {
	if _, err := c.shopper(ctx); err != nil {
		return "", err
	}
	sums, err := c.visitSummaries(ctx, `WHERE v.id = ?`, visitID)
	if err != nil {
		return "", err
	}
	if len(sums) == 0 {
		return "", audit.Errorf(audit.ENOTFOUND, "no visit %q on this device: `shopper status` lists them", visitID)
	}
	sum := sums[0]
	returned := sum.Receipt != nil && sum.Receipt.State == "returned"
	if !returned && sum.State != StateRejected {
		return "", audit.Errorf(audit.EPRECONDITION, "visit %s is %s: only a returned or rejected visit can be corrected", visitID, sum.State)
	}
	var id string
	err = c.update(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM visits WHERE corrects_visit_id = ? AND status = 'draft'`, visitID).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("field: find correction: %w", err)
		}
		id = uuid.NewString()
		for _, q := range []string{
			`INSERT INTO visits (id, assignment_id, store_id, checklist_id, checklist_version, content_hash, channel, started_ms,
				staff_id, staff_description, check_in_json, check_out_json, notes, corrects_visit_id)
				SELECT ?1, assignment_id, store_id, checklist_id, checklist_version, content_hash, channel, started_ms,
				staff_id, staff_description, check_in_json, check_out_json, notes, id FROM visits WHERE id = ?2`,
			`INSERT INTO answers (visit_id, question_id, answer_json, updated_ms)
				SELECT ?1, question_id, answer_json, updated_ms FROM answers WHERE visit_id = ?2`,
			`INSERT INTO photos (visit_id, question_id, idx, sha256, size_bytes, content_type, captured_ms)
				SELECT ?1, question_id, idx, sha256, size_bytes, content_type, captured_ms FROM photos WHERE visit_id = ?2`,
		} {
			if _, err := tx.ExecContext(ctx, q, id, visitID); err != nil {
				return fmt.Errorf("field: start correction: %w", err)
			}
		}
		return nil
	})
	return id, err
}

// shopper returns the signed-in user's ID. Errors: EUNAUTHORIZED.
func (c *Client) shopper(ctx context.Context) (string, error) {
	s, err := c.Session(ctx)
	if err != nil {
		return "", err
	}
	if !s.LoggedIn() {
		return "", errNotLoggedIn()
	}
	return s.UserID, nil
}

// localVisit is a visit as stored, with its status.
type localVisit struct {
	audit.Visit
	status string
}

// loadVisit reads a visit with its answers and photos. Errors: ENOTFOUND.
func (c *Client) loadVisit(ctx context.Context, q querier, id string) (*localVisit, error) {
	v := &localVisit{}
	var started, finished int64
	var checkIn, checkOut string
	err := q.QueryRowContext(ctx, `SELECT id, assignment_id, store_id, checklist_id, checklist_version, content_hash, channel,
		status, started_ms, finished_ms, staff_id, staff_description, check_in_json, check_out_json, notes, corrects_visit_id
		FROM visits WHERE id = ?`, id).Scan(
		&v.ID, &v.AssignmentID, &v.StoreID, &v.ChecklistID, &v.ChecklistVersion, &v.ContentHash, &v.Channel, &v.status,
		&started, &finished, &v.StaffID, &v.StaffDescription, &checkIn, &checkOut, &v.Notes, &v.CorrectsVisitID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "no visit %q on this device: `shopper status` lists them", id)
	}
	if err != nil {
		return nil, fmt.Errorf("field: read visit %s: %w", id, err)
	}
	v.StartedAt, v.FinishedAt = sqlitedb.FromOptMillis(started), sqlitedb.FromOptMillis(finished)
	if v.CheckIn, err = decodePoint(checkIn); err != nil {
		return nil, err
	}
	if v.CheckOut, err = decodePoint(checkOut); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT answer_json FROM answers WHERE visit_id = ? ORDER BY question_id`, id)
	if err != nil {
		return nil, fmt.Errorf("field: read answers: %w", err)
	}
	for rows.Next() {
		var raw string
		var a audit.Answer
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("field: read answers: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("field: decode answer: %w", err)
		}
		v.Answers = append(v.Answers, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ps, err := c.photos(ctx, q, `WHERE visit_id = ?`, id)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		v.Photos = append(v.Photos, p.Photo)
	}
	return v, nil
}

// draft loads a visit that may still change, with its checklist version.
// Errors: ENOTFOUND, EPRECONDITION (already submitted).
func (c *Client) draft(ctx context.Context, q querier, id string) (*localVisit, *audit.ChecklistVersion, error) {
	v, err := c.loadVisit(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	if v.status != StateDraft {
		return nil, nil, audit.Errorf(audit.EPRECONDITION, "visit %s is submitted and cannot change", id)
	}
	cv, err := c.version(ctx, q, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return nil, nil, err
	}
	return v, cv, nil
}

// Value is the value of an answer: exactly one field fits each question
// type (see audit.Answer), or NA.
type Value struct {
	NA         bool
	Bool       *bool
	Number     *float64
	DurationMS *int64
	Choices    []string
	Text       string
}

// Answer records the answer to a question of a draft visit, replacing the
// previous value; the answer's note and photos are kept. The value is
// checked with the checklist version's CheckAnswer: a value that does not
// fit is refused; evidence the answer now demands (a note, photos) is
// returned, to be added before Submit. It works offline. Errors: ENOTFOUND
// (visit), EPRECONDITION (submitted), EINVALID (unknown question, wrong
// type, out of range, N/A not allowed), listing what is wrong.
func (c *Client) Answer(ctx context.Context, visitID, questionID string, val Value) ([]audit.AnswerError, error) {
	var pending []audit.AnswerError
	err := c.update(ctx, func(tx *sql.Tx) error {
		_, cv, err := c.draft(ctx, tx, visitID)
		if err != nil {
			return err
		}
		a, err := loadAnswer(ctx, tx, visitID, questionID)
		if err != nil {
			return err
		}
		a.NA, a.Bool, a.Number, a.DurationMS, a.Choices, a.Text = val.NA, val.Bool, val.Number, val.DurationMS, val.Choices, val.Text
		pending, err = checkAnswer(&cv.Content, a)
		if err != nil {
			return err
		}
		return c.saveAnswer(ctx, tx, visitID, a)
	})
	return pending, err
}

// AnswerText records an answer given as text, parsed for the question's
// type by ParseValue. It is Answer otherwise, with the same errors.
func (c *Client) AnswerText(ctx context.Context, visitID, questionID, text string) ([]audit.AnswerError, error) {
	v, err := c.loadVisit(ctx, c.db, visitID)
	if err != nil {
		return nil, err
	}
	cv, err := c.version(ctx, c.db, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return nil, err
	}
	q, _, ok := cv.Content.Question(questionID)
	if !ok {
		return nil, unknownQuestion(&cv.Content, questionID)
	}
	val, err := ParseValue(q, text)
	if err != nil {
		return nil, err
	}
	return c.Answer(ctx, visitID, questionID, val)
}

// AnswerNote sets (or, with an empty note, clears) the note of a
// question's answer, which some answers demand. It works offline. Errors:
// ENOTFOUND, EPRECONDITION (submitted), EINVALID (unknown question).
func (c *Client) AnswerNote(ctx context.Context, visitID, questionID, note string) ([]audit.AnswerError, error) {
	var pending []audit.AnswerError
	err := c.update(ctx, func(tx *sql.Tx) error {
		_, cv, err := c.draft(ctx, tx, visitID)
		if err != nil {
			return err
		}
		if _, _, ok := cv.Content.Question(questionID); !ok {
			return unknownQuestion(&cv.Content, questionID)
		}
		a, err := loadAnswer(ctx, tx, visitID, questionID)
		if err != nil {
			return err
		}
		a.Note = strings.TrimSpace(note)
		pending, _ = checkAnswer(&cv.Content, a)
		return c.saveAnswer(ctx, tx, visitID, a)
	})
	return pending, err
}

// fatalKinds are answer errors that refuse the value itself; the others
// (missing evidence) are reported and fixed later.
var fatalKinds = map[audit.AnswerErrorKind]bool{
	audit.AnswerUnknownQuestion: true, audit.AnswerWrongType: true, audit.AnswerOutOfRange: true,
	audit.AnswerNANotAllowed: true, audit.AnswerBadPhotoHash: true, audit.AnswerDuplicate: true,
}

// checkAnswer runs CheckAnswer and splits the result: EINVALID for a value
// that does not fit, or the evidence still missing.
func checkAnswer(c *audit.Checklist, a audit.Answer) ([]audit.AnswerError, error) {
	var fatal []string
	var pending []audit.AnswerError
	for _, e := range c.CheckAnswer(a) {
		if fatalKinds[e.Kind] {
			fatal = append(fatal, e.Message)
			continue
		}
		pending = append(pending, e)
	}
	if len(fatal) > 0 {
		return nil, audit.Errorf(audit.EINVALID, "question %s: %s", a.QuestionID, strings.Join(fatal, "; "))
	}
	return pending, nil
}

func unknownQuestion(c *audit.Checklist, id string) error {
	var ids []string
	for _, s := range c.Sections {
		for _, q := range s.Questions {
			ids = append(ids, q.ID)
		}
	}
	return audit.Errorf(audit.EINVALID, "no question %q in checklist %s: use one of %s", id, c.ID, joinLimited(ids, 40))
}

// loadAnswer returns the stored answer to a question, or an empty one.
func loadAnswer(ctx context.Context, q querier, visitID, questionID string) (audit.Answer, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT answer_json FROM answers WHERE visit_id = ? AND question_id = ?`, visitID, questionID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Answer{QuestionID: questionID}, nil
	}
	if err != nil {
		return audit.Answer{}, fmt.Errorf("field: read answer: %w", err)
	}
	var a audit.Answer
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return audit.Answer{}, fmt.Errorf("field: decode answer: %w", err)
	}
	return a, nil
}

func (c *Client) saveAnswer(ctx context.Context, tx *sql.Tx, visitID string, a audit.Answer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return audit.Errorf(audit.EINVALID, "question %s: the answer cannot be stored: %v", a.QuestionID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO answers (visit_id, question_id, answer_json, updated_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (visit_id, question_id) DO UPDATE SET answer_json = excluded.answer_json, updated_ms = excluded.updated_ms`,
		visitID, a.QuestionID, string(b), c.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("field: save answer: %w", err)
	}
	return nil
}

// SetNotes sets the visit's free-text notes. It works offline. Errors:
// ENOTFOUND, EPRECONDITION (submitted).
func (c *Client) SetNotes(ctx context.Context, visitID, notes string) error {
	return c.setVisitField(ctx, visitID, `notes = ?`, strings.TrimSpace(notes))
}

// SetStaff records the staff member who served the shopper, from the
// visit's store's staff list. It works offline. Errors: ENOTFOUND (visit,
// or no such staff member at the store, listing who is), EPRECONDITION.
func (c *Client) SetStaff(ctx context.Context, visitID, staffID string) error {
	return c.update(ctx, func(tx *sql.Tx) error {
		v, _, err := c.draft(ctx, tx, visitID)
		if err != nil {
			return err
		}
		staff, err := c.staffOf(ctx, tx, v.StoreID)
		if err != nil {
			return err
		}
		var names []string
		for _, s := range staff {
			if s.ID == staffID || (s.EmployeeNumber != "" && s.EmployeeNumber == staffID) {
				_, err := tx.ExecContext(ctx, `UPDATE visits SET staff_id = ?, staff_description = '' WHERE id = ?`, s.ID, visitID)
				return err
			}
			names = append(names, fmt.Sprintf("%s (%s, %s)", s.ID, s.Name, s.EmployeeNumber))
		}
		if len(names) == 0 {
			return audit.Errorf(audit.ENOTFOUND, "the store of visit %s has no staff list on this device: describe the person instead", visitID)
		}
		return audit.Errorf(audit.ENOTFOUND, "no staff member %q at this store: use one of %s, or describe the person", staffID, joinLimited(names, 20))
	})
}

// DescribeStaff records how the shopper describes the staff member who
// served him, when he could not tell who it was. It works offline. Errors:
// ENOTFOUND, EPRECONDITION, EINVALID (an empty description).
func (c *Client) DescribeStaff(ctx context.Context, visitID, description string) error {
	description = strings.TrimSpace(description)
	if description == "" {
		return audit.Errorf(audit.EINVALID, "the description is empty: say what the person looked like, or where they worked")
	}
	return c.setVisitField(ctx, visitID, `staff_id = '', staff_description = ?`, description)
}

// CheckIn records where the device was at the start of the visit, as the
// caller's GPS reports it; a zero Time means now. It works offline.
// Errors: ENOTFOUND, EPRECONDITION, EINVALID (coordinates out of range).
func (c *Client) CheckIn(ctx context.Context, visitID string, p audit.GeoPoint) error {
	return c.setPoint(ctx, visitID, "check_in_json", p)
}

// CheckOut records where the device was at the end of the visit, like
// CheckIn.
func (c *Client) CheckOut(ctx context.Context, visitID string, p audit.GeoPoint) error {
	return c.setPoint(ctx, visitID, "check_out_json", p)
}

func (c *Client) setPoint(ctx context.Context, visitID, column string, p audit.GeoPoint) error {
	switch {
	case math.IsNaN(p.Latitude) || p.Latitude < -90 || p.Latitude > 90:
		return audit.Errorf(audit.EINVALID, "latitude %v is outside -90..90", p.Latitude)
	case math.IsNaN(p.Longitude) || p.Longitude < -180 || p.Longitude > 180:
		return audit.Errorf(audit.EINVALID, "longitude %v is outside -180..180", p.Longitude)
	case math.IsNaN(p.AccuracyMeters) || math.IsInf(p.AccuracyMeters, 0) || p.AccuracyMeters < 0:
		return audit.Errorf(audit.EINVALID, "accuracy %v must be a non-negative number of metres", p.AccuracyMeters)
	}
	p.Time = claimed(p.Time, c.now()).Truncate(time.Millisecond)
	b, err := json.Marshal(p)
	if err != nil {
		return audit.Errorf(audit.EINVALID, "the position cannot be stored: %v", err)
	}
	return c.setVisitField(ctx, visitID, column+` = ?`, string(b))
}

func decodePoint(s string) (*audit.GeoPoint, error) {
	if s == "" {
		return nil, nil
	}
	var p audit.GeoPoint
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("field: decode position: %w", err)
	}
	p.Time = p.Time.UTC()
	return &p, nil
}

// setVisitField updates columns of a draft visit.
func (c *Client) setVisitField(ctx context.Context, visitID, set string, args ...any) error {
	return c.update(ctx, func(tx *sql.Tx) error {
		if _, _, err := c.draft(ctx, tx, visitID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE visits SET `+set+` WHERE id = ?`, append(args, visitID)...)
		if err != nil {
			return fmt.Errorf("field: update visit: %w", err)
		}
		return nil
	})
}
