package detect

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// youngLongFair is the defaults, the young steps' 5-min forest off, with the logistic score at a constant
// probability of 0.5 (under ScoreMinLong: the score of every age never
// confirms) and no fast confirmation, so that at 5-min readings a charge
// is confirmed from ScoreHold on by the young steps' forest or not at all
// by the score.
func youngLongFair() PhysicsParams {
	p := DefaultPhysicsParams()
	p.ScoreModel, p.ScoreW, p.ScoreWLong = 0, [ScoreFeatures + 1]float64{0}, [ScoreFeatures + 1]float64{0}
	p.FastNoise = 1e-9
	p.ScoreYoungHoldLong, p.ScoreYoungMinLong = 0, 0 // off: the cases turn it on
	return p
}

// TestScoreYoungLong: with ScoreYoungHoldLong and ScoreYoungMinLong, at
// 5-min readings the young steps' forest confirms a step held ScoreHold
// (20 min) or more but under ScoreYoungHoldLong when its probability
// reaches ScoreYoungMinLong; either parameter 0 (or the threshold 1) is
// off, a window that ends at ScoreHold or before is off, ScoreMinLong 1
// (no single window confirms over 90 s) holds it too, and at 1-min
// readings it is off.
func TestScoreYoungLong(t *testing.T) {
	fair := youngLongFair()
	with := func(hold time.Duration, min float64) PhysicsParams {
		p := fair
		p.ScoreYoungHoldLong, p.ScoreYoungMinLong = hold, min
		return p
	}
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	off5 := physRun(t, fair, 300, 8*hr, chg)
	at20 := "2h20m0s fire since 2h0m0s"
	if len(off5) > 0 && off5[0] == at20 {
		t.Fatalf("off at 5 min: signals %q: confirmed at ScoreHold, the cases test nothing", off5)
	}
	cases := []struct {
		name  string
		p     PhysicsParams
		step  float64
		young float64
		want  []string // nil: as with ScoreYoungMinLong 0
	}{
		{"on, 0.99 over 0.95: at ScoreHold", with(time.Hour, 0.95), 300, 0.99, []string{at20}},
		{"on, 0.95 reaches 0.95: at ScoreHold", with(time.Hour, 0.95), 300, 0.95, []string{at20}},
		{"on, 0.9 under 0.95: as off", with(time.Hour, 0.95), 300, 0.9, nil},
		{"ScoreYoungMinLong 0: off", with(time.Hour, 0), 300, 0.99, nil},
		{"ScoreYoungMinLong 1: off", with(time.Hour, 1), 300, 0.99, nil},
		{"ScoreYoungHoldLong 0: off", with(0, 0.95), 300, 0.99, nil},
		{"ScoreYoungHoldLong 20 min (ScoreHold): no window, off", with(20*time.Minute, 0.95), 300, 0.99, nil},
		{"at 1 min: off", with(time.Hour, 0.95), 60, 0.99, nil},
		{"ScoreMinLong 1 (no single window confirms): off", func() PhysicsParams { p := with(time.Hour, 0.95); p.ScoreMinLong = 1; return p }(), 300, 0.99, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			constForest(t, &scoreTreesWYoungLong, c.young)
			got := physRun(t, c.p, c.step, 8*hr, chg)
			q := c.p
			q.ScoreYoungMinLong = 0
			want := physRun(t, q, c.step, 8*hr, chg)
			if c.want != nil {
				if len(got) == 0 || got[0] != c.want[0] {
					t.Errorf("signals %q, want first %q", got, c.want[0])
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Errorf("signals %q, want %q (as off)", got, want)
			}
		})
	}
}

// TestScoreYoungLongWindow: the young steps' forest confirms only in its
// window: a step held ScoreYoungHoldLong or more is not confirmed by it,
// and one under ScoreHold is not either (the window opens with the score
// path's). youngLongOn is on over 90 s only.
func TestScoreYoungLongWindow(t *testing.T) {
	p := DefaultPhysicsParams()
	p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.9
	p.scoreLimits()
	for iv, want := range map[float32]bool{10: false, 60: false, 90: false, 91: true, 300: true} {
		s := physCore{p: &p, iv: iv}
		if got := s.youngLongOn(); got != want {
			t.Errorf("at %g s: on %v, want %v", iv, got, want)
		}
	}
	constForest(t, &scoreTreesWYoungLong, 0.99)
	s := physCore{p: &p, iv: 300}
	var f [ScoreFeatures]float64
	for _, c := range []struct {
		held time.Duration
		want bool
	}{{25 * time.Minute, true}, {55 * time.Minute, true}, {time.Hour, false}, {2 * time.Hour, false}} {
		if got, _ := s.youngLong(&f, c.held.Milliseconds()); got != c.want {
			t.Errorf("held %s: %v, want %v", c.held, got, c.want)
		}
	}
	// under ScoreHold the score path does not judge: the same run with the
	// window from 0 to ScoreHold is as off
	fair := youngLongFair()
	q := fair
	q.ScoreYoungHoldLong, q.ScoreYoungMinLong = 20*time.Minute, 0.5
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	if got, want := physRun(t, q, 300, 8*hr, chg), physRun(t, fair, 300, 8*hr, chg); !slices.Equal(got, want) {
		t.Errorf("window ending at ScoreHold: signals %q, want %q (as off)", got, want)
	}
}

// young5Run is youngRun at 5-min readings to 50 minutes after the step.
func young5Run(t *testing.T, p PhysicsParams, q float64) (time.Duration, ChargeSession) {
	t.Helper()
	return boxRun(p, q, 300, 50*60)
}

// TestScoreYoungLongChecks: a step the young steps' 5-min forest confirms
// goes through the score path's checks: the resistance check
// (ResistMaxLong with ResistPaths' score bit: a step that draws no
// non-active power is not confirmed) and the veto (ScoreVeto 2: a var per watt that is no
// charger's); its session carries the young forest's probability (0.96)
// on the score path.
func TestScoreYoungLongChecks(t *testing.T) {
	constForest(t, &scoreTreesWYoungLong, 0.96)
	fair := youngLongFair()
	fair.ScoreYoungHoldLong, fair.ScoreYoungMinLong = time.Hour, 0.95
	with := func(set func(*PhysicsParams)) PhysicsParams {
		p := fair
		set(&p)
		return p
	}
	off := with(func(p *PhysicsParams) { p.ScoreYoungMinLong = 0 })
	if got, _ := young5Run(t, off, 0.2); got != 0 {
		t.Fatalf("off: confirmed %s after the step: the cases test nothing", got)
	}
	cases := []struct {
		name string
		p    PhysicsParams
		q    float64
		want time.Duration // 0: not confirmed within 50 min
	}{
		{"a PFC charger's var per watt (0.2): at 20 min", fair, 0.2, 20 * time.Minute},
		{"... ScoreYoungMinLong 0.97, over the forest's 0.96: not", with(func(p *PhysicsParams) { p.ScoreYoungMinLong = 0.97 }), 0.2, 0},
		{"no non-active power (a blanket), ResistMaxLong 0.05: not", with(func(p *PhysicsParams) { p.ResistMaxLong = 0.05 }), 0, 0},
		{"... the score's bit out of ResistPaths: at 20 min", with(func(p *PhysicsParams) { p.ResistMaxLong, p.ResistPaths = 0.05, p.ResistPaths-1<<pathScore }), 0, 20 * time.Minute},
		{"... ResistMaxLong 0 (the default: no check over 90 s): at 20 min", fair, 0, 20 * time.Minute},
		{"a var per watt that is no charger's (0.7), ScoreVeto 2: not", with(func(p *PhysicsParams) { p.ScoreVeto = 2 }), 0.7, 0},
		{"... ScoreVeto 0: at 20 min", fair, 0.7, 20 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ses := young5Run(t, c.p, c.q)
			if got != c.want {
				t.Fatalf("confirmed %s after the step, want %s (0: not within 50 min)", got, c.want)
			}
			if got != 0 && (ses.Confidence != 0.96 || ses.Path != "score") {
				t.Errorf("session confidence %v, path %q, want 0.96, score (the young forest's probability)", ses.Confidence, ses.Path)
			}
		})
	}
}

// TestScoreYoungLongDefault pins the default, ScoreYoungHoldLong 65 min
// with ScoreYoungMinLong 0.9 (round 24: wide pool at 5 min 5,080/227 ->
// 5,125/239, one set of ten against; cities 225-256 3,745/194 ->
// 3,773/200, one of eight against; 1 min unchanged, 6,471/278), and that
// off is off: on cutHome's homes, either parameter alone runs reading for
// reading as both 0 at 1-min and 5-min readings, and so do the defaults
// at 1 min; at 5 min a low threshold does change something, so that the
// homes can tell.
func TestScoreYoungLongDefault(t *testing.T) {
	def := DefaultPhysicsParams()
	if def.ScoreYoungHoldLong != 65*time.Minute || def.ScoreYoungMinLong != 0.9 {
		t.Errorf("ScoreYoungHoldLong %v, ScoreYoungMinLong %v, want 65m, 0.9", def.ScoreYoungHoldLong, def.ScoreYoungMinLong)
	}
	off := def
	off.ScoreYoungHoldLong, off.ScoreYoungMinLong = 0, 0
	a, b, c := off, off, off
	a.ScoreYoungMinLong = 0.5
	b.ScoreYoungHoldLong = time.Hour
	c.ScoreYoungHoldLong, c.ScoreYoungMinLong = time.Hour, 0.5
	for _, v := range []struct {
		name  string
		p     PhysicsParams
		steps []float64
	}{{"threshold alone", a, []float64{60, 300}}, {"window alone", b, []float64{60, 300}}, {"both at 1 min", c, []float64{60}}, {"the defaults at 1 min", def, []float64{60}}} {
		if n := sameAs(t, off, v.p, v.steps, 1.4); n == 0 {
			t.Errorf("%s: no change of state: the homes test nothing", v.name)
		}
	}
	if !differs(off, c, 300, 1.4) {
		t.Error("both on at 0.5 changed nothing on the homes at 5 min: the test above tests nothing")
	}
	// on, but the forest under the threshold everywhere: the other paths'
	// confirmations, and the confidence their sessions carry, unchanged
	constForest(t, &scoreTreesWYoungLong, 0.5)
	d := off
	d.ScoreYoungHoldLong, d.ScoreYoungMinLong = time.Hour, 0.9
	if n := sameAs(t, off, d, []float64{60, 300}, 1.4); n == 0 {
		t.Error("under the threshold: no change of state: the homes test nothing")
	}
}

// TestScoreCutSameYoungLong is TestScoreCutSame with the young steps'
// 5-min forest on: its sum, cut short at ScoreYoungMinLong, decides as
// the whole sum (ScoreTreeAll 1) does.
func TestScoreCutSameYoungLong(t *testing.T) {
	for _, ratio := range []float64{0.8, 1.4} {
		cutSame(t, []func(*PhysicsParams){
			func(p *PhysicsParams) { p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.5 },
			func(p *PhysicsParams) { p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.9 },
		}, ratio)
	}
}

// TestScoreYoungLongCheckpoint: the young steps' 5-min forest keeps no
// state of its own, so a checkpoint written at any reading of its window
// (ScoreHold to ScoreYoungHoldLong) and read back into a new detector
// goes on as the detector that was not stopped: the same changes at the
// same readings, the same session (its confidence the forest's 0.97).
// The forest here confirms from 40 minutes of age only (a split on the
// age, feature 0), so that the window has looks that do not confirm
// before one that does.
func TestScoreYoungLongCheckpoint(t *testing.T) {
	old := scoreTreesWYoungLong
	// f[0] = log(held / 10 min): over log(3.9), from 39 minutes on
	scoreTreesWYoungLong = ScoreForest{Depth: 1, Base: 0, Feat: []uint8{0}, Thr: []float32{float32(math.Log(3.9))}, Leaf: []float32{-5, float32(math.Log(0.97 / 0.03))}}
	scoreTreesWYoungLong.bound()
	t.Cleanup(func() { scoreTreesWYoungLong = old })
	p := youngLongFair()
	p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.95
	m := NewPhysicsModel(p)
	cfg := Defaults(devices.KindMeter).Charging
	load, bg := box(hr, 3*hr, 110, 0.002), base(40)
	reading := func(s float64) ChargeReading {
		r := ChargeReading{PowerW: math.Round((bg(s)+load(s))*10) / 10, HasNA: true}
		r.NonActive = math.Round((bg(s)*0.5+0.2*load(s))*10) / 10
		return r
	}
	// run feeds readings to 2 h after the step, writing the state at
	// reading cut (seconds; -1: never) and going on with a new detector
	// that read it back
	run := func(cut float64) ([]string, ChargeSession) {
		ch := m.New()
		var out []string
		for s := 0.0; s < 3*hr; s += 300 {
			if g := ch.Observe(&cfg, t0+int64(s*1000), reading(s)); g != ChargeNone {
				out = append(out, fmt.Sprintf("%s at %s", map[ChargeChange]string{ChargeStarted: "started", ChargeEnded: "ended"}[g], time.Duration(s-hr)*time.Second))
			}
			if s == cut {
				b, err := ch.MarshalBinary()
				if err != nil {
					t.Fatalf("at %s: %v", time.Duration(s-hr)*time.Second, err)
				}
				ch = m.New()
				if err := ch.UnmarshalBinary(b); err != nil {
					t.Fatalf("at %s: its own checkpoint refused: %v", time.Duration(s-hr)*time.Second, err)
				}
			}
		}
		return out, ch.Session()
	}
	want, wantS := run(-1)
	if len(want) == 0 || want[0] != "started at 40m0s" || wantS.Confidence != 0.97 || wantS.Path != "score" {
		t.Fatalf("not stopped: %q, session %+v: want started at 40m0s by the young forest (0.97, score): the test tests nothing", want, wantS)
	}
	for m := 15; m <= 45; m += 5 {
		got, gotS := run(hr + float64(m*60))
		if !slices.Equal(got, want) || !reflect.DeepEqual(gotS, wantS) {
			t.Errorf("checkpoint at %d min of the step: %q, session %+v; not stopped %q, %+v", m, got, gotS, want, wantS)
		}
	}
}

// TestScoreYoungLongOffTrees: ScoreMinLong 1 (no single window confirms
// over 90 s) turns the young steps' 5-min forest off with the default
// trees (ScoreModel 11, ScoreTreeMinLong 0.9) too, not only with the
// logistic score (TestScoreYoungLong), and so does the trees' own
// ScoreTreeMinLong 1: the homes run as with ScoreYoungMinLong 0, though
// the forest gives every step 0.99.
func TestScoreYoungLongOffTrees(t *testing.T) {
	constForest(t, &scoreTreesWYoungLong, 0.99)
	for _, set := range []func(*PhysicsParams){
		func(p *PhysicsParams) { p.ScoreMinLong = 1 },
		func(p *PhysicsParams) { p.ScoreTreeMinLong = 1 },
	} {
		on := DefaultPhysicsParams()
		set(&on)
		off := on
		off.ScoreYoungMinLong = 0
		if n := sameAs(t, off, on, []float64{300}, 1.4); n == 0 {
			t.Error("no change of state: the homes test nothing")
		}
	}
	q := DefaultPhysicsParams()
	if !differs(q, func() PhysicsParams { p := q; p.ScoreYoungMinLong = 0; return p }(), 300, 1.4) {
		t.Error("the forest at 0.99 changed nothing with ScoreMinLong at its default: the test above tests nothing")
	}
}

// TestScoreYoungLongGate: the young steps' 5-min forest confirms through
// the score path's sequence: with a gate over 90 s (ScoreSeqLong 3,
// ScoreSeqKLong 3) its confirmation waits for the third window in a row
// that reaches ScoreSeqMinLong on the score of every age (0.4: the
// logistic score's constant 0.5 does, from ScoreHold), and never comes
// when none does (0.8); without the sequence (ScoreSeqMinLong 0) it
// comes at ScoreHold.
func TestScoreYoungLongGate(t *testing.T) {
	constForest(t, &scoreTreesWYoungLong, 0.99)
	gate := func(min float64) PhysicsParams {
		p := youngLongFair()
		p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.95
		p.ScoreSeqLong, p.ScoreSeqKLong, p.ScoreSeqMinLong = 3, 3, min
		return p
	}
	for _, c := range []struct {
		min  float64
		want time.Duration // 0: not within 50 min
	}{{0, 20 * time.Minute}, {0.4, 30 * time.Minute}, {0.8, 0}} {
		if got, _ := young5Run(t, gate(c.min), 0.2); got != c.want {
			t.Errorf("gate, ScoreSeqMinLong %g: confirmed %s after the step, want %s (0: not within 50 min)", c.min, got, c.want)
		}
	}
}

// TestScoreYoungLongExact: youngLong's sum of the young steps' 5-min
// forest, cut short at ScoreYoungMinLong, decides as the whole sum does
// and, when it confirms, is the whole sum (the probability the session
// carries), on the features of cutHome's homes at 5-min readings.
func TestScoreYoungLongExact(t *testing.T) {
	var rows [][ScoreFeatures]float64
	tp := DefaultPhysicsParams()
	tp.ScoreTrace = 1
	tp.Trace = func(tr *ChargingTrace) {
		if tr.Event == "score" {
			var f [ScoreFeatures]float64
			for k, v := range tr.Feat {
				f[k] = float64(v)
			}
			rows = append(rows, f)
		}
	}
	m := NewPhysicsModel(tp)
	for seed := uint64(1); seed <= 30; seed++ {
		a := m.New()
		walkCutHome(seed, 300, 1.4, a, m.New(), func(float64, ChargeChange, ChargeChange) bool { return true })
	}
	for _, q := range []float64{0.5, 0.9} {
		p := DefaultPhysicsParams()
		p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, q
		p.scoreLimits()
		s := physCore{p: &p, iv: 300}
		yes, no := 0, 0
		for i := range rows {
			ok, z := s.youngLong(&rows[i], (30 * time.Minute).Milliseconds())
			full := scoreTreesWYoungLong.Logit(&rows[i])
			if ok != (full >= p.scoreZYoungLong) || ok && z != full {
				t.Fatalf("ScoreYoungMinLong %g, row %d: %v at %v; the whole sum %v", q, i, ok, z, full)
			}
			if ok {
				yes++
			} else {
				no++
			}
		}
		t.Logf("ScoreYoungMinLong %g: %d of %d rows confirmed", q, yes, len(rows))
		if yes == 0 || no == 0 {
			t.Errorf("ScoreYoungMinLong %g: %d rows confirmed, %d not: the rows test nothing", q, yes, no)
		}
	}
}

// TestScoreYoungLongNaN: a NaN never confirms by the young steps' 5-min
// forest: a NaN feature (the forest's sum is NaN), nor a NaN
// ScoreYoungMinLong (no threshold is reached), though the forest gives
// every step 0.99.
func TestScoreYoungLongNaN(t *testing.T) {
	constForest(t, &scoreTreesWYoungLong, 0.99)
	p := DefaultPhysicsParams()
	p.ScoreYoungHoldLong, p.ScoreYoungMinLong = time.Hour, 0.9
	p.scoreLimits()
	s := physCore{p: &p, iv: 300}
	held := (30 * time.Minute).Milliseconds()
	var f [ScoreFeatures]float64
	if ok, _ := s.youngLong(&f, held); !ok {
		t.Fatal("0.99 does not confirm at 0.9: the cases test nothing")
	}
	f[3] = math.NaN()
	if ok, z := s.youngLong(&f, held); ok {
		t.Errorf("a NaN feature: confirmed at %v", z)
	}
	f[3] = 0
	p.ScoreYoungMinLong = math.NaN()
	p.scoreLimits()
	if ok, z := s.youngLong(&f, held); ok {
		t.Errorf("ScoreYoungMinLong NaN: confirmed at %v", z)
	}
}
