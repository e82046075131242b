package detect

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// scoreEvents runs a series through the model with the score's features
// traced (ScoreTrace) and returns the "score" events of the active core
// (or of the non-active one with nv), by the step's age in minutes, and
// the signals.
func scoreEvents(t *testing.T, p PhysicsParams, step, end float64, w func(float64) float64, nv bool) (map[int]ChargingTrace, []string) {
	t.Helper()
	evs := map[int]ChargingTrace{}
	p.ScoreTrace = 1
	p.Trace = func(tr *ChargingTrace) {
		if tr.Event == "score" && tr.Var == nv {
			m := int(tr.Held.Minutes())
			if _, ok := evs[m]; !ok {
				evs[m] = *tr
			}
		}
	}
	return evs, physRun(t, p, step, end, w)
}

func feat(tr ChargingTrace, name string) float64 {
	return float64(tr.Feat[slices.Index(ScoreNames[:], name)])
}

// TestScoreFeatures checks the features of the learned score on short
// series: what the detector knows of a step at a judgement.
func TestScoreFeatures(t *testing.T) {
	off := DefaultPhysicsParams()
	off.ScoreMin = 0 // the features alone; the other paths as they are
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.02 }
	cases := []struct {
		name string
		step float64
		w    func(float64) float64
		age  int                        // minutes
		want map[string]float64         // features and their values (±0.02)
		test func(ChargingTrace) string // another check, "" when it holds
	}{
		{"a flat 110 W charge at 1 min, at 10 minutes: passed the fast test, its overshoot known, its level over its reference", 60,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110)), 10,
			map[string]float64{"log_held": 0,
				"log_level":         math.Log(1.034), // 110 W × (1 - 3 × 2%)
				"overshoot_unknown": 0, "passed_fast": 1, "var_core": 0,
				"pf_known": 0, "split_or_big": 0, "cycler_like": 0, "log_interval": 0, "held_x_fast": 0},
			func(tr ChargingTrace) string {
				if v := feat(tr, "level_now"); v < 0.95 || v > 1.3 {
					return "level_now out of 0.95-1.3"
				}
				if feat(tr, "log_noise") > 0 {
					return "a charge's noise over the fast limit"
				}
				return ""
			}},
		{"over a noisier base (confirmed by its rise at 62 min), at 20 minutes: the age, not passed fast", 60,
			sumW(base(150), charge(2*hr, 3, 30, 7, 110)), 20,
			map[string]float64{"log_held": math.Log(2), "passed_fast": 0, "held_x_fast": 0},
			func(tr ChargingTrace) string {
				if v := feat(tr, "quiet_share"); v < 0.7 || v > 0.85 {
					return "quiet share out of 0.7-0.85 (four minutes settling of 20)"
				}
				return ""
			}},
		{"at 5-min readings: the overshoot is not known, the interval", 300, sumW(base(40), charge(2*hr, 3, 30, 7, 110)), 5,
			map[string]float64{"overshoot_unknown": 1, "overshoot": 0, "log_interval": math.Log(5)}, nil},
		{"a fridge's start-up peak: overshoot over 12%, compressor-like", 60, sumW(base(40), cycler(110, 18, 30)), 10,
			map[string]float64{"cycler_like": 1, "overshoot_unknown": 0},
			func(tr ChargingTrace) string {
				if feat(tr, "overshoot") < 0.12 {
					return "overshoot under 12%"
				}
				return ""
			}},
		{"a television: noisy, not passed fast", 60, sumW(base(40), box(hr, 5*hr, 150, 0.12)), 10,
			map[string]float64{"passed_fast": 0},
			func(tr ChargingTrace) string {
				if feat(tr, "log_noise") < 1.5 {
					return "a television's noise under 4.5 times the fast limit"
				}
				return ""
			}},
		{"... at an hour: its rise's t in the charger's range", 60, sumW(base(150), charge(2*hr, 3, 30, 7, 110)), 60,
			map[string]float64{},
			func(tr ChargingTrace) string {
				if feat(tr, "rise_t_in_range") <= 0.5 || feat(tr, "rise_t_in_range") != feat(tr, "rise_t") {
					return "no rise in range"
				}
				return ""
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, _ := scoreEvents(t, off, c.step, 5*hr, c.w, false)
			tr, ok := evs[c.age]
			if !ok {
				t.Fatalf("no score event at %d min (events at %v)", c.age, mapsKeys(evs))
			}
			for n, v := range c.want {
				if got := feat(tr, n); !near(got, v) {
					t.Errorf("%s %.3f, want %.3f", n, got, v)
				}
			}
			if c.test != nil {
				if why := c.test(tr); why != "" {
					t.Errorf("%s: %v", why, tr.Feat)
				}
			}
		})
	}
}

func mapsKeys(m map[int]ChargingTrace) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestScoreCadence: the score is computed (and traced) once every five
// minutes of a step's life from five minutes on, only with ScoreTrace or
// ScoreMin set.
func TestScoreCadence(t *testing.T) {
	p := DefaultPhysicsParams()
	p.ScoreMin = 0
	evs, _ := scoreEvents(t, p, 60, 4*hr, sumW(base(40), charge(2*hr, 3, 30, 7, 110)), false)
	if got, want := mapsKeys(evs), []int{5, 10, 15}; !slices.Equal(got, want) {
		t.Errorf("score events at %v min, want %v (the fast path fires at 20, before the score)", got, want)
	}
	evs, _ = scoreEvents(t, p, 300, 4*hr, sumW(base(40), charge(2*hr, 3, 30, 7, 110)), false)
	if got, want := mapsKeys(evs), []int{5, 10, 15, 20, 25, 30, 35}; !slices.Equal(got, want) {
		t.Errorf("at 5-min readings, score events at %v min, want %v (every reading; fast at 40)", got, want)
	}
	n := 0
	p.Trace = func(tr *ChargingTrace) {
		if tr.Event == "score" {
			n++
		}
	}
	physRun(t, p, 60, 4*hr, sumW(base(40), charge(2*hr, 3, 30, 7, 110)))
	if n != 0 {
		t.Errorf("%d score events without ScoreTrace", n)
	}
}

// TestScoreDue: whatever the spacing of the readings, a step is scored
// once in each 5-minute window of its age that holds a reading, at its
// first reading there (it was scored by the mean interval, which missed
// windows and scored others twice when readings jittered or skipped).
func TestScoreDue(t *testing.T) {
	for _, c := range []struct {
		name   string
		mean   int64 // ms between readings
		jitter int64 // ± ms
		skip   int   // every skip-th reading is lost (a gap), 0 none
	}{
		{"1 min", 60000, 0, 0},
		{"1 min ± 15 s", 60000, 15000, 0},
		{"30 s ± 10 s", 30000, 10000, 0},
		{"1 min, every 7th lost", 60000, 5000, 7},
		{"4 min ± 30 s", 240000, 30000, 0},
		{"5 min ± 40 s", 300000, 40000, 0},
		{"10 s ± 3 s", 10000, 3000, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := physCore{iv: float32(c.mean) / 1000} // the mean interval, as the old cadence used
			due := map[int64]int{}                    // window: scorings
			seen := map[int64]bool{}                  // windows with a reading
			held, x := int64(0), uint32(12345)
			for k := 1; held < 8*3600000; k++ {
				x = x*1664525 + 1013904223 // a fixed sequence
				step := c.mean
				if c.jitter > 0 {
					step += int64(x>>8)%(2*c.jitter+1) - c.jitter
				}
				if c.skip > 0 && k%c.skip == 0 {
					step += c.mean
				}
				held += step
				s.gap = int32(step)
				seen[held/scoreEvery] = true
				if s.scoreDue(held) {
					due[held/scoreEvery]++
				}
			}
			for w := range seen {
				if w > 0 && due[w] != 1 {
					t.Errorf("window %d-%d min: scored %d times, want once", w*5, w*5+5, due[w])
				}
			}
			for w := range due {
				if !seen[w] {
					t.Errorf("window %d scored without a reading", w)
				}
			}
		})
	}
}

// TestScorePath checks the confirmation by the score: ScoreMin 0 turns
// it off, ScoreHold delays it, and with the defaults the look-alikes of
// TestPhysicsFeatures still raise nothing (TestPhysicsNonActive has a
// charge the default score confirms before the rise).
func TestScorePath(t *testing.T) {
	def := DefaultPhysicsParams()
	always := def
	always.ScoreModel = 0                          // the logistic regression's,
	always.ScoreW = [ScoreFeatures + 1]float64{10} // for any step in the band
	always.ScoreHold = 5 * time.Minute
	never := always
	never.ScoreMin = 0
	cases := []struct {
		name string
		p    PhysicsParams
		w    func(float64) float64
		want []string
		path string // the path that fired, when one did
	}{
		{"a score of 1: fired at ScoreHold (5 min)", always, sumW(base(40), box(hr, 3*hr, 150, 0.12)),
			[]string{"1h5m0s fire since 1h0m0s", "3h0m0s clear since 1h0m0s"}, "score"},
		{"... not with ScoreMin 0", never, sumW(base(40), box(hr, 3*hr, 150, 0.12)), nil, ""},
		{"fridge cycles raise nothing", def, sumW(base(40), cycler(110, 18, 30)), nil, ""},
		{"a steady 16-min load twice an evening raises nothing (ScoreHold 20 min)", def,
			sumW(base(40), box(hr, hr+16*60, 120, 0.002), box(3*hr, 3*hr+16*60, 120, 0.002)), nil, ""},
		{"a television raises nothing", def, sumW(base(40), box(hr, 5*hr, 150, 0.12)), nil, ""},
		{"a desktop PC overnight raises nothing", def, sumW(base(40), box(hr, 11*hr, 90, 0.08)), nil, ""},
		{"a lamp of 60 W for five hours raises nothing", def, sumW(base(40), box(hr, 6*hr, 60, 0.003)), nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, fired := physRunPaths(t, c.p, 12*hr, c.w)
			if c.want != nil && !slices.Equal(got, c.want) || c.want == nil && c.path == "" && len(got) > 0 {
				t.Errorf("signals %q, want %q", got, c.want)
			}
			if c.path != "" && (len(fired) == 0 || fired[0] != c.path) {
				t.Errorf("fired by %q, want %q", fired, c.path)
			}
		})
	}
}

// physRunPaths runs a 1-min series through the model as physRun does and
// also returns the paths that confirmed its charges, in order.
func physRunPaths(t *testing.T, p PhysicsParams, end float64, w func(float64) float64) (signals, paths []string) {
	t.Helper()
	p.Trace = func(tr *ChargingTrace) {
		if tr.Event == "fire" {
			paths = append(paths, tr.Reason)
		}
	}
	signals = physRun(t, p, 60, end, w)
	return signals, paths
}

// TestScoreCheckpoint: the score reads only what the checkpoint keeps (the
// layout is unchanged): a state restored before the score fires fires when
// the whole series does, and a charge it confirmed restores its path.
func TestScoreCheckpoint(t *testing.T) {
	p := DefaultPhysicsParams()
	// the logistic regression's score, forced high, judged window by
	// window (a sequence's state is version 5: TestSeqCheckpoint)
	p.ScoreModel, p.ScoreSeq = 0, 0
	p.ScoreW = [ScoreFeatures + 1]float64{10}
	p.ScoreHold = 5 * time.Minute
	m := NewPhysicsModel(p)
	w := sumW(base(40), box(hr, 4*hr, 150, 0.12))
	// no session yet: what a binary from before the score reads
	_, ch2 := cutRestore(t, "no session yet", m, w, hr+3*60, 2*hr, physVersionNoScr, "1h5m0s")
	b, _ := ch2.MarshalBinary()
	if v := b[len(physMagic)]; v != physVersion {
		// a binary from before the score (versions up to 3) then starts
		// this device's charging detector afresh rather than refusing the
		// whole checkpoint as corrupt at the unknown path
		t.Errorf("a session the score confirmed: checkpoint version %d, want %d", v, physVersion)
	}
	ch3 := m.New()
	if err := ch3.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if s := ch3.Session(); s.Path != "score" || s.Confidence != 0.97 {
		t.Errorf("restored session: path %q confidence %.2f, want score 0.97", s.Path, s.Confidence)
	}
	// once the session ended, version 3 again, with no path a version-3
	// reader does not know
	cfg := Defaults(devices.KindMeter).Charging
	startedAt(ch3, &cfg, w, 2*hr, 5*hr)
	ended, _ := ch3.MarshalBinary()
	if v := ended[len(physMagic)]; v != physVersionNoScr {
		t.Errorf("the score's session ended: checkpoint version %d, want %d", v, physVersionNoScr)
	}
	ch4 := m.New()
	if err := ch4.UnmarshalBinary(ended); err != nil {
		t.Fatal(err)
	}
	if s := ch4.Session(); s.Path == "score" {
		t.Errorf("an ended session written as version 3 kept the score's path")
	}
	// as a reader from before the score sees it: a version it does not
	// know is another model's state, not a corrupt one
	old := slices.Clone(b)
	old[len(physMagic)] = physVersionMemProof + 1 // (physVersionSeq + 1 until round 13b made 6 the held band's, 13e 7 the fifth slot's, 13f 8 the remembered up-edge's, 26a 9 the x flags, 33 10 their shared bits, 36 11 the memory's proof count)
	if err := m.New().UnmarshalBinary(old); !errors.Is(err, ErrOtherChargingModel) {
		t.Errorf("an unknown checkpoint version: %v, want ErrOtherChargingModel", err)
	}
}

// TestScoreNoAllocs: with the score on and due (and its features traced
// off), a reading allocates nothing, whichever model and sequence judge.
func TestScoreNoAllocs(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	w := sumW(base(40), cycler(110, 18, 30), box(hr, 3*hr, 150, 0.12), charge(hr+120, 3, 30, 7, 130))
	for _, c := range []struct {
		name string
		set  func(p *PhysicsParams)
	}{
		{"the defaults: the trees, a running sum", func(p *PhysicsParams) {}},
		{"the logistic regression, window by window", func(p *PhysicsParams) { p.ScoreModel, p.ScoreSeq = 0, 0 }},
		{"every forest", func(p *PhysicsParams) { p.ScoreModel = 15 }},
		{"a run of windows alone", func(p *PhysicsParams) { p.ScoreMin, p.ScoreTreeMin, p.ScoreSeq, p.ScoreSeqK = 1, 1, 1, 3 }},
	} {
		p := DefaultPhysicsParams()
		p.ScoreHold = 0
		c.set(&p)
		ch := NewPhysicsModel(p).New()
		s := 0.0
		allocs := testing.AllocsPerRun(3*60, func() {
			ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: w(s), NonActive: 0.9 * w(s), HasNA: true})
			s += 60
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per reading", c.name, allocs)
		}
	}
}

// TestFlog: the score's logarithm is within 1e-6 of math.Log.
func TestFlog(t *testing.T) {
	for _, x := range []float64{1e-4, 0.008, 0.1, 0.5, 0.999, 1, 1.5, 2, 3.7, 100, 12345.6, 1e9} {
		if d := math.Abs(flog(x) - math.Log(x)); d > 1e-6 {
			t.Errorf("flog(%g) off by %g", x, d)
		}
	}
}

// TestScoreDrop checks the drop-time score (ScoreDropMin): a flat charge
// that nothing confirms on its plateau (as in TestPhysicsTaperDeclined,
// with the declined-taper path off) is confirmed by the score when its
// taper takes it under its hold level, while its float is still on; not
// with ScoreDropMin 0, nor when what is left over its reference is too
// little (ScoreDropLeft), nor before ScoreDropHold; a lamp switched off
// (a down-edge that matches it) raises nothing, and neither does a step
// over the band.
func TestScoreDrop(t *testing.T) {
	def := DefaultPhysicsParams()
	// nothing on the plateau: no fast confirmation, no memory, no decline,
	// no score while it holds (round 11's trees confirm the lamp below)
	def.FastNoise, def.FastNoiseW, def.KnownHold, def.TaperFallT = 1e-9, 0, 0, 0
	def.ScoreTreeMin, def.ScoreSeq = 1, 0
	off := def
	off.ScoreDropMin = 0
	left := def
	left.ScoreDropLeft = 1
	late := def
	late.ScoreDropHold = 5 * time.Hour
	always := def
	always.ScoreDropW = [ScoreFeatures + 1]float64{10}
	flat := sumW(base(40), flatCharge)
	cases := []struct {
		name string
		p    PhysicsParams
		w    func(float64) float64
		want []string
	}{
		// cleared at 6h1m until round 20a (EndLevel 0.2)
		{"a flat charge's taper: confirmed at the drop", def, flat, []string{"4h47m0s fire since 1h0m0s", "5h47m0s clear since 1h0m0s"}},
		{"... not with ScoreDropMin 0", off, flat, nil},
		{"... not with ScoreDropLeft 1", left, flat, nil},
		{"... not before ScoreDropHold (5 h)", late, flat, nil},
		{"a lamp switched off raises nothing, whatever its score", always, sumW(base(40), box(hr, 4*hr, 130, 0.004)), nil},
		{"a 1,500 W step that fell raises nothing, whatever its score", always,
			sumW(base(40), box(hr, 4*hr, 1500, 0.004), box(4*hr, 6*hr, 400, 0.004)), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, fired := physRunPaths(t, c.p, 8*hr, c.w)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals %q, want %q", got, c.want)
			}
			if c.want != nil && (len(fired) == 0 || fired[0] != "score") {
				t.Errorf("fired by %q, want score", fired)
			}
		})
	}
}

// TestScoreDropTrace: ScoreTrace 2 traces the features at the drop only,
// with the drop-time coefficients' log-odds; ScoreTrace 1 at the regular
// judgements only.
func TestScoreDropTrace(t *testing.T) {
	p := DefaultPhysicsParams()
	p.FastNoise, p.FastNoiseW, p.KnownHold, p.TaperFallT = 1e-9, 0, 0, 0
	p.ScoreDropMin = 0
	var drop, regular []ChargingTrace
	for _, mode := range []float64{1, 2} {
		q := p
		q.ScoreTrace = mode
		q.Trace = func(tr *ChargingTrace) {
			if tr.Event == "score" && !tr.Var {
				if mode == 2 {
					drop = append(drop, *tr)
				} else {
					regular = append(regular, *tr)
				}
			}
		}
		physRun(t, q, 60, 8*hr, sumW(base(40), flatCharge))
	}
	if len(drop) != 1 || drop[0].Held != 3*time.Hour+47*time.Minute {
		t.Fatalf("drop-time rows: %d (%v), want one at 3h47m", len(drop), drop)
	}
	var f [ScoreFeatures]float64
	for i, v := range drop[0].Feat {
		f[i] = float64(v)
	}
	z := p.ScoreDropW[0]
	for i, v := range f {
		z += p.ScoreDropW[i+1] * v
	}
	if math.Abs(z-drop[0].Score) > 1e-3 {
		t.Errorf("drop-time log-odds %.4f, want %.4f (ScoreDropW)", drop[0].Score, z)
	}
	if lv := feat(drop[0], "level_now"); lv >= p.Hold {
		t.Errorf("level_now %.2f at the drop, want under the hold level %.2f", lv, p.Hold)
	}
	if len(regular) < 20 || slices.ContainsFunc(regular, func(tr ChargingTrace) bool { return tr.Held == drop[0].Held }) {
		t.Errorf("regular rows: %d, one at the drop", len(regular))
	}
}

// TestScoreDropMemory: a charge confirmed by its drop-time score teaches
// the unit's memory nothing when it ends: it had already fallen, and its
// verdict (here "charger", from its plateau's rise) is not to be trusted
// either way.
func TestScoreDropMemory(t *testing.T) {
	p := DefaultPhysicsParams()
	p.FastNoise, p.FastNoiseW, p.KnownHold, p.TaperFallT = 1e-9, 0, 0, 0
	p.ScoreDropW = [ScoreFeatures + 1]float64{10}
	m := NewPhysicsModel(p)
	ch := m.New().(*physCharging)
	cfg := Defaults(devices.KindMeter).Charging
	w := sumW(base(40), flatCharge)
	started := false
	for s := 0.0; s < 8*hr; s += 60 {
		if ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10}) == ChargeStarted {
			started = true
		}
	}
	if !started || ch.Session().Path != "score" {
		t.Fatalf("not confirmed by the score (started %v, path %q)", started, ch.Session().Path)
	}
	for _, g := range ch.pc.mem {
		if g.charger > 0 || g.other > 0 {
			t.Errorf("the memory learnt a %.0f W load (charger %d, other %d)", g.w, g.charger, g.other)
		}
	}
}

// TestScoreEarly checks the early threshold (ScoreEarlyMin): a step whose
// score reaches it is confirmed from ScoreEarlyHold, one whose score
// reaches only ScoreMin at ScoreHold; 0 turns it off.
func TestScoreEarly(t *testing.T) {
	sure := DefaultPhysicsParams()
	sure.ScoreModel = 0                          // the logistic regression's score
	sure.ScoreW = [ScoreFeatures + 1]float64{10} // p 0.99995
	sure.ScoreEarlyMin, sure.ScoreEarlyHold = 0.99, 10*time.Minute
	sure.ScoreEarlyGate = 0 // the threshold alone: a power-only step has none of the gate's evidence (TestScoreEarlyGate)
	fair := sure
	fair.ScoreW = [ScoreFeatures + 1]float64{3} // p 0.953: over ScoreMin, under ScoreEarlyMin
	off := sure
	off.ScoreEarlyMin = 0
	tv := sumW(base(40), box(hr, 3*hr, 150, 0.12))
	for _, c := range []struct {
		name string
		p    PhysicsParams
		want string
	}{
		{"a sure step: at ScoreEarlyHold (10 min)", sure, "1h10m0s fire since 1h0m0s"},
		{"a fair one: at ScoreHold (20 min)", fair, "1h20m0s fire since 1h0m0s"},
		{"the early threshold off: at ScoreHold", off, "1h20m0s fire since 1h0m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := physRun(t, c.p, 60, 4*hr, tv)
			if len(got) == 0 || got[0] != c.want {
				t.Errorf("signals %q, want %q first", got, c.want)
			}
		})
	}
}
