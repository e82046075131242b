// Package clock gives cw-edge two views of time: the wall clock, which on a
// gateway without a battery-backed clock may read 1970 until NTP has run,
// and a monotonic clock, which is always right about elapsed time. Readings
// are measured on the monotonic clock and stamped with wall time only once
// the wall clock is believable (see Synced).
package clock

import (
	"sync"
	"time"
)

// Clock is the source of time for cw-edge components.
type Clock interface {
	Now() time.Time      // wall clock time; possibly wrong before synchronisation
	Mono() time.Duration // monotonic time since an arbitrary origin
}

// Floor is the earliest wall time cw-edge believes: a clock that reads
// earlier has not been synchronised since boot. It is a build-time constant
// of this release.
var Floor = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Synced reports whether wall time t can be believed, given floor.
func Synced(t, floor time.Time) bool { return !t.Before(floor) }

// System is the machine's clock.
type System struct{ start time.Time }

// NewSystem returns the machine's clock.
func NewSystem() *System { return &System{start: time.Now()} }

// Now returns the wall clock time without its monotonic reading.
func (s *System) Now() time.Time { return time.Now().Round(0) }

// Mono returns the monotonic time since s was made.
func (s *System) Mono() time.Duration { return time.Since(s.start) }

// Fake is a settable clock for tests: Advance moves both clocks, SetWall
// steps the wall clock alone (as NTP does at boot).
type Fake struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

// NewFake returns a fake clock reading wall.
func NewFake(wall time.Time) *Fake { return &Fake{wall: wall} }

// Now returns the fake wall time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wall
}

// Mono returns the fake monotonic time.
func (f *Fake) Mono() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mono
}

// Advance moves both clocks forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.wall = f.wall.Add(d)
	f.mono += d
	f.mu.Unlock()
}

// SetWall steps the wall clock to t; the monotonic clock does not move.
func (f *Fake) SetWall(t time.Time) {
	f.mu.Lock()
	f.wall = t
	f.mu.Unlock()
}
