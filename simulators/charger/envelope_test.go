package charger

import (
	"math"
	"sort"
	"testing"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// sampleCharge draws a charge of p from state of charge soc and samples it
// every 5 minutes like the real traces, from plug-in to two hours after the
// charger finished.
func sampleCharge(p Params, soc float64, key uint64) ([]Sample, Session) {
	start := int64(1_767_225_600_000)
	segs, ses := p.Charge(nil, start, math.MaxInt64, soc, key, 1)
	var out []Sample
	for t := start; t < ses.Full+2*simtime.Hour; t += 5 * simtime.Minute {
		out = append(out, Sample{t, PowerAt(segs, t)})
	}
	return out, ses
}

type band struct{ lo, hi float64 }

func (b band) has(v float64) bool { return v >= b.lo && v <= b.hi }

// envelope returns [min-tol, max+tol] of the real values.
func envelope(vals []float64, tolAbs, tolRel float64) band {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return band{lo - tolAbs - tolRel*math.Abs(lo), hi + tolAbs + tolRel*math.Abs(hi)}
}

// TestLithiumEnvelope checks that the lithium model's curves, fitted the
// same way as the real traces, fall inside the real traces' envelope:
//
//	plateau power   real min..max ± 10%          (48V2A chargers, the real ones)
//	plateau slope   real min..max ± 1 W/h
//	taper tau       real min..max ± 5 min
//	taper knee      real min..max ± 0.1
//	cut-off power   real min..max ± 5 W          (chargers that cut to float)
//	float power     2-15 W                       (domain.md; real 4.7-5.4 and 15.5 W)
//	fit RMSE        <= worst real RMSE + 1 W     (as smooth as real chargers)
//
// and that the normalised taper (power / taper-start power, aligned at the
// taper start) stays within the real curves' band ± 0.1 for 100 minutes.
func TestLithiumEnvelope(t *testing.T) {
	fits, traces := realFits(t)
	var plateau, slopes, taus, knees, cutoffs, rmses []float64
	for _, f := range fits {
		plateau = append(plateau, f.PlateauW)
		slopes = append(slopes, f.SlopeWPerH)
		taus = append(taus, f.TauMin)
		if f.Knee > 0.5 { // rad_battery_2 starts past its knee
			knees = append(knees, f.Knee)
		}
		if f.CutoffW > 0 {
			cutoffs = append(cutoffs, f.CutoffW)
		}
		rmses = append(rmses, f.RMSE)
	}
	want := map[string]band{
		"plateau": envelope(plateau, 0, 0.10),
		"slope":   envelope(slopes, 1, 0),
		"tau":     envelope(taus, 5, 0),
		"knee":    envelope(knees, 0.1, 0),
		"cutoff":  envelope(cutoffs, 5, 0),
		"float":   {1.9, 15.5},
		"rmse":    {0, envelope(rmses, 1, 0).hi},
	}
	t.Logf("envelope: %+v", want)
	shape := realShapeBand(t, fits, traces)

	r := rng.New(7, rng.Key("envelope"))
	n := 0
	for n < 24 {
		p := Draw(Lithium, r)
		if p.Class != "48V2A" {
			continue
		}
		n++
		soc := rng.Between(r, 0.1, 0.6)
		s, ses := sampleCharge(p, soc, uint64(n))
		f, err := FitSession(s)
		if err != nil {
			t.Fatalf("model charge %d: %v", n, err)
		}
		check := func(name string, v float64) {
			if !want[name].has(v) {
				t.Errorf("charge %d (%+v, soc %.2f): %s %.2f outside the real envelope %.2f..%.2f", n, p, soc, name, v, want[name].lo, want[name].hi)
			}
		}
		check("plateau", f.PlateauW)
		check("slope", f.SlopeWPerH)
		check("tau", f.TauMin)
		check("knee", f.Knee)
		check("rmse", f.RMSE)
		if p.CutoffW > 0 {
			check("cutoff", f.CutoffW)
			check("float", f.FloatW)
		} else {
			check("float", PowerAt(mustCharge(p, soc), ses.Full+2*simtime.Hour))
		}
		// The normalised taper against the real band.
		segs := mustCharge(p, soc)
		var out int
		for m := 0; m <= 100; m += 5 {
			if ses.CVStart+int64(m)*simtime.Minute >= ses.Full && p.CutoffW > 0 {
				break // after the cut-off; compared as the cut-off power above
			}
			v := PowerAt(segs, ses.CVStart+int64(m)*simtime.Minute) / p.PlateauW
			b := shape[m/5]
			if v < b.lo-0.1 || v > b.hi+0.1 {
				out++
				t.Logf("charge %d: normalised taper at +%d min %.3f outside %.3f..%.3f", n, m, v, b.lo, b.hi)
			}
		}
		if out > 1 {
			t.Errorf("charge %d: %d of 21 taper points outside the real band ± 0.1", n, out)
		}
	}
}

func mustCharge(p Params, soc float64) []elec.Segment {
	segs, _ := p.Charge(nil, 1_767_225_600_000, math.MaxInt64, soc, 1, 1)
	return segs
}

// realShapeBand returns, every 5 minutes for 100 minutes after the taper
// start, the band of the real curves' power divided by their taper-start
// power (linear interpolation between samples). Only the traces whose
// taper start was observed count.
func realShapeBand(t *testing.T, fits map[string]Fit, traces map[string][]Sample) []band {
	var plugs []string
	for p, f := range fits {
		if !math.IsNaN(f.PlateauW) {
			plugs = append(plugs, p)
		}
	}
	sort.Strings(plugs)
	out := make([]band, 21)
	for i := range out {
		out[i] = band{math.Inf(1), math.Inf(-1)}
	}
	for _, p := range plugs {
		s, f := traces[p], fits[p]
		var t0 int64
		for _, x := range s {
			if x.W >= 0.97*f.TaperW && x.W <= f.TaperW {
				t0 = x.T
			}
		}
		for i := range out {
			at := t0 + int64(i)*5*simtime.Minute
			for j := 1; j < len(s); j++ {
				if s[j].T >= at && s[j-1].T <= at {
					fr := float64(at-s[j-1].T) / float64(s[j].T-s[j-1].T)
					v := (s[j-1].W + fr*(s[j].W-s[j-1].W)) / f.TaperW
					out[i] = band{min(out[i].lo, v), max(out[i].hi, v)}
					break
				}
			}
		}
	}
	for i, b := range out {
		if math.IsInf(b.lo, 0) {
			t.Fatalf("no real sample %d min after the taper start", i*5)
		}
	}
	return out
}

// TestFamilies checks the power ranges and durations of every family.
func TestFamilies(t *testing.T) {
	for _, tc := range []struct {
		typ            Type
		plateau        band // W
		ccH            band // hours of constant current from 10%
		fullFromEmptyH band // hours from 10% to the charger finishing
		float          band // W, power two hours after finishing
	}{
		{Lithium, band{70, 190}, band{2, 7.5}, band{3, 10}, band{1.9, 15.5}},
		{LeadAcid, band{100, 200}, band{2, 7.5}, band{4.5, 10.5}, band{4.5, 15.5}},
		{HighPower, band{150, 300}, band{1.5, 6}, band{2.5, 9}, band{1.9, 10.5}},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			r := rng.New(11, uint64(tc.typ))
			for i := 0; i < 200; i++ {
				p := Draw(tc.typ, r)
				if !tc.plateau.has(p.PlateauW) {
					t.Errorf("%s: plateau %.0f W outside %v", p.Class, p.PlateauW, tc.plateau)
				}
				segs, ses := p.Charge(nil, 0, math.MaxInt64, 0.1, 1, 1)
				if h := float64(ses.CVStart-ses.Start) / float64(simtime.Hour); !tc.ccH.has(h) {
					t.Errorf("%s: constant current from 10%% lasts %.1f h, want %v", p.Class, h, tc.ccH)
				}
				if h := float64(ses.Full-ses.Start) / float64(simtime.Hour); !tc.fullFromEmptyH.has(h) {
					t.Errorf("%s: a charge from 10%% takes %.1f h, want %v", p.Class, h, tc.fullFromEmptyH)
				}
				if w := PowerAt(segs, ses.Full+2*simtime.Hour); !tc.float.has(w) {
					t.Errorf("%s: float %.1f W, want %v", p.Class, w, tc.float)
				}
				// Pack energy: the wall energy to full is at least what the
				// pack takes from 10% to its CV point.
				if min := (p.CVSoC - 0.1) * p.PackWh; ses.EnergyWh < min && ses.Unplug != math.MaxInt64 {
					t.Errorf("%s: %.0f Wh drawn, less than the pack's %.0f Wh", p.Class, ses.EnergyWh, min)
				}
			}
		})
	}
}

func TestUnplugAndTopUp(t *testing.T) {
	p := Draw(Lithium, rng.New(3))
	start := int64(0)
	segs, ses := p.Charge(nil, start, start+2*simtime.Hour, 0.2, 1, 1)
	if w := PowerAt(segs, start+2*simtime.Hour); w != 0 {
		t.Fatalf("power after unplug = %v", w)
	}
	if ses.EnergyWh <= 0 || ses.EnergyWh > p.PlateauW*2 {
		t.Fatalf("energy of a 2 h charge %.0f Wh", ses.EnergyWh)
	}
	// A pack above the CV point starts in the taper, below plateau power.
	_, top := p.Charge(nil, start, math.MaxInt64, 0.95, 1, 1)
	if top.StartW >= p.PlateauW || top.Full-top.Start > 2*simtime.Hour {
		t.Fatalf("top-up: starts at %.0f W (plateau %.0f), full after %v", top.StartW, p.PlateauW, top.Full-top.Start)
	}
}
