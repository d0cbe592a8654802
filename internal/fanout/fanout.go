// Package fanout runs one function over a batch of items with a bound on
// how many run at once: the shape of the outbox workers (webhook
// deliveries, e-mails), which claim a batch and attempt each item of it
// beside the others.
package fanout

import (
	"errors"
	"sync"
)

// Each calls fn for every item, at most limit at once (1 when limit is
// less), waits for all of them and returns their errors joined.
func Each[T any](items []T, limit int, fn func(T) error) error {
	limit = max(limit, 1)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, limit)
	)
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
