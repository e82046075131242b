package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestProofGuardDefault pins ProofGuard's defaults: on (both bits) since
// round 42b, at 45-90 s.
func TestProofGuardDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.ProofGuard != 3 || p.ProofOver != 0.06 || p.ProofOth != 3 || p.ProofGuardMinIv != 45 || p.ProofGuardMaxIv != 90 {
		t.Errorf("ProofGuard %v, ProofOver %v, ProofOth %v, ProofGuardMinIv %v, ProofGuardMaxIv %v; want 3, 0.06, 3, 45, 90",
			p.ProofGuard, p.ProofOver, p.ProofOth, p.ProofGuardMinIv, p.ProofGuardMaxIv)
	}
}

// proofStepJudged judges a clean, quiet step settled at 150 W (over
// 100 W) whose first reading was step W, that held 15 minutes at 1 min
// with a level that held since it settled, of a size the memory m holds.
func proofStepJudged(p *PhysicsParams, step float32, m sig) *physCore {
	cfg := Defaults(devices.KindMeter).Charging
	const mn = 60 * 1000
	const iv, held = 60, 15
	ts := int64(10 * 3600 * 1000)
	p.ScoreMin, p.ScoreEarlyMin = 0, 0
	s := &physCore{p: p, iv: iv, na: 1, base: 100, last: ts - iv*1000, prev: 250, seg0: ts - held*mn}
	s.sn = 7
	s.sp = 7 * 250
	for k := range s.blk {
		s.blk[k] = 250
	}
	m.last = int32(ts/60000) - 600
	s.mem[0] = m
	n := uint16(held * 60 / iv)
	s.c[0] = cand{t0: ts - held*mn, ref: 98, pre: 100, step: step, lvl: 150, sf: cOpen, fl: fClean,
		n: n, sd2: float32(n) * 0.5, rq: 0.5}
	s.judge(&cfg, ts, 0)
	return s
}

// TestProofGuard: a step of a slot the memory outweighs as another load
// but whose proof count reads it as the unit's charger is confirmed by
// the fast known-charger path at 15 minutes (MemProof); with ProofGuard's
// bit 1 not when its first reading overshot its settled level by more
// than ProofOver (a compressor's start-up), with bit 2 not when the
// slot's other lessons that were not cycles exceed ProofOth times its
// proof count (a steady non-charger of its size); a slot the memory
// knows as the charger by its counts is not judged.
func TestProofGuard(t *testing.T) {
	fridge := sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 5, proof: 1}
	steady := sig{w: 150, maxRun: 30, charger: 1, other: 6, cycles: 2, proof: 1}
	steady3 := sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 2, proof: 1}
	steady2 := sig{w: 150, maxRun: 30, charger: 2, other: 6, cycles: 2, proof: 2}
	charger := sig{w: 150, maxRun: 200, charger: 3, other: 1}
	for _, c := range []struct {
		name  string
		guard float64
		step  float32
		m     sig
		want  bool
	}{
		{"off, overshot 10%", 0, 165, fridge, true},
		{"flat", 1, 150, fridge, true},
		{"overshot 5%", 1, 157.5, fridge, true},
		{"overshot 10%", 1, 165, fridge, false},
		{"overshot 10%, bit 2 only", 2, 165, fridge, true},
		{"overshot 10%, known by its counts", 3, 165, charger, true},
		{"off, steady other", 0, 150, steady, true},
		{"steady other 4 > 3 x 1", 2, 150, steady, false},
		{"steady other 4 > 3 x 1, bit 1 only", 1, 150, steady, true},
		{"steady other 3 = 3 x 1", 2, 150, steady3, true},
		{"steady other 4 < 3 x 2", 2, 150, steady2, true},
	} {
		p := DefaultPhysicsParams()
		p.MemProof, p.ProofGuard = 784, c.guard
		s := proofStepJudged(&p, c.step, c.m)
		got := s.c[0].state() == cCharge && s.sPath == pathKnown
		if got != c.want {
			t.Errorf("%s: confirmed by the known charger %v (state %d, path %d), want %v", c.name, got, s.c[0].state(), s.sPath, c.want)
		}
	}
	// only at ProofGuardMinIv-ProofGuardMaxIv s
	for _, c := range []struct {
		iv   float32
		want bool
	}{{30, false}, {45, true}, {60, true}, {90, true}, {120, false}} {
		p := DefaultPhysicsParams()
		p.ProofGuard = 3
		s := &physCore{p: &p, iv: c.iv}
		s.mem[0] = fridge
		cd := cand{step: 165, lvl: 150}
		if got := s.proofGuarded(&cd, 0); got != c.want {
			t.Errorf("iv %v: guarded %v, want %v", c.iv, got, c.want)
		}
	}
}
