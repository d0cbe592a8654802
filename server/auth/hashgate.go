package auth

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/shopscore/shopscore/audit"
)

// HashMemory is the memory, in bytes, one Argon2id hash with the
// parameters of HashPassword needs.
const HashMemory = argonMemory * 1024

// HashGate bounds the memory that password hashing uses at once. Each
// Argon2id hash holds its whole memory parameter (64 MiB for ours) while
// it runs, so unbounded concurrent logins could exhaust the server's
// memory. A HashGate lets hashes run while their memory fits its budget,
// lets a short queue wait for room, and refuses the rest at once with
// EEXHAUSTED. It is safe for concurrent use.
type HashGate struct {
	slots   chan struct{} // one token per HashMemory of the budget
	take    sync.Mutex    // one acquirer takes tokens at a time
	pending atomic.Int64  // running and waiting hashes
	limit   int64         // most running plus waiting
}

// NewHashGate returns a HashGate that lets hashes use up to budget bytes
// at once (at least one hash runs, whatever the budget) and lets up to
// queue more wait for room.
func NewHashGate(budget int64, queue int) *HashGate {
	n := max(1, int(budget/HashMemory))
	g := &HashGate{slots: make(chan struct{}, n), limit: int64(n + max(0, queue))}
	for range n {
		g.slots <- struct{}{}
	}
	return g
}

// acquire waits for the room a hash of memory KiB needs. It returns
// EEXHAUSTED when the queue is full, or ctx's error when ctx ends first;
// otherwise the caller must call the release it returns.
func (g *HashGate) acquire(ctx context.Context, memoryKiB uint32) (release func(), err error) {
	if g.pending.Add(1) > g.limit {
		g.pending.Add(-1)
		return nil, audit.Errorf(audit.EEXHAUSTED, "the server is busy checking other passwords; try again in a few seconds")
	}
	need := min(cap(g.slots), max(1, int((int64(memoryKiB)*1024+HashMemory-1)/HashMemory)))
	got := 0
	giveBack := func() {
		for range got {
			g.slots <- struct{}{}
		}
		g.pending.Add(-1)
	}
	g.take.Lock()
	defer g.take.Unlock()
	for got < need {
		select {
		case <-g.slots:
			got++
		case <-ctx.Done():
			giveBack()
			return nil, ctx.Err()
		}
	}
	return giveBack, nil
}

// CheckPassword is CheckPassword run within the gate's budget. Errors:
// EEXHAUSTED (the queue is full), ctx's error, and CheckPassword's.
func (g *HashGate) CheckPassword(ctx context.Context, encoded, password string) (bool, error) {
	p, err := parseArgonParams(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil // no hash needed: HashPassword never accepted it
	}
	release, err := g.acquire(ctx, p.memory)
	if err != nil {
		return false, err
	}
	defer release()
	return CheckPassword(encoded, password)
}

// HashPassword is HashPassword run within the gate's budget. Errors:
// EEXHAUSTED (the queue is full), ctx's error, and HashPassword's.
func (g *HashGate) HashPassword(ctx context.Context, password string) (string, error) {
	if n := len(password); n < MinPasswordLen || n > MaxPasswordLen {
		return HashPassword(password) // refused before any work
	}
	release, err := g.acquire(ctx, argonMemory)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}
