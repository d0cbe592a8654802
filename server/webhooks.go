package server

import (
	"context"
	"errors"
	"time"

	"github.com/shopscore/shopscore/server/webhook"
)

// Webhooks configures webhook delivery. The zero value delivers to https
// endpoints on public addresses only, from every serving server.
type Webhooks struct {
	// AllowLoopback is for development: endpoints on this machine, over
	// http as well as https (the --webhook-allow-loopback flag).
	AllowLoopback bool
	// AllowPrivate lets endpoints sit in private ranges (RFC 1918,
	// unique local IPv6, carrier NAT) that the operator allows
	// explicitly; link-local and cloud metadata addresses stay refused.
	AllowPrivate bool
	// Off runs no delivery worker on this server (another server
	// delivers); events are still written and queued.
	Off bool
	// Poll is how long the worker waits when nothing is due; 1 s if zero.
	Poll time.Duration
	// Lease is how long a claimed delivery is this server's; it must
	// outlast one attempt (15 s). app.DefaultDeliveryLease if zero.
	Lease time.Duration
	// Concurrency bounds the attempts in flight at once; 4 if zero.
	Concurrency int
	// Schedule spaces the retries of one delivery; the zero Schedule
	// retries with exponential backoff and jitter for at least 24 h.
	Schedule webhook.Schedule
}

// policy is the endpoint policy of the configuration.
func (w Webhooks) policy() webhook.Policy {
	return webhook.Policy{AllowLoopback: w.AllowLoopback, AllowPrivate: w.AllowPrivate}
}

// webhookLoop delivers the outbox's due deliveries until ctx is done
// (unless Config.Webhooks.Off): on several servers each claims its own,
// so each attempt is made by one (storage.WebhookDeliveries.Claim).
func (s *Server) webhookLoop(ctx context.Context) {
	c := s.cfg.Webhooks
	if c.Off {
		return
	}
	w := &webhook.Worker{
		Source:      s.app.WebhookSource(c.Lease),
		Sender:      &webhook.Sender{Client: c.policy().Client(nil), Now: s.cfg.Now},
		Schedule:    c.Schedule,
		Concurrency: c.Concurrency,
		Poll:        c.Poll,
		Now:         s.cfg.Now,
		Log:         s.log,
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.ErrorContext(ctx, "webhook deliveries stopped", "err", err)
	}
}
