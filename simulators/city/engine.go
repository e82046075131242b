package city

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// Message is one MQTT message of the simulated traffic.
type Message struct {
	At       int64 // when it is sent, Unix ms: the measurement time, or the reconnect time of a replay
	Gateway  *Gateway
	Device   *Device // nil for a gateway status
	Channel  devices.Channel
	Readings []devices.Reading // telemetry: a batch of one device's readings, valid during the callback only
	Event    devices.Event     // event
	Status   devices.Status    // status; Online false is the gateway dropping off (the broker's Last Will)
	Replay   bool              // sent late by a gateway back on the network (store and forward)
}

// Topic returns the message's MQTT topic.
func (m *Message) Topic() string {
	if m.Device == nil {
		return m.Gateway.statusTopic
	}
	return m.Device.topics[m.Channel]
}

// AppendPayload appends the message's payload, encoded by package devices.
func (m *Message) AppendPayload(dst []byte) []byte {
	switch m.Channel {
	case devices.ChannelTelemetry:
		return devices.AppendTelemetry(dst, m.Readings)
	case devices.ChannelEvent:
		return devices.AppendEvent(dst, &m.Event)
	}
	if !m.Status.Online {
		return append(dst, devices.LastWill...)
	}
	return devices.AppendStatus(dst, m.Status)
}

// StatusTopic returns the gateway's status topic, cw/v1/{gw}/{gw}/status,
// where its retained online status and Last Will go.
func (g *Gateway) StatusTopic() string { return g.statusTopic }

// Topic returns the device's topic for channel ch.
func (d *Device) Topic(ch devices.Channel) string { return d.topics[ch] }

// RunOptions say what to simulate and where it goes.
type RunOptions struct {
	From, To    time.Time     // the span; a zero To runs until ctx is cancelled
	Batch       int           // readings per telemetry message (1 to 500)
	StatusEvery time.Duration // retained status refresh of each gateway; 0 for none
	// Emit receives each message in time order. It may block (a live clock
	// paces the run in Wait; a publisher applies back-pressure here).
	Emit func(*Message) error
	// Truth receives the ground truth: each episode when the run reaches
	// its start (episodes already under way at From first), the mixed-use
	// units and a final record of kind truth.Run at the end. Optional.
	Truth func(*truth.Record) error
	// Wait is called before anything that happens at simulated time at
	// (Unix ms); a live clock sleeps until then. Optional.
	Wait func(at int64) error
	// Progress is called now and then (every few thousand steps) with the
	// simulated time reached. Optional.
	Progress func(at int64, st *Stats)
}

// Stats count what a run produced.
type Stats struct {
	Messages int64 // MQTT messages emitted
	Readings int64 // readings in them
	Events   int64
	Statuses int64
	Replayed int64                // readings sent late after a gateway outage
	Held     int64                // readings and events still queued in offline gateways at the end
	Episodes map[truth.Kind]int64 // ground-truth records by kind
	At       int64                // simulated time reached, Unix ms
}

type devRun struct {
	seq, evSeq uint64
	next       int64 // next reading due
	reset      bool  // the next reading announces seq_reset
	buf        []devices.Reading
}

type gwRun struct {
	next       int64 // next poll
	nextStatus int64
	powered    bool
	connected  bool
	upSince    int64
	pollErrors int64
	queue      []queued
}

type queued struct {
	dev *Device
	r   devices.Reading
	ev  *devices.Event
}

type itemKind uint8

const (
	itTruth itemKind = iota
	itPowerOff
	itPowerOn
	itNetOff
	itNetOn
	itEvent
)

type item struct {
	at   int64
	kind itemKind
	gw   *Gateway
	dev  *Device
	ev   devEvent
	rec  *truth.Record
}

type runner struct {
	c     *City
	o     RunOptions
	from  int64
	to    int64
	st    Stats
	devs  []devRun
	gws   []gwRun
	msg   Message
	steps int
}

// Run simulates the city over the span and emits its traffic in time
// order. It returns when the span is done, ctx is cancelled (with
// ctx.Err()) or a callback fails.
func (c *City) Run(ctx context.Context, o RunOptions) (Stats, error) {
	if o.Batch < 1 {
		o.Batch = 1
	}
	r := &runner{c: c, o: o, from: o.From.UnixMilli(), to: math.MaxInt64}
	if !o.To.IsZero() {
		r.to = o.To.UnixMilli()
	}
	r.st.Episodes = map[truth.Kind]int64{}
	r.devs = make([]devRun, len(c.devices))
	r.gws = make([]gwRun, len(c.gateways))
	for i, d := range c.devices {
		iv := d.Interval.Milliseconds()
		r.devs[i].next = r.from + mod(d.phase-r.from, iv)
		// Sequences start at 1 in every run, and say so: a simulator that
		// restarts is a device that rebooted.
		r.devs[i].reset = true
	}
	for i, g := range c.gateways {
		gs := &r.gws[i]
		gs.next = r.from + mod(g.phase-r.from, g.period)
		gs.powered = g.powered(r.from)
		off, _ := g.netOff(r.from)
		gs.connected = !off
		gs.upSince = r.from - int64(float64(30*dayMS)*float64(g.key%1000)/1000)
		if o.StatusEvery > 0 {
			gs.nextStatus = gs.next
		} else {
			gs.nextStatus = math.MaxInt64
		}
	}
	err := r.loop(ctx)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// also when stopped: flush what gateways hold, close the truth
		if ferr := r.finish(); ferr != nil && err == nil {
			err = ferr
		}
	}
	r.st.At = min(r.to, r.st.At)
	return r.st, err
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// polls is a min-heap of gateways by next poll time (then index).
type polls struct {
	r   *runner
	idx []int
}

func (p *polls) Len() int { return len(p.idx) }
func (p *polls) Less(i, j int) bool {
	a, b := p.r.gws[p.idx[i]].next, p.r.gws[p.idx[j]].next
	return a < b || a == b && p.idx[i] < p.idx[j]
}
func (p *polls) Swap(i, j int) { p.idx[i], p.idx[j] = p.idx[j], p.idx[i] }
func (p *polls) Push(x any)    { p.idx = append(p.idx, x.(int)) }
func (p *polls) Pop() any {
	x := p.idx[len(p.idx)-1]
	p.idx = p.idx[:len(p.idx)-1]
	return x
}

func (r *runner) loop(ctx context.Context) error {
	c := r.c
	pq := &polls{r: r}
	for i := range c.gateways {
		pq.idx = append(pq.idx, i)
	}
	heap.Init(pq)
	first := true
	for d := simtime.DayOf(r.from); simtime.DayStart(d) < r.to; d++ {
		lo, hi := max(r.from, simtime.DayStart(d)), min(r.to, simtime.DayStart(d+1))
		items := r.dayItems(d, lo, hi, first)
		first = false
		k := 0
		for {
			// the next poll
			var g *Gateway
			next := int64(math.MaxInt64)
			if pq.Len() > 0 {
				g = c.gateways[pq.idx[0]]
				next = r.gws[g.idx].next
			}
			if k < len(items) && items[k].at <= next {
				it := &items[k]
				k++
				if err := r.step(ctx, it.at); err != nil {
					return err
				}
				if err := r.item(it); err != nil {
					return err
				}
				continue
			}
			if next >= hi || g == nil {
				break
			}
			if err := r.step(ctx, next); err != nil {
				return err
			}
			if err := r.poll(g, next); err != nil {
				return err
			}
			r.gws[g.idx].next = next + g.period
			heap.Fix(pq, 0)
		}
	}
	return nil
}

// step paces the run and reports progress.
func (r *runner) step(ctx context.Context, at int64) error {
	r.st.At = at
	r.steps++
	if r.steps%256 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.o.Progress != nil && r.steps%4096 == 0 {
			r.o.Progress(at, &r.st)
		}
	}
	if r.o.Wait != nil {
		return r.o.Wait(at)
	}
	return nil
}

// dayItems gathers what happens on day d within [lo, hi), besides polls:
// ground truth, events and gateway transitions, in time order.
func (r *runner) dayItems(d, lo, hi int64, first bool) []item {
	c := r.c
	var items []item
	in := func(t int64) bool { return t >= lo && t < hi }
	rec := func(e *episode) {
		start := e.start
		switch {
		case in(e.start):
		case first && e.start < lo && e.end > lo:
			start = lo
		default:
			return
		}
		for _, rc := range c.records(e) {
			items = append(items, item{at: start, kind: itTruth, rec: rc})
		}
	}
	back := int64(1)
	if first {
		back = 9 // long episodes (low battery) that began before the run
	}
	for dd := d - back; dd <= d; dd++ {
		for _, u := range c.units {
			for _, e := range u.plan(c, dd).eps {
				rec(e)
			}
		}
		for _, b := range c.buildings {
			for _, e := range b.plan(c, dd).eps {
				rec(e)
				if !in(e.start) {
					continue
				}
				for _, dev := range b.devices {
					if dev.Kind == devices.KindMonitor {
						typ := devices.EventOverVoltage
						if e.kind == truth.UnderVoltage {
							typ = devices.EventUnderVoltage
						}
						items = append(items, item{at: e.start, kind: itEvent, dev: dev, ev: devEvent{at: e.start, typ: typ}})
					}
				}
			}
		}
		for _, s := range c.streets {
			for _, e := range s.plan(c, dd).eps {
				rec(e)
				for _, g := range s.gateways {
					r.transitions(&items, in, g, e, itPowerOff, itPowerOn)
				}
				for _, dev := range s.devices {
					if dev.mains {
						r.transitions(&items, in, dev.Gateway, e, itPowerOff, itPowerOn)
					}
				}
			}
		}
		for _, g := range c.gateways {
			for _, e := range g.plan(dd).eps {
				rec(e)
				r.transitions(&items, in, g, e, itNetOff, itNetOn)
			}
		}
		for _, dev := range c.devices {
			p := dev.plan(dd)
			for _, e := range p.eps {
				rec(e)
			}
			if dd < d-1 {
				continue
			}
			for _, ev := range p.events {
				if in(ev.at) {
					items = append(items, item{at: ev.at, kind: itEvent, dev: dev, ev: ev})
				}
			}
		}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := cmpInt(a.at, b.at); c != 0 {
			return c
		}
		return int(a.kind) - int(b.kind)
	})
	return items
}

func (r *runner) transitions(items *[]item, in func(int64) bool, g *Gateway, e *episode, off, on itemKind) {
	if in(e.start) {
		*items = append(*items, item{at: e.start, kind: off, gw: g})
	}
	if in(e.end) {
		*items = append(*items, item{at: e.end, kind: on, gw: g})
	}
}

func (r *runner) item(it *item) error {
	switch it.kind {
	case itTruth:
		r.st.Episodes[it.rec.Kind]++
		if r.o.Truth != nil {
			return r.o.Truth(it.rec)
		}
	case itPowerOff:
		gs := &r.gws[it.gw.idx]
		if !gs.powered {
			return nil
		}
		wasUp := gs.connected
		gs.powered = false
		// What the gateway had polled but not yet sent is in its disk queue
		// (cw-edge queues on disk before publishing): it goes out on return.
		for _, d := range it.gw.Devices {
			ds := &r.devs[d.idx]
			for _, rd := range ds.buf {
				gs.queue = append(gs.queue, queued{dev: d, r: rd})
			}
			ds.buf = ds.buf[:0]
		}
		if wasUp {
			return r.status(it.gw, it.at, false)
		}
	case itPowerOn:
		gs := &r.gws[it.gw.idx]
		if gs.powered || !it.gw.powered(it.at) {
			return nil
		}
		gs.powered = true
		gs.upSince = it.at
		for _, d := range it.gw.Devices {
			if d.mains || d == it.gw.selfDevice() {
				r.devs[d.idx].reset = true
			}
		}
		if gs.connected {
			if err := r.status(it.gw, it.at, true); err != nil {
				return err
			}
			return r.replay(it.gw, it.at)
		}
	case itNetOff:
		gs := &r.gws[it.gw.idx]
		if gs.connected {
			gs.connected = false
			if gs.powered {
				return r.status(it.gw, it.at, false)
			}
		}
	case itNetOn:
		gs := &r.gws[it.gw.idx]
		if off, _ := it.gw.netOff(it.at); off || gs.connected {
			return nil
		}
		gs.connected = true
		if gs.powered {
			if err := r.status(it.gw, it.at, true); err != nil {
				return err
			}
			return r.replay(it.gw, it.at)
		}
	case itEvent:
		return r.event(it.dev, it.ev)
	}
	return nil
}

func (g *Gateway) selfDevice() *Device {
	if g.Self && len(g.Devices) == 1 {
		return g.Devices[0]
	}
	return nil
}

func (r *runner) emit(m *Message) error {
	r.st.Messages++
	switch m.Channel {
	case devices.ChannelTelemetry:
		r.st.Readings += int64(len(m.Readings))
		if m.Replay {
			r.st.Replayed += int64(len(m.Readings))
		}
	case devices.ChannelEvent:
		r.st.Events++
	case devices.ChannelStatus:
		r.st.Statuses++
	}
	if r.o.Emit == nil {
		return nil
	}
	return r.o.Emit(m)
}

func (r *runner) status(g *Gateway, at int64, online bool) error {
	gs := &r.gws[g.idx]
	r.msg = Message{At: at, Gateway: g, Channel: devices.ChannelStatus, Status: devices.Status{Online: online}}
	if online {
		up := (at - gs.upSince) / 1000
		depth := int64(len(gs.queue))
		pe := gs.pollErrors
		r.msg.Status = devices.Status{Online: true, TS: at, UptimeS: &up, QueueDepth: &depth, PollErrors: &pe, Clock: devices.ClockSynced}
	}
	return r.emit(&r.msg)
}

// poll reads the gateway's devices that are due at t.
func (r *runner) poll(g *Gateway, t int64) error {
	gs := &r.gws[g.idx]
	if !gs.powered {
		return nil
	}
	n := int64(len(g.Devices))
	spacing := min(100, g.period/(2*n))
	for i, d := range g.Devices {
		ds := &r.devs[d.idx]
		if ds.next > t {
			continue
		}
		iv := d.Interval.Milliseconds()
		for ds.next <= t {
			ds.next += iv
		}
		ts := t + int64(i)*spacing
		if ts >= r.to {
			continue
		}
		if ts > t && r.o.Wait != nil {
			// a live gateway reads its bus one device after another
			if err := r.o.Wait(ts); err != nil {
				return err
			}
		}
		if !d.online(ts) {
			// back from a reboot or a power cut it restarts its sequence;
			// after a lost link (RS-485 wiring, radio) it carries on
			if off, reboot := d.offline(ts); reboot || !off {
				ds.reset = true
			}
			if !g.Self {
				gs.pollErrors++
			}
			continue
		}
		base := len(ds.buf)
		ds.buf = d.appendReadings(ds.buf, ts)
		for k := base; k < len(ds.buf); k++ {
			r.number(ds, &ds.buf[k])
		}
		if !gs.connected {
			for _, rd := range ds.buf {
				gs.queue = append(gs.queue, queued{dev: d, r: rd})
			}
			ds.buf = ds.buf[:0]
			continue
		}
		for len(ds.buf) >= r.o.Batch {
			if err := r.send(d, ds, ts, r.o.Batch, false); err != nil {
				return err
			}
		}
		// A batch waits at most Batch poll periods: a daily heartbeat is
		// not held for days.
		if len(ds.buf) > 0 && ts-ds.buf[0].TS >= int64(r.o.Batch)*g.period {
			if err := r.send(d, ds, ts, len(ds.buf), false); err != nil {
				return err
			}
		}
	}
	if t >= gs.nextStatus && gs.connected {
		gs.nextStatus = t + r.o.StatusEvery.Milliseconds()
		return r.status(g, t, true)
	}
	return nil
}

// number gives a reading its place in the device's sequence.
func (r *runner) number(ds *devRun, rd *devices.Reading) {
	if ds.reset {
		ds.seq = 0
		rd.SeqReset = true
		ds.reset = false
	}
	ds.seq++
	rd.Seq = ds.seq
}

// send emits the first n buffered readings of a device.
func (r *runner) send(d *Device, ds *devRun, at int64, n int, replay bool) error {
	r.msg = Message{At: at, Gateway: d.Gateway, Device: d, Channel: devices.ChannelTelemetry, Readings: ds.buf[:n], Replay: replay}
	err := r.emit(&r.msg)
	ds.buf = ds.buf[:copy(ds.buf, ds.buf[n:])]
	return err
}

// replay sends what a gateway queued while it was off the network, device
// by device in time order, 100 readings a message.
func (r *runner) replay(g *Gateway, at int64) error {
	gs := &r.gws[g.idx]
	q := gs.queue
	gs.queue = nil
	for _, d := range g.Devices {
		ds := &r.devs[d.idx]
		for _, x := range q {
			if x.dev != d {
				continue
			}
			if x.ev != nil {
				r.msg = Message{At: at, Gateway: g, Device: d, Channel: devices.ChannelEvent, Event: *x.ev, Replay: true}
				if err := r.emit(&r.msg); err != nil {
					return err
				}
				continue
			}
			ds.buf = append(ds.buf, x.r)
			if len(ds.buf) >= 100 {
				if err := r.send(d, ds, at, len(ds.buf), true); err != nil {
					return err
				}
			}
		}
		if len(ds.buf) > 0 {
			if err := r.send(d, ds, at, len(ds.buf), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// event sends a device event, and with it an immediate reading when the
// device reports its alarm status at once.
func (r *runner) event(d *Device, e devEvent) error {
	g := d.Gateway
	gs := &r.gws[g.idx]
	if !gs.powered || !d.online(e.at) {
		return nil
	}
	ds := &r.devs[d.idx]
	ds.evSeq++
	ev := devices.Event{TS: e.at, Seq: ds.evSeq, Type: e.typ, Port: e.port, Code: e.code, Detail: e.detail}
	if !gs.connected {
		gs.queue = append(gs.queue, queued{dev: d, ev: &ev})
	} else {
		r.msg = Message{At: e.at, Gateway: g, Device: d, Channel: devices.ChannelEvent, Event: ev}
		if err := r.emit(&r.msg); err != nil {
			return err
		}
	}
	if !e.reading {
		return nil
	}
	var rd devices.Reading
	d.fill(&rd, e.at, max(1, e.port))
	r.number(ds, &rd)
	if !gs.connected {
		gs.queue = append(gs.queue, queued{dev: d, r: rd})
		return nil
	}
	// Sent at once, with whatever the gateway still held for the device so
	// that seq stays in order.
	ds.buf = append(ds.buf, rd)
	return r.send(d, ds, e.at, len(ds.buf), false)
}

// finish flushes partial batches and writes the closing ground truth.
func (r *runner) finish() error {
	at := r.st.At
	if r.to != math.MaxInt64 {
		at = r.to
	}
	for _, d := range r.c.devices {
		ds := &r.devs[d.idx]
		gs := &r.gws[d.Gateway.idx]
		if len(ds.buf) > 0 && gs.connected && gs.powered {
			if err := r.send(d, ds, ds.buf[len(ds.buf)-1].TS, len(ds.buf), false); err != nil {
				return err
			}
		}
	}
	for _, gs := range r.gws {
		r.st.Held += int64(len(gs.queue))
	}
	for _, u := range r.c.units {
		if u.mixed {
			e := &episode{kind: truth.MixedUse, start: r.from, end: at, u: u, details: map[string]any{"type": u.typ.String()}}
			if u.meter != nil {
				e.dev = u.meter
			}
			for _, rc := range r.c.records(e) {
				r.st.Episodes[rc.Kind]++
				if r.o.Truth != nil {
					if err := r.o.Truth(rc); err != nil {
						return err
					}
				}
			}
		}
	}
	if r.o.Truth != nil {
		return r.o.Truth(&truth.Record{Kind: truth.Run, Episode: "run", StartMS: r.from, EndMS: at, Details: map[string]any{
			"seed": r.c.seed, "devices": len(r.c.devices), "gateways": len(r.c.gateways), "units": len(r.c.units),
		}})
	}
	return nil
}

// records turns an episode into ground-truth records: one per device it
// touches (a building's voltage episode touches all its mains devices).
func (c *City) records(e *episode) []*truth.Record {
	id := e.id(c.seed)
	base := truth.Record{Kind: e.kind, Episode: id, StartMS: e.start, EndMS: e.end, Port: e.port, Details: e.details}
	switch {
	case e.dev != nil:
		base.Device, base.Gateway, base.Building, base.Street = e.dev.ID, e.dev.Gateway.ID, e.dev.Building, e.dev.Street
		base.Unit = e.dev.Unit
	case e.gw != nil:
		base.Gateway = e.gw.ID
		if e.gw.b != nil {
			base.Building, base.Street = e.gw.b.id, e.gw.b.st.id
		}
	}
	if e.u != nil {
		base.Unit, base.Building, base.Street = e.u.id, e.u.b.id, e.u.b.st.id
	}
	if e.st != nil {
		base.Street = e.st.id
	}
	if e.b != nil && e.dev == nil {
		var out []*truth.Record
		for _, d := range e.b.devices {
			if !d.mains {
				continue
			}
			rc := base
			rc.Device, rc.Gateway, rc.Unit, rc.Building, rc.Street = d.ID, d.Gateway.ID, d.Unit, d.Building, d.Street
			out = append(out, &rc)
		}
		return out
	}
	return []*truth.Record{&base}
}
