// Package dispatch reaches people about alerts: it routes each alert to
// the grid workers on duty for its community, groups the alerts of one
// building into one message, climbs the escalation ladder of its severity
// while nobody acknowledges it, and delivers every message through a
// persisted outbox with retries, rate limits, channel fallback and
// receipts. It also forwards alert state to Alertmanager, and serves the
// personal acknowledgement links that messages carry.
//
// # Wiring
//
// The engine hands committed transitions to a Dispatcher, which is an
// engine.Notifier:
//
//	d, err := dispatch.Open(ctx, "/var/lib/chargewatch/dispatch.db", dispatch.Options{
//		Config: cfg, Registry: reg, Audit: alertStore, Registerer: promReg, Logger: log,
//	})
//	eng, err := engine.New(ctx, alertStore, reg, engine.Options{Notifier: d, ...})
//	go d.Run(ctx)
//	mux.Handle(cfg.AckLink.Path, d.AckHandler(func(ctx context.Context, id int64, person string) error {
//		_, err := eng.Ack(ctx, id, person, "acknowledged from the personal link")
//		return err
//	}))
//	// API: d.Receipts(ctx, filter), d.AlertReceipts(ctx, id), d.Backlog(ctx)
//
// Notify never blocks: it puts the batch on a bounded queue. The
// dispatcher keeps its own cursor in the audit log (the last audit id it
// routed, stored with the messages it produced in one transaction), so a
// full queue, a crash or a restart loses nothing: it reads what it missed
// from the alert store's audit log (Options.Audit) and routes it.
//
// # Locks
//
// mu guards the routing state (the followed alerts, the cursor); smu the
// sending state (requests in flight, rate-limit buckets). They are never
// held together. SQLite writes go through one connection.
package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// Registry gives the current registry snapshot; *registry.Store is one.
type Registry interface{ Current() *registry.Snapshot }

// Clock tells wall time. Tests inject one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// AuditSource is the alert store's audit log, read to catch up on
// transitions the dispatcher did not get through Notify (while it was
// down, or when its queue was full); *store.Store is one.
type AuditSource interface {
	AuditSince(ctx context.Context, after int64, limit int) ([]alerting.Audit, error)
	AlertsByID(ctx context.Context, ids []int64) (map[int64]*alerting.Alert, error)
}

// Options are the dispatcher's dependencies; only Registry is required.
type Options struct {
	Config   *Config  // nil: DefaultConfig()
	Registry Registry // required
	// Notifiers by channel (sms, webhook, wecom, dingtalk, alertmanager);
	// nil: built from Config.Channels.
	Notifiers  map[string]notify.Notifier
	Audit      AuditSource           // nil: no catch-up
	Clock      Clock                 // nil: the system clock
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics
	// ShutdownGrace is how long Run lets requests in flight finish when
	// its context ends; default 5s. Unfinished ones stay pending.
	ShutdownGrace time.Duration
}

// Dispatcher routes alert transitions to people and delivers the
// messages. Its methods are safe for concurrent use.
type Dispatcher struct {
	cfg        *Config
	db         *db
	reg        Registry
	src        AuditSource
	clock      Clock
	log        *slog.Logger
	m          *metrics
	notifiers  map[string]notify.Notifier
	forwarders map[string]notify.Forwarder
	linkKey    notify.Secret // signs the ack links
	loc        *time.Location
	grace      time.Duration

	inbox     chan []engine.Transition
	behind    atomic.Bool // the inbox dropped a batch: catch up from the audit log
	wakeRoute chan struct{}
	wakeSend  chan struct{}

	mu         sync.Mutex
	alerts     map[int64]*tracked
	cursor     int64 // last audit id routed (committed)
	fresh      bool  // the database had no cursor
	lastHouse  time.Time
	lastResync map[string]time.Time

	smu      sync.Mutex
	inflight map[int64]bool
	buckets  map[string]*bucket
	sends    sync.WaitGroup
}

// Meta keys.
const (
	metaCursor  = "audit_cursor"
	metaLinkKey = "ack_link_key"
)

// Open opens (creating and migrating) the dispatch database at path and
// restores the dispatcher: the alerts it follows, its audit cursor and
// its pending messages, which Run resumes sending.
func Open(ctx context.Context, path string, o Options) (*Dispatcher, error) {
	if o.Registry == nil {
		return nil, errors.New("dispatch: a registry is required")
	}
	cfg := o.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	d := &Dispatcher{
		cfg: cfg, reg: o.Registry, src: o.Audit, clock: o.Clock, log: o.Logger, loc: registry.Shanghai(),
		grace: o.ShutdownGrace, notifiers: o.Notifiers, forwarders: map[string]notify.Forwarder{},
		inbox: make(chan []engine.Transition, cfg.Outbox.Queue), wakeRoute: make(chan struct{}, 1), wakeSend: make(chan struct{}, 1),
		alerts: map[int64]*tracked{}, lastResync: map[string]time.Time{}, inflight: map[int64]bool{}, buckets: map[string]*bucket{},
	}
	if d.clock == nil {
		d.clock = systemClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.grace <= 0 {
		d.grace = 5 * time.Second
	}
	if d.notifiers == nil {
		ns, err := cfg.Channels.Notifiers()
		if err != nil {
			return nil, fmt.Errorf("dispatch: %w", err)
		}
		d.notifiers = ns
	}
	for name, n := range d.notifiers {
		if f, ok := n.(notify.Forwarder); ok {
			d.forwarders[name] = f
		}
	}
	var err error
	if d.db, err = openDB(ctx, path); err != nil {
		return nil, fmt.Errorf("dispatch: open %q: %w", path, err)
	}
	if err := d.init(ctx); err != nil {
		d.db.close()
		return nil, fmt.Errorf("dispatch: open %q: %w", path, err)
	}
	names := make([]string, 0, len(d.notifiers))
	for n := range d.notifiers {
		names = append(names, n)
	}
	if d.m, err = newMetrics(o.Registerer, names, d); err != nil {
		d.db.close()
		return nil, fmt.Errorf("dispatch: register metrics: %w", err)
	}
	if d.src != nil {
		d.behind.Store(true) // catch up at the first step
	}
	if cfg.PublicURL == "" {
		d.log.Warn("notifications carry no links: set public_url in the notification config")
	}
	d.mu.Lock()
	n := len(d.alerts)
	d.mu.Unlock()
	d.log.Info("dispatch restored", "alerts", n, "audit_cursor", d.cursor, "channels", names)
	return d, nil
}

// init loads the link key, the cursor and the followed alerts.
func (d *Dispatcher) init(ctx context.Context) error {
	s, err := notify.LoadSecret("ack_link.secret", d.cfg.AckLink.Secret, d.cfg.AckLink.SecretFile)
	if err != nil {
		return err
	}
	if !s.IsZero() {
		d.linkKey = s
	} else {
		k, err := d.db.meta(ctx, metaLinkKey)
		if err != nil {
			return err
		}
		if len(k) == 0 {
			k = make([]byte, 32)
			rand.Read(k)
			if err := d.db.setMeta(ctx, metaLinkKey, k); err != nil {
				return fmt.Errorf("store the ack link key: %w", err)
			}
		}
		d.linkKey = notify.NewSecret(string(k))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.load(ctx)
}

// load reads the cursor and the followed alerts from the database,
// replacing what is in memory. Called with mu held.
func (d *Dispatcher) load(ctx context.Context) error {
	c, err := d.db.meta(ctx, metaCursor)
	if err != nil {
		return err
	}
	d.fresh = c == nil
	d.cursor = 0
	if c != nil {
		if d.cursor, err = strconv.ParseInt(string(c), 10, 64); err != nil {
			return fmt.Errorf("corrupt audit cursor %q", c)
		}
	}
	rows, err := d.db.alerts(ctx)
	if err != nil {
		return err
	}
	d.alerts = make(map[int64]*tracked, len(rows))
	for _, r := range rows {
		t, err := d.restore(r)
		if err != nil {
			return err
		}
		d.alerts[t.a.ID] = t
	}
	return nil
}

// Close closes the database. Call it after Run has returned.
func (d *Dispatcher) Close() error { return d.db.close() }

// Notify takes transitions committed by the engine. It never blocks: when
// the queue is full the batch is dropped and read back from the audit log
// (Options.Audit) at the next step.
func (d *Dispatcher) Notify(ts []engine.Transition) {
	if len(ts) == 0 {
		return
	}
	b := make([]engine.Transition, len(ts))
	copy(b, ts)
	select {
	case d.inbox <- b:
	default:
		d.behind.Store(true)
		d.m.overflow()
		select {
		case d.wakeRoute <- struct{}{}:
		default:
		}
	}
}

var _ engine.Notifier = (*Dispatcher)(nil)

// Step routes what has arrived and what is due (group waits, escalations,
// reminders), sends the messages that are due and waits for them, and
// forwards open alerts when a resend interval has passed. Run does the
// same continuously; tests and replays call Step to drive an injected
// clock.
func (d *Dispatcher) Step(ctx context.Context) error {
	err := d.route(ctx, nil)
	d.housekeeping(ctx)
	// Fallbacks are due at once: send until nothing more is due.
	for range 100 {
		n := d.sendDue(ctx, ctx)
		d.sends.Wait()
		if n == 0 {
			break
		}
	}
	d.resync(ctx)
	return err
}

// Run routes and delivers until ctx is done, then gives requests in
// flight ShutdownGrace to finish; messages not delivered stay in the
// outbox for the next start.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	wg.Go(func() { d.routeLoop(ctx) })
	wg.Go(func() { d.sendLoop(ctx, sendCtx) })
	if len(d.forwarders) > 0 {
		wg.Go(func() { d.resyncLoop(ctx) })
	}
	wg.Wait()
	done := make(chan struct{})
	go func() { d.sends.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.grace):
		d.log.Warn("shutdown: requests still in flight after the grace period; they stay pending", "grace", d.grace)
		cancelSends()
		<-done
	}
	// Route what is still queued, so that it is in the outbox for the
	// next start (the audit log has it too, when Options.Audit is set).
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.route(c, nil); err != nil {
		d.log.Error("shutdown: routing the last transitions failed", "err", err)
	}
	return nil
}

func (d *Dispatcher) routeLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	failing := false
	for {
		var first []engine.Transition
		select {
		case <-ctx.Done():
			return
		case first = <-d.inbox:
		case <-d.wakeRoute:
		case <-t.C:
		}
		err := d.route(ctx, first)
		switch {
		case err != nil && !failing:
			d.log.Error("routing failed; retrying", "err", err)
			failing = true
		case err == nil && failing:
			d.log.Info("routing works again")
			failing = false
		}
		d.housekeeping(ctx)
		wait := time.Second
		if next, ok := d.nextDue(); ok {
			wait = min(wait, max(next.Sub(d.clock.Now()), 0))
		}
		if failing {
			wait = time.Second
		}
		t.Reset(wait)
	}
}

func (d *Dispatcher) wake() {
	select {
	case d.wakeSend <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) sendLoop(ctx, sendCtx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wakeSend:
		case <-t.C:
		}
		d.sendDue(ctx, sendCtx)
		wait := time.Second
		d.smu.Lock()
		skip := d.inflightIDs()
		full := len(d.inflight) >= d.cfg.Outbox.Concurrency
		d.smu.Unlock()
		if !full {
			next, ok, err := d.db.nextDue(ctx, skip)
			if err == nil && ok {
				wait = min(wait, max(time.Duration(next-d.clock.Now().UnixMilli())*time.Millisecond, 0))
			}
		}
		t.Reset(wait)
	}
}

func (d *Dispatcher) resyncLoop(ctx context.Context) {
	every := time.Minute
	for _, f := range d.forwarders {
		every = min(every, f.ResendInterval())
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.resync(ctx)
	}
}

// housekeeping purges old receipts and idle rate-limit buckets every ten
// minutes.
func (d *Dispatcher) housekeeping(ctx context.Context) {
	now := d.clock.Now()
	d.mu.Lock()
	due := now.Sub(d.lastHouse) >= 10*time.Minute
	if due {
		d.lastHouse = now
	}
	d.mu.Unlock()
	if !due {
		return
	}
	n, err := d.db.purge(ctx, now.Add(-d.cfg.Outbox.Keep).UnixMilli(), now.Unix())
	if err != nil {
		d.log.Warn("purging old receipts failed", "err", err)
	} else if n > 0 {
		d.log.Info("purged old receipts", "count", n)
	}
	d.smu.Lock()
	for k, b := range d.buckets {
		if b.idle(now) {
			delete(d.buckets, k)
		}
	}
	d.smu.Unlock()
}
