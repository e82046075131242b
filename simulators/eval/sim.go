package eval

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// Spec is one simulated city to evaluate on: a generated city of flats,
// shops and workshops behind smart meters (and a few smart plugs), some of
// them charging e-bikes indoors, over whole Shanghai days from Start.
type Spec struct {
	Seed      uint64
	Start     time.Time     // midnight, Shanghai
	Days      int           // simulated days
	Interval  time.Duration // reading interval of meters and plugs
	Buildings int
	Units     int     // per building
	Indoor    float64 // share of homes that charge an e-bike indoors
	TwoBikes  float64 // share of those with two bikes
	Plugs     float64 // share of homes with a metering smart plug
	Overload  float64 // overload episodes per unit-day (stacked kW loads)
}

// Name describes the spec in one line.
func (s *Spec) Name() string {
	return fmt.Sprintf("seed %d, %s, %d days from %s, %d units", s.Seed, fmtInterval(s.Interval), s.Days,
		s.Start.In(simtime.Zone).Format("2006-01-02"), s.Buildings*s.Units)
}

// scenario returns the simulator scenario of the spec: the default habits
// and hazard rates, except for what the spec sets; no monitors, smoke
// detectors or charging piles (they do not feed the charging detector).
func (s *Spec) scenario() (*scenario.Scenario, *registry.Site) {
	sc := scenario.Default()
	sc.Seed = s.Seed
	sc.Clock = scenario.Files
	sc.Start = s.Start
	sc.Span = time.Duration(s.Days) * 24 * time.Hour
	g := scenario.DefaultGenerate()
	g.Buildings, g.UnitsPerBuilding = s.Buildings, s.Units
	g.ChargingRooms, g.SmokeDetectors, g.Monitors, g.Plugs = 0, 0, false, s.Plugs
	sc.Generate = &g
	sc.Intervals.Meter, sc.Intervals.Plug = s.Interval, s.Interval
	sc.EBikes.IndoorUnits, sc.EBikes.TwoBikes = s.Indoor, s.TwoBikes
	sc.Hazards.Overload = s.Overload
	// Hazards of devices that are not simulated here stay at zero; device
	// and gateway outages and power cuts keep their default rates: they
	// make gaps and replays in the readings.
	sc.Hazards.Leakage, sc.Hazards.CableOverTemp = 0, 0
	sc.Hazards.SmokeAlarm, sc.Hazards.SmokeTest, sc.Hazards.Tamper, sc.Hazards.LowBattery = 0, 0, 0, 0
	sc.Hazards.PileFault, sc.Hazards.PortOverTemp = 0, 0
	return sc, sitegen.Generate(s.Seed, g, sc.Intervals)
}

// Alert is one indoor-charging alert of a unit, as the lifecycle keeps it:
// the sources (meter, plug) of the unit merged, from the first source's
// fire to the last source's clear; a fire within Grace of the previous
// clear reopens the same alert.
type Alert struct {
	Unit     string
	Start    int64   // the detector's estimate of the session start (Since)
	Fired    int64   // when the alert fired (event time)
	Resolved int64   // when it resolved; 0 if still open at the end
	StepW    float64 // plateau power over the background at the fire
	Sources  []string
	Reopens  int
	Why      string // the detector's reason and features at the fire, when it traces
}

// Grace is the lifecycle's default grace period: a resolved alert whose
// condition fires again within it reopens.
const Grace = 30 * time.Minute

// Episode is a true charging session of a unit (overlapping charges of one
// unit merged, as truth.Episodes does), with the hard cases it belongs to.
type Episode struct {
	Unit       string
	Start, End int64
	PlateauEnd int64   // when the last of its chargers left constant current (its taper began)
	DrawEnd    int64   // when the last of its chargers stopped charging: full (a few watts of float after) or unplugged; 0: End
	Bikes      int     // charges merged into it
	PlateauW   float64 // largest plateau of its chargers
	PF         float64 // lowest power factor of its chargers while charging (0 if not known)
	Chargers   []string
	Starts     []int64 // when each of its charges started
	Cases      Cases
	Scored     bool // it starts inside the scored span
	Detected   bool
	Alert      int   // index of the first alert that detected it; -1 if none
	TTD        int64 // alert fired - session start, ms
}

// Outcome is what one evaluation run produced.
type Outcome struct {
	Label    string // e.g. "simulated" or "semi-synthetic"
	Interval time.Duration
	From, To int64
	Readings int64
	Units    []UnitDays
	Episodes []Episode
	Alerts   []Alert

	Explain *Explanation // why sessions were missed (Options.Explain); nil otherwise
	// Features are the candidates' labelled score features (Options.Features).
	Features []FeatureRow

	// Visits and Verdicts count the simulated grid workers' visits
	// (Options.Feedback) and those that closed their alert as a false
	// alarm; Learnt the devices' detectors that learnt from a verdict (a
	// detector refuses one on its unit's charger's size, or with Feedback
	// 0).
	Visits, Verdicts, Learnt int

	series func(unit string, from, to int64) ([]int64, []float64) // regenerates what the unit's meter read
	semi   []semiDiag                                             // semi-synthetic set: per episode, how findable it is
	hh     map[string]*household.Unit
}

// ModelMaker makes the charging model of one run; trace, when the model
// supports it, receives the detector's decisions of the device being fed.
type ModelMaker func(trace func(*detect.ChargingTrace)) detect.ChargingModel

// Physics returns the maker of the physics model with parameters p.
func Physics(p detect.PhysicsParams) ModelMaker {
	return func(trace func(*detect.ChargingTrace)) detect.ChargingModel {
		q := p
		q.Trace = trace
		return detect.NewPhysicsModel(q)
	}
}

// Fixed returns a maker of a model that does not trace (the first-version
// StepModel, for comparison).
func Fixed(m detect.ChargingModel) ModelMaker {
	return func(func(*detect.ChargingTrace)) detect.ChargingModel { return m }
}

// UnitDays are the simulated days of one unit, with the tags of each day.
type UnitDays struct {
	Unit string
	Days []DayTags // one per simulated day
}

// DayTags say what happened on one unit-day.
type DayTags struct {
	Day      int64 // Shanghai day number
	Charging bool  // a charging episode of the unit overlaps the day
	Cases    Cases // hard cases seen on the day
}

// alertBook merges source signals into unit alerts.
type alertBook struct {
	open   map[string]*openAlert
	alerts []Alert
}

type openAlert struct {
	idx     int
	sources map[string]bool
}

func newAlertBook() *alertBook { return &alertBook{open: map[string]*openAlert{}} }

func (b *alertBook) signal(unit, source string, s *detect.Signal, why string) {
	if s.Rule != alerting.RuleIndoorCharging {
		return
	}
	oa := b.open[unit]
	switch s.Op {
	case detect.OpFire:
		if oa != nil && len(oa.sources) > 0 {
			oa.sources[source] = true
			a := &b.alerts[oa.idx]
			if !slices.Contains(a.Sources, source) {
				a.Sources = append(a.Sources, source)
			}
			return
		}
		if oa != nil && s.TS-b.alerts[oa.idx].Resolved <= Grace.Milliseconds() {
			a := &b.alerts[oa.idx]
			a.Resolved = 0
			a.Reopens++
			oa.sources[source] = true
			if !slices.Contains(a.Sources, source) {
				a.Sources = append(a.Sources, source)
			}
			return
		}
		b.alerts = append(b.alerts, Alert{Unit: unit, Start: s.Since, Fired: s.TS, StepW: s.Value, Sources: []string{source}, Why: why})
		b.open[unit] = &openAlert{idx: len(b.alerts) - 1, sources: map[string]bool{source: true}}
	case detect.OpClear:
		if oa == nil || !oa.sources[source] {
			return
		}
		delete(oa.sources, source)
		if len(oa.sources) == 0 {
			b.alerts[oa.idx].Resolved = s.TS
		}
	}
}

// runCity simulates the spec's city and feeds every meter and plug reading
// to the detectors exactly as the alerting engine does: one detect.Device
// per device, the device kind's default thresholds, charging detection for
// devices in units that are not designated charging rooms, readings in log
// order. With fb over 0 a grid worker visits each alert fb after it fired
// (Options.Feedback).
func runCity(ctx context.Context, s Spec, mk ModelMaker, onTrace func(unit, dev string, tr *detect.ChargingTrace), fb time.Duration) (*Outcome, error) {
	sc, site := s.scenario()
	// The detectors start a day early, so that every scored day begins
	// with warm state (and no session is cut by the start).
	from := s.Start
	to := from.Add(time.Duration(s.Days) * 24 * time.Hour)
	simFrom := from.Add(-warmup)
	sc.Start, sc.Span = simFrom, to.Sub(simFrom)
	c, err := city.New(sc, site, city.Options{Epoch: simFrom})
	if err != nil {
		return nil, err
	}
	unitSpec := map[string]registry.UnitSpec{}
	for _, u := range site.Units {
		unitSpec[u.ID] = u
	}
	cfgs := map[devices.Kind]*detect.Config{}
	for _, k := range []devices.Kind{devices.KindMeter, devices.KindPlug} {
		c := detect.Defaults(k)
		cfgs[k] = &c
	}
	runs := map[*city.Device]*devRun{}
	byID := map[string]*devRun{}
	for _, d := range c.Devices() {
		if d.Kind != devices.KindMeter && d.Kind != devices.KindPlug {
			continue
		}
		u := unitSpec[d.Unit]
		runs[d] = &devRun{
			info: detect.Info{ID: d.ID, Kind: d.Kind, RatedCurrentA: d.RatedA, Charging: d.Unit != "" && u.Type != registry.UnitChargingRoom},
			cfg:  cfgs[d.Kind], unit: d.Unit,
		}
		byID[d.ID] = runs[d]
	}
	book := newAlertBook()
	var cur *city.Device
	why := map[string]string{} // device: reason of its latest fire
	model := mk(func(tr *detect.ChargingTrace) {
		if tr.Event == "fire" {
			why[cur.ID] = fmt.Sprintf("%s after %s: step %.0f %s, noise %.2f%%, rise %+.1f%%/h (t %.1f)",
				reason(tr), tr.Held.Round(time.Minute), tr.LevelW, unitOf(tr), 100*tr.Noise, 100*tr.Rise, tr.RiseT)
		}
		if onTrace != nil {
			onTrace(cur.Unit, cur.ID, tr)
		}
	})
	first := map[string]int64{} // first reading of each device: its sampling phase
	var recs []truth.Record
	var sigs []detect.Signal
	out := &Outcome{Label: "simulated", Interval: s.Interval, From: from.UnixMilli(), To: to.UnixMilli()}
	wk := &workers{delay: fb.Milliseconds(), charges: map[string][]truth.Record{}, devs: byID, book: book, out: out}
	_, err = c.Run(ctx, city.RunOptions{
		From: simFrom, To: to, Batch: 1,
		Emit: func(m *city.Message) error {
			if m.Channel != devices.ChannelTelemetry {
				return nil
			}
			dr := runs[m.Device]
			if dr == nil {
				return nil
			}
			if _, ok := first[m.Device.ID]; !ok && len(m.Readings) > 0 {
				first[m.Device.ID] = m.Readings[0].TS
			}
			cur = m.Device
			for i := range m.Readings {
				out.Readings++
				wk.visit(m.Readings[i].TS)
				var ok bool
				sigs, ok = dr.det.Observe(dr.cfg, &dr.info, model, &m.Readings[i], sigs[:0])
				if !ok {
					continue
				}
				n := len(book.alerts)
				for j := range sigs {
					book.signal(dr.unit, m.Device.ID, &sigs[j], why[m.Device.ID])
				}
				wk.plan(n)
			}
			return nil
		},
		Truth: func(r *truth.Record) error {
			recs = append(recs, *r)
			wk.truth(r)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	out.Alerts = book.alerts
	hh := map[string]*household.Unit{}
	for _, u := range site.Units {
		if u.Type == registry.UnitChargingRoom {
			continue
		}
		use := household.Residential
		switch u.Type {
		case registry.UnitShop:
			use = household.Shop
		case registry.UnitWorkshop:
			use = household.Workshop
		}
		hh[u.ID] = household.New(s.Seed, u.ID, use, household.Options{Season: sc.Households.Season, MixedUse: u.MixedUse})
	}
	out.Episodes, out.Units = label(recs, hh, out.From, out.To)
	out.hh = hh
	meters := map[string]*city.Device{}
	for d := range runs {
		if d.Kind == devices.KindMeter {
			meters[d.Unit] = d
		}
	}
	iv := s.Interval.Milliseconds()
	out.series = func(unit string, a, b int64) ([]int64, []float64) {
		d := meters[unit]
		if d == nil {
			return nil, nil
		}
		f := first[d.ID]
		var ts []int64
		var ws []float64
		for t := f + (a-f+iv-1)/iv*iv; t < b; t += iv {
			if !d.Online(time.UnixMilli(t)) {
				continue
			}
			r := d.ReadingAt(time.UnixMilli(t))
			if w, ok := r.Get(devices.FieldPower); ok {
				ts, ws = append(ts, t), append(ws, w)
			}
		}
		return ts, ws
	}
	return out, nil
}

// devRun is one device of a simulated city and its detector.
type devRun struct {
	det  detect.Device
	info detect.Info
	cfg  *detect.Config
	unit string
}

// warmup is how long the detectors run before the scored span.
const warmup = 24 * time.Hour

func fmtInterval(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dmin", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// reason is a fire's path, marked when the detector of the non-active
// power confirmed it.
func reason(tr *detect.ChargingTrace) string {
	if tr.Var {
		return tr.Reason + " (var)"
	}
	return tr.Reason
}

func unitOf(tr *detect.ChargingTrace) string {
	if tr.Var {
		return "var"
	}
	return "W"
}
