package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestScoreEarlyGate: the early score (ScoreEarlyMin from ScoreEarlyHold)
// confirms a young step only with evidence that a steady compressor-like
// load lacks (ScoreEarlyGate): the 120 W load flat for 16 minutes of
// TestPhysicsFastNewHold, which ScoreHold's 20 minutes outlast.
func TestScoreEarlyGate(t *testing.T) {
	def := DefaultPhysicsParams()
	// a score of 1 for any step in the band (the logistic regression's)
	sure := def
	sure.ScoreModel, sure.ScoreW = 0, [ScoreFeatures + 1]float64{10}
	// round 12b's gate with the var detector's step (bit 1); the default
	// is 4 since round 14 (the memory alone)
	sure.ScoreEarlyGate = 5
	sureDef := sure
	sureDef.ScoreEarlyGate = def.ScoreEarlyGate
	gate4 := sure
	gate4.ScoreEarlyGate = 4
	noGate := sure
	noGate.ScoreEarlyGate = 0
	// the trees' early score at ScoreEarlyMin 0.85: the round-14 forest
	// scores the steady load 0.88 at 15 min, under the default 0.95 (the
	// forest before it, over it); at 0.85 the gate alone decides again
	low := def
	low.ScoreEarlyMin, low.ScoreEarlyGate = 0.85, 4
	pfGate := low
	pfGate.ScoreEarlyGate = 2
	lowNoGate := low
	lowNoGate.ScoreEarlyGate = 0
	cycle := sumW(base(40), box(hr, hr+16*60, 120, 0.002), box(3*hr, 3*hr+16*60, 120, 0.002))
	chg := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	twice := []string{"1h10m0s fire since 1h0m0s", "1h16m0s clear since 1h0m0s", "3h10m0s fire since 3h0m0s", "3h16m0s clear since 3h0m0s"}
	cases := []struct {
		name  string
		p     PhysicsParams
		ratio float64
		w     func(float64) float64
		want  []string
	}{
		{"the steady 16-min load, power alone, a sure score: not confirmed (no evidence for the gate)", sure, 0, cycle, nil},
		{"... it is without the gate, at ScoreEarlyHold (10 min)", noGate, 0, cycle, twice},
		{"... and with a charger's var per watt (1.4), a sure score passes the gate (the var detector's step)", sure, 1.4, cycle, twice},
		{"the steady 16-min load with the defaults (the trees), power alone: not confirmed", def, 0, cycle, nil},
		{"... nor with a charger's var per watt (1.4)", def, 1.4, cycle, nil},
		{"... it is at ScoreEarlyMin 0.85 with the active step's var per watt as the gate's evidence (bit 2, not in the default), at 15 min", pfGate, 1.4, cycle,
			[]string{"1h15m0s fire since 1h0m0s", "1h16m0s clear since 1h0m0s"}},
		{"... not with round 14's gate (4), at the same ScoreEarlyMin (0.85)", low, 1.4, cycle, nil},
		{"... but without the gate (the default since round 21a) the threshold is the only guard: at 0.85, with a charger's var per watt (1.4), it is confirmed at 15 min", lowNoGate, 1.4, cycle,
			[]string{"1h15m0s fire since 1h0m0s", "1h16m0s clear since 1h0m0s"}},
		{"a charge with a charger's var per watt (1.4), a sure score: confirmed early (10 min)", sure, 1.4, chg,
			[]string{"2h10m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
		{"... power alone: at 20 min (no evidence for the gate)", sure, 0, chg,
			[]string{"2h20m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
		{"... round 14's gate (4: not the var detector's step), at 20 min", gate4, 1.4, chg,
			[]string{"2h20m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
		{"... the default gate (0 since round 21a), power alone: early (10 min)", sureDef, 0, chg,
			[]string{"2h10m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := physRunPF(t, c.p, 60, 8*hr, c.ratio, c.w); !slices.Equal(got, c.want) {
				t.Errorf("signals %q, want %q", got, c.want)
			}
		})
	}
}

// TestScoreEarlyGateDefault pins the default gate: 0 since round 21a
// (the early score's threshold alone; TestScoreEarlyGate shows what it
// lets through).
func TestScoreEarlyGateDefault(t *testing.T) {
	if g := DefaultPhysicsParams().ScoreEarlyGate; g != 0 {
		t.Errorf("ScoreEarlyGate %v, want 0", g)
	}
}

// TestScoreSeqFrom: the running sum (ScoreSeq 2) adds the windows from
// ScoreSeqFrom on, but confirms only from ScoreHold on.
func TestScoreSeqFrom(t *testing.T) {
	p := seqFromParams()
	late := p
	late.ScoreSeqFrom = 0
	sure := p
	sure.ScoreW = [ScoreFeatures + 1]float64{10}
	tv := sumW(base(40), box(hr, 3*hr, 150, 0.12))
	cycle := sumW(base(40), box(hr, hr+16*60, 120, 0.002), box(3*hr, 3*hr+16*60, 120, 0.002))
	cases := []struct {
		name string
		p    PhysicsParams
		w    func(float64) float64
		want []string
	}{
		{"from 10 min: windows 10, 15, 20, 25", p, tv, []string{"1h25m0s fire since 1h0m0s", "3h0m0s clear since 1h0m0s"}},
		{"from ScoreHold (ScoreSeqFrom 0): windows 20 to 35", late, tv, []string{"1h35m0s fire since 1h0m0s", "3h0m0s clear since 1h0m0s"}},
		{"a sum full before ScoreHold confirms nothing before it: the steady 16-min load", sure, cycle, nil},
		{"... a step still on is confirmed at ScoreHold", sure, tv, []string{"1h20m0s fire since 1h0m0s", "3h0m0s clear since 1h0m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := physRun(t, c.p, 60, 5*hr, c.w); !slices.Equal(got, c.want) {
				t.Errorf("signals %q, want %q", got, c.want)
			}
		})
	}
}

// TestScoreSeqFromCheckpoint: a sum begun before ScoreHold travels in the
// checkpoint (the sequence's bits, version 5): restored at 17 minutes,
// the step fires when the whole series does.
func TestScoreSeqFromCheckpoint(t *testing.T) {
	w := sumW(base(40), box(hr, 3*hr, 150, 0.12))
	cutRestore(t, "a sum begun", NewPhysicsModel(seqFromParams()), w, hr+17*60, 2*hr, physVersionSeq, "1h25m0s")
}

// seqFromParams are TestScoreSeqFrom's parameters: the logistic
// regression's score at p 0.9276, each window under ScoreMin (0.93) and
// 0.353 of log-odds over ScoreSeqMin (0.9), so that the sum reaches
// ScoreSeqH (1.5) at its fourth window. The three are set here, not read
// from the defaults: since round 14 ScoreSeqMin is 0.7 (the refitted
// forests), over which such a window is 1.7 and fills the sum at once.
func seqFromParams() PhysicsParams {
	p := DefaultPhysicsParams()
	p.ScoreModel, p.ScoreW, p.ScoreEarlyMin = 0, [ScoreFeatures + 1]float64{2.55}, 0
	p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 0.93, 0.9, 1.5
	return p
}

// TestScoreEarlyCadence: the early looks' cadence (ScoreEarlyEvery), a
// run of them (ScoreEarlyRun) and looks between the marks from ScoreHold
// on (ScoreOnEvery); all off by default.
func TestScoreEarlyCadence(t *testing.T) {
	p := DefaultPhysicsParams()
	p.ScoreModel, p.ScoreW = 0, [ScoreFeatures + 1]float64{10}
	p.ScoreEarlyGate, p.ScoreEarlyHold = 0, 7*time.Minute
	with := func(f func(*PhysicsParams)) PhysicsParams {
		q := p
		f(&q)
		return q
	}
	tv := sumW(base(40), box(hr, 3*hr, 150, 0.12))
	cases := []struct {
		name string
		p    PhysicsParams
		want string
	}{
		{"early from 7 min at the marks: 10 min", p, "1h10m0s"},
		{"... every minute: 7 min", with(func(q *PhysicsParams) { q.ScoreEarlyEvery = time.Minute }), "1h7m0s"},
		{"... three looks in a row (the sum not begun early): 9 min", with(func(q *PhysicsParams) {
			q.ScoreEarlyEvery, q.ScoreEarlyRun, q.ScoreSeqFrom = time.Minute, 3, 0
		}), "1h9m0s"},
		{"... the run is not used while the sum begins early (the same bits): 7 min", with(func(q *PhysicsParams) {
			q.ScoreEarlyEvery, q.ScoreEarlyRun = time.Minute, 3
		}), "1h7m0s"},
		{"no early score, ScoreHold 17 min: the next mark, 20 min", with(func(q *PhysicsParams) {
			q.ScoreEarlyMin, q.ScoreHold = 0, 17*time.Minute
		}), "1h20m0s"},
		{"... looks every minute from ScoreHold on: 17 min", with(func(q *PhysicsParams) {
			q.ScoreEarlyMin, q.ScoreHold, q.ScoreOnEvery = 0, 17*time.Minute, time.Minute
		}), "1h17m0s"},
	}
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := startedAt(NewPhysicsModel(c.p).New(), &cfg, tv, 0, 2*hr); got != c.want {
				t.Errorf("fired at %q, want %q", got, c.want)
			}
		})
	}
}
