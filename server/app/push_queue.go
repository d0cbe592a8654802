package app

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// maxGroupMutations bounds the mutations of one group commit: a group
// takes waiting pushes, oldest first, while their mutations fit (the
// first always does), so that one transaction stays short enough for the
// answers of its first pushes not to wait for hundreds of others.
const maxGroupMutations = 2 * MaxPushMutations

// pendingPush is a prepared push waiting for, or inside, a group commit.
type pendingPush struct {
	ctx    context.Context
	dev    Device
	sentAt time.Time
	muts   []Mutation

	out *PushResult // what applyPush worked out, nil when it did not run
	err error       // the push's own error
	// turn tells the waiting push what happened: true, it leads the
	// next group; false, it was answered (out and err are set).
	turn chan bool
}

// answer is the push's answer: its result, or its error with the applied
// seq for a gap or a reset (Push).
func (p *pendingPush) answer() (*PushResult, error) {
	switch code := audit.ErrorCode(p.err); {
	case code == audit.EABORTED || code == audit.EPRECONDITION:
		applied := int64(0)
		if p.out != nil {
			applied = p.out.AppliedSeq
		}
		return &PushResult{AppliedSeq: applied}, p.err
	case p.err != nil:
		return nil, p.err
	}
	return p.out, nil
}

// refusal reports whether err is a push's own answer that leaves the
// group to commit without it: the errors Push documents for a whole push,
// each decided before it stored anything. Any other error (a fault of the
// database, a broken savepoint) fails the group, whose pushes then run
// one by one.
func refusal(err error) bool {
	switch audit.ErrorCode(err) {
	case audit.EUNAUTHORIZED, audit.EABORTED, audit.EPRECONDITION:
		return true
	}
	return false
}

// pushQueue gathers the pushes that wait for the writer and commits them
// in groups (docs/DESIGN.md §3). There is no goroutine of its own: the
// first push to find the writer free leads, taking every push that waits
// (up to maxGroupMutations) into one write transaction; when it has
// committed and answered them, it hands the lead to the oldest push that
// arrived meanwhile, or frees the writer. The queue is FIFO, so the
// pushes of one device are applied in the order they arrived.
type pushQueue struct {
	mu      sync.Mutex
	waiting []*pendingPush
	busy    bool // a leader is committing a group
}

// run queues p, waits for its group to be committed with commit and
// returns once p is answered (or p.ctx ends before its group began).
func (q *pushQueue) run(p *pendingPush, commit func([]*pendingPush)) {
	p.turn = make(chan bool, 1)
	q.mu.Lock()
	q.waiting = append(q.waiting, p)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	if lead {
		q.lead(commit)
		return
	}
	select {
	case lead = <-p.turn:
	case <-p.ctx.Done():
		q.mu.Lock()
		select {
		case lead = <-p.turn:
			q.mu.Unlock()
		default:
			if i := slices.Index(q.waiting, p); i >= 0 {
				// Not taken yet: it leaves without a trace.
				q.waiting = slices.Delete(q.waiting, i, i+1)
				q.mu.Unlock()
				p.err = p.ctx.Err()
				return
			}
			// Inside a group that is committing: its answer comes.
			q.mu.Unlock()
			lead = <-p.turn
		}
	}
	if lead {
		q.lead(commit)
	}
}

// lead commits the next group, which begins with the leader's own push,
// answers its pushes and passes the lead on.
func (q *pushQueue) lead(commit func([]*pendingPush)) {
	q.mu.Lock()
	n, muts := 0, 0
	for n < len(q.waiting) && (n == 0 || muts+len(q.waiting[n].muts) <= maxGroupMutations) {
		muts += len(q.waiting[n].muts)
		n++
	}
	group := slices.Clone(q.waiting[:n])
	q.waiting = slices.Delete(q.waiting, 0, n)
	q.mu.Unlock()

	committed := false
	defer func() {
		// Even when commit panics, the group is answered and the lead
		// passed on: the queue never stops.
		for _, p := range group {
			if !committed {
				p.out, p.err = nil, errGroupFailed
			}
			p.turn <- false
		}
		q.mu.Lock()
		if len(q.waiting) > 0 {
			q.waiting[0].turn <- true
		} else {
			q.busy = false
		}
		q.mu.Unlock()
	}()
	commit(group)
	committed = true
}

// errGroupFailed answers the pushes of a group whose commit did not
// return (it panicked): nothing of theirs is known to be stored, and the
// device's retry is a replay if it was.
var errGroupFailed = audit.Errorf(audit.EINTERNAL, "the push's transaction failed; retry")

// commitPushes applies a group of pushes in one write transaction, each
// under its own savepoint, and sets each push's answer. A push whose
// request ended before the group began is left out. When the group fails
// as a whole (a fault rather than a push's refusal, or the commit), each
// of its pushes runs again alone, so that one push's fault is its own.
func (a *App) commitPushes(group []*pendingPush) {
	// The transaction serves many requests: no single one may cancel it.
	ctx := context.WithoutCancel(group[0].ctx)
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		for _, p := range group {
			p.out, p.err = nil, p.ctx.Err()
			if p.err != nil {
				continue
			}
			err := tx.Savepoint(ctx, func() error {
				p.err = a.applyPush(ctx, tx, p)
				return p.err
			})
			if err != p.err || (err != nil && !refusal(err)) {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if len(group) == 1 {
		group[0].out, group[0].err = nil, err
		return
	}
	for _, p := range group {
		a.commitPushes([]*pendingPush{p})
	}
}
