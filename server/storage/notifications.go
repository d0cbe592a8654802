package storage

import (
	"context"
	"time"
)

// NotificationPrefs are a user's choices about e-mail (docs/DESIGN.md
// §12). The zero value is the default: messages in the organisation's
// language, e-mail on, no digest.
type NotificationPrefs struct {
	Language string // "ru", "en", or "" for the organisation's locale
	EmailOff bool   // opted out of every e-mail
	Digest   bool   // the day's messages in one e-mail
}

// NotificationState is where a queued e-mail stands.
type NotificationState string

// The states of a queued e-mail.
const (
	// NotificationPending: to be sent at NextAt.
	NotificationPending NotificationState = "pending"
	// NotificationSent: the SMTP server took it.
	NotificationSent NotificationState = "sent"
	// NotificationFailed: given up (a permanent refusal, or transient
	// failures for longer than the retry window); LastError says why.
	NotificationFailed NotificationState = "failed"
	// NotificationDropped: not sent because its recipient opted out, was
	// disabled or has no address by the time it was due.
	NotificationDropped NotificationState = "dropped"
)

// Notification is one e-mail to one user: one item, or a digest's items.
type Notification struct {
	ID     string
	UserID string
	// Digest holds the message for the user's daily digest, due at NextAt
	// (the digest hour); the items of one user's digest share one row.
	Digest bool
	// Items is a JSON array, one element per thing to tell (package app
	// writes and reads them: a notify event and its kind, rendered when
	// the e-mail is sent, in the recipient's language of that moment).
	Items     []byte
	State     NotificationState
	Attempts  int
	FirstAt   time.Time // the first attempt; zero before it
	NextAt    time.Time // when the next attempt is due (pending)
	CreatedAt time.Time
	SentAt    time.Time // when it was sent, failed or dropped
	LastError string
}

// ClaimedNotification is a queued e-mail leased to a worker.
type ClaimedNotification struct {
	Notification
	Lease string // the claim's token
}

// NotificationResult is what became of one attempt of a leased e-mail:
// pending again at NextAt, or sent, failed or dropped at At.
type NotificationResult struct {
	ID, Lease string
	State     NotificationState
	Attempts  int
	FirstAt   time.Time
	NextAt    time.Time // when State is NotificationPending
	At        time.Time
	Error     string
}

// NotificationFilter selects a user's e-mails, oldest first.
type NotificationFilter struct {
	UserID string
	Limit  int
}

// Notifications keeps the users' e-mail preferences and the queue of
// e-mails to send (the mail outbox): rows added in the transaction of the
// change they tell of, claimed under a lease by the sender workers of
// every server.
type Notifications interface {
	// Prefs returns a user's preferences; the zero value when he never
	// set any.
	Prefs(ctx context.Context, userID string) (NotificationPrefs, error)
	// SetPrefs stores a user's preferences, validated by the caller.
	SetPrefs(ctx context.Context, userID string, p NotificationPrefs) error
	// Add queues n (ID, UserID, Digest, Items, NextAt set by the caller)
	// at the transaction's time. A digest whose user has a pending
	// digest due at the same NextAt is not stored as a row of its own:
	// the elements of its Items are appended to that one's.
	Add(ctx context.Context, n *Notification) error
	// Claim leases the pending e-mails due at c.Now whose lease ran out,
	// earliest due first, skipping any another worker holds, in a
	// transaction of its own when not called on a Tx (PostgreSQL: FOR
	// UPDATE SKIP LOCKED; SQLite: the single writer).
	Claim(ctx context.Context, c Claim) ([]*ClaimedNotification, error)
	// Record stores the result of an attempt of an e-mail still leased
	// to r.Lease and ends the lease. It reports false, storing nothing,
	// when the lease is no longer r.Lease.
	Record(ctx context.Context, r NotificationResult) (bool, error)
	// List returns a user's e-mails, oldest first.
	List(ctx context.Context, f NotificationFilter) ([]*Notification, error)
	// Mark records that the reminder key was sent to a user on day
	// ("2026-03-05"), and reports whether it was the first time: a
	// daily reminder is queued by one server, once.
	Mark(ctx context.Context, userID, key, day string) (bool, error)
	// Prune deletes up to limit e-mails sent, failed or dropped before
	// before, and the reminder marks older than before, and returns how
	// many e-mails went.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}
