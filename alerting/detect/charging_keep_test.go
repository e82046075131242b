package detect

import (
	"math"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsStayKeep: a down-edge that matches an open step in size does
// not end it when the power after the edge still stands StayKeep of the
// step's level over its reference and the step scores StayScore or more, at
// reading intervals over StayIv; its reference stays, or goes down
// with the edge when less than Hold of its level is left over it (as any
// open step's that the edge was under). It does end it
// when the power is back near the reference, for a score under StayScore, a
// step not settled, a shorter interval, or with StayKeep 0.
func TestPhysicsStayKeep(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name  string
		keep  float64
		score float64
		iv    float32
		after float32 // the power after the 150 W down-edge
		lvl   float32
		kept  bool
		ref   float32 // the step's reference after the edge, when kept
	}{
		{"kept", 0.5, 1e-6, 300, 550, 150, true, 395},
		{"kept, no score asked", 0.5, 0, 300, 550, 150, true, 395},
		{"off", 0, 1e-6, 300, 550, 150, false, 0},
		{"power back at the reference", 0.5, 1e-6, 300, 400, 150, false, 0},
		{"under StayKeep", 0.5, 1e-6, 300, 460, 150, false, 0},
		{"kept, a sixth of it left (StayKeep 0.1)", 0.1, 1e-6, 300, 420, 150, true, 245},
		{"back near the reference (StayKeep 0.1)", 0.1, 1e-6, 300, 405, 150, false, 0},
		{"score under", 0.5, 1 - 1e-9, 300, 550, 150, false, 0},
		{"not settled", 0.5, 1e-6, 300, 550, 0, false, 0},
		{"interval under StayIv", 0.5, 1e-6, 60, 550, 150, false, 0},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep, p.PairScore = 0, 0
		p.StayKeep, p.StayScore, p.StayIv = c.keep, c.score, 90
		// (with the power back at 400 W, the step itself went off)
		s := stayDown(&cfg, &p, ts, c.iv, c.after, c.lvl)
		got := s.c[0].state() == cOpen
		if got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.kept)
		}
		if got && (s.c[0].ref != c.ref || s.c[0].fl&fPair != 0) {
			t.Errorf("%s: ref %g, flags %b; want %g and no fPair", c.name, s.c[0].ref, s.c[0].fl, c.ref)
		}
	}
}

// TestPhysicsStayAfterPair: with the defaults a step that PairScore keeps
// at a down-edge of its size is PairScore's (fPair: the features and
// PairVeto read it), not StayKeep's, which only takes the steps PairKeep
// and PairScore leave (review: StayKeep checked first took them all at
// 5 min, and fPair was never set).
func TestPhysicsStayAfterPair(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name      string
		pairScore float64
		fPair     bool
	}{
		{"PairScore keeps it", 0.3, true},
		{"PairScore off: StayKeep keeps it", 0, false},
	} {
		p := DefaultPhysicsParams()
		p.PairScore = c.pairScore
		p.scoreLimits()
		p.seqLimits()
		s := stayDown(&cfg, &p, ts, 300, 550, 150)
		if z := s.scoreNow(&s.c[0], ts, 700); !(z >= math.Log(0.3/0.7)) {
			t.Fatalf("%s: the step scores %.3f, under PairScore: the test needs a charger-like step", c.name, 1/(1+math.Exp(-z)))
		}
		if s.c[0].state() != cOpen || (s.c[0].fl&fPair != 0) != c.fPair {
			t.Errorf("%s: open %v, fPair %v; want open, fPair %v", c.name, s.c[0].state() == cOpen, s.c[0].fl&fPair != 0, c.fPair)
		}
	}
}

// stayDown makes a core of p at reading interval iv s holding one quiet
// step of level lvl (150 W at its start), an hour old over a reference of
// 395 W, and feeds it at ts a 150 W down-edge that leaves the power at
// after: a 150 W load that came on after the step, unseen, went off.
func stayDown(cfg *ChargingConfig, p *PhysicsParams, ts int64, iv, after, lvl float32) *physCore {
	s := &physCore{p: p, iv: iv, na: 1, base: 100, last: ts, prev: after + 150}
	s.c[0] = cand{t0: ts - 3600*1000, ref: 395, pre: 400, step: 150, lvl: lvl, sf: cOpen, sxx: 100, sxy: 300, n: 60, sd2: 60, rq: 1}
	s.down(cfg, ts, after, -150)
	return s
}
