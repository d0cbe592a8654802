package app

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// DefaultMutationRetention is how long the result of a pushed mutation is
// kept for replays when the server's configuration does not say: three
// times a refresh token's default lifetime, so that a phone that was
// offline for as long as its login lasts still gets its answers back.
const DefaultMutationRetention = 90 * 24 * time.Hour

// pruneBatch is how many results one pruning transaction deletes: the
// writer is held for a few milliseconds at a time, between pushes.
const pruneBatch = 500

// PruneMutationResults deletes the results of mutations received more
// than retention before now, in short transactions of pruneBatch rows,
// until none is left or ctx is done; it returns how many went. A device
// that replays a pruned seq is told to reset (Push, EPRECONDITION).
func (a *App) PruneMutationResults(ctx context.Context, now time.Time, retention time.Duration) (int, error) {
	return pruneInBatches(ctx, func() (int, error) {
		var n int
		err := a.st.Update(ctx, func(tx storage.Tx) error {
			var err error
			n, err = tx.Devices().PruneResults(ctx, now.Add(-retention), pruneBatch)
			return err
		})
		return n, err
	})
}

// pruneInBatches calls prune, which deletes up to pruneBatch rows in a
// transaction of its own, until fewer went, it fails or ctx is done; it
// returns how many went in all.
func pruneInBatches(ctx context.Context, prune func() (int, error)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := prune()
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// errResultPruned is replayMutation's answer for a seq whose result is no
// longer kept.
var errResultPruned = audit.Errorf(audit.EPRECONDITION, "result pruned")

// resetNeeded is Push's answer when a replayed seq's result was pruned:
// the device must reset (docs/DESIGN.md §3, retention of results).
func resetNeeded(seq, applied int64) error {
	return audit.Errorf(audit.EPRECONDITION, "reset needed: applied_seq=%d, but the answer of seq %d is no longer kept (results are kept for a retention period); "+
		"pull everything again, then resend with new seqs only the visits the server has no receipt of", applied, seq)
}
