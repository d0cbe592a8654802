// Package storage is the contract between the server's use cases and a
// database: one interface per noun (users, visits, assignments, bonus
// runs, …), the rows, filters and pages they take and return, and the
// transaction boundary. It holds no rule and imports no driver: a rule
// lives in package app (or in the domain, package audit), and a backend
// (package sqlite; PostgreSQL later) only persists and queries. Every
// backend passes the conformance suite in storage/storagetest.
//
// Every noun is reached the same two ways. On a Storage each call runs in
// its own transaction (a read in one snapshot, a write committed before it
// returns); on a Tx every call belongs to that transaction, which the use
// case opened with Update, Trial or View and which commits or rolls back
// as a whole (docs/DESIGN.md §1).
package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Storage is a database: the nouns, each call in a transaction of its own,
// and transactions the caller controls.
type Storage interface {
	Nouns
	// Update runs fn in one write transaction and commits it when fn
	// returns nil; any error rolls everything fn did back. fn may run
	// more than once: a backend whose transactions can fail to serialize
	// (PostgreSQL) runs it again in a new transaction, so fn changes
	// nothing outside the transaction (no channel sends, no counters, no
	// files) and keeps its results in variables it sets afresh each run.
	Update(ctx context.Context, fn func(Tx) error) error
	// Trial runs fn in one write transaction and always rolls it back:
	// what fn would do, seen from inside, with nothing stored (an
	// import's validate-only run takes the same path as the real one).
	Trial(ctx context.Context, fn func(Tx) error) error
	// View runs fn in one read-only snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the database.
	Close() error
}

// Tx is one transaction: the nouns, every call inside it.
type Tx interface {
	Nouns
	// Now is the transaction's notion of the present, fixed when it
	// began: every time it stores is this one.
	Now() time.Time
	// Savepoint runs fn inside the transaction; when fn returns an error,
	// everything fn did is undone, the error is returned and the
	// transaction goes on (a push refuses one mutation, not the batch).
	Savepoint(ctx context.Context, fn func() error) error
}

// Nouns is what a Storage and a Tx have in common: one interface per
// noun of the domain.
type Nouns interface {
	Users() Users
	Sessions() Sessions
	SecurityEvents() SecurityEvents
	Stores() Stores
	Staff() Staff
	OrgSettings() OrgSettings
	Checklists() Checklists
	Assignments() Assignments
	Visits() Visits
	Devices() Devices
	Feed() Feed
	Photos() Photos
	BonusPolicies() BonusPolicies
	BasePay() BasePay
	BonusRuns() BonusRuns
	Dashboards() Dashboards
	AuditReports() AuditReports
	SigningKeys() SigningKeys
	RateLimits() RateLimits
	Outbox() Outbox
	WebhookEndpoints() WebhookEndpoints
	WebhookDeliveries() WebhookDeliveries
	Appeals() Appeals
	IntegrationTokens() IntegrationTokens
	Actions() Actions
	Notifications() Notifications
}

// ErrUnavailable is a backend's answer when the database could not be
// reached, or dropped the connection while a transaction ran (a restart, a
// network cut, the backend terminated): the transaction did not commit,
// unless the connection broke during the commit itself, when its outcome
// is unknown; the same call may succeed later. It is an EUNAVAILABLE
// domain error, so the server answers Unavailable and a device retries (a
// push's retry is a replay of whatever committed). Backends wrap it with
// the cause: test it with errors.Is.
var ErrUnavailable = audit.Errorf(audit.EUNAVAILABLE, "the database is unavailable for a moment; try again")
