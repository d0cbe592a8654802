package storage

import (
	"context"
	"iter"
	"time"

	"github.com/shopscore/shopscore/reports"
)

// BonusRunState is where a bonus run is in its approval.
type BonusRunState string

// The states of a bonus run.
const (
	RunDraft      BonusRunState = "draft"      // computed, not approved
	RunApproved   BonusRunState = "approved"   // locked: what payroll pays
	RunSuperseded BonusRunState = "superseded" // was approved; a later run replaced it
)

// BonusRun is a stored run of a bonus policy version for a month.
type BonusRun struct {
	ID            string
	PolicyID      string
	PolicyVersion int
	Period        string // "YYYY-MM"
	InputsHash    string
	// InputsStamp is the hex SHA-256 of what the run read with its
	// revisions (BonusRuns.InputsStamp): the visits that counted and
	// their revisions, the base pay rows and theirs, the staff. A run
	// whose stamp no longer matches the database is stale and cannot be
	// approved.
	InputsStamp string
	State       BonusRunState
	// Result is the reports.Run as stored, JSON: byte-identical for runs
	// with the same inputs. Run is the same, decoded.
	Result []byte
	Run    *reports.Run
	// MissingBasePay lists the covered employees (by employee number) who
	// had no base pay of the policy's kind for the month; they were paid
	// from 0.
	MissingBasePay []string
	// ComparedRunID is the approved run of the same policy and month that
	// existed when this one was computed; Changes are the differences
	// from it (reports.Diff), empty when the figures are the same.
	ComparedRunID string
	Changes       []reports.Change
	CreatedAt     time.Time
	CreatedBy     string
	ApprovedAt    time.Time
	ApprovedBy    string
	// OverrideReason is why the run was approved while appeals on visits
	// it read were open ("" when none were); OverriddenAppeals names
	// those appeals by id.
	OverrideReason    string
	OverriddenAppeals []string
	// CreatedByName and ApprovedByName name those users for people.
	CreatedByName  string
	ApprovedByName string
	// Reused is set by a bonus run's use case when the run was already
	// stored with the same inputs and stamp, and nothing new was stored;
	// it is never stored.
	Reused bool
}

// BonusRunFilter selects bonus runs; empty fields match any.
type BonusRunFilter struct {
	PolicyID string
	Period   string // "YYYY-MM"
}

// RunNames name what a run's explanation refers to by id: the stores by
// code and name, and the questions of each visit by their text.
type RunNames struct {
	Stores       map[string]reports.StoreName
	QuestionText func(visitID, questionID string) string
}

// NoStore stands for the store of an employee tied to no store: such an
// employee counts only the visits that name him.
const NoStore = "-"

// BonusRuns keeps bonus runs, their inputs, lines and approval.
type BonusRuns interface {
	// Employees returns the staff as the bonus engine sees them (an
	// employee of no store in NoStore), with the pay of the given kind in
	// force in month ("YYYY-MM"), and which of them (by staff id) have
	// such pay.
	Employees(ctx context.Context, kind, month string) ([]reports.Employee, map[string]bool, error)
	// Observations streams the scored answers of the period's visits that
	// count toward bonuses (audit.BonusStates), as the bonus engine
	// reads them, never more than a row at a time in memory. A visit that
	// names a staff member counts for him; one that names nobody is
	// store-level.
	Observations(ctx context.Context, period reports.Period) iter.Seq2[reports.Observation, error]
	// InputsStamp returns the hex SHA-256 of what a run of a policy of
	// the given base over period reads, with revisions: every visit that
	// counts (the rows of Observations) and its revision, which every
	// state or score change bumps; every base pay row of the kind up to
	// the month and its revision; and the staff fields the engine reads.
	// Two stamps are equal only when nothing a run reads was touched in
	// between.
	InputsStamp(ctx context.Context, kind string, period reports.Period) (string, error)

	// Find returns a stored run. Errors: ENOTFOUND.
	Find(ctx context.Context, id string) (*BonusRun, error)
	// List returns the runs that match (the period validated by the
	// caller), newest first, at most 500.
	List(ctx context.Context, f BonusRunFilter) ([]*BonusRun, error)
	// Approved returns the approved run of a policy and month, or nil.
	Approved(ctx context.Context, policyID, period string) (*BonusRun, error)
	// Same returns the runs of r's policy version and month, not
	// superseded, with r's inputs hash and stamp, newest first.
	Same(ctx context.Context, r *BonusRun) ([]*BonusRun, error)
	// Add stores r as created at the transaction's time.
	Add(ctx context.Context, r *BonusRun) error
	// Approve marks the run approved by the user by at the transaction's
	// time, with the reason for approving over open appeals and those
	// appeals (none: "" and nil); Supersede marks it superseded.
	Approve(ctx context.Context, id, by, overrideReason string, overridden []string) error
	Supersede(ctx context.Context, id string) error

	// PayrollEmployees returns the current display fields of the staff
	// (store codes rather than ids) for the payroll files.
	PayrollEmployees(ctx context.Context) ([]reports.Employee, error)
	// Names reads the names of what run's explanation lines refer to.
	Names(ctx context.Context, run *reports.Run) (*RunNames, error)
}
