package city

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/charger"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

const (
	minute = simtime.Minute
	hour   = simtime.Hour
	dayMS  = simtime.Day
)

// Stream tags, so that the plans of one thing draw from unrelated streams.
const (
	tagUnitPlan uint64 = 0x75706c616e + iota
	tagBuildingPlan
	tagStreetPlan
	tagGatewayPlan
	tagDevicePlan
	tagEvening
	tagNight
	tagDaytime
	tagTopUp
)

// episode is one injected hazard or outage.
type episode struct {
	kind       truth.Kind
	start, end int64
	dev        *Device // the device it is about, if one
	gw         *Gateway
	u          *unit
	b          *building
	st         *street
	port       int
	level      float64 // peak: mA, °C or V
	ramp       int64   // ms from start to level
	channel    int     // monitor temperature channel
	reboot     bool    // offline: the device restarts and resets seq when back
	details    map[string]any
}

// id names an episode deterministically.
func (e *episode) id(seed uint64) string {
	place := ""
	switch {
	case e.dev != nil:
		place = e.dev.ID
	case e.u != nil:
		place = e.u.id
	case e.gw != nil:
		place = e.gw.ID
	case e.b != nil:
		place = e.b.id
	case e.st != nil:
		place = e.st.id
	}
	h := rng.Hash(seed, rng.Key(string(e.kind)), rng.Key(place), uint64(e.start), uint64(e.port))
	return fmt.Sprintf("%s-%012x", abbrev[e.kind], h>>16)
}

var abbrev = map[truth.Kind]string{
	truth.IndoorCharging: "chg", truth.Overload: "ovl", truth.Leakage: "leak", truth.CableOverTemp: "otc",
	truth.OverVoltage: "ovv", truth.UnderVoltage: "uvv", truth.Smoke: "smk", truth.SmokeTest: "tst",
	truth.Tamper: "tmp", truth.LowBattery: "bat", truth.PileCharging: "pil", truth.OverlongSession: "lng",
	truth.PortOverTemp: "otp", truth.PileFault: "flt", truth.DeviceOffline: "off", truth.GatewayOffline: "gwo",
	truth.PowerCut: "cut", truth.MixedUse: "mix",
}

// at places hour h of day d.
func at(d int64, h float64) int64 { return simtime.At(d, h) }

func mins(m float64) int64 { return int64(m * float64(minute)) }

// --- units --------------------------------------------------------------

type unitDay struct {
	segs  []elec.Segment // starting this day, before outages are cut out
	eps   []*episode
	trips []elec.Interval // breaker trips
}

func (u *unit) plan(c *City, d int64) *unitDay {
	return u.plans.get(d, func(d int64) *unitDay { return c.planUnit(u, d) })
}

func (c *City) planUnit(u *unit, d int64) *unitDay {
	p := &unitDay{}
	p.segs = u.hh.Day(d, nil)
	r := rng.New(c.seed, u.key, uint64(d), tagUnitPlan)
	for i := range u.bikes {
		c.planCharging(u, i, d, p)
	}
	if u.typ != registry.UnitChargingRoom { // charging rooms do not overload (their piles protect themselves)
		for k := rng.Poisson(r, c.sc.Hazards.Overload); k > 0; k-- {
			h := rng.Between(r, 7, 22.5)
			if rng.Chance(r, 0.6) {
				h = rng.Between(r, 18, 22.5)
			}
			c.overload(u, p, r, at(d, h), mins(rng.Between(r, 10, 40)), rng.Between(r, 1.15, 1.9))
		}
	}
	if c.demo != nil {
		c.demo.unitDay(u, d, p)
	}
	return p
}

// topUp returns soc, or for a top-up (a share EBikes.TopUp of home
// charges: the habit of charging every evening whatever is left) a pack
// already 70-90% full, so the plateau is short or the charge begins in the
// taper. A hash of (bike, start) decides, so the other draws of the plan
// stay as they were.
func (c *City) topUp(bk bike, start int64, soc float64) float64 {
	if x := rng.Uniform(rng.Hash(c.seed, bk.key, uint64(start), tagTopUp)); x < c.sc.EBikes.TopUp {
		return 0.7 + 0.2*x/c.sc.EBikes.TopUp
	}
	return soc
}

// planCharging adds the day's charges of bike i: an evening charge running
// overnight, or one plugged in after midnight, and for riders a daytime
// top-up. Whether a bike charges on an evening is a hash of (bike, day), so
// a night charge can avoid the previous evening's without drawing that day.
func (c *City) planCharging(u *unit, i int, d int64, p *unitDay) {
	eb := c.sc.EBikes
	bk := u.bikes[i]
	perDay := eb.SessionsPerWeek / 7
	if u.rider {
		perDay = math.Min(1, perDay*1.5)
	}
	evening := func(d int64) bool {
		return rng.Uniform(rng.Hash(c.seed, bk.key, uint64(d), tagEvening)) < perDay*(1-eb.NightStart)
	}
	r := rng.New(c.seed, bk.key, uint64(d), tagUnitPlan)
	leave := func(d int64) int64 { return at(d, rng.Between(r, 6.5, 9)) }
	if !evening(d-1) && rng.Uniform(rng.Hash(c.seed, bk.key, uint64(d), tagNight)) < perDay*eb.NightStart {
		start := at(d, rng.Between(r, 0.3, 3.5))
		c.charge(u, p, r, bk, i+1, start, leave(d), c.topUp(bk, start, rng.Between(r, 0.15, 0.6)), rng.Chance(r, eb.LeftPlugged))
	}
	if u.rider && rng.Uniform(rng.Hash(c.seed, bk.key, uint64(d), tagDaytime)) < 0.4 {
		start := at(d, rng.Between(r, 11, 15))
		c.charge(u, p, r, bk, i+1, start, start+mins(rng.Between(r, 90, 240)), c.topUp(bk, start, rng.Between(r, 0.2, 0.5)), false)
	}
	if evening(d) {
		h := rng.Gauss(r, 20.5, 1.3, 17.5, 23.8)
		if i == 1 && len(p.eps) > 0 && rng.Chance(r, 0.6) {
			// the second bike goes on charge the same evening, soon after
			last := p.eps[len(p.eps)-1]
			if last.kind == truth.IndoorCharging && last.start >= at(d, 17) {
				h = simtime.HourOf(last.start) + rng.Between(r, 0, 1.5)
			}
		}
		c.charge(u, p, r, bk, i+1, at(d, h), leave(d+1), c.topUp(bk, at(d, h), rng.Between(r, 0.15, 0.7)), rng.Chance(r, eb.LeftPlugged))
	}
}

// charge adds one charge of a bike from start; the bike is taken away at
// leave if it was left on the charger, otherwise it is unplugged soon after
// the charger finishes.
func (c *City) charge(u *unit, p *unitDay, r *rand.Rand, bk bike, bikeNo int, start, leave int64, soc float64, left bool) {
	_, probe := bk.p.Charge(nil, start, math.MaxInt64, soc, 0, 0)
	unplug := leave
	if !left && probe.Full+mins(90) < leave {
		unplug = probe.Full + mins(rng.Between(r, 10, 90))
	}
	if unplug <= start+mins(20) {
		unplug = start + mins(rng.Between(r, 40, 120))
	}
	var ses charger.Session
	p.segs, ses = bk.p.Charge(p.segs, start, unplug, soc, rng.Hash(bk.key, uint64(start)), uint8(household.TagCharger))
	ep := &episode{kind: truth.IndoorCharging, start: start, end: unplug, u: u, dev: u.meter, details: map[string]any{
		"bike": bikeNo, "charger": bk.p.Type.String(), "class": bk.p.Class,
		"plateau_w": round(bk.p.PlateauW, 1), "start_w": round(ses.StartW, 1), "soc_start": round(soc, 2),
		"tau_min": round(bk.p.TauMin, 1), "pf": round(bk.p.PF, 2),
		"cv_start_ms": ses.CVStart, "energy_kwh": round(ses.EnergyWh/1000, 3), "left_plugged": ses.Full < unplug && unplug-ses.Full > hour,
	}}
	if ses.Full < unplug {
		ep.details["full_ms"] = ses.Full
	}
	p.eps = append(p.eps, ep)
}

// overload stacks resistive loads (heaters, kettles, an induction hob) so
// that the unit draws mult × its breaker rating; from 1.45 × the breaker
// trips within minutes and the unit is dark until someone resets it.
func (c *City) overload(u *unit, p *unitDay, r *rand.Rand, start, dur int64, mult float64) {
	total := mult * u.ratedA * 220
	k := 2 + r.IntN(3)
	t := start
	var full int64
	for j := 0; j < k; j++ {
		w := total / float64(k) * rng.Between(r, 0.85, 1.15)
		seg := elec.Segment{T0: t, Start: t, End: start + dur, W: w, Ripple: 0.01, Key: rng.Hash(u.key, uint64(t)), Tag: uint8(household.TagOverload)}
		p.segs = append(p.segs, seg)
		full = t
		t += mins(rng.Between(r, 0.5, 2.5))
	}
	end := start + dur
	tripped := mult >= 1.45
	if tripped {
		trip := min(end, full+mins(rng.Between(r, 2, 15)/(mult-1.2)))
		p.trips = append(p.trips, elec.Interval{Start: trip, End: trip + mins(rng.Between(r, 5, 30))})
		end = trip
	}
	p.eps = append(p.eps, &episode{kind: truth.Overload, start: full, end: end, u: u, dev: u.meter, level: mult, details: map[string]any{
		"rated_a": u.ratedA, "peak_a": round(mult*u.ratedA, 1), "stacked_w": round(total, 0), "tripped": tripped,
	}})
}

// cuts returns the outages that zero a unit's load on day d: its breaker
// trips and its street's power cuts.
func (c *City) cuts(u *unit, d int64, dst []elec.Interval) []elec.Interval {
	dst = append(dst, u.plan(c, d).trips...)
	for _, e := range u.b.st.plan(c, d).eps {
		dst = append(dst, elec.Interval{Start: e.start, End: e.end})
	}
	return dst
}

// segments is the unit's elec.Source: its loads of day d with the outages
// of days d and d+1 cut out, plus its charging piles' ports.
func (u *unit) segments(d int64, dst []elec.Segment) []elec.Segment {
	c := u.c
	cuts := c.cuts(u, d, nil)
	cuts = c.cuts(u, d+1, cuts)
	for _, s := range u.plan(c, d).segs {
		dst = elec.Subtract(dst, s, cuts)
	}
	for _, pile := range u.piles {
		pd := pile.plan(d)
		for _, ps := range pd.sessions {
			dst = append(dst, ps.segs...)
		}
	}
	return dst
}

// --- buildings and streets ----------------------------------------------

type buildingDay struct{ eps []*episode }

func (b *building) plan(c *City, d int64) *buildingDay {
	return b.plans.get(d, func(d int64) *buildingDay {
		p := &buildingDay{}
		r := rng.New(c.seed, b.key, uint64(d), tagBuildingPlan)
		for k := rng.Poisson(r, c.sc.Hazards.OverVoltage); k > 0; k-- {
			s := at(d, rng.Between(r, 0, 23))
			p.eps = append(p.eps, &episode{kind: truth.OverVoltage, start: s, end: s + mins(rng.Between(r, 10, 180)), b: b, level: rng.Between(r, 256, 275),
				details: map[string]any{"cause": "neutral fault"}})
		}
		for k := rng.Poisson(r, c.sc.Hazards.UnderVoltage); k > 0; k-- {
			s := at(d, rng.Between(r, 17, 22))
			p.eps = append(p.eps, &episode{kind: truth.UnderVoltage, start: s, end: s + mins(rng.Between(r, 30, 240)), b: b, level: rng.Between(r, 172, 185),
				details: map[string]any{"cause": "overloaded transformer"}})
		}
		if c.demo != nil {
			c.demo.buildingDay(b, d, p)
		}
		for _, e := range p.eps {
			e.details["volts"] = round(e.level, 1)
		}
		return p
	})
}

type streetDay struct{ eps []*episode }

func (s *street) plan(c *City, d int64) *streetDay {
	return s.plans.get(d, func(d int64) *streetDay {
		p := &streetDay{}
		r := rng.New(c.seed, s.key, uint64(d), tagStreetPlan)
		for k := rng.Poisson(r, c.sc.Hazards.PowerCut); k > 0; k-- {
			st := at(d, rng.Between(r, 0, 23))
			p.eps = append(p.eps, s.cut(st, st+mins(rng.Between(r, 20, 240))))
		}
		if c.demo != nil {
			c.demo.streetDay(s, d, p)
		}
		return p
	})
}

func (s *street) cut(start, end int64) *episode {
	var gws []string
	for _, g := range s.gateways {
		gws = append(gws, g.ID)
	}
	for _, d := range s.devices {
		if d.mains {
			gws = append(gws, d.ID)
		}
	}
	slices.Sort(gws)
	return &episode{kind: truth.PowerCut, start: start, end: end, st: s, reboot: true, details: map[string]any{"gateways": gws}}
}

// cutAt reports whether the street is without power at t.
func (s *street) cutAt(c *City, t int64) bool {
	d := simtime.DayOf(t)
	for _, dd := range [2]int64{d - 1, d} {
		for _, e := range s.plan(c, dd).eps {
			if t >= e.start && t < e.end {
				return true
			}
		}
	}
	return false
}

// --- gateways -----------------------------------------------------------

type gwDay struct{ eps []*episode }

func (g *Gateway) plan(d int64) *gwDay {
	c := g.city
	return g.plans.get(d, func(d int64) *gwDay {
		p := &gwDay{}
		if g.Self {
			return p // a device that connects by itself goes offline as a device
		}
		r := rng.New(c.seed, g.key, uint64(d), tagGatewayPlan)
		for k := rng.Poisson(r, c.sc.Hazards.GatewayOffline); k > 0; k-- {
			s := at(d, rng.Between(r, 0, 23.5))
			p.eps = append(p.eps, &episode{kind: truth.GatewayOffline, start: s, end: s + mins(rng.Between(r, 5, 180)), gw: g,
				details: map[string]any{"cause": pick(r, "4g signal lost", "router restart", "broker unreachable")}})
		}
		if c.demo != nil {
			c.demo.gatewayDay(g, d, p)
		}
		return p
	})
}

// netOff reports whether the gateway is cut off from the broker at t (it
// still polls and queues).
func (g *Gateway) netOff(t int64) (bool, int64) {
	d := simtime.DayOf(t)
	for _, dd := range [2]int64{d - 1, d} {
		for _, e := range g.plan(dd).eps {
			if t >= e.start && t < e.end {
				return true, e.end
			}
		}
	}
	return false, 0
}

// powered reports whether the gateway has power at t.
func (g *Gateway) powered(t int64) bool {
	return !g.mains || g.b == nil || !g.b.st.cutAt(g.city, t)
}

func pick(r *rand.Rand, s ...string) string { return s[r.IntN(len(s))] }

// --- devices ------------------------------------------------------------

type smokeParams struct {
	battery0 float64 // battery % at the epoch
	drain    float64 // % per day
	rssi     float64
	zigbee   bool
}

type monitorParams struct {
	leak0    float64 // mA at no load
	leakPerA float64
	rise     [4]float64 // °C above ambient at rated current, per channel
}

type pileParams struct {
	ambient float64 // °C above outdoor in the charging room
	ctr     counters
}

type plugParams struct {
	tag uint8 // the appliance in the socket when no e-bike is charged there
	ctr counters
}

func (c *City) initDevice(d *Device) {
	r := rng.New(c.seed, d.key, 0x696e6974) // "init"
	switch d.Kind {
	case devices.KindSmoke:
		d.smoke = &smokeParams{battery0: rng.Between(r, 35, 100), drain: rng.Between(r, 0.01, 0.04), rssi: rng.Between(r, -105, -70),
			zigbee: strings.Contains(strings.ToLower(d.Model), "zigbee")}
	case devices.KindMonitor:
		d.mon = &monitorParams{leak0: math.Exp(rng.Between(r, math.Log(8), math.Log(90))), leakPerA: rng.Between(r, 0.05, 0.4),
			rise: [4]float64{rng.Between(r, 20, 35), rng.Between(r, 18, 32), rng.Between(r, 1, 4), rng.Between(r, 15, 28)}}
	case devices.KindPile:
		d.pile = &pileParams{ambient: rng.Between(r, 2, 6)}
	case devices.KindPlug:
		d.plug = &plugParams{tag: uint8([]household.Appliance{household.TV, household.PC, household.Kettle}[r.IntN(3)])}
	}
}

// plugTag is the appliance behind a smart plug: the e-bike charger in a home
// that charges indoors (a plug bought for it, or by the campaign), else the
// TV or the PC.
func (d *Device) plugTag() uint8 {
	if d.u != nil && len(d.u.bikes) > 0 {
		return uint8(household.TagCharger)
	}
	return d.plug.tag
}

// pileSession is one charge at a pile port.
type pileSession struct {
	port                    int
	start, full, stop, gone int64 // plug-in, full declared, pile cut, power gone (unplug or cut)
	code                    string
	segs                    []elec.Segment
	overTemp                *episode
	p                       charger.Params
	energyWh                float64
}

type devDay struct {
	eps      []*episode
	events   []devEvent
	sessions []*pileSession // piles: sessions starting this day, all ports
}

type devEvent struct {
	at      int64
	typ     devices.EventType
	port    int
	code    string
	detail  string
	reading bool // a telemetry reading is sent at once too (alarm status)
}

func (d *Device) plan(day int64) *devDay {
	return d.plans.get(day, func(day int64) *devDay { return d.city.planDevice(d, day) })
}

func (c *City) planDevice(d *Device, day int64) *devDay {
	p := &devDay{}
	hz := c.sc.Hazards
	r := rng.New(c.seed, d.key, uint64(day), tagDevicePlan)
	for k := rng.Poisson(r, hz.DeviceOffline); k > 0; k-- {
		s := at(day, rng.Between(r, 0, 23.5))
		reboot := rng.Chance(r, 0.5)
		cause := "communication lost"
		if reboot {
			cause = "power lost"
		}
		p.eps = append(p.eps, &episode{kind: truth.DeviceOffline, start: s, end: s + mins(rng.Between(r, 10, 360)), dev: d, reboot: reboot,
			details: map[string]any{"cause": cause}})
	}
	switch d.Kind {
	case devices.KindSmoke:
		c.planSmoke(d, day, r, p)
	case devices.KindMonitor:
		c.planMonitor(d, day, r, p)
	case devices.KindPile:
		c.planPile(d, day, r, p)
	}
	if c.demo != nil {
		c.demo.deviceDay(d, day, p)
	}
	for _, ps := range p.sessions {
		c.sessionEpisodes(d, ps, p)
	}
	for _, e := range p.eps {
		if e.kind == truth.Smoke || e.kind == truth.Tamper || e.kind == truth.LowBattery || e.kind == truth.SmokeTest {
			smokeEvents(e, p)
		}
	}
	slices.SortStableFunc(p.events, func(a, b devEvent) int { return cmpInt(a.at, b.at) })
	return p
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *City) planSmoke(d *Device, day int64, r *rand.Rand, p *devDay) {
	hz := c.sc.Hazards
	for k := rng.Poisson(r, hz.SmokeAlarm); k > 0; k-- {
		cause := []string{"cooking", "cooking", "cooking", "smoking", "fire"}[r.IntN(5)]
		h := rng.Between(r, 0, 24)
		dur := rng.Between(r, 1, 8)
		switch cause {
		case "cooking":
			h = []float64{rng.Between(r, 11, 12.5), rng.Between(r, 17, 19.5)}[r.IntN(2)]
		case "fire":
			dur = rng.Between(r, 10, 30)
		}
		c.smokeAlarm(d, p, r, at(day, h), mins(dur), cause)
	}
	for k := rng.Poisson(r, hz.SmokeTest); k > 0; k-- {
		s := at(day, rng.Between(r, 9, 18))
		p.eps = append(p.eps, &episode{kind: truth.SmokeTest, start: s, end: s + mins(rng.Between(r, 0.2, 0.6)), dev: d})
	}
	for k := rng.Poisson(r, hz.Tamper); k > 0; k-- {
		s := at(day, rng.Between(r, 7, 23))
		p.eps = append(p.eps, &episode{kind: truth.Tamper, start: s, end: s + mins(rng.Between(r, 10, 600)), dev: d,
			details: map[string]any{"cause": pick(r, "removed to stop cooking alarms", "knocked off while cleaning", "removed by tenant")}})
	}
	for k := rng.Poisson(r, hz.LowBattery); k > 0; k-- {
		s := at(day, rng.Between(r, 0, 24))
		p.eps = append(p.eps, &episode{kind: truth.LowBattery, start: s, end: s + mins(rng.Between(r, 1, 7)*24*60), dev: d, level: rng.Between(r, 8, 19)})
	}
}

func (c *City) smokeAlarm(d *Device, p *devDay, r *rand.Rand, start, dur int64, cause string) {
	e := &episode{kind: truth.Smoke, start: start, end: start + dur, dev: d, details: map[string]any{"cause": cause}}
	if cause != "fire" && rng.Chance(r, 0.4) {
		e.details["silenced_ms"] = start + mins(rng.Between(r, 0.5, 1.5))
	}
	p.eps = append(p.eps, e)
}

// smokeEvents adds the events a detector sends for an episode.
func smokeEvents(e *episode, p *devDay) {
	switch e.kind {
	case truth.Smoke:
		p.events = append(p.events, devEvent{at: e.start, typ: devices.EventSmokeAlarm, reading: true})
		if s, ok := e.details["silenced_ms"].(int64); ok {
			p.events = append(p.events, devEvent{at: s, typ: devices.EventSilenced})
		}
		p.events = append(p.events, devEvent{at: e.end, typ: devices.EventSmokeClear, reading: true})
	case truth.SmokeTest:
		p.events = append(p.events, devEvent{at: e.start, typ: devices.EventSelfTest, detail: "test button"})
	case truth.Tamper:
		p.events = append(p.events, devEvent{at: e.start, typ: devices.EventTamper, reading: true})
		p.events = append(p.events, devEvent{at: e.end, typ: devices.EventTamperClear, reading: true})
	case truth.LowBattery:
		p.events = append(p.events, devEvent{at: e.start, typ: devices.EventLowBattery, reading: true})
		p.events = append(p.events, devEvent{at: e.end, typ: devices.EventBatteryOK, detail: "battery replaced", reading: true})
	}
}

func (c *City) planMonitor(d *Device, day int64, r *rand.Rand, p *devDay) {
	hz := c.sc.Hazards
	for k := rng.Poisson(r, hz.Leakage); k > 0; k-- {
		s := at(day, rng.Between(r, 0, 23))
		ramp := mins(math.Exp(rng.Between(r, math.Log(30), math.Log(12*60))))
		c.leakage(d, p, s, ramp, mins(rng.Between(r, 60, 360)), rng.Between(r, 350, 800), pick(r, "insulation ageing", "water in a junction box", "damaged cable"))
	}
	for k := rng.Poisson(r, hz.CableOverTemp); k > 0; k-- {
		s := at(day, rng.Between(r, 8, 22))
		c.cableOverTemp(d, p, s, mins(rng.Between(r, 10, 40)), mins(rng.Between(r, 20, 120)), rng.Between(r, 85, 115), 1+r.IntN(2), rng.Chance(r, 0.4))
	}
}

func (c *City) leakage(d *Device, p *devDay, start, ramp, hold int64, peak float64, cause string) {
	e := &episode{kind: truth.Leakage, start: start, end: start + ramp + hold, dev: d, level: peak, ramp: ramp,
		details: map[string]any{"peak_ma": round(peak, 0), "cause": cause}}
	// The leak grows quadratically from the baseline: it crosses 300 mA at
	// start + ramp·sqrt((300-base)/(peak-base)).
	base := d.mon.leak0
	if peak > 300 && base < 300 {
		e.details["cross_300_ms"] = start + int64(float64(ramp)*math.Sqrt((300-base)/(peak-base)))
	}
	p.eps = append(p.eps, e)
}

func (c *City) cableOverTemp(d *Device, p *devDay, start, ramp, hold int64, peak float64, ch int, arc bool) {
	e := &episode{kind: truth.CableOverTemp, start: start, end: start + ramp + hold, dev: d, level: peak, ramp: ramp, channel: ch,
		details: map[string]any{"peak_c": round(peak, 1), "channel": ch, "cause": "loose terminal"}}
	// Roughly when the channel passes 80 °C, taking 40 °C as where it starts.
	cross := start + int64(float64(ramp)*math.Min(1, (80-40)/(peak-40)))
	e.details["cross_80_ms"] = cross
	p.eps = append(p.eps, e)
	p.events = append(p.events, devEvent{at: cross, typ: devices.EventOverTemp, detail: fmt.Sprintf("temp%d_c above 80", ch)})
	if arc {
		p.events = append(p.events, devEvent{at: cross + mins(3), typ: devices.EventArcFault, detail: "arcing at terminal"})
	}
}

// The AP3000 pile rules (domain.md): full when the power stays at or below
// 20% of the charging power for 1800 s (300 s after 3 h of charging), then
// float for 3600 s, then cut; at most 10 h; unplugged after 300 s below 1 W.
const (
	pileFullHold      = 1800 * simtime.Second
	pileFullHoldAfter = 300 * simtime.Second
	pileFloat         = 3600 * simtime.Second
	pileMax           = 10 * hour
	pileUnplugged     = 300 * simtime.Second
	overlong          = 8 * hour // Beijing guideline, the default over-long threshold
)

func (c *City) planPile(d *Device, day int64, r *rand.Rand, p *devDay) {
	eb, hz := c.sc.EBikes, c.sc.Hazards
	for port := 1; port <= d.Ports; port++ {
		var starts []int64
		for k := rng.Poisson(r, eb.PileSessions); k > 0; k-- {
			if rng.Chance(r, 0.6) {
				starts = append(starts, at(day, rng.Between(r, 17, 23)))
			} else {
				starts = append(starts, at(day, rng.Between(r, 10, 16.5)))
			}
		}
		slices.Sort(starts)
		free := int64(math.MinInt64)
		var mine []*pileSession
		for _, s := range starts {
			if s < free {
				continue
			}
			ps := c.pileSession(d, r, port, s)
			mine = append(mine, ps)
			free = ps.stop + mins(10)
		}
		// Faults and over-temperature happen to a port while it charges.
		for k := rng.Poisson(r, hz.PortOverTemp); k > 0 && len(mine) > 0; k-- {
			ps := mine[r.IntN(len(mine))]
			if ps.overTemp == nil && ps.stop-ps.start > hour {
				c.portOverTemp(d, r, ps)
			}
		}
		for k := rng.Poisson(r, hz.PileFault); k > 0; k-- {
			s := at(day, rng.Between(r, 0, 23.5))
			c.pileFault(d, p, r, port, s, s+mins(rng.Between(r, 30, 600)), mine)
		}
		p.sessions = append(p.sessions, mine...)
	}
}

// pileSession plans a charge at a port, with the pile's own stop rules.
func (c *City) pileSession(d *Device, r *rand.Rand, port int, start int64) *pileSession {
	eb := c.sc.EBikes
	t := charger.Type(max(0, rng.Pick(r, eb.Lithium, eb.LeadAcid, eb.HighPower)))
	ps := &pileSession{port: port, start: start, p: charger.Draw(t, r)}
	soc := rng.Between(r, 0.1, 0.6)
	var leave int64
	if simtime.HourOf(start) >= 17 {
		leave = at(simtime.DayOf(start)+1, rng.Between(r, 6.5, 9))
	} else {
		leave = start + mins(rng.Between(r, 120, 420))
	}
	segs, _ := ps.p.Charge(nil, start, math.MaxInt64, soc, rng.Hash(d.key, uint64(port), uint64(start)), uint8(household.TagCharger))
	// When does the power fall to 20% of the charging power?
	t20 := int64(math.MaxInt64)
	for m := start + 10*minute; m < start+pileMax; m += minute {
		if charger.PowerAt(segs, m) <= 0.2*ps.p.PlateauW {
			t20 = m
			break
		}
	}
	hold := pileFullHold
	if t20-start >= 3*hour {
		hold = pileFullHoldAfter
	}
	ps.full = math.MaxInt64
	if t20 != math.MaxInt64 {
		ps.full = t20 + hold
	}
	ps.stop, ps.code = start+pileMax, "max_time"
	if ps.full != math.MaxInt64 && ps.full+pileFloat < ps.stop {
		ps.stop, ps.code = ps.full+pileFloat, "full"
	}
	if leave+pileUnplugged < ps.stop {
		ps.stop, ps.code = leave+pileUnplugged, "unplugged"
	}
	ps.finish(segs)
	return ps
}

// finish clips the charger's draw to the session and records its energy.
func (ps *pileSession) finish(segs []elec.Segment) {
	ps.gone = ps.stop
	if ps.code == "unplugged" {
		ps.gone = ps.stop - pileUnplugged
	}
	ps.segs = ps.segs[:0]
	ps.energyWh = 0
	for _, s := range segs {
		if cs, ok := s.Clip(ps.start, ps.gone); ok {
			ps.segs = append(ps.segs, cs)
			ps.energyWh += cs.Wh(cs.Start, cs.End)
		}
	}
	if ps.full > ps.stop {
		ps.full = ps.stop
	}
}

// portOverTemp makes a port heat past 80 °C during a session; the pile cuts
// it (stop reason over_temperature) when it crosses.
func (c *City) portOverTemp(d *Device, r *rand.Rand, ps *pileSession) {
	start := ps.start + mins(rng.Between(r, 20, float64(ps.stop-ps.start)/float64(minute)-10))
	ramp := mins(rng.Between(r, 10, 30))
	peak := rng.Between(r, 85, 100)
	cross := start + int64(float64(ramp)*(80-35)/(peak-35))
	ps.overTemp = &episode{kind: truth.PortOverTemp, start: start, end: cross + mins(5), dev: d, port: ps.port, level: peak, ramp: ramp,
		details: map[string]any{"peak_c": round(peak, 1), "cross_80_ms": cross, "cause": pick(r, "worn socket contacts", "charger fault", "blocked ventilation")}}
	if cross < ps.stop {
		segs := ps.segs
		ps.stop, ps.code = cross, "over_temperature"
		ps.finish(segs)
	}
}

// pileFault puts a port in fault; a session under way stops with "fault".
func (c *City) pileFault(d *Device, p *devDay, r *rand.Rand, port int, start, end int64, sessions []*pileSession) {
	code := pick(r, "E03 relay stuck", "E05 metering error", "E07 communication board")
	p.eps = append(p.eps, &episode{kind: truth.PileFault, start: start, end: end, dev: d, port: port, details: map[string]any{"code": code}})
	p.events = append(p.events, devEvent{at: start, typ: devices.EventFault, port: port, code: code[:3], detail: code})
	p.events = append(p.events, devEvent{at: end, typ: devices.EventFaultClear, port: port, code: code[:3]})
	for _, ps := range sessions {
		if ps.start <= start && start < ps.stop {
			segs := ps.segs
			ps.stop, ps.code = start, "fault"
			ps.finish(segs)
		}
	}
}

// sessionEpisodes adds the truth and events of a finished session plan.
func (c *City) sessionEpisodes(d *Device, ps *pileSession, p *devDay) {
	p.eps = append(p.eps, &episode{kind: truth.PileCharging, start: ps.start, end: ps.stop, dev: d, port: ps.port, details: map[string]any{
		"charger": ps.p.Type.String(), "plateau_w": round(ps.p.PlateauW, 1), "stop": ps.code, "energy_kwh": round(ps.energyWh/1000, 3),
	}})
	p.events = append(p.events, devEvent{at: ps.start, typ: devices.EventChargeStart, port: ps.port})
	p.events = append(p.events, devEvent{at: ps.stop, typ: devices.EventChargeStop, port: ps.port, code: ps.code})
	if ps.stop-ps.start > overlong {
		p.eps = append(p.eps, &episode{kind: truth.OverlongSession, start: ps.start + overlong, end: ps.stop, dev: d, port: ps.port,
			details: map[string]any{"session_start_ms": ps.start, "hours": round(float64(ps.stop-ps.start)/float64(hour), 2), "stop": ps.code}})
	}
	if ps.overTemp != nil {
		p.eps = append(p.eps, ps.overTemp)
		p.events = append(p.events, devEvent{at: ps.overTemp.details["cross_80_ms"].(int64), typ: devices.EventOverTemp, port: ps.port, detail: "port above 80 C"})
	}
}

// offline reports whether the device is in one of its own offline episodes
// at t, and whether it reboots when back.
func (d *Device) offline(t int64) (bool, bool) {
	day := simtime.DayOf(t)
	for _, dd := range [2]int64{day - 1, day} {
		for _, e := range d.plan(dd).eps {
			if e.kind == truth.DeviceOffline && t >= e.start && t < e.end {
				return true, e.reboot
			}
		}
	}
	return false, false
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}
