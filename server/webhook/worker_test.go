package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a test clock the worker, the sender, the source and the
// receiver share, moved on by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// memSource is the Source contract kept in memory for these tests: leases,
// attempts made, the delivery log, failing endpoints. Storage implements
// the same contract over the outbox.
type memSource struct {
	mu      sync.Mutex
	clock   *clock
	lease   time.Duration
	items   []*memItem
	failing map[string]time.Time // endpoint id → when it was marked
	// loseRecord makes Record fail once for these message ids, as if the
	// server died between the attempt and its commit.
	loseRecord map[string]bool
}

type memItem struct {
	d        Delivery
	next     time.Time
	leased   time.Time
	state    State
	log      []DeliveryAttempt
	notified []State
}

func (s *memSource) add(ep Endpoint, msgs ...Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.items = append(s.items, &memItem{d: Delivery{Endpoint: ep, Message: m}, next: s.clock.Now()})
	}
}

func (s *memSource) Due(_ context.Context, now time.Time, limit int) ([]Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, it := range s.items {
		if len(out) == limit {
			break
		}
		if it.state != 0 || it.next.After(now) || it.leased.After(now) {
			continue
		}
		it.leased = now.Add(s.lease)
		out = append(out, it.d)
	}
	return out, nil
}

func (s *memSource) Record(_ context.Context, d Delivery, r Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseRecord[d.Message.ID] {
		delete(s.loseRecord, d.Message.ID)
		return fmt.Errorf("lost the result of %s", d.Message.ID)
	}
	for _, it := range s.items {
		if it.d.Message.ID != d.Message.ID || it.d.Endpoint.ID != d.Endpoint.ID {
			continue
		}
		it.log = append(it.log, r.Attempt)
		it.notified = append(it.notified, r.State)
		it.d.Attempts = r.Attempt.Number
		it.d.First = r.First
		it.leased = time.Time{}
		switch r.State {
		case Retry:
			it.next = r.Next
		case Failing:
			it.state = Failing
			s.failing[d.Endpoint.ID] = r.Attempt.Start
		default:
			it.state = r.State
		}
		return nil
	}
	return errors.New("no such delivery")
}

// nextDue is the earliest time anything pending becomes due.
func (s *memSource) nextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Time
	for _, it := range s.items {
		if it.state != 0 {
			continue
		}
		t := it.next
		if it.leased.After(t) {
			t = it.leased
		}
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at, !at.IsZero()
}

// receiver is a webhook receiver as an integrator writes one: it verifies
// every delivery with Verify, removes duplicates by webhook-id, and here
// fails the first failFirst deliveries of each message.
type receiver struct {
	t         *testing.T
	clock     *clock
	secrets   []Secret
	failFirst int

	mu       sync.Mutex
	hits     map[string]int
	accepted map[string][]byte // id → body, once per id
	bad      int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	require.NoError(rc.t, err)
	id, err := Verify(r.Header, body, rc.secrets, rc.clock.Now(), 0)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.hits[id]++
	if rc.hits[id] <= rc.failFirst {
		http.Error(w, "busy, try later", http.StatusServiceUnavailable)
		return
	}
	if _, dup := rc.accepted[id]; !dup {
		rc.accepted[id] = body
	}
	w.WriteHeader(http.StatusNoContent)
}

func newReceiver(t *testing.T, c *clock, failFirst int, secrets ...Secret) (*receiver, string) {
	rc := &receiver{t: t, clock: c, secrets: secrets, failFirst: failFirst, hits: map[string]int{}, accepted: map[string][]byte{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/shopscore"
}

func newWorker(c *clock, src Source) *Worker {
	return &Worker{
		Source:   src,
		Sender:   &Sender{Client: dev.Client(nil), Now: c.Now, Timeout: 5 * time.Second},
		Schedule: Schedule{},
		Batch:    2, // smaller than the messages, so several batches run
		Now:      c.Now,
	}
}

// drive runs the worker, moving the clock to whatever is due next, until
// nothing is pending; it returns how many batches ran.
func drive(t *testing.T, c *clock, w *Worker, src *memSource) int {
	t.Helper()
	for rounds := 1; rounds < 1000; rounds++ {
		_, err := w.RunOnce(context.Background())
		if err != nil {
			t.Logf("round %d: %v", rounds, err)
		}
		at, pending := src.nextDue()
		if !pending {
			return rounds
		}
		c.Set(at)
	}
	t.Fatal("deliveries still pending after 1000 rounds")
	return 0
}

// TestWorkerDeliversAfterFailures: a receiver that verifies signatures
// and fails each message's first two deliveries gets every message, and
// the log holds two failed attempts and one delivered for each.
func TestWorkerDeliversAfterFailures(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	secret := mustSecret(t)
	rc, url := newReceiver(t, c, 2, secret)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}}
	ep := Endpoint{ID: "ep-crm", URL: url, Secrets: []EndpointSecret{{Secret: secret}}}
	ids := []string{"evt_1", "evt_2", "evt_3", "evt_4", "evt_5"}
	for _, id := range ids {
		src.add(ep, Message{ID: id, Body: fmt.Appendf(nil, `{"id":%q,"type":"visit.approved"}`, id)})
	}
	start := c.Now()
	drive(t, c, newWorker(c, src), src)

	assert.Zero(t, rc.bad, "every delivery verified")
	assert.Len(t, rc.accepted, len(ids))
	for _, it := range src.items {
		id := it.d.Message.ID
		assert.Equal(t, Delivered, it.state, id)
		assert.Equal(t, it.d.Message.Body, rc.accepted[id], id)
		assert.Equal(t, 3, rc.hits[id], id)
		require.Len(t, it.log, 3, id)
		assert.Equal(t, []State{Retry, Retry, Delivered}, it.notified, id)
		for i, a := range it.log {
			assert.Equal(t, i+1, a.Number, id)
			if i < 2 {
				assert.Equal(t, http.StatusServiceUnavailable, a.StatusCode)
				assert.Equal(t, "busy, try later\n", a.Excerpt)
				assert.Equal(t, "HTTP 503", a.Error)
			} else {
				assert.Equal(t, http.StatusNoContent, a.StatusCode)
				assert.True(t, a.Delivered())
			}
			if i > 0 {
				gap := a.Start.Sub(it.log[i-1].Start)
				assert.GreaterOrEqual(t, gap, time.Duration(0))
				assert.LessOrEqual(t, gap, DefaultRetryBase<<(i-1), "attempt %d of %s waits at most its ceiling", i+1, id)
			}
		}
		assert.Equal(t, start, it.d.First, id)
	}
	assert.Empty(t, src.failing)
}

// TestWorkerAtLeastOnce: the result of a delivery the receiver accepted is
// lost (the server died before its commit); the lease runs out, the
// message goes again with the same id, and the receiver, removing
// duplicates by webhook-id, has each message once.
func TestWorkerAtLeastOnce(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	secret := mustSecret(t)
	rc, url := newReceiver(t, c, 0, secret)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}, loseRecord: map[string]bool{"evt_b": true}}
	ep := Endpoint{ID: "ep-bi", URL: url, Secrets: []EndpointSecret{{Secret: secret}}}
	src.add(ep, Message{ID: "evt_a", Body: []byte(`{"n":1}`)}, Message{ID: "evt_b", Body: []byte(`{"n":2}`)})
	drive(t, c, newWorker(c, src), src)

	assert.Equal(t, map[string]int{"evt_a": 1, "evt_b": 2}, rc.hits, "evt_b went twice")
	assert.Len(t, rc.accepted, 2)
	for _, it := range src.items {
		assert.Equal(t, Delivered, it.state, it.d.Message.ID)
		require.Len(t, it.log, 1, "the lost attempt left no log row")
		assert.True(t, it.log[0].Delivered())
	}
}

// TestWorkerGivesUpAfterADay: an endpoint that never accepts is tried for
// at least a day, then the delivery stops and the endpoint is failing.
func TestWorkerGivesUpAfterADay(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	secret := mustSecret(t)
	rc, url := newReceiver(t, c, 1<<30, secret)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}}
	ep := Endpoint{ID: "ep-down", URL: url, Secrets: []EndpointSecret{{Secret: secret}}}
	src.add(ep, Message{ID: "evt_x", Body: []byte(`{}`)})
	start := c.Now()
	drive(t, c, newWorker(c, src), src)

	it := src.items[0]
	assert.Equal(t, Failing, it.state)
	n := len(it.log)
	require.Greater(t, n, 10)
	assert.Equal(t, n, rc.hits["evt_x"], "each attempt reached the receiver")
	last := it.log[n-1]
	assert.GreaterOrEqual(t, last.Start.Sub(start), 24*time.Hour)
	assert.Less(t, it.log[n-2].Start.Sub(start), 24*time.Hour, "it stopped at the first attempt past the day")
	assert.Equal(t, map[string]time.Time{"ep-down": last.Start}, src.failing)
	for i, a := range it.log {
		assert.Equal(t, i+1, a.Number)
		assert.Equal(t, http.StatusServiceUnavailable, a.StatusCode)
	}
	assert.Equal(t, Failing, it.notified[n-1])
}

// TestWorkerUnsendable: a message that can never be sent stops at once,
// is logged, sends nothing and does not blame the endpoint.
func TestWorkerUnsendable(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	secret := mustSecret(t)
	rc, url := newReceiver(t, c, 0, secret)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}}
	ep := Endpoint{ID: "ep", URL: url, Secrets: []EndpointSecret{{Secret: secret}}}
	src.add(ep, Message{ID: "evt_bad", Body: []byte(`not json`)}, Message{ID: "evt_ok", Body: []byte(`{}`)})
	drive(t, c, newWorker(c, src), src)

	states := map[string]State{}
	for _, it := range src.items {
		states[it.d.Message.ID] = it.state
	}
	assert.Equal(t, map[string]State{"evt_bad": Unsendable, "evt_ok": Delivered}, states)
	assert.Contains(t, src.items[0].log[0].Error, "not JSON")
	assert.Equal(t, map[string]int{"evt_ok": 1}, rc.hits)
	assert.Empty(t, src.failing)
}

// TestWorkerRun runs the loop on the real clock until its context ends.
func TestWorkerRun(t *testing.T) {
	c := &clock{now: time.Now()}
	secret := mustSecret(t)
	_, url := newReceiver(t, c, 0, secret)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}}
	ep := Endpoint{ID: "ep", URL: url, Secrets: []EndpointSecret{{Secret: secret}}}
	var ids []string
	for i := range 7 {
		ids = append(ids, fmt.Sprintf("evt_%d", i))
		src.add(ep, Message{ID: ids[i], Body: []byte(`{}`)})
	}
	w := newWorker(c, src)
	w.Now, w.Sender.Now = nil, nil
	w.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	assert.Eventually(t, func() bool {
		_, pending := src.nextDue()
		return !pending
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	var delivered []string
	for _, it := range src.items {
		if it.state == Delivered {
			delivered = append(delivered, it.d.Message.ID)
		}
	}
	sort.Strings(delivered)
	assert.Equal(t, ids, delivered)
}

// TestWorkerStopping: an attempt cut short because the worker stops is not
// recorded as the endpoint's failure; the delivery stays due.
func TestWorkerStopping(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	src := &memSource{clock: c, lease: time.Minute, failing: map[string]time.Time{}}
	src.add(Endpoint{ID: "ep", URL: srv.URL, Secrets: []EndpointSecret{{Secret: mustSecret(t)}}}, Message{ID: "evt_s", Body: []byte(`{}`)})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	n, err := newWorker(c, src).RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	it := src.items[0]
	assert.Empty(t, it.log, "nothing recorded")
	assert.Zero(t, it.state)
	c.Set(c.Now().Add(time.Minute))
	due, err := src.Due(context.Background(), c.Now(), 10)
	require.NoError(t, err)
	assert.Len(t, due, 1, "due again after the lease")
}
