package detect

import (
	"slices"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsFastQuietDefaults pins round 16b's defaults: 0.6 of the
// readings quiet at 1 min, 0.5 at 5 min, 10 s untouched, the fast
// path of an unknown step only. FastQuietMinIv 45 (30 until round 29's
// review): off at 30-s readings whose gaps jitter, not on every other one.
func TestPhysicsFastQuietDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.FastQuiet != 0.6 || p.FastQuietLong != 0.5 || p.FastQuietMinIv != 45 || p.FastQuietPaths != 2 {
		t.Fatalf("FastQuiet %v, FastQuietLong %v, FastQuietMinIv %v, FastQuietPaths %v; want 0.6, 0.5, 45, 2", p.FastQuiet, p.FastQuietLong, p.FastQuietMinIv, p.FastQuietPaths)
	}
}

// TestPhysicsFastUnquiet: a step quiet on fewer than FastQuiet of the
// readings it held (FastQuietLong over 90 s) is unquiet; not with the
// parameter 0, nor at intervals of FastQuietMinIv s or less.
func TestPhysicsFastUnquiet(t *testing.T) {
	const mn = 60 * 1000
	for _, c := range []struct {
		name        string
		iv          float32
		q, qLong    float64
		held        int64
		n           uint16
		wantUnquiet bool
	}{
		{"1 min: 8 quiet of 20", 60, 0.6, 0, 20 * mn, 8, true},
		{"1 min: 12 quiet of 20", 60, 0.6, 0, 20 * mn, 12, false},
		{"1 min: off", 60, 0, 0.5, 20 * mn, 2, false},
		{"10 s: under FastQuietMinIv", 10, 0.6, 0.5, 20 * mn, 8, false},
		{"5 min: 3 quiet of 8 (FastQuietLong)", 300, 0, 0.5, 40 * mn, 3, true},
		{"5 min: 4 quiet of 8", 300, 0.9, 0.5, 40 * mn, 4, false},
		{"5 min: off", 300, 0.6, 0, 40 * mn, 1, false},
	} {
		p := DefaultPhysicsParams()
		p.FastQuiet, p.FastQuietLong, p.FastQuietMinIv = c.q, c.qLong, 30
		s := physCore{p: &p, iv: c.iv}
		if got := s.fastUnquiet(&cand{n: c.n}, c.held, pathFast); got != c.wantUnquiet {
			t.Errorf("%s: unquiet %v, want %v", c.name, got, c.wantUnquiet)
		}
	}
}

// TestPhysicsFastQuietPaths: FastQuiet applies to the paths whose bits
// FastQuietPaths holds: by default (2) the fast path of an unknown step
// only, not the known charger's fast path nor the score; with 6 and 514
// to those too.
func TestPhysicsFastQuietPaths(t *testing.T) {
	const mn = 60 * 1000
	for _, c := range []struct {
		name  string
		paths float64
		path  uint8
		want  bool
	}{
		{"default: fast", 2, pathFast, true},
		{"default: not fast, known charger", 2, pathKnown, false},
		{"default: not the score", 2, pathScore, false},
		{"6: fast, known charger", 6, pathKnown, true},
		{"6: not outlasted a cycler", 6, pathCycler, false},
		{"514: the score", 514, pathScore, true},
	} {
		p := DefaultPhysicsParams()
		p.FastQuietPaths = c.paths
		s := physCore{p: &p, iv: 60}
		if got := s.fastUnquiet(&cand{n: 8}, 20*mn, c.path); got != c.want {
			t.Errorf("%s: unquiet %v, want %v", c.name, got, c.want)
		}
	}
}

// quietStepJudged judges, with p, a flat, clean step of 150 W held 21
// minutes at 1-min readings (quiet on n of its readings, flags fl; the
// memory knows a charger of its size when known) and returns the core.
func quietStepJudged(p *PhysicsParams, n uint16, fl uint8, known bool) *physCore {
	var m sig
	if known {
		m = sig{w: 150, maxRun: 200, charger: 5, other: 2}
	}
	return stepJudged(p, 60, 21, n, fl, m)
}

// stepJudged judges, with p (its scores off) at readings iv s apart, a
// flat step of 150 W over a base of 100 W held `held` minutes, quiet on n
// of its readings, with flags fl and the power up over the whole window,
// whose size the unit's memory holds as m (seen 10 hours ago; none when
// m.w is 0), and returns the core.
func stepJudged(p *PhysicsParams, iv float32, held int64, n uint16, fl uint8, m sig) *physCore {
	cfg := Defaults(devices.KindMeter).Charging
	const mn = 60 * 1000
	ts := int64(10 * 3600 * 1000)
	p.ScoreMin, p.ScoreEarlyMin = 0, 0
	s := &physCore{p: p, iv: iv, na: 1, base: 100, last: ts - int64(iv)*1000, prev: 250, seg0: ts - held*mn}
	for k := range s.blk {
		s.blk[k] = 250 // the power stayed up the whole window
	}
	if m.w > 0 {
		m.last = int32(ts/60000) - 600
		s.mem[0] = m
	}
	s.c[0] = cand{t0: ts - held*mn, ref: 98, pre: 100, step: 150, lvl: 150, sf: cOpen, fl: fl,
		n: n, sd2: float32(n) * 0.5, rq: 0.5}
	s.judge(&cfg, ts, 0)
	return s
}

// TestPhysicsFastQuietJudge: an unknown, flat, clean step of 150 W that
// passed the fast test and held FastNewHold at 1-min readings is
// confirmed by the fast path when it was quiet on 16 of its 21 readings;
// one quiet on 6 (a chain of short loads around it) is not, unless
// FastQuiet is 0.
func TestPhysicsFastQuietJudge(t *testing.T) {
	for _, c := range []struct {
		name string
		q    float64
		n    uint16
		want bool
	}{
		{"quiet on 16 of 21", 0.6, 16, true},
		{"quiet on 6 of 21", 0.6, 6, false},
		{"quiet on 6 of 21, FastQuiet 0", 0, 6, true},
	} {
		p := DefaultPhysicsParams()
		p.FastQuiet = c.q
		s := quietStepJudged(&p, c.n, fFast|fClean, false)
		if got := s.c[0].state() == cCharge && s.sPath == pathFast; got != c.want {
			t.Errorf("%s: confirmed by the fast path %v (state %d, path %d), want %v", c.name, got, s.c[0].state(), s.sPath, c.want)
		}
	}
}

// TestPhysicsFastQuietKnown: the known charger's fast path, through judge.
// By default (FastQuietPaths 2) FastQuiet does not apply to it: a step of
// the unit's charger's size quiet on 6 of its 21 readings is confirmed as
// a known charger; with FastQuietPaths 6 it is not, and the trace says
// which veto refused it.
func TestPhysicsFastQuietKnown(t *testing.T) {
	for _, c := range []struct {
		name  string
		paths float64
		n     uint16
		want  bool
	}{
		{"default paths, quiet on 6 of 21", 2, 6, true},
		{"paths 6, quiet on 16 of 21", 6, 16, true},
		{"paths 6, quiet on 6 of 21", 6, 6, false},
	} {
		p := DefaultPhysicsParams()
		p.FastQuietPaths = c.paths
		var why []string
		p.Trace = func(tr *ChargingTrace) {
			if tr.Event == "judge" {
				why = append(why, tr.Reason)
			}
		}
		s := quietStepJudged(&p, c.n, fClean, true)
		if got := s.c[0].state() == cCharge && s.sPath == pathKnown; got != c.want {
			t.Errorf("%s: confirmed as a known charger %v (state %d, path %d, why %q), want %v", c.name, got, s.c[0].state(), s.sPath, why, c.want)
		}
		if !c.want && !slices.Contains(why, "fast: unquiet") {
			t.Errorf("%s: why %q, want fast: unquiet", c.name, why)
		}
	}
}
