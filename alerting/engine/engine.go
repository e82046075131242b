// Package engine is chargewatch's alerting engine: it feeds readings,
// events and statuses to the per-device detectors (package detect), turns
// their signals into alerts (package lifecycle), detects offline devices,
// gateways and areas on wall time, and persists everything through package
// store, so that a restart, kill -9 included, neither loses nor doubles an
// alert.
//
// # Feeding the engine
//
// The input adapter reads the ingest's durable logs with its own cursor
// and calls, from one goroutine or several:
//
//	e.Reading(dev, &r)                 // each telemetry reading
//	e.Event(dev, &ev)                  // each device event
//	e.Status(gw, dev, st, received)    // each status message
//	e.Commit(ctx, cursor, lag)         // after each batch, and every few seconds when idle
//
// Reading, Event and Status only change memory and never block on I/O.
// Commit makes every change since the last commit durable in one SQLite
// transaction together with cursor (an opaque position in the log, given
// back by Cursor after a restart) and only then hands the transitions to
// the Notifier. A crash between commits loses nothing: the adapter resumes
// from Cursor() and feeds the records again, and the detectors ignore
// readings they have already seen (they ignore readings not newer than the
// last one of a device). lag is how far behind the head of the log the
// adapter is (0 when caught up); offline detection uses the engine's clock
// less lag, so catching up after a restart does not mark every device
// offline.
//
// Run does the wall-clock work: offline detection when no input arrives,
// commits of what it finds, and housekeeping. Tick runs one round of it,
// for tests and replays. At shutdown the adapter commits once more after
// its last input (records fed after the last commit are fed again after
// the restart, which is harmless but slower).
//
// # Locks
//
// Lock order: commitMu, then mu. mu guards all in-memory state and is held
// for each input; commitMu serialises commits (and the API's actions,
// which commit), so a commit's SQLite write does not hold up the inputs.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/lifecycle"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// Clock tells wall time. Tests inject one.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Registry gives the current registry snapshot; *registry.Store is one.
type Registry interface{ Current() *registry.Snapshot }

// Transition is one committed alert transition: its audit entry (with its
// id, the position in the audit log) and the alert as committed.
type Transition struct {
	Alert *alerting.Alert
	Audit alerting.Audit
}

// Notifier receives transitions after they are durable, in commit order.
// It is the seam for routing and notifiers (the next issue): Notify must not
// block (hand the batch to a queue, or wake a worker that reads the audit
// log with store.AuditSince from its own cursor, which also covers
// transitions committed while the process was down).
type Notifier interface {
	Notify(ts []Transition)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func([]Transition)

// Notify calls f.
func (f NotifierFunc) Notify(ts []Transition) { f(ts) }

// Options are the engine's dependencies; only Store and Registry are
// required.
type Options struct {
	Config        *Config               // nil: DefaultConfig()
	Clock         Clock                 // nil: the system clock
	Logger        *slog.Logger          // nil: discard
	Registerer    prometheus.Registerer // nil: no metrics
	Notifier      Notifier              // nil: none
	ChargingModel detect.ChargingModel  // nil: detect.PhysicsModel (learning from false alarms with Config.LearnFromFalseAlarms)
	// CheckpointSlice, with a Marker, bounds the device states one commit
	// writes (the oldest dirty ones first, plus those of devices with
	// alert changes in the commit): a checkpoint of a whole city is then
	// written in slices, and an alarm's commit never waits for more than
	// one. 0 writes every dirty state in each commit.
	CheckpointSlice int
	// Marker returns the input cursor from which the input not yet fed
	// begins (the adapter's position before the record it is feeding). The
	// engine keeps it per device when the device's state first changes
	// after a write, so that a commit can write some states and move the
	// cursor only past the devices whose state is all written.
	Marker func() []byte
}

// devState is the engine's state of one device.
type devState struct {
	id      string
	det     detect.Device
	heard   int64 // event time of the newest input, Unix ms
	down    int64 // wall time its gateway reported it offline; 0 otherwise
	gapFrom int64 // the last silence longer than allowed, as seen by the input:
	gapTo   int64 // from the input before it to the input after it; 0 when handled
	offline bool  // the device_offline condition holds
	alerted bool  // ... and was signalled (not suppressed by its gateway)
	// statusAt is when the newest status of the device applied was
	// received (Unix ns): a status replayed after a restart onto a state
	// that has seen it is ignored.
	statusAt int64
	dirty    bool
	mark     []byte // Options.Marker when it became dirty
}

// gwState is the engine's state of one gateway.
type gwState struct {
	id      string
	heard   int64 // ts of its last online status, Unix ms
	down    int64 // wall time of its Last Will; 0 while online
	back    int64 // ts of the online status that ended the last Last Will
	offline bool  // the gateway_offline condition holds
	since   int64 // ... since then
	outFrom int64 // the last offline period that ended
	outTo   int64
	alert   uint8 // 0 none, 1 pending, 2 firing
	// statusAt is when the newest status of the gateway applied was
	// received (Unix ns), as for devices.
	statusAt int64
	dirty    bool
}

// Engine is the alerting engine. Its methods are safe for concurrent use.
type Engine struct {
	commitMu sync.Mutex
	mu       sync.Mutex

	st     *store.Store
	reg    Registry
	cfg    *Config
	res    *resolver
	clock  Clock
	log    *slog.Logger
	notify Notifier
	model  detect.ChargingModel
	m      *metrics

	book     *lifecycle.Book
	devs     map[string]*devState
	gws      map[string]*gwState
	areas    map[string]bool // streets with an active area outage
	silences []alerting.Silence

	dirtyDevs []*devState
	dirtyGws  []*gwState
	pend      []lifecycle.Change
	// pendSources are the inputs' sources (devices, gateways, areas) of
	// the changes in pend: their states go in the same commit.
	pendSources map[string]bool
	slice       int
	marker      func() []byte
	durable     []byte // the input cursor of the last commit written
	// changed receives (without blocking) when a transition is pending, so
	// the feed commits it at once instead of on its checkpoint ticker.
	changed   chan struct{}
	failed    *store.Batch // a batch whose commit failed, retried first
	cursor    []byte
	lag       time.Duration
	reported  bool  // Commit has been called since the start
	started   int64 // wall time of the start
	effNow    int64 // clock less lag, never going back
	lastCheck int64 // effNow at the last offline check
	// holdUntil, after a restart from a trailing cursor, is the effNow of
	// the newest state written: offline checks wait until the replay has
	// reached it (see metaHold).
	holdUntil int64
	lastHouse int64 // wall time of the last housekeeping
	sigs      []detect.Signal
	n         uint64
}

// DefaultCheckpointSlice is the slice the server uses: about 5 ms of
// SQLite writes on an idle core (BenchmarkCommit: 6 µs per state).
const DefaultCheckpointSlice = 1000

// Meta keys of the store.
const (
	metaCursor = "engine_cursor"
	// metaHold is, with sliced checkpoints, the engine's effNow when it
	// last wrote states (decimal Unix ms; "0" without slices). After a
	// restart the cursor may trail states written later: the replay feeds
	// devices whose state is ahead (their old input is ignored as late)
	// beside devices still behind. An offline check then would see the
	// devices behind as silent since their mark and raise, or clear, what
	// the states ahead already account for. So the engine's now starts
	// from the replay's own times, and checks wait until it reaches the
	// hold: from there every state is at least as new as the input.
	metaHold = "engine_hold"
)

// New restores an engine from the store: its open alerts, detector and
// gateway checkpoints, silences and input cursor.
func New(ctx context.Context, st *store.Store, reg Registry, o Options) (*Engine, error) {
	if st == nil || reg == nil {
		return nil, errors.New("alerting engine: a store and a registry are required")
	}
	e := &Engine{
		st: st, reg: reg, cfg: o.Config, clock: o.Clock, log: o.Logger, notify: o.Notifier, model: o.ChargingModel,
		devs: map[string]*devState{}, gws: map[string]*gwState{}, areas: map[string]bool{},
		changed: make(chan struct{}, 1), pendSources: map[string]bool{},
		slice: o.CheckpointSlice, marker: o.Marker,
	}
	if e.cfg == nil {
		e.cfg = DefaultConfig()
	}
	if err := e.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alerting engine: %w", err)
	}
	if e.clock == nil {
		e.clock = ClockFunc(time.Now)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.model == nil {
		e.model = detect.PhysicsModel
		if e.cfg.LearnFromFalseAlarms {
			p := detect.DefaultPhysicsParams()
			p.Feedback = 1
			e.model = detect.NewPhysicsModel(p)
		}
	}
	e.res = newResolver(e.cfg)
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("alerting engine: register metrics: %w", err)
	}
	e.m = m
	now := e.clock.Now().UnixMilli()
	e.started, e.lastHouse = now, now
	maxID, err := st.MaxAlertID(ctx)
	if err != nil {
		return nil, err
	}
	e.book = lifecycle.NewBook(e.cfg.Lifecycle, maxID+1)
	open, err := st.OpenAlerts(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range open {
		e.book.Load(a)
		if a.Rule == alerting.RuleAreaOutage && a.State.Active() {
			e.areas[a.Place] = true
		}
	}
	rect, err := st.RectifiedSince(ctx, now-e.cfg.Lifecycle.RelapseWindow.Milliseconds())
	if err != nil {
		return nil, err
	}
	for _, r := range rect {
		e.book.LoadRectified(r.Key, r.ID, r.ClosedAt)
	}
	if err := st.States(ctx, "device", func(id string, b []byte) error {
		ds := &devState{id: id}
		if err := ds.unmarshal(b, e.model); err != nil {
			return fmt.Errorf("alerting engine: checkpoint of device %q: %w", id, err)
		}
		e.devs[id] = ds
		e.effNow = max(e.effNow, ds.heard)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := st.States(ctx, "gateway", func(id string, b []byte) error {
		gs := &gwState{id: id}
		if err := gs.unmarshal(b); err != nil {
			return fmt.Errorf("alerting engine: checkpoint of gateway %q: %w", id, err)
		}
		e.gws[id] = gs
		return nil
	}); err != nil {
		return nil, err
	}
	if e.cursor, err = st.Meta(ctx, metaCursor); err != nil {
		return nil, err
	}
	hold, err := st.Meta(ctx, metaHold)
	if err != nil {
		return nil, err
	}
	if len(hold) > 0 {
		if e.holdUntil, err = strconv.ParseInt(string(hold), 10, 64); err != nil {
			return nil, fmt.Errorf("alerting engine: checkpoint meta %s %q: %w", metaHold, hold, err)
		}
		if e.holdUntil > 0 {
			// Now comes from the replay's times, not from states ahead.
			e.effNow = 0
		}
	}
	if e.silences, err = st.Silences(ctx, now); err != nil {
		return nil, err
	}
	e.log.Info("alerting engine restored", "open_alerts", e.book.Len(), "devices", len(e.devs), "gateways", len(e.gws), "cursor", string(e.cursor))
	return e, nil
}

// Changed receives when an alert transition (raised, resolved, ...) waits
// for a commit: an adapter that commits telemetry on a ticker commits at once
// then, so notifications never wait for the checkpoint interval.
func (e *Engine) Changed() <-chan struct{} { return e.changed }

// Cursor returns the input cursor of the last commit: the adapter resumes
// reading the log after it. It is nil on a new database.
func (e *Engine) Cursor() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.cursor)
}

func (e *Engine) dev(id string) *devState {
	ds := e.devs[id]
	if ds == nil {
		ds = &devState{id: id}
		e.devs[id] = ds
	}
	return ds
}

func (e *Engine) touch(ds *devState) {
	if !ds.dirty {
		ds.dirty = true
		if e.marker != nil {
			ds.mark = e.marker()
		}
		e.dirtyDevs = append(e.dirtyDevs, ds)
	}
}

func (e *Engine) gw(id string) *gwState {
	gs := e.gws[id]
	if gs == nil {
		gs = &gwState{id: id}
		e.gws[id] = gs
	}
	return gs
}

func (e *Engine) touchGw(gs *gwState) {
	if !gs.dirty {
		gs.dirty = true
		e.dirtyGws = append(e.dirtyGws, gs)
	}
}

func info(d *registry.Device) detect.Info {
	return detect.Info{
		ID: d.ID, Kind: d.Kind, RatedCurrentA: float64(d.RatedCurrentA),
		Charging: d.Unit != nil && d.Unit.Type != registry.UnitChargingRoom,
	}
}

// Reading feeds one telemetry reading of a registered device. A reading not
// newer than the device's (or pile port's) last one is counted and ignored.
func (e *Engine) Reading(dev *registry.Device, r *devices.Reading) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	var start time.Time
	sample := e.m != nil && e.n%64 == 0
	if sample {
		start = time.Now()
	}
	ds := e.dev(dev.ID)
	in := info(dev)
	var ok bool
	e.sigs, ok = ds.det.Observe(e.res.config(dev), &in, e.model, r, e.sigs[:0])
	if !ok {
		e.m.input("reading", "late")
		return
	}
	e.m.input("reading", "applied")
	e.heard(dev, ds, r.TS)
	e.touch(ds)
	e.applyAll(dev)
	if sample {
		e.m.eval(time.Since(start))
	}
}

// Event feeds one event of a registered device. An event not newer (by ts,
// then seq) than the device's last one is counted and ignored.
func (e *Engine) Event(dev *registry.Device, ev *devices.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ds := e.dev(dev.ID)
	in := info(dev)
	var ok bool
	e.sigs, ok = ds.det.Event(e.res.config(dev), &in, ev, e.sigs[:0])
	if !ok {
		e.m.input("event", "late")
		return
	}
	e.m.input("event", "applied")
	e.heard(dev, ds, ev.TS)
	e.touch(ds)
	e.applyAll(dev)
}

// Status feeds a status message published on cw/v1/{gateway}/{device}/status
// and received at wall time received. The gateway's own status (device ==
// gateway) says whether the gateway is connected: its Last Will
// ({"online":false}) starts the gateway-offline clock. A status for a
// device says whether its gateway can reach it. Statuses of unknown
// gateways and devices are ignored.
func (e *Engine) Status(gateway, device string, st devices.Status, received time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	snap := e.reg.Current()
	g, ok := snap.Gateway(gateway)
	if !ok {
		e.m.input("status", "unknown")
		return
	}
	rcv, at := received.UnixMilli(), received.UnixNano()
	if device == gateway && !g.SelfConnected {
		gs := e.gw(gateway)
		if at <= gs.statusAt {
			// Fed again after a restart onto a state that has it: a
			// status is not idempotent (an old offline would set down).
			e.m.input("status", "late")
			return
		}
		e.m.input("status", "applied")
		gs.statusAt = at
		if st.Online {
			if gs.down != 0 {
				gs.back = max(st.TS, gs.down)
			}
			gs.down = 0
			gs.heard = max(gs.heard, st.TS)
		} else if gs.down == 0 {
			gs.down = rcv
		}
		e.touchGw(gs)
		return
	}
	d, ok := snap.Device(device)
	if !ok || d.Gateway.ID != gateway {
		return
	}
	ds := e.dev(device)
	if at <= ds.statusAt {
		e.m.input("status", "late")
		return
	}
	e.m.input("status", "applied")
	ds.statusAt = at
	if st.Online {
		ds.down = 0
		e.heard(d, ds, st.TS)
	} else if ds.down == 0 {
		ds.down = rcv
	}
	e.touch(ds)
}

// heard records an input of a device at event time ts, and the silence
// before it when that was longer than the device may stay silent: offline
// detection then sees the silence even if no check ran during it (a replay
// in big batches).
func (e *Engine) heard(d *registry.Device, ds *devState, ts int64) {
	if ds.heard != 0 && ts-ds.heard > e.devAfter(d) {
		ds.gapFrom, ds.gapTo = ds.heard, ts
	}
	ds.heard = max(ds.heard, ts)
}

// applyAll turns the signals in e.sigs into lifecycle inputs.
func (e *Engine) applyAll(dev *registry.Device) {
	for i := range e.sigs {
		s := &e.sigs[i]
		place := dev.ID
		if alerting.PlaceOf(s.Rule) == alerting.PlaceUnit {
			place = dev.UnitID()
		}
		in := lifecycle.Input{
			Op: lifecycle.Op(s.Op), Key: alerting.Key{Rule: s.Rule, Place: place, Port: s.Port}, Source: dev.ID,
			TS: s.TS, Since: s.Since, Value: s.Value, Limit: s.Limit, Unit: s.Unit, Code: s.Code, Evidence: s.Evidence,
		}
		e.apply(&in, locateDevice(dev))
	}
}

// apply completes an input (severity, location, silence, summary) and runs
// it through the book.
func (e *Engine) apply(in *lifecycle.Input, loc alerting.Location) {
	if e.cfg.Disabled[in.Key.Rule] {
		return
	}
	in.Severity = e.cfg.Severity[in.Key.Rule]
	in.Location = loc
	if in.Op != lifecycle.OpClear {
		in.Summary = summary(in)
		for i := range e.silences {
			if e.silences[i].Matches(in.Key.Rule, in.Severity, &in.Location, in.TS) {
				in.SilenceID = e.silences[i].ID
				break
			}
		}
	}
	chs := e.book.Apply(in, e.clock.Now().UnixMilli())
	e.pend = append(e.pend, chs...)
	if len(chs) > 0 {
		e.pendSources[in.Source] = true
	}
	for i := range chs {
		if chs[i].Transition() {
			select {
			case e.changed <- struct{}{}:
			default:
			}
			break
		}
	}
}

// Commit makes every change since the last commit durable, with cursor as
// the position in the input log up to which the adapter has fed the engine,
// then hands the committed transitions to the Notifier. lag is how far the
// adapter is behind the head of the log (0 when caught up). If the write
// fails, the changes are kept and written by the next commit; the adapter
// should retry and not advance its own position.
func (e *Engine) Commit(ctx context.Context, cursor []byte, lag time.Duration) error {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.mu.Lock()
	e.cursor = bytes.Clone(cursor)
	e.lag, e.reported = max(lag, 0), true
	e.m.setLag(lag)
	e.advance()
	b := e.collect(true)
	e.mu.Unlock()
	return e.write(ctx, b)
}

// advance moves the engine's notion of now (clock less lag) forward and
// runs offline detection when CheckInterval has passed since the last run.
func (e *Engine) advance() {
	now := e.clock.Now()
	e.effNow = max(e.effNow, now.Add(-e.lag).UnixMilli())
	if !e.reported && now.UnixMilli()-e.started < e.cfg.Offline.StartupGrace.Milliseconds() {
		return
	}
	if e.effNow < e.holdUntil {
		return // replaying what states already written account for
	}
	e.holdUntil = 0
	if e.effNow-e.lastCheck >= e.cfg.CheckInterval.Milliseconds() {
		e.lastCheck = e.effNow
		e.checkOffline(e.effNow)
	}
}

// collect gathers pending changes and dirty state into a batch. Called
// with mu held.
func (e *Engine) collect(withCursor bool) *store.Batch {
	b := &store.Batch{}
	seen := map[int64]bool{}
	for i := len(e.pend) - 1; i >= 0; i-- {
		a := e.pend[i].Alert
		if !seen[a.ID] {
			seen[a.ID] = true
			b.Alerts = append(b.Alerts, a.Clone())
		}
	}
	slices.Reverse(b.Alerts)
	for _, ch := range e.pend {
		if ch.Transition() {
			b.Audit = append(b.Audit, ch.Audit)
		}
	}
	clear(e.pend)
	e.pend = e.pend[:0]
	cursor := e.cursor
	if e.sliced() {
		// The oldest dirty states, and those of the sources of the
		// changes above (a state is never written behind its alerts).
		// The cursor moves only past the devices all written: to the
		// mark of the oldest one left.
		rest := e.dirtyDevs[:0]
		for i, ds := range e.dirtyDevs {
			if i < e.slice || e.pendSources[ds.id] {
				b.Devices = append(b.Devices, store.State{ID: ds.id, Blob: ds.marshal()})
				ds.dirty, ds.mark = false, nil
				continue
			}
			rest = append(rest, ds)
		}
		clear(e.dirtyDevs[len(rest):])
		e.dirtyDevs = rest
		if len(rest) > 0 {
			cursor = rest[0].mark
		}
	} else {
		for _, ds := range e.dirtyDevs {
			b.Devices = append(b.Devices, store.State{ID: ds.id, Blob: ds.marshal()})
			ds.dirty, ds.mark = false, nil
		}
		clear(e.dirtyDevs)
		e.dirtyDevs = e.dirtyDevs[:0]
	}
	clear(e.pendSources)
	for _, gs := range e.dirtyGws {
		b.Gateways = append(b.Gateways, store.State{ID: gs.id, Blob: gs.marshal()})
		gs.dirty = false
	}
	clear(e.dirtyGws)
	e.dirtyGws = e.dirtyGws[:0]
	if withCursor && cursor != nil {
		b.Meta = map[string][]byte{metaCursor: bytes.Clone(cursor)}
	}
	if e.slice > 0 && e.marker != nil {
		if len(b.Devices) > 0 || len(b.Gateways) > 0 || b.Meta != nil {
			if b.Meta == nil {
				b.Meta = map[string][]byte{}
			}
			b.Meta[metaHold] = strconv.AppendInt(nil, max(e.effNow, e.holdUntil), 10)
		}
	} else if withCursor && cursor != nil {
		b.Meta[metaHold] = []byte("0")
	}
	if e.failed != nil {
		b = merge(e.failed, b)
		e.failed = nil
	}
	return b
}

// sliced reports whether this commit writes a slice of the dirty states:
// slicing is on, there are more than a slice, and every dirty device has
// its mark. Called with mu held.
func (e *Engine) sliced() bool {
	if e.slice <= 0 || e.marker == nil || len(e.dirtyDevs) <= e.slice {
		return false
	}
	for _, ds := range e.dirtyDevs {
		if ds.mark == nil {
			return false
		}
	}
	return true
}

// Durable returns the input cursor of the last commit written: where the
// adapter may let go of its input (with slices it trails the cursor
// passed to Commit). Nil before the first.
func (e *Engine) Durable() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.durable)
}

// Dirty returns how many devices have state not yet written.
func (e *Engine) Dirty() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.dirtyDevs)
}

// merge puts batch b after an older batch a that failed to commit.
func merge(a, b *store.Batch) *store.Batch {
	out := &store.Batch{Audit: append(slices.Clone(a.Audit), b.Audit...), Meta: map[string][]byte{}}
	alerts := map[int64]int{}
	for _, x := range append(slices.Clone(a.Alerts), b.Alerts...) {
		if i, ok := alerts[x.ID]; ok {
			out.Alerts[i] = x
			continue
		}
		alerts[x.ID] = len(out.Alerts)
		out.Alerts = append(out.Alerts, x)
	}
	states := func(x, y []store.State) []store.State {
		idx := map[string]int{}
		var out []store.State
		for _, s := range append(slices.Clone(x), y...) {
			if i, ok := idx[s.ID]; ok {
				out[i] = s
				continue
			}
			idx[s.ID] = len(out)
			out = append(out, s)
		}
		return out
	}
	out.Devices = states(a.Devices, b.Devices)
	out.Gateways = states(a.Gateways, b.Gateways)
	for k, v := range a.Meta {
		out.Meta[k] = v
	}
	for k, v := range b.Meta {
		out.Meta[k] = v
	}
	return out
}

// write commits a batch; called with commitMu held and mu not.
func (e *Engine) write(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	start := time.Now()
	if err := e.st.Commit(ctx, b); err != nil {
		e.mu.Lock()
		if e.failed != nil {
			b = merge(e.failed, b)
		}
		e.failed = b
		e.mu.Unlock()
		e.m.commit(time.Since(start), err)
		return err
	}
	e.m.commit(time.Since(start), nil)
	if c, ok := b.Meta[metaCursor]; ok {
		e.mu.Lock()
		e.durable = c
		e.mu.Unlock()
	}
	if len(b.Audit) == 0 {
		return nil
	}
	byID := make(map[int64]*alerting.Alert, len(b.Alerts))
	for _, a := range b.Alerts {
		byID[a.ID] = a
	}
	ts := make([]Transition, len(b.Audit))
	for i, au := range b.Audit {
		ts[i] = Transition{Alert: byID[au.AlertID], Audit: au}
		e.m.transition(byID[au.AlertID].Rule, au.Action)
	}
	if e.notify != nil {
		e.notify.Notify(ts)
	}
	return nil
}

// Tick runs one round of the wall-clock work: offline detection (when
// CheckInterval has passed), a commit of what it found, and housekeeping.
// Run calls it; tests and replays call it to step the injected clock.
func (e *Engine) Tick(ctx context.Context) error {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.mu.Lock()
	e.advance()
	now := e.clock.Now().UnixMilli()
	house := now-e.lastHouse >= time.Minute.Milliseconds()
	if house {
		e.lastHouse = now
		e.book.Expire(now)
		e.silences = slices.DeleteFunc(e.silences, func(s alerting.Silence) bool { return !s.ActiveAt(now) && s.StartsAt <= now })
	}
	e.gauges()
	b := e.collect(false)
	e.mu.Unlock()
	if err := e.write(ctx, b); err != nil {
		return err
	}
	if house {
		if n, err := e.st.PurgeCancelled(ctx, now-e.cfg.PurgeCancelledAfter.Milliseconds()); err != nil {
			e.log.Warn("purging cancelled alerts failed", "err", err)
		} else if n > 0 {
			e.log.Info("purged cancelled alerts", "count", n)
		}
	}
	return nil
}

// Run calls Tick every CheckInterval until ctx is done, then commits what
// is left. A failing commit is logged once and retried at the next tick.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.CheckInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			// A last commit, bounded, of whatever the tick found; the
			// adapter commits its own inputs.
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return e.Tick(c)
		case <-t.C:
		}
		err := e.Tick(ctx)
		switch {
		case err != nil && !failing:
			e.log.Error("alerting commit failed; retrying at every tick", "err", err)
			failing = true
		case err == nil && failing:
			e.log.Info("alerting commits work again")
			failing = false
		}
	}
}

// Stats is a summary of the engine's state, for tests and the benchmark.
type Stats struct {
	Devices    int
	Gateways   int
	OpenAlerts int
	StateBytes int // detector state, all devices
}

// Stats returns a summary of the engine's state.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Devices: len(e.devs), Gateways: len(e.gws), OpenAlerts: e.book.Len()}
	for _, ds := range e.devs {
		s.StateBytes += ds.size()
	}
	return s
}

// gauges refreshes the gauges from the book and the offline state.
func (e *Engine) gauges() {
	if e.m == nil {
		return
	}
	counts := map[[2]string]int{}
	e.book.Open(func(a *alerting.Alert) { counts[[2]string{string(a.Rule), string(a.State)}]++ })
	devOff, gwOff := 0, 0
	for _, ds := range e.devs {
		if ds.offline {
			devOff++
		}
	}
	for _, gs := range e.gws {
		if gs.offline {
			gwOff++
		}
	}
	e.m.setGauges(counts, devOff, gwOff)
}
