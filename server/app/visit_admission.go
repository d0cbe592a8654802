package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// A pushed visit is admitted here: validated, checked against its
// checklist version, assignment and the visit it corrects, scored,
// flagged (audit.FlagVisit), stored, and its feed rows written.

// submission is what the server knows about the push a visit arrives in.
type submission struct {
	device     string // the device's own id
	session    string
	mutationID string
	deviceTime time.Time      // the mutation's claimed time
	offset     *time.Duration // server receive time minus the device's clock at push
	versions   map[versionKey]*pushVersion
	stores     map[string]*audit.Store
}

// pushVersion is a checklist version a push has read, with its scorer:
// checked (hash and content) once per push, not once per visit.
type pushVersion struct {
	cv     *audit.ChecklistVersion
	scorer *audit.Scorer
}

// versionKey names a checklist version.
type versionKey struct {
	id      string
	version int
}

// preparedVisit is the part of a visit's submission that depends only on
// the visit and the content of its checklist version, which never changes
// once published: worked out before the push takes the writer, so that
// pushes from many devices score and encode at once while one writes.
type preparedVisit struct {
	score   *audit.VisitScore
	encoded storage.EncodedVisit
	// err is the visit's answer problems or encoding failure: its
	// rejection, answered after its admission is checked (as if scored
	// in the transaction).
	err error
}

// prepareVisits validates, scores and encodes the visits of the new
// mutations of a push from one read snapshot, before the push takes the
// writer. A visit that fails validation gets that as its mutation's Err
// (its rejection, deterministic); one whose version is not known yet or
// is a draft is left for the transaction. Seqs the device had applied in
// the snapshot are replays and left alone. Only a fault reading the
// snapshot is returned.
func (a *App) prepareVisits(ctx context.Context, dev Device, muts []Mutation) error {
	return a.st.View(ctx, func(tx storage.Tx) error {
		last, err := tx.Devices().LastSeq(ctx, dev.UserID, dev.SessionID)
		if err != nil {
			return err
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
			pv, err := a.version(ctx, tx, sub, m.Visit.ChecklistID, m.Visit.ChecklistVersion)
			if err != nil || pv.cv.State == audit.VersionDraft {
				continue // the transaction reads it again and answers
			}
			m.prepared = scoreVisit(tx.Visits(), m.Visit, pv)
		}
		return nil
	})
}

// scoreVisit scores a validated visit against its version and encodes it
// for storage.
func scoreVisit(visits storage.Visits, v *audit.Visit, pv *pushVersion) *preparedVisit {
	score := pv.scorer.Score(v.Answers)
	if !score.Complete() {
		msgs := make([]string, 0, len(score.Errors))
		for _, e := range score.Errors {
			msgs = append(msgs, e.Error())
		}
		return &preparedVisit{err: audit.Errorf(audit.EINVALID, "visit %s: %d answer problem(s): %s", v.ID, len(msgs), strings.Join(msgs, "; "))}
	}
	enc, err := visits.Encode(v, score, pv.cv)
	if err != nil {
		return &preparedVisit{err: err}
	}
	return &preparedVisit{score: score, encoded: enc}
}

// lowerPhotoHashes stores photo hashes in lower case.
func lowerPhotoHashes(v *audit.Visit) {
	for i := range v.Photos {
		v.Photos[i].SHA256 = strings.ToLower(v.Photos[i].SHA256)
	}
}

// version returns a checklist version and its scorer for the push: its
// content and scorer once per process (a.versions), its state once per
// push, read in the push's own transaction (a version may be retired
// meanwhile). Errors: ENOTFOUND, and those of audit.NewScorer.
func (a *App) version(ctx context.Context, tx storage.Tx, sub *submission, id string, version int) (*pushVersion, error) {
	key := versionKey{id, version}
	if pv, ok := sub.versions[key]; ok {
		return pv, nil
	}
	pv, err := a.checkedVersion(ctx, tx, key)
	if err != nil {
		return nil, err
	}
	if sub.versions == nil {
		sub.versions = map[versionKey]*pushVersion{}
	}
	sub.versions[key] = pv
	return pv, nil
}

// checkedVersion returns a checklist version as tx sees it, with a scorer.
// A published or retired version's content and scorer are kept for the
// process after their first check (they never change); its state is read
// again each time (an indexed read of one row). A draft is read and
// checked in full every time.
func (a *App) checkedVersion(ctx context.Context, tx storage.Tx, key versionKey) (*pushVersion, error) {
	if c, ok := a.versions.Load(key); ok && key.version > 0 {
		kept := c.(*pushVersion)
		st, err := tx.Checklists().State(ctx, key.id, key.version)
		if err != nil {
			return nil, err
		}
		if st != audit.VersionDraft {
			cv := *kept.cv
			cv.State = st
			return &pushVersion{cv: &cv, scorer: kept.scorer}, nil
		}
	}
	cv, err := tx.Checklists().Find(ctx, key.id, key.version)
	if err != nil {
		return nil, err
	}
	sc, err := audit.NewScorer(cv)
	if err != nil {
		return nil, err
	}
	if cv.State != audit.VersionDraft && key.version > 0 {
		// A copy, so that no caller's change of state reaches the kept one.
		kept := *cv
		a.versions.Store(key, &pushVersion{cv: &kept, scorer: sc})
	}
	return &pushVersion{cv: cv, scorer: sc}, nil
}

// store returns a store, read once per push.
func (s *submission) store(ctx context.Context, tx storage.Tx, id string) (*audit.Store, error) {
	if st, ok := s.stores[id]; ok {
		return st, nil
	}
	st, err := tx.Stores().Find(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if s.stores == nil {
		s.stores = map[string]*audit.Store{}
	}
	s.stores[id] = st
	return st, nil
}

// submitVisit validates, admits, scores, flags and stores a visit recorded
// by v.ShopperID, and returns its receipt with MutationApplied; or, when
// the visit is stored already with the same content, its receipt with
// MutationReplayed. It writes the feed rows the visit changes and its
// events (submitted; complete too when no photo is missing), supersedes
// the visit it corrects and carries out its assignment. Errors (all
// permanent for the visit): EINVALID, ENOTFOUND (checklist version,
// assignment, store or corrected visit), EPRECONDITION, EEXISTS (the id is
// taken by other content). pre, when not nil, is what prepareVisits did
// before the writer; submitVisit then checks and stores only.
func (a *App) submitVisit(ctx context.Context, tx storage.Tx, v *audit.Visit, digest string, sub *submission, pre *preparedVisit) (*audit.VisitReceipt, storage.MutationStatus, error) {
	if pre == nil {
		// Not prepared before the writer (a version read for the first
		// time, a draft): the same work, here.
		if err := v.Validate(); err != nil {
			return nil, "", err
		}
		lowerPhotoHashes(v)
	}
	pv, err := a.version(ctx, tx, sub, v.ChecklistID, v.ChecklistVersion)
	if err != nil {
		return nil, "", err
	}
	f := audit.VisitFacts{Visit: v, Version: pv.cv}
	asg, err := heldAssignment(ctx, tx, v)
	if err != nil {
		return nil, "", err
	}
	if asg != nil {
		f.Assignment, f.Reassigned = asg, asg.ShopperID != "" && asg.ShopperID != v.ShopperID
		if f.Reassigned {
			// His when he went offline: admit the visit as he recorded it.
			view := *asg
			view.ShopperID = v.ShopperID
			f.Assignment = &view
		}
	} else if f.Store, err = sub.store(ctx, tx, v.StoreID); err != nil {
		return nil, "", err
	}
	if _, err := v.Admit(pv.cv, f.Assignment); err != nil {
		return nil, "", err
	}
	if pre == nil {
		pre = scoreVisit(tx.Visits(), v, pv)
	}
	if pre.err != nil {
		return nil, "", pre.err
	}
	if v.StaffID != "" {
		if f.StaffStoreID, err = tx.Staff().StoreAt(ctx, v.StaffID, v.StartedAt); err != nil {
			return nil, "", err
		}
	}
	var corrected *storage.StoredVisit
	if v.CorrectsVisitID != "" {
		if corrected, err = checkCorrection(ctx, tx, v); err != nil {
			return nil, "", err
		}
		f.Correction = true
	}
	if sub.offset != nil {
		f.ClockOffset = *sub.offset
	}
	// Photos whose bytes are verified already (the same photo in another
	// slot or visit) count at once.
	verified := make([]bool, len(v.Photos))
	missing := 0
	for i, p := range v.Photos {
		if verified[i], err = tx.Photos().Verified(ctx, p.SHA256); err != nil {
			return nil, "", err
		}
		if !verified[i] {
			missing++
		}
	}
	if f.Store == nil { // a planned visit: the assignment named the store
		if f.Store, err = sub.store(ctx, tx, v.StoreID); err != nil {
			return nil, "", err
		}
	}
	if err := photoFacts(ctx, tx, &f); err != nil {
		return nil, "", err
	}
	flags, proof := audit.FlagVisit(f, audit.ProofRules{})

	state := audit.ArrivalState(missing)
	err = tx.Visits().Insert(ctx, storage.NewVisit{
		Visit: v, Encoded: pre.encoded, Score: pre.score, Digest: digest, State: state, Flags: flags, Proof: proof,
		Verified: verified, DeviceID: sub.device, SessionID: sub.session, MutationID: sub.mutationID,
		DeviceTime: sub.deviceTime, Offset: sub.offset,
		History: storage.Transition{To: state, ActorID: v.ShopperID, ActorRole: string(audit.RoleShopper), Reason: "submitted from device " + sub.device},
	})
	if errors.Is(err, storage.ErrVisitExists) {
		r, err := storedAlready(ctx, tx, v, digest)
		return r, storage.MutationReplayed, err
	} else if err != nil {
		return nil, "", err
	}
	if corrected != nil {
		to, err := audit.SupersedeTransition(v.CorrectsVisitID, corrected.State)
		if err != nil {
			return nil, "", err
		}
		if err := tx.Visits().SetState(ctx, v.CorrectsVisitID, storage.Transition{From: corrected.State, To: to, ActorID: v.ShopperID,
			ActorRole: string(audit.RoleShopper), Reason: "corrected by visit " + v.ID}); err != nil {
			return nil, "", err
		}
		if err := tx.Feed().Touch(ctx, v.ShopperID, storage.FeedKindVisit, v.CorrectsVisitID); err != nil {
			return nil, "", err
		}
	}
	if asg != nil && !f.Reassigned {
		if err := carryOut(ctx, tx, asg, v.ShopperID); err != nil {
			return nil, "", err
		}
	}
	if err := tx.Feed().Touch(ctx, v.ShopperID, storage.FeedKindVisit, v.ID); err != nil {
		return nil, "", err
	}
	events := []string{EventVisitSubmitted}
	if state == audit.VisitComplete {
		// Arrived with every photo verified already: complete at once.
		events = append(events, EventVisitComplete)
	}
	summary, err := storedSummary(ctx, tx, v, pv, f.Store, state, pre, proof, missing)
	if err != nil {
		return nil, "", err
	}
	if err := summaryEvents(ctx, tx, summary, audit.Principal{}, "", nil, events...); err != nil {
		return nil, "", err
	}
	// The receipt is what was just stored, from memory (Visits.Receipt
	// reads the same back for replays).
	r := &audit.VisitReceipt{VisitID: v.ID, ShopperID: v.ShopperID, State: state, ReceivedAt: tx.Now().Truncate(time.Millisecond).UTC()}
	r.Flags = append(r.Flags, flags...) // nil when none, as Receipt reads it
	if p := pre.score.Overall.Percent; p != nil {
		percent := *p
		r.ScorePercent = &percent
	}
	for i, p := range v.Photos {
		if !verified[i] {
			r.Missing = append(r.Missing, audit.MissingPhoto{QuestionID: p.QuestionID, Index: p.Index, SHA256: p.SHA256})
		}
	}
	return r, storage.MutationApplied, nil
}

// heldAssignment returns the visit's assignment (nil for an unplanned
// visit) when it is, or was, the shopper's: one given to another shopper
// while his phone was offline is still his to report on, since his feed
// has a row for it. Errors: ENOTFOUND (no such assignment, or never his:
// answered as if it did not exist).
func heldAssignment(ctx context.Context, tx storage.Tx, v *audit.Visit) (*audit.Assignment, error) {
	if v.AssignmentID == "" {
		return nil, nil
	}
	asg, err := tx.Assignments().Find(ctx, audit.Scope{All: true}, v.AssignmentID)
	if err != nil {
		return nil, err
	}
	if asg.ShopperID != "" && asg.ShopperID != v.ShopperID {
		held, err := tx.Feed().Has(ctx, v.ShopperID, storage.FeedKindAssignment, asg.ID)
		if err != nil {
			return nil, err
		}
		if !held {
			return nil, audit.Errorf(audit.ENOTFOUND, "assignment %q not found", v.AssignmentID)
		}
	}
	return asg, nil
}

// carryOut marks the assignment done by shopperID's visit, which accepts
// it first when it was open; it moves in his feed. A cancelled, expired or
// done assignment stays as it is (the visit is flagged).
func carryOut(ctx context.Context, tx storage.Tx, asg *audit.Assignment, shopperID string) error {
	if asg.State != audit.AssignmentOpen && asg.State != audit.AssignmentAccepted {
		return nil
	}
	next := *asg
	next.ShopperID = shopperID
	if next.State == audit.AssignmentOpen {
		if err := next.Transition(audit.AssignmentAccepted); err != nil {
			return err
		}
	}
	if err := next.Transition(audit.AssignmentDone); err != nil {
		return err
	}
	if _, err := tx.Assignments().SetStateFrom(ctx, &next, asg.State); err != nil {
		return err
	}
	return tx.Feed().Touch(ctx, shopperID, storage.FeedKindAssignment, asg.ID)
}

// storedAlready answers a visit whose id is stored: with the same shopper
// and content it is a replay, answered with the stored receipt; otherwise
// EEXISTS.
func storedAlready(ctx context.Context, tx storage.Tx, v *audit.Visit, digest string) (*audit.VisitReceipt, error) {
	old, err := tx.Visits().Find(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	if old.Visit.ShopperID != v.ShopperID || old.Digest != digest {
		return nil, audit.Errorf(audit.EEXISTS, "visit %s already exists with other content; a correction is a new visit that names it in corrects_visit_id", v.ID)
	}
	return tx.Visits().Receipt(ctx, v.ShopperID, v.ID)
}

// checkCorrection checks that v may replace the visit it names: one of the
// same shopper's, on the same store and assignment, not yet replaced, and
// returns it. Errors: EINVALID, ENOTFOUND, EPRECONDITION.
func checkCorrection(ctx context.Context, tx storage.Tx, v *audit.Visit) (*storage.StoredVisit, error) {
	if v.CorrectsVisitID == v.ID {
		return nil, audit.Errorf(audit.EINVALID, "visit %s cannot correct itself", v.ID)
	}
	old, err := tx.Visits().Find(ctx, v.CorrectsVisitID)
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND || err == nil && old.Visit.ShopperID != v.ShopperID:
		return nil, audit.Errorf(audit.ENOTFOUND, "visit %q to correct not found", v.CorrectsVisitID)
	case err != nil:
		return nil, err
	}
	if _, err := audit.SupersedeTransition(v.CorrectsVisitID, old.State); err != nil {
		return nil, err
	}
	if old.Visit.StoreID != v.StoreID || old.Visit.AssignmentID != v.AssignmentID {
		return nil, audit.Errorf(audit.EINVALID, "visit %s: a correction must keep the store and assignment of visit %s", v.ID, v.CorrectsVisitID)
	}
	return old, nil
}

// photoFacts adds to f what the proof checks need of the visit's photos:
// those other visits reference too (the corrected visit and its own
// corrections aside), and the EXIF the server read from verified bytes.
// The device's own EXIF claims are never used: f.Visit becomes a copy
// whose photos carry the server's.
func photoFacts(ctx context.Context, tx storage.Tx, f *audit.VisitFacts) error {
	v := *f.Visit
	if len(v.Photos) == 0 {
		return nil
	}
	hashes := make([]string, len(v.Photos))
	for i, p := range v.Photos {
		hashes[i] = p.SHA256
	}
	reused, err := tx.Photos().Reused(ctx, v.ID, v.CorrectsVisitID, hashes)
	if err != nil {
		return err
	}
	exif, err := tx.Photos().Exif(ctx, hashes)
	if err != nil {
		return err
	}
	v.Photos = slices.Clone(v.Photos)
	for i := range v.Photos {
		x := exif[v.Photos[i].SHA256]
		v.Photos[i].ExifTime, v.Photos[i].ExifPoint = x.Time, x.Point
	}
	f.Visit, f.ReusedPhotos = &v, reused
	return nil
}

// storedSummary is the summary of visit v as Visits.FindSummary would read
// it right after its INSERT, from what the push holds in memory: its
// events are built from it without reading the visit back (the read-back
// was two thirds of the events' cost in a push: BENCHMARKS.md, W1).
// TestPush_EventsFromMemory holds the two equal.
func storedSummary(ctx context.Context, tx storage.Tx, v *audit.Visit, pv *pushVersion, store *audit.Store, state audit.VisitState,
	pre *preparedVisit, proof []audit.ProofFlag, missing int) (*storage.VisitSummary, error) {
	s := &storage.VisitSummary{
		ID: v.ID, StoreID: v.StoreID, ShopperID: v.ShopperID, AssignmentID: v.AssignmentID,
		ChecklistID: v.ChecklistID, ChecklistVersion: v.ChecklistVersion, ChecklistName: pv.cv.Content.Name,
		Channel: v.Channel, State: state, ProofFlags: proof, MissingPhotos: missing,
		StartedAt:       v.StartedAt.Truncate(time.Millisecond).UTC(),
		ReceivedAt:      tx.Now().Truncate(time.Millisecond).UTC(),
		CorrectsVisitID: v.CorrectsVisitID, StoreCode: store.Code, StoreName: store.Name,
	}
	if p := pre.score.Overall.Percent; p != nil {
		percent := *p
		s.ScorePercent = &percent
	}
	if v.StaffID != "" {
		st, err := tx.Staff().Find(ctx, audit.Scope{All: true}, v.StaffID)
		if err != nil {
			return nil, err
		}
		s.StaffID, s.StaffName, s.StaffNumber = st.ID, st.Name, st.EmployeeNumber
	}
	return s, nil
}
