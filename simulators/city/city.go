// Package city simulates a city of units, devices and gateways over time:
// household loads and e-bike chargers behind smart meters and plugs,
// electrical-fire monitors, charging piles and smoke detectors, with
// injected hazard episodes and the ground truth about them.
//
// Everything is a pure function of the scenario seed and of time. Each unit,
// building, street, gateway and device draws its day from a generator named
// by (seed, its id, day), so:
//
//   - Device.ReadingAt(t) gives what a device measures at any instant, in any
//     order and from any goroutine: this is what a Modbus slave serves.
//   - City.Run steps the whole city over a span and emits the MQTT traffic
//     of the wire contract (per-device telemetry batches, events, gateway
//     status) in time order, with per-device sequence numbers, reboots,
//     gateway outages and store-and-forward replays, plus the ground truth.
//   - The same seed gives the same bytes; a device's values do not depend
//     on how often it is read, nor on what else is simulated.
package city

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/charger"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// City is a simulated city. It is safe for concurrent use: readings at any
// time may be asked from many goroutines while Run goes on in another.
type City struct {
	seed  uint64
	sc    *scenario.Scenario
	epoch int64

	streets   []*street
	buildings []*building
	units     []*unit
	gateways  []*Gateway
	devices   []*Device

	deviceByID  map[string]*Device
	gatewayByID map[string]*Gateway
	unitByID    map[string]*unit

	demo *demoScript
}

// Options are what a city needs besides its site and scenario.
type Options struct {
	// Epoch is where energy counters start: the beginning of the simulated
	// span. Readings before it report the initial counter.
	Epoch time.Time
	// DemoAt is the live point of a demo (the scenario has demo: true): the
	// scripted episodes happen in the minutes after it. Zero for no demo.
	DemoAt time.Time
}

// Gateway is an MQTT client of the simulated city: a building's gateway, or
// a device that connects by itself (then Self is true and its id is the
// device's).
type Gateway struct {
	ID      string
	Self    bool
	Devices []*Device // in poll order (by id)

	city   *City
	idx    int
	key    uint64
	b      *building // nil when unknown
	period int64     // poll period, ms: the shortest interval of its devices
	phase  int64
	mains  bool // loses power in a power cut (gateways and piles; not battery detectors)
	plans  dayCache[gwDay]

	statusTopic string
}

// Device is one simulated device.
type Device struct {
	ID       string
	Kind     devices.Kind
	Gateway  *Gateway
	Unit     string // "" for a device that serves a whole building
	Building string
	Street   string
	Model    string
	Interval time.Duration
	Ports    int     // pile ports; 1 for other kinds
	RatedA   float64 // breaker or device rating

	city  *City
	idx   int
	key   uint64
	u     *unit     // the unit it measures (nil for building-level devices)
	b     *building // its building
	mains bool      // loses power in a power cut
	phase int64     // offset of its readings within its interval, ms
	plans dayCache[devDay]

	topics [devices.ChannelCmd + 1]string

	// kind-specific parameters, drawn once
	smoke *smokeParams
	mon   *monitorParams
	pile  *pileParams
	plug  *plugParams
}

// Kinds of place.

type street struct {
	id        string
	key       uint64
	buildings []*building
	gateways  []*Gateway // gateways in its buildings
	devices   []*Device  // self-connected devices in its buildings
	plans     dayCache[streetDay]
}

type building struct {
	id       string
	key      uint64
	st       *street
	units    []*unit
	devices  []*Device
	vOffset  float64 // steady offset of its supply voltage from 220 V
	commonW  float64 // stair lights, pumps
	plans    dayCache[buildingDay]
	commonTL *elec.Timeline
	mu       sync.Mutex
}

type unit struct {
	c      *City
	id     string
	key    uint64
	idx    int
	b      *building
	typ    registry.UnitType
	mixed  bool
	hh     *household.Unit
	ratedA float64
	meter  *Device   // the device that sees its load, for ground truth
	bikes  []bike    // e-bikes charged indoors; nil for most units
	rider  bool      // a delivery rider: daytime top-ups too
	piles  []*Device // charging piles in this unit
	plans  dayCache[unitDay]

	mu sync.Mutex // guards tl
	tl *elec.Timeline
}

type bike struct {
	p   charger.Params
	key uint64
}

// Look-ups.

// Devices returns every device, sorted by id.
func (c *City) Devices() []*Device { return c.devices }

// Gateways returns every MQTT client, sorted by id.
func (c *City) Gateways() []*Gateway { return c.gateways }

// Device returns the device with the given id.
func (c *City) Device(id string) (*Device, bool) {
	d, ok := c.deviceByID[id]
	return d, ok
}

// Gateway returns the gateway (or self-connected device) with the given id.
func (c *City) Gateway(id string) (*Gateway, bool) {
	g, ok := c.gatewayByID[id]
	return g, ok
}

// Epoch returns where energy counters start.
func (c *City) Epoch() time.Time { return time.UnixMilli(c.epoch) }

// New builds the city of site for scenario sc.
func New(sc *scenario.Scenario, site *registry.Site, o Options) (*City, error) {
	if err := site.Validate(); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	c := &City{
		seed: sc.Seed, sc: sc, epoch: o.Epoch.UnixMilli(),
		deviceByID: map[string]*Device{}, gatewayByID: map[string]*Gateway{}, unitByID: map[string]*unit{},
	}
	streetByID := map[string]*street{}
	for _, s := range site.Streets {
		st := &street{id: s.ID, key: rng.Key(s.ID)}
		streetByID[s.ID] = st
		c.streets = append(c.streets, st)
	}
	communityStreet := map[string]string{}
	for _, cm := range site.Communities {
		communityStreet[cm.ID] = cm.Street
	}
	bldByID := map[string]*building{}
	for _, bs := range site.Buildings {
		st := streetByID[communityStreet[bs.Community]]
		key := rng.Key(bs.ID)
		r := rng.New(c.seed, key, 0x626c64) // "bld"
		b := &building{id: bs.ID, key: key, st: st, vOffset: rng.Between(r, -4, 9), commonW: rng.Between(r, 30, 150)}
		st.buildings = append(st.buildings, b)
		bldByID[bs.ID] = b
		c.buildings = append(c.buildings, b)
	}
	for _, us := range site.Units {
		b := bldByID[us.Building]
		u := &unit{c: c, id: us.ID, key: rng.Key(us.ID), b: b, typ: us.Type, mixed: us.MixedUse}
		use := UseOf(us.Type)
		u.hh = household.New(c.seed, us.ID, use, household.Options{Season: sc.Households.Season, MixedUse: us.MixedUse})
		b.units = append(b.units, u)
		c.unitByID[us.ID] = u
		c.units = append(c.units, u)
	}
	for i, u := range c.units {
		u.idx = i
	}
	gwSpec := map[string]registry.GatewaySpec{}
	for _, g := range site.Gateways {
		gwSpec[g.ID] = g
	}
	specs := slices.Clone(site.Devices)
	slices.SortFunc(specs, func(a, b registry.DeviceSpec) int { return cmpStr(a.ID, b.ID) })
	for _, ds := range specs {
		d := &Device{
			ID: ds.ID, Kind: ds.Kind, Unit: ds.Unit, Building: ds.Building, Model: ds.Model,
			Interval: ds.Interval, Ports: max(1, ds.PortCount), RatedA: ds.RatedCurrentA,
			city: c, key: rng.Key(ds.ID),
		}
		if d.Interval <= 0 {
			d.Interval = time.Minute
		}
		if ds.Unit != "" {
			d.u = c.unitByID[ds.Unit]
			d.b = d.u.b
			d.Building = d.b.id
		} else {
			d.b = bldByID[ds.Building]
		}
		d.Street = d.b.st.id
		d.mains = d.Kind != devices.KindSmoke
		d.phase = int64(rng.Uniform(rng.Hash(c.seed, d.key, 0x7068)) * float64(d.Interval.Milliseconds()))
		d.b.devices = append(d.b.devices, d)
		gw := c.gatewayByID[ds.Gateway]
		if gw == nil {
			gw = &Gateway{ID: ds.Gateway, Self: ds.Gateway == ds.ID, city: c, key: rng.Key(ds.Gateway), mains: true}
			if g, ok := gwSpec[ds.Gateway]; ok {
				if g.Unit != "" {
					gw.b = c.unitByID[g.Unit].b
				} else {
					gw.b = bldByID[g.Building]
				}
			} else {
				gw.b = d.b // a self-connected device sits where it is
				gw.mains = d.mains
			}
			c.gatewayByID[gw.ID] = gw
			c.gateways = append(c.gateways, gw)
		}
		d.Gateway = gw
		for _, ch := range []devices.Channel{devices.ChannelTelemetry, devices.ChannelEvent, devices.ChannelStatus} {
			d.topics[ch] = devices.TopicFor(gw.ID, d.ID, ch)
		}
		gw.Devices = append(gw.Devices, d)
		c.deviceByID[d.ID] = d
		c.devices = append(c.devices, d)
	}
	slices.SortFunc(c.gateways, func(a, b *Gateway) int { return cmpStr(a.ID, b.ID) })
	for i, g := range c.gateways {
		g.idx = i
		g.statusTopic = devices.TopicFor(g.ID, g.ID, devices.ChannelStatus)
		g.period = math.MaxInt64
		for _, d := range g.Devices {
			g.period = min(g.period, d.Interval.Milliseconds())
		}
		g.phase = int64(rng.Uniform(rng.Hash(c.seed, g.key, 0x6777)) * float64(g.period))
		if g.b != nil {
			if g.Self {
				g.b.st.devices = append(g.b.st.devices, g.Devices...)
			} else {
				g.b.st.gateways = append(g.b.st.gateways, g)
			}
		}
	}
	for i, d := range c.devices {
		d.idx = i
		c.initDevice(d)
	}
	for _, u := range c.units {
		c.initUnit(u)
	}
	for _, b := range c.buildings {
		b := b
		b.commonTL = elec.NewTimeline(func(day int64, dst []elec.Segment) []elec.Segment {
			ds := simtime.DayStart(day)
			dst = append(dst, elec.Segment{T0: ds, Start: ds, End: ds + simtime.Day, W: b.commonW * 0.4, Tan: elec.TanOf(0.9), Tag: uint8(household.Lights)})
			return append(dst, elec.Segment{T0: ds, Start: simtime.At(day, 17.5), End: simtime.At(day, 23.5), W: b.commonW * 0.6, Tan: elec.TanOf(0.9), Tag: uint8(household.Lights)})
		}, c.epoch, rng.Between(rng.New(c.seed, b.key, 1), 2e5, 2e6))
	}
	if sc.Demo && !o.DemoAt.IsZero() {
		c.demo = newDemo(c, o.DemoAt.UnixMilli())
	}
	return c, nil
}

// initUnit draws the unit's breaker rating and charging habits and builds
// its timeline.
func (c *City) initUnit(u *unit) {
	r := rng.New(c.seed, u.key, 0x756e6974) // "unit"
	u.ratedA = 32
	if c.sc.Generate != nil {
		u.ratedA = c.sc.Generate.RatedA
	}
	for _, d := range u.b.devices {
		if d.u != u {
			continue
		}
		if d.Kind == devices.KindMeter && (u.meter == nil || u.meter.Kind != devices.KindMeter) {
			u.meter = d
			if d.RatedA > 0 {
				u.ratedA = d.RatedA
			}
		}
		if d.Kind == devices.KindPlug && u.meter == nil {
			u.meter = d
		}
		if d.Kind == devices.KindPile {
			u.piles = append(u.piles, d)
		}
	}
	// Who charges an e-bike indoors: homes, and people living in shops and
	// workshops. Riders (delivery) charge more and with stronger chargers.
	eb := c.sc.EBikes
	lives := u.typ == registry.UnitResidential || u.mixed
	if lives && rng.Chance(r, eb.IndoorUnits) {
		n := 1
		if rng.Chance(r, eb.TwoBikes) {
			n = 2
		}
		u.rider = rng.Chance(r, 0.2)
		for i := 0; i < n; i++ {
			t := charger.Type(max(0, rng.Pick(r, eb.Lithium, eb.LeadAcid, eb.HighPower)))
			if u.rider && rng.Chance(r, 0.5) {
				t = charger.HighPower
			}
			u.bikes = append(u.bikes, bike{p: charger.Draw(t, r), key: rng.Hash(u.key, uint64(i), 0x62696b65)})
		}
	}
	e0 := rng.Between(r, 500, 30000) * 1000 // Wh on the meter at the epoch
	u.tl = elec.NewTimeline(u.segments, c.epoch, e0)
}

// at returns the unit's active and non-active power at t.
func (u *unit) at(t int64) (p, n float64) {
	u.mu.Lock()
	p, n = u.tl.At(t)
	u.mu.Unlock()
	return p, n
}

// energyWh returns the unit's energy counter at t.
func (u *unit) energyWh(t int64) float64 {
	u.mu.Lock()
	e := u.tl.EnergyWh(t)
	u.mu.Unlock()
	return e
}

// tagged returns the power of the unit's segments with tag at t.
func (u *unit) tagged(t int64, tag uint8) (p, n float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.tl.Segments(t, nil) {
		if s.Tag == tag {
			sp, sn := s.P(t)
			p += sp
			n += sn
		}
	}
	return p, n
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dayCache keeps the plans of the last few days asked for.
type dayCache[T any] struct {
	mu   sync.Mutex
	day  [6]int64
	val  [6]*T
	next int
}

func (c *dayCache[T]) get(d int64, build func(int64) *T) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.val {
		if c.val[i] != nil && c.day[i] == d {
			return c.val[i]
		}
	}
	v := build(d)
	i := c.next % len(c.val)
	c.day[i], c.val[i] = d, v
	c.next++
	return v
}

// ForSite builds the city of a registry site file with the default
// scenario and the given seed, energy counters starting at epoch: what a
// Modbus slave simulator needs to serve the site's devices.
func ForSite(path string, seed uint64, epoch time.Time) (*City, error) {
	site, err := registry.LoadSite(path)
	if err != nil {
		return nil, err
	}
	sc := scenario.ForSite(path)
	sc.Seed = seed
	return New(sc, site, Options{Epoch: epoch})
}

// UseOf returns what the household model simulates for a unit of type t.
func UseOf(t registry.UnitType) household.Use {
	switch t {
	case registry.UnitShop:
		return household.Shop
	case registry.UnitWorkshop:
		return household.Workshop
	case registry.UnitChargingRoom:
		return household.ChargingRoom
	}
	return household.Residential
}
