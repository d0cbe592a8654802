package server

import (
	"context"
	"time"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// webhookService implements shopscore.v1.WebhookService over the use
// cases of server/app (webhooks.go there).
type webhookService struct{ s *Server }

// Deliveries per page of the log.
const (
	defaultDeliveryPage = 50
	maxDeliveryPage     = 200
)

// endpointToProto converts an endpoint for admins: never its secrets,
// only when the one rotated out last stops signing.
func endpointToProto(e *storage.WebhookEndpoint) *v1.WebhookEndpoint {
	out := &v1.WebhookEndpoint{
		Id: e.ID, Url: e.URL, Description: e.Description, EventTypes: e.EventTypes, Disabled: e.Disabled,
		FailingSince: timestamp(e.FailingSince), CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt),
	}
	var retires time.Time
	for _, s := range e.Secrets {
		if s.Retires.After(retires) {
			retires = s.Retires
		}
	}
	out.PreviousSecretRetiresAt = timestamp(retires)
	return out
}

var deliveryStateToProto = map[storage.DeliveryState]v1.WebhookDeliveryState{
	storage.DeliveryPending:    v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING,
	storage.DeliveryDelivered:  v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED,
	storage.DeliveryFailing:    v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILING,
	storage.DeliveryUnsendable: v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_UNSENDABLE,
}

func deliveryToProto(d *storage.WebhookDelivery, attempts []storage.DeliveryAttempt) *v1.WebhookDelivery {
	out := &v1.WebhookDelivery{
		Id: d.ID, EndpointId: d.EndpointID, EventId: d.EventID, EventType: d.EventType,
		State: deliveryStateToProto[d.State], CreatedAt: timestamp(d.CreatedAt),
	}
	if d.State == storage.DeliveryPending {
		out.NextAttemptAt = timestamp(d.NextAt)
	}
	for _, a := range attempts {
		out.Attempts = append(out.Attempts, &v1.WebhookAttempt{
			Number: int32(a.Number), StartedAt: timestamp(a.StartedAt), DurationMs: a.Duration.Milliseconds(),
			StatusCode: int32(a.StatusCode), Excerpt: a.Excerpt, Error: a.Error,
		})
	}
	return out
}

// CreateWebhookEndpoint registers an endpoint. Errors: EINVALID.
func (w *webhookService) CreateWebhookEndpoint(ctx context.Context, req *connect.Request[v1.CreateWebhookEndpointRequest]) (*connect.Response[v1.CreateWebhookEndpointResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	e, secret, err := w.s.app.CreateWebhookEndpoint(ctx, p.UserID, app.WebhookEndpointInput{
		URL: m.GetUrl(), Description: m.GetDescription(), EventTypes: m.GetEventTypes(), Disabled: m.GetDisabled()})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateWebhookEndpointResponse{Endpoint: endpointToProto(e), Secret: secret}), nil
}

// ListWebhookEndpoints lists every endpoint and the event types.
func (w *webhookService) ListWebhookEndpoints(ctx context.Context, _ *connect.Request[v1.ListWebhookEndpointsRequest]) (*connect.Response[v1.ListWebhookEndpointsResponse], error) {
	es, err := w.s.st.WebhookEndpoints().List(ctx)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListWebhookEndpointsResponse{EventTypes: app.EventTypes}
	for _, e := range es {
		resp.Endpoints = append(resp.Endpoints, endpointToProto(e))
	}
	return connect.NewResponse(resp), nil
}

// UpdateWebhookEndpoint changes an endpoint. Errors: EINVALID, ENOTFOUND.
func (w *webhookService) UpdateWebhookEndpoint(ctx context.Context, req *connect.Request[v1.UpdateWebhookEndpointRequest]) (*connect.Response[v1.UpdateWebhookEndpointResponse], error) {
	m := req.Msg
	e, err := w.s.app.UpdateWebhookEndpoint(ctx, m.GetId(), app.WebhookEndpointInput{
		URL: m.GetUrl(), Description: m.GetDescription(), EventTypes: m.GetEventTypes(), Disabled: m.GetDisabled()})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.UpdateWebhookEndpointResponse{Endpoint: endpointToProto(e)}), nil
}

// RotateWebhookSecret gives an endpoint a new secret. Errors: EINVALID,
// ENOTFOUND.
func (w *webhookService) RotateWebhookSecret(ctx context.Context, req *connect.Request[v1.RotateWebhookSecretRequest]) (*connect.Response[v1.RotateWebhookSecretResponse], error) {
	m := req.Msg
	secs, most := m.GetOverlapSeconds(), int64(app.MaxSecretOverlap/time.Second)
	if secs > most {
		return nil, audit.Errorf(audit.EINVALID, "overlap_seconds is %d; at most %d (7 days)", secs, most)
	}
	overlap := time.Duration(secs) * time.Second
	if secs < 0 {
		overlap = -1 // none
	}
	e, secret, err := w.s.app.RotateWebhookSecret(ctx, m.GetId(), overlap)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RotateWebhookSecretResponse{Endpoint: endpointToProto(e), Secret: secret}), nil
}

// DeleteWebhookEndpoint removes an endpoint. Errors: ENOTFOUND.
func (w *webhookService) DeleteWebhookEndpoint(ctx context.Context, req *connect.Request[v1.DeleteWebhookEndpointRequest]) (*connect.Response[v1.DeleteWebhookEndpointResponse], error) {
	if err := w.s.app.DeleteWebhookEndpoint(ctx, req.Msg.GetId()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.DeleteWebhookEndpointResponse{}), nil
}

// ListWebhookDeliveries pages an endpoint's delivery log. Errors:
// EINVALID, ENOTFOUND.
func (w *webhookService) ListWebhookDeliveries(ctx context.Context, req *connect.Request[v1.ListWebhookDeliveriesRequest]) (*connect.Response[v1.ListWebhookDeliveriesResponse], error) {
	m := req.Msg
	n := int(m.GetPageSize())
	switch {
	case n == 0:
		n = defaultDeliveryPage
	case n < 0 || n > maxDeliveryPage:
		return nil, audit.Errorf(audit.EINVALID, "page_size must be between 1 and %d, got %d", maxDeliveryPage, n)
	}
	var before *storage.DeliveryCursor
	if tok := m.GetPageToken(); tok != "" {
		at, id, err := decodeCursor(tok)
		if err != nil {
			return nil, err
		}
		before = &storage.DeliveryCursor{CreatedAt: at, ID: id}
	}
	pg, err := w.s.app.ListWebhookDeliveries(ctx, m.GetEndpointId(), before, n)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListWebhookDeliveriesResponse{}
	for _, d := range pg.Deliveries {
		resp.Deliveries = append(resp.Deliveries, deliveryToProto(d, pg.Attempts[d.ID]))
	}
	if pg.Next != nil {
		resp.NextPageToken = encodeCursor(pg.Next.CreatedAt, pg.Next.ID)
	}
	return connect.NewResponse(resp), nil
}

// RedeliverWebhook sends a delivery again. Errors: ENOTFOUND.
func (w *webhookService) RedeliverWebhook(ctx context.Context, req *connect.Request[v1.RedeliverWebhookRequest]) (*connect.Response[v1.RedeliverWebhookResponse], error) {
	d, err := w.s.app.RedeliverWebhook(ctx, req.Msg.GetDeliveryId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RedeliverWebhookResponse{Delivery: deliveryToProto(d, nil)}), nil
}

// SendTestWebhook sends a test event to one endpoint. Errors: ENOTFOUND.
func (w *webhookService) SendTestWebhook(ctx context.Context, req *connect.Request[v1.SendTestWebhookRequest]) (*connect.Response[v1.SendTestWebhookResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := w.s.app.SendTestWebhook(ctx, p, req.Msg.GetEndpointId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.SendTestWebhookResponse{Delivery: deliveryToProto(d, nil)}), nil
}
