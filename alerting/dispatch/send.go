package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

// maxErrorText bounds the error kept in a receipt.
const maxErrorText = 500

// criticalReserve is how many requests of critical messages may be in
// flight beyond outbox.concurrency.
const criticalReserve = 4

// inflightIDs returns the ids in flight; called with smu held.
func (d *Dispatcher) inflightIDs() []int64 {
	ids := make([]int64, 0, len(d.inflight))
	for id := range d.inflight {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// sendDue starts sending the pending messages that are due, as many as
// there are free slots, most severe first. Each send runs in its own
// goroutine (counted by d.sends) with sendCtx, which outlives ctx by the
// shutdown grace. It returns how many it started.
func (d *Dispatcher) sendDue(ctx, sendCtx context.Context) int {
	conc := d.cfg.Outbox.Concurrency
	d.smu.Lock()
	n := len(d.inflight)
	skip := d.inflightIDs()
	d.smu.Unlock()
	// Critical messages may use a few slots more, so that slow receivers
	// of other messages cannot hold up a smoke alarm.
	if n >= conc+criticalReserve {
		return 0
	}
	now := d.clock.Now()
	rows, err := d.db.due(ctx, now.UnixMilli(), skip, conc+criticalReserve-n)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("reading the outbox failed", "err", err)
		}
		return 0
	}
	started := 0
	for _, r := range rows {
		critical := alerting.Severity(r.severity) >= alerting.SeverityCritical
		if !critical && n >= conc {
			continue
		}
		if r.kind != string(kindForward) {
			ok, wait := d.allow(r.channel, r.address, now, critical)
			if !ok {
				d.m.rateLimited(r.channel)
				if err := d.db.reschedule(ctx, r.id, now.Add(wait).UnixMilli()); err != nil {
					d.log.Error("rescheduling a rate-limited message failed", "id", r.id, "err", err)
				}
				continue
			}
		}
		d.smu.Lock()
		d.inflight[r.id] = true
		d.smu.Unlock()
		d.sends.Add(1)
		started++
		n++
		go func() {
			defer d.sends.Done()
			d.deliver(sendCtx, r)
			d.smu.Lock()
			delete(d.inflight, r.id)
			d.smu.Unlock()
			d.wake()
		}()
	}
	return started
}

// deliver makes one attempt at one outbox row and records the outcome:
// sent, a retry with backoff, a fallback to the person's next contact, or
// failed.
func (d *Dispatcher) deliver(ctx context.Context, r outRow) {
	var m notify.Message
	if err := json.Unmarshal(r.message, &m); err != nil {
		d.finish(ctx, r, nil, notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("corrupt message: %w", err)), 0)
		return
	}
	m.ID = r.id
	m.Recipient.Channel, m.Recipient.Address = r.channel, r.address
	n := d.notifiers[r.channel]
	if n == nil {
		d.finish(ctx, r, &m, notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("channel %s is not configured", r.channel)), 0)
		return
	}
	actx, cancel := context.WithTimeout(ctx, d.cfg.Outbox.Timeout)
	start := time.Now()
	err := n.Notify(actx, &m)
	cancel()
	dur := time.Since(start)
	if err != nil && ctx.Err() != nil {
		// Shutting down: not an attempt; it stays pending for the next start.
		return
	}
	d.finish(ctx, r, &m, err, dur)
}

// finish records an attempt's outcome. The database writes use a context
// that outlives the shutdown, so a result is not lost.
func (d *Dispatcher) finish(ctx context.Context, r outRow, m *notify.Message, err error, dur time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := d.clock.Now()
	attempts := r.attempts + 1
	d.m.attempt(r.channel, dur)
	log := d.log.With("delivery", r.id, "channel", r.channel, "person", r.person, "kind", r.kind, "attempt", attempts)
	if err == nil {
		if err := d.db.markSent(ctx, r.id, attempts, now.UnixMilli()); err != nil {
			log.Error("recording a delivery failed (it may be sent again)", "err", err)
		}
		d.m.result(r.channel, "sent")
		d.m.latency(r.channel, time.Duration(now.UnixMilli()-r.createdAt)*time.Millisecond)
		return
	}
	reason := notify.ReasonOf(err)
	d.m.failure(r.channel, reason)
	text := notify.Truncate(err.Error(), maxErrorText)
	permanent := notify.IsPermanent(err)
	if len(r.fallback) > 0 && m != nil && (permanent || attempts >= d.cfg.Outbox.FallbackAfter) {
		next := r.fallback[0]
		fm := *m
		fm.ID = 0
		fm.Recipient.Channel, fm.Recipient.Address = next.Channel, next.Address
		b, merr := json.Marshal(&fm)
		if merr == nil {
			fb := &newRow{
				createdAt: now.UnixMilli(), kind: r.kind, channel: next.Channel, person: r.person, address: next.Address,
				level: r.level, severity: r.severity, message: b, fallback: r.fallback[1:], fallbackOf: r.id,
				nextAt: now.UnixMilli(), alerts: r.alerts,
			}
			id, ferr := d.db.markFailed(ctx, r.id, attempts, now.UnixMilli(), text+"; falling back to "+next.Channel, fb)
			if ferr != nil {
				log.Error("recording a fallback failed", "err", ferr)
				return
			}
			d.m.result(r.channel, "fallback")
			log.Warn("delivery failed; falling back to the next contact", "reason", reason, "to", next.Channel, "fallback", id, "err", text)
			d.wake()
			return
		}
	}
	age := time.Duration(now.UnixMilli()-r.createdAt) * time.Millisecond
	if permanent || attempts >= d.cfg.Outbox.MaxAttempts || age >= d.cfg.Outbox.MaxAge {
		if _, ferr := d.db.markFailed(ctx, r.id, attempts, now.UnixMilli(), text, nil); ferr != nil {
			log.Error("recording a failed delivery failed", "err", ferr)
		}
		d.m.result(r.channel, "failed")
		log.Error("delivery failed for good", "reason", reason, "err", text)
		return
	}
	wait := d.backoff(attempts, notify.RetryAfter(err))
	if ferr := d.db.markRetry(ctx, r.id, attempts, now.Add(wait).UnixMilli(), text); ferr != nil {
		log.Error("recording a retry failed", "err", ferr)
	}
	d.m.result(r.channel, "retry")
	log.Warn("delivery failed; retrying", "reason", reason, "in", wait, "err", text)
}

// backoff is the wait before attempt n+1: exponential with ±20% jitter,
// at least what the receiver asked for, at most an hour.
func (d *Dispatcher) backoff(n int, retryAfter time.Duration) time.Duration {
	o := d.cfg.Outbox
	w := o.InitialBackoff
	for i := 1; i < n && w < o.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, o.MaxBackoff)
	w = time.Duration(float64(w) * (0.8 + 0.4*rand.Float64()))
	return min(max(w, retryAfter), time.Hour)
}

// bucket is a token bucket of one contact address.
type bucket struct {
	tokens float64
	last   time.Time
	rate   float64 // tokens per second
	burst  float64
}

func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
}

// idle reports whether the bucket is full again (it can be dropped).
func (b *bucket) idle(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}

// allow takes a token for a message to an address; a critical message
// always goes (and still takes a token when there is one). It returns how
// long to wait otherwise.
func (d *Dispatcher) allow(ch, address string, now time.Time, critical bool) (bool, time.Duration) {
	rl, ok := d.cfg.RateLimits[ch]
	if !ok {
		return true, 0
	}
	// Buckets are keyed by a hash: an address may hold a robot key.
	h := sha256.Sum256([]byte(ch + "\x00" + address))
	key := string(h[:16])
	d.smu.Lock()
	defer d.smu.Unlock()
	b := d.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(rl.Count), burst: float64(rl.Count), rate: float64(rl.Count) / rl.Per.Seconds(), last: now}
		d.buckets[key] = b
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if critical {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// maxForward bounds the alerts in one forward request.
const maxForward = 200

// resync posts every open alert to each forwarder whose resend interval
// has passed.
func (d *Dispatcher) resync(ctx context.Context) {
	now := d.clock.Now()
	for name, f := range d.forwarders {
		d.mu.Lock()
		due := now.Sub(d.lastResync[name]) >= f.ResendInterval()*9/10
		var open []*alerting.Alert
		if due {
			d.lastResync[name] = now
			for _, t := range d.alerts {
				if t.a.State == alerting.StateFiring || t.a.State == alerting.StateAcknowledged {
					open = append(open, t.a.Clone())
				}
			}
		}
		d.mu.Unlock()
		if !due || len(open) == 0 {
			continue
		}
		slices.SortFunc(open, func(a, b *alerting.Alert) int { return int(a.ID - b.ID) })
		snap := d.reg.Current()
		for chunk := range slices.Chunk(open, maxForward) {
			m := &notify.Message{Kind: kindForward, Locale: d.cfg.Locale, At: now.In(d.loc), Recipient: notify.Recipient{Channel: name}}
			for _, a := range chunk {
				m.Alerts = append(m.Alerts, d.view(snap, a))
				m.Severity = max(m.Severity, a.Severity)
			}
			c, cancel := context.WithTimeout(ctx, d.cfg.Outbox.Timeout)
			err := f.Notify(c, m)
			cancel()
			if err != nil {
				d.m.resync(name, "error")
				if !errors.Is(err, context.Canceled) {
					d.log.Warn("re-sending open alerts failed", "channel", name, "alerts", len(chunk), "err", err)
				}
				continue
			}
			d.m.resync(name, "ok")
		}
	}
}
