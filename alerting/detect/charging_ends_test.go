package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// endCore is a core following one confirmed charge of lvl W over a 30 W
// floor and reference, started an hour before, its last reading prev W
// over the reference, read every iv s.
func endCore(p *PhysicsParams, lvl, prev, iv float32) *physCore {
	ts := int64(10*3600) * 1000
	s := &physCore{p: p, iv: iv, chg: 1, na: 2, last: ts, prev: 30 + prev, base: 30, seg0: ts - 3600000}
	s.c[0] = cand{t0: ts - 3600000, ref: 30, pre: 32, lvl: lvl, step: lvl, st: cCharge}
	return s
}

// TestPhysicsFellEdge: a down-edge that takes a confirmed 250 W charge
// from over 0.85 of its level to under half ends it ("fell") whatever its
// size; with FellEdge 0.6 only if the edge is 0.6 of the level or more: a
// 125 W fridge going off while the charge tapers at 100 W no longer ends
// it, a masked unplug (150 W, another load on in the same minute) and an
// unplug in the taper (175 W) still do. Over 90 s FellEdgeLong applies.
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
		p := DefaultPhysicsParams()
		p.FellEdge, p.FellEdgeLong = c.fe, c.feLong
		s := endCore(&p, 250, c.prev, c.iv)
		if c.step > 0 {
			s.c[0].step = c.step
		}
		ts := s.last + int64(c.iv)*1000
		ch := s.observe(&cfg, ts, float64(30+c.prev+c.d), true)
		if ended := ch == ChargeEnded; ended != c.ended {
			t.Errorf("%s: ended %v, want %v", c.name, ended, c.ended)
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
