package server

import (
	"context"
	"sync"
	"time"

	"github.com/shopscore/shopscore/server/auth"
)

// background is the periodic work of a serving server, started once by
// Serve and stopped by Close.
type background struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start runs each of fns in a goroutine with a context that stop
// cancels; only the first call starts anything.
func (b *background) start(fns ...func(context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	for _, fn := range fns {
		b.wg.Go(func() { fn(ctx) })
	}
}

// stop cancels the work and waits for it to end. It leaves a stopped
// background that start does not restart.
func (b *background) stop() {
	b.mu.Lock()
	if b.cancel == nil {
		b.cancel = func() {}
	}
	cancel := b.cancel
	b.mu.Unlock()
	cancel()
	b.wg.Wait()
}

// expireLoop expires the assignments whose window has ended, at once and
// then every Config.ExpireEvery, until ctx is done. Failures are logged
// and retried on the next tick.
func (s *Server) expireLoop(ctx context.Context) {
	if s.cfg.ExpireEvery < 0 {
		return
	}
	t := time.NewTicker(s.cfg.ExpireEvery)
	defer t.Stop()
	for {
		n, err := s.app.ExpireAssignments(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.ErrorContext(ctx, "expire assignments", "err", err)
		case n > 0:
			s.log.InfoContext(ctx, "assignments expired", "count", n)
		}
		s.pruneMutationResults(ctx)
		s.pruneShared(ctx)
		s.pruneEvents(ctx)
		s.pruneMail(ctx)
		s.remindWaitingReviews(ctx)
		if n, err := s.app.ReportOverdueActions(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "report overdue actions", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "corrective actions overdue", "count", n)
		}
		if n, err := s.applyDueTransfers(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "apply staff transfers", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "staff transfers applied", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// applyDueTransfers moves the employees whose transfer's day has come.
func (s *Server) applyDueTransfers(ctx context.Context) (int, error) {
	return s.app.ApplyDueTransfers(ctx)
}

// pruneShared deletes what the servers share and no longer need: the
// signing keys retired past their retention, the login-limit buckets
// full again. Any server may do it, as often as it likes; failures are
// logged and retried on the next tick.
func (s *Server) pruneShared(ctx context.Context) {
	if err := s.keys.Prune(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "prune signing keys", "err", err)
	}
	if _, err := auth.DeleteIdleBuckets(ctx, s.st.RateLimits(), s.cfg.Now()); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "prune login limits", "err", err)
	}
}
