package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// An appeal is the audited side's challenge of an approved visit
// (docs/DESIGN.md §10): one or more of its questions, each with a specific
// reason and optional evidence (photos, PDF documents such as a till
// receipt). A manager or HR user who did not review the visit rules on
// each question, upholding it with an amended answer or rejecting it with
// a reason, which closes the appeal. The visit's own answers are never
// edited: the upheld amendments are kept beside them and the visit is
// scored again on its answers with the amendments laid over them
// (AmendAnswers).

// AppealState is where an appeal is.
type AppealState string

// The states of an appeal.
const (
	AppealOpen   AppealState = "open"   // filed, waiting for a ruling
	AppealClosed AppealState = "closed" // ruled on every question
)

// AppealOutcome is the ruling on one question of an appeal.
type AppealOutcome string

// The outcomes of a question.
const (
	OutcomePending  AppealOutcome = ""         // not ruled yet
	OutcomeUpheld   AppealOutcome = "upheld"   // the appeal was right: the answer is amended
	OutcomeRejected AppealOutcome = "rejected" // the answer stands, for the ruling's reason
)

// DefaultAppealWindowDays is the appeal window of an organisation that set
// none: seven days after the visit's approval.
const DefaultAppealWindowDays = 7

// MaxAppealWindowDays bounds the appeal window an organisation may set.
const MaxAppealWindowDays = 365

// MaxAppealQuestions bounds the questions of one appeal, and
// MaxAppealEvidence the evidence files of one question.
const (
	MaxAppealQuestions = 200
	MaxAppealEvidence  = 20
)

// MaxEvidenceBytes bounds one evidence file of an appeal (a photo or a
// PDF), as MaxPhotoBytes bounds a visit's photo.
const MaxEvidenceBytes = MaxPhotoBytes

// AppealEvidenceTypes are the formats accepted as an appeal's evidence:
// the photo formats, and PDF for documents (a till receipt, a schedule).
// PDF is accepted here only, never as a visit's photo.
var AppealEvidenceTypes = append(slices.Clone(PhotoContentTypes), "application/pdf")

// Appeal is one appeal against one visit.
type Appeal struct {
	ID      string
	VisitID string
	// StoreID and StaffID are the visit's (StaffID empty when the visit
	// names nobody); VisitedAt is the visit's claimed start, by which
	// bonus runs find it.
	StoreID   string
	StaffID   string
	VisitedAt time.Time
	// FiledBy is the user who filed it, FiledRole his role then (a
	// manager on the staff member's behalf, or the staff member himself).
	FiledBy   string
	FiledRole Role
	FiledAt   time.Time
	// Deadline is when the appeal window of the visit closed (or
	// closes): no appeal is filed after it.
	Deadline  time.Time
	State     AppealState
	Questions []AppealQuestion
	// RuledBy, RuledRole and RuledAt say who ruled and when (zero while
	// open); ScoreBefore and ScoreAfter are the visit's overall percent
	// before and after the ruling (nil: the visit had no score).
	RuledBy     string
	RuledRole   Role
	RuledAt     time.Time
	ScoreBefore *float64
	ScoreAfter  *float64

	// Names for people, read with the appeal: the store's code and name,
	// the employee's name and number, the users' names.
	StoreCode, StoreName   string
	StaffName, StaffNumber string
	FiledByName            string
	RuledByName            string
}

// AppealQuestion is one question of an appeal: why the answer is wrong,
// the evidence, and the ruling.
type AppealQuestion struct {
	QuestionID string
	Reason     string
	Evidence   []AppealEvidence
	Outcome    AppealOutcome
	// Amended is the answer that replaces the visit's when upheld.
	Amended *Answer
	// RulingReason says why the question was upheld or rejected
	// (required for a rejection).
	RulingReason string
}

// AppealEvidence is one evidence file of an appeal question: the exact
// bytes it must be (hashed on the filer's device) and whether the server
// has verified them.
type AppealEvidence struct {
	Index       int
	SHA256      string // lower-case hex
	Size        int64
	ContentType string
	FileName    string
	Verified    bool
}

// QuestionRuling is a judge's ruling on one question.
type QuestionRuling struct {
	QuestionID string
	Outcome    AppealOutcome
	Amended    *Answer
	Reason     string
}

// AppealDeadline returns when the appeal window of a visit approved at
// approvedAt closes: at the end of the days-th day after the day of the
// approval, in the organisation's time zone loc (approved on 3 November
// with a 7-day window, the last day to appeal is 10 November).
func AppealDeadline(approvedAt time.Time, days int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := approvedAt.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+days+1, 0, 0, 0, 0, loc)
}

// CheckAppealWindow refuses an appeal filed at now against a visit
// approved at approvedAt, with a window of days in the organisation's
// time zone loc, once the window has closed. Errors: EPRECONDITION naming
// the last day of the window, in loc.
func CheckAppealWindow(visitID string, approvedAt, now time.Time, days int, loc *time.Location) error {
	end := AppealDeadline(approvedAt, days, loc)
	if now.Before(end) {
		return nil
	}
	last := end.AddDate(0, 0, -1)
	return Errorf(EPRECONDITION, "the appeal window of visit %s closed on %s: appeals are taken for %d day(s) after approval, and it was approved on %s",
		visitID, last.Format("2006-01-02"), days, approvedAt.In(end.Location()).Format("2006-01-02"))
}

// CheckJudge applies the four-eyes rule to the judge of an appeal: he must
// be a manager or HR user, not the filer, and none of the visit's
// reviewers (reviewers names each by id with a name for people). Errors:
// EFORBIDDEN naming the reviewer.
func CheckJudge(judge Principal, filedBy string, reviewers map[string]string) error {
	if judge.Role != RoleManager && judge.Role != RoleHR {
		return Errorf(EFORBIDDEN, "an appeal is ruled on by a manager or HR user, not a user with the %s role", judge.Role)
	}
	if name, ok := reviewers[judge.UserID]; ok {
		return Errorf(EFORBIDDEN, "%s reviewed this visit and cannot rule on its appeal: another manager or HR must (four eyes)", cmpOr(name, judge.UserID))
	}
	if judge.UserID == filedBy {
		return Errorf(EFORBIDDEN, "the filer of an appeal cannot rule on it: another manager or HR must")
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Validate checks an appeal as filed against the version its visit was
// recorded with: at least one question, each of the checklist, each once,
// each with a reason, its evidence well formed. Errors: EINVALID naming
// the question, EEXHAUSTED for too many questions or files.
func (a *Appeal) Validate(c *Checklist) error {
	if len(a.Questions) == 0 {
		return Errorf(EINVALID, "an appeal names at least one question")
	}
	if len(a.Questions) > MaxAppealQuestions {
		return Errorf(EEXHAUSTED, "an appeal names at most %d questions, not %d", MaxAppealQuestions, len(a.Questions))
	}
	seen := map[string]bool{}
	for i := range a.Questions {
		q := &a.Questions[i]
		where := fmt.Sprintf("appeal question %q", q.QuestionID)
		if _, _, ok := c.Question(q.QuestionID); !ok {
			return Errorf(EINVALID, "%s: the visit's checklist %s has no such question", where, c.ID)
		}
		if seen[q.QuestionID] {
			return Errorf(EINVALID, "%s: named twice", where)
		}
		seen[q.QuestionID] = true
		if err := checkLengths(where, text{"reason", q.Reason, MaxNoteLen}); err != nil {
			return err
		}
		if strings.TrimSpace(q.Reason) == "" {
			return Errorf(EINVALID, "%s: a specific reason is required (what was wrong with the answer, and why)", where)
		}
		if len(q.Evidence) > MaxAppealEvidence {
			return Errorf(EEXHAUSTED, "%s: at most %d evidence files, not %d", where, MaxAppealEvidence, len(q.Evidence))
		}
		for j := range q.Evidence {
			e := &q.Evidence[j]
			e.Index = j
			e.SHA256 = strings.ToLower(e.SHA256)
			if err := checkLengths(where, text{"file name", e.FileName, MaxFileNameLen}, text{"content type", e.ContentType, MaxCodeLen}); err != nil {
				return err
			}
			switch {
			case !isSHA256Hex(e.SHA256):
				return Errorf(EINVALID, "%s: evidence %d: %q is not a hex SHA-256", where, j, e.SHA256)
			case e.Size <= 0 || e.Size > MaxEvidenceBytes:
				return Errorf(EINVALID, "%s: evidence %d has size %d; want 1..%d bytes", where, j, e.Size, MaxEvidenceBytes)
			case !slices.Contains(AppealEvidenceTypes, e.ContentType):
				return Errorf(EINVALID, "%s: evidence %d has type %q; want one of %s", where, j, e.ContentType, strings.Join(AppealEvidenceTypes, ", "))
			}
		}
	}
	return nil
}

// ApplyRulings records rulings on every question of an open appeal,
// checking each against the checklist c of its visit: an upheld question
// carries an amended answer valid for its question (CheckAnswer), a
// rejected one a reason. Errors: EPRECONDITION (the appeal is closed),
// EINVALID (a question missing, unknown or ruled twice; an outcome
// without what it needs).
func (a *Appeal) ApplyRulings(c *Checklist, rulings []QuestionRuling) error {
	if a.State != AppealOpen {
		return Errorf(EPRECONDITION, "appeal %s was ruled on already (%s)", a.ID, a.RuledAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	by := map[string]*QuestionRuling{}
	for i := range rulings {
		r := &rulings[i]
		if by[r.QuestionID] != nil {
			return Errorf(EINVALID, "question %q: ruled twice", r.QuestionID)
		}
		if !slices.ContainsFunc(a.Questions, func(q AppealQuestion) bool { return q.QuestionID == r.QuestionID }) {
			return Errorf(EINVALID, "question %q is not one the appeal names", r.QuestionID)
		}
		by[r.QuestionID] = r
	}
	for i := range a.Questions {
		q := &a.Questions[i]
		label := q.QuestionID
		if cq, _, ok := c.Question(q.QuestionID); ok && cq.Text != "" {
			label = fmt.Sprintf("%s (%s)", q.QuestionID, cq.Text)
		}
		r := by[q.QuestionID]
		if r == nil {
			return Errorf(EINVALID, "question %s has no ruling: every question of the appeal is upheld or rejected at once", label)
		}
		if err := checkLengths("ruling on "+q.QuestionID, text{"reason", r.Reason, MaxNoteLen}); err != nil {
			return err
		}
		switch r.Outcome {
		case OutcomeUpheld:
			if r.Amended == nil {
				return Errorf(EINVALID, "question %s: an upheld question needs the amended answer", label)
			}
			am := *r.Amended
			am.QuestionID = q.QuestionID
			if errs := c.CheckAnswer(am); len(errs) > 0 {
				return Errorf(EINVALID, "question %s: the amended answer is not valid: %s", label, errs[0].Message)
			}
			q.Amended = &am
		case OutcomeRejected:
			if strings.TrimSpace(r.Reason) == "" {
				return Errorf(EINVALID, "question %s: a rejection needs a reason", label)
			}
			q.Amended = nil
		default:
			return Errorf(EINVALID, "question %s: outcome %q; want upheld or rejected", label, r.Outcome)
		}
		q.Outcome, q.RulingReason = r.Outcome, strings.TrimSpace(r.Reason)
	}
	return nil
}

// Upheld reports how many questions of the appeal were upheld.
func (a *Appeal) Upheld() int {
	n := 0
	for _, q := range a.Questions {
		if q.Outcome == OutcomeUpheld {
			n++
		}
	}
	return n
}

// AmendAnswers returns the answers of a visit with the amendments laid
// over them in order (a later amendment of a question replaces an
// earlier one): the answers the visit is scored on after its rulings.
// answers itself is not changed.
func AmendAnswers(answers []Answer, amendments []Answer) []Answer {
	out := slices.Clone(answers)
	for _, am := range amendments {
		if i := slices.IndexFunc(out, func(a Answer) bool { return a.QuestionID == am.QuestionID }); i >= 0 {
			out[i] = am
		} else {
			out = append(out, am)
		}
	}
	return out
}
