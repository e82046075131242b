package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestSagDefault pins SagDrop's default (on since round 42a, at 1 min)
// and its bounds.
func TestSagDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.SagDrop != 0.01 || p.SagMinIv != 45 || p.SagMaxIv != 90 {
		t.Errorf("SagDrop %v, SagMinIv %v, SagMaxIv %v; want 0.01, 45, 90", p.SagDrop, p.SagMinIv, p.SagMaxIv)
	}
}

// sagStepJudged judges a clean, quiet step of 150 W (over 100 W) that
// held held minutes at interval iv, of a size the memory m holds, whose
// stretch since it (sn readings after RiseSkip) averages a level fallen
// by sag of it since it settled; edge: an edge came since the step.
func sagStepJudged(p *PhysicsParams, iv float32, held int64, sn int, sag float64, edge bool, m sig) *physCore {
	cfg := Defaults(devices.KindMeter).Charging
	const mn = 60 * 1000
	ts := int64(10 * 3600 * 1000)
	p.ScoreMin, p.ScoreEarlyMin = 0, 0
	s := &physCore{p: p, iv: iv, na: 1, base: 100, last: ts - int64(iv)*1000, prev: 250, seg0: ts - held*mn}
	if edge {
		s.seg0 = ts - 2*mn
	}
	s.sn = float64(sn)
	s.sp = float64(sn) * (100 + 150*(1-sag))
	for k := range s.blk {
		s.blk[k] = 250
	}
	m.last = int32(ts/60000) - 600
	s.mem[0] = m
	n := uint16(held * 60 / int64(iv))
	s.c[0] = cand{t0: ts - held*mn, ref: 98, pre: 100, step: 150, lvl: 150, sf: cOpen, fl: fClean,
		n: n, sd2: float32(n) * 0.5, rq: 0.5}
	s.judge(&cfg, ts, 0)
	return s
}

// TestSagVeto: a step of a size the memory knows as the unit's charger
// is confirmed by the fast known-charger path at 10 minutes when its
// level held or rose since it settled; with SagDrop not when it fell
// SagDrop or more (a compressor's sag), unless an edge came since the
// step or the stretch has fewer than two readings (it cannot be told),
// or the interval is outside SagMinIv-SagMaxIv.
func TestSagVeto(t *testing.T) {
	charger := sig{w: 150, maxRun: 200, charger: 3, other: 1}
	for _, c := range []struct {
		name    string
		drop    float64
		iv      float32
		sn      int
		sag     float64
		edge    bool
		want    bool
		wantSag float64 // < -0.5: cannot be told
	}{
		{"off, sagged", 0, 60, 2, 0.02, false, true, 0.02},
		{"held", 0.01, 60, 2, 0, false, true, 0},
		{"rose", 0.01, 60, 2, -0.01, false, true, -0.01},
		{"fell 0.8%", 0.01, 60, 2, 0.008, false, true, 0.008},
		{"fell 1.2%", 0.01, 60, 2, 0.012, false, false, 0.012},
		{"fell 1.2%, SagDrop 2%", 0.02, 60, 2, 0.012, false, true, 0.012},
		{"fell 1.2%, an edge since", 0.01, 60, 2, 0.012, true, true, -1},
		{"fell 1.2%, one reading", 0.01, 60, 1, 0.012, false, true, -1},
		{"fell 1.2%, 30-s readings", 0.01, 30, 2, 0.012, false, true, 0.012},
		{"fell 1.2%, 2-min readings", 0.01, 120, 2, 0.012, false, false, 0.012},
	} {
		p := DefaultPhysicsParams()
		p.SagDrop = c.drop
		if c.iv == 120 {
			p.SagMaxIv = 150 // judged at 2 min, which the fast path does not read at 1 min's gates
			p.SagMinIv = 100
		}
		s := sagStepJudged(&p, c.iv, 10, c.sn, c.sag, c.edge, charger)
		if d, ok := s.sag(&s.c[0]); c.wantSag >= -0.5 && (!ok || d < c.wantSag-1e-4 || d > c.wantSag+1e-4) || c.wantSag < -0.5 && ok {
			t.Errorf("%s: sag %.4f (%v), want %.4f", c.name, d, ok, c.wantSag)
		}
		got := s.c[0].state() == cCharge && s.sPath == pathKnown
		if c.iv == 120 {
			// at 2 min only the rule's gate is asked
			got = !s.sagged(&s.c[0])
		}
		if got != c.want {
			t.Errorf("%s: confirmed by the known charger %v (state %d, path %d), want %v", c.name, got, s.c[0].state(), s.sPath, c.want)
		}
	}
}
