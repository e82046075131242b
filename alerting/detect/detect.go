// Package detect holds chargewatch's hazard detectors: pure, per-device
// state machines that run on event time (the readings' ts), so replaying a
// day of readings gives the same signals as living through it. They do no
// I/O and keep compact, fixed-size state (a few hundred bytes per device;
// charging piles a little more per port), allocating only when they signal.
//
// A Device holds the state of every rule for one device. Observe feeds it a
// reading and Event a device event; both append Signals: a condition began
// (OpPending, its for-duration runs), held long enough (OpFire), or cleared
// with hysteresis (OpClear). The lifecycle turns signals into alerts.
//
// Inputs older than the last applied one (per device, per pile port) are
// ignored: a late reading cannot change decisions already taken on event
// time, and a reading fed twice (after a restart from a checkpoint) is not
// counted twice.
//
// Offline detection needs wall time and lives in the engine.
package detect

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/devices"
)

// Op is what a signal says about a rule's condition.
type Op uint8

// Operations.
const (
	OpPending Op = iota + 1 // the condition began; its for-duration runs
	OpFire                  // the condition held for its for-duration (or fires at once)
	OpClear                 // the condition cleared (hysteresis applied), or a pending one fell back
)

func (o Op) String() string {
	switch o {
	case OpPending:
		return "pending"
	case OpFire:
		return "fire"
	case OpClear:
		return "clear"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Signal is one change of one rule's condition on one device.
type Signal struct {
	Op    Op
	Rule  alerting.Rule
	Port  int     // charging-pile port; 0 otherwise
	TS    int64   // event time of the input that caused it, Unix ms
	Since int64   // event time the condition started
	Value float64 // the worst value while active
	Limit float64 // the threshold
	Unit  string  // of Value and Limit
	Code  string  // device fault code or event detail
	// Evidence holds the readings behind a pending or firing signal,
	// oldest first; nil for clear.
	Evidence []alerting.Sample
}

// Info is what the detectors need to know about a device. The engine fills
// it from the registry for each input.
type Info struct {
	ID            string
	Kind          devices.Kind
	RatedCurrentA float64 // breaker or device rating; 0 if not known
	// Charging runs the indoor-charging detector: the device is a meter or
	// plug in a unit that is not a designated charging room.
	Charging bool
}

// Indices of Device.conds.
const (
	cResidual = iota
	cTemp
	cOverV
	cUnderV
	cPhase
	cArc
	cTamper
	cFault
	cSmoke
	cBattery
	nConds
)

var condRules = [nConds]alerting.Rule{
	cResidual: alerting.RuleResidualCurrent, cTemp: alerting.RuleOverTemperature,
	cOverV: alerting.RuleOverVoltage, cUnderV: alerting.RuleUnderVoltage, cPhase: alerting.RulePhaseLoss,
	cArc: alerting.RuleArcFault, cTamper: alerting.RuleTamper, cFault: alerting.RuleDeviceFault,
	cSmoke: alerting.RuleSmoke, cBattery: alerting.RuleLowBattery,
}

// timed are the conds that device events latch for Config.EventQuiet.
var timed = [...]int{cTemp, cOverV, cUnderV, cPhase, cArc}

// Device is the detector state of one device. The zero value is ready for
// use. It is not safe for concurrent use.
type Device struct {
	last  int64 // event time of the last reading (of any port, for a pile)
	evTS  int64 // last event applied
	evSeq uint64
	ring  ring
	ol    overload
	conds [nConds]cond
	code  string // fault code of the device_fault condition
	chg   Charging
	ports []port // charging-pile ports, indexed by port number
}

// port is the state of one charging-pile port. 136 bytes.
type port struct {
	overload cond
	temp     cond
	fault    cond
	last     int64   // event time of the last reading of this port
	sess     int64   // start of the charging session; 0 when idle
	code     string  // fault code
	peak     float32 // session's highest power
	tapered  bool
	long     bool // long_session signalled
	noTaper  bool // no_taper signalled
}

// MaxPorts bounds the ports a pile may have (the wire contract's range).
const MaxPorts = 64

func (d *Device) port(n int) *port {
	if n >= len(d.ports) {
		ps := make([]port, n+1)
		copy(ps, d.ports)
		d.ports = ps
	}
	return &d.ports[n]
}

// Observe applies one reading and appends the signals it causes to dst. It
// reports false, and changes nothing, when the reading is not newer than
// the last one of the device (or pile port): late or repeated. model makes
// the charging detector on first use; it may be nil when info.Charging is
// false.
func (d *Device) Observe(cfg *Config, info *Info, model ChargingModel, r *devices.Reading, dst []Signal) ([]Signal, bool) {
	e := emitter{d: d, cfg: cfg, info: *info, dst: dst, ts: r.TS}
	if info.Kind == devices.KindPile {
		pn := 0
		if v, ok := r.Get(devices.FieldPort); ok && v >= 1 && v <= MaxPorts {
			pn = int(v)
		}
		p := d.port(pn)
		if r.TS <= p.last {
			return dst, false
		}
		p.last = r.TS
		// Pile-wide rules (voltage) take port readings in event-time order.
		whole := r.TS >= d.last
		d.last = max(d.last, r.TS)
		d.ring.push(info.Kind, pn, r)
		d.pile(&e, r, pn, p, whole)
	} else {
		if r.TS <= d.last {
			return dst, false
		}
		prev := d.last
		d.last = r.TS
		d.ring.push(info.Kind, 0, r)
		switch info.Kind {
		case devices.KindMeter, devices.KindMonitor, devices.KindPlug:
			d.electrical(&e, model, r, prev)
		case devices.KindSmoke:
			d.smoke(&e, r)
		}
	}
	d.expire(&e)
	return e.dst, true
}

// expire lets event-latched conditions that the input did not measure
// clear, once quiet has passed since their event.
func (d *Device) expire(e *emitter) {
	q := ms(e.cfg.EventQuiet)
	for _, i := range timed {
		if e.measured&(1<<i) == 0 {
			e.cond(d.conds[i].expire(e.ts, q), condRules[i], 0, &d.conds[i], condLimit(e.cfg, i), condUnit(i))
		}
	}
	if e.measured&(1<<nConds) == 0 {
		e.overload(d.ol.c.expire(e.ts, q))
	}
}

var boolTh = Threshold{Raise: 1, Clear: 0}

func present(r *devices.Reading, fs ...devices.Field) (max, min float64, ok bool) {
	max, min = math.Inf(-1), math.Inf(1)
	for _, f := range fs {
		if v, has := r.Get(f); has {
			max, min, ok = math.Max(max, v), math.Min(min, v), true
		}
	}
	return max, min, ok
}

func (d *Device) electrical(e *emitter, model ChargingModel, r *devices.Reading, prev int64) {
	cfg, ts := e.cfg, r.TS
	q := ms(cfg.EventQuiet)
	// Overload on the largest phase current, or power over voltage.
	if cfg.Overload.Enabled {
		rated := e.info.RatedCurrentA
		if rated <= 0 {
			rated = cfg.Overload.RatedCurrentA
		}
		i, _, ok := present(r, devices.FieldCurrent, devices.FieldCurrentL1, devices.FieldCurrentL2, devices.FieldCurrentL3)
		if !ok {
			p, hasP := r.Get(devices.FieldPower)
			v, hasV := r.Get(devices.FieldVoltage)
			if hasP && hasV && v > 50 {
				i, ok = math.Abs(p)/v, true
			}
		}
		if ok && rated > 0 {
			e.measured |= 1 << nConds
			e.overload(d.ol.observe(&cfg.Overload, ts, prev, i/rated, q))
		}
	}
	if v, ok := r.Get(devices.FieldLeak); ok {
		e.measure(cResidual, v, &cfg.ResidualCurrent, 1, q)
	}
	if hi, _, ok := present(r, devices.FieldTemp, devices.FieldTemp1, devices.FieldTemp2, devices.FieldTemp3, devices.FieldTemp4); ok {
		e.measure(cTemp, hi, &cfg.OverTemperature, 1, q)
	}
	d.voltage(e, r)
	if v, ok := r.Get(devices.FieldFault); ok {
		e.measure(cFault, v, &boolTh, 1, 0)
	}
	if d.chg == nil && e.info.Charging && cfg.Charging.Enabled && model != nil {
		d.chg = model.New()
	}
	if p, ok := r.Get(devices.FieldPower); ok && d.chg != nil && e.info.Charging && cfg.Charging.Enabled {
		switch d.chg.Observe(&cfg.Charging, ts, chargeReading(r, p)) {
		case ChargeStarted:
			s := d.chg.Session()
			e.charging(OpFire, s)
		case ChargeEnded:
			e.charging(OpClear, d.chg.Session())
		}
	}
}

// chargeReading is what the charging detector gets of a reading with
// active power p: the non-active power sqrt(S²-P²) from the power factor
// or from the apparent power V·I, whichever the readings' rounding leaves
// the more exact. A meter's reactive_power_var is not
// used: it is the fundamental's alone, and a switch-mode charger's low power
// factor is mostly distortion.
func chargeReading(r *devices.Reading, p float64) ChargeReading {
	cr := ChargeReading{PowerW: p}
	p = math.Abs(p)
	// Each way is off by up to what the readings' rounding allows (a power
	// factor of 3 decimals, 0.1 V, 1 mA): near a power factor of 1 (a
	// kilowatt resistive load on) tens of var, which as the load's power
	// drifts make false slopes; the way with the smaller bound is taken.
	var naErr float64
	if pf, ok := r.Get(devices.FieldPF); ok && math.Abs(pf) >= 0.05 && math.Abs(pf) <= 1 {
		pf = math.Abs(pf)
		cr.NonActive, cr.HasNA = p*tanAcos(pf), true
		naErr = p * (tanAcos(pf-0.0005) - tanAcos(min(1, pf+0.0005))) / 2
	}
	i, okI := r.Get(devices.FieldCurrent)
	v, okV := r.Get(devices.FieldVoltage)
	if okI && okV && v > 50 && i >= 0 {
		s := v * i
		q := math.Sqrt(math.Max(0, s*s-p*p))
		ds := i*0.05 + v*0.0005
		e := s * ds / math.Max(q, math.Sqrt(2*s*ds))
		if !cr.HasNA || e < naErr {
			cr.NonActive, cr.HasNA = q, true
		}
	}
	return cr
}

// tanAcos is the non-active power per watt at power factor pf.
func tanAcos(pf float64) float64 { return math.Sqrt(max(0, 1-pf*pf)) / pf }

// voltage measures over-voltage on the highest voltage, under-voltage on
// voltage_v (or the highest phase: a lost phase is phase loss, not
// under-voltage), and phase loss on the per-phase voltages.
func (d *Device) voltage(e *emitter, r *devices.Reading) {
	cfg := e.cfg
	q := ms(cfg.EventQuiet)
	hi, _, ok := present(r, devices.FieldVoltage, devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3)
	if !ok {
		return
	}
	e.measure(cOverV, hi, &cfg.OverVoltage, 1, q)
	u, has := r.Get(devices.FieldVoltage)
	phHi, phLo, phases := present(r, devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3)
	if !has {
		u = phHi
	}
	e.measure(cUnderV, u, &cfg.UnderVoltage, -1, q)
	if phases && phHi >= 150 {
		th := Threshold{Raise: cfg.PhaseLossV, Clear: 150}
		e.measure(cPhase, phLo, &th, -1, q)
	}
}

func (d *Device) pile(e *emitter, r *devices.Reading, pn int, p *port, whole bool) {
	cfg, ts := e.cfg, r.TS
	q := ms(cfg.EventQuiet)
	power, hasP := r.Get(devices.FieldPower)
	if hasP {
		e.portCond(p.overload.measure(ts, power, &cfg.PortOverload, 1, q), alerting.RulePortOverload, pn, &p.overload, cfg.PortOverload.Raise, "W", "")
	}
	if t, ok := r.Get(devices.FieldTemp); ok {
		e.portCond(p.temp.measure(ts, t, &cfg.PortOverTemp, 1, q), alerting.RulePortOverTemp, pn, &p.temp, cfg.PortOverTemp.Raise, "°C", "")
	}
	if whole {
		d.voltage(e, r)
	}
	st, hasState := r.Get(devices.FieldState)
	fault := -1.0
	if v, ok := r.Get(devices.FieldFault); ok {
		fault = v
	}
	if hasState {
		if devices.PileState(st) == devices.PileFault {
			fault = 1
		} else if fault < 0 {
			fault = 0
		}
	}
	if fault >= 0 {
		if fault == 1 && !p.fault.active() {
			p.code = "state=fault"
		}
		e.portCond(p.fault.measure(ts, fault, &boolTh, 1, 0), alerting.RulePileFault, pn, &p.fault, 1, "", p.code)
	}
	// Sessions: from the port state when given, else from the power.
	charging := -1
	switch {
	case hasState:
		charging = 0
		if devices.PileState(st) == devices.PileCharging {
			charging = 1
		}
	case hasP && power >= 5:
		charging = 1
	case hasP && power < 1:
		charging = 0
	}
	switch charging {
	case 1:
		d.sessionRun(e, p, pn, ts, power, hasP)
	case 0:
		d.sessionEnd(e, p, pn)
	}
}

func (d *Device) sessionRun(e *emitter, p *port, pn int, ts int64, power float64, hasP bool) {
	sc := &e.cfg.Session
	if p.sess == 0 {
		p.sess, p.peak, p.tapered, p.long, p.noTaper = ts, 0, false, false, false
	}
	if hasP {
		if float32(power) > p.peak {
			p.peak = float32(power)
		}
		// The first ten minutes ramp up; a taper is a fall from the peak after that.
		if ts-p.sess >= 10*60*1000 && power <= sc.TaperFraction*float64(p.peak) {
			p.tapered = true
		}
	}
	age := ts - p.sess
	hours := float64(age) / 3.6e6
	if !p.long && age >= ms(sc.LongAfter) {
		p.long = true
		e.emit(Signal{Op: OpFire, Rule: alerting.RuleLongSession, Port: pn, Since: p.sess, Value: hours, Limit: sc.LongAfter.Hours(), Unit: "h"}, true)
	}
	switch {
	case !p.noTaper && !p.tapered && age >= ms(sc.NoTaperAfter):
		p.noTaper = true
		e.emit(Signal{Op: OpFire, Rule: alerting.RuleNoTaper, Port: pn, Since: p.sess, Value: float64(p.peak), Limit: sc.TaperFraction * float64(p.peak), Unit: "W"}, true)
	case p.noTaper && p.tapered:
		p.noTaper = false
		e.emit(Signal{Op: OpClear, Rule: alerting.RuleNoTaper, Port: pn, Since: p.sess}, false)
	}
}

func (d *Device) sessionEnd(e *emitter, p *port, pn int) {
	if p.sess == 0 {
		return
	}
	if p.long {
		e.emit(Signal{Op: OpClear, Rule: alerting.RuleLongSession, Port: pn, Since: p.sess}, false)
	}
	if p.noTaper {
		e.emit(Signal{Op: OpClear, Rule: alerting.RuleNoTaper, Port: pn, Since: p.sess}, false)
	}
	p.sess, p.peak, p.tapered, p.long, p.noTaper = 0, 0, false, false, false
}

func (d *Device) smoke(e *emitter, r *devices.Reading) {
	cfg := e.cfg
	if v, ok := r.Get(devices.FieldSmoke); ok {
		e.measure(cSmoke, v, &boolTh, 1, 0)
	}
	if v, ok := r.Get(devices.FieldTamper); ok {
		e.measure(cTamper, v, &boolTh, 1, 0)
	}
	if v, ok := r.Get(devices.FieldFault); ok {
		e.measure(cFault, v, &boolTh, 1, 0)
	}
	// Low battery from the flag, the level or both: 1 low, 0 fine, 0.5 in
	// the hysteresis band (keeps the state).
	flag, hasFlag := r.Get(devices.FieldBatteryLow)
	pct, hasPct := r.Get(devices.FieldBatteryPct)
	if hasFlag || hasPct {
		v := 0.0
		switch {
		case (hasFlag && flag == 1) || (hasPct && pct <= cfg.LowBatteryPct):
			v = 1
		case hasPct && pct < cfg.LowBatteryPct+5:
			v = 0.5
		}
		e.measure(cBattery, v, &boolTh, 1, 0)
	}
	if t, ok := r.Get(devices.FieldTemp); ok {
		e.measure(cTemp, t, &cfg.OverTemperature, 1, ms(cfg.EventQuiet))
	}
}

// Event applies one device event and appends the signals it causes to dst.
// It reports false, and changes nothing, for an event not newer (by ts,
// then seq) than the last one applied.
func (d *Device) Event(cfg *Config, info *Info, ev *devices.Event, dst []Signal) ([]Signal, bool) {
	if ev.TS < d.evTS || (ev.TS == d.evTS && ev.Seq <= d.evSeq && d.evTS != 0) {
		return dst, false
	}
	d.evTS, d.evSeq = ev.TS, ev.Seq
	e := emitter{d: d, cfg: cfg, info: *info, dst: dst, ts: ev.TS, ev: ev}
	ts := ev.TS
	pile := info.Kind == devices.KindPile && ev.Port >= 1 && ev.Port <= MaxPorts
	pn := 0
	if pile {
		pn = ev.Port
	}
	raise := func(i int, v float64) {
		dir := int8(1)
		if i == cUnderV || i == cPhase {
			dir = -1
		}
		e.cond(d.conds[i].raise(ts, v, dir), condRules[i], 0, &d.conds[i], condLimit(cfg, i), condUnit(i))
	}
	lower := func(i int) {
		e.cond(d.conds[i].lower(ts), condRules[i], 0, &d.conds[i], condLimit(cfg, i), condUnit(i))
	}
	switch ev.Type {
	case devices.EventSmokeAlarm:
		raise(cSmoke, 1)
	case devices.EventSmokeClear:
		lower(cSmoke)
	case devices.EventTamper:
		raise(cTamper, 1)
	case devices.EventTamperClear:
		lower(cTamper)
	case devices.EventLowBattery:
		raise(cBattery, 1)
	case devices.EventBatteryOK:
		lower(cBattery)
	case devices.EventFault:
		if info.Kind == devices.KindPile {
			p := d.port(pn)
			p.code = ev.Code
			e.portCond(p.fault.raise(ts, 1, 1), alerting.RulePileFault, pn, &p.fault, 1, "", p.code)
		} else {
			d.code = ev.Code
			raise(cFault, 1)
		}
	case devices.EventFaultClear:
		if info.Kind == devices.KindPile {
			p := d.port(pn)
			e.portCond(p.fault.lower(ts), alerting.RulePileFault, pn, &p.fault, 1, "", p.code)
		} else {
			lower(cFault)
		}
	case devices.EventArcFault:
		raise(cArc, 1)
	case devices.EventPhaseLoss:
		raise(cPhase, 0)
	case devices.EventOverVoltage:
		raise(cOverV, cfg.OverVoltage.Raise)
	case devices.EventUnderVoltage:
		raise(cUnderV, cfg.UnderVoltage.Raise)
	case devices.EventOverTemp:
		if pile {
			p := d.port(ev.Port)
			e.portCond(p.temp.raise(ts, cfg.PortOverTemp.Raise, 1), alerting.RulePortOverTemp, ev.Port, &p.temp, cfg.PortOverTemp.Raise, "°C", "")
		} else {
			raise(cTemp, cfg.OverTemperature.Raise)
		}
	case devices.EventOverload:
		if pile {
			p := d.port(ev.Port)
			e.portCond(p.overload.raise(ts, cfg.PortOverload.Raise, 1), alerting.RulePortOverload, ev.Port, &p.overload, cfg.PortOverload.Raise, "W", "")
		} else {
			e.overload(d.ol.c.raise(ts, cfg.Overload.Pickup, 1))
		}
	case devices.EventChargeStart:
		if pile {
			if p := d.port(ev.Port); p.sess == 0 {
				p.sess, p.peak, p.tapered, p.long, p.noTaper = ts, 0, false, false, false
			}
		}
	case devices.EventChargeStop:
		if pile {
			d.sessionEnd(&e, d.port(ev.Port), ev.Port)
		}
	}
	// A later event also lets other event-latched conditions expire.
	for _, i := range timed {
		if d.conds[i].latch == ts {
			e.measured |= 1 << i
		}
	}
	if d.ol.c.latch == ts {
		e.measured |= 1 << nConds
	}
	d.expire(&e)
	return e.dst, true
}

func condLimit(cfg *Config, i int) float64 {
	switch i {
	case cResidual:
		return cfg.ResidualCurrent.Raise
	case cTemp:
		return cfg.OverTemperature.Raise
	case cOverV:
		return cfg.OverVoltage.Raise
	case cUnderV:
		return cfg.UnderVoltage.Raise
	case cPhase:
		return cfg.PhaseLossV
	case cBattery:
		return cfg.LowBatteryPct
	}
	return 1
}

func condUnit(i int) string {
	switch i {
	case cResidual:
		return "mA"
	case cTemp:
		return "°C"
	case cOverV, cUnderV, cPhase:
		return "V"
	}
	return ""
}

// emitter appends signals for one input.
type emitter struct {
	d        *Device
	cfg      *Config
	info     Info // a copy: a pointer would make the caller's Info escape
	dst      []Signal
	ts       int64
	ev       *devices.Event
	measured uint16 // bit i: conds[i] was measured; bit nConds: overload
}

func (e *emitter) measure(i int, v float64, th *Threshold, dir int8, quiet int64) {
	e.measured |= 1 << i
	c := &e.d.conds[i]
	e.cond(c.measure(e.ts, v, th, dir, quiet), condRules[i], 0, c, th.Raise, condUnit(i))
}

func (e *emitter) cond(op Op, rule alerting.Rule, port int, c *cond, limit float64, unit string) {
	if op == 0 {
		return
	}
	code := ""
	if rule == alerting.RuleDeviceFault {
		code = e.d.code
	}
	e.emit(Signal{Op: op, Rule: rule, Port: port, Since: c.since, Value: float64(c.worst), Limit: limit, Unit: unit, Code: code}, op != OpClear)
}

func (e *emitter) portCond(op Op, rule alerting.Rule, port int, c *cond, limit float64, unit, code string) {
	if op == 0 {
		return
	}
	e.emit(Signal{Op: op, Rule: rule, Port: port, Since: c.since, Value: float64(c.worst), Limit: limit, Unit: unit, Code: code}, op != OpClear)
}

func (e *emitter) overload(op Op) {
	if op == 0 {
		return
	}
	o := &e.d.ol
	rated := e.info.RatedCurrentA
	if rated <= 0 {
		rated = e.cfg.Overload.RatedCurrentA
	}
	e.emit(Signal{Op: op, Rule: alerting.RuleOverload, Since: o.c.since, Value: float64(o.c.worst) * rated, Limit: e.cfg.Overload.Pickup * rated, Unit: "A"}, op != OpClear)
}

func (e *emitter) charging(op Op, s ChargeSession) {
	sig := Signal{Op: op, Rule: alerting.RuleIndoorCharging, Since: s.Start, Value: s.StepW, Limit: e.cfg.Charging.StepMinW, Unit: "W"}
	if op == OpFire {
		v := map[string]float64{"base_w": round(s.BaseW), "power_w": round(s.StartW), "step_w": round(s.StartW - s.BaseW)}
		if s.Path != "" {
			// the model says how it confirmed the charge, and how sure it is
			v["confidence"] = s.Confidence
		}
		sig.Evidence = append(sig.Evidence, alerting.Sample{TS: s.Start, Device: e.info.ID, Values: v, Code: s.Path})
	}
	e.emit(sig, op == OpFire)
}

func (e *emitter) emit(s Signal, evidence bool) {
	s.TS = e.ts
	if evidence {
		if e.ev != nil {
			s.Evidence = append(s.Evidence, alerting.Sample{TS: e.ev.TS, Device: e.info.ID, Port: e.ev.Port, Event: e.ev.Type.String(), Code: e.ev.Code})
		} else {
			s.Evidence = e.d.ring.evidence(s.Evidence, &e.info, s.Port, s.Since)
		}
	}
	if s.Code == "" && e.ev != nil {
		s.Code = e.ev.Code
	}
	e.dst = append(e.dst, s)
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

// ringSize is how many recent readings a device keeps as evidence.
const ringSize = 8

// sample is one reading kept as evidence: up to six fields. 40 bytes.
type sample struct {
	ts   int64
	port uint8
	n    uint8
	f    [6]devices.Field
	v    [6]float32
}

type ring struct {
	s    [ringSize]sample
	next uint8
}

// evidenceFields lists, per kind, the fields kept as evidence, most
// telling first.
var evidenceFields = [...][]devices.Field{
	devices.KindMeter:   {devices.FieldPower, devices.FieldCurrent, devices.FieldVoltage, devices.FieldPF, devices.FieldTemp, devices.FieldCurrentL1, devices.FieldCurrentL2, devices.FieldCurrentL3, devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3},
	devices.KindMonitor: {devices.FieldLeak, devices.FieldCurrent, devices.FieldVoltage, devices.FieldTemp, devices.FieldTemp1, devices.FieldTemp2, devices.FieldTemp3, devices.FieldTemp4, devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3},
	devices.KindPile:    {devices.FieldPower, devices.FieldState, devices.FieldTemp, devices.FieldVoltage, devices.FieldCurrent, devices.FieldFault},
	devices.KindSmoke:   {devices.FieldSmoke, devices.FieldBatteryPct, devices.FieldBatteryLow, devices.FieldTamper, devices.FieldFault, devices.FieldTemp},
	devices.KindPlug:    {devices.FieldPower, devices.FieldCurrent, devices.FieldVoltage, devices.FieldPF, devices.FieldTemp, devices.FieldRelayOn},
}

func (g *ring) push(k devices.Kind, port int, r *devices.Reading) {
	s := &g.s[g.next]
	g.next = (g.next + 1) % ringSize
	s.ts, s.port, s.n = r.TS, uint8(port), 0
	if int(k) >= len(evidenceFields) {
		return
	}
	for _, f := range evidenceFields[k] {
		if s.n == uint8(len(s.f)) {
			break
		}
		if v, ok := r.Get(f); ok {
			s.f[s.n], s.v[s.n] = f, float32(v)
			s.n++
		}
	}
}

// evidence appends the kept readings of the port from the last one before
// since onwards, oldest first.
func (g *ring) evidence(dst []alerting.Sample, info *Info, port int, since int64) []alerting.Sample {
	start := -1
	for i := 0; i < ringSize; i++ {
		s := &g.s[(int(g.next)+i)%ringSize]
		if s.ts == 0 || int(s.port) != port {
			continue
		}
		if s.ts < since {
			start = i // the last reading before the condition began
			continue
		}
		if start < 0 {
			start = i
		}
		break
	}
	if start < 0 {
		return dst
	}
	for i := start; i < ringSize; i++ {
		s := &g.s[(int(g.next)+i)%ringSize]
		if s.ts == 0 || int(s.port) != port {
			continue
		}
		vals := make(map[string]float64, s.n)
		for j := uint8(0); j < s.n; j++ {
			vals[s.f[j].String()] = float64(s.v[j])
		}
		dst = append(dst, alerting.Sample{TS: s.ts, Device: info.ID, Port: int(s.port), Values: vals})
	}
	return dst
}

// stateVersion is the version of the checkpoint encoding.
const stateVersion = 1

// MarshalBinary encodes the device's state for a checkpoint.
func (d *Device) MarshalBinary() ([]byte, error) {
	e := enc{b: make([]byte, 0, 512)}
	e.u8(stateVersion)
	e.i64(d.last)
	e.i64(d.evTS)
	e.u64(d.evSeq)
	e.u8(d.ring.next)
	for i := range d.ring.s {
		s := &d.ring.s[i]
		e.i64(s.ts)
		e.u8(s.port)
		e.u8(s.n)
		for j := uint8(0); j < s.n; j++ {
			e.u8(uint8(s.f[j]))
			e.f32(s.v[j])
		}
	}
	e.cond(&d.ol.c)
	e.f32(d.ol.acc)
	e.f32(d.ol.m)
	// Most conditions of most devices are idle: a bit mask says which
	// are written.
	var mask uint16
	for i := range d.conds {
		if d.conds[i] != (cond{}) {
			mask |= 1 << i
		}
	}
	e.u8(uint8(mask))
	e.u8(uint8(mask >> 8))
	for i := range d.conds {
		if mask&(1<<i) != 0 {
			e.cond(&d.conds[i])
		}
	}
	e.bytes([]byte(d.code))
	var chg []byte
	if d.chg != nil {
		b, err := d.chg.MarshalBinary()
		if err != nil {
			return nil, err
		}
		chg = b
	}
	e.bytes(chg)
	e.u8(uint8(len(d.ports)))
	for i := range d.ports {
		p := &d.ports[i]
		e.i64(p.last)
		e.cond(&p.overload)
		e.cond(&p.temp)
		e.cond(&p.fault)
		e.i64(p.sess)
		e.f32(p.peak)
		e.bool(p.tapered)
		e.bool(p.long)
		e.bool(p.noTaper)
		e.bytes([]byte(p.code))
	}
	return e.b, nil
}

// UnmarshalState restores a state written by MarshalBinary. model makes
// the charging detector when the state has one.
func (d *Device) UnmarshalState(b []byte, model ChargingModel) error {
	dc := dec{b: b}
	if v := dc.u8(); v != stateVersion {
		return fmt.Errorf("detector state version %d is not %d", v, stateVersion)
	}
	var n Device
	n.last = dc.i64()
	n.evTS = dc.i64()
	n.evSeq = dc.u64()
	n.ring.next = dc.u8() % ringSize
	for i := range n.ring.s {
		s := &n.ring.s[i]
		s.ts = dc.i64()
		s.port = dc.u8()
		s.n = dc.u8()
		if s.n > uint8(len(s.f)) {
			return errors.New("detector state is corrupt")
		}
		for j := uint8(0); j < s.n; j++ {
			s.f[j] = devices.Field(dc.u8())
			s.v[j] = dc.f32()
			if s.f[j] >= devices.NumFields {
				return errors.New("detector state is corrupt")
			}
		}
	}
	dc.cond(&n.ol.c)
	n.ol.acc = dc.f32()
	n.ol.m = dc.f32()
	mask := uint16(dc.u8()) | uint16(dc.u8())<<8
	for i := range n.conds {
		if mask&(1<<i) != 0 {
			dc.cond(&n.conds[i])
		}
	}
	n.code = string(dc.bytes())
	if chg := dc.bytes(); len(chg) > 0 {
		if model == nil {
			return errors.New("detector state has a charging session but no charging model is configured")
		}
		n.chg = model.New()
		if err := n.chg.UnmarshalBinary(chg); err != nil {
			if !errors.Is(err, ErrOtherChargingModel) {
				return err
			}
			// The model changed since the checkpoint (an upgrade): this
			// device's charging detector starts afresh and finds a session
			// still in progress again from the next readings.
			n.chg = model.New()
		}
	}
	np := int(dc.u8())
	if np > MaxPorts+1 {
		return errors.New("detector state is corrupt")
	}
	if np > 0 {
		n.ports = make([]port, np)
	}
	for i := range n.ports {
		p := &n.ports[i]
		p.last = dc.i64()
		dc.cond(&p.overload)
		dc.cond(&p.temp)
		dc.cond(&p.fault)
		p.sess = dc.i64()
		p.peak = dc.f32()
		p.tapered = dc.bool()
		p.long = dc.bool()
		p.noTaper = dc.bool()
		p.code = string(dc.bytes())
	}
	if dc.err != nil {
		return dc.err
	}
	*d = n
	return nil
}

// Size returns the memory the state holds, in bytes: the struct, its pile
// ports and the charging detector (when it reports its size).
func (d *Device) Size() int {
	n := int(unsafe.Sizeof(*d)) + cap(d.ports)*int(unsafe.Sizeof(port{})) + len(d.code)
	for i := range d.ports {
		n += len(d.ports[i].code)
	}
	if s, ok := d.chg.(interface{ Size() int }); ok {
		n += s.Size()
	}
	return n
}
