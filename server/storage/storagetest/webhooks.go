package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// WebhookNouns are the outbox and webhook nouns of one fresh, empty
// database, each call in a transaction of its own.
type WebhookNouns struct {
	Outbox     storage.Outbox
	Endpoints  storage.WebhookEndpoints
	Deliveries storage.WebhookDeliveries
	// Update runs fn on the nouns of one write transaction, committed
	// when fn returns nil and rolled back otherwise.
	Update func(ctx context.Context, fn func(storage.Outbox, storage.WebhookDeliveries) error) error
	// SetNow sets the database's clock.
	SetNow func(time.Time)
	// Again opens the same database once more, as another server would
	// (its clock is the first one's).
	Again func(t *testing.T) storage.WebhookDeliveries
}

// RunWebhooks runs the suite of storage.Outbox, storage.WebhookEndpoints
// and storage.WebhookDeliveries; open returns a fresh, empty database
// each call.
func RunWebhooks(t *testing.T, open func(t *testing.T) WebhookNouns) {
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open(t)) })
	t.Run("Endpoints", func(t *testing.T) { testEndpoints(t, open(t)) })
	t.Run("Deliveries", func(t *testing.T) { testDeliveries(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("ClaimsOfTwoServers", func(t *testing.T) { testClaimsOfTwoServers(t, open(t)) })
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func testOutbox(t *testing.T, n WebhookNouns) {
	ctx := context.Background()
	n.SetNow(t0)
	a := &storage.Event{ID: "evt_a", Type: "visit.approved", Body: []byte(`{"b": 1, "a": "Тверская"}`)}
	require.NoError(t, n.Outbox.Add(ctx, a))
	assert.Equal(t, t0, a.CreatedAt)
	requireCode(t, audit.EEXISTS, n.Outbox.Add(ctx, &storage.Event{ID: "evt_a", Type: "x", Body: []byte(`{}`)}))

	// An event added in a transaction that rolls back is gone with it.
	errLater := errors.New("the change failed after its event was written")
	err := n.Update(ctx, func(o storage.Outbox, _ storage.WebhookDeliveries) error {
		if err := o.Add(ctx, &storage.Event{ID: "evt_rolled_back", Type: "visit.approved", Body: []byte(`{}`)}); err != nil {
			return err
		}
		return errLater
	})
	require.ErrorIs(t, err, errLater)
	_, err = n.Outbox.Find(ctx, "evt_rolled_back")
	requireCode(t, audit.ENOTFOUND, err)

	n.SetNow(t0.Add(time.Second))
	b := &storage.Event{ID: "evt_b", Type: "visit.returned", Body: []byte(`{}`)}
	require.NoError(t, n.Outbox.Add(ctx, b))
	got, err := n.Outbox.Find(ctx, "evt_a")
	require.NoError(t, err)
	assert.Equal(t, `{"b": 1, "a": "Тверская"}`, string(got.Body), "the body keeps its bytes")
	assert.Equal(t, a.Seq, got.Seq)
	all, err := n.Outbox.List(ctx, storage.OutboxFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{"evt_a", "evt_b"}, []string{all[0].ID, all[1].ID})
	after, err := n.Outbox.List(ctx, storage.OutboxFilter{AfterSeq: a.Seq})
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.Equal(t, "evt_b", after[0].ID)
	typed, err := n.Outbox.List(ctx, storage.OutboxFilter{Types: []string{"visit.approved"}, Limit: 5})
	require.NoError(t, err)
	require.Len(t, typed, 1)
	assert.Equal(t, "evt_a", typed[0].ID)
}

func mustEndpoint(t *testing.T, n WebhookNouns, id string, types ...string) *storage.WebhookEndpoint {
	t.Helper()
	e := &storage.WebhookEndpoint{ID: id, URL: "https://hooks.example.com/" + id, EventTypes: types,
		Secrets: []storage.WebhookSecret{{Secret: "whsec_" + id}}, CreatedBy: "admin"}
	require.NoError(t, n.Endpoints.Add(context.Background(), e))
	return e
}

func testEndpoints(t *testing.T, n WebhookNouns) {
	ctx := context.Background()
	n.SetNow(t0)
	a := mustEndpoint(t, n, "ep-a", "visit.approved", "visit.returned")
	b := mustEndpoint(t, n, "ep-b", "visit.returned")
	requireCode(t, audit.EEXISTS, n.Endpoints.Add(ctx, &storage.WebhookEndpoint{ID: "ep-a", URL: "https://x", EventTypes: []string{}}))

	got, err := n.Endpoints.Find(ctx, "ep-a")
	require.NoError(t, err)
	assert.Equal(t, a, got)
	_, err = n.Endpoints.Find(ctx, "nowhere")
	requireCode(t, audit.ENOTFOUND, err)

	sub := func(typ string) []string {
		ids, err := n.Endpoints.Subscribed(ctx, typ)
		require.NoError(t, err)
		return ids
	}
	assert.Equal(t, []string{"ep-a", "ep-b"}, sub("visit.returned"))
	assert.Equal(t, []string{"ep-a"}, sub("visit.approved"))
	assert.Empty(t, sub("visit.approve"), "a type is matched whole")

	n.SetNow(t0.Add(time.Hour))
	retires := t0.Add(25 * time.Hour)
	b.Description, b.URL, b.EventTypes, b.Disabled = "Отчёты", "https://other.example.com/", []string{"visit.approved"}, true
	b.Secrets = []storage.WebhookSecret{{Secret: "whsec_old", Retires: retires}, {Secret: "whsec_new"}}
	require.NoError(t, n.Endpoints.Update(ctx, b))
	got, err = n.Endpoints.Find(ctx, "ep-b")
	require.NoError(t, err)
	assert.Equal(t, "Отчёты", got.Description)
	assert.True(t, got.Disabled)
	assert.Equal(t, b.Secrets, got.Secrets)
	assert.Equal(t, t0.Add(time.Hour), got.UpdatedAt)
	assert.Equal(t, t0, got.CreatedAt)
	assert.Equal(t, []string{"ep-a", "ep-b"}, sub("visit.approved"), "disabled endpoints are listed too")
	requireCode(t, audit.ENOTFOUND, n.Endpoints.Update(ctx, &storage.WebhookEndpoint{ID: "nowhere"}))

	require.NoError(t, n.Endpoints.SetFailing(ctx, "ep-a", t0.Add(2*time.Hour)))
	got, err = n.Endpoints.Find(ctx, "ep-a")
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2*time.Hour), got.FailingSince)
	require.NoError(t, n.Endpoints.SetFailing(ctx, "ep-a", time.Time{}))
	got, err = n.Endpoints.Find(ctx, "ep-a")
	require.NoError(t, err)
	assert.True(t, got.FailingSince.IsZero())
	requireCode(t, audit.ENOTFOUND, n.Endpoints.SetFailing(ctx, "nowhere", t0))

	list, err := n.Endpoints.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "ep-a", list[0].ID)
	require.NoError(t, n.Endpoints.Delete(ctx, "ep-a"))
	requireCode(t, audit.ENOTFOUND, n.Endpoints.Delete(ctx, "ep-a"))
	assert.Equal(t, []string{"ep-b"}, sub("visit.approved"))
}

func testDeliveries(t *testing.T, n WebhookNouns) {
	ctx := context.Background()
	n.SetNow(t0)
	mustEndpoint(t, n, "ep-a", "visit.approved")
	off := mustEndpoint(t, n, "ep-off", "visit.approved")
	off.Disabled = true
	require.NoError(t, n.Endpoints.Update(ctx, off))
	require.NoError(t, n.Update(ctx, func(o storage.Outbox, d storage.WebhookDeliveries) error {
		if err := o.Add(ctx, &storage.Event{ID: "evt_1", Type: "visit.approved", Body: []byte(`{"n":1}`)}); err != nil {
			return err
		}
		return d.Add(ctx, "evt_1", []string{"ep-a", "ep-off"}, []string{"d-1a", "d-1off"})
	}))
	n.SetNow(t0.Add(time.Second))
	require.NoError(t, n.Update(ctx, func(o storage.Outbox, d storage.WebhookDeliveries) error {
		if err := o.Add(ctx, &storage.Event{ID: "evt_2", Type: "visit.approved", Body: []byte(`{"n":2}`)}); err != nil {
			return err
		}
		return d.Add(ctx, "evt_2", []string{"ep-a"}, []string{"d-2a"})
	}))

	// Not due yet, then due: the disabled endpoint's delivery waits.
	none, err := n.Deliveries.Claim(ctx, storage.Claim{Now: t0.Add(-time.Second), Until: t0.Add(time.Minute), Token: "early", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, none)
	now := t0.Add(time.Minute)
	claimed, err := n.Deliveries.Claim(ctx, storage.Claim{Now: now, Until: now.Add(time.Minute), Token: "w1", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	c := claimed[0]
	assert.Equal(t, "d-1a", c.ID)
	assert.Equal(t, "evt_1", c.EventID)
	assert.Equal(t, "visit.approved", c.EventType)
	assert.Equal(t, `{"n":1}`, string(c.Body))
	assert.Equal(t, "https://hooks.example.com/ep-a", c.Endpoint.URL)
	assert.Equal(t, []storage.WebhookSecret{{Secret: "whsec_ep-a"}}, c.Endpoint.Secrets)
	assert.Equal(t, "w1", c.Lease)
	assert.Equal(t, 0, c.Attempts)
	again, err := n.Deliveries.Claim(ctx, storage.Claim{Now: now, Until: now.Add(time.Minute), Token: "w2", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, again, "leased deliveries are not claimed twice")

	// A retry, recorded under the lease.
	attempt := storage.DeliveryAttempt{Number: 1, StartedAt: now, Duration: 150 * time.Millisecond, StatusCode: 503, Excerpt: "занято", Error: "HTTP 503"}
	ok, err := n.Deliveries.Record(ctx, storage.DeliveryResult{ID: "d-1a", Lease: "w2", Attempt: attempt, State: storage.DeliveryPending})
	require.NoError(t, err)
	assert.False(t, ok, "another lease's result is not stored")
	ok, err = n.Deliveries.Record(ctx, storage.DeliveryResult{ID: "d-1a", Lease: "w1", Attempt: attempt, State: storage.DeliveryPending,
		FirstAt: now, NextAt: now.Add(10 * time.Second)})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = n.Deliveries.Record(ctx, storage.DeliveryResult{ID: "d-1a", Lease: "w1", Attempt: attempt, State: storage.DeliveryPending})
	require.NoError(t, err)
	assert.False(t, ok, "a lease ends with its result")
	d, err := n.Deliveries.Find(ctx, "d-1a")
	require.NoError(t, err)
	assert.Equal(t, storage.DeliveryPending, d.State)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, now, d.FirstAt)
	assert.Equal(t, now.Add(10*time.Second), d.NextAt)
	assert.Equal(t, 503, d.LastStatus)
	assert.Equal(t, "HTTP 503", d.LastError)
	assert.Equal(t, now, d.LastAt)

	// d-2a's lease runs out unrecorded (its server died): due again.
	later := now.Add(2 * time.Minute)
	claimed, err = n.Deliveries.Claim(ctx, storage.Claim{Now: later, Until: later.Add(time.Minute), Token: "w3", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	assert.Equal(t, []string{"d-2a", "d-1a"}, []string{claimed[0].ID, claimed[1].ID}, "the earliest due first")
	assert.Equal(t, 1, claimed[1].Attempts)
	assert.Equal(t, now, claimed[1].FirstAt)
	ok, err = n.Deliveries.Record(ctx, storage.DeliveryResult{ID: "d-2a", Lease: "w1", Attempt: attempt, State: storage.DeliveryDelivered})
	require.NoError(t, err)
	assert.False(t, ok, "the lease that ran out records nothing")
	delivered := storage.DeliveryAttempt{Number: 2, StartedAt: later, Duration: time.Millisecond, StatusCode: 204}
	for _, id := range []string{"d-1a", "d-2a"} {
		ok, err = n.Deliveries.Record(ctx, storage.DeliveryResult{ID: id, Lease: "w3", Attempt: delivered, State: storage.DeliveryDelivered, FirstAt: now})
		require.NoError(t, err)
		assert.True(t, ok)
	}
	none, err = n.Deliveries.Claim(ctx, storage.Claim{Now: later.Add(time.Hour), Until: later.Add(2 * time.Hour), Token: "w4", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, none, "nothing pending")

	// The log, newest first, paged; attempts oldest first.
	list, err := n.Deliveries.List(ctx, storage.DeliveryFilter{EndpointID: "ep-a", Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "d-2a", list[0].ID)
	assert.Equal(t, storage.DeliveryDelivered, list[0].State)
	rest, err := n.Deliveries.List(ctx, storage.DeliveryFilter{EndpointID: "ep-a", Before: &storage.DeliveryCursor{CreatedAt: list[0].CreatedAt, ID: list[0].ID}})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	assert.Equal(t, "d-1a", rest[0].ID)
	as, err := n.Deliveries.Attempts(ctx, []string{"d-1a", "d-2a", "nowhere"})
	require.NoError(t, err)
	require.Len(t, as["d-1a"], 2)
	assert.Equal(t, storage.DeliveryAttempt{DeliveryID: "d-1a", Number: 1, StartedAt: now, Duration: 150 * time.Millisecond, StatusCode: 503,
		Excerpt: "занято", Error: "HTTP 503"}, as["d-1a"][0])
	assert.Equal(t, 204, as["d-1a"][1].StatusCode)
	assert.Len(t, as["d-2a"], 1)

	// Send again: pending, due now, counted afresh, its log kept.
	n.SetNow(later.Add(time.Hour))
	require.NoError(t, n.Deliveries.Requeue(ctx, "d-1a"))
	requireCode(t, audit.ENOTFOUND, n.Deliveries.Requeue(ctx, "nowhere"))
	d, err = n.Deliveries.Find(ctx, "d-1a")
	require.NoError(t, err)
	assert.Equal(t, storage.DeliveryPending, d.State)
	assert.Equal(t, 0, d.Attempts)
	assert.True(t, d.FirstAt.IsZero())
	assert.Equal(t, later.Add(time.Hour), d.NextAt)
	claimed, err = n.Deliveries.Claim(ctx, storage.Claim{Now: later.Add(time.Hour), Until: later.Add(2 * time.Hour), Token: "w5", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, "d-1a", claimed[0].ID)

	// Deleting an endpoint takes its deliveries and their log.
	require.NoError(t, n.Endpoints.Delete(ctx, "ep-a"))
	_, err = n.Deliveries.Find(ctx, "d-1a")
	requireCode(t, audit.ENOTFOUND, err)
	as, err = n.Deliveries.Attempts(ctx, []string{"d-1a"})
	require.NoError(t, err)
	assert.Empty(t, as)
	_, err = n.Outbox.Find(ctx, "evt_1")
	require.NoError(t, err, "the event stays")
}

// testPrune: old events whose deliveries are done go with their log; an
// event with a delivery pending, or a recent one, stays.
func testPrune(t *testing.T, n WebhookNouns) {
	ctx := context.Background()
	mustEndpoint(t, n, "ep", "visit.approved")
	add := func(at time.Time, id string) {
		n.SetNow(at)
		require.NoError(t, n.Update(ctx, func(o storage.Outbox, d storage.WebhookDeliveries) error {
			if err := o.Add(ctx, &storage.Event{ID: id, Type: "visit.approved", Body: []byte(`{}`)}); err != nil {
				return err
			}
			return d.Add(ctx, id, []string{"ep"}, []string{"d-" + id})
		}))
	}
	add(t0, "evt_old_done")
	add(t0.Add(time.Second), "evt_old_pending")
	add(t0.Add(2*time.Second), "evt_old_failing")
	add(t0.Add(48*time.Hour), "evt_new_done")
	require.NoError(t, n.Outbox.Add(ctx, &storage.Event{ID: "evt_new_none", Type: "visit.approved", Body: []byte(`{}`)}))
	n.SetNow(t0)
	require.NoError(t, n.Outbox.Add(ctx, &storage.Event{ID: "evt_old_none", Type: "visit.approved", Body: []byte(`{}`)}))
	now := t0.Add(49 * time.Hour)
	claimed, err := n.Deliveries.Claim(ctx, storage.Claim{Now: now, Until: now.Add(time.Minute), Token: "w", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 4)
	for _, c := range claimed {
		state := storage.DeliveryDelivered
		switch c.EventID {
		case "evt_old_pending":
			state = storage.DeliveryPending
		case "evt_old_failing":
			state = storage.DeliveryFailing
		}
		ok, err := n.Deliveries.Record(ctx, storage.DeliveryResult{ID: c.ID, Lease: "w", State: state, NextAt: now.Add(time.Hour),
			Attempt: storage.DeliveryAttempt{Number: 1, StartedAt: now, StatusCode: 200}, FirstAt: now})
		require.NoError(t, err)
		require.True(t, ok)
	}
	got, err := n.Outbox.Prune(ctx, t0.Add(24*time.Hour), 2)
	require.NoError(t, err)
	assert.Equal(t, 2, got, "at most the limit")
	got, err = n.Outbox.Prune(ctx, t0.Add(24*time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, got)
	left, err := n.Outbox.List(ctx, storage.OutboxFilter{})
	require.NoError(t, err)
	var ids []string
	for _, e := range left {
		ids = append(ids, e.ID)
	}
	assert.ElementsMatch(t, []string{"evt_old_pending", "evt_new_done", "evt_new_none"}, ids)
	_, err = n.Deliveries.Find(ctx, "d-evt_old_done")
	requireCode(t, audit.ENOTFOUND, err)
	as, err := n.Deliveries.Attempts(ctx, []string{"d-evt_old_done", "d-evt_old_failing", "d-evt_old_pending"})
	require.NoError(t, err)
	assert.Len(t, as, 1, "only the pending delivery keeps its log")
	assert.Len(t, as["d-evt_old_pending"], 1)
}

// testClaimsOfTwoServers has two handles on one database (two servers)
// claim and record deliveries at once: every delivery is claimed by one
// of them, once.
func testClaimsOfTwoServers(t *testing.T, n WebhookNouns) {
	ctx := context.Background()
	n.SetNow(t0)
	mustEndpoint(t, n, "ep", "visit.approved")
	const events = 120
	require.NoError(t, n.Update(ctx, func(o storage.Outbox, d storage.WebhookDeliveries) error {
		for i := range events {
			id := fmt.Sprintf("evt_%03d", i)
			if err := o.Add(ctx, &storage.Event{ID: id, Type: "visit.approved", Body: []byte(`{}`)}); err != nil {
				return err
			}
			if err := d.Add(ctx, id, []string{"ep"}, []string{"d-" + id}); err != nil {
				return err
			}
		}
		return nil
	}))
	servers := []storage.WebhookDeliveries{n.Deliveries, n.Again(t)}
	var mu sync.Mutex
	claims := map[string][]string{} // delivery → the workers that claimed it
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(servers))
	for s, deliveries := range servers {
		for w := range 2 {
			wg.Go(func() {
				worker := fmt.Sprintf("server %d worker %d", s, w)
				for round := 0; ; round++ {
					token := fmt.Sprintf("%s round %d", worker, round)
					now := t0.Add(time.Minute)
					got, err := deliveries.Claim(ctx, storage.Claim{Now: now, Until: now.Add(time.Hour), Token: token, Limit: 7})
					if err != nil {
						errs <- fmt.Errorf("%s: %w", worker, err)
						return
					}
					if len(got) == 0 {
						return
					}
					for _, c := range got {
						mu.Lock()
						claims[c.ID] = append(claims[c.ID], worker)
						mu.Unlock()
						ok, err := deliveries.Record(ctx, storage.DeliveryResult{ID: c.ID, Lease: token, State: storage.DeliveryDelivered,
							Attempt: storage.DeliveryAttempt{Number: 1, StartedAt: now, StatusCode: 200}, FirstAt: now})
						if err != nil || !ok {
							errs <- fmt.Errorf("%s: record %s: %v, stored %v", worker, c.ID, err, ok)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, claims, events, "every delivery was claimed")
	by := map[string]int{}
	for id, ws := range claims {
		assert.Len(t, ws, 1, "delivery %s claimed by %v", id, ws)
		by[ws[0][:len("server 0")]]++
	}
	t.Logf("claims per server: %v", by)
}
