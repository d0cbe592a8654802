package sqlite

import (
	"context"
	"errors"

	"github.com/shopscore/shopscore/server/storage"
)

// The nouns of storage.Nouns, on SQLite. Each is a rows value: bound to a
// transaction (reached from a Tx) or to the database (reached from the
// DB, when each call runs in a transaction of its own).

var (
	_ storage.Storage = (*DB)(nil)
	_ storage.Tx      = (*Tx)(nil)
)

// rows is what every noun's implementation holds: the database, and the
// transaction its calls belong to (nil: each call opens its own).
type rows struct {
	db *DB
	tx *Tx
}

// read runs fn in the bound transaction, or in a read snapshot of its own.
func (r rows) read(ctx context.Context, fn func(*Tx) error) error {
	if r.tx != nil {
		return fn(r.tx)
	}
	return r.db.view(ctx, fn)
}

// write runs fn in the bound transaction, which must be a write one, or
// in a write transaction of its own, committed before write returns.
func (r rows) write(ctx context.Context, fn func(*Tx) error) error {
	if r.tx != nil {
		if r.tx.readOnly {
			return errors.New("sqlite: a write inside a read-only transaction")
		}
		return fn(r.tx)
	}
	return r.db.update(ctx, fn)
}

// get is read for a query with one result.
func get[T any](ctx context.Context, r rows, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := r.read(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// put is write for a change with one result.
func put[T any](ctx context.Context, r rows, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := r.write(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// Update runs fn in one write transaction (storage.Storage).
func (db *DB) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return db.update(ctx, func(tx *Tx) error { return fn(tx) })
}

// Trial runs fn in one write transaction and rolls it back
// (storage.Storage).
func (db *DB) Trial(ctx context.Context, fn func(storage.Tx) error) error {
	return db.trial(ctx, func(tx *Tx) error { return fn(tx) })
}

// View runs fn in one read snapshot (storage.Storage).
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	return db.view(ctx, func(tx *Tx) error { return fn(tx) })
}

// userRows is storage.Users on SQLite.
type userRows struct{ rows }

// Users returns the users of the database, each call in its own transaction.
func (db *DB) Users() storage.Users { return userRows{rows{db: db}} }

// Users returns the users as this transaction sees them.
func (tx *Tx) Users() storage.Users { return userRows{rows{db: tx.db, tx: tx}} }

// sessionRows is storage.Sessions on SQLite.
type sessionRows struct{ rows }

// Sessions returns the sessions of the database, each call in its own transaction.
func (db *DB) Sessions() storage.Sessions { return sessionRows{rows{db: db}} }

// Sessions returns the sessions as this transaction sees them.
func (tx *Tx) Sessions() storage.Sessions { return sessionRows{rows{db: tx.db, tx: tx}} }

// securityEventRows is storage.SecurityEvents on SQLite.
type securityEventRows struct{ rows }

// SecurityEvents returns the securityEvents of the database, each call in its own transaction.
func (db *DB) SecurityEvents() storage.SecurityEvents { return securityEventRows{rows{db: db}} }

// SecurityEvents returns the securityEvents as this transaction sees them.
func (tx *Tx) SecurityEvents() storage.SecurityEvents {
	return securityEventRows{rows{db: tx.db, tx: tx}}
}

// storeRows is storage.Stores on SQLite.
type storeRows struct{ rows }

// Stores returns the stores of the database, each call in its own transaction.
func (db *DB) Stores() storage.Stores { return storeRows{rows{db: db}} }

// Stores returns the stores as this transaction sees them.
func (tx *Tx) Stores() storage.Stores { return storeRows{rows{db: tx.db, tx: tx}} }

// staffRows is storage.Staff on SQLite.
type staffRows struct{ rows }

// Staff returns the staff of the database, each call in its own transaction.
func (db *DB) Staff() storage.Staff { return staffRows{rows{db: db}} }

// Staff returns the staff as this transaction sees them.
func (tx *Tx) Staff() storage.Staff { return staffRows{rows{db: tx.db, tx: tx}} }

// orgSettingRows is storage.OrgSettings on SQLite.
type orgSettingRows struct{ rows }

// OrgSettings returns the orgSettings of the database, each call in its own transaction.
func (db *DB) OrgSettings() storage.OrgSettings { return orgSettingRows{rows{db: db}} }

// OrgSettings returns the orgSettings as this transaction sees them.
func (tx *Tx) OrgSettings() storage.OrgSettings { return orgSettingRows{rows{db: tx.db, tx: tx}} }

// checklistRows is storage.Checklists on SQLite.
type checklistRows struct{ rows }

// Checklists returns the checklists of the database, each call in its own transaction.
func (db *DB) Checklists() storage.Checklists { return checklistRows{rows{db: db}} }

// Checklists returns the checklists as this transaction sees them.
func (tx *Tx) Checklists() storage.Checklists { return checklistRows{rows{db: tx.db, tx: tx}} }

// assignmentRows is storage.Assignments on SQLite.
type assignmentRows struct{ rows }

// Assignments returns the assignments of the database, each call in its own transaction.
func (db *DB) Assignments() storage.Assignments { return assignmentRows{rows{db: db}} }

// Assignments returns the assignments as this transaction sees them.
func (tx *Tx) Assignments() storage.Assignments { return assignmentRows{rows{db: tx.db, tx: tx}} }

// visitRows is storage.Visits on SQLite.
type visitRows struct{ rows }

// Visits returns the visits of the database, each call in its own transaction.
func (db *DB) Visits() storage.Visits { return visitRows{rows{db: db}} }

// Visits returns the visits as this transaction sees them.
func (tx *Tx) Visits() storage.Visits { return visitRows{rows{db: tx.db, tx: tx}} }

// deviceRows is storage.Devices on SQLite.
type deviceRows struct{ rows }

// Devices returns the devices of the database, each call in its own transaction.
func (db *DB) Devices() storage.Devices { return deviceRows{rows{db: db}} }

// Devices returns the devices as this transaction sees them.
func (tx *Tx) Devices() storage.Devices { return deviceRows{rows{db: tx.db, tx: tx}} }

// feedRows is storage.Feed on SQLite.
type feedRows struct{ rows }

// Feed returns the feed of the database, each call in its own transaction.
func (db *DB) Feed() storage.Feed { return feedRows{rows{db: db}} }

// Feed returns the feed as this transaction sees them.
func (tx *Tx) Feed() storage.Feed { return feedRows{rows{db: tx.db, tx: tx}} }

// photoRows is storage.Photos on SQLite.
type photoRows struct{ rows }

// Photos returns the photos of the database, each call in its own transaction.
func (db *DB) Photos() storage.Photos { return photoRows{rows{db: db}} }

// Photos returns the photos as this transaction sees them.
func (tx *Tx) Photos() storage.Photos { return photoRows{rows{db: tx.db, tx: tx}} }

// bonusPolicyRows is storage.BonusPolicies on SQLite.
type bonusPolicyRows struct{ rows }

// BonusPolicies returns the bonusPolicies of the database, each call in its own transaction.
func (db *DB) BonusPolicies() storage.BonusPolicies { return bonusPolicyRows{rows{db: db}} }

// BonusPolicies returns the bonusPolicies as this transaction sees them.
func (tx *Tx) BonusPolicies() storage.BonusPolicies { return bonusPolicyRows{rows{db: tx.db, tx: tx}} }

// basePayRows is storage.BasePay on SQLite.
type basePayRows struct{ rows }

// BasePay returns the basePay of the database, each call in its own transaction.
func (db *DB) BasePay() storage.BasePay { return basePayRows{rows{db: db}} }

// BasePay returns the basePay as this transaction sees them.
func (tx *Tx) BasePay() storage.BasePay { return basePayRows{rows{db: tx.db, tx: tx}} }

// bonusRunRows is storage.BonusRuns on SQLite.
type bonusRunRows struct{ rows }

// BonusRuns returns the bonusRuns of the database, each call in its own transaction.
func (db *DB) BonusRuns() storage.BonusRuns { return bonusRunRows{rows{db: db}} }

// BonusRuns returns the bonusRuns as this transaction sees them.
func (tx *Tx) BonusRuns() storage.BonusRuns { return bonusRunRows{rows{db: tx.db, tx: tx}} }

// dashboardRows is storage.Dashboards on SQLite.
type dashboardRows struct{ rows }

// Dashboards returns the dashboards of the database, each call in its own transaction.
func (db *DB) Dashboards() storage.Dashboards { return dashboardRows{rows{db: db}} }

// Dashboards returns the dashboards as this transaction sees them.
func (tx *Tx) Dashboards() storage.Dashboards { return dashboardRows{rows{db: tx.db, tx: tx}} }

// auditReportRows is storage.AuditReports on SQLite.
type auditReportRows struct{ rows }

// AuditReports returns the auditReports of the database, each call in its own transaction.
func (db *DB) AuditReports() storage.AuditReports { return auditReportRows{rows{db: db}} }

// AuditReports returns the auditReports as this transaction sees them.
func (tx *Tx) AuditReports() storage.AuditReports { return auditReportRows{rows{db: tx.db, tx: tx}} }

// signingKeyRows is storage.SigningKeys on SQLite.
type signingKeyRows struct{ rows }

// SigningKeys returns the signing keys of the database, each call in its own transaction.
func (db *DB) SigningKeys() storage.SigningKeys { return signingKeyRows{rows{db: db}} }

// SigningKeys returns the signing keys as this transaction sees them.
func (tx *Tx) SigningKeys() storage.SigningKeys { return signingKeyRows{rows{db: tx.db, tx: tx}} }

// rateLimitRows is storage.RateLimits on SQLite.
type rateLimitRows struct{ rows }

// RateLimits returns the shared rate limits of the database, each call in its own transaction.
func (db *DB) RateLimits() storage.RateLimits { return rateLimitRows{rows{db: db}} }

// RateLimits returns the shared rate limits as this transaction sees them.
func (tx *Tx) RateLimits() storage.RateLimits { return rateLimitRows{rows{db: tx.db, tx: tx}} }
