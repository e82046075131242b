// Package elec is the simulators' electrical arithmetic: the draw of one
// appliance over time as analytic segments, a unit's timeline of segments
// with its running energy, and the meter quantities (current, power factor)
// of summed loads.
//
// A segment's active power is
//
//	P(t) = W + Slope·h + Exp·exp(-h/TauH) + 2·Logi/(1+exp(h/TauH)),  h = hours since T0
//
// which covers constant loads, the slowly rising constant-current plateau
// of a charger, decays (a compressor's start, an inverter settling) and the
// knee-then-exponential constant-voltage taper of a charger (the logistic
// term: its local time constant goes from 2·TauH at the knee to TauH in the
// tail, as the real traces do). Energy is the
// exact integral, so a meter's energy_kwh is the same whether it is read
// every minute or every five, and readings are a pure function of time.
package elec

import (
	"math"

	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Segment is a piece of one appliance's draw, active on [Start, End).
type Segment struct {
	T0         int64   // reference time of the shape, Unix ms
	Start, End int64   // when the segment draws power, Unix ms
	W          float64 // constant part, W
	Slope      float64 // linear part, W per hour after T0
	Exp        float64 // exponential part at T0, W
	Logi       float64 // logistic part: half its value at T0, W
	TauH       float64 // time constant of the exponential or logistic part, hours
	Tan        float64 // non-active power per watt of active power, see TanOf
	Ripple     float64 // relative zero-mean fluctuation, e.g. 0.1 for ±10%
	Key        uint64  // noise key of the ripple
	Tag        uint8   // what appliance this is (household.Appliance), for tests and debugging
}

// TanOf returns the non-active power per watt for power factor pf:
// tan(acos(pf)). Harmonic distortion of switch-mode supplies is folded in:
// the meter's PF is P/S, whatever makes S larger than P.
func TanOf(pf float64) float64 {
	if pf >= 1 {
		return 0
	}
	if pf <= 0.05 {
		pf = 0.05
	}
	return math.Sqrt(1-pf*pf) / pf
}

// Shape returns the noiseless active power at t, ignoring [Start, End).
func (s *Segment) Shape(t int64) float64 {
	h := float64(t-s.T0) / float64(simtime.Hour)
	p := s.W + s.Slope*h
	if s.Exp != 0 {
		p += s.Exp * math.Exp(-h/s.TauH)
	}
	if s.Logi != 0 {
		p += 2 * s.Logi / (1 + math.Exp(h/s.TauH))
	}
	return p
}

// softplus is ln(1+e^y), computed without overflow.
func softplus(y float64) float64 {
	return max(y, 0) + math.Log1p(math.Exp(-math.Abs(y)))
}

// Active reports whether the segment draws power at t.
func (s *Segment) Active(t int64) bool { return t >= s.Start && t < s.End }

// P returns the active and non-active power at t (zero outside the
// segment). The ripple changes every 10 s, so every sampling grid sees the
// same values.
func (s *Segment) P(t int64) (p, n float64) {
	if t < s.Start || t >= s.End {
		return 0, 0
	}
	p = s.Shape(t)
	if s.Ripple != 0 {
		p *= 1 + s.Ripple*rng.Signed(rng.Hash(s.Key, uint64(t/10000)))
	}
	if p < 0 {
		p = 0
	}
	return p, p * s.Tan
}

// Wh returns the energy the segment draws in [a, b), without ripple (which
// averages out).
func (s *Segment) Wh(a, b int64) float64 {
	if a < s.Start {
		a = s.Start
	}
	if b > s.End {
		b = s.End
	}
	if b <= a {
		return 0
	}
	const hour = float64(simtime.Hour)
	h1 := float64(a-s.T0) / hour
	h2 := float64(b-s.T0) / hour
	e := s.W*(h2-h1) + s.Slope/2*(h2*h2-h1*h1)
	if s.Exp != 0 {
		e += s.Exp * s.TauH * (math.Exp(-h1/s.TauH) - math.Exp(-h2/s.TauH))
	}
	if s.Logi != 0 {
		// d/dh [-τ·ln(1+e^(-h/τ))] = 1/(1+e^(h/τ))
		e += 2 * s.Logi * s.TauH * (softplus(-h1/s.TauH) - softplus(-h2/s.TauH))
	}
	return e
}

// Clip returns s restricted to [a, b) and whether anything is left.
func (s Segment) Clip(a, b int64) (Segment, bool) {
	if a > s.Start {
		s.Start = a
	}
	if b < s.End {
		s.End = b
	}
	return s, s.End > s.Start
}

// Meter returns the RMS current (A) and power factor of a load drawing
// active power p (W) and non-active power n (var) at voltage v (V).
func Meter(p, n, v float64) (i, pf float64) {
	s := math.Hypot(p, n)
	if s <= 0 || v <= 0 {
		return 0, 1
	}
	return s / v, p / s
}

// Interval is a span of time [Start, End) in Unix ms.
type Interval struct{ Start, End int64 }

// Contains reports whether t is inside the interval.
func (iv Interval) Contains(t int64) bool { return t >= iv.Start && t < iv.End }

// Subtract removes the cut intervals from seg and appends the pieces that
// remain to dst.
func Subtract(dst []Segment, seg Segment, cuts []Interval) []Segment {
	rest := []Segment{seg}
	for _, c := range cuts {
		if c.End <= seg.Start || c.Start >= seg.End {
			continue
		}
		var next []Segment
		for _, r := range rest {
			if left, ok := r.Clip(r.Start, c.Start); ok {
				next = append(next, left)
			}
			if right, ok := r.Clip(c.End, r.End); ok {
				next = append(next, right)
			}
		}
		rest = next
	}
	return append(dst, rest...)
}
