package server

import (
	"context"
	"time"
)

// prune deletes, on the periodic loop's tick, the rows of one kind (what)
// older than retention (none when it is negative) with fn, an app.Prune…
// use case. Failures are logged and retried on the next tick.
func (s *Server) prune(ctx context.Context, what string, retention time.Duration, fn func(context.Context, time.Time, time.Duration) (int, error)) {
	if retention < 0 {
		return
	}
	n, err := fn(ctx, s.cfg.Now(), retention)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.ErrorContext(ctx, "prune "+what, "err", err)
	case n > 0:
		s.log.InfoContext(ctx, what+" pruned", "count", n)
	}
}

// pruneMutationResults deletes the pushed mutations' results older than
// Config.MutationRetention.
func (s *Server) pruneMutationResults(ctx context.Context) {
	s.prune(ctx, "mutation results", s.cfg.MutationRetention, s.app.PruneMutationResults)
}

// pruneEvents deletes the outbox's events older than Config.EventRetention
// whose deliveries are done.
func (s *Server) pruneEvents(ctx context.Context) {
	s.prune(ctx, "events", s.cfg.EventRetention, s.app.PruneEvents)
}

// pruneMail deletes the e-mails sent, failed or dropped longer than
// Config.Mail.Retention ago.
func (s *Server) pruneMail(ctx context.Context) {
	s.prune(ctx, "e-mails", s.cfg.Mail.Retention, s.app.PruneMail)
}
