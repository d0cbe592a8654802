package webhook

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/shopscore/shopscore/internal/fanout"
)

// Defaults of a Worker.
const (
	DefaultBatch       = 16
	DefaultConcurrency = 4
	DefaultPoll        = time.Second
)

// Delivery is one message due at one endpoint, as the Source hands it
// out.
type Delivery struct {
	Endpoint Endpoint
	Message  Message
	Attempts int       // attempts made before this one
	First    time.Time // when the first attempt was made; zero before it
	// Claim is the Source's own handle of the delivery (storage: its
	// row and lease), handed back to Record; the Worker never reads it.
	Claim string
}

// State is where a delivery stands after an attempt.
type State int

const (
	// Delivered: the endpoint accepted the message; nothing more to do.
	Delivered State = iota + 1
	// Retry: the attempt failed; the next is due at Result.Next.
	Retry
	// Failing: the attempt failed and the schedule gives up; the
	// delivery stops and its endpoint is marked failing.
	Failing
	// Unsendable: the message can never be sent (its body is not JSON,
	// its id is malformed, the endpoint has no active secret or no
	// usable URL); the delivery stops, the endpoint is not to blame.
	Unsendable
)

func (s State) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Failing:
		return "failing"
	case Unsendable:
		return "unsendable"
	}
	return "unknown"
}

// Result is an attempt and what follows from it.
type Result struct {
	Attempt DeliveryAttempt
	State   State
	Next    time.Time // when State is Retry
	First   time.Time // when the delivery's first attempt was made
}

// Source is where a Worker finds due deliveries and records what became of
// them; storage implements it over the event outbox.
//
// Due claims for this worker up to limit deliveries whose next attempt is
// due at now (none that another worker holds: SKIP LOCKED on PostgreSQL,
// the single writer on SQLite), for a lease long enough for one attempt
// (the Sender's timeout and some). A delivery whose lease runs out before
// Record is called (its server died) is due again, so every message is
// delivered at least once and receivers remove duplicates by its id.
//
// Record stores the attempt in the endpoint's delivery log and the
// delivery's new state in one transaction: on Retry the next attempt time,
// on Failing the end of the delivery and the endpoint marked failing.
type Source interface {
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	Record(ctx context.Context, d Delivery, r Result) error
}

// Worker delivers what its Source says is due.
type Worker struct {
	Source   Source
	Sender   *Sender
	Schedule Schedule

	Batch       int           // deliveries claimed at once; DefaultBatch if zero
	Concurrency int           // attempts in flight at once; DefaultConcurrency if zero
	Poll        time.Duration // wait when nothing is due; DefaultPoll if zero

	Now    func() time.Time // the clock; time.Now if nil
	Jitter func() float64   // a number in [0, 1); math/rand/v2's Float64 if nil
	Log    *slog.Logger     // slog.Default() if nil
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// Run delivers until ctx is done, waiting Poll whenever nothing is due or
// the Source fails (the failure is logged). It returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	poll := w.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("webhook deliveries", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// RunOnce claims one batch of due deliveries, makes one attempt of each
// (Concurrency at a time) and records the results. It returns how many it
// claimed and the errors of the Source, joined; a delivery whose result
// could not be recorded, or whose attempt ctx cut short, is due again when
// its lease runs out.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	due, err := w.Source.Due(ctx, w.now(), batch)
	if err != nil {
		return 0, err
	}
	conc := w.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	err = fanout.Each(due, conc, func(d Delivery) error {
		r := w.deliver(ctx, d)
		if ctx.Err() != nil {
			// Stopping: an attempt cut short is not the endpoint's
			// failure. It stays unrecorded and is due again when its
			// lease runs out.
			return nil
		}
		return w.Source.Record(ctx, d, r)
	})
	return len(due), err
}

// deliver makes one attempt of d and decides what follows.
func (w *Worker) deliver(ctx context.Context, d Delivery) Result {
	n := d.Attempts + 1
	a, err := w.Sender.Attempt(ctx, d.Endpoint, d.Message, n)
	first := d.First
	if first.IsZero() {
		first = a.Start
	}
	if err != nil {
		start := w.now()
		if first.IsZero() {
			first = start
		}
		return Result{Attempt: DeliveryAttempt{Number: n, Start: start, Error: err.Error()}, State: Unsendable, First: first}
	}
	if a.Delivered() {
		return Result{Attempt: a, State: Delivered, First: first}
	}
	jitter := rand.Float64
	if w.Jitter != nil {
		jitter = w.Jitter
	}
	next, ok := w.Schedule.Next(n, first, a.Start, jitter())
	if !ok {
		return Result{Attempt: a, State: Failing, First: first}
	}
	return Result{Attempt: a, State: Retry, Next: next, First: first}
}
