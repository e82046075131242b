// Package household models the electrical load of one unit — a flat, a
// rented room, a shop or a workshop — as appliance segments, one day at a
// time.
//
// A unit draws its appliances once from its seed and id: how many people
// live there, whether they work away on weekdays, which appliances they own
// and how strong these are. Each day is then drawn from a generator seeded
// by (seed, unit, day), so any day can be produced alone, in any order, and
// comes out the same. The model includes the switch-mode look-alikes that
// sit in the e-bike charger band (TVs of 100-200 W, desktop PCs around
// 90 W, fridge compressor cycles, rice-cooker keep-warm) as ordinary
// background, and the kW resistive loads (kettle, induction hob, water
// heater, space heater) that make overloads.
package household

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Appliance tags the segments of each appliance.
type Appliance uint8

// Appliances. Tags from TagCharger on are used by other packages for
// loads they add to a unit (chargers, overload episodes).
const (
	Base          Appliance = iota + 1 // router, set-top box, standby: always on
	Fridge                             // compressor cycles
	Lights                             // LED lighting
	TV                                 // 80-200 W, fluctuating with the picture
	PC                                 // desktop PC, 60-120 W idle and office work, bursts when gaming
	Kettle                             // 1.5-2.2 kW, minutes
	RiceCooker                         // cooking 0.5-0.8 kW, then keep-warm 30-60 W
	Induction                          // induction hob, 1.2-2.1 kW
	Microwave                          // 1.0-1.3 kW, minutes
	Washer                             // washing machine: motor, spin, sometimes heating
	WaterHeater                        // storage water heater, 1.5-3 kW before showers
	Heater                             // space heater, 0.8-2 kW with thermostat cycles (winter)
	AC                                 // inverter air conditioner (summer; heat pump in winter)
	Dispenser                          // hot-water dispenser, 0.4-0.55 kW cycles
	ShopLights                         // shop lighting and signs
	DisplayFridge                      // shop display fridges/freezers
	Machine                            // workshop motors and tools
	Blanket                            // electric blanket, one or two zones of 35-150 W cycling on winter nights
	Laptop                             // laptop on its charger, 20-65 W for hours
	Hood                               // range hood over the hob, 80-250 W at meals
	HairDryer                          // 0.4-1.8 kW for minutes after showers
	Fan                                // electric fan, 30-65 W on summer evenings and nights
	SmallLoad                          // other small appliances switched through the waking hours (busyness)
	TagCharger                         // e-bike chargers (added by the city)
	TagOverload                        // stacked heaters and kettles of an overload episode
	numAppliances
)

var applianceNames = [numAppliances]string{"", "base", "fridge", "lights", "tv", "pc", "kettle", "rice_cooker",
	"induction", "microwave", "washer", "water_heater", "heater", "ac", "dispenser", "shop_lights",
	"display_fridge", "machine", "blanket", "laptop", "hood", "hair_dryer", "fan", "small_load", "charger", "overload"}

func (a Appliance) String() string {
	if a < numAppliances {
		return applianceNames[a]
	}
	return fmt.Sprintf("appliance(%d)", uint8(a))
}

// Use is what a unit is used for.
type Use uint8

// Uses.
const (
	Residential Use = iota
	Shop
	Workshop
	ChargingRoom // only lights: its piles are simulated by the city
)

// Season selects heating or cooling.
type Season uint8

// Seasons. Auto follows the calendar: heaters November to March, air
// conditioning June to September.
const (
	Auto Season = iota
	Winter
	Summer
	Mild
)

// ParseSeason parses auto, winter, summer or mild.
func ParseSeason(s string) (Season, bool) {
	for i, n := range []string{"auto", "winter", "summer", "mild"} {
		if n == s {
			return Season(i), true
		}
	}
	return 0, false
}

func (s Season) String() string {
	return [...]string{"auto", "winter", "summer", "mild"}[s]
}

// SeasonOn returns the season a unit with option s has on day d: s, or
// for Auto the calendar's.
func SeasonOn(s Season, d int64) Season { return seasonOf(s, d) }

func seasonOf(s Season, d int64) Season {
	if s != Auto {
		return s
	}
	switch simtime.Month(d) {
	case time.November, time.December, time.January, time.February, time.March:
		return Winter
	case time.June, time.July, time.August, time.September:
		return Summer
	}
	return Mild
}

// Options tune the model for a scenario.
type Options struct {
	Season   Season
	MixedUse bool // people also live in this shop or workshop ("three-in-one")
}

// Unit is one unit's appliances. It is immutable after New and safe for
// concurrent use.
type Unit struct {
	seed, key uint64
	use       Use
	opt       Options
	occupants int
	away      bool // out at work on weekdays
	night     bool // a night owl: lights, TV and PC run late

	baseW, basePF        float64
	fridgeW, fridgePF    float64
	fridgeOn, fridgeOff  float64 // minutes
	lightW, lightPF      float64
	tvW, tvPF            float64
	pcW, pcPF            float64
	pcAllNight           float64 // probability the PC stays on overnight
	kettleW              float64
	riceW                float64
	inductionW           float64
	microwaveW           float64
	washer               bool
	waterHeaterW         float64
	heaterW              float64
	acW                  float64
	dispenserW           float64
	shopLightW           float64
	displayW, displayPF  float64
	machineW, machinePF  float64
	openH, closeH        float64
	cookAtHome, tvHabit  float64
	waterMorning, shower float64

	// Round 13: the background of a real meter (cw-sim bgstats), drawn from
	// their own stream so the appliances above keep their times and powers
	// (the ripple of segments added after them, keyed by their order, does
	// not).
	busy         float64    // small loads switched per waking hour, relative (see drawBusy)
	blanketW     [2]float64 // electric blanket zones; 0: none or one zone
	blanketHabit float64    // share of winter nights it is used
	laptopW      float64
	hoodW        float64
	dryerW       float64
	fanW         float64
	fridgeKick   float64 // start-up excess of the fridge's compressor, relative
}

// New draws the appliances of the unit named id.
func New(seed uint64, id string, use Use, opt Options) *Unit {
	key := rng.Key(id)
	r := rng.New(seed, key, 0x686f757365) // "house"
	u := &Unit{seed: seed, key: key, use: use, opt: opt}
	u.occupants = 1 + rng.Pick(r, 0.3, 0.35, 0.2, 0.15)
	u.away = rng.Chance(r, 0.7)
	u.night = rng.Chance(r, 0.2)
	u.baseW = rng.Between(r, 12, 30) + 6*float64(u.occupants)
	u.basePF = rng.Between(r, 0.55, 0.75)
	u.fridgeW = rng.Between(r, 75, 140)
	u.fridgePF = rng.Between(r, 0.6, 0.8)
	u.fridgeOn = rng.Between(r, 12, 22)
	u.fridgeOff = rng.Between(r, 24, 45)
	u.lightW = rng.Between(r, 12, 25) * float64(u.occupants+1)
	u.lightPF = rng.Between(r, 0.5, 0.95)
	if rng.Chance(r, 0.75) {
		u.tvW = rng.Between(r, 80, 200)
		u.tvPF = rng.Between(r, 0.88, 0.96)
	}
	u.tvHabit = rng.Between(r, 0.5, 0.95)
	if rng.Chance(r, 0.35) {
		u.pcW = rng.Between(r, 60, 120)
		u.pcPF = rng.Between(r, 0.6, 0.98)
		if rng.Chance(r, 0.15) {
			u.pcAllNight = rng.Between(r, 0.3, 0.9)
		}
	}
	u.kettleW = rng.Between(r, 1500, 2200)
	u.riceW = maybe(r, 0.8, 500, 800)
	u.inductionW = maybe(r, 0.55, 1200, 2100)
	u.microwaveW = maybe(r, 0.5, 1000, 1300)
	u.washer = rng.Chance(r, 0.75)
	u.waterHeaterW = maybe(r, 0.45, 1500, 3000)
	u.heaterW = maybe(r, 0.55, 800, 2000)
	u.acW = maybe(r, 0.8, 700, 1500)
	u.dispenserW = maybe(r, 0.3, 400, 550)
	u.cookAtHome = rng.Between(r, 0.4, 0.9)
	u.waterMorning = rng.Between(r, 0.3, 0.9)
	u.shower = rng.Between(r, 0.5, 1)
	u.drawBusy()
	switch use {
	case Shop:
		u.shopLightW = rng.Between(r, 150, 500)
		u.displayW = rng.Between(r, 250, 500)
		u.displayPF = rng.Between(r, 0.65, 0.8)
		u.openH = rng.Between(r, 7.5, 9.5)
		u.closeH = rng.Between(r, 20.5, 22.5)
		u.dispenserW = rng.Between(r, 400, 550)
	case Workshop:
		u.shopLightW = rng.Between(r, 100, 300)
		u.machineW = rng.Between(r, 300, 1500)
		u.machinePF = rng.Between(r, 0.55, 0.75)
		u.openH = rng.Between(r, 7.5, 9)
		u.closeH = rng.Between(r, 17.5, 20)
	}
	return u
}

// drawBusy draws the unit's busyness and the appliances added in round 13
// (cw-sim bgstats measured the simulated homes several times quieter than
// a real meter), from a stream of their own.
//
// Busyness scales the rate of small loads switched through the waking
// hours. It is 0.6, 0.9, 1.2 or 1.5 for 1-4 occupants times a log-normal
// factor (σ 0.35), within 0.3-3: rooms for one are quiet, family flats
// busy. Measured in winter (bgstats): 4.7 edges of 48-480 W an hour under
// 0.6, 6.6 from 1.4, and the busiest 1% of unit-days 10 or more, as the
// UCI household (a large house in February) every day.
func (u *Unit) drawBusy() {
	r := rng.New(u.seed, u.key, 0x62757379) // "busy"
	u.busy = (0.3 + 0.3*float64(u.occupants)) * math.Exp(0.35*r.NormFloat64())
	u.busy = min(3, max(0.3, u.busy))
	// Electric blankets are common in the homes of the Yangtze basin,
	// which have no central heating: 55% of homes, 60% of them with two
	// zones (a double blanket with a control per side) whose thermostats
	// cycle independently: staged edges of 35-75 W.
	if rng.Chance(r, 0.55) {
		if rng.Chance(r, 0.6) {
			u.blanketW = [2]float64{rng.Between(r, 35, 75), rng.Between(r, 35, 75)}
		} else {
			u.blanketW = [2]float64{rng.Between(r, 60, 150), 0}
		}
		u.blanketHabit = rng.Between(r, 0.5, 0.95)
	}
	u.laptopW = maybe(r, 0.5, 20, 65)
	u.hoodW = maybe(r, 0.7, 80, 250)
	u.dryerW = maybe(r, 0.6, 800, 1800)
	u.fanW = maybe(r, 0.6, 30, 65)
	// tracebase's fridge and freezer start 16% and 32% over their settled
	// draw (72 → 62 W, 207 → 157 W), settled within 5 minutes.
	u.fridgeKick = rng.Between(r, 0.15, 0.32)
}

// maybe draws whether a unit has an appliance (with probability p) and,
// if it has, its power in [lo, hi); 0 if not.
func maybe(r *rand.Rand, p, lo, hi float64) float64 {
	if rng.Chance(r, p) {
		return rng.Between(r, lo, hi)
	}
	return 0
}

// Busy returns the unit's busyness (see drawBusy).
func (u *Unit) Busy() float64 { return u.busy }

// Key returns the unit's stream key.
func (u *Unit) Key() uint64 { return u.key }

// day is the state of drawing one day.
type day struct {
	u      *Unit
	r      *rand.Rand
	d      int64
	n      uint64 // segment counter for noise keys
	dst    []elec.Segment
	season Season
}

func (b *day) at(h float64) int64 { return simtime.At(b.d, h) }

// add appends a constant segment from hour h for minutes m.
func (b *day) add(tag Appliance, h, m, w, pf, ripple float64) {
	b.addShape(tag, h, m, elec.Segment{W: w, Tan: elec.TanOf(pf), Ripple: ripple})
}

// addShape appends seg placed at hour h for minutes m (T0 = start).
func (b *day) addShape(tag Appliance, h, m float64, seg elec.Segment) {
	if m <= 0 {
		return
	}
	start := b.at(h)
	seg.T0, seg.Start, seg.End = start, start, start+int64(m*float64(simtime.Minute))
	b.n++
	seg.Key = rng.Hash(b.u.key, uint64(b.d), b.n)
	seg.Tag = uint8(tag)
	b.dst = append(b.dst, seg)
}

// Day appends the segments that start on day d.
func (u *Unit) Day(d int64, dst []elec.Segment) []elec.Segment {
	b := &day{u: u, r: rng.New(u.seed, u.key, uint64(d)), d: d, dst: dst, season: seasonOf(u.opt.Season, d)}
	b.base()
	switch u.use {
	case Residential:
		b.residential()
	case Shop:
		b.shop()
		if u.opt.MixedUse {
			b.residential()
		}
	case Workshop:
		b.workshop()
		if u.opt.MixedUse {
			b.residential()
		}
	case ChargingRoom:
		b.add(Lights, 0, 24*60, 30, 0.9, 0.01)
	}
	return b.dst
}

func (b *day) base() {
	u := b.u
	w := u.baseW
	if u.use == ChargingRoom {
		w = 5
	}
	b.add(Base, 0, 24*60, w, u.basePF, 0.03)
}

// cycles appends on/off cycles of an appliance between hours from and to.
func (b *day) cycles(tag Appliance, from, to, onMin, offMin, w, pf float64, exp float64) {
	sag := 0.0
	if tag == Fridge || tag == DisplayFridge {
		// A compressor's draw sags while it runs (the evaporator cools):
		// the UCI household's night cycles fall 3% in 15-18 minutes
		// (326 → 316 W), about 10% an hour.
		sag = 0.1
	}
	b.cyclesR(b.r, tag, from, to, onMin, offMin, w, pf, exp, sag, 0.02)
}

// cyclesR is cycles drawing from r, with a sag (relative, per hour on)
// and a ripple.
func (b *day) cyclesR(r *rand.Rand, tag Appliance, from, to, onMin, offMin, w, pf, exp, sag, ripple float64) {
	h := from + r.Float64()*(onMin+offMin)/60 - (onMin+offMin)/60
	for h < to {
		on := rng.Gauss(r, onMin, onMin*0.15, onMin*0.5, onMin*1.6)
		off := rng.Gauss(r, offMin, offMin*0.15, offMin*0.5, offMin*1.6)
		start := math.Max(h, from)
		m := math.Min(on-(start-h)*60, (to-start)*60)
		if m > 0.5 {
			seg := elec.Segment{W: w, Slope: -sag * w, Tan: elec.TanOf(pf), Ripple: ripple}
			if exp > 0 && start == h {
				seg.Exp, seg.TauH = exp, 1.5/60
			}
			b.addShape(tag, start, m, seg)
		}
		h += (on + off) / 60
	}
}

func (b *day) residential() {
	u, r := b.u, b.r
	weekend := simtime.Weekend(b.d)
	home := !u.away || weekend // home in the daytime
	mixed := u.use != Residential
	// Fridge compressor: all day, shorter pauses in summer.
	off := u.fridgeOff
	switch b.season {
	case Summer:
		off *= 0.75
	case Winter:
		off *= 1.2
	}
	if !mixed || u.fridgeW > 0 {
		b.cycles(Fridge, 0, 24, u.fridgeOn, off, u.fridgeW, u.fridgePF, u.fridgeW*u.fridgeKick)
	}
	// Lights: morning (winter) and evening until bedtime.
	bed := rng.Gauss(r, 23, 0.6, 21.5, 24.5)
	if u.night {
		bed = rng.Gauss(r, 0.8, 0.6, 23.5, 2.5) + 24
		if bed > 26.5 {
			bed = 26.5
		}
	}
	wake := rng.Gauss(r, 6.8, 0.4, 5.5, 8)
	if weekend {
		wake += rng.Between(r, 0.5, 2)
	}
	dusk := 18.0
	switch b.season {
	case Winter:
		dusk = 17.2
		b.add(Lights, wake, rng.Between(r, 30, 70), u.lightW*0.6, u.lightPF, 0.01)
	case Summer:
		dusk = 19.0
	}
	dusk += rng.Between(r, -0.3, 0.5)
	b.add(Lights, dusk, (bed-dusk)*60, u.lightW, u.lightPF, 0.02)
	// TV in the evening, and in the afternoon at weekends.
	if u.tvW > 0 && rng.Chance(r, u.tvHabit) {
		start := rng.Gauss(r, 19.3, 0.7, 17.5, 21.5)
		end := math.Min(bed, start+rng.Between(r, 1, 4.5))
		b.add(TV, start, (end-start)*60, u.tvW, u.tvPF, 0.12)
		if home && rng.Chance(r, 0.4) {
			s := rng.Between(r, 13, 16)
			b.add(TV, s, rng.Between(r, 40, 150), u.tvW, u.tvPF, 0.12)
		}
	}
	// Desktop PC: an evening session, now and then all night.
	if u.pcW > 0 && rng.Chance(r, 0.7) {
		start := rng.Gauss(r, 20, 1, 18, 23)
		end := math.Min(bed+0.5, start+rng.Between(r, 1.5, 5))
		if rng.Chance(r, u.pcAllNight) {
			end = wake + 24 // left on until morning: 8-12 h at ~90 W
		}
		b.add(PC, start, (end-start)*60, u.pcW, u.pcPF, 0.08)
		if rng.Chance(r, 0.25) { // gaming burst
			s := start + rng.Between(r, 0.2, 1.5)
			b.add(PC, s, rng.Between(r, 20, 90), rng.Between(r, 80, 200), u.pcPF, 0.2)
		}
		if home && rng.Chance(r, 0.3) {
			b.add(PC, rng.Between(r, 9, 15), rng.Between(r, 60, 240), u.pcW, u.pcPF, 0.08)
		}
	}
	// Kettle: morning and evening.
	for _, slot := range [][2]float64{{wake, wake + 1.5}, {19, 22}} {
		for k := rng.Poisson(r, 0.3+0.3*float64(u.occupants)); k > 0; k-- {
			b.add(Kettle, rng.Between(r, slot[0], slot[1]), rng.Between(r, 2.5, 5), u.kettleW, 1, 0.01)
		}
	}
	// Cooking: dinner at home, lunch when home.
	meals := []float64{}
	if rng.Chance(r, u.cookAtHome) {
		meals = append(meals, rng.Gauss(r, 17.8, 0.5, 16.5, 19.5))
	}
	if home && rng.Chance(r, u.cookAtHome*0.8) {
		meals = append(meals, rng.Gauss(r, 11.3, 0.3, 10.5, 12.5))
	}
	for _, m := range meals {
		if u.riceW > 0 && rng.Chance(r, 0.75) {
			cook := rng.Between(r, 20, 35)
			b.add(RiceCooker, m-0.3, cook, u.riceW, 0.99, 0.02)
			// keep warm: a thermostat cycling to an average of 30-60 W
			b.add(RiceCooker, m-0.3+cook/60, rng.Between(r, 30, 100), rng.Between(r, 30, 60), 0.99, 0.5)
		}
		if u.inductionW > 0 {
			for k := 1 + r.IntN(3); k > 0; k-- {
				b.add(Induction, m+rng.Between(r, 0, 0.6), rng.Between(r, 3, 15), u.inductionW*rng.Between(r, 0.6, 1), 0.95, 0.05)
			}
		}
	}
	if u.microwaveW > 0 {
		for k := rng.Poisson(r, 0.6); k > 0; k-- {
			h := rng.Between(r, 7, 22)
			if !home && h > 8.5 && h < 17.5 {
				continue
			}
			b.add(Microwave, h, rng.Between(r, 1, 5), u.microwaveW, 0.95, 0.03)
		}
	}
	// Washing machine: washing, then spin; sometimes a heated wash.
	if u.washer && rng.Chance(r, 0.25+0.12*float64(u.occupants)) {
		h := rng.Between(r, 7.5, 21)
		if !home {
			h = rng.Between(r, 19, 21.5)
		}
		wash := rng.Between(r, 35, 70)
		b.add(Washer, h, wash, rng.Between(r, 120, 280), rng.Between(r, 0.5, 0.7), 0.25)
		if rng.Chance(r, 0.2) {
			b.add(Washer, h+0.1, rng.Between(r, 8, 15), rng.Between(r, 1800, 2000), 1, 0.01)
		}
		b.add(Washer, h+wash/60, rng.Between(r, 6, 12), rng.Between(r, 300, 500), rng.Between(r, 0.55, 0.75), 0.15)
	}
	// Water heater before the evening showers, and a morning reheat.
	if u.waterHeaterW > 0 {
		if rng.Chance(r, u.shower) {
			b.add(WaterHeater, rng.Gauss(r, 20.5, 0.8, 18.5, 23), rng.Between(r, 20, 50), u.waterHeaterW, 1, 0.005)
		}
		if b.season == Winter && rng.Chance(r, u.waterMorning) {
			b.add(WaterHeater, wake-0.4, rng.Between(r, 10, 25), u.waterHeaterW, 1, 0.005)
		}
	}
	if u.dispenserW > 0 {
		b.cycles(Dispenser, wake, bed, rng.Between(r, 4, 8), rng.Between(r, 35, 60), u.dispenserW, 1, 0)
	}
	b.smallLoads(wake, bed, home, meals)
	// Heating and cooling in the evening and at night.
	switch b.season {
	case Winter:
		if u.heaterW > 0 && rng.Chance(r, 0.8) {
			from := rng.Gauss(r, 19, 0.8, 17.5, 22)
			to := math.Min(bed, from+rng.Between(r, 1.5, 5))
			b.cycles(Heater, from, to, rng.Between(r, 10, 25), rng.Between(r, 4, 12), u.heaterW, 1, 0)
			if home && rng.Chance(r, 0.4) {
				f := rng.Between(r, 9, 14)
				b.cycles(Heater, f, f+rng.Between(r, 1, 3), rng.Between(r, 10, 25), rng.Between(r, 4, 12), u.heaterW, 1, 0)
			}
		} else if u.acW > 0 && rng.Chance(r, 0.5) { // heat pump
			from := rng.Gauss(r, 19.5, 0.8, 18, 22)
			to := math.Min(bed, from+rng.Between(r, 1.5, 4))
			b.inverter(from, to, u.acW*1.2)
		}
	case Summer:
		if u.acW > 0 {
			if rng.Chance(r, 0.85) {
				from := rng.Gauss(r, 20, 1, 18, 23)
				to := bed + rng.Between(r, 0, 8) // often through the night
				b.inverter(from, math.Min(to, 31), u.acW)
			}
			if home && rng.Chance(r, 0.6) {
				f := rng.Between(r, 12, 15)
				b.inverter(f, f+rng.Between(r, 1.5, 4), u.acW)
			}
		}
	}
}

// smallLoads appends round 13's loads (drawBusy) from a stream of the day
// of their own: the electric blanket on winter nights, a laptop, the range
// hood at meals, a hair dryer after showers, a fan on summer nights, and
// small appliances switched at a rate set by the unit's busyness, most in
// the evening. wake and bed are the day's hours, meals the hours of its
// cooked meals.
func (b *day) smallLoads(wake, bed float64, home bool, meals []float64) {
	u := b.u
	r := rng.New(u.seed, u.key, uint64(b.d), 0x736d616c6c) // "small"
	occ := float64(u.occupants)
	// Electric blanket: pre-heated on full before bed, then each zone's
	// thermostat cycles (on 5-15 min, off 10-25: the 20-40 minute night
	// cycles of the UCI household) all night, or for 1-4 hours.
	habit := 0.0
	switch b.season {
	case Winter:
		habit = u.blanketHabit
	case Mild:
		habit = u.blanketHabit * 0.15 // cold nights of spring and autumn
	}
	if u.blanketW[0] > 0 && rng.Chance(r, habit) {
		end := bed + rng.Between(r, 1, 4)
		if rng.Chance(r, 0.6) {
			end = wake + 24 - rng.Between(r, 0, 1)
		}
		pre := rng.Between(r, 20, 60)
		for z, w := range u.blanketW {
			if w == 0 || (z == 1 && (u.occupants < 2 || !rng.Chance(r, 0.8))) {
				continue
			}
			b.add(Blanket, bed-pre/60, pre, w, 1, 0.005)
			b.cyclesR(r, Blanket, bed, end, rng.Between(r, 5, 15), rng.Between(r, 10, 25), w, 1, 0, 0, 0.005)
		}
	}
	// Laptop on its charger: tracebase's laptops fluctuate 1.0-3.0% between
	// 1-min readings (a ripple of 0.025 reads 2.2%).
	if u.laptopW > 0 && rng.Chance(r, min(0.9, 0.3+0.15*u.busy)) {
		start := rng.Gauss(r, 20, 1.2, 17.5, 23.5)
		b.add(Laptop, start, math.Min(rng.Between(r, 60, 240), (bed+0.5-start)*60), u.laptopW, rng.Between(r, 0.5, 0.65), 0.025)
		if home && rng.Chance(r, 0.4) {
			b.add(Laptop, rng.Between(r, 9, 15), rng.Between(r, 60, 180), u.laptopW, rng.Between(r, 0.5, 0.65), 0.025)
		}
	}
	if u.hoodW > 0 {
		for _, m := range meals {
			if rng.Chance(r, 0.8) {
				b.add(Hood, m+rng.Between(r, -0.1, 0.4), rng.Between(r, 8, 30), u.hoodW, rng.Between(r, 0.8, 0.95), 0.03)
			}
		}
	}
	if u.dryerW > 0 {
		for k := rng.Poisson(r, 0.25*occ); k > 0; k-- {
			b.add(HairDryer, rng.Between(r, 20, math.Max(bed, 20.5)), rng.Between(r, 3, 10), u.dryerW*rng.Between(r, 0.5, 1), 1, 0.02)
		}
	}
	if u.fanW > 0 && (b.season == Summer && rng.Chance(r, 0.7) || b.season == Mild && rng.Chance(r, 0.1)) {
		from := rng.Gauss(r, 20.5, 1, 18, 23)
		b.add(Fan, from, (bed-from)*60+rng.Between(r, 0, 420), u.fanW, rng.Between(r, 0.9, 0.99), 0.01)
	}
	// Small appliances used for minutes (a lamp switched on and off, a
	// vacuum, a printer, a blender, a hair straightener, a foot bath...): a
	// load of 15-400 W (log-uniform) for 1-12 minutes (log-uniform; what
	// runs longer is modelled by name above, its fluctuation calibrated),
	// switched at busyness × 4 an hour in the
	// evening, × 3 in the morning hour and a half, × 1.2 in the daytime
	// when someone is home and × 0.3 at night (UCI: 11-33 edges of 48-480
	// W an hour in the evening, 3-9 at night).
	type span struct{ from, to, rate float64 }
	spans := []span{{wake, wake + 1.5, 3}, {18, bed, 4}, {bed, wake + 24, 0.3}}
	if home {
		spans = append(spans, span{wake + 1.5, 18, 1.2})
	}
	for _, sp := range spans {
		if sp.to <= sp.from {
			continue
		}
		for k := rng.Poisson(r, u.busy*sp.rate*(sp.to-sp.from)); k > 0; k-- {
			w := 15 * math.Exp(r.Float64()*math.Log(400.0/15))
			m := math.Exp(r.Float64() * math.Log(12.0))
			b.add(SmallLoad, rng.Between(r, sp.from, sp.to), m, w, rng.Between(r, 0.5, 1), rng.Between(r, 0.005, 0.03))
		}
	}
}

// inverter appends an inverter air conditioner: a start at full power
// decaying to a modulating 40-65%.
func (b *day) inverter(from, to, w float64) {
	if to <= from {
		return
	}
	steady := w * rng.Between(b.r, 0.4, 0.65)
	b.addShape(AC, from, (to-from)*60, elec.Segment{W: steady, Exp: w - steady, TauH: rng.Between(b.r, 8, 15) / 60, Tan: elec.TanOf(rng.Between(b.r, 0.92, 0.98)), Ripple: 0.1})
}

func (b *day) shop() {
	u, r := b.u, b.r
	open, close := u.openH+rng.Between(r, -0.2, 0.2), u.closeH+rng.Between(r, -0.3, 0.3)
	b.add(ShopLights, open, (close-open)*60, u.shopLightW, rng.Between(r, 0.85, 0.95), 0.02)
	b.cycles(DisplayFridge, 0, 24, rng.Between(r, 15, 25), rng.Between(r, 10, 20), u.displayW, u.displayPF, u.displayW*0.5)
	b.add(PC, open, (close-open)*60, rng.Between(r, 50, 120), 0.9, 0.05) // till and screen
	b.cycles(Dispenser, open, close, rng.Between(r, 4, 8), rng.Between(r, 30, 50), u.dispenserW, 1, 0)
	for k := rng.Poisson(r, 2); k > 0; k-- {
		b.add(Kettle, rng.Between(r, open, close), rng.Between(r, 2.5, 5), u.kettleW, 1, 0.01)
	}
	switch b.season {
	case Winter:
		if u.heaterW > 0 {
			b.cycles(Heater, open, close, rng.Between(r, 15, 30), rng.Between(r, 5, 12), u.heaterW, 1, 0)
		}
	case Summer:
		b.inverter(open+1, close, u.acW*1.5)
	}
}

func (b *day) workshop() {
	u, r := b.u, b.r
	if simtime.Weekday(b.d) == time.Sunday && rng.Chance(r, 0.6) {
		return
	}
	open, close := u.openH+rng.Between(r, -0.2, 0.2), u.closeH+rng.Between(r, -0.5, 0.5)
	b.add(ShopLights, open, (close-open)*60, u.shopLightW, 0.9, 0.02)
	for h := open; h < close; {
		run := rng.Between(r, 5, 40)
		b.add(Machine, h, math.Min(run, (close-h)*60), u.machineW*rng.Between(r, 0.4, 1), u.machinePF, 0.15)
		h += (run + rng.Between(r, 2, 30)) / 60
	}
	for k := rng.Poisson(r, 1.5); k > 0; k-- {
		b.add(Kettle, rng.Between(r, open, close), rng.Between(r, 2.5, 5), u.kettleW, 1, 0.01)
	}
	if b.season == Winter && u.heaterW > 0 {
		b.cycles(Heater, open, close, rng.Between(r, 15, 30), rng.Between(r, 5, 12), u.heaterW, 1, 0)
	}
}
