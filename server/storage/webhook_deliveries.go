package storage

import (
	"context"
	"time"
)

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// The states of a delivery.
const (
	// DeliveryPending: an attempt is due at NextAt.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered: the endpoint accepted the event.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailing: the retries gave up; the endpoint was marked
	// failing.
	DeliveryFailing DeliveryState = "failing"
	// DeliveryUnsendable: the event can never be sent to the endpoint
	// (no usable URL or secret).
	DeliveryUnsendable DeliveryState = "unsendable"
)

// WebhookDelivery is one event due at, or delivered to, one endpoint.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	EventID    string
	EventType  string // the event's, joined
	State      DeliveryState
	// Attempts counts the attempts since the delivery was (re)queued.
	Attempts int
	// FirstAt is when the first of those attempts was made; zero before.
	FirstAt time.Time
	// NextAt is when the next attempt is due (DeliveryPending).
	NextAt    time.Time
	CreatedAt time.Time
	// The last attempt: its time, HTTP status (0 without an answer) and
	// error ("" when delivered).
	LastAt     time.Time
	LastStatus int
	LastError  string
}

// DeliveryAttempt is one attempt in an endpoint's delivery log.
type DeliveryAttempt struct {
	DeliveryID string
	Number     int
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int
	Excerpt    string
	Error      string
}

// Claim asks for up to Limit pending deliveries whose next attempt is due
// at Now, to enabled endpoints, whose lease (if any) ran out by Now; each
// is leased to Token until Until.
type Claim struct {
	Now, Until time.Time
	Token      string
	Limit      int
}

// ClaimedDelivery is a delivery leased to a worker, with what it needs to
// make the attempt.
type ClaimedDelivery struct {
	WebhookDelivery
	Endpoint WebhookEndpoint
	Body     []byte // the event's
	Lease    string // the claim's token
}

// DeliveryResult is what became of one attempt of a leased delivery.
type DeliveryResult struct {
	ID, Lease string
	Attempt   DeliveryAttempt
	State     DeliveryState
	FirstAt   time.Time
	NextAt    time.Time // when State is DeliveryPending
}

// DeliveryFilter selects an endpoint's deliveries, newest first.
type DeliveryFilter struct {
	EndpointID string
	// Before continues a listing after its last row.
	Before *DeliveryCursor
	Limit  int
}

// DeliveryCursor is a delivery's position in a listing.
type DeliveryCursor struct {
	CreatedAt time.Time
	ID        string
}

// WebhookDeliveries keeps the deliveries of events to endpoints, their
// leases and their attempts: the outbox the webhook workers read.
type WebhookDeliveries interface {
	// Add queues the event for each endpoint, due at the transaction's
	// time, with new delivery ids taken from ids (one per endpoint).
	Add(ctx context.Context, eventID string, endpointIDs, ids []string) error
	// Claim leases the due deliveries c asks for, oldest due first,
	// skipping any another worker holds, in a transaction of its own
	// when not called on a Tx (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
	// the single writer).
	Claim(ctx context.Context, c Claim) ([]*ClaimedDelivery, error)
	// Record stores the result of an attempt of a delivery still leased
	// to r.Lease: its new state and the attempt in the log, and ends the
	// lease. It reports false, storing nothing, when the lease is no
	// longer r.Lease (it ran out and another worker claimed it).
	Record(ctx context.Context, r DeliveryResult) (bool, error)
	// Find returns the delivery with this id. Errors: ENOTFOUND.
	Find(ctx context.Context, id string) (*WebhookDelivery, error)
	// List returns the deliveries that match f, newest first.
	List(ctx context.Context, f DeliveryFilter) ([]*WebhookDelivery, error)
	// Attempts returns the attempts of these deliveries, by delivery id,
	// oldest first.
	Attempts(ctx context.Context, deliveryIDs []string) (map[string][]DeliveryAttempt, error)
	// Requeue makes the delivery pending again, due at the transaction's
	// time, its attempts counted afresh and any lease ended; its log is
	// kept. Errors: ENOTFOUND.
	Requeue(ctx context.Context, id string) error
}
