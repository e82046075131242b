// Package publish sends the readings in cw-edge's queue to the MQTT broker
// per wire contract v1, and commits them in the queue once the broker has
// acknowledged them.
//
// Readings are published at QoS 1 on cw/v1/{gateway}/{device}/telemetry,
// several readings of a device in one message (an array, at most max_batch
// readings and 64 KiB) when several are waiting, as after an outage. The
// gateway's retained status on cw/v1/{gateway}/{gateway}/status says
// {"online":true,...} with health fields on connect and every
// status_interval; the Last Will registered with the broker says
// {"online":false}, and so does a clean shutdown.
//
// The queue is the only store: the MQTT client keeps nothing across
// connections (clean session, a new client for each connection), so after a
// lost connection or a publish that is not acknowledged in time, the
// publisher reconnects with exponential backoff and publishes again from the
// last committed position, in order. A reading whose acknowledgement was
// lost may thus arrive twice (at least once); ts and seq identify it.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/queue"
	"github.com/chargewatch/chargewatch/edge/record"
)

// Token is the outcome of a publish, as paho's tokens give it.
type Token interface {
	Done() <-chan struct{}
	Error() error
}

// Conn is one connection to the broker.
type Conn interface {
	Publish(topic string, qos byte, retained bool, payload []byte) Token
	Lost() <-chan struct{} // closed when the connection is lost
	Close(quiesce time.Duration)
}

// Dialer connects to the broker, registering the Last Will.
type Dialer interface {
	Dial(ctx context.Context) (Conn, error)
}

// DialerFunc adapts a function to Dialer.
type DialerFunc func(ctx context.Context) (Conn, error)

// Dial calls f.
func (f DialerFunc) Dial(ctx context.Context) (Conn, error) { return f(ctx) }

// Config tunes the publisher.
type Config struct {
	Gateway        string
	MaxBatch       int           // readings per message, at most 500
	MaxInflight    int           // messages awaiting acknowledgement
	BatchWait      time.Duration // gather readings this long before publishing
	AckTimeout     time.Duration // a message not acknowledged by then breaks the connection
	ReconnectMin   time.Duration
	ReconnectMax   time.Duration
	StatusInterval time.Duration
}

// Health gives the health fields of the gateway's status message.
type Health func() devices.Status

// Options are the publisher's collaborators.
type Options struct {
	Clock      clock.Clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Publisher drains a queue to the broker.
type Publisher struct {
	cfg    Config
	dialer Dialer
	q      *queue.Queue
	health Health
	clock  clock.Clock
	log    *slog.Logger
	m      *metrics
	limits devices.Limits
	buf    []byte
}

// New returns a publisher of q's records through connections from d.
func New(cfg Config, d Dialer, q *queue.Queue, health Health, o Options) *Publisher {
	if o.Clock == nil {
		o.Clock = clock.NewSystem()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	lim := devices.DefaultLimits()
	if cfg.MaxBatch <= 0 || cfg.MaxBatch > lim.MaxReadings {
		cfg.MaxBatch = lim.MaxReadings
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 16
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 20 * time.Second
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = time.Second
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = max(cfg.ReconnectMin, 2*time.Minute)
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = time.Minute
	}
	if health == nil {
		health = func() devices.Status { return devices.Status{} }
	}
	return &Publisher{cfg: cfg, dialer: d, q: q, health: health, clock: o.Clock,
		log: o.Logger, m: newMetrics(o.Registerer), limits: lim}
}

// Connected reports whether the publisher has a connection to the broker.
func (p *Publisher) Connected() bool { return p.m.connectedNow.Load() }

// Run connects, publishes and reconnects until ctx is done. Then it waits
// for the acknowledgements in flight (up to AckTimeout), publishes the
// offline status and disconnects.
func (p *Publisher) Run(ctx context.Context) error {
	backoff := p.cfg.ReconnectMin
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		conn, err := p.dialer.Dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			p.m.connects.WithLabelValues("error").Inc()
			// One line when the broker goes away, then one every ten attempts.
			if failures == 1 || failures%10 == 0 {
				p.log.Warn("cannot connect to the MQTT broker; readings are kept in the queue",
					"attempts", failures, "retry_in", backoff.String(), "err", err)
			}
			if !sleep(ctx, jitter(backoff)) {
				return nil
			}
			backoff = min(2*backoff, p.cfg.ReconnectMax)
			continue
		}
		p.m.connects.WithLabelValues("ok").Inc()
		p.log.Info("connected to the MQTT broker", "after_attempts", failures+1)
		backoff, failures = p.cfg.ReconnectMin, 0
		p.m.setConnected(true)
		err = p.session(ctx, conn)
		p.m.setConnected(false)
		p.q.Rewind()
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("MQTT connection ended; reconnecting and publishing again from the last acknowledged reading", "err", err)
		if !sleep(ctx, jitter(backoff)) {
			return nil
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var errLost = errors.New("connection lost")

// session publishes on one connection until it fails or ctx is done.
func (p *Publisher) session(ctx context.Context, conn Conn) error {
	defer conn.Close(250 * time.Millisecond)
	if err := p.publishStatus(ctx, conn, true); err != nil {
		return err
	}
	status := time.NewTicker(p.cfg.StatusInterval)
	defer status.Stop()
	wait := time.NewTimer(0)
	defer wait.Stop()
	<-wait.C
	for {
		n, err := p.round(ctx, conn)
		if ctx.Err() != nil {
			// Shutting down: what was acknowledged is committed, the rest stays queued.
			p.goodbye(conn)
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			continue // a backlog: on with the next round at once
		}
		// Nothing waiting: sleep until readings arrive, then give their neighbours
		// BatchWait to join them.
		select {
		case <-ctx.Done():
			p.goodbye(conn)
			return nil
		case <-conn.Lost():
			return errLost
		case <-status.C:
			if err := p.publishStatus(ctx, conn, true); err != nil {
				return err
			}
			continue
		case <-p.q.Notify():
		}
		if p.cfg.BatchWait > 0 {
			wait.Reset(p.cfg.BatchWait)
			select {
			case <-ctx.Done():
			case <-conn.Lost():
				return errLost
			case <-wait.C:
			}
		}
	}
}

// goodbye says offline before a clean disconnect: the Last Will is only
// sent by the broker when the connection breaks.
func (p *Publisher) goodbye(conn Conn) {
	t := conn.Publish(devices.TopicFor(p.cfg.Gateway, p.cfg.Gateway, devices.ChannelStatus), 1, true, devices.LastWill)
	select {
	case <-t.Done():
	case <-time.After(2 * time.Second):
	}
}

func (p *Publisher) publishStatus(ctx context.Context, conn Conn, online bool) error {
	st := p.health()
	st.Online = online
	// A clock that reads 1970 still gives a ts (the contract believes a status that says
	// "clock":"unsynced" whatever its ts); 0 would mean none.
	st.TS = max(p.clock.Now().UnixMilli(), 1)
	p.buf = devices.AppendStatus(p.buf[:0], st)
	t := conn.Publish(devices.TopicFor(p.cfg.Gateway, p.cfg.Gateway, devices.ChannelStatus), 1, true, append([]byte(nil), p.buf...))
	return p.await(ctx, conn, []inflight{{t: t, at: time.Now()}}, true)
}

type inflight struct {
	t        Token
	at       time.Time
	readings int
}

// round publishes the next records of the queue, up to MaxInflight
// messages, and commits them once all are acknowledged. It returns the
// number of readings published.
func (p *Publisher) round(ctx context.Context, conn Conn) (int, error) {
	recs, cur, err := p.q.Read(p.cfg.MaxBatch*p.cfg.MaxInflight, 4<<20)
	if err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	// Group the readings by device, keeping their order.
	type group struct {
		dev string
		rs  []devices.Reading
	}
	var groups []group
	index := map[string]int{}
	for _, rec := range recs {
		var r devices.Reading
		dev, err := record.Decode(rec.Data, &r)
		if err != nil {
			p.m.corrupt.Inc()
			p.log.Error("queue: undecodable record skipped", "id", rec.ID, "err", err)
			continue
		}
		i, ok := index[string(dev)]
		if !ok {
			i = len(groups)
			index[string(dev)] = i
			groups = append(groups, group{dev: string(dev)})
		}
		groups[i].rs = append(groups[i].rs, r)
	}
	var flight []inflight
	total := 0
	deadline := time.Now().Add(p.cfg.AckTimeout)
	for _, g := range groups {
		topic := devices.TopicFor(p.cfg.Gateway, g.dev, devices.ChannelTelemetry)
		for rs := g.rs; len(rs) > 0; {
			n := min(len(rs), p.cfg.MaxBatch)
			payload := devices.AppendTelemetry(nil, rs[:n])
			for len(payload) > p.limits.MaxPayload && n > 1 {
				n = max(1, n*p.limits.MaxPayload/len(payload)*9/10)
				payload = devices.AppendTelemetry(payload[:0], rs[:n])
			}
			t := conn.Publish(topic, 1, false, payload)
			flight = append(flight, inflight{t: t, at: time.Now(), readings: n})
			total += n
			rs = rs[n:]
			// On a stuck link paho's Publish blocks up to its write timeout: give up on
			// the round at the first failure rather than after every message.
			select {
			case <-t.Done():
				if err := t.Error(); err != nil {
					p.m.failures.WithLabelValues("error").Inc()
					return 0, fmt.Errorf("publish: %w", err)
				}
			default:
			}
			if time.Now().After(deadline) {
				p.m.failures.WithLabelValues("timeout").Inc()
				return 0, fmt.Errorf("publishing a round took longer than %s", p.cfg.AckTimeout)
			}
		}
	}
	if err := p.await(ctx, conn, flight, false); err != nil {
		return 0, err
	}
	if err := p.q.Commit(cur); err != nil {
		return 0, err
	}
	p.m.readings.Add(float64(total))
	p.m.messages.Add(float64(len(flight)))
	return total, nil
}

// await waits for every token. When ctx is done it keeps waiting, up to
// AckTimeout, for the acknowledgements in flight, so that a clean shutdown
// commits what the broker has and does not publish it twice.
func (p *Publisher) await(ctx context.Context, conn Conn, flight []inflight, status bool) error {
	deadline := time.NewTimer(p.cfg.AckTimeout)
	defer deadline.Stop()
	done := ctx.Done()
	for _, f := range flight {
		select {
		case <-f.t.Done():
		case <-done:
			// Shutting down: keep waiting for this round, within the deadline.
			done = nil
			select {
			case <-f.t.Done():
			case <-deadline.C:
				p.m.failures.WithLabelValues("timeout").Inc()
				return ctx.Err()
			case <-conn.Lost():
				p.m.failures.WithLabelValues("lost").Inc()
				return ctx.Err()
			}
		case <-deadline.C:
			p.m.failures.WithLabelValues("timeout").Inc()
			return fmt.Errorf("no acknowledgement within %s", p.cfg.AckTimeout)
		case <-conn.Lost():
			p.m.failures.WithLabelValues("lost").Inc()
			return errLost
		}
		if err := f.t.Error(); err != nil {
			p.m.failures.WithLabelValues("error").Inc()
			return fmt.Errorf("publish: %w", err)
		}
		if !status {
			p.m.latency.Observe(time.Since(f.at).Seconds())
		}
	}
	return nil
}
