package detect

import (
	"math"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestDropMemDefault pins the known-charger drop rule's defaults (round
// 36c, off: on its confirmation cities the alerts overlapping no session
// on charging days rose by one; round 37a, on at 0.07, a rise's t of -8
// or less, held 20 minutes, with the step's noise 12% or less: cities
// 673-704 +66 sessions / +1 false alarm, charging-day alerts 138 -> 138).
func TestDropMemDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.DropMem != 0.07 || p.DropMemHold != 20*time.Minute || p.DropMemCount != 1 || p.DropMemWin != 0 || p.DropMemFall != 8 ||
		p.DropMemMinIv != 45 || p.DropMemMaxIv != 90 || p.DropMemNoise != 0.12 {
		t.Fatalf("DropMem %v, DropMemHold %v, DropMemCount %v, DropMemWin %v, DropMemFall %v, DropMemMinIv %v, DropMemMaxIv %v, DropMemNoise %v; want 0.07, 20m, 1, 0, 8, 45, 90, 0.12",
			p.DropMem, p.DropMemHold, p.DropMemCount, p.DropMemWin, p.DropMemFall, p.DropMemMinIv, p.DropMemMaxIv, p.DropMemNoise)
	}
}

// dropMemParams is the measured variant: DropMem 0.07, a rise's t of -8
// or less, held 20 minutes or more.
func dropMemParams() PhysicsParams {
	p := DefaultPhysicsParams()
	p.DropMem, p.DropMemFall, p.DropMemHold = 0.07, 8, 20*time.Minute
	return p
}

// TestDropMemOn: the gates of dropMemOn, one shut at a time.
func TestDropMemOn(t *testing.T) {
	var known [ScoreFeatures]float64
	known[12], known[13], known[7] = math.Log(1+2), math.Log(1+1), -2.5 // a charger twice, other once, t -10
	with := func(f func(*[ScoreFeatures]float64)) [ScoreFeatures]float64 {
		g := known
		f(&g)
		return g
	}
	set := func(f func(*PhysicsParams)) PhysicsParams {
		p := dropMemParams()
		f(&p)
		return p
	}
	def := dropMemParams()
	cases := []struct {
		name string
		p    PhysicsParams
		iv   float32
		f    [ScoreFeatures]float64
		held time.Duration
		want bool
	}{
		{"a known charger, t -10, held 30 min, 1 min", def, 60, known, 30 * time.Minute, true},
		{"a 1-min meter whose gaps jitter (58 s)", def, 58, known, 30 * time.Minute, true},
		{"at the lower bound (45 s)", def, 45, known, 30 * time.Minute, true},
		{"at the upper bound (90 s)", def, 90, known, 30 * time.Minute, true},
		{"DropMem 0: off", set(func(p *PhysicsParams) { p.DropMem = 0 }), 60, known, 30 * time.Minute, false},
		{"10-s readings", def, 10, known, 30 * time.Minute, false},
		{"44 s", def, 44, known, 30 * time.Minute, false},
		{"91 s", def, 91, known, 30 * time.Minute, false},
		{"5-min readings", def, 300, known, 30 * time.Minute, false},
		{"DropMemMaxIv 0: no upper bound", set(func(p *PhysicsParams) { p.DropMemMaxIv = 0 }), 300, known, 30 * time.Minute, true},
		{"held under DropMemHold", def, 60, known, 19 * time.Minute, false},
		{"held DropMemHold exactly", def, 60, known, 20 * time.Minute, true},
		{"a size the memory does not know", def, 60, with(func(f *[ScoreFeatures]float64) { f[12], f[13] = 0, 0 }), 30 * time.Minute, false},
		{"known only as another load", def, 60, with(func(f *[ScoreFeatures]float64) { f[12] = 0 }), 30 * time.Minute, false},
		{"a charger once, DropMemCount 1", def, 60, with(func(f *[ScoreFeatures]float64) { f[12] = math.Log(2) }), 30 * time.Minute, true},
		{"a charger twice, DropMemCount 3", set(func(p *PhysicsParams) { p.DropMemCount = 3 }), 60, known, 30 * time.Minute, false},
		{"a charger twice, DropMemCount 2", set(func(p *PhysicsParams) { p.DropMemCount = 2 }), 60, known, 30 * time.Minute, true},
		{"DropMemWin 1, charger 2 over other 1", set(func(p *PhysicsParams) { p.DropMemWin = 1 }), 60, known, 30 * time.Minute, true},
		{"DropMemWin 1, charger 2, other 2", set(func(p *PhysicsParams) { p.DropMemWin = 1 }), 60,
			with(func(f *[ScoreFeatures]float64) { f[13] = f[12] }), 30 * time.Minute, false},
		{"t -7, over -DropMemFall", def, 60, with(func(f *[ScoreFeatures]float64) { f[7] = -7.0 / 4 }), 30 * time.Minute, false},
		{"t -8, at -DropMemFall", def, 60, with(func(f *[ScoreFeatures]float64) { f[7] = -2 }), 30 * time.Minute, true},
		{"a rising step, DropMemFall 0: no fall asked", set(func(p *PhysicsParams) { p.DropMemFall = 0 }), 60,
			with(func(f *[ScoreFeatures]float64) { f[7] = 1 }), 30 * time.Minute, true},
		{"DropMemCount 0 counts as 1: a size the memory does not know", set(func(p *PhysicsParams) { p.DropMemCount = 0 }), 60,
			with(func(f *[ScoreFeatures]float64) { f[12], f[13] = 0, 0 }), 30 * time.Minute, false},
		{"a charger twice as scoreFeatures makes it (flog, a hair under the log), DropMemCount 2", set(func(p *PhysicsParams) { p.DropMemCount = 2 }), 60,
			with(func(f *[ScoreFeatures]float64) { f[12] = flog(1 + 2) }), 30 * time.Minute, true},
	}
	for _, c := range cases {
		p := c.p
		s := physCore{p: &p, iv: c.iv}
		f := c.f
		if got := s.dropMemOn(&f, ms(c.held)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDropMemScored: at a drop, a step held 30 minutes (under
// ScoreDropHold's hour) whose drop-time score is 0.1 (under ScoreDropMin
// 0.15) is confirmed only when the rule is on and the unit's memory knows
// its size as a charger; a score under DropMem (0.05) is not; the rule
// does not lift ScoreDropLeft; a step held ScoreDropHold is confirmed by
// DropMem's lower limit too; with DropMemNoise 0.12 a step whose noise
// is 20% is not (11% is), unless its own score confirms it.
// DropMemFall 0: the features' t is the regression's, not built here.
func TestDropMemScored(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	charger := sig{w: 150, charger: 2}
	lamp := sig{w: 150, other: 2}
	cases := []struct {
		name string
		mode float64 // DropMem
		prob float64 // the drop-time score
		mem  sig
		left float64 // ScoreDropLeft
		held time.Duration
		q    float64 // the step's noise
		nmax float64 // DropMemNoise
		want bool
	}{
		{"on, a known charger, 0.1 at 30 min", 0.07, 0.1, charger, 0, 30 * time.Minute, 0.05, 0.12, true},
		{"off", 0, 0.1, charger, 0, 30 * time.Minute, 0.05, 0.12, false},
		{"a size known as another load", 0.07, 0.1, lamp, 0, 30 * time.Minute, 0.05, 0.12, false},
		{"0.05 under DropMem", 0.07, 0.05, charger, 0, 30 * time.Minute, 0.05, 0.12, false},
		{"held under DropMemHold (10 min)", 0.07, 0.1, charger, 0, 10 * time.Minute, 0.05, 0.12, false},
		{"ScoreDropLeft 1 still applies", 0.07, 0.1, charger, 1, 30 * time.Minute, 0.05, 0.12, false},
		{"held 2 h: 0.1 under ScoreDropMin, over DropMem", 0.07, 0.1, charger, 0, 2 * time.Hour, 0.05, 0.12, true},
		{"held 2 h, off: 0.1 under ScoreDropMin", 0, 0.1, charger, 0, 2 * time.Hour, 0.05, 0.12, false},
		{"held 2 h, off: 0.2 over ScoreDropMin", 0, 0.2, charger, 0, 2 * time.Hour, 0.05, 0.12, true},
		{"noise 20% over DropMemNoise 0.12", 0.07, 0.1, charger, 0, 30 * time.Minute, 0.2, 0.12, false},
		{"noise 11% under DropMemNoise 0.12", 0.07, 0.1, charger, 0, 30 * time.Minute, 0.11, 0.12, true},
		{"noise 20%, DropMemNoise 0: no bound", 0.07, 0.1, charger, 0, 30 * time.Minute, 0.2, 0, true},
		{"held 2 h, noise 20%: 0.2 over ScoreDropMin, not DropMem's", 0.07, 0.2, charger, 0, 2 * time.Hour, 0.2, 0.12, true},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.DropMem, p.DropMemHold, p.DropMemFall, p.ScoreDropLeft = c.mode, 20*time.Minute, 0, c.left
		p.DropMemNoise = c.nmax
		p.ScoreModel = 0 // the drop-time score is ScoreDropW's at every interval
		p.ScoreDropW = [ScoreFeatures + 1]float64{math.Log(c.prob / (1 - c.prob))}
		p.scoreLimits()
		s := physCore{p: &p, iv: 60, prev: 40 + 75}
		s.mem[0] = c.mem
		// ten quiet readings whose noise is c.q of the step: sqrt(sd2/n/2)/150
		s.c[0] = cand{t0: 1, ref: 40, lvl: 150, step: 150, ws: 150, sf: cOpen, n: 10, sd2: float32(2 * 10 * (c.q * 150) * (c.q * 150))}
		got, _ := s.scoredDrop(&cfg, ms(c.held)+1, 0, ms(c.held))
		if got != c.want {
			t.Errorf("%s: confirmed %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDropMemCalm: DropMemNoise (round 37a) refuses a step noisier than
// itself; 0 is no bound.
func TestDropMemCalm(t *testing.T) {
	cases := []struct {
		name     string
		noiseMax float64 // DropMemNoise
		q        float64 // the step's noise
		want     bool
	}{
		{"0: a noisy step (38%)", 0, 0.38, true},
		{"0: a step with no readings (noise 1)", 0, 1, true},
		{"5% under 12%", 0.12, 0.05, true},
		{"1% under 12%", 0.12, 0.01, true},
		{"12% at the bound", 0.12, 0.12, true},
		{"13% over 12%", 0.12, 0.13, false},
		{"15% over 12% (a busy home's step)", 0.12, 0.15, false},
		{"38% over 12%", 0.12, 0.38, false},
		{"a step with no readings (noise 1)", 0.12, 1, false},
		{"8%: 10% over it", 0.08, 0.10, false},
	}
	for _, c := range cases {
		p := dropMemParams()
		p.DropMemNoise = c.noiseMax
		s := physCore{p: &p, iv: 60}
		var f [ScoreFeatures]float64
		f[2] = clip(flog(max(c.q, 1e-4)/0.008), -4, 5) // as scoreFeatures makes it
		if got := s.dropMemCalm(&f); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDropMemScoredLimits: in scoredDrop the rule only ever lowers the
// drop-time limit, for a step held DropMemHold or more, and only with the
// drop-time score on; it judges at DropMem (not ScoreDropMin) a step
// younger than ScoreDropHold; DropMem out of (0, 1) is off; the flat veto
// (ScoreDropFall) still applies; the rise's t it reads is the step's
// regression's; other intervals than 45-90 s are not judged by it.
func TestDropMemScoredLimits(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	cases := []struct {
		name     string
		dropMin  float64 // ScoreDropMin
		scoreMin float64 // ScoreMin
		mode     float64 // DropMem
		fall     float64 // DropMemFall
		flat     float64 // ScoreDropFall
		iv       float32
		sxy      float64 // the regression: t = sxy / 10 (sxx 100 at 1 min)
		prob     float64 // the drop-time score
		held     time.Duration
		want     bool
	}{
		{"ScoreDropMin 0.05 under DropMem, held 30 min: 0.06 under DropMem", 0.05, 0.93, 0.07, 0, 0, 60, 0, 0.06, 30 * time.Minute, false},
		{"ScoreDropMin 0.05 under DropMem, held 30 min: 0.08 over DropMem", 0.05, 0.93, 0.07, 0, 0, 60, 0, 0.08, 30 * time.Minute, true},
		{"ScoreDropMin 0.05 under DropMem, held 2 h: 0.06 (never raised)", 0.05, 0.93, 0.07, 0, 0, 60, 0, 0.06, 2 * time.Hour, true},
		{"ScoreDropMin 0: the drop-time score off, the rule too", 0, 0.93, 0.07, 0, 0, 60, 0, 0.5, 30 * time.Minute, false},
		{"ScoreMin 0: the score off, the rule too", 0.15, 0, 0.07, 0, 0, 60, 0, 0.5, 30 * time.Minute, false},
		{"DropMem 1: off", 0.15, 0.93, 1, 0, 0, 60, 0, 0.99, 30 * time.Minute, false},
		{"DropMem 1.5: off, held 2 h, 0.2 confirmed by ScoreDropMin", 0.15, 0.93, 1.5, 0, 0, 60, 0, 0.2, 2 * time.Hour, true},
		{"ScoreDropFall 1: the flat veto still applies (t 0)", 0.15, 0.93, 0.07, 0, 1, 60, 0, 0.1, 30 * time.Minute, false},
		{"ScoreDropFall 1, t -10: not flat", 0.15, 0.93, 0.07, 0, 1, 60, -100, 0.1, 30 * time.Minute, true},
		{"DropMemFall 8, t -10", 0.15, 0.93, 0.07, 8, 0, 60, -100, 0.1, 30 * time.Minute, true},
		{"DropMemFall 8, t -7", 0.15, 0.93, 0.07, 8, 0, 60, -70, 0.1, 30 * time.Minute, false},
		{"DropMemFall 8, t 0 (no regression)", 0.15, 0.93, 0.07, 8, 0, 60, 0, 0.1, 30 * time.Minute, false},
		{"10-s readings", 0.15, 0.93, 0.07, 0, 0, 10, 0, 0.1, 30 * time.Minute, false},
		{"5-min readings", 0.15, 0.93, 0.07, 0, 0, 300, 0, 0.1, 30 * time.Minute, false},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.ScoreDropMin, p.ScoreMin, p.DropMem, p.DropMemFall, p.ScoreDropFall, p.ScoreDropFallLong = c.dropMin, c.scoreMin, c.mode, c.fall, c.flat, c.flat
		p.DropMemHold, p.DropMemNoise, p.ScoreDropLeft = 20*time.Minute, 0.12, 0
		p.ScoreModel = 0 // the drop-time score is ScoreDropW's (ScoreDropWLong's over 90 s)
		z := math.Log(c.prob / (1 - c.prob))
		p.ScoreDropW = [ScoreFeatures + 1]float64{z}
		p.ScoreDropWLong = [ScoreFeatures + 1]float64{z}
		p.scoreLimits()
		s := physCore{p: &p, iv: c.iv, prev: 40 + 75}
		s.mem[0] = sig{w: 150, charger: 2}
		// noise 5%; the rise regression's sxx 100 (t = sxy / 10 at 1 min)
		s.c[0] = cand{t0: 1, ref: 40, lvl: 150, step: 150, ws: 150, sf: cOpen, n: 10, sd2: float32(2 * 10 * 7.5 * 7.5), sxx: 100, sxy: float32(c.sxy)}
		got, _ := s.scoredDrop(&cfg, ms(c.held)+1, 0, ms(c.held))
		if got != c.want {
			t.Errorf("%s: confirmed %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDropMemCalmBound: DropMemNoise's bound is inclusive, to a rounding
// (1e-9 of the log).
func TestDropMemCalmBound(t *testing.T) {
	p := dropMemParams()
	p.DropMemNoise = 0.12
	s := physCore{p: &p, iv: 60}
	b := math.Log(0.12 / 0.008)
	for _, c := range []struct {
		name string
		f2   float64
		want bool
	}{
		{"at the bound", b, true},
		{"a rounding over it", b + 5e-10, true},
		{"at the bound and its rounding", b + 1e-9, true},
		{"over it", b + 1e-6, false},
	} {
		var f [ScoreFeatures]float64
		f[2] = c.f2
		if got := s.dropMemCalm(&f); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
