package city

import (
	"math"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// ReadingAt returns what the device measures at t: the fields of its kind
// that the simulator models, rounded to what such a device resolves. TS is
// t in Unix ms; Seq is 0 (sequence numbers belong to a stream: Run numbers
// them). A pile returns port 1: use PortReadingAt or AppendReadings for the
// others. The value does not depend on earlier calls; it is safe for
// concurrent use. While the device is offline (Online is false) the values
// are still computed, as if it could be read.
func (d *Device) ReadingAt(t time.Time) devices.Reading {
	var r devices.Reading
	d.fill(&r, t.UnixMilli(), 1)
	return r
}

// PortReadingAt returns the reading of one pile port (1..Ports) at t.
func (d *Device) PortReadingAt(t time.Time, port int) devices.Reading {
	var r devices.Reading
	d.fill(&r, t.UnixMilli(), port)
	return r
}

// Readings returns the device's readings at t (one per pile port): a
// modbussim.Provider, as in modbussim.Provider(dev.Readings).
func (d *Device) Readings(t time.Time) []devices.Reading {
	return d.appendReadings(nil, t.UnixMilli())
}

// AppendReadings appends the device's readings at t: one per port for a
// pile, one for any other kind.
func (d *Device) AppendReadings(dst []devices.Reading, t time.Time) []devices.Reading {
	return d.appendReadings(dst, t.UnixMilli())
}

func (d *Device) appendReadings(dst []devices.Reading, t int64) []devices.Reading {
	n := 1
	if d.Kind == devices.KindPile {
		n = d.Ports
	}
	for port := 1; port <= n; port++ {
		dst = append(dst, devices.Reading{})
		d.fill(&dst[len(dst)-1], t, port)
	}
	return dst
}

// Online reports whether the device is powered and answering at t: false
// during its own offline episodes and, for mains-powered devices, during a
// power cut of its street. A Modbus slave should not answer while it is
// false.
func (d *Device) Online(t time.Time) bool { return d.online(t.UnixMilli()) }

func (d *Device) online(t int64) bool {
	if off, _ := d.offline(t); off {
		return false
	}
	return !d.mains || !d.b.st.cutAt(d.city, t)
}

// noise returns a standard normal value for (device, what, t), changing
// every second.
func (d *Device) noise(what uint64, t int64) float64 {
	return rng.Normal(rng.Hash(d.key, what, uint64(t/1000)))
}

// rnd rounds v to the given number of decimal places, so that readings
// encode as short as a device would send them.
func rnd(v float64, places int) float64 {
	switch places {
	case 0:
		return math.Round(v)
	case 1:
		return math.Round(v*10) / 10
	case 2:
		return math.Round(v*100) / 100
	}
	return math.Round(v*1000) / 1000
}

func (d *Device) fill(r *devices.Reading, t int64, port int) {
	r.TS = t
	switch d.Kind {
	case devices.KindMeter:
		p, n, e := d.load(t)
		d.electrical(r, t, p, n, e)
	case devices.KindPlug:
		p, n := d.u.tagged(t, d.plugTag())
		e := d.plugEnergy(t)
		d.electrical(r, t, p, n, e)
		r.PutBool(devices.FieldRelayOn, true)
	case devices.KindMonitor:
		d.monitor(r, t)
	case devices.KindPile:
		d.pileReading(r, t, port)
	case devices.KindSmoke:
		d.smokeReading(r, t)
	}
}

// load is what a meter or monitor measures: its unit, or its whole
// building with the common loads.
func (d *Device) load(t int64) (p, n, eWh float64) {
	if d.u != nil {
		p, n = d.u.at(t)
		return p, n, d.u.energyWh(t)
	}
	b := d.b
	for _, u := range b.units {
		up, un := u.at(t)
		p, n, eWh = p+up, n+un, eWh+u.energyWh(t)
	}
	b.mu.Lock()
	cp, cn := b.commonTL.At(t)
	eWh += b.commonTL.EnergyWh(t)
	b.mu.Unlock()
	return p + cp, n + cn, eWh
}

// voltage is the supply voltage of the building at t: its offset from 220
// V, an evening dip and a night rise, slow wander, and the episodes.
func (b *building) voltage(c *City, t int64) float64 {
	h := simtime.HourOf(t)
	v := 220 + b.vOffset - 5*bump(h, 19.5, 2.5) + 2.5*bump(h, 3.5, 2) + 1.2*rng.Normal(rng.Hash(b.key, uint64(t/60000)))
	day := simtime.DayOf(t)
	for _, dd := range [2]int64{day - 1, day} {
		for _, e := range b.plan(c, dd).eps {
			if t >= e.start && t < e.end {
				v = e.level + 3*rng.Signed(rng.Hash(b.key, uint64(t/10000), 7))
			}
		}
	}
	return v
}

// bump is a daily Gaussian bump of width w hours centred on hour c.
func bump(h, c, w float64) float64 {
	x := math.Mod(h-c+36, 24) - 12
	return math.Exp(-x * x / (2 * w * w))
}

func (d *Device) electrical(r *devices.Reading, t int64, p, n, eWh float64) {
	v := d.b.voltage(d.city, t) - 0.08*math.Hypot(p, n)/220 + 0.15*d.noise(1, t)
	i, pf := elec.Meter(p, n, v)
	r.Put(devices.FieldVoltage, rnd(v, 1))
	r.Put(devices.FieldCurrent, rnd(i, 3))
	r.Put(devices.FieldPower, rnd(p, 1))
	r.Put(devices.FieldPF, rnd(pf, 3))
	r.Put(devices.FieldEnergy, rnd(eWh/1000, 2))
	r.Put(devices.FieldFreq, rnd(50+0.02*d.noise(2, t), 2))
}

// ambient is the outdoor temperature at t.
func (c *City) ambient(t int64) float64 {
	base := 21.0
	switch seasonOf(c, simtime.DayOf(t)) {
	case household.Winter:
		base = 9
	case household.Summer:
		base = 31
	}
	return base + 3.5*math.Cos((simtime.HourOf(t)-15)/24*2*math.Pi)
}

func seasonOf(c *City, d int64) household.Season {
	s := c.sc.Households.Season
	if s != household.Auto {
		return s
	}
	switch simtime.Month(d) {
	case time.November, time.December, time.January, time.February, time.March:
		return household.Winter
	case time.June, time.July, time.August, time.September:
		return household.Summer
	}
	return household.Mild
}

// active calls fn for the device's episodes of kind k active at t, looking
// back the given number of days.
func (d *Device) active(t int64, k truth.Kind, back int64, fn func(e *episode)) {
	day := simtime.DayOf(t)
	for dd := day - back; dd <= day; dd++ {
		for _, e := range d.plan(dd).eps {
			if e.kind == k && t >= e.start && t < e.end {
				fn(e)
			}
		}
	}
}

func (d *Device) monitor(r *devices.Reading, t int64) {
	p, n, _ := d.load(t)
	m := d.mon
	v := d.b.voltage(d.city, t) + 0.15*d.noise(1, t)
	i, pf := elec.Meter(p, n, v)
	r.Put(devices.FieldVoltage, rnd(v, 1))
	r.Put(devices.FieldCurrent, rnd(i, 2))
	r.Put(devices.FieldPower, rnd(p, 0))
	r.Put(devices.FieldPF, rnd(pf, 2))
	leak := m.leak0 + m.leakPerA*i
	d.active(t, truth.Leakage, 1, func(e *episode) {
		x := math.Min(1, float64(t-e.start)/float64(e.ramp))
		leak = math.Max(leak, leak+(e.level-m.leak0)*x*x)
	})
	leak *= 1 + 0.03*d.noise(3, t)
	r.Put(devices.FieldLeak, rnd(math.Max(0, leak), 0))
	amb := d.city.ambient(t) + 2
	rated := math.Max(d.RatedA, 1)
	load := (i / rated) * (i / rated)
	chans := [4]devices.Field{devices.FieldTemp1, devices.FieldTemp2, devices.FieldTemp3, devices.FieldTemp4}
	for k, f := range chans {
		temp := amb + m.rise[k]*load + 0.2*d.noise(uint64(10+k), t)
		d.active(t, truth.CableOverTemp, 1, func(e *episode) {
			if e.channel == k+1 {
				x := math.Min(1, float64(t-e.start)/float64(e.ramp))
				temp += (e.level - temp) * x
			}
		})
		r.Put(f, rnd(temp, 1))
	}
}

func (d *Device) smokeReading(r *devices.Reading, t int64) {
	s := d.smoke
	days := float64(t-d.city.epoch) / float64(dayMS)
	pct := s.battery0 - s.drain*days
	low := false
	day := simtime.DayOf(t)
	for dd := day - 8; dd <= day; dd++ {
		for _, e := range d.plan(dd).eps {
			if e.kind != truth.LowBattery || t < e.start {
				continue
			}
			if t < e.end {
				pct, low = e.level, true
			} else if t-e.end < 8*dayMS {
				pct = 100 - s.drain*float64(t-e.end)/float64(dayMS) // replaced
				low = false
			}
		}
	}
	pct = math.Max(1, math.Min(100, pct))
	low = low || pct < 20
	smoke, tamper := false, false
	d.active(t, truth.Smoke, 1, func(*episode) { smoke = true })
	d.active(t, truth.Tamper, 1, func(*episode) { tamper = true })
	r.PutBool(devices.FieldSmoke, smoke)
	r.Put(devices.FieldBatteryPct, math.Round(pct))
	r.PutBool(devices.FieldBatteryLow, low)
	r.PutBool(devices.FieldTamper, tamper)
	rssi := math.Round(s.rssi + 3*d.noise(4, t))
	r.Put(devices.FieldRSSI, math.Max(-140, math.Min(-40, rssi)))
	if s.zigbee {
		r.Put(devices.FieldLinkQuality, math.Max(0, math.Min(255, math.Round((rssi+110)*4))))
	}
}

// session returns the session of port active at t, if any.
func (d *Device) session(t int64, port int) *pileSession {
	day := simtime.DayOf(t)
	for _, dd := range [2]int64{day - 1, day} {
		for _, ps := range d.plan(dd).sessions {
			if ps.port == port && t >= ps.start && t < ps.stop {
				return ps
			}
		}
	}
	return nil
}

func (d *Device) pileReading(r *devices.Reading, t int64, port int) {
	r.Put(devices.FieldPort, float64(port))
	state := devices.PileIdle
	var p, n float64
	ps := d.session(t, port)
	if ps != nil {
		for i := range ps.segs {
			sp, sn := ps.segs[i].P(t)
			p, n = p+sp, n+sn
		}
		state = devices.PileCharging
		if t >= ps.full {
			state = devices.PileFull
		}
	}
	fault := false
	d.active(t, truth.PileFault, 1, func(e *episode) {
		if e.port == port {
			fault, state, p, n = true, devices.PileFault, 0, 0
		}
	})
	v := d.b.voltage(d.city, t) + 0.15*d.noise(1, t)
	i, pf := elec.Meter(p, n, v)
	r.Put(devices.FieldState, float64(state))
	r.Put(devices.FieldVoltage, rnd(v, 1))
	r.Put(devices.FieldCurrent, rnd(i, 3))
	r.Put(devices.FieldPower, rnd(p, 1))
	r.Put(devices.FieldPF, rnd(pf, 3))
	r.Put(devices.FieldEnergy, rnd(d.portEnergy(t, port)/1000, 2))
	temp := d.city.ambient(t) + d.pile.ambient + 0.025*p + 0.2*d.noise(uint64(20+port), t)
	if ps != nil && ps.overTemp != nil && t >= ps.overTemp.start {
		e := ps.overTemp
		x := math.Min(1, float64(t-e.start)/float64(e.ramp))
		temp += (e.level - temp) * x
	} else {
		// cooling down after a cut for over-temperature
		day := simtime.DayOf(t)
		for _, dd := range [2]int64{day - 1, day} {
			for _, s := range d.plan(dd).sessions {
				if s.port == port && s.overTemp != nil && t >= s.stop && t < s.overTemp.end {
					temp += (s.overTemp.level - temp) * math.Exp(-float64(t-s.stop)/float64(3*minute))
				}
			}
		}
	}
	r.Put(devices.FieldTemp, rnd(temp, 1))
	if fault {
		r.PutBool(devices.FieldFault, true)
	}
}

// portTimelines and plug timelines keep energy counters per port and per
// plug.
type counters struct {
	mu  sync.Mutex
	tls []*elec.Timeline
}

func (d *Device) portEnergy(t int64, port int) float64 {
	pp := d.pile
	pp.ctr.mu.Lock()
	defer pp.ctr.mu.Unlock()
	if pp.ctr.tls == nil {
		r := rng.New(d.city.seed, d.key, 0x6530)
		for k := 1; k <= d.Ports; k++ {
			k := k
			pp.ctr.tls = append(pp.ctr.tls, elec.NewTimeline(func(day int64, dst []elec.Segment) []elec.Segment {
				for _, ps := range d.plan(day).sessions {
					if ps.port == k {
						dst = append(dst, ps.segs...)
					}
				}
				return dst
			}, d.city.epoch, rng.Between(r, 1e4, 5e5)))
		}
	}
	return pp.ctr.tls[port-1].EnergyWh(t)
}

func (d *Device) plugEnergy(t int64) float64 {
	pp := d.plug
	pp.ctr.mu.Lock()
	defer pp.ctr.mu.Unlock()
	if pp.ctr.tls == nil {
		tag := d.plugTag()
		u := d.u
		pp.ctr.tls = []*elec.Timeline{elec.NewTimeline(func(day int64, dst []elec.Segment) []elec.Segment {
			var all []elec.Segment
			all = u.segments(day, all)
			for _, s := range all {
				if s.Tag == tag {
					dst = append(dst, s)
				}
			}
			return dst
		}, d.city.epoch, rng.Between(rng.New(d.city.seed, d.key, 0x6531), 1e3, 1e5))}
	}
	return pp.ctr.tls[0].EnergyWh(t)
}
