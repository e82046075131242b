package detect

import (
	"math"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestScoreForestLogit: a hand-made forest of two trees of depth 2: each
// row reaches the leaf its comparisons give (at the threshold: left); a
// node that does not split sends every row left; no trees, the base.
func TestScoreForestLogit(t *testing.T) {
	f := ScoreForest{Depth: 2, Base: -1,
		Feat: []uint8{0, 3, 5, 29, 0, 0},
		Thr:  []float32{0.5, 1, 2, 0, math.MaxFloat32, math.MaxFloat32},
		Leaf: []float32{1, 2, 3, 4, 10, 20, 30, 40},
	}
	if err := f.Valid(); err != nil {
		t.Fatal(err)
	}
	if f.Trees() != 2 {
		t.Fatalf("%d trees", f.Trees())
	}
	cases := []struct {
		x0, x3, x5, x29 float64
		want            float64
	}{
		{0, 0, 0, 0, -1 + 1 + 10},     // left, left; tree 2: left (x29 <= 0), then left (no split)
		{0.5, 1, 0, 1, -1 + 1 + 30},   // at the thresholds: left; tree 2: right, then left (no split)
		{0, 1.5, 0, -1, -1 + 2 + 10},  // left, right
		{0.6, 0, 2, 0, -1 + 3 + 10},   // right, left
		{0.6, 0, 2.5, 0, -1 + 4 + 10}, // right, right
		{9, 9, 9, 9, -1 + 4 + 30},     // right, right; right, left
	}
	for _, c := range cases {
		var x [ScoreFeatures]float64
		x[0], x[3], x[5], x[29] = c.x0, c.x3, c.x5, c.x29
		if got := f.Logit(&x); got != c.want {
			t.Errorf("%v: %g, want %g", c, got, c.want)
		}
	}
	// a NaN feature, split on or not: NaN, not a leaf its sign bit picks
	for _, i := range []int{0, 1} {
		var x [ScoreFeatures]float64
		x[i] = math.NaN()
		if got := f.Logit(&x); !math.IsNaN(got) {
			t.Errorf("NaN feature %d: %g, want NaN", i, got)
		}
	}
	empty := ScoreForest{Base: 0.5}
	if err := empty.Valid(); err != nil || empty.Logit(&[ScoreFeatures]float64{}) != 0.5 {
		t.Errorf("no trees: %v, %g", err, empty.Logit(&[ScoreFeatures]float64{}))
	}
	for name, bad := range map[string]ScoreForest{
		"a partial tree":  {Depth: 2, Feat: f.Feat[:5], Thr: f.Thr[:5], Leaf: f.Leaf},
		"feature 30":      {Depth: 1, Feat: []uint8{30}, Thr: []float32{0}, Leaf: []float32{0, 0}},
		"a leaf infinite": {Depth: 1, Feat: []uint8{0}, Thr: []float32{0}, Leaf: []float32{float32(math.Inf(1)), 0}},
		"depth 9":         {Depth: 9},
	} {
		if bad.Valid() == nil {
			t.Errorf("%s: valid", name)
		}
	}
}

// TestScoreForests: the five forests compiled in (cw-sim fit-score --model
// gbdt --go; the fifth, ScoreEarlyModel's young steps' one) are whole, and ScoreModel selects them interval class by
// interval class: 1 the confirmation score up to 90 s (its thresholds
// ScoreTreeMin and ScoreTreeVetoMin), 2 over 90 s (ScoreTreeMinLong), 4
// and 8 the drop-time score (ScoreTreeDropMin, ScoreTreeDropMinLong).
func TestScoreForests(t *testing.T) {
	for name, f := range map[string]*ScoreForest{"scoreTreesW": &scoreTreesW, "scoreTreesWLong": &scoreTreesWLong,
		"scoreDropTreesW": &scoreDropTreesW, "scoreDropTreesWLong": &scoreDropTreesWLong, "scoreTreesWEarly": &scoreTreesWEarly, "scoreTreesWYoungLong": &scoreTreesWYoungLong} {
		if err := f.Valid(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if f.Trees() == 0 {
			t.Errorf("%s: no trees", name)
		}
	}
	var x [ScoreFeatures]float64
	x[1], x[8], x[20] = 0.2, 1, 1
	logit := func(q float64) float64 { return math.Log(q / (1 - q)) }
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	p := DefaultPhysicsParams()
	if p.ScoreModel != 11 || p.scoreLogit(&x, 60) != scoreTreesW.Logit(&x) || p.scoreLogit(&x, 300) != scoreTreesWLong.Logit(&x) {
		t.Errorf("the default is not the trees' confirmation score at both intervals (round 11)")
	}
	p.ScoreModel = 0
	if p.scoreLogit(&x, 60) == scoreTreesW.Logit(&x) || p.scoreLogit(&x, 300) == scoreTreesWLong.Logit(&x) {
		t.Errorf("ScoreModel 0 is not the logistic regression")
	}
	p.ScoreTreeMin, p.ScoreTreeMinLong, p.ScoreTreeVetoMin = 0.5, 0.25, 0.75
	p.ScoreTreeDropMin, p.ScoreTreeDropMinLong = 0.6, 0.2
	for _, c := range []struct {
		model                      float64
		trees, treesLong           bool
		zMin, zMinLong, zVeto, zVL float64
		drop, dropLong             bool
		zDrop, zDropLong           float64
	}{
		{0, false, false, logit(0.93), logit(0.85), logit(0.4), logit(0.4), false, false, logit(0.15), logit(0.3)},
		{1, true, false, 0, logit(0.85), logit(0.75), logit(0.4), false, false, logit(0.15), logit(0.3)},
		{2, false, true, logit(0.93), logit(0.25), logit(0.4), logit(0.75), false, false, logit(0.15), logit(0.3)},
		{3, true, true, 0, logit(0.25), logit(0.75), logit(0.75), false, false, logit(0.15), logit(0.3)},
		{12, false, false, logit(0.93), logit(0.85), logit(0.4), logit(0.4), true, true, logit(0.6), logit(0.2)},
		{4, false, false, logit(0.93), logit(0.85), logit(0.4), logit(0.4), true, false, logit(0.6), logit(0.3)},
	} {
		p.ScoreModel = c.model
		p.scoreLimits()
		if (p.scoreLogit(&x, 60) == scoreTreesW.Logit(&x)) != c.trees || (p.scoreLogit(&x, 300) == scoreTreesWLong.Logit(&x)) != c.treesLong ||
			p.scoreTrees(true, 60) != c.drop || p.scoreTrees(true, 300) != c.dropLong {
			t.Errorf("ScoreModel %g: the wrong models", c.model)
		}
		if !near(p.scoreZMin, c.zMin) || !near(p.scoreZMinLong, c.zMinLong) || !near(p.scoreZVeto, c.zVeto) || !near(p.scoreZVetoLong, c.zVL) ||
			!near(p.scoreZDrop, c.zDrop) || !near(p.scoreZDropLong, c.zDropLong) {
			t.Errorf("ScoreModel %g: thresholds %g %g %g %g %g %g", c.model, p.scoreZMin, p.scoreZMinLong, p.scoreZVeto, p.scoreZVetoLong, p.scoreZDrop, p.scoreZDropLong)
		}
	}
	if scoreTreesOf(true, 60) != &scoreDropTreesW || scoreTreesOf(true, 300) != &scoreDropTreesWLong || scoreTreesOf(false, 90) != &scoreTreesW {
		t.Error("the forests by interval")
	}
}

// TestScoreModelPath: with the trees (ScoreModel 15), as with the logistic
// regression, look-alikes raise nothing and a flat charge is confirmed;
// the trace carries the trees' log-odds.
func TestScoreModelPath(t *testing.T) {
	p := DefaultPhysicsParams()
	p.ScoreModel = 15
	for _, c := range []struct {
		name string
		w    func(float64) float64
	}{
		{"fridge cycles", sumW(base(40), cycler(110, 18, 30))},
		{"a steady 16-min load twice an evening", sumW(base(40), box(hr, hr+16*60, 120, 0.002), box(3*hr, 3*hr+16*60, 120, 0.002))},
		{"a television", sumW(base(40), box(hr, 5*hr, 150, 0.12))},
		{"a desktop PC overnight", sumW(base(40), box(hr, 11*hr, 90, 0.08))},
		{"a lamp of 60 W for five hours", sumW(base(40), box(hr, 6*hr, 60, 0.003))},
	} {
		if got, _ := physRunPaths(t, p, 12*hr, c.w); len(got) > 0 {
			t.Errorf("%s: signals %q", c.name, got)
		}
	}
	if got, _ := physRunPaths(t, p, 8*hr, sumW(base(40), charge(hr, 3, 30, 7, 130))); len(got) == 0 {
		t.Error("a flat charge of 130 W: no signal")
	}
	evs, _ := scoreEvents(t, p, 60, 3*hr, sumW(base(40), charge(hr, 3, 30, 7, 130)), false)
	if len(evs) == 0 {
		t.Fatal("no score traced")
	}
	for _, tr := range evs {
		var f [ScoreFeatures]float64
		for k, v := range tr.Feat {
			f[k] = float64(v)
		}
		// the features were traced as float32: the log-odds may differ
		// where a feature lies within float32 rounding of a threshold
		if z := scoreTreesW.Logit(&f); math.Abs(z-tr.Score) > 0.5 {
			t.Errorf("at %v: traced log-odds %g, the trees' %g", tr.Held, tr.Score, z)
		}
	}
}

// BenchmarkScoreModel: one scoring (the features, then the log-odds) by
// the logistic regression and by the trees.
func BenchmarkScoreModel(b *testing.B) {
	for _, model := range []float64{0, 1} {
		name := map[float64]string{0: "logistic", 1: "trees"}[model]
		b.Run(name, func(b *testing.B) {
			p := DefaultPhysicsParams()
			p.ScoreModel = model
			var xs [][ScoreFeatures]float64
			for i := range 64 {
				var x [ScoreFeatures]float64
				for k := range x {
					x[k] = math.Sin(float64(i*31+k*7)) * 2
				}
				xs = append(xs, x)
			}
			b.ReportAllocs()
			b.ResetTimer()
			z := 0.0
			for i := 0; i < b.N; i++ {
				z += p.scoreLogit(&xs[i&63], 60)
			}
			if math.IsNaN(z) {
				b.Fatal("NaN")
			}
		})
	}
}

// BenchmarkPhysicsObserveScoreModel is BenchmarkPhysicsObserve's busy home
// (with the power factor) with the logistic regression and with the trees
// (ScoreModel 15), at 1-min and at 5-min readings (where every reading of
// an open step is scored): what a reading costs on average, the scoring
// included; trees-all sums every tree of every window (ScoreTreeAll 1, as
// before round 12's early exit).
func BenchmarkPhysicsObserveScoreModel(b *testing.B) {
	w := sumW(base(40), cycler(110, 18, 30), box(17*hr, 23*hr, 80, 0.02), box(19*hr, 22*hr, 150, 0.12),
		box(19*hr, 19*hr+240, 1900, 0.01), charge(20*hr+3*60, 3, 30, 9, 130))
	cfg := Defaults(devices.KindMeter).Charging
	const devs = 256
	for _, every := range []int{60, 300} {
		n := 86400 / every
		ps := make([]float64, n)
		for i := range ps {
			ps[i] = math.Round(w(float64(i*every))*10) / 10
		}
		for _, model := range []float64{0, 15, 16} {
			name := map[float64]string{0: "logistic", 15: "trees", 16: "trees-all"}[model] + map[int]string{60: "-1min", 300: "-5min"}[every]
			b.Run(name, func(b *testing.B) {
				p := DefaultPhysicsParams()
				p.ScoreModel = model
				if model == 16 {
					p.ScoreModel, p.ScoreTreeAll = 15, 1
				}
				m := NewPhysicsModel(p)
				ds := make([]Charging, devs)
				for i := range ds {
					ds[i] = m.New()
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					k := i / devs
					w := ps[k%n]
					ds[i%devs].Observe(&cfg, t0+int64(k*every)*1000, ChargeReading{PowerW: w, NonActive: 0.9 * w, HasNA: true})
				}
			})
		}
	}
}
