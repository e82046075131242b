package detect

import (
	"slices"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// endCore is a core following one confirmed charge of lvl W over a 30 W
// floor and reference, started an hour before, its last reading prev W
// over the reference, read every iv s.
func endCore(p *PhysicsParams, lvl, prev, iv float32) *physCore {
	ts := int64(10*3600) * 1000
	s := &physCore{p: p, iv: iv, chg: 1, na: 2, last: ts, prev: 30 + prev, base: 30, seg0: ts - 3600000}
	s.c[0] = cand{t0: ts - 3600000, ref: 30, pre: 32, lvl: lvl, step: lvl, sf: cCharge}
	return s
}

// TestPhysicsFellEdge: a down-edge that takes a confirmed 250 W charge
// from over 0.85 of its level to under half ends it ("fell") whatever its
// size; with FellEdge 0.6 only if the edge is 0.6 of the level or more: a
// 125 W fridge going off while the charge tapers at 100 W no longer ends
// it, a masked unplug (150 W, another load on in the same minute) and an
// unplug in the taper (175 W) still do. Over 90 s FellEdgeLong applies.
// The var core's fall is judged the same way, in var.
func TestPhysicsFellEdge(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range []struct {
		name       string
		fe, feLong float64
		iv         float32
		prev, d    float32 // the power over the reference before the edge, the edge
		step       float32 // the step at the charge's start when not its level (0: the level)
		ended      bool
	}{
		{"off: a fridge's edge in the taper ends it", 0, 0, 60, 225, -125, 0, true},
		{"0.6: a fridge's edge in the taper does not", 0.6, 0, 60, 225, -125, 0, false},
		{"0.6: a masked unplug still ends it", 0.6, 0, 60, 260, -150, 0, true},
		{"0.6: an unplug in the taper still ends it", 0.6, 0, 60, 225, -175, 0, true},
		{"0.6 at 1 min only: at 5 min the fridge's edge ends it", 0.6, 0, 300, 225, -125, 0, true},
		{"FellEdgeLong 0.6 at 5 min: it does not", 0, 0.6, 300, 225, -125, 0, false},
		// FellEdgeLong only over 90 s
		{"0.6 at 90 s: the fridge's edge does not", 0.6, 0, 90, 225, -125, 0, false},
		{"0.6 at 91 s: FellEdgeLong 0, it ends it", 0.6, 0, 91, 225, -125, 0, true},
		// a share of the settled level, not of the start-up step (a
		// 320 W peak: 0.6 of it is 192 W)
		{"0.6 of the level: a masked unplug of a charge that peaked at 320 W", 0.6, 0, 60, 260, -150, 320, true},
	} {
		for _, nv := range []bool{false, true} {
			// the var core the same, in var (its float level 50 var)
			p := DefaultPhysicsParams()
			p.FellEdge, p.FellEdgeLong = c.fe, c.feLong
			s := endCore(&p, 250, c.prev, c.iv)
			ncfg := cfg
			if s.nv = nv; nv {
				ncfg.EndBelowW *= p.VarEnd
			}
			if c.step > 0 {
				s.c[0].step = c.step
			}
			ts := s.last + int64(c.iv)*1000
			ch := s.observe(&ncfg, ts, float64(30+c.prev+c.d), true)
			if ended := ch == ChargeEnded; ended != c.ended {
				t.Errorf("%s (var %v): ended %v, want %v", c.name, nv, ended, c.ended)
			}
		}
	}
}

// TestPhysicsFellEdgeTaper runs the case FellEdge is for through the whole
// detector: a 250 W charge (level 236 W at 1 min) tapers from 5h while a
// 125 W television that came on at 3h still runs; it goes off at 5h45m,
// with the charger at about 94 W, taking the power over the charge's
// reference from 219 W (0.93 of the level) to 94 W (0.40). FellEdge 0 ends
// the alert there ("fell"); with FellEdge 0.6 (a 125 W edge is 0.53 of the
// level) it ends when the taper has stayed under 0.2 of the level
// (EndLevel) for 10 min. The same with the var core following the charge
// too (every load at 1.4 var per watt: the session ends with both cores'
// charges) and at 10-s readings. It fires at 15 minutes at 1 min (the
// early score, ScoreEarlyGate 0 since round 21a) and at 20 at 10 s.
func TestPhysicsFellEdgeTaper(t *testing.T) {
	w := sumW(base(40), box(3*hr, 5*hr+45*60, 125, 0.12), charge(2*hr, 3, 30, 7, 250))
	for _, c := range []struct {
		name        string
		fe          float64
		step, ratio float64
		fire, clear string
	}{
		{"FellEdge 0: the television's edge ends it", 0, 60, 0, "2h15m0s", "5h45m0s"},
		{"FellEdge 0.6: EndLevel ends it", 0.6, 60, 0, "2h15m0s", "6h18m0s"},
		{"FellEdge 0, var: the television's edge ends it", 0, 60, 1.4, "2h15m0s", "5h45m0s"},
		{"FellEdge 0.6, var: EndLevel ends it", 0.6, 60, 1.4, "2h15m0s", "6h18m0s"},
		{"FellEdge 0, 10 s: the television's edge ends it", 0, 10, 0, "2h20m0s", "5h45m0s"},
		{"FellEdge 0.6, 10 s: EndLevel ends it", 0.6, 10, 0, "2h20m0s", "6h17m50s"},
	} {
		p := DefaultPhysicsParams()
		p.FellEdge = c.fe
		got := physRunPF(t, p, c.step, 10*hr, c.ratio, w)
		want := []string{c.fire + " fire since 2h0m0s", c.clear + " clear since 2h0m0s"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: signals\n got %q\nwant %q", c.name, got, want)
		}
	}
}

// TestPhysicsFellEdgeDefault pins FellEdge 0.6 at intervals up to 90 s and
// off over them (round 20a, wide pool: at 1 min with EndLevel 0.2 alerts
// outlived / ended while charging 405/1,006 -> 410/923; at 5 min
// FellEdgeLong 0.6 took outlived 243 -> 275).
func TestPhysicsFellEdgeDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.FellEdge != 0.6 || p.FellEdgeLong != 0 {
		t.Errorf("FellEdge %g, FellEdgeLong %g, want 0.6 and 0 (off)", p.FellEdge, p.FellEdgeLong)
	}
}
