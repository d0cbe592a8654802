package server

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/webhook"
)

// Mail configures e-mail notifications (docs/DESIGN.md §12). The zero
// value sends none: nothing is queued either.
type Mail struct {
	// SMTP is the server to send through; e-mail is off when its Host is
	// empty. New checks it (notify.Config.Validate).
	SMTP notify.Config
	// ConsoleURL is where the e-mails' links to the console point
	// ("https://audit.example.com"); Config.PublicURL when empty, and no
	// links without either (an address derived from the listener means
	// nothing in a reader's mailbox).
	ConsoleURL string
	// Off runs no sender on this server (another server sends); e-mail is
	// still queued.
	Off bool
	// Poll is how long the sender waits when nothing is due; 1 s if zero.
	Poll time.Duration
	// Lease is how long a claimed e-mail is this server's; it must
	// outlast one message (the SMTP timeout). app.DefaultMailLease if zero.
	Lease time.Duration
	// Concurrency bounds the messages in flight at once; 4 if zero.
	Concurrency int
	// Schedule spaces the retries of a transient failure; the zero
	// Schedule retries with exponential backoff and jitter for at least
	// 24 h, then the e-mail is marked failed.
	Schedule webhook.Schedule
	// Retention is how long sent, failed and dropped e-mails are kept
	// (app.DefaultMailRetention, 30 days, if zero; for ever if negative);
	// pruned on ExpireEvery's tick.
	Retention time.Duration
}

// mailLoop sends the mail outbox's due e-mails until ctx is done (unless
// e-mail is off or Config.Mail.Off): on several servers each claims its
// own, so each e-mail is sent by one (storage.Notifications.Claim).
func (s *Server) mailLoop(ctx context.Context) {
	c := s.cfg.Mail
	if s.mailer == nil || c.Off {
		return
	}
	poll := c.Poll
	if poll <= 0 {
		poll = time.Second
	}
	lease := c.Lease
	if lease == 0 {
		// One message may take the SMTP timeout: the lease outlasts it.
		lease = max(app.DefaultMailLease, c.SMTP.Timeout+30*time.Second)
	}
	console := c.ConsoleURL
	if console == "" {
		console = s.cfg.PublicURL
	}
	run := app.MailRun{Sender: s.mailer, ConsoleURL: console, Schedule: c.Schedule, Lease: lease, Concurrency: c.Concurrency}
	for {
		n, err := s.app.SendDueMail(ctx, run)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "e-mail notifications", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

// remindWaitingReviews queues the day's review reminders on the periodic
// tick. Failures are logged and retried on the next tick.
func (s *Server) remindWaitingReviews(ctx context.Context) {
	if n, err := s.app.RemindWaitingReviews(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "review reminders", "err", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "review reminders queued", "managers", n)
	}
}
