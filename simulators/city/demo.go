package city

import (
	"math/rand/v2"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/charger"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// A demo scripts one episode of each kind into every half hour after the
// live point, each cycle on other units and devices, so that a dashboard
// shows something within minutes:
//
//	-90 min  an indoor charge (48 V lithium, left on the charger) — already
//	         running when the demo starts (cycle 0 only; later cycles +1 min)
//	-40/-25  two bikes charging in one home (later cycles +3/+8 min)
//	 +0      a leakage ramp crossing 300 mA after about 4 minutes
//	 +1      a smoke alarm (cooking, silenced), cleared after 3 minutes
//	 +2      an overload at 1.6 × the breaker rating, tripping within minutes
//	 +4      a smoke detector test press
//	 +5      a cable terminal heating past 80 °C, with an arc fault
//	 +6      a meter going silent for 8 minutes; a pile port overheating
//	 +7      under-voltage in a building for 10 minutes
//	 +8      a detector's battery running low
//	 +9      a gateway losing the network for 4 minutes, then replaying
//	 +10     a detector taken off its base for 6 minutes
//	 +11     a pile port fault for 10 minutes
//	 +15     a street power cut of 4 minutes (every other cycle)
const demoCycle = 30 * minute

// demoCycles is how many cycles are scripted (a day).
const demoCycles = 48

type demoItem struct {
	at   int64
	what string
	n    int // for the item's random stream
	u    *unit
	b    *building
	st   *street
	g    *Gateway
	d    *Device
	port int
}

type demoScript struct {
	c     *City
	items []demoItem
}

func newDemo(c *City, now int64) *demoScript {
	s := &demoScript{c: c}
	var homes, shops []*unit
	for _, u := range c.units {
		if u.meter == nil || u.meter.Kind != devices.KindMeter {
			continue
		}
		if u.typ == registry.UnitResidential {
			homes = append(homes, u)
		} else if u.typ != registry.UnitChargingRoom {
			shops = append(shops, u)
		}
	}
	if len(homes) == 0 {
		homes = shops
	}
	var monitors, smokes, piles, meters []*Device
	for _, d := range c.devices {
		switch d.Kind {
		case devices.KindMonitor:
			monitors = append(monitors, d)
		case devices.KindSmoke:
			smokes = append(smokes, d)
		case devices.KindPile:
			piles = append(piles, d)
		case devices.KindMeter:
			meters = append(meters, d)
		}
	}
	var gws []*Gateway
	for _, g := range c.gateways {
		if !g.Self {
			gws = append(gws, g)
		}
	}
	add := func(it demoItem) { it.n = len(s.items); s.items = append(s.items, it) }
	for n := 0; n < demoCycles; n++ {
		t0 := now + int64(n)*demoCycle
		m := func(x float64) int64 { return t0 + mins(x) }
		if len(homes) > 0 {
			a, b, cc := homes[(3*n)%len(homes)], homes[(3*n+1)%len(homes)], homes[(3*n+2)%len(homes)]
			if n == 0 {
				add(demoItem{at: m(-90), what: "charge", u: a})
				add(demoItem{at: m(-40), what: "charge2a", u: b})
				add(demoItem{at: m(-25), what: "charge2b", u: b})
			} else {
				add(demoItem{at: m(1), what: "charge", u: a})
				add(demoItem{at: m(3), what: "charge2a", u: b})
				add(demoItem{at: m(8), what: "charge2b", u: b})
			}
			add(demoItem{at: m(2), what: "overload", u: cc})
		}
		if len(monitors) > 0 {
			add(demoItem{at: m(0), what: "leak", d: monitors[n%len(monitors)]})
			add(demoItem{at: m(5), what: "overtemp", d: monitors[(n+1)%len(monitors)]})
		}
		if len(smokes) > 0 {
			add(demoItem{at: m(1), what: "smoke", d: smokes[(4*n)%len(smokes)]})
			add(demoItem{at: m(4), what: "test", d: smokes[(4*n+1)%len(smokes)]})
			add(demoItem{at: m(8), what: "battery", d: smokes[(4*n+2)%len(smokes)]})
			add(demoItem{at: m(10), what: "tamper", d: smokes[(4*n+3)%len(smokes)]})
		}
		if len(meters) > 0 {
			add(demoItem{at: m(6), what: "offline", d: meters[(7*n+5)%len(meters)]})
		}
		if len(piles) > 0 {
			p := piles[n%len(piles)]
			add(demoItem{at: m(-30), what: "pilehot", d: p, port: 1 + (2*n)%p.Ports})
			add(demoItem{at: m(11), what: "pilefault", d: p, port: 1 + (2*n+1)%p.Ports})
		}
		if len(c.buildings) > 0 {
			add(demoItem{at: m(7), what: "undervolt", b: c.buildings[(n+1)%len(c.buildings)]})
		}
		if len(gws) > 0 {
			add(demoItem{at: m(9), what: "gwoff", g: gws[(n+2)%len(gws)]})
		}
		if n%2 == 1 && len(c.streets) > 0 {
			add(demoItem{at: m(15), what: "cut", st: c.streets[(n/2)%len(c.streets)]})
		}
	}
	return s
}

func (s *demoScript) rng(it *demoItem) *rand.Rand {
	return rng.New(s.c.seed, rng.Key("demo"), uint64(it.n))
}

func (s *demoScript) each(day int64, fn func(it *demoItem)) {
	for i := range s.items {
		if simtime.DayOf(s.items[i].at) == day {
			fn(&s.items[i])
		}
	}
}

func (s *demoScript) unitDay(u *unit, day int64, p *unitDay) {
	c := s.c
	s.each(day, func(it *demoItem) {
		if it.u != u {
			return
		}
		r := s.rng(it)
		switch it.what {
		case "charge":
			bk := demoBike(r, charger.Lithium, u, 0)
			for bk.p.Class != "48V2A" {
				bk = demoBike(r, charger.Lithium, u, 0)
			}
			c.charge(u, p, r, bk, 1, it.at, it.at+8*hour, 0.3, true)
		case "charge2a":
			c.charge(u, p, r, demoBike(r, charger.HighPower, u, 1), 1, it.at, it.at+6*hour, 0.4, true)
		case "charge2b":
			c.charge(u, p, r, demoBike(r, charger.LeadAcid, u, 2), 2, it.at, it.at+6*hour, 0.35, true)
		case "overload":
			c.overload(u, p, r, it.at, 12*minute, 1.6)
		}
	})
}

func demoBike(r *rand.Rand, t charger.Type, u *unit, i int) bike {
	return bike{p: charger.Draw(t, r), key: rng.Hash(u.key, uint64(i), 0x64656d6f)}
}

func (s *demoScript) buildingDay(b *building, day int64, p *buildingDay) {
	s.each(day, func(it *demoItem) {
		if it.b == b && it.what == "undervolt" {
			p.eps = append(p.eps, &episode{kind: truth.UnderVoltage, start: it.at, end: it.at + 10*minute, b: b, level: 178,
				details: map[string]any{"cause": "overloaded transformer", "demo": true}})
		}
	})
}

func (s *demoScript) streetDay(st *street, day int64, p *streetDay) {
	s.each(day, func(it *demoItem) {
		if it.st == st && it.what == "cut" {
			e := st.cut(it.at, it.at+4*minute)
			e.details["demo"] = true
			p.eps = append(p.eps, e)
		}
	})
}

func (s *demoScript) gatewayDay(g *Gateway, day int64, p *gwDay) {
	s.each(day, func(it *demoItem) {
		if it.g == g && it.what == "gwoff" {
			p.eps = append(p.eps, &episode{kind: truth.GatewayOffline, start: it.at, end: it.at + 4*minute, gw: g,
				details: map[string]any{"cause": "4g signal lost", "demo": true}})
		}
	})
}

func (s *demoScript) deviceDay(d *Device, day int64, p *devDay) {
	c := s.c
	s.each(day, func(it *demoItem) {
		if it.d != d {
			return
		}
		r := s.rng(it)
		switch it.what {
		case "leak":
			c.leakage(d, p, it.at, 6*minute, 15*minute, 450, "water in a junction box")
		case "overtemp":
			c.cableOverTemp(d, p, it.at, 6*minute, 10*minute, 98, 1, true)
		case "smoke":
			e := &episode{kind: truth.Smoke, start: it.at, end: it.at + 3*minute, dev: d, details: map[string]any{"cause": "cooking", "silenced_ms": it.at + 90*simtime.Second}}
			p.eps = append(p.eps, e)
		case "test":
			p.eps = append(p.eps, &episode{kind: truth.SmokeTest, start: it.at, end: it.at + 20*simtime.Second, dev: d})
		case "battery":
			p.eps = append(p.eps, &episode{kind: truth.LowBattery, start: it.at, end: it.at + 2*dayMS, dev: d, level: 12})
		case "tamper":
			p.eps = append(p.eps, &episode{kind: truth.Tamper, start: it.at, end: it.at + 6*minute, dev: d, details: map[string]any{"cause": "removed by tenant"}})
		case "offline":
			p.eps = append(p.eps, &episode{kind: truth.DeviceOffline, start: it.at, end: it.at + 8*minute, dev: d, details: map[string]any{"cause": "communication lost"}})
		case "pilehot":
			ps := c.pileSession(d, r, it.port, it.at)
			// make sure it runs long enough to overheat 36 minutes in
			if ps.stop-ps.start > 50*minute {
				start := it.at + 36*minute
				ramp := 6 * minute
				cross := start + int64(float64(ramp)*(80-35)/(95-35))
				ps.overTemp = &episode{kind: truth.PortOverTemp, start: start, end: cross + 5*minute, dev: d, port: it.port, level: 95, ramp: ramp,
					details: map[string]any{"peak_c": 95.0, "cross_80_ms": cross, "cause": "worn socket contacts", "demo": true}}
				segs := ps.segs
				ps.stop, ps.code = cross, "over_temperature"
				ps.finish(segs)
			}
			kept := p.sessions[:0]
			for _, o := range p.sessions {
				if o.port != it.port || o.stop+10*minute < ps.start || o.start > ps.stop+10*minute {
					kept = append(kept, o)
				}
			}
			p.sessions = append(kept, ps)
		case "pilefault":
			var mine []*pileSession
			for _, ps := range p.sessions {
				if ps.port == it.port {
					mine = append(mine, ps)
				}
			}
			c.pileFault(d, p, r, it.port, it.at, it.at+10*minute, mine)
		}
	})
}
