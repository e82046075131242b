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

// TestSagVetoProof: MemProof's reading of a slot's proof count (a slot the
// memory outweighs as another load) is under the same veto since round
// 42b: a proved slot's step held 15 minutes is confirmed by the known
// path when its level held, not when it fell 1.2% since it settled, and
// again with SagDrop off.
func TestSagVetoProof(t *testing.T) {
	proved := sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 5, proof: 1}
	for _, c := range []struct {
		name string
		drop float64
		sag  float64
		want bool
	}{
		{"proof, held", 0.01, 0, true},
		{"proof, fell 1.2%", 0.01, 0.012, false},
		{"proof, fell 1.2%, SagDrop off", 0, 0.012, true},
	} {
		p := DefaultPhysicsParams()
		p.SagDrop = c.drop
		s := sagStepJudged(&p, 60, 15, 7, c.sag, false, proved)
		if got := s.c[0].state() == cCharge && s.sPath == pathKnown; got != c.want {
			t.Errorf("%s: confirmed by the known charger %v (state %d, path %d), want %v", c.name, got, s.c[0].state(), s.sPath, c.want)
		}
	}
}

// sagRun feeds readings every step s for three hours to a physics model
// with SagDrop drop whose memories know the step's size as the unit's
// charger (the active core's 150 W when pm, the non-active core's 225 var
// when qm): 100 W (and 50 var) of other loads, and from the first hour a
// step of 150 W (and 225 var, with the var readings) falling by slopeP
// (slopeQ) of it a minute, 0.1% ripple. It returns the path that started
// the session, the minutes after the step it started and the core.
func sagRun(drop, step, slopeP, slopeQ float64, withVar, pm, qm bool) (string, float64, uint8) {
	p := DefaultPhysicsParams()
	p.SagDrop = drop
	ch := NewPhysicsModel(p).New().(*physCharging)
	last := int32(t0/60000) - 600
	if pm {
		ch.pc.mem[0] = sig{w: 150, maxRun: 200, charger: 3, other: 1, last: last}
	}
	if qm {
		ch.nc.mem[0] = sig{w: 225, maxRun: 200, charger: 3, other: 1, last: last}
	}
	cfg := Defaults(devices.KindMeter).Charging
	for s := 0.0; s < 3*hr; s += step {
		w, q := 100.0, 50.0
		if s >= hr {
			m := (s - hr) / 60
			w += 150 * (1 - slopeP*m) * (1 + 0.001*ripple(s, 7))
			q += 225 * (1 - slopeQ*m) * (1 + 0.001*ripple(s, 8))
		}
		r := ChargeReading{PowerW: w, NonActive: q, HasNA: withVar}
		if ch.Observe(&cfg, t0+int64(s*1000), r) == ChargeStarted {
			return ch.Session().Path, (s - hr) / 60, ch.from
		}
	}
	return "", 0, 0
}

// TestSagObserve runs the rule on readings (the stretch's sums as the
// detector accumulates them, not set by hand): at 1 min a known charger's
// step that held flat or rose is confirmed by the fast known-charger path
// at 10 minutes; one falling 0.3% a minute (1.4% from its level at Settle
// to the mean of the readings at 9-10 minutes) is not with SagDrop, and
// is without it; at 10 s and 5 min SagDrop changes nothing. Each core
// measures its own quantity: the non-active core's known path is vetoed by
// its own sag, and a step whose watts sag but whose var does not is
// confirmed by the non-active core's known path.
func TestSagObserve(t *testing.T) {
	const known = "fast, known charger"
	for _, c := range []struct {
		name           string
		drop, step     float64
		slopeP, slopeQ float64
		withVar        bool
		pm, qm         bool
		want           string // the path at 10 minutes; "-": not a known-charger path then
		core           uint8
	}{
		{"1 min, flat", 0.01, 60, 0, 0, false, true, false, known, 0},
		{"1 min, rising", 0.01, 60, -0.001, 0, false, true, false, known, 0},
		{"1 min, falling 0.2%/min", 0.01, 60, 0.002, 0, false, true, false, known, 0},
		{"1 min, falling 0.3%/min", 0.01, 60, 0.003, 0, false, true, false, "-", 0},
		{"1 min, falling 0.3%/min, off", 0, 60, 0.003, 0, false, true, false, known, 0},
		{"1 min, var sags, var known", 0.01, 60, 0, 0.003, true, false, true, "-", 0},
		{"1 min, var sags, var known, off", 0, 60, 0, 0.003, true, false, true, known + " (var)", 1},
		{"1 min, watts sag, both known", 0.01, 60, 0.003, 0, true, true, true, known + " (var)", 1},
	} {
		path, m, core := sagRun(c.drop, c.step, c.slopeP, c.slopeQ, c.withVar, c.pm, c.qm)
		if c.want == "-" {
			if m <= 10 || path == known || path == known+" (var)" {
				t.Errorf("%s: %q at %.1f min (core %d), want no known-charger path", c.name, path, m, core)
			}
			continue
		}
		if path != c.want || m != 10 || core != c.core {
			t.Errorf("%s: %q at %.1f min (core %d), want %q at 10 min (core %d)", c.name, path, m, core, c.want, c.core)
		}
	}
	for _, step := range []float64{10, 300} {
		for _, slope := range []float64{0, 0.003} {
			p0, m0, _ := sagRun(0, step, slope, 0, false, true, false)
			p1, m1, _ := sagRun(0.01, step, slope, 0, false, true, false)
			if p0 != p1 || m0 != m1 {
				t.Errorf("%v s, falling %v/min: SagDrop changed %q at %.1f min to %q at %.1f min", step, slope, p0, m0, p1, m1)
			}
		}
	}
}
