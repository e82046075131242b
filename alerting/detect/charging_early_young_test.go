package detect

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// constForest makes forest *f give every step probability q for the rest
// of test t.
func constForest(t *testing.T, f *ScoreForest, q float64) {
	t.Helper()
	old := *f
	*f = ScoreForest{Depth: 1, Base: math.Log(q / (1 - q)), Feat: []uint8{0}, Thr: []float32{0}, Leaf: []float32{0, 0}}
	f.bound()
	t.Cleanup(func() { *f = old })
}

// TestScoreEarlyYoung: with ScoreEarlyModel, the young steps' forest
// confirms a step in its early window (from ScoreEarlyHold, 10 min) when
// its probability reaches ScoreEarlyMinYoung, where the other score (the
// logistic regression at a constant 0.9, under ScoreEarlyMin 0.95) waits
// for ScoreHold (20 min). ScoreEarlyMinYoung 0 or 1 is off, and the early
// window's own switches (ScoreEarlyMin, the gate) hold it too.
func TestScoreEarlyYoung(t *testing.T) {
	fair := DefaultPhysicsParams()
	fair.ScoreModel, fair.ScoreW = 0, [ScoreFeatures + 1]float64{math.Log(0.9 / 0.1)}
	fair.ScoreEarlyMinPF = 0
	with := func(model, min float64, set ...func(*PhysicsParams)) PhysicsParams {
		p := fair
		p.ScoreEarlyModel, p.ScoreEarlyMinYoung = model, min
		for _, f := range set {
			f(&p)
		}
		return p
	}
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	early := []string{"2h10m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}
	late := []string{"2h20m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}
	cases := []struct {
		name  string
		p     PhysicsParams
		young float64
		want  []string
	}{
		{"off: waits for ScoreHold however young the forest finds it", with(0, 0.95), 0.99, late},
		{"on, 0.99 over 0.95: early (10 min)", with(1, 0.95), 0.99, early},
		{"on, 0.95 reaches 0.95: early", with(1, 0.95), 0.95, early},
		{"on, 0.9 under 0.95: waits", with(1, 0.95), 0.9, late},
		{"on, ScoreEarlyMinYoung 0: off", with(1, 0), 0.99, late},
		{"on, ScoreEarlyMinYoung 1: off", with(1, 1), 0.99, late},
		{"on, the early window off (ScoreEarlyMin 1): waits", with(1, 0.95, func(p *PhysicsParams) { p.ScoreEarlyMin = 1 }), 0.99, late},
		{"on, the early gate (1: the var detector's step) with power alone: waits", with(1, 0.95, func(p *PhysicsParams) { p.ScoreEarlyGate = 1 }), 0.99, late},
		{"on, ScoreEarlyHold 15 min: at 15 min", with(1, 0.95, func(p *PhysicsParams) { p.ScoreEarlyHold = 15 * 60e9 }), 0.99,
			[]string{"2h15m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			constForest(t, &scoreTreesWEarly, c.young)
			if got := physRun(t, c.p, 60, 8*hr, chg); !slices.Equal(got, c.want) {
				t.Errorf("signals %q, want %q", got, c.want)
			}
		})
	}
}

// TestScoreEarlyYoungOnlyEarly: the young steps' forest is used in the
// early window only. A charge the other score finds unlike one (0.5,
// under ScoreMin) but the young forest finds one (0.99): kept from early
// confirmation by the early gate, it is not confirmed from ScoreHold on
// by the young forest either (its signals are those of ScoreEarlyModel
// 0); without the gate it is confirmed at 10 min.
func TestScoreEarlyYoungOnlyEarly(t *testing.T) {
	constForest(t, &scoreTreesWEarly, 0.99)
	p := DefaultPhysicsParams()
	p.ScoreModel, p.ScoreW = 0, [ScoreFeatures + 1]float64{0}
	p.ScoreEarlyMinPF, p.ScoreEarlyGate = 0, 1
	p.FastNoise = 1e-9 // no fast confirmation (at FastNewHold, 20 min, as ScoreHold)
	off := p
	off.ScoreEarlyModel = 0
	p.ScoreEarlyModel, p.ScoreEarlyMinYoung = 1, 0.95
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	want := physRun(t, off, 60, 8*hr, chg)
	if slices.Contains(want, "2h20m0s fire since 2h0m0s") {
		t.Fatalf("off: signals %q: the score confirmed at ScoreHold, the case tests nothing", want)
	}
	if got := physRun(t, p, 60, 8*hr, chg); !slices.Equal(got, want) {
		t.Errorf("gated: signals %q, want %q (as off)", got, want)
	}
	p.ScoreEarlyGate = 0
	if got := physRun(t, p, 60, 8*hr, chg); len(got) == 0 || got[0] != "2h10m0s fire since 2h0m0s" {
		t.Errorf("ungated: signals %q, want the first 2h10m0s fire since 2h0m0s", got)
	}
}

// TestScoreEarlyYoungInterval: the young steps' forest confirms at
// readings up to 90 s only, even where the early score is on over 90 s
// (ScoreEarlyMinLong under 1): at 5-min readings the charge waits as with
// ScoreEarlyModel 0.
func TestScoreEarlyYoungInterval(t *testing.T) {
	p := DefaultPhysicsParams()
	p.ScoreEarlyModel, p.ScoreEarlyMinYoung = 1, 0.9
	p.scoreLimits()
	for iv, want := range map[float32]bool{10: true, 60: true, 90: true, 91: false, 300: false} {
		s := physCore{p: &p, iv: iv}
		if got := s.earlyYoungOn(); got != want {
			t.Errorf("at %g s: on %v, want %v", iv, got, want)
		}
	}
	constForest(t, &scoreTreesWEarly, 0.99)
	q := DefaultPhysicsParams()
	score := [ScoreFeatures + 1]float64{math.Log(0.9 / 0.1)}
	q.ScoreModel, q.ScoreW, q.ScoreWLong = 0, score, score
	q.ScoreEarlyMinLong, q.ScoreEarlyMinPF = 0.95, 0
	off := q
	off.ScoreEarlyModel = 0
	q.ScoreEarlyModel, q.ScoreEarlyMinYoung = 1, 0.95
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	if got := physRun(t, q, 60, 4*hr, chg); len(got) == 0 || got[0] != "2h10m0s fire since 2h0m0s" {
		t.Errorf("at 1 min: signals %q, want the first 2h10m0s fire since 2h0m0s", got)
	}
	got, want := physRun(t, q, 300, 8*hr, chg), physRun(t, off, 300, 8*hr, chg)
	if !slices.Equal(got, want) || len(want) == 0 || want[0] == "2h10m0s fire since 2h0m0s" {
		t.Errorf("at 5 min: signals %q, want %q (as off, not at 10 min)", got, want)
	}
}

// TestScoreEarlyYoungDefault pins the default: ScoreEarlyModel 1 with
// ScoreEarlyMinYoung 0.93 (round 23: the wide pool at 1 min 6,466/277 ->
// 6,471/278, detected within 20 minutes 1,372 -> 1,594; cities 225-256
// 4,842/201 -> 4,843/201, 1,035 -> 1,197; 5 min unchanged), and that off
// is off: on cutHome's homes, at 1-min and 5-min readings, ScoreEarlyModel
// 0 with a threshold, and ScoreEarlyModel 1 with ScoreEarlyMinYoung 0, run
// reading for reading as with ScoreEarlyModel 0; so do the defaults at
// 5-min readings; and at 1 min ScoreEarlyMinYoung 0.5 does change
// something, so that the homes can tell (the default 0.93 confirms none
// of their steps early).
func TestScoreEarlyYoungDefault(t *testing.T) {
	def := DefaultPhysicsParams()
	if def.ScoreEarlyModel != 1 || def.ScoreEarlyMinYoung != 0.93 {
		t.Errorf("ScoreEarlyModel %v, ScoreEarlyMinYoung %v, want 1, 0.93", def.ScoreEarlyModel, def.ScoreEarlyMinYoung)
	}
	off := def
	off.ScoreEarlyModel, off.ScoreEarlyMinYoung = 0, 0
	a, b := off, off
	a.ScoreEarlyMinYoung = 0.5
	b.ScoreEarlyModel = 1
	for _, c := range []struct {
		name  string
		p     PhysicsParams
		steps []float64
	}{{"model 0, threshold 0.5", a, []float64{60, 300}}, {"model 1, threshold 0", b, []float64{60, 300}}, {"the defaults, 5 min", def, []float64{300}}} {
		if n := sameAs(t, off, c.p, c.steps, 1.4); n == 0 {
			t.Errorf("%s: no change of state: the homes test nothing", c.name)
		}
	}
	// and on at 1 min it does change something (the homes can tell)
	on := def
	on.ScoreEarlyMinYoung = 0.5
	if !differs(off, on, 60, 1.4) {
		t.Error("ScoreEarlyModel 1 at 0.5 changed nothing on the homes at 1 min: the test above tests nothing")
	}
}

// sameAs runs cutHome's homes under p and q at each reading interval of
// steps, the non-active power ratio times the power, and fails unless
// they give the same changes, states and sessions; it returns the
// number of changes.
func sameAs(t *testing.T, p, q PhysicsParams, steps []float64, ratio float64) int {
	t.Helper()
	mp, mq := NewPhysicsModel(p), NewPhysicsModel(q)
	changes := 0
	for _, step := range steps {
		for seed := uint64(1); seed <= 30; seed++ {
			a, b := mp.New(), mq.New()
			walkCutHome(seed, step, ratio, a, b, func(s float64, ga, gb ChargeChange) bool {
				if ga != gb || !sameState(a, b) {
					t.Fatalf("%g s, seed %d at %.2f h: %v and %v (or their states differ)", step, seed, s/hr, ga, gb)
				}
				if ga != ChargeNone {
					changes++
				}
				return true
			})
		}
	}
	return changes
}

// differs reports whether cutHome's homes give a change of state under p
// that they do not under q, at reading interval step.
func differs(p, q PhysicsParams, step, ratio float64) bool {
	mp, mq := NewPhysicsModel(p), NewPhysicsModel(q)
	for seed := uint64(1); seed <= 30; seed++ {
		if walkCutHome(seed, step, ratio, mp.New(), mq.New(), func(_ float64, ga, gb ChargeChange) bool { return ga == gb }) {
			return true
		}
	}
	return false
}

// TestScoreCutSameEarlyYoung is TestScoreCutSame with the young steps'
// forest on: its sum, cut short at ScoreEarlyMinYoung, decides as the
// whole sum (ScoreTreeAll 1) does.
func TestScoreCutSameEarlyYoung(t *testing.T) {
	for _, ratio := range []float64{0.8, 1.4} {
		cutSame(t, []func(*PhysicsParams){
			func(p *PhysicsParams) { p.ScoreEarlyModel, p.ScoreEarlyMinYoung = 1, 0.5 },
			func(p *PhysicsParams) { p.ScoreEarlyModel, p.ScoreEarlyMinYoung = 1, 0.9 },
		}, ratio)
	}
}

// youngRun runs a 110 W step at 1 h over a 40 W base under p, at 1-min
// readings to 19 minutes after the step (inside the early window: no
// other path nor the score from ScoreHold on confirms by then), the base
// drawing 0.5 var per watt and the step q; it returns when the step was
// first confirmed after it began (0: not) and the session then.
func youngRun(t *testing.T, p PhysicsParams, q float64) (time.Duration, ChargeSession) {
	t.Helper()
	return boxRun(p, q, 60, 19*60)
}

// boxRun runs a 110 W step at 1 h over a 40 W base under p, a reading
// every step seconds until after seconds after the step, the base drawing
// 0.5 var per watt and the step q; it returns when the step was first
// confirmed after it began (0: not) and the session then.
func boxRun(p PhysicsParams, q, step, after float64) (time.Duration, ChargeSession) {
	load, bg := box(hr, 3*hr, 110, 0.002), base(40)
	ch := NewPhysicsModel(p).New()
	cfg := Defaults(devices.KindMeter).Charging
	for s := 0.0; s < hr+after; s += step {
		r := ChargeReading{PowerW: math.Round((bg(s)+load(s))*10) / 10, HasNA: true}
		r.NonActive = math.Round((bg(s)*0.5+q*load(s))*10) / 10
		if ch.Observe(&cfg, t0+int64(s*1000), r) == ChargeStarted {
			return time.Duration(s-hr) * time.Second, ch.Session()
		}
	}
	return 0, ChargeSession{}
}

// TestScoreEarlyYoungChecks: a step the young steps' forest confirms
// early goes through the early path's checks as any early confirmation:
// the early run (ScoreEarlyRun 2, ScoreSeqFrom 0: the looks at 10 and 15
// minutes both), the resistance check (ResistPaths' score bit: a step
// that draws no non-active power is not confirmed) and the veto
// (ScoreVeto 2: a var per watt that is no charger's); and the session it
// starts carries the young forest's probability as its confidence (the
// probability that confirmed it, as the other score paths' sessions carry
// theirs: 0.96, not the other score's 0.9), on the score path.
func TestScoreEarlyYoungChecks(t *testing.T) {
	constForest(t, &scoreTreesWEarly, 0.96)
	fair := DefaultPhysicsParams()
	fair.ScoreModel, fair.ScoreW = 0, [ScoreFeatures + 1]float64{math.Log(0.9 / 0.1)}
	fair.ScoreEarlyMinPF = 0
	fair.ScoreEarlyModel, fair.ScoreEarlyMinYoung = 1, 0.95
	with := func(set func(*PhysicsParams)) PhysicsParams {
		p := fair
		set(&p)
		return p
	}
	cases := []struct {
		name string
		p    PhysicsParams
		q    float64
		want time.Duration // 0: not confirmed within 19 min
	}{
		{"a PFC charger's var per watt (0.2): at 10 min", fair, 0.2, 10 * time.Minute},
		{"... ScoreEarlyModel 0: not", with(func(p *PhysicsParams) { p.ScoreEarlyModel = 0 }), 0.2, 0},
		{"... ScoreEarlyMinYoung 0.97, over the forest's 0.96: not", with(func(p *PhysicsParams) { p.ScoreEarlyMinYoung = 0.97 }), 0.2, 0},
		{"... ScoreEarlyRun 2 (no running sum before ScoreHold): at 15 min", with(func(p *PhysicsParams) { p.ScoreEarlyRun, p.ScoreSeqFrom = 2, 0 }), 0.2, 15 * time.Minute},
		{"no non-active power (a blanket): not", fair, 0, 0},
		{"... the score's bit out of ResistPaths: at 10 min", with(func(p *PhysicsParams) { p.ResistPaths -= 1 << pathScore }), 0, 10 * time.Minute},
		{"a var per watt that is no charger's (0.7), ScoreVeto 2: not", with(func(p *PhysicsParams) { p.ScoreVeto = 2 }), 0.7, 0},
		{"... ScoreVeto 0: at 10 min", fair, 0.7, 10 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ses := youngRun(t, c.p, c.q)
			if got != c.want {
				t.Fatalf("confirmed %s after the step, want %s (0: not within 19 min)", got, c.want)
			}
			if got != 0 && (ses.Confidence != 0.96 || ses.Path != "score") {
				t.Errorf("session confidence %v, path %q, want 0.96, score (the young forest's probability)", ses.Confidence, ses.Path)
			}
		})
	}
}
