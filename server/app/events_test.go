package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/webhook"
	"github.com/shopscore/shopscore/sync/protocol"
)

// events returns the outbox's events, oldest first.
func (w *world) events(t *testing.T) []*storage.Event {
	t.Helper()
	es, err := w.db.Outbox().List(context.Background(), storage.OutboxFilter{})
	require.NoError(t, err)
	return es
}

// visitBody is the part of a visit event's body the tests read.
type visitBody struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Visit struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Store struct {
				Code, Name string
			} `json:"store"`
			Checklist struct {
				Name string `json:"name"`
			} `json:"checklist"`
		} `json:"visit"`
		Actor *struct {
			Name, Role string
		} `json:"actor"`
		Reason   string `json:"reason"`
		Comments []struct {
			Text string `json:"text"`
		} `json:"comments"`
	} `json:"data"`
}

func decodeVisitBody(t *testing.T, e *storage.Event) visitBody {
	t.Helper()
	var b visitBody
	require.NoError(t, json.Unmarshal(e.Body, &b))
	require.Equal(t, e.ID, b.ID, "the body carries the event's id")
	require.Equal(t, e.Type, b.Type)
	return b
}

func TestEvents_OnePerVisitChange(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id := w.pushVisit(t)
	es := w.events(t)
	require.Len(t, es, 2, "a visit that arrives with nothing missing is submitted and complete")
	assert.Equal(t, app.EventVisitSubmitted, es[0].Type)
	assert.Equal(t, app.EventVisitComplete, es[1].Type)
	b := decodeVisitBody(t, es[0])
	assert.Equal(t, id, b.Data.Visit.ID)
	assert.Equal(t, "A-1", b.Data.Visit.Store.Code)
	assert.Equal(t, "Store A-1", b.Data.Visit.Store.Name)
	assert.Equal(t, w.checklist.Content.Name, b.Data.Visit.Checklist.Name)
	assert.Nil(t, b.Data.Actor, "the shopper stays anonymous")

	steps := []struct {
		actor  audit.Principal
		action audit.ReviewAction
		reason string
		event  string // "" for none
	}{
		{w.mA, audit.ActionStartReview, "", ""},
		{w.mA, audit.ActionApprove, "", app.EventVisitApproved},
		{w.mA, audit.ActionPublish, "", app.EventVisitPublished},
		{w.admin, audit.ActionReopen, "a mistake", app.EventVisitReopened},
		{w.mA, audit.ActionReturn, "", app.EventVisitReturned},
	}
	want := []string{app.EventVisitSubmitted, app.EventVisitComplete}
	for _, s := range steps {
		var comments []audit.ReviewComment
		if s.action == audit.ActionReturn {
			comments = []audit.ReviewComment{{QuestionID: "q", Text: "Say who greeted you"}}
		}
		_, err := w.app.ReviewVisit(ctx, s.actor, id, s.action, s.reason, comments)
		require.NoError(t, err, "%s", s.action)
		if s.event != "" {
			want = append(want, s.event)
		}
		// A refused action writes nothing.
		_, err = w.app.ReviewVisit(ctx, w.mB, id, s.action, s.reason, comments)
		requireCode(t, audit.ENOTFOUND, err)
	}
	es = w.events(t)
	var got []string
	seen := map[string]bool{}
	for _, e := range es {
		got = append(got, e.Type)
		assert.False(t, seen[e.ID], "event id %s twice", e.ID)
		seen[e.ID] = true
	}
	assert.Equal(t, want, got)
	reopened := decodeVisitBody(t, es[4])
	require.NotNil(t, reopened.Data.Actor)
	assert.Equal(t, "admin@example.com", reopened.Data.Actor.Name)
	assert.Equal(t, "a mistake", reopened.Data.Reason)
	returned := decodeVisitBody(t, es[5])
	assert.Equal(t, "returned", returned.Data.Visit.State)
	require.Len(t, returned.Data.Comments, 1)
	assert.Equal(t, "Say who greeted you", returned.Data.Comments[0].Text)
}

// errAfterUseCase is what rolledBack's transactions end with.
var errAfterUseCase = errors.New("the server failed after the use case")

// rolledBack is the world's real database whose write transactions fail
// once the use case's function has done all its writing: each is rolled
// back by SQLite, as when a server fails before its commit.
type rolledBack struct{ storage.Storage }

func (r rolledBack) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return r.Storage.Update(ctx, func(tx storage.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errAfterUseCase
	})
}

func TestEvents_NoneForARolledBackChange(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id := w.pushVisit(t)
	_, err := w.app.ReviewVisit(ctx, w.mA, id, audit.ActionStartReview, "", nil)
	require.NoError(t, err)
	before := w.events(t)

	failing := app.New(rolledBack{w.db}, app.Options{Now: w.now})
	_, err = failing.ReviewVisit(ctx, w.mA, id, audit.ActionApprove, "", nil)
	require.ErrorIs(t, err, errAfterUseCase)
	s, err := w.db.Visits().FindSummary(ctx, audit.Scope{All: true}, id)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitInReview, s.State, "the approval was rolled back")
	assert.Equal(t, before, w.events(t), "and so was its event")

	_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionApprove, "", nil)
	require.NoError(t, err)
	after := w.events(t)
	require.Len(t, after, len(before)+1)
	assert.Equal(t, app.EventVisitApproved, after[len(after)-1].Type, "the approval made again has its one event")
}

// receiver is a webhook receiver on loopback that verifies signatures,
// keeps each event once by webhook-id and fails the first fail attempts
// of each.
type receiver struct {
	t       *testing.T
	secrets func() []webhook.Secret
	now     func() time.Time
	fail    int

	mu    sync.Mutex
	hits  map[string]int
	bodys map[string][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := make([]byte, r.ContentLength)
	_, _ = r.Body.Read(body)
	id, err := webhook.Verify(r.Header, body, rc.secrets(), rc.now(), 0)
	if err != nil {
		rc.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits[id]++
	if rc.hits[id] <= rc.fail {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	if _, dup := rc.bodys[id]; !dup {
		rc.bodys[id] = body
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhookSource_DeliversTheOutbox(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	dev := app.New(w.db, app.Options{Now: w.now, WebhookPolicy: webhook.Policy{AllowLoopback: true}})

	rc := &receiver{t: t, now: w.now, fail: 2, hits: map[string]int{}, bodys: map[string][]byte{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	_, _, err := w.app.CreateWebhookEndpoint(ctx, w.admin.UserID, app.WebhookEndpointInput{URL: srv.URL, EventTypes: []string{app.EventVisitApproved}})
	requireCode(t, audit.EINVALID, err) // loopback only on a development server
	ep, secret, err := dev.CreateWebhookEndpoint(ctx, w.admin.UserID, app.WebhookEndpointInput{URL: srv.URL,
		EventTypes: []string{app.EventVisitApproved, app.EventVisitSubmitted, app.EventVisitApproved}})
	require.NoError(t, err)
	assert.Equal(t, []string{app.EventVisitApproved, app.EventVisitSubmitted}, ep.EventTypes)
	parsed, err := webhook.ParseSecret(secret)
	require.NoError(t, err)
	rc.secrets = func() []webhook.Secret { return []webhook.Secret{parsed} }

	id := w.pushVisit(t)
	_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionStartReview, "", nil)
	require.NoError(t, err)
	_, err = w.app.ReviewVisit(ctx, w.mA, id, audit.ActionApprove, "", nil)
	require.NoError(t, err)

	worker := &webhook.Worker{Source: dev.WebhookSource(time.Minute), Sender: &webhook.Sender{Client: webhook.Policy{AllowLoopback: true}.Client(nil), Now: w.now},
		Schedule: webhook.Schedule{Base: time.Second}, Now: w.now, Jitter: func() float64 { return 0.5 }}
	for range 3 {
		n, err := worker.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n, "both deliveries are due")
		w.clock = w.clock.Add(time.Minute)
	}
	n, err := worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is due once delivered")
	assert.Len(t, rc.bodys, 2, "the submitted and the approved visit, once each")
	for evID, hits := range rc.hits {
		assert.Equal(t, 3, hits, "event %s: two failures and the delivery", evID)
	}

	page, err := dev.ListWebhookDeliveries(ctx, ep.ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 2)
	for _, d := range page.Deliveries {
		assert.Equal(t, storage.DeliveryDelivered, d.State)
		assert.Equal(t, http.StatusNoContent, d.LastStatus)
		as := page.Attempts[d.ID]
		require.Len(t, as, 3)
		assert.Equal(t, []int{503, 503, 204}, []int{as[0].StatusCode, as[1].StatusCode, as[2].StatusCode})
	}

	// Send again: the same event id, which the receiver has already.
	_, err = dev.RedeliverWebhook(ctx, page.Deliveries[0].ID)
	require.NoError(t, err)
	n, err = worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, rc.bodys, 2, "the receiver drops the duplicate by its webhook-id")

	// A test event goes to its endpoint only, subscribed or not.
	d, err := dev.SendTestWebhook(ctx, w.admin, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, app.EventWebhookTest, d.EventType)
	for range 3 {
		_, err := worker.RunOnce(ctx)
		require.NoError(t, err)
		w.clock = w.clock.Add(time.Minute)
	}
	assert.Contains(t, rc.bodys, d.EventID)

	// Rotation: the old secret keeps signing for the overlap.
	_, fresh, err := dev.RotateWebhookSecret(ctx, ep.ID, time.Hour)
	require.NoError(t, err)
	assert.NotEqual(t, secret, fresh)
	freshSecret, err := webhook.ParseSecret(fresh)
	require.NoError(t, err)
	_, err = dev.SendTestWebhook(ctx, w.admin, ep.ID)
	require.NoError(t, err)
	rc.secrets = func() []webhook.Secret { return []webhook.Secret{freshSecret} }
	rc.fail = 0
	n, err = worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	rc.secrets = func() []webhook.Secret { return []webhook.Secret{parsed} }
	_, err = dev.SendTestWebhook(ctx, w.admin, ep.ID)
	require.NoError(t, err)
	n, err = worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the old secret verifies within the overlap too")
}

func TestWebhookSource_FailingEndpoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	dev := app.New(w.db, app.Options{Now: w.now, WebhookPolicy: webhook.Policy{AllowLoopback: true}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusBadGateway) }))
	defer srv.Close()
	ep, _, err := dev.CreateWebhookEndpoint(ctx, w.admin.UserID, app.WebhookEndpointInput{URL: srv.URL, EventTypes: []string{app.EventVisitSubmitted}})
	require.NoError(t, err)
	w.pushVisit(t)
	worker := &webhook.Worker{Source: dev.WebhookSource(time.Minute), Sender: &webhook.Sender{Client: webhook.Policy{AllowLoopback: true}.Client(nil), Now: w.now},
		Schedule: webhook.Schedule{}, Now: w.now, Jitter: func() float64 { return 1 }}
	start := w.clock
	attempts := 0
	for w.clock.Sub(start) < 30*time.Hour {
		n, err := worker.RunOnce(ctx)
		require.NoError(t, err)
		attempts += n
		w.clock = w.clock.Add(10 * time.Minute)
	}
	got, err := dev.Storage().WebhookEndpoints().Find(ctx, ep.ID)
	require.NoError(t, err)
	assert.False(t, got.FailingSince.IsZero(), "the endpoint is marked failing")
	page, err := dev.ListWebhookDeliveries(ctx, ep.ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 1)
	d := page.Deliveries[0]
	assert.Equal(t, storage.DeliveryFailing, d.State)
	as := page.Attempts[d.ID]
	require.Equal(t, attempts, len(as))
	assert.GreaterOrEqual(t, as[len(as)-1].StartedAt.Sub(as[0].StartedAt), 24*time.Hour, "retried for at least a day")
}

func TestPruneEvents(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.pushVisit(t)
	require.Len(t, w.events(t), 2)
	n, err := w.app.PruneEvents(ctx, w.clock.Add(app.DefaultEventRetention), app.DefaultEventRetention)
	require.NoError(t, err)
	assert.Zero(t, n, "not older than the retention yet")
	n, err = w.app.PruneEvents(ctx, w.clock.Add(app.DefaultEventRetention+time.Second), app.DefaultEventRetention)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, w.events(t))
}

// TestPush_EventsFromMemory: the events of a pushed visit are built from
// what the push holds in memory (storedSummary), not from a read-back;
// their visit is the visit as Visits.FindSummary reads it right after,
// field by field, for a visit about an employee whose start time has
// sub-millisecond digits (stored as milliseconds).
func TestPush_EventsFromMemory(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	olga := &audit.Staff{EmployeeNumber: "E-7", Name: "Olga Ivanova", Position: "cashier", StoreID: w.storeA.ID}
	require.NoError(t, w.app.CreateStaff(ctx, audit.Scope{All: true}, olga))
	a := w.assignment(w.storeA, w.s1, 0)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	sess, err := w.app.CreateSession(ctx, w.s1, "phone", "phone", []byte("refresh"), w.clock.Add(time.Hour), "")
	require.NoError(t, err)
	yes := true
	v := &audit.Visit{ID: "v-mem", AssignmentID: a.ID, StoreID: w.storeA.ID, ShopperID: w.s1, ChecklistID: "c", StaffID: olga.ID,
		ChecklistVersion: 1, ContentHash: w.checklist.ContentHash, Channel: audit.ChannelStoreVisit,
		StartedAt: w.clock.Add(time.Hour + 123456789*time.Nanosecond), FinishedAt: w.clock.Add(90 * time.Minute),
		Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}}}
	w.clock = w.clock.Add(2*time.Hour + 987654*time.Nanosecond)
	res, err := w.app.Push(ctx, app.Device{UserID: w.s1, SessionID: sess.ID}, w.clock,
		[]app.Mutation{{Seq: 1, ID: "m-mem", DeviceTime: w.clock, Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)

	s, err := w.db.Visits().FindSummary(ctx, audit.Scope{All: true}, v.ID)
	require.NoError(t, err)
	flags := []string{}
	for _, f := range s.ProofFlags {
		flags = append(flags, string(f.Code))
	}
	want := map[string]any{
		"id": s.ID, "state": string(s.State), "channel": string(s.Channel), "score_percent": *s.ScorePercent,
		"started_at": s.StartedAt.UTC().Format(time.RFC3339Nano), "received_at": s.ReceivedAt.UTC().Format(time.RFC3339Nano),
		"missing_photos": float64(s.MissingPhotos), "assignment_id": s.AssignmentID, "proof_flags": flags,
		"store":     map[string]any{"id": s.StoreID, "code": s.StoreCode, "name": s.StoreName},
		"staff":     map[string]any{"id": s.StaffID, "name": s.StaffName, "employee_number": s.StaffNumber},
		"checklist": map[string]any{"id": s.ChecklistID, "version": float64(s.ChecklistVersion), "name": s.ChecklistName},
	}
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	es := w.events(t)
	require.Len(t, es, 2)
	for _, e := range es {
		var body struct {
			Data struct {
				Visit json.RawMessage `json:"visit"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(e.Body, &body))
		assert.JSONEq(t, string(wantJSON), string(body.Data.Visit), "%s", e.Type)
	}
	assert.Equal(t, "Olga Ivanova", s.StaffName, "the summary names the employee")
}
