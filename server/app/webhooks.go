package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/webhook"
)

// Webhook defaults and bounds (docs/DESIGN.md §11).
const (
	// DefaultSecretOverlap is how long a rotated-out secret keeps
	// signing beside the new one when the admin names no overlap.
	DefaultSecretOverlap = 24 * time.Hour
	// MaxSecretOverlap bounds the overlap an admin may ask for.
	MaxSecretOverlap = 7 * 24 * time.Hour
	// DefaultDeliveryLease is how long a claimed delivery is held by its
	// worker: one attempt (webhook.DefaultAttemptTimeout) and some.
	DefaultDeliveryLease = time.Minute

	// MaxWebhookURLBytes bounds an endpoint's URL, and
	// MaxWebhookDescription its description in characters.
	MaxWebhookURLBytes    = 2048
	MaxWebhookDescription = 200
	// MaxWebhookEventTypes bounds the event types of one endpoint.
	MaxWebhookEventTypes = 50
)

// WebhookEndpointInput is what an admin says about an endpoint.
type WebhookEndpointInput struct {
	URL         string
	Description string
	EventTypes  []string
	Disabled    bool
}

// checkEndpoint validates an endpoint's input under the policy and
// returns its event types sorted and without duplicates. Errors:
// EINVALID, naming the URL or the unknown event type.
func (a *App) checkEndpoint(in WebhookEndpointInput) ([]string, error) {
	if in.URL == "" {
		return nil, audit.Errorf(audit.EINVALID, "a webhook endpoint needs a URL")
	}
	if len(in.URL) > MaxWebhookURLBytes {
		return nil, audit.Errorf(audit.EINVALID, "the webhook URL is %d bytes; at most %d", len(in.URL), MaxWebhookURLBytes)
	}
	if _, err := a.webhookPolicy.CheckURL(in.URL); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "webhook URL %q refused: %s", in.URL, strings.TrimPrefix(strings.TrimPrefix(err.Error(), webhook.ErrForbidden.Error()), ": "))
	}
	if n := utf8.RuneCountInString(in.Description); n > MaxWebhookDescription || !utf8.ValidString(in.Description) {
		return nil, audit.Errorf(audit.EINVALID, "the webhook description is %d characters; at most %d of valid UTF-8", n, MaxWebhookDescription)
	}
	if len(in.EventTypes) == 0 {
		return nil, audit.Errorf(audit.EINVALID, "a webhook endpoint needs at least one event type (one of %s)", strings.Join(EventTypes, ", "))
	}
	types := slices.Clone(in.EventTypes)
	for _, t := range types {
		if !KnownEventType(t) {
			return nil, audit.Errorf(audit.EINVALID, "unknown event type %q; want one of %s", t, strings.Join(EventTypes, ", "))
		}
	}
	slices.Sort(types)
	return slices.Compact(types), nil
}

// CreateWebhookEndpoint registers an endpoint for the events of the given
// types, with a new secret from crypto/rand, returned in its text form
// (`whsec_…`) to be shown to the admin once. Errors: EINVALID (the URL,
// refused by the endpoint policy as well as malformed; an unknown event
// type; none).
func (a *App) CreateWebhookEndpoint(ctx context.Context, by string, in WebhookEndpointInput) (*storage.WebhookEndpoint, string, error) {
	types, err := a.checkEndpoint(in)
	if err != nil {
		return nil, "", err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, "", err
	}
	e := &storage.WebhookEndpoint{ID: newID(), URL: in.URL, Description: in.Description, EventTypes: types,
		Secrets: []storage.WebhookSecret{{Secret: secret.Encode()}}, Disabled: in.Disabled, CreatedBy: by}
	if err := a.st.WebhookEndpoints().Add(ctx, e); err != nil {
		return nil, "", err
	}
	return e, secret.Encode(), nil
}

// UpdateWebhookEndpoint replaces an endpoint's URL, description, event
// types and disabled flag; its secrets stay. Errors: ENOTFOUND, EINVALID
// (as CreateWebhookEndpoint).
func (a *App) UpdateWebhookEndpoint(ctx context.Context, id string, in WebhookEndpointInput) (*storage.WebhookEndpoint, error) {
	types, err := a.checkEndpoint(in)
	if err != nil {
		return nil, err
	}
	var out *storage.WebhookEndpoint
	err = a.st.Update(ctx, func(tx storage.Tx) error {
		e, err := tx.WebhookEndpoints().Find(ctx, id)
		if err != nil {
			return err
		}
		e.URL, e.Description, e.EventTypes, e.Disabled = in.URL, in.Description, types, in.Disabled
		if err := tx.WebhookEndpoints().Update(ctx, e); err != nil {
			return err
		}
		out, err = tx.WebhookEndpoints().Find(ctx, id)
		return err
	})
	return out, err
}

// RotateWebhookSecret gives an endpoint a new secret, returned in its text
// form to be shown once; the current one keeps signing beside it for
// overlap (DefaultSecretOverlap when zero; none when negative), so the
// receiver can change keys without missing a delivery. Errors: ENOTFOUND,
// EINVALID (an overlap beyond MaxSecretOverlap).
func (a *App) RotateWebhookSecret(ctx context.Context, id string, overlap time.Duration) (*storage.WebhookEndpoint, string, error) {
	switch {
	case overlap == 0:
		overlap = DefaultSecretOverlap
	case overlap < 0:
		overlap = 0
	case overlap > MaxSecretOverlap:
		return nil, "", audit.Errorf(audit.EINVALID, "a secret overlap of %s is longer than %s", overlap, MaxSecretOverlap)
	}
	var out *storage.WebhookEndpoint
	var fresh webhook.Secret
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		e, err := tx.WebhookEndpoints().Find(ctx, id)
		if err != nil {
			return err
		}
		next, s, err := webhook.Rotate(parseSecrets(e.Secrets), tx.Now(), overlap)
		if err != nil {
			return err
		}
		fresh = s
		e.Secrets = make([]storage.WebhookSecret, len(next))
		for i, n := range next {
			e.Secrets[i] = storage.WebhookSecret{Secret: n.Secret.Encode(), Retires: n.Retires}
		}
		if err := tx.WebhookEndpoints().Update(ctx, e); err != nil {
			return err
		}
		out, err = tx.WebhookEndpoints().Find(ctx, id)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, fresh.Encode(), nil
}

// parseSecrets reads stored secrets, leaving out any that does not parse
// (a delivery with no secret left is unsendable, and says so).
func parseSecrets(ss []storage.WebhookSecret) []webhook.EndpointSecret {
	out := make([]webhook.EndpointSecret, 0, len(ss))
	for _, s := range ss {
		if p, err := webhook.ParseSecret(s.Secret); err == nil {
			out = append(out, webhook.EndpointSecret{Secret: p, Retires: s.Retires})
		}
	}
	return out
}

// DeleteWebhookEndpoint removes an endpoint with its delivery log; the
// events stay in the outbox. Errors: ENOTFOUND.
func (a *App) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	return a.st.WebhookEndpoints().Delete(ctx, id)
}

// WebhookDeliveryPage is a page of an endpoint's delivery log, each
// delivery with its attempts.
type WebhookDeliveryPage struct {
	Deliveries []*storage.WebhookDelivery
	Attempts   map[string][]storage.DeliveryAttempt
	// Next continues the listing; nil after the last page.
	Next *storage.DeliveryCursor
}

// ListWebhookDeliveries returns a page of an endpoint's deliveries,
// newest first, with their attempts, in one snapshot. Errors: ENOTFOUND
// (the endpoint).
func (a *App) ListWebhookDeliveries(ctx context.Context, endpointID string, before *storage.DeliveryCursor, limit int) (*WebhookDeliveryPage, error) {
	out := &WebhookDeliveryPage{}
	err := a.st.View(ctx, func(tx storage.Tx) error {
		if _, err := tx.WebhookEndpoints().Find(ctx, endpointID); err != nil {
			return err
		}
		ds, err := tx.WebhookDeliveries().List(ctx, storage.DeliveryFilter{EndpointID: endpointID, Before: before, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(ds) > limit {
			ds = ds[:limit]
			last := ds[len(ds)-1]
			out.Next = &storage.DeliveryCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		out.Deliveries = ds
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		out.Attempts, err = tx.WebhookDeliveries().Attempts(ctx, ids)
		return err
	})
	return out, err
}

// RedeliverWebhook queues a delivery again, due now, with its retries
// counted afresh and the same event id (a receiver that has it already
// drops it). Errors: ENOTFOUND.
func (a *App) RedeliverWebhook(ctx context.Context, deliveryID string) (*storage.WebhookDelivery, error) {
	var out *storage.WebhookDelivery
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.WebhookDeliveries().Requeue(ctx, deliveryID); err != nil {
			return err
		}
		var err error
		out, err = tx.WebhookDeliveries().Find(ctx, deliveryID)
		return err
	})
	return out, err
}

// testEventData is the body of a test event.
type testEventData struct {
	Endpoint struct {
		ID          string `json:"id"`
		URL         string `json:"url"`
		Description string `json:"description,omitempty"`
	} `json:"endpoint"`
	SentBy *eventUser `json:"sent_by,omitempty"`
}

// SendTestWebhook writes a webhook.test event for one endpoint, disabled
// or not subscribed as it may be, and queues its delivery; it returns
// the delivery. Errors: ENOTFOUND.
func (a *App) SendTestWebhook(ctx context.Context, actor audit.Principal, endpointID string) (*storage.WebhookDelivery, error) {
	var out *storage.WebhookDelivery
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		e, err := tx.WebhookEndpoints().Find(ctx, endpointID)
		if err != nil {
			return err
		}
		var d testEventData
		d.Endpoint.ID, d.Endpoint.URL, d.Endpoint.Description = e.ID, e.URL, e.Description
		if actor.UserID != "" {
			if d.SentBy, err = eventActor(ctx, tx, actor.UserID, string(actor.Role)); err != nil {
				return err
			}
		}
		ids, err := emitTo(ctx, tx, EventWebhookTest, d, []string{e.ID})
		if err != nil {
			return err
		}
		out, err = tx.WebhookDeliveries().Find(ctx, ids[0])
		return err
	})
	return out, err
}

// WebhookSource returns the outbox as the webhook Worker's Source: Due
// claims due deliveries for lease (DefaultDeliveryLease when zero) under
// a token of its own; Record stores each attempt, marks the endpoint
// failing when its retries gave up, and healthy again when a delivery
// got through.
func (a *App) WebhookSource(lease time.Duration) webhook.Source {
	if lease <= 0 {
		lease = DefaultDeliveryLease
	}
	return &webhookSource{app: a, lease: lease}
}

type webhookSource struct {
	app   *App
	lease time.Duration
}

// claimSeparator joins a delivery's id and its lease in webhook.Delivery.Claim.
const claimSeparator = " "

func (s *webhookSource) Due(ctx context.Context, now time.Time, limit int) ([]webhook.Delivery, error) {
	token := newID()
	claimed, err := s.app.st.WebhookDeliveries().Claim(ctx, storage.Claim{Now: now, Until: now.Add(s.lease), Token: token, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Delivery, len(claimed))
	for i, c := range claimed {
		out[i] = webhook.Delivery{
			Endpoint: webhook.Endpoint{ID: c.Endpoint.ID, URL: c.Endpoint.URL, Secrets: parseSecrets(c.Endpoint.Secrets)},
			Message:  webhook.Message{ID: c.EventID, Body: c.Body},
			Attempts: c.Attempts, First: c.FirstAt,
			Claim: c.ID + claimSeparator + c.Lease,
		}
	}
	return out, nil
}

// deliveryStates are the stored states of the Worker's results.
var deliveryStates = map[webhook.State]storage.DeliveryState{
	webhook.Delivered:  storage.DeliveryDelivered,
	webhook.Retry:      storage.DeliveryPending,
	webhook.Failing:    storage.DeliveryFailing,
	webhook.Unsendable: storage.DeliveryUnsendable,
}

// errLeaseLost is Record's error for a result that came after the
// delivery's lease ran out (another worker has it now).
var errLeaseLost = errors.New("the lease ran out before the result was recorded; the delivery is due again")

func (s *webhookSource) Record(ctx context.Context, d webhook.Delivery, r webhook.Result) error {
	id, lease, ok := strings.Cut(d.Claim, claimSeparator)
	if !ok {
		return fmt.Errorf("webhook delivery of %s: not claimed from the outbox", d.Message.ID)
	}
	state, ok := deliveryStates[r.State]
	if !ok {
		return fmt.Errorf("webhook delivery %s: unknown result %s", id, r.State)
	}
	a := r.Attempt
	res := storage.DeliveryResult{ID: id, Lease: lease, State: state, FirstAt: r.First, NextAt: r.Next,
		Attempt: storage.DeliveryAttempt{DeliveryID: id, Number: a.Number, StartedAt: a.Start, Duration: a.Duration,
			StatusCode: a.StatusCode, Excerpt: a.Excerpt, Error: a.Error}}
	return s.app.st.Update(ctx, func(tx storage.Tx) error {
		stored, err := tx.WebhookDeliveries().Record(ctx, res)
		if err != nil {
			return err
		}
		if !stored {
			return fmt.Errorf("webhook delivery %s: %w", id, errLeaseLost)
		}
		e, err := tx.WebhookEndpoints().Find(ctx, d.Endpoint.ID)
		if err != nil {
			return err
		}
		switch {
		case r.State == webhook.Failing && e.FailingSince.IsZero():
			return tx.WebhookEndpoints().SetFailing(ctx, e.ID, a.Start)
		case r.State == webhook.Delivered && !e.FailingSince.IsZero():
			return tx.WebhookEndpoints().SetFailing(ctx, e.ID, time.Time{})
		}
		return nil
	})
}
