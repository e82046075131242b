package detect

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestScoreForestLogitCut: on the four forests compiled in, for random
// features and limits (some at the log-odds itself or within rounding of
// it), LogitCut is on the same side of lo and of hi as Logit, and equal to
// it bit for bit whenever it does not stop early; unbounded, it is Logit;
// stopped at the first group, it is the base and the trees' greatest (or
// least) leaves; a forest without bounds sums every tree; a NaN feature
// is NaN.
func TestScoreForestLogitCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	for name, f := range map[string]*ScoreForest{"scoreTreesW": &scoreTreesW, "scoreTreesWLong": &scoreTreesWLong,
		"scoreDropTreesW": &scoreDropTreesW, "scoreDropTreesWLong": &scoreDropTreesWLong, "scoreTreesWEarly": &scoreTreesWEarly, "scoreTreesWYoungLong": &scoreTreesWYoungLong} {
		if len(f.rest) != f.Trees()/4+1 {
			t.Fatalf("%s: %d bounds for %d trees", name, len(f.rest), f.Trees())
		}
		cut := 0
		for r := 0; r < 20000; r++ {
			var x [ScoreFeatures]float64
			for k := range x {
				switch rng.IntN(4) {
				case 0: // a threshold the forest splits at, or next to it
					i := rng.IntN(len(f.Thr))
					x[k] = float64(f.Thr[i]) + float64(rng.IntN(3)-1)*1e-7
					if f.Thr[i] == math.MaxFloat32 {
						x[k] = 0
					}
				case 1:
					x[k] = 0
				default:
					x[k] = rng.NormFloat64() * 2
				}
			}
			z := f.Logit(&x)
			if z != f.LogitCut(&x, math.Inf(-1), math.Inf(1)) {
				t.Fatalf("%s: unbounded LogitCut is not Logit", name)
			}
			for _, lim := range [][2]float64{{z, math.Inf(1)}, {math.Nextafter(z, 9), math.Inf(1)}, {math.Inf(-1), z},
				{math.Inf(-1), math.Nextafter(z, -9)}, {z + 1e-10, z + 2e-10}, {z - 1e-10, z + 1e-10},
				{rng.NormFloat64() * 5, math.Inf(1)}, {math.Inf(-1), rng.NormFloat64() * 5}, {-1 + rng.NormFloat64()*3, 1 + rng.NormFloat64()*3}} {
				lo, hi := min(lim[0], lim[1]), max(lim[0], lim[1])
				c := f.LogitCut(&x, lo, hi)
				if (c < lo) != (z < lo) || (c >= hi) != (z >= hi) || c != z && !(c < lo || c >= hi) {
					t.Fatalf("%s: features %v, limits %g, %g: LogitCut %g, Logit %g", name, x, lo, hi, c, z)
				}
				if c != z {
					cut++
				}
			}
		}
		if cut == 0 {
			t.Errorf("%s: LogitCut never stopped early", name)
		}
		var x [ScoreFeatures]float64
		if c := f.LogitCut(&x, 1e6, math.Inf(1)); c != f.Base+f.rest[0][1] {
			t.Errorf("%s: a limit no sum reaches: %g, want the base and the greatest leaves %g", name, c, f.Base+f.rest[0][1])
		}
		if c := f.LogitCut(&x, math.Inf(-1), -1e6); c != f.Base+f.rest[0][0] {
			t.Errorf("%s: a limit every sum reaches: %g, want the base and the least leaves %g", name, c, f.Base+f.rest[0][0])
		}
		x[3] = math.NaN()
		if c := f.LogitCut(&x, 1e6, math.Inf(1)); !math.IsNaN(c) {
			t.Errorf("%s: a NaN feature: %g", name, c)
		}
		plain := ScoreForest{Depth: f.Depth, Base: f.Base, Feat: f.Feat, Thr: f.Thr, Leaf: f.Leaf}
		x[3] = 0
		if plain.LogitCut(&x, 1e6, math.Inf(1)) != f.Logit(&x) {
			t.Errorf("%s: without bounds, not every tree summed", name)
		}
	}
}

// TestScoreCutSame: the detector with the trees' score cut short (the
// default) and with every tree summed (ScoreTreeAll 1) gives the same
// changes and the same state (the sequence's sums included: the
// checkpoint) after every reading of 300 random homes at 1- and 5-min
// readings, with the default thresholds and with others (an early
// threshold, a run, a gate, a ScoreMin of 1, the drop's trees, low
// thresholds, no running sum).
func TestScoreCutSame(t *testing.T) {
	variants := []func(*PhysicsParams){
		func(*PhysicsParams) {},
		func(p *PhysicsParams) { p.ScoreEarlyMin, p.ScoreEarlyHold = 0.9, 10*60e9 },
		func(p *PhysicsParams) { p.ScoreSeq, p.ScoreSeqK, p.ScoreSeqMin = 1, 3, 0.5 },
		func(p *PhysicsParams) { p.ScoreSeq, p.ScoreSeqK, p.ScoreSeqMin, p.ScoreSeqMinLong = 3, 2, 0.6, 0.6 },
		func(p *PhysicsParams) { p.ScoreMin, p.ScoreMinLong, p.ScoreModel = 1, 1, 15 },
		func(p *PhysicsParams) {
			p.ScoreTreeMin, p.ScoreTreeMinLong, p.ScoreSeqMin, p.ScoreSeqMinLong = 0.5, 0.5, 0.2, 0.2
		},
		// ScoreSeq 0 is no running sum at any interval, whatever
		// ScoreSeqLong and ScoreSeqFromLong say (review: the young steps'
		// windows were added to a sum the cut did not bound)
		func(p *PhysicsParams) { p.ScoreSeq, p.ScoreSeqLong, p.ScoreSeqFromLong = 0, 2, 10*60e9 },
	}
	cutSame(t, variants, 0.8)
}

// TestScoreCutSameEarlyPF is TestScoreCutSame with a non-PFC charger's
// var per watt (1.4: the var detector's steps, and bit 2's), where the
// lower early threshold (ScoreEarlyMinPF) can confirm: the cut must keep
// every sum that could reach it (review of round 22a: a cut bounded by
// ScoreEarlyMin alone went unseen at 0.8).
func TestScoreCutSameEarlyPF(t *testing.T) {
	cutSame(t, []func(*PhysicsParams){
		func(*PhysicsParams) {},
		func(p *PhysicsParams) { p.ScoreEarlyMinPF, p.ScoreEarlyPFGate = 0.5, 2 },
		func(p *PhysicsParams) { p.ScoreEarlyMinPF, p.ScoreEarlyPFGate = 0.5, 0 },
	}, 1.4)
}

// cutSame runs TestScoreCutSame's homes with each variant, the non-active
// power ratio times the power, cut short and with every tree summed.
func cutSame(t *testing.T, variants []func(*PhysicsParams), ratio float64) {
	t.Helper()
	same, changes := 0, 0
	for v, set := range variants {
		pc, pa := DefaultPhysicsParams(), DefaultPhysicsParams()
		set(&pc)
		set(&pa)
		pa.ScoreTreeAll = 1
		mc, ma := NewPhysicsModel(pc), NewPhysicsModel(pa)
		for seed := uint64(1); seed <= 50; seed++ {
			c, a := mc.New(), ma.New()
			walkCutHome(seed, []float64{60, 300}[seed%2], ratio, c, a, func(s float64, gc, ga ChargeChange) bool {
				if gc != ga || !sameState(c, a) {
					t.Fatalf("variant %d, seed %d at %.2f h: cut short %v, every tree %v (or their states differ)", v, seed, s/hr, gc, ga)
				}
				if gc != ChargeNone {
					changes++
				}
				same++
				return true
			})
		}
	}
	if changes == 0 {
		t.Error("no change of state: the homes test nothing")
	}
	t.Logf("%d readings, %d changes, the same", same, changes)
}

// walkCutHome feeds cutHome(seed)'s readings every step seconds, with the
// non-active power ratio times the power, to a and b, and calls visit
// after each reading with its time (s) and both detectors' changes; visit
// returns false to stop the walk. It reports whether visit stopped it.
func walkCutHome(seed uint64, step, ratio float64, a, b Charging, visit func(s float64, ga, gb ChargeChange) bool) bool {
	cfg := Defaults(devices.KindMeter).Charging
	w := cutHome(seed)
	for s := 0.0; s < 26*hr; s += step {
		pw := math.Round(w(s)*10) / 10
		r := ChargeReading{PowerW: pw, NonActive: ratio * pw, HasNA: true}
		ts := t0 + int64(s*1000)
		if ga, gb := a.Observe(&cfg, ts, r), b.Observe(&cfg, ts, r); !visit(s, ga, gb) {
			return true
		}
	}
	return false
}

// sameState reports whether a and b hold the same checkpointed state and
// session.
func sameState(a, b Charging) bool {
	ba, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	return bytes.Equal(ba, bb) && reflect.DeepEqual(a.Session(), b.Session())
}

// cutHome is a random home of seed: a base load, perhaps a fridge, up to
// four loads of 60-260 W on for 20 min to 4 h, up to two charges.
func cutHome(seed uint64) func(float64) float64 {
	rng := rand.New(rand.NewPCG(seed, 12))
	fs := []func(float64) float64{base(30 + 60*rng.Float64())}
	if rng.IntN(2) == 0 {
		fs = append(fs, cycler(80+100*rng.Float64(), 10+20*rng.Float64(), 20+40*rng.Float64()))
	}
	for k := rng.IntN(5); k > 0; k-- {
		a := rng.Float64() * 20 * hr
		fs = append(fs, box(a, a+(0.3+4*rng.Float64())*hr, 60+200*rng.Float64(), 0.08*rng.Float64()))
	}
	for k := rng.IntN(3); k > 0; k-- {
		fs = append(fs, charge(rng.Float64()*20*hr, 1+3*rng.Float64(), 10+60*rng.Float64(), 8, 70+200*rng.Float64()))
	}
	return sumW(fs...)
}

// BenchmarkPhysicsObserveHomes: what a reading costs on average over 64
// of cutHome's homes, a day each, at 1-min and 5-min readings, with the
// trees' window score cut short (trees, the default) and with every tree
// summed (trees-all, ScoreTreeAll 1, as before round 12).
func BenchmarkPhysicsObserveHomes(b *testing.B) {
	cfg := Defaults(devices.KindMeter).Charging
	const homes = 64
	for _, every := range []int{60, 300} {
		n := 86400 / every
		ps := make([][]float64, homes)
		for h := range ps {
			w := cutHome(uint64(h + 1))
			ps[h] = make([]float64, n)
			for i := range ps[h] {
				ps[h][i] = math.Round(w(float64(i*every))*10) / 10
			}
		}
		for _, all := range []float64{0, 1} {
			name := map[float64]string{0: "trees", 1: "trees-all"}[all] + map[int]string{60: "-1min", 300: "-5min"}[every]
			b.Run(name, func(b *testing.B) {
				p := DefaultPhysicsParams()
				p.ScoreTreeAll = all
				m := NewPhysicsModel(p)
				ds := make([]Charging, homes)
				for i := range ds {
					ds[i] = m.New()
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					h, k := i%homes, i/homes
					w := ps[h][k%n]
					ds[h].Observe(&cfg, t0+int64(k*every)*1000, ChargeReading{PowerW: w, NonActive: 0.9 * w, HasNA: true})
				}
			})
		}
	}
}

// BenchmarkScoreCut: one window's log-odds of the trees, every tree summed
// (Logit) and cut short (LogitCut under the default limits of a window
// whose sequence is at 0: ScoreTreeMin and ScoreSeqMin's zero up to 90 s,
// ScoreTreeMinLong and ScoreSeqMinLong's over), on the windows that
// cutHome's homes score (traced with ScoreTrace 1, from 20 min of age).
func BenchmarkScoreCut(b *testing.B) {
	p := DefaultPhysicsParams()
	lg := func(q float64) float64 { return math.Log(q / (1 - q)) }
	for _, every := range []float64{60, 300} {
		var xs [][ScoreFeatures]float64
		q := DefaultPhysicsParams()
		q.ScoreTrace = 1
		q.Trace = func(tr *ChargingTrace) {
			if tr.Event == "score" && tr.Held >= 20*60e9 {
				var x [ScoreFeatures]float64
				for k, v := range tr.Feat {
					x[k] = float64(v)
				}
				xs = append(xs, x)
			}
		}
		cfg := Defaults(devices.KindMeter).Charging
		m := NewPhysicsModel(q)
		for h := uint64(1); h <= 64; h++ {
			w, c := cutHome(h), m.New()
			for s := 0.0; s < 26*hr; s += every {
				p := math.Round(w(s)*10) / 10
				c.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: p, NonActive: 0.9 * p, HasNA: true})
			}
		}
		f, lo := &scoreTreesW, min(lg(p.ScoreTreeMin), lg(p.ScoreSeqMin)-1.0/seqUnit)
		if every > 90 {
			f, lo = &scoreTreesWLong, min(lg(p.ScoreTreeMinLong), lg(p.ScoreSeqMinLong)-1.0/seqUnit)
		}
		iv := map[float64]string{60: "-1min", 300: "-5min"}[every]
		for _, cut := range []bool{false, true} {
			b.Run(map[bool]string{false: "all", true: "cut"}[cut]+iv, func(b *testing.B) {
				if len(xs) == 0 {
					b.Fatal("no window scored")
				}
				z := 0.0
				for i := 0; b.Loop(); i++ {
					if cut {
						z += f.LogitCut(&xs[i%len(xs)], lo, math.Inf(1))
					} else {
						z += f.Logit(&xs[i%len(xs)])
					}
				}
				b.ReportMetric(float64(len(xs)), "windows")
			})
		}
	}
}
