package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
)

// AuditSelection selects the visits of an audit report: those in scope
// visited in [From, To), of one store (by id) or one region, or of every
// store in scope, in every state but superseded.
type AuditSelection struct {
	Scope    audit.Scope
	StoreID  string
	Region   string
	From, To time.Time
}

// AuditPhoto is a photo of a visit of the audit workbook, as stored: the
// row without its link or note, which the caller writes.
type AuditPhoto struct {
	reports.EvidenceRow
	Index int // the photo's place among its question's
	// Verified is set once the bytes were uploaded and checked.
	Verified bool
	// OtherVisits counts the other visits that hold the same photo.
	OtherVisits int
}

// AuditReports answers the audit workbook's and the report index's queries.
// The row queries stream, in visit time order, to fn, which must copy what
// it keeps of a row passed by pointer: the row is reused. An error from fn
// stops the query and is returned.
type AuditReports interface {
	// Index indexes every stored visit that has no report rows yet, and
	// returns how many it indexed: reports call it before they read, so
	// that a visit stored by any path is counted. On a Storage it works in
	// short write transactions of its own, checking only the visits
	// stored since its last check.
	Index(ctx context.Context) (int, error)
	// Store returns the id and name of the store in scope with the code.
	// Errors: ENOTFOUND.
	Store(ctx context.Context, scope audit.Scope, code string) (id, name string, err error)
	// Count returns how many visits, answers and photos s selects.
	Count(ctx context.Context, s AuditSelection) (visits, answers, photos int64, err error)
	// Scores streams the visits s selects with their store code, time and
	// points only, unordered: the trend before a period.
	Scores(ctx context.Context, s AuditSelection, fn func(reports.VisitRow) error) error
	// Visits streams the visits s selects, by time, their store by code
	// and name, their shopper and staff member by name.
	Visits(ctx context.Context, s AuditSelection, fn func(reports.VisitRow) error) error
	// Answers streams the answers of the visits s selects, by visit time
	// and question order, with each question's and clause's text from the
	// checklist version the visit was recorded with, and the staff member
	// by label.
	Answers(ctx context.Context, s AuditSelection, fn func(*reports.AnswerRow) error) error
	// Photos streams the photos of the visits s selects, by visit time,
	// question and place.
	Photos(ctx context.Context, s AuditSelection, fn func(*AuditPhoto) error) error
	// ExportEnd returns the export position of the last of up to limit
	// visits in scope after position after, and how many there are
	// (after itself and 0 when none): the end of one export response,
	// known before its first row is written. A visit's export position is
	// taken when it is stored and again when its state or score changes.
	// On PostgreSQL only positions below the oldest transaction in
	// flight are read (as the pull feed's), so a change committed late is
	// never behind a position returned before it committed. The count
	// stops before the first visit without report rows (call Index
	// first). Positions are FeedPos values: Tx is 0 on SQLite.
	ExportEnd(ctx context.Context, scope audit.Scope, after FeedPos, limit int) (FeedPos, int, error)
	// Export returns up to limit visits in scope whose export position
	// is after after and at most through, in export order, each with its
	// answers in question order.
	Export(ctx context.Context, scope audit.Scope, after, through FeedPos, limit int) ([]*ExportVisit, error)
}

// ExportVisit is a visit of the incremental export with its names.
type ExportVisit struct {
	Pos              FeedPos
	VisitID          string
	State            string
	StoreID          string
	StoreCode        string
	StoreName        string
	StaffID          string // "" when the visit names no employee
	StaffName        string
	StaffNumber      string
	ChecklistID      string
	ChecklistVersion int
	VisitedAt        time.Time
	Points, Max      float64
	CriticalFailed   bool
	Answers          []ExportAnswer
}

// ExportAnswer is one answer of an exported visit, as report indexing
// stored it (visit_answers).
type ExportAnswer struct {
	QuestionID    string
	StandardCode  string
	Category      string
	Points, Max   float64
	NotApplicable bool
	Failed        bool
	Critical      bool
	Answer        string
	Note          string
}
