package server

import "context"

// pruneMutationResults deletes the pushed mutations' results older than
// Config.MutationRetention (none when it is negative), on the periodic
// loop's tick. Failures are logged and retried on the next tick.
func (s *Server) pruneMutationResults(ctx context.Context) {
	if s.cfg.MutationRetention < 0 {
		return
	}
	n, err := s.app.PruneMutationResults(ctx, s.cfg.Now(), s.cfg.MutationRetention)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.ErrorContext(ctx, "prune mutation results", "err", err)
	case n > 0:
		s.log.InfoContext(ctx, "mutation results pruned", "count", n)
	}
}

// pruneEvents deletes the outbox's events older than Config.EventRetention
// (none when it is negative) whose deliveries are done, on the periodic
// loop's tick. Failures are logged and retried on the next tick.
func (s *Server) pruneEvents(ctx context.Context) {
	if s.cfg.EventRetention < 0 {
		return
	}
	n, err := s.app.PruneEvents(ctx, s.cfg.Now(), s.cfg.EventRetention)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.ErrorContext(ctx, "prune events", "err", err)
	case n > 0:
		s.log.InfoContext(ctx, "events pruned", "count", n)
	}
}
