package detect

import (
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsFastDipDefault pins FastDip at 0.85 (round 26).
func TestPhysicsFastDipDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.FastDip != 0.85 {
		t.Fatalf("FastDip %v, want 0.85", p.FastDip)
	}
}

// dipStepJudged judges, with p (its scores off) at readings iv s apart, a
// flat, quiet, clean step of 150 W held `held` minutes and quiet on all
// its n readings, on `under` W of other loads over the unit's floor of
// 100 W, with the x flags x and the flags fl (fFast: it passed the fast
// test earlier), the unit's memory's first slot m (none when m.w is 0). It
// returns the core and the trace's reasons.
func dipStepJudged(p *PhysicsParams, iv float32, held int64, n uint16, under float32, x, fl uint8, m sig) (*physCore, []string) {
	cfg := Defaults(devices.KindMeter).Charging
	const mn = 60 * 1000
	ts := int64(10 * 3600 * 1000)
	p.ScoreMin, p.ScoreEarlyMin = 0, 0
	var why []string
	p.Trace = func(tr *ChargingTrace) { why = append(why, tr.Event+": "+tr.Reason) }
	pre := 100 + under
	s := &physCore{p: p, iv: iv, na: 1, base: 100, last: ts - int64(iv)*1000, prev: pre + 150, seg0: ts - held*mn}
	for k := range s.blk {
		s.blk[k] = pre + 150
	}
	if m.w > 0 {
		m.last = int32(ts/60000) - 600
		s.mem[0] = m
	}
	s.c[0] = cand{t0: ts - held*mn, ref: pre - 2, pre: pre, step: 150, lvl: 150, sf: cOpen | x, fl: fClean | fl,
		n: n, sd2: float32(n) * 0.5, rq: 0.5}
	s.judge(&cfg, ts, 0)
	return s, why
}

// TestPhysicsFastDip: a quiet unknown step with nothing under it (its
// power before it at the unit's floor) that dipped (xDip) is not confirmed
// fast at 5-min readings with FastDip on (the trace says "dipped"), when
// it passes the fast test at 40 minutes and when it passed it earlier; it
// is with FastDip 0, without the dip, with 1 W or more of other loads
// under it, at 90 s and 1-min readings, and when the memory knows its size
// as a charger.
func TestPhysicsFastDip(t *testing.T) {
	// a proof count of 1: over 90 s the fast known-charger path asks for
	// one (KnownProof, charging_knownproof.go)
	known := sig{w: 150, maxRun: 200, charger: 5, proof: 1}
	for _, c := range []struct {
		name  string
		dip   float64
		iv    float32
		under float32
		x     uint8
		m     sig
		want  bool
	}{
		{"5 min, off, dipped", 0, 300, 0, xDip, sig{}, true},
		{"5 min, 0.85, dipped", 0.85, 300, 0, xDip, sig{}, false},
		{"5 min, 0.85, no dip", 0.85, 300, 0, 0, sig{}, true},
		{"5 min, 0.85, dipped on 30 W", 0.85, 300, 30, xDip, sig{}, true},
		{"5 min, 0.85, dipped on 0.9 W", 0.85, 300, 0.9, xDip, sig{}, false},
		{"5 min, 0.85, dipped on 1 W", 0.85, 300, 1, xDip, sig{}, true},
		{"5 min, 0.85, dipped, a known charger", 0.85, 300, 0, xDip, known, true},
		{"1 min, 0.85, dipped", 0.85, 60, 0, xDip, sig{}, true},
		{"90 s, 0.85, dipped", 0.85, 90, 0, xDip, sig{}, true},
	} {
		for _, marked := range []bool{false, true} {
			p := DefaultPhysicsParams()
			p.FastDip = c.dip
			held, n := int64(40), uint16(8)
			if c.iv <= 90 {
				held, n = 21, uint16(21*60/c.iv)
			}
			var fl uint8
			if marked {
				fl = fFast
			}
			s, why := dipStepJudged(&p, c.iv, held, n, c.under, c.x, fl, c.m)
			got := s.c[0].state() == cCharge && (s.sPath == pathFast || s.sPath == pathKnown)
			if got != c.want {
				t.Errorf("%s (marked %v): confirmed fast %v (state %d, path %d, why %q), want %v", c.name, marked, got, s.c[0].state(), s.sPath, why, c.want)
			}
			if !c.want && !strings.Contains(strings.Join(why, "|"), "fast: dipped") {
				t.Errorf("%s (marked %v): why %q, want fast: dipped", c.name, marked, why)
			}
			// a confirmed charge drops the open step's flag (nothing reads
			// it then), so its checkpoint needs no version 9 for it; a
			// refused step keeps it
			if dip := s.c[0].sf&xDip != 0; dip != (c.x == xDip && !got) {
				t.Errorf("%s (marked %v): xDip %v after the judgement (confirmed %v)", c.name, marked, dip, got)
			}
		}
	}
}

// TestPhysicsFastDipMark: a reading of an open 150 W step (its power
// before it 100 W) sets xDip when its power over 100 W is under FastDip of
// 150 W, at intervals over 90 s; the mark stays once set.
func TestPhysicsFastDipMark(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range []struct {
		name string
		dip  float64
		iv   float32
		pw   []float64
		want bool
	}{
		{"5 min, 0.85, at 0.84 of its level", 0.85, 300, []float64{226}, true},
		{"5 min, 0.85, at 0.86 of its level", 0.85, 300, []float64{229}, false},
		{"5 min, 0.85, at 0.85 of its level", 0.85, 300, []float64{227.5}, false},
		{"5 min, 0.85, at 0.84, back at its level", 0.85, 300, []float64{226, 250}, true},
		{"5 min, off, at 0.84", 0, 300, []float64{226}, false},
		{"90 s, 0.85, at 0.84", 0.85, 90, []float64{226}, false},
		{"91 s, 0.85, at 0.84", 0.85, 91, []float64{226}, true},
	} {
		p := DefaultPhysicsParams()
		p.FastDip = c.dip
		p.ScoreMin, p.ScoreEarlyMin, p.ScoreMinLong, p.ScoreYoungMinLong = 0, 0, 0, 0
		t0 := int64(10 * 3600 * 1000)
		s := &physCore{p: &p, iv: c.iv, na: 1, base: 100, last: t0, prev: 250, seg0: t0 - 3600*1000}
		for k := range s.blk {
			s.blk[k] = 250
		}
		s.c[0] = cand{t0: t0 - 3600*1000, ref: 98, pre: 100, step: 150, lvl: 150, sf: cOpen, n: 12}
		for k, w := range c.pw {
			s.observe(&cfg, t0+int64(k+1)*int64(c.iv*1000), w, true)
		}
		if got := s.c[0].sf&xDip != 0; got != c.want || s.c[0].state() != cOpen {
			t.Errorf("%s: xDip %v, want %v (state %d)", c.name, got, c.want, s.c[0].state())
		}
	}
}
