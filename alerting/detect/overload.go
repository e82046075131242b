package detect

import (
	"math"
	"time"
)

// overload is the inverse-time overload state of one device: a cond plus
// the integral of dt / T(m). 40 bytes.
type overload struct {
	c   cond
	acc float32 // fraction of the alarm time used up, 0..1
	m   float32 // multiple at the previous reading
}

// AlarmDelay returns T(m), the time the overload rule takes to fire with the
// current held at m times the rated current, measured from the first
// reading over the pickup: 0 at or above Instant, K / (m² − Pickup²) capped
// at MaxDelay above Pickup, and -1 (never) at or under Pickup.
func (o *OverloadConfig) AlarmDelay(m float64) time.Duration {
	switch {
	case m >= o.Instant:
		return 0
	case m <= o.Pickup:
		return -1
	}
	t := o.K / (m*m - o.Pickup*o.Pickup)
	d := time.Duration(t * float64(time.Second))
	if d > o.MaxDelay || t > o.MaxDelay.Seconds() {
		return o.MaxDelay
	}
	return d
}

// observe applies a current reading of m times the rated current at ts and
// returns the operation to signal, or 0. prevTS is the device's previous
// reading (0 if none); quiet is how long an overload event holds.
func (o *overload) observe(cfg *OverloadConfig, ts, prevTS int64, m float64, quiet int64) Op {
	c := &o.c
	dt := ts - prevTS
	if prevTS == 0 || dt < 0 {
		dt = 0
	}
	if max := ms(cfg.MaxGap); dt > max {
		dt = max
	}
	over := m > cfg.Pickup
	c.over = m > cfg.Clear
	mp := float64(o.m) // the multiple held since the previous reading
	o.m = float32(m)
	if !c.active() {
		if !over {
			return 0
		}
		c.since, c.worst, c.below, o.acc = ts, float32(m), 0, 0
		if m >= cfg.Instant {
			c.firing = true
			o.acc = 1
			return OpFire
		}
		return OpPending
	}
	c.keepWorst(m, 1)
	// Each reading's multiple holds until the next reading: the first
	// reading over the pickup starts the clock, and the interval since the
	// previous reading is credited at the previous reading's multiple. A
	// reading at or above Instant fires at once.
	switch {
	case m >= cfg.Instant:
		o.acc = 1
	case mp > cfg.Pickup:
		t := cfg.AlarmDelay(mp)
		if t <= 0 {
			o.acc = 1
		} else {
			o.acc = float32(math.Min(1, float64(o.acc)+float64(dt)/float64(t.Milliseconds())))
		}
	default:
		o.acc = float32(math.Max(0, float64(o.acc)-float64(dt)/float64(ms(cfg.Reset))))
	}
	if !c.firing {
		if o.acc >= 1 {
			c.firing = true
			return OpFire
		}
		if !over && o.acc <= 0 && mp <= cfg.Pickup {
			c.reset()
			o.acc = 0
			return OpClear
		}
		return 0
	}
	if m <= cfg.Clear && !c.latched(ts, quiet) {
		if c.below == 0 {
			c.below = ts
		}
		if ts-c.below >= ms(cfg.ClearFor) {
			c.reset()
			o.acc = 0
			return OpClear
		}
		return 0
	}
	c.below = 0
	return 0
}
