package detect

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsTaperHomePFDefaults pins round 36's defaults: TaperHomePF
// 0.5 (passed the wide pool and cities 609-640), its floor on the interval 150 s
// (5 min; the interval is an average of the gaps, so the floor sits off
// the nominal 300 s).
func TestPhysicsTaperHomePFDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.TaperHomePF != 0.5 || p.TaperHomePFMinIv != 150 {
		t.Fatalf("TaperHomePF %v, TaperHomePFMinIv %v; want 0.5, 150", p.TaperHomePF, p.TaperHomePFMinIv)
	}
}

// TestPhysicsTaperHomePF: in the active core, at intervals over
// TaperHomePFMinIv, with the non-active power known, a home drawing under
// TaperHomePF var per watt refuses the taper paths; never in the
// non-active core, without the non-active power, at 1 min, or off.
func TestPhysicsTaperHomePF(t *testing.T) {
	for _, c := range []struct {
		name  string
		lim   float64
		nv    bool
		nxOK  bool
		iv    float32
		nx    float32 // var with 200 W on
		heat  float32 // a resistive load's watts on besides (0 var)
		wantR bool
	}{
		{"5 min, 0.4 var per watt", 0.5, false, true, 300, 80, 0, true},
		{"5 min, 0.5 var per watt", 0.5, false, true, 300, 100, 0, false},
		{"5 min, 1.2 var per watt", 0.5, false, true, 300, 240, 0, false},
		{"5 min, no var in the readings", 0.5, false, false, 300, 0, 0, false},
		{"5 min, the non-active core", 0.5, true, true, 300, 80, 0, false},
		{"5 min, off", 0, false, true, 300, 80, 0, false},
		{"1 min", 0.5, false, true, 60, 80, 0, false},
		{"at the floor", 0.5, false, true, 150, 80, 0, false},
		{"a 5-min meter whose gaps jitter", 0.5, false, true, 290, 80, 0, true},
		// the whole home's var per watt (240 over 1,200 W), not the step's
		{"1.2 var per watt on, a kilowatt heater besides", 0.5, false, true, 300, 240, 1000, true},
	} {
		p := DefaultPhysicsParams()
		p.TaperHomePF = c.lim
		s := physCore{p: &p, iv: c.iv, prev: 200 + c.heat, base: c.heat, nx: c.nx, nxOK: c.nxOK, nv: c.nv}
		if got := s.taperHomePF(); got != c.wantR {
			t.Errorf("%s: refused %v, want %v", c.name, got, c.wantR)
		}
	}
}

// TestPhysicsTaperHomePFFire: fire refuses a taper path (both) when the
// home reads resistive, no other path; a refused step stays open.
func TestPhysicsTaperHomePFFire(t *testing.T) {
	for _, c := range []struct {
		name string
		path uint8
		nx   float32
		want ChargeChange
	}{
		{"taper, declined, resistive home", pathTaperFall, 80, ChargeNone},
		{"taper, resistive home", pathTaper, 80, ChargeNone},
		{"taper, declined, a charger's home", pathTaperFall, 240, ChargeStarted},
		{"score, resistive home", pathScore, 80, ChargeStarted},
		// the other paths are not the rule's either
		{"fast, resistive home", pathFast, 80, ChargeStarted},
		{"fast, known charger, resistive home", pathKnown, 80, ChargeStarted},
		{"outlasted a cycler, resistive home", pathCycler, 80, ChargeStarted},
		{"rise, resistive home", pathRise, 80, ChargeStarted},
		{"quiet later, resistive home", pathQuiet, 80, ChargeStarted},
		{"known charger, resistive home", pathKnownHeld, 80, ChargeStarted},
		{"held in band, resistive home", pathBand, 80, ChargeStarted},
	} {
		p := DefaultPhysicsParams()
		p.TaperHomePF = 0.5
		// the score's veto judges the fast, rise and known paths at 5 min
		// (and this bare step has no score): the rule alone is tested
		p.ScoreVetoMin = 0
		s := physCore{p: &p, iv: 300, prev: 200, nx: c.nx, nxOK: true}
		s.c[0] = cand{t0: 1, ref: 40, lvl: 150, step: 150, sf: cOpen}
		if got := s.fire(2*hr*1000, 0, c.path); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if want := map[ChargeChange]uint8{ChargeNone: cOpen, ChargeStarted: cCharge}[c.want]; s.c[0].state() != want {
			t.Errorf("%s: state %d, want %d", c.name, s.c[0].state(), want)
		}
	}
}

// TestPhysicsTaperHomePFRun: through the readings (the power factor of the
// whole home read into the active core's non-active power), a charger with
// correction (0.25 var per watt) whose plateau cannot be confirmed is
// confirmed at 5 min in its followed taper (Taper5N) unless the rule is on
// and the rest of the home is resistive; the rule then drops the followed
// step (taper5Step drops a step any veto refuses: it does not confirm
// later). Not with reactive loads on (3 var per watt), without the power
// factor, nor at 1 min (the taper that declined confirms it there).
func TestPhysicsTaperHomePFRun(t *testing.T) {
	for _, c := range []struct {
		name string
		lim  float64
		qb   float64 // var per watt of the base load; -1: no power factor
		step float64
		fire bool
	}{
		{"5 min, resistive home, off", 0, 0, 300, true},
		{"5 min, resistive home", 0.5, 0, 300, false},
		{"5 min, reactive loads on", 0.5, 3, 300, true},
		{"5 min, no power factor", 0.5, -1, 300, true},
		{"1 min, resistive home", 0.5, 0, 60, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPhysicsParams()
			// nothing on the plateau: no fast confirmation, no memory, no
			// score (TestPhysicsTaper5); at 1 min the declined taper
			// (TestPhysicsTaperDeclined)
			p.FastNoise, p.FastNoiseW, p.KnownHold, p.ScoreMin, p.ScoreDropMin = 1e-9, 0, 0, 0, 0
			p.TaperFallT = 0
			if c.step < 150 {
				p.TaperFallT = 10
			}
			p.Taper5N, p.TaperHomePF = 3, c.lim
			q := func(s float64) float64 { return c.qb*base(40)(s) + 0.25*flatCharge(s) }
			if c.qb < 0 {
				q = nil
			}
			var evs []string
			p.Trace = func(tr *ChargingTrace) {
				if !tr.Var && (tr.Event == "fire" || tr.Event == "drop") {
					evs = append(evs, tr.Event+" "+tr.Reason)
				}
			}
			sigs := physRunVar(t, p, c.step, 8*hr, sumW(base(40), flatCharge), q)
			fired := slices.Contains(evs, "fire taper, declined")
			if fired != c.fire || fired != (len(sigs) > 0 && strings.Contains(sigs[0], "fire since 1h0m0s")) {
				t.Fatalf("fired as a declined taper %v, want %v (%q, %q)", fired, c.fire, sigs, evs)
			}
			if !c.fire && !slices.Contains(evs, "drop taper5: vetoed") {
				t.Errorf("events %q, want the followed step dropped", evs)
			}
		})
	}
}

// physRunVar is physRun with a power factor in every reading from the
// non-active power q (nil: power alone).
func physRunVar(t *testing.T, p PhysicsParams, step, end float64, w, q func(float64) float64) []string {
	t.Helper()
	var d Device
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	m := NewPhysicsModel(p)
	var out []string
	var sigs []Signal
	for s := 0.0; s < end; s += step {
		var r devices.Reading
		r.TS = t0 + int64(s*1000)
		pw := math.Round(w(s)*10) / 10
		r.Put(devices.FieldPower, pw)
		if q != nil {
			r.Put(devices.FieldPF, math.Round(pw/math.Hypot(pw, q(s))*1000)/1000)
		}
		sigs, _ = d.Observe(&cfg, &inf, m, &r, sigs[:0])
		for _, g := range sigs {
			if g.Rule == "indoor_charging" {
				out = append(out, fmtSig(g))
			}
		}
	}
	return out
}
