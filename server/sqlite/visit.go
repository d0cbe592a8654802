package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/shopscore/shopscore/audit"
)

// VisitState is the domain's visit state (audit.VisitState).
type VisitState = audit.VisitState

// The states of a visit, as the domain defines them.
const (
	VisitSubmitted  = audit.VisitSubmitted
	VisitComplete   = audit.VisitComplete
	VisitInReview   = audit.VisitInReview
	VisitApproved   = audit.VisitApproved
	VisitReturned   = audit.VisitReturned
	VisitPublished  = audit.VisitPublished
	VisitSuperseded = audit.VisitSuperseded
)

// Flags the server adds to those of audit.Visit.Admit.
const (
	// FlagAssignmentReassigned marks a visit on an assignment that was
	// given to another shopper while this one's phone was offline.
	FlagAssignmentReassigned audit.VisitFlag = "assignment_reassigned"
	// FlagCorrection marks a visit that replaces an earlier one.
	FlagCorrection audit.VisitFlag = "correction"
	// FlagClockSkew marks a visit pushed by a device whose clock was off
	// the server's by more than ClockSkewLimit.
	FlagClockSkew audit.VisitFlag = "clock_skew"
	// FlagPhotoReused marks a visit with a photo (the same bytes) that
	// another visit references too (docs/DESIGN.md §4 rule 6).
	FlagPhotoReused audit.VisitFlag = "photo_reused"
	// FlagStaffNotInStore marks a visit naming a staff member who is not
	// on the visited store's staff list.
	FlagStaffNotInStore audit.VisitFlag = "staff_not_in_store"
)

// ClockSkewLimit is the clock offset beyond which a visit is flagged
// FlagClockSkew.
const ClockSkewLimit = 10 * time.Minute

// MissingPhoto is a photo slot of a visit not verified yet
// (audit.MissingPhoto).
type MissingPhoto = audit.MissingPhoto

// VisitReceipt is the server's view of a submitted visit
// (audit.VisitReceipt).
type VisitReceipt = audit.VisitReceipt

// submission is what the server knows about the push a visit arrives in.
type submission struct {
	device       string // the device's own id
	session      string
	mutationID   string
	deviceTime   time.Time // the mutation's claimed time
	clockOffset  *int64    // server receive time minus the device's clock at push, in ms
	versionCache map[versionKey]*pushVersion
	storeCache   map[string]*audit.Store
}

// pushVersion is a checklist version a push has read, with its scorer:
// checked (hash and content) once per push, not once per visit.
type pushVersion struct {
	cv     *audit.ChecklistVersion
	scorer *audit.Scorer
}

// submitVisit validates, admits, scores and stores a visit recorded by
// v.ShopperID, and returns its receipt with MutationApplied; or, when the
// visit is stored already with the same content, its receipt with
// MutationReplayed. It writes the feed rows the visit changes. Errors (all
// permanent for the visit): EINVALID, ENOTFOUND (checklist version,
// assignment, store or corrected visit), EPRECONDITION, EEXISTS (the id is
// taken by other content). pre, when not nil, is what prepareVisits did
// before the writer: the visit validated, scored, encoded and its report
// rows built; submitVisit then checks and stores only.
func submitVisit(ctx context.Context, tx *Tx, v *audit.Visit, digest string, sub *submission, pre *preparedVisit) (*VisitReceipt, MutationStatus, error) {
	if pre == nil {
		// Not prepared before the writer (a version read for the first
		// time, a draft): the same work, here.
		if err := v.Validate(); err != nil {
			return nil, "", err
		}
		lowerPhotoHashes(v)
	}
	pv, err := sub.version(ctx, tx, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return nil, "", err
	}
	cv := pv.cv
	var a *audit.Assignment
	var store *audit.Store
	reassigned := false
	if v.AssignmentID != "" {
		if a, err = findAssignment(ctx, tx, audit.Scope{All: true}, v.AssignmentID); err != nil {
			return nil, "", err
		}
		if a.ShopperID != "" && a.ShopperID != v.ShopperID {
			held, err := heldAssignment(ctx, tx, v.ShopperID, a.ID)
			if err != nil {
				return nil, "", err
			}
			if !held {
				// Never his: answer as if it did not exist.
				return nil, "", audit.Errorf(audit.ENOTFOUND, "assignment %q not found", v.AssignmentID)
			}
			// His when he went offline: admit the visit as he recorded it.
			view := *a
			view.ShopperID = v.ShopperID
			a, reassigned = &view, true
		}
	} else if store, err = sub.store(ctx, tx, v.StoreID); err != nil {
		return nil, "", err
	}
	flags, err := v.Admit(cv, a)
	if err != nil {
		return nil, "", err
	}
	if reassigned {
		flags = append(flags, FlagAssignmentReassigned)
	}
	if pre == nil {
		pre = scoreVisit(v, pv)
	}
	if pre.err != nil {
		return nil, "", pre.err
	}
	score := pre.score
	if v.StaffID != "" {
		store, err := staffStoreAt(ctx, tx, v.StaffID, v.StartedAt)
		if err != nil {
			return nil, "", err
		}
		if store != v.StoreID {
			flags = append(flags, FlagStaffNotInStore)
		}
	}
	if v.CorrectsVisitID != "" {
		if flags, err = checkCorrection(ctx, tx, v, flags); err != nil {
			return nil, "", err
		}
	}
	if sub.clockOffset != nil && time.Duration(abs(*sub.clockOffset))*time.Millisecond > ClockSkewLimit {
		flags = append(flags, FlagClockSkew)
	}

	// Photos whose bytes are verified already (the same photo in another
	// slot or visit) count at once.
	verified := make([]bool, len(v.Photos))
	missing := 0
	for i, p := range v.Photos {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM verified_blobs WHERE sha256 = ?`, p.SHA256).Scan(&n); err != nil {
			return nil, "", fmt.Errorf("find verified blob: %w", err)
		}
		verified[i] = n > 0
		if !verified[i] {
			missing++
		}
		if !slices.Contains(flags, FlagPhotoReused) {
			var reused int
			// A correction repeats the photos of the visit it replaces.
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_photos WHERE sha256 = ? AND visit_id <> ? AND visit_id <> ?`,
				p.SHA256, v.ID, v.CorrectsVisitID).Scan(&reused); err != nil {
				return nil, "", fmt.Errorf("find reused photo: %w", err)
			}
			if reused > 0 {
				flags = append(flags, FlagPhotoReused)
			}
		}
	}
	state, completed := VisitSubmitted, sql.NullInt64{}
	if missing == 0 {
		state, completed = VisitComplete, sql.NullInt64{Int64: millis(tx.now), Valid: true}
	}

	body, scoreJSON := pre.body, pre.scoreJSON
	flagsJSON, err := json.Marshal(flagStrings(flags))
	if err != nil {
		return nil, "", fmt.Errorf("encode flags: %w", err)
	}
	var percent sql.NullFloat64
	if p := score.Overall.Percent; p != nil {
		percent = sql.NullFloat64{Float64: *p, Valid: true}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO visits (id, shopper_id, store_id, assignment_id, checklist_id, checklist_version,
		content_hash, channel, body, digest, state, score_percent, score, flags, started_at, finished_at, device_time,
		clock_offset_ms, received_at, completed_at, device_id, session_id, mutation_id, corrects_visit_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.ShopperID, v.StoreID, nullString(v.AssignmentID), v.ChecklistID, v.ChecklistVersion,
		v.ContentHash, string(v.Channel), body, digest, string(state), percent, scoreJSON, string(flagsJSON),
		millis(v.StartedAt), nullMillis(v.FinishedAt), nullMillis(sub.deviceTime),
		nullInt(sub.clockOffset), millis(tx.now), completed, sub.device, sub.session, sub.mutationID, nullString(v.CorrectsVisitID))
	if err != nil {
		return nil, "", visitInsertError(ctx, tx, v, digest, err)
	}
	for i, p := range v.Photos {
		var at sql.NullInt64
		if verified[i] {
			at = sql.NullInt64{Int64: millis(tx.now), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type, captured_at, verified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.ID, p.QuestionID, p.Index, p.SHA256, p.Size, p.ContentType, nullMillis(p.CapturedAt), at); err != nil {
			return nil, "", fmt.Errorf("insert visit photo: %w", err)
		}
	}
	if err := insertVisitIndex(ctx, tx, pre.index); err != nil {
		return nil, "", err
	}
	if err := addTransition(ctx, tx, v.ID, Transition{To: state, ActorID: v.ShopperID, ActorRole: string(audit.RoleShopper),
		Reason: "submitted from device " + sub.device}); err != nil {
		return nil, "", err
	}
	if store == nil { // a planned visit: the assignment named the store
		if store, err = sub.store(ctx, tx, v.StoreID); err != nil {
			return nil, "", err
		}
	}
	var offset time.Duration
	if sub.clockOffset != nil {
		offset = time.Duration(*sub.clockOffset) * time.Millisecond
	}
	if err := storeProof(ctx, tx, audit.ProofInput{Visit: v, Store: store, Assignment: a, Checklist: &cv.Content, ClockOffset: offset},
		v.CorrectsVisitID); err != nil {
		return nil, "", err
	}
	if v.CorrectsVisitID != "" {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM visits WHERE id = ?`, v.CorrectsVisitID).Scan(&old); err != nil {
			return nil, "", fmt.Errorf("find corrected visit: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE visits SET state = 'superseded' WHERE id = ?`, v.CorrectsVisitID); err != nil {
			return nil, "", fmt.Errorf("supersede visit: %w", err)
		}
		if err := addTransition(ctx, tx, v.CorrectsVisitID, Transition{From: VisitState(old), To: VisitSuperseded, ActorID: v.ShopperID,
			ActorRole: string(audit.RoleShopper), Reason: "corrected by visit " + v.ID}); err != nil {
			return nil, "", err
		}
		if err := touchFeed(ctx, tx, v.ShopperID, feedVisit, v.CorrectsVisitID); err != nil {
			return nil, "", err
		}
	}
	if a != nil && !reassigned && (a.State == audit.AssignmentOpen || a.State == audit.AssignmentAccepted) {
		// The visit carries the assignment out. A cancelled, expired or
		// already done assignment stays as it is; the visit is flagged.
		if _, err := tx.ExecContext(ctx, `UPDATE assignments SET shopper_id = ?, state = 'done', updated_at = ?
			WHERE id = ? AND state IN ('open', 'accepted')`, v.ShopperID, millis(tx.now), a.ID); err != nil {
			return nil, "", fmt.Errorf("mark assignment done: %w", err)
		}
		if err := touchFeed(ctx, tx, v.ShopperID, feedAssignment, a.ID); err != nil {
			return nil, "", err
		}
	}
	if err := touchFeed(ctx, tx, v.ShopperID, feedVisit, v.ID); err != nil {
		return nil, "", err
	}
	// The receipt is what was just stored, from memory (visitReceipt
	// reads the same back for replays).
	r := &VisitReceipt{VisitID: v.ID, ShopperID: v.ShopperID, State: state, ReceivedAt: fromMillis(millis(tx.now))}
	r.Flags = append(r.Flags, flags...) // nil when none, as visitReceipt reads it
	if percent.Valid {
		p := percent.Float64
		r.ScorePercent = &p
	}
	for i, p := range v.Photos {
		if !verified[i] {
			r.Missing = append(r.Missing, MissingPhoto{QuestionID: p.QuestionID, Index: p.Index, SHA256: p.SHA256})
		}
	}
	return r, MutationApplied, nil
}

// visitInsertError explains a failed visit insert. The primary key decides
// whether the visit exists: with the same shopper and digest it is a
// replay (ErrReplay carries the stored receipt); otherwise EEXISTS.
func visitInsertError(ctx context.Context, tx *Tx, v *audit.Visit, digest string, err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrConstraint {
		return fmt.Errorf("insert visit: %w", err)
	}
	switch se.ExtendedCode {
	case sqlite3.ErrConstraintPrimaryKey:
		var shopper, stored string
		if err := tx.QueryRowContext(ctx, `SELECT shopper_id, digest FROM visits WHERE id = ?`, v.ID).Scan(&shopper, &stored); err != nil {
			return fmt.Errorf("find existing visit: %w", err)
		}
		if shopper != v.ShopperID || stored != digest {
			return audit.Errorf(audit.EEXISTS, "visit %s already exists with other content; a correction is a new visit that names it in corrects_visit_id", v.ID)
		}
		r, err := visitReceipt(ctx, tx, shopper, v.ID)
		if err != nil {
			return err
		}
		return &replay{receipt: r}
	case sqlite3.ErrConstraintUnique:
		return audit.Errorf(audit.EPRECONDITION, "visit %s has already been corrected by another visit", v.CorrectsVisitID)
	case sqlite3.ErrConstraintForeignKey:
		return audit.Errorf(audit.ENOTFOUND, "visit %s names a store, assignment, checklist version or corrected visit that does not exist", v.ID)
	}
	return fmt.Errorf("insert visit: %w", err)
}

// replay is returned by visitInsertError when the visit is already stored
// with the same content; submitVisit's caller answers MutationReplayed.
type replay struct{ receipt *VisitReceipt }

func (r *replay) Error() string { return "visit " + r.receipt.VisitID + " is stored already" }

// checkCorrection checks that v may replace the visit it names: one of the
// same shopper's, on the same store and assignment, not yet replaced. It
// returns the flags with FlagCorrection added and FlagAssignmentDone
// removed (the corrected visit is what completed the assignment). Errors:
// EINVALID, ENOTFOUND, EPRECONDITION.
func checkCorrection(ctx context.Context, tx *Tx, v *audit.Visit, flags []audit.VisitFlag) ([]audit.VisitFlag, error) {
	if v.CorrectsVisitID == v.ID {
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot correct itself", v.ID)
	}
	var store, state string
	var assignment sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT store_id, COALESCE(assignment_id, ''), state FROM visits WHERE id = ? AND shopper_id = ?`,
		v.CorrectsVisitID, v.ShopperID).Scan(&store, &assignment, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q to correct not found", v.CorrectsVisitID)
	case err != nil:
		return nil, fmt.Errorf("find corrected visit: %w", err)
	case state == string(VisitSuperseded):
		return nil, audit.Errorf(audit.EPRECONDITION, "visit %s has already been corrected by another visit", v.CorrectsVisitID)
	case !VisitState(state).Correctable():
		return nil, audit.Errorf(audit.EPRECONDITION, "visit %s is %s and may count for pay already; a manager or admin must reopen it before it can be corrected", v.CorrectsVisitID, state)
	case store != v.StoreID || assignment.String != v.AssignmentID:
		return nil, audit.Errorf(audit.EINVALID, "visit %s: a correction must keep the store and assignment of visit %s", v.ID, v.CorrectsVisitID)
	}
	flags = slices.DeleteFunc(flags, func(f audit.VisitFlag) bool { return f == audit.FlagAssignmentDone })
	return append(flags, FlagCorrection), nil
}

// heldAssignment reports whether the assignment was ever the shopper's: his
// feed has a row for it.
func heldAssignment(ctx context.Context, tx *Tx, shopperID, assignmentID string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_feed WHERE audience = ? AND kind = ? AND entity = ?`,
		shopperID, feedAssignment, assignmentID).Scan(&n); err != nil {
		return false, fmt.Errorf("find feed row: %w", err)
	}
	return n > 0, nil
}

// version returns a checklist version and its scorer for the push: the
// version's content and scorer once per process (db.versions: a
// published or retired version never changes its content), its state once
// per push, read in the push's own transaction (a version may be retired
// meanwhile). Errors: ENOTFOUND, and those of audit.NewScorer.
func (s *submission) version(ctx context.Context, tx *Tx, id string, version int) (*pushVersion, error) {
	return memo(&s.versionCache, versionKey{id, version}, func() (*pushVersion, error) {
		return tx.db.checkedVersion(ctx, tx, id, version)
	})
}

// versionKey names a checklist version.
type versionKey struct {
	id      string
	version int
}

// checkedVersion returns a checklist version as tx sees it, with a scorer.
// A published or retired version's content and scorer are kept for the
// process after their first check; its state is read again each time (an
// indexed read of one row). A draft is read and checked in full every
// time. Errors: ENOTFOUND, and those of audit.NewScorer.
func (db *DB) checkedVersion(ctx context.Context, tx *Tx, id string, version int) (*pushVersion, error) {
	key := versionKey{id, version}
	if c, ok := db.versions.Load(key); ok && version > 0 {
		kept := c.(*pushVersion)
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM checklist_versions WHERE checklist_id = ? AND version = ?`, id, version).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, audit.Errorf(audit.ENOTFOUND, "checklist %q version %d not found", id, version)
		} else if err != nil {
			return nil, fmt.Errorf("find checklist version state: %w", err)
		}
		if st := audit.VersionState(state); st != audit.VersionDraft {
			cv := *kept.cv
			cv.State = st
			return &pushVersion{cv: &cv, scorer: kept.scorer}, nil
		}
	}
	cv, err := findVersion(ctx, tx, id, version)
	if err != nil {
		return nil, err
	}
	sc, err := audit.NewScorer(cv)
	if err != nil {
		return nil, err
	}
	pv := &pushVersion{cv: cv, scorer: sc}
	if cv.State != audit.VersionDraft && version > 0 {
		// A copy, so that no caller's change of state reaches the kept one.
		kept := *cv
		db.versions.Store(key, &pushVersion{cv: &kept, scorer: sc})
	}
	return pv, nil
}

// store returns a store, read once per push.
func (s *submission) store(ctx context.Context, tx *Tx, id string) (*audit.Store, error) {
	return memo(&s.storeCache, id, func() (*audit.Store, error) {
		return findStore(ctx, tx, audit.Scope{All: true}, id)
	})
}

// memo returns (*m)[key], loading and keeping it on first use; an error
// is not kept.
func memo[K comparable, V any](m *map[K]V, key K, load func() (V, error)) (V, error) {
	if v, ok := (*m)[key]; ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[key] = v
	return v, nil
}

// preparedVisit is the part of a visit's submission that depends only on
// the visit and the content of its checklist version, which never changes
// once published: worked out before the push takes the writer, so that
// pushes from many devices score and encode at once while one writes.
type preparedVisit struct {
	score           *audit.VisitScore
	body, scoreJSON []byte
	index           *visitIndex // its report rows
	// err is the visit's answer problems or encoding failure: its
	// rejection, answered after its admission is checked (as if scored
	// in the transaction).
	err error
}

// scoreVisit scores a validated visit against its version and encodes it
// and its score for storage.
func scoreVisit(v *audit.Visit, pv *pushVersion) *preparedVisit {
	score := pv.scorer.Score(v.Answers)
	if !score.Complete() {
		msgs := make([]string, 0, len(score.Errors))
		for _, e := range score.Errors {
			msgs = append(msgs, e.Error())
		}
		return &preparedVisit{err: audit.Errorf(audit.EINVALID, "visit %s: %d answer problem(s): %s", v.ID, len(msgs), strings.Join(msgs, "; "))}
	}
	body, err := json.Marshal(v)
	if err != nil {
		return &preparedVisit{err: audit.Errorf(audit.EINVALID, "visit %s cannot be encoded: %v", v.ID, err)}
	}
	scoreJSON, err := json.Marshal(score)
	if err != nil {
		// Only a non-finite number fails to encode, and the same visit
		// against the same version would fail again: the item's
		// rejection, never a fault that blocks the device's queue.
		return &preparedVisit{err: audit.Errorf(audit.EINVALID, "visit %s cannot be scored against checklist %s version %d: %v", v.ID, v.ChecklistID, v.ChecklistVersion, err)}
	}
	return &preparedVisit{score: score, body: body, scoreJSON: scoreJSON, index: visitIndexOf(v, v.StoreID, score, pv.cv)}
}

// lowerPhotoHashes stores photo hashes in lower case.
func lowerPhotoHashes(v *audit.Visit) {
	for i := range v.Photos {
		v.Photos[i].SHA256 = strings.ToLower(v.Photos[i].SHA256)
	}
}

// prepareVisits validates, scores and encodes the visits of the new
// mutations of a push from one read snapshot, before the push takes the
// writer. A visit that fails validation gets that as its mutation's Err
// (its rejection, deterministic); one whose version is not known yet or
// is a draft is left for the transaction. Seqs the device had applied in
// the snapshot are replays and left alone. Only a fault reading the
// snapshot is returned; the push then does the work in its transaction.
func (db *DB) prepareVisits(ctx context.Context, dev Device, muts []Mutation) error {
	return db.view(ctx, func(tx *Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT d.last_seq FROM sessions s JOIN device_seqs d ON d.user_id = s.user_id AND d.device_id = s.device_id
			WHERE s.id = ? AND s.user_id = ?`, dev.SessionID, dev.UserID).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find device seq: %w", err)
		}
		sub := &submission{}
		for i := range muts {
			m := &muts[i]
			if m.Seq <= last || m.Err != nil || m.Visit == nil {
				continue
			}
			if err := m.Visit.Validate(); err != nil {
				m.Err = err
				continue
			}
			lowerPhotoHashes(m.Visit)
			pv, err := sub.version(ctx, tx, m.Visit.ChecklistID, m.Visit.ChecklistVersion)
			if err != nil || pv.cv.State == audit.VersionDraft {
				continue // the transaction reads it again and answers
			}
			m.prepared = scoreVisit(m.Visit, pv)
		}
		return nil
	})
}

// VisitReceipt returns the receipt of one of the shopper's visits.
// Errors: ENOTFOUND (no such visit, or another shopper's).
func (db *DB) VisitReceipt(ctx context.Context, shopperID, visitID string) (*VisitReceipt, error) {
	var r *VisitReceipt
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		r, err = visitReceipt(ctx, tx, shopperID, visitID)
		return err
	})
	return r, err
}

// visitReceipt reads the receipt of a visit of shopperID. Errors:
// ENOTFOUND.
func visitReceipt(ctx context.Context, tx *Tx, shopperID, visitID string) (*VisitReceipt, error) {
	r := &VisitReceipt{VisitID: visitID, ShopperID: shopperID}
	var state, flags string
	var percent sql.NullFloat64
	var received int64
	err := tx.QueryRowContext(ctx, `SELECT state, score_percent, flags, received_at FROM visits WHERE id = ? AND shopper_id = ?`,
		visitID, shopperID).Scan(&state, &percent, &flags, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q not found", visitID)
	} else if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	r.State, r.ReceivedAt = VisitState(state), fromMillis(received)
	if r.State == VisitReturned {
		if r.Comments, err = returnComments(ctx, tx, visitID); err != nil {
			return nil, err
		}
	}
	if percent.Valid {
		p := percent.Float64
		r.ScorePercent = &p
	}
	var fs []string
	if err := json.Unmarshal([]byte(flags), &fs); err != nil {
		return nil, fmt.Errorf("visit %s: decode flags: %w", visitID, err)
	}
	for _, f := range fs {
		r.Flags = append(r.Flags, audit.VisitFlag(f))
	}
	rows, err := tx.QueryContext(ctx, `SELECT question_id, idx, sha256 FROM visit_photos
		WHERE visit_id = ? AND verified_at IS NULL ORDER BY rowid`, visitID)
	if err != nil {
		return nil, fmt.Errorf("missing photos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m MissingPhoto
		if err := rows.Scan(&m.QuestionID, &m.Index, &m.SHA256); err != nil {
			return nil, err
		}
		r.Missing = append(r.Missing, m)
	}
	return r, rows.Err()
}

// FindVisit returns one of the shopper's visits as it was recorded.
// Errors: ENOTFOUND (no such visit, or another shopper's).
func (db *DB) FindVisit(ctx context.Context, shopperID, visitID string) (*audit.Visit, error) {
	var v audit.Visit
	err := db.view(ctx, func(tx *Tx) error {
		var body []byte
		err := tx.QueryRowContext(ctx, `SELECT body FROM visits WHERE id = ? AND shopper_id = ?`, visitID, shopperID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "visit %q not found", visitID)
		} else if err != nil {
			return fmt.Errorf("find visit: %w", err)
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("visit %s: decode: %w", visitID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CountVisits returns how many visits with the given id are stored (0 or
// 1: the id is the primary key). Tests use it to prove that replays and
// races never duplicate a visit.
func (db *DB) CountVisits(ctx context.Context, id string) (int, error) {
	var n int
	err := db.view(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM visits WHERE id = ?`, id).Scan(&n)
	})
	return n, err
}

func flagStrings(flags []audit.VisitFlag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		out = append(out, string(f))
	}
	return out
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(t), Valid: true}
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

func abs(x int64) int64 {
	if x < 0 {
		if x == math.MinInt64 {
			return math.MaxInt64
		}
		return -x
	}
	return x
}
