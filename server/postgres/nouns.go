package postgres

import (
	"context"
	"errors"

	"github.com/shopscore/shopscore/server/storage"
)

// The nouns of storage.Nouns, on PostgreSQL. Each is a rows value bound
// to a transaction (reached from a Tx) or to the database (reached from
// the DB: each call runs in a transaction of its own).

// Every noun of storage.Nouns, and the transaction boundary:
var (
	_ storage.Storage = (*DB)(nil)
	_ storage.Tx      = (*Tx)(nil)

	_ storage.Users             = userRows{}
	_ storage.Sessions          = sessionRows{}
	_ storage.SecurityEvents    = securityEventRows{}
	_ storage.Stores            = storeRows{}
	_ storage.Staff             = staffRows{}
	_ storage.OrgSettings       = orgSettingRows{}
	_ storage.Checklists        = checklistRows{}
	_ storage.Assignments       = assignmentRows{}
	_ storage.Visits            = visitRows{}
	_ storage.Devices           = deviceRows{}
	_ storage.Feed              = feedRows{}
	_ storage.Photos            = photoRows{}
	_ storage.BonusPolicies     = bonusPolicyRows{}
	_ storage.BasePay           = basePayRows{}
	_ storage.BonusRuns         = bonusRunRows{}
	_ storage.Dashboards        = dashboardRows{}
	_ storage.AuditReports      = auditReportRows{}
	_ storage.SigningKeys       = signingKeyRows{}
	_ storage.RateLimits        = rateLimitRows{}
	_ storage.Outbox            = outboxRows{}
	_ storage.WebhookEndpoints  = webhookEndpointRows{}
	_ storage.WebhookDeliveries = webhookDeliveryRows{}
	_ storage.Appeals           = appealRows{}
	_ storage.IntegrationTokens = integrationTokenRows{}
	_ storage.Actions           = actionRows{}
	_ storage.Notifications     = notificationRows{}
)

// rows is what every noun's implementation holds: the database, and the
// transaction its calls belong to (nil: each call opens its own).
type rows struct {
	db *DB
	tx *Tx
}

// in returns the rows of the database bound to tx (nil: none).
func in(db *DB, tx *Tx) rows { return rows{db: db, tx: tx} }

// read runs fn in the bound transaction, or in a snapshot of its own.
func (r rows) read(ctx context.Context, fn func(*Tx) error) error {
	if r.tx != nil {
		return fn(r.tx)
	}
	return r.db.view(ctx, fn)
}

// write runs fn in the bound transaction, which must be a write one, or
// in a write transaction of its own, committed before write returns.
func (r rows) write(ctx context.Context, fn func(*Tx) error) error {
	if r.tx == nil {
		return r.db.update(ctx, fn)
	}
	if r.tx.readOnly {
		return errors.New("postgres: a write inside a read-only transaction")
	}
	return fn(r.tx)
}

// claim runs a claim of leased rows (webhook deliveries, e-mails) in the
// bound write transaction, or in a READ COMMITTED one of its own
// (DB.queue), in which FOR UPDATE SKIP LOCKED passes over the rows other
// servers' claims hold.
func (r rows) claim(ctx context.Context, fn func(*Tx) error) error {
	if r.tx == nil {
		return r.db.queue(ctx, fn)
	}
	if r.tx.readOnly {
		return errors.New("postgres: a claim inside a read-only transaction")
	}
	return fn(r.tx)
}

// query is read for a query with one result.
func query[T any](ctx context.Context, r rows, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := r.read(ctx, func(tx *Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	return out, err
}

// Update runs fn in one write transaction (storage.Storage). fn runs
// again, in a new transaction, when the database aborted the last one
// for a serialization conflict.
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

// userRows is storage.Users on PostgreSQL.
type userRows struct{ rows }

// Users returns the users, each call in a transaction of its own.
func (db *DB) Users() storage.Users { return userRows{in(db, nil)} }

// Users returns the users as this transaction sees them.
func (tx *Tx) Users() storage.Users { return userRows{in(tx.db, tx)} }

// sessionRows is storage.Sessions on PostgreSQL.
type sessionRows struct{ rows }

// Sessions returns the sessions, each call in a transaction of its own.
func (db *DB) Sessions() storage.Sessions { return sessionRows{in(db, nil)} }

// Sessions returns the sessions as this transaction sees them.
func (tx *Tx) Sessions() storage.Sessions { return sessionRows{in(tx.db, tx)} }

// securityEventRows is storage.SecurityEvents on PostgreSQL.
type securityEventRows struct{ rows }

// SecurityEvents returns the security events, each call in a transaction of its own.
func (db *DB) SecurityEvents() storage.SecurityEvents { return securityEventRows{in(db, nil)} }

// SecurityEvents returns the security events as this transaction sees them.
func (tx *Tx) SecurityEvents() storage.SecurityEvents { return securityEventRows{in(tx.db, tx)} }

// storeRows is storage.Stores on PostgreSQL.
type storeRows struct{ rows }

// Stores returns the stores, each call in a transaction of its own.
func (db *DB) Stores() storage.Stores { return storeRows{in(db, nil)} }

// Stores returns the stores as this transaction sees them.
func (tx *Tx) Stores() storage.Stores { return storeRows{in(tx.db, tx)} }

// staffRows is storage.Staff on PostgreSQL.
type staffRows struct{ rows }

// Staff returns the staff, each call in a transaction of its own.
func (db *DB) Staff() storage.Staff { return staffRows{in(db, nil)} }

// Staff returns the staff as this transaction sees them.
func (tx *Tx) Staff() storage.Staff { return staffRows{in(tx.db, tx)} }

// orgSettingRows is storage.OrgSettings on PostgreSQL.
type orgSettingRows struct{ rows }

// OrgSettings returns the organisation's settings, each call in a transaction of its own.
func (db *DB) OrgSettings() storage.OrgSettings { return orgSettingRows{in(db, nil)} }

// OrgSettings returns the organisation's settings as this transaction sees them.
func (tx *Tx) OrgSettings() storage.OrgSettings { return orgSettingRows{in(tx.db, tx)} }

// checklistRows is storage.Checklists on PostgreSQL.
type checklistRows struct{ rows }

// Checklists returns the checklists, each call in a transaction of its own.
func (db *DB) Checklists() storage.Checklists { return checklistRows{in(db, nil)} }

// Checklists returns the checklists as this transaction sees them.
func (tx *Tx) Checklists() storage.Checklists { return checklistRows{in(tx.db, tx)} }

// assignmentRows is storage.Assignments on PostgreSQL.
type assignmentRows struct{ rows }

// Assignments returns the assignments, each call in a transaction of its own.
func (db *DB) Assignments() storage.Assignments { return assignmentRows{in(db, nil)} }

// Assignments returns the assignments as this transaction sees them.
func (tx *Tx) Assignments() storage.Assignments { return assignmentRows{in(tx.db, tx)} }

// visitRows is storage.Visits on PostgreSQL.
type visitRows struct{ rows }

// Visits returns the visits, each call in a transaction of its own.
func (db *DB) Visits() storage.Visits { return visitRows{in(db, nil)} }

// Visits returns the visits as this transaction sees them.
func (tx *Tx) Visits() storage.Visits { return visitRows{in(tx.db, tx)} }

// deviceRows is storage.Devices on PostgreSQL.
type deviceRows struct{ rows }

// Devices returns the devices, each call in a transaction of its own.
func (db *DB) Devices() storage.Devices { return deviceRows{in(db, nil)} }

// Devices returns the devices as this transaction sees them.
func (tx *Tx) Devices() storage.Devices { return deviceRows{in(tx.db, tx)} }

// feedRows is storage.Feed on PostgreSQL.
type feedRows struct{ rows }

// Feed returns the pull feed, each call in a transaction of its own.
func (db *DB) Feed() storage.Feed { return feedRows{in(db, nil)} }

// Feed returns the pull feed as this transaction sees them.
func (tx *Tx) Feed() storage.Feed { return feedRows{in(tx.db, tx)} }

// photoRows is storage.Photos on PostgreSQL.
type photoRows struct{ rows }

// Photos returns the photos, each call in a transaction of its own.
func (db *DB) Photos() storage.Photos { return photoRows{in(db, nil)} }

// Photos returns the photos as this transaction sees them.
func (tx *Tx) Photos() storage.Photos { return photoRows{in(tx.db, tx)} }

// bonusPolicyRows is storage.BonusPolicies on PostgreSQL.
type bonusPolicyRows struct{ rows }

// BonusPolicies returns the bonus policies, each call in a transaction of its own.
func (db *DB) BonusPolicies() storage.BonusPolicies { return bonusPolicyRows{in(db, nil)} }

// BonusPolicies returns the bonus policies as this transaction sees them.
func (tx *Tx) BonusPolicies() storage.BonusPolicies { return bonusPolicyRows{in(tx.db, tx)} }

// basePayRows is storage.BasePay on PostgreSQL.
type basePayRows struct{ rows }

// BasePay returns the base pay, each call in a transaction of its own.
func (db *DB) BasePay() storage.BasePay { return basePayRows{in(db, nil)} }

// BasePay returns the base pay as this transaction sees them.
func (tx *Tx) BasePay() storage.BasePay { return basePayRows{in(tx.db, tx)} }

// bonusRunRows is storage.BonusRuns on PostgreSQL.
type bonusRunRows struct{ rows }

// BonusRuns returns the bonus runs, each call in a transaction of its own.
func (db *DB) BonusRuns() storage.BonusRuns { return bonusRunRows{in(db, nil)} }

// BonusRuns returns the bonus runs as this transaction sees them.
func (tx *Tx) BonusRuns() storage.BonusRuns { return bonusRunRows{in(tx.db, tx)} }

// dashboardRows is storage.Dashboards on PostgreSQL.
type dashboardRows struct{ rows }

// Dashboards returns the dashboards, each call in a transaction of its own.
func (db *DB) Dashboards() storage.Dashboards { return dashboardRows{in(db, nil)} }

// Dashboards returns the dashboards as this transaction sees them.
func (tx *Tx) Dashboards() storage.Dashboards { return dashboardRows{in(tx.db, tx)} }

// auditReportRows is storage.AuditReports on PostgreSQL.
type auditReportRows struct{ rows }

// AuditReports returns the audit reports, each call in a transaction of its own.
func (db *DB) AuditReports() storage.AuditReports { return auditReportRows{in(db, nil)} }

// AuditReports returns the audit reports as this transaction sees them.
func (tx *Tx) AuditReports() storage.AuditReports { return auditReportRows{in(tx.db, tx)} }

// signingKeyRows is storage.SigningKeys on PostgreSQL.
type signingKeyRows struct{ rows }

// SigningKeys returns the signing keys, each call in a transaction of its own.
func (db *DB) SigningKeys() storage.SigningKeys { return signingKeyRows{in(db, nil)} }

// SigningKeys returns the signing keys as this transaction sees them.
func (tx *Tx) SigningKeys() storage.SigningKeys { return signingKeyRows{in(tx.db, tx)} }

// rateLimitRows is storage.RateLimits on PostgreSQL.
type rateLimitRows struct{ rows }

// RateLimits returns the shared rate limits, each call in a transaction of its own.
func (db *DB) RateLimits() storage.RateLimits { return rateLimitRows{in(db, nil)} }

// RateLimits returns the shared rate limits as this transaction sees them.
func (tx *Tx) RateLimits() storage.RateLimits { return rateLimitRows{in(tx.db, tx)} }

// outboxRows is storage.Outbox on PostgreSQL.
type outboxRows struct{ rows }

// Outbox returns the event outbox, each call in a transaction of its own.
func (db *DB) Outbox() storage.Outbox { return outboxRows{in(db, nil)} }

// Outbox returns the event outbox as this transaction sees it.
func (tx *Tx) Outbox() storage.Outbox { return outboxRows{in(tx.db, tx)} }

// webhookEndpointRows is storage.WebhookEndpoints on PostgreSQL.
type webhookEndpointRows struct{ rows }

// WebhookEndpoints returns the webhook endpoints, each call in a transaction of its own.
func (db *DB) WebhookEndpoints() storage.WebhookEndpoints { return webhookEndpointRows{in(db, nil)} }

// WebhookEndpoints returns the webhook endpoints as this transaction sees them.
func (tx *Tx) WebhookEndpoints() storage.WebhookEndpoints { return webhookEndpointRows{in(tx.db, tx)} }

// webhookDeliveryRows is storage.WebhookDeliveries on PostgreSQL.
type webhookDeliveryRows struct{ rows }

// WebhookDeliveries returns the webhook deliveries, each call in a transaction of its own.
func (db *DB) WebhookDeliveries() storage.WebhookDeliveries { return webhookDeliveryRows{in(db, nil)} }

// WebhookDeliveries returns the webhook deliveries as this transaction sees them.
func (tx *Tx) WebhookDeliveries() storage.WebhookDeliveries {
	return webhookDeliveryRows{in(tx.db, tx)}
}

// notificationRows is storage.Notifications on PostgreSQL.
type notificationRows struct{ rows }

// Notifications returns the e-mail preferences and queue, each call in a
// transaction of its own.
func (db *DB) Notifications() storage.Notifications { return notificationRows{in(db, nil)} }

// Notifications returns the e-mail preferences and queue as this
// transaction sees them.
func (tx *Tx) Notifications() storage.Notifications { return notificationRows{in(tx.db, tx)} }
