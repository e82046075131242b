// Package ratelimit is a keyed token bucket: each key (a client address, a
// person) gets Burst tokens that refill at Rate per second; an action takes
// one. The number of keys is bounded: when the table is full, keys whose
// buckets have refilled completely (idle ones, as good as new) are dropped,
// and if none can be, new keys share one overflow bucket, so an attacker
// with many addresses exhausts the overflow bucket, not the memory.
package ratelimit

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter limits actions per key. The zero value is not usable; use New.
type Limiter struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	overflow  bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// New returns a limiter: burst actions at once per key, refilled at rate
// per second; at most maxKeys keys are tracked (default 10,000).
func New(rate float64, burst int, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = 10000
	}
	return &Limiter{rate: rate, burst: float64(max(burst, 1)), maxKeys: maxKeys, now: time.Now,
		buckets: map[string]*bucket{}, overflow: bucket{tokens: float64(max(burst, 1))}}
}

// SetClock replaces time.Now, for tests.
func (l *Limiter) SetClock(now func() time.Time) {
	l.mu.Lock()
	l.now = now
	l.mu.Unlock()
}

// refill brings b up to now.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if b.at.IsZero() {
		b.at = now
		return
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+d*l.rate)
		b.at = now
	}
}

// get returns the bucket of key, creating it full. Called with mu held.
func (l *Limiter) get(key string, now time.Time) *bucket {
	if b, ok := l.buckets[key]; ok {
		l.refill(b, now)
		return b
	}
	if len(l.buckets) >= l.maxKeys && now.Sub(l.lastPrune) >= time.Second {
		l.lastPrune = now
		for k, b := range l.buckets {
			l.refill(b, now)
			if b.tokens >= l.burst {
				delete(l.buckets, k)
			}
		}
	}
	if len(l.buckets) >= l.maxKeys {
		l.refill(&l.overflow, now)
		return &l.overflow
	}
	b := &bucket{tokens: l.burst, at: now}
	l.buckets[key] = b
	return b
}

// Allow takes a token of key. When there is none it returns false and how
// long until there is one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.get(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// Blocked reports, without taking a token, whether key has none left and
// how long until it has one.
func (l *Limiter) Blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) < l.maxKeys {
			return false, 0
		}
		b = &l.overflow
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, l.wait(b)
}

func (l *Limiter) wait(b *bucket) time.Duration {
	if l.rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Burst returns the bucket size.
func (l *Limiter) Burst() float64 { return l.burst }

// Every returns the time it takes to refill one token.
func (l *Limiter) Every() time.Duration {
	if l.rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(float64(time.Second) / l.rate)
}

// Handler limits the requests of each client address (the connection's IP;
// behind a reverse proxy, the proxy's) to next: beyond the limit it answers
// 429 Too Many Requests with Retry-After. onLimit, if not nil, is called
// for each refused request (a metric).
func Handler(l *Limiter, next http.Handler, onLimit func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if ok, wait := l.Allow(host); !ok {
			if onLimit != nil {
				onLimit()
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			http.Error(w, "too many requests from "+host+": try again in a minute", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}
