// Package charger models e-bike chargers as a power meter sees them: a
// constant-current plateau whose power rises slowly with the pack voltage,
// a constant-voltage taper (a knee, then an exponential tail), and a float
// or cut-off when the pack is full.
//
// The lithium model is calibrated on real traces of 48 V packs on 2 A
// chargers (../shared/realdata/ebike-hilo, fitted by FitSession; see
// docs/simulators.md): plateau 99-109 W rising 1.2-2.3 W/h, logistic taper
// time constant 21-46 min with a knee of 0.69-0.70 (single-exponential
// equivalent 37-94 min), cut-off to float at 18-26 W or a smooth taper to
// about 2-5 W, float 4.7-5.4 W (15.5 W on one maintenance charger). Other
// voltage and current classes scale the power, not the shape. The
// lead-acid three-stage and the high-power (150-300 W) models follow
// the charger firmware and vendor figures in ../shared/domain.md.
package charger

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Type is a family of chargers.
type Type uint8

// Charger families.
const (
	Lithium   Type = iota // lithium pack, 36-60 V, 2-3 A: 70-190 W
	LeadAcid              // lead-acid three-stage, 48-60 V, 1.8-2.5 A
	HighPower             // Chinese-market fast chargers, 150-300 W
	numTypes
)

var typeNames = [numTypes]string{"lithium", "lead_acid", "high_power"}

func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("charger(%d)", uint8(t))
}

// ParseType parses a family name.
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if n == s {
			return Type(i), true
		}
	}
	return 0, false
}

// Types lists the families.
func Types() []Type { return []Type{Lithium, LeadAcid, HighPower} }

// Params is one charger with one pack. Powers are at the wall socket.
type Params struct {
	Type       Type
	Class      string  // voltage and current class, e.g. "48V2A"
	PlateauW   float64 // power at the end of the constant-current stage
	SlopePctH  float64 // rise of the plateau, percent of PlateauW per hour
	PackWh     float64 // usable pack energy
	Efficiency float64 // pack energy per wall energy
	CVSoC      float64 // state of charge where constant voltage begins
	TauMin     float64 // taper time constant (logistic), minutes
	Knee       float64 // taper knee, see Fit.Knee
	FloorW     float64 // asymptote of the taper
	CutoffW    float64 // taper power at which the charger switches to float; 0 for a smooth taper
	FloatW     float64 // float (trickle) power after the cut-off
	PF         float64 // power factor while charging
	PFFloat    float64 // power factor in float
}

type class struct {
	name   string
	w      float64 // plateau end power, W
	packWh [2]float64
	weight float64
}

var classes = [numTypes][]class{
	Lithium: {
		{"36V2A", 82, [2]float64{360, 520}, 0.10},
		{"48V2A", 106, [2]float64{500, 740}, 0.45},
		{"48V2.5A", 132, [2]float64{576, 900}, 0.15},
		{"48V3A", 160, [2]float64{700, 1000}, 0.15},
		{"60V2A", 134, [2]float64{720, 1000}, 0.15},
	},
	LeadAcid: {
		{"48V1.8A", 120, [2]float64{450, 600}, 0.35},
		{"48V2.2A", 146, [2]float64{550, 800}, 0.35},
		{"60V2.2A", 182, [2]float64{700, 1000}, 0.30},
	},
	HighPower: {
		{"48V4A", 210, [2]float64{800, 1200}, 0.30},
		{"60V4A", 265, [2]float64{1000, 1500}, 0.35},
		{"72V3.5A", 280, [2]float64{1200, 1700}, 0.35},
	},
}

// Draw returns a random charger and pack of family t.
func Draw(t Type, r *rand.Rand) Params {
	cs := classes[t]
	ws := make([]float64, len(cs))
	for i, c := range cs {
		ws[i] = c.weight
	}
	c := cs[rng.Pick(r, ws...)]
	p := Params{Type: t, Class: c.name, PlateauW: c.w * rng.Between(r, 0.95, 1.05), PackWh: rng.Between(r, c.packWh[0], c.packWh[1])}
	pfc := false
	switch t {
	case Lithium:
		p.SlopePctH = rng.Between(r, 1.1, 2.3)
		p.Efficiency = rng.Between(r, 0.84, 0.9)
		p.CVSoC = rng.Between(r, 0.82, 0.9)
		p.TauMin = rng.Between(r, 20, 48)
		p.Knee = rng.Between(r, 0.64, 0.74)
		p.FloorW = rng.Between(r, 2, 5)
		pfc = rng.Chance(r, 0.4)
		switch rng.Pick(r, 0.45, 0.45, 0.1) {
		case 0: // cuts to float like the Rad chargers
			p.CutoffW = rng.Between(r, 15, 26)
			p.FloatW = rng.Between(r, 3, 8)
		case 1: // tapers smoothly like the Lectric chargers
		case 2: // maintenance float like the 15.5 W charger in the traces
			p.FloorW = rng.Between(r, 10, 15)
		}
	case LeadAcid:
		// CC to 14.7 V/cell block, CV taper to the turning current
		// (0.3-0.5 A), then float at 13.8 V per block.
		p.SlopePctH = rng.Between(r, 3, 5)
		p.Efficiency = rng.Between(r, 0.75, 0.82)
		p.CVSoC = rng.Between(r, 0.75, 0.82)
		p.TauMin = rng.Between(r, 30, 60)
		p.Knee = rng.Between(r, 0.6, 0.72)
		p.FloorW = rng.Between(r, 3, 6)
		p.CutoffW = p.PlateauW * rng.Between(r, 0.14, 0.22) // the turning point, green light
		p.FloatW = rng.Between(r, 5, 15)
		pfc = rng.Chance(r, 0.15)
	case HighPower:
		p.SlopePctH = rng.Between(r, 1.5, 3)
		p.Efficiency = rng.Between(r, 0.86, 0.92)
		p.CVSoC = rng.Between(r, 0.8, 0.88)
		p.TauMin = rng.Between(r, 15, 38)
		p.Knee = rng.Between(r, 0.64, 0.74)
		p.FloorW = rng.Between(r, 2, 5)
		p.CutoffW = rng.Between(r, 20, 40)
		p.FloatW = rng.Between(r, 3, 10)
		pfc = rng.Chance(r, 0.6)
	}
	if pfc {
		p.PF = rng.Between(r, 0.95, 0.99)
		p.PFFloat = rng.Between(r, 0.45, 0.6)
	} else {
		p.PF = rng.Between(r, 0.5, 0.65)
		p.PFFloat = rng.Between(r, 0.3, 0.45)
	}
	return p
}

// GreenW is how far above its floor a smoothly tapering charger reports
// full (the Lectric chargers in the traces turn green at about 10 W).
const GreenW = 6

// Session is what happened in one charge, for ground truth.
type Session struct {
	Start    int64   // plug-in, Unix ms
	CVStart  int64   // constant voltage began (equal to Start for a nearly full pack)
	Full     int64   // the charger finished: cut-off to float, or the taper within GreenW of its floor
	Unplug   int64   // unplugged (or cut by a pile), Unix ms
	SoCStart float64 // state of charge at plug-in
	StartW   float64 // power at plug-in
	PeakW    float64 // power where the taper starts
	EnergyWh float64 // drawn from the wall between Start and Unplug
}

// taper returns the logistic taper as a segment shape starting at tk from
// power pk: P(t) = floor + 2A/(1+exp((t-tc)/τ)).
func (p *Params) taper(tk int64, pk float64) elec.Segment {
	tau := p.TauMin / 60
	// At tk the logistic is at Knee of its full height 2A.
	a := (pk - p.FloorW) / (2 * p.Knee)
	shiftH := -tau * math.Log(1/p.Knee-1) // tc - tk, hours
	return elec.Segment{T0: tk + int64(shiftH*float64(simtime.Hour)), W: p.FloorW, Logi: a, TauH: tau, Tan: elec.TanOf(p.PF)}
}

// taperEnd returns how long after tk the taper reaches w (W).
func (p *Params) taperEnd(pk, w float64) int64 {
	s := p.taper(0, pk)
	a := s.Logi
	x := 2*a/(w-p.FloorW) - 1 // exp((t-tc)/τ) at P = w
	if x <= 0 {
		return 0
	}
	h := float64(s.T0)/float64(simtime.Hour) + s.TauH*math.Log(x)
	return max(0, int64(h*float64(simtime.Hour)))
}

// Charge appends the segments of one charge to dst: plugged in at start
// with the pack at state of charge soc (0-1), unplugged at unplug. key
// seeds the ripple; the segments carry tag.
func (p *Params) Charge(dst []elec.Segment, start, unplug int64, soc float64, key uint64, tag uint8) ([]elec.Segment, Session) {
	ses := Session{Start: start, Unplug: unplug, SoCStart: soc, PeakW: p.PlateauW}
	const hour = float64(simtime.Hour)
	var local [3]elec.Segment
	k := 0
	// Constant current: the power rises linearly to PlateauW at CVSoC. The
	// wall energy needed is (CVSoC-soc)·PackWh/Efficiency.
	slope := p.PlateauW * p.SlopePctH / 100 // W/h
	tk := start
	if soc < p.CVSoC {
		need := (p.CVSoC - soc) * p.PackWh / p.Efficiency
		// The plateau lasts T hours with PlateauW·T - slope·T²/2 = need.
		th := need / p.PlateauW
		if disc := p.PlateauW*p.PlateauW - 2*slope*need; disc > 0 && slope > 0 {
			th = (p.PlateauW - math.Sqrt(disc)) / slope
		}
		tk = start + int64(th*hour)
		ses.StartW = p.PlateauW - slope*th
		local[k] = elec.Segment{T0: start, Start: start, End: tk, W: ses.StartW, Slope: slope, Tan: elec.TanOf(p.PF), Ripple: 0.004, Key: key, Tag: tag}
		k++
	}
	ses.CVStart = tk
	// The taper ends at the cut-off, or when it is within GreenW of its
	// floor (the charger's light turns green).
	doneW := max(p.FloorW+GreenW, p.CutoffW)
	tEnd := p.taperEnd(p.PlateauW, doneW)
	tap := p.taper(tk, p.PlateauW)
	if soc > p.CVSoC {
		// A nearly full pack starts part-way down the taper.
		offset := int64(math.Min(0.95, (soc-p.CVSoC)/(1-p.CVSoC)) * float64(tEnd))
		tap.T0 -= offset
		tEnd -= offset
		ses.StartW = tap.Shape(start)
	}
	tap.Start, tap.End = tk, math.MaxInt64
	tap.Tan = elec.TanOf((p.PF + p.PFFloat) / 2) // the PF falls with the load
	tap.Ripple, tap.Key, tap.Tag = 0.004, key^1, tag
	ses.Full = tk + tEnd
	if p.CutoffW > 0 {
		tap.End = ses.Full
		local[k] = tap
		k++
		local[k] = elec.Segment{T0: ses.Full, Start: ses.Full, End: math.MaxInt64, W: p.FloatW, Tan: elec.TanOf(p.PFFloat), Ripple: 0.02, Key: key ^ 2, Tag: tag}
		k++
	} else {
		local[k] = tap
		k++
	}
	// Everything stops at unplug.
	for _, s := range local[:k] {
		if c, ok := s.Clip(start, unplug); ok {
			ses.EnergyWh += c.Wh(start, unplug)
			dst = append(dst, c)
		}
	}
	return dst, ses
}

// PowerAt returns the power of a charge at t, for tests and tools that
// want one curve without a timeline.
func PowerAt(segs []elec.Segment, t int64) float64 {
	var w float64
	for i := range segs {
		p, _ := segs[i].P(t)
		w += p
	}
	return w
}
