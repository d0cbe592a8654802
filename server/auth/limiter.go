package auth

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shopscore/shopscore/audit"
)

// DefaultLimiterMaxKeys is the number of keys a Limiter tracks unless told
// otherwise.
const DefaultLimiterMaxKeys = 100_000

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	// Every is the time in which a key earns one more event; it must be
	// positive.
	Every time.Duration
	// Burst is the number of events a key may spend at once; it must be
	// positive.
	Burst int
	// MaxKeys bounds the number of keys tracked; DefaultLimiterMaxKeys if
	// zero or negative.
	MaxKeys int
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Limiter rate-limits events per key, such as login attempts per account
// and per client address, with one token bucket (golang.org/x/time/rate)
// per key. A key idle long enough for its bucket to refill is forgotten,
// which loses nothing; beyond MaxKeys, the least recently used key is
// forgotten, which gives it a full bucket again. It is safe for concurrent
// use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	refill  time.Duration // how long an empty bucket takes to fill
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *limiterEntry
	lru  *list.List               // most recently used first
}

// limiterEntry is one key's bucket.
type limiterEntry struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a Limiter that lets each key have burst events at
// once and one more every interval, tracking at most
// DefaultLimiterMaxKeys keys. It returns EINVALID if every or burst is not
// positive.
func NewLimiter(every time.Duration, burst int) (*Limiter, error) {
	return NewLimiterConfig(LimiterConfig{Every: every, Burst: burst})
}

// NewLimiterConfig returns a Limiter configured by cfg. It returns
// EINVALID if cfg.Every or cfg.Burst is not positive.
func NewLimiterConfig(cfg LimiterConfig) (*Limiter, error) {
	if cfg.Every <= 0 || cfg.Burst <= 0 {
		return nil, audit.Errorf(audit.EINVALID, "auth: a rate limit needs a positive interval and burst, not %v and %d", cfg.Every, cfg.Burst)
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultLimiterMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	refill := time.Duration(math.MaxInt64)
	if int64(cfg.Burst) <= math.MaxInt64/int64(cfg.Every) {
		refill = cfg.Every * time.Duration(cfg.Burst)
	}
	return &Limiter{
		limit:   rate.Every(cfg.Every),
		burst:   cfg.Burst,
		maxKeys: cfg.MaxKeys,
		refill:  refill,
		now:     cfg.Now,
		keys:    make(map[string]*list.Element),
		lru:     list.New(),
	}, nil
}

// Allow reports whether an event for key may happen now, and if so spends
// one token of key's bucket.
func (l *Limiter) Allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)
	var e *limiterEntry
	if el, ok := l.keys[key]; ok {
		e = el.Value.(*limiterEntry)
		l.lru.MoveToFront(el)
	} else {
		for l.lru.Len() >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		e = &limiterEntry{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = l.lru.PushFront(e)
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// Len returns the number of keys the Limiter tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// evictIdle forgets the keys whose buckets are full again at now.
func (l *Limiter) evictIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*limiterEntry).seen) < l.refill {
			return
		}
		l.remove(el)
	}
}

// remove forgets the key of el.
func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*limiterEntry).key)
	l.lru.Remove(el)
}
