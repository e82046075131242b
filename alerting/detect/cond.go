package detect

import "time"

// cond is the state of one level rule on one device (or pile port). Its
// input is measurements (readings, in event-time order) and device-reported
// events; the events latch the condition until a later input clears it.
// The caller feeds measurements in event-time order. 32 bytes.
type cond struct {
	since  int64   // event time the condition started; 0 when idle
	below  int64   // first measurement at or within the clear level while firing; 0 otherwise
	latch  int64   // event time of the last device-reported raise; 0 when none
	worst  float32 // most extreme value while active
	firing bool
	over   bool // the last measurement was beyond the clear level
}

func (c *cond) active() bool { return c.since != 0 }

func (c *cond) reset() { *c = cond{} }

func ms(d time.Duration) int64 { return d.Milliseconds() }

// beyond reports whether v is at or beyond limit in direction dir (+1: an
// upper threshold, -1: a lower one).
func beyond(v, limit float64, dir int8) bool {
	if dir < 0 {
		return v <= limit
	}
	return v >= limit
}

func (c *cond) keepWorst(v float64, dir int8) {
	if float64(c.worst)*float64(dir) < v*float64(dir) {
		c.worst = float32(v)
	}
}

// latched reports whether a device-reported event still holds the
// condition at ts: events hold until an input later than the event (quiet
// 0), or until quiet has passed since the event.
func (c *cond) latched(ts, quiet int64) bool {
	return c.latch != 0 && ts < c.latch+quiet
}

// measure applies a measurement and returns the operation to signal, or 0.
func (c *cond) measure(ts int64, v float64, th *Threshold, dir int8, quiet int64) Op {
	over := beyond(v, th.Raise, dir)
	clear := beyond(v, th.Clear, -dir) && !over
	c.over = !clear
	if !c.active() {
		if !over {
			return 0
		}
		c.since, c.worst, c.below = ts, float32(v), 0
		if th.For <= 0 {
			c.firing = true
			return OpFire
		}
		return OpPending
	}
	c.keepWorst(v, dir)
	if clear && !c.latched(ts, quiet) {
		if !c.firing {
			c.reset()
			return OpClear
		}
		if c.below == 0 {
			c.below = ts
		}
		if ts-c.below >= ms(th.ClearFor) {
			c.reset()
			return OpClear
		}
		return 0
	}
	c.below = 0
	if !c.firing && ts-c.since >= ms(th.For) {
		c.firing = true
		return OpFire
	}
	return 0
}

// raise applies a device-reported event that asserts the condition: it
// fires at once.
func (c *cond) raise(ts int64, v float64, dir int8) Op {
	if ts > c.latch {
		c.latch = ts
	}
	if !c.active() {
		c.since, c.worst, c.below, c.firing = ts, float32(v), 0, true
		return OpFire
	}
	c.keepWorst(v, dir)
	c.below = 0
	if !c.firing {
		c.firing = true
		return OpFire
	}
	return 0
}

// lower applies a device-reported event that ends the condition
// (smoke_clear, tamper_clear, fault_clear, battery_ok). It is ignored when
// older than the event that raised it.
func (c *cond) lower(ts int64) Op {
	if ts < c.latch || !c.active() {
		return 0
	}
	c.reset()
	return OpClear
}

// expire clears an event-latched condition once quiet has passed since the
// event, judged by a later input of the device that carries no measurement
// for this rule (quiet > 0 only).
func (c *cond) expire(ts, quiet int64) Op {
	if !c.active() || c.latch == 0 || c.latched(ts, quiet) || c.over {
		return 0
	}
	c.reset()
	return OpClear
}
