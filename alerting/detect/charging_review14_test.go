package detect

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Tests of round 14's review (4f02a51): ResistPaths path by path,
// ResistTwoSided, NAFollow, RoomOld's score cut, RoomSwap after the
// out-of-band rule, and checkpoints with resistive steps.

// naRun feeds the detector with p readings every iv s from 0 to end of
// power w and, when na is not nil, non-active power na (both to 0.1), and
// returns when charges started and ended ("1h20m0s started") and the
// active core's paths that fired ("fire fast").
func naRun(p PhysicsParams, iv, end float64, w, na func(float64) float64) (sigs, fires []string) {
	return naRunGaps(p, func(float64) float64 { return iv }, end, w, na)
}

// naRunGaps is naRun with the gap after each reading given by gap (of the
// gap before it; the first call gets 0).
func naRunGaps(p PhysicsParams, gap func(prev float64) float64, end float64, w, na func(float64) float64) (sigs, fires []string) {
	p.Trace = func(tr *ChargingTrace) {
		if !tr.Var && tr.Event == "fire" {
			fires = append(fires, "fire "+tr.Reason)
		}
	}
	ch := NewPhysicsModel(p).New()
	cfg := Defaults(devices.KindMeter).Charging
	for s, g := 0.0, gap(0); s < end; s, g = s+g, gap(g) {
		r := ChargeReading{PowerW: math.Round(w(s)*10) / 10}
		if na != nil {
			r.NonActive, r.HasNA = math.Round(na(s)*10)/10, true
		}
		switch ch.Observe(&cfg, t0+int64(s*1000), r) {
		case ChargeStarted:
			sigs = append(sigs, (time.Duration(s)*time.Second).String()+" started")
		case ChargeEnded:
			sigs = append(sigs, (time.Duration(s)*time.Second).String()+" ended")
		}
	}
	return sigs, fires
}

// TestPhysicsResistPaths: TestPhysicsResistive's resistive 120 W step
// (no non-active power of its own, 1-min readings) read path by path
// (ResistPaths, bits 1 << path), the score path and its veto off: with 4
// (the known charger's only) the fast path confirms it as an unknown
// step at 20 min; with 2 (the fast path's) or the default 590 it is not
// confirmed in the hour. A meter that reads no non-active power at all
// (0 var throughout: c.wb 0) never makes it resistive.
func TestPhysicsResistPaths(t *testing.T) {
	bg, load := base(40), box(hr, 3*hr, 120, 0.002)
	w := sumW(bg, load)
	na := func(s float64) float64 { return 0.5 * bg(s) }
	none := func(float64) float64 { return 0 }
	for _, c := range []struct {
		name  string
		paths float64
		na    func(float64) float64
		want  []string // charges started and ended in the 2 h
		fires []string // the active core's paths that fired
	}{
		{"ResistPaths 4: the known charger's only", 4, na, []string{"1h20m0s started"}, []string{"fire fast"}},
		{"ResistPaths 2: the fast path's", 2, na, nil, nil},
		{"ResistPaths 590 (the default)", 590, na, nil, nil},
		{"ResistPaths 590, no non-active power measured", 590, none, []string{"1h20m0s started"}, []string{"fire fast"}},
	} {
		p := DefaultPhysicsParams()
		p.ScoreMin, p.ScoreVetoMin, p.ResistPaths = 0, 0, c.paths
		sigs, fires := naRun(p, 60, 2*hr, w, c.na)
		if !slices.Equal(sigs, c.want) || !slices.Equal(fires, c.fires) {
			t.Errorf("%s: %q by %q, want %q by %q", c.name, sigs, fires, c.want, c.fires)
		}
	}
}

// TestPhysicsResistTwoSided: with bit 1 of ResistTwoSided a step's var per
// watt under -ResistMax (a load with non-active power that was on before
// the step went off since) is not read as resistive; with 0 it is. Bit 2
// asks the reading before (nxp) to say so too. Never without the non-
// active power now (nxOK). (TestPhysicsResistiveCases has the rest.)
func TestPhysicsResistTwoSided(t *testing.T) {
	for _, c := range []struct {
		name     string
		nx, nxp  float32 // the non-active power now and at the reading before; 300 before the step
		nxOK     bool
		twoSided float64
		want     bool
	}{
		{"fell, ResistTwoSided 0", 280, 280, true, 0, true},
		{"fell, ResistTwoSided 1", 280, 280, true, 1, false},
		{"fell a little (over -ResistMax), ResistTwoSided 1", 295, 295, true, 1, true},
		{"none, ResistTwoSided 1", 300, 300, true, 1, true},
		{"PFC, ResistTwoSided 1", 330, 330, true, 1, false},
		{"none, ResistTwoSided 2, the reading before too", 300, 302, true, 2, true},
		{"none, ResistTwoSided 2, the reading before a charger's", 300, 330, true, 2, false},
		{"none, ResistTwoSided 2, no reading before", 300, -1, true, 2, false},
		{"fell before, ResistTwoSided 3", 300, 280, true, 3, false},
		{"fell before, ResistTwoSided 2", 300, 280, true, 2, true},
		{"no non-active power now (nxOK false)", 300, 300, false, 0, false},
	} {
		p := DefaultPhysicsParams()
		p.ResistTwoSided = c.twoSided
		s := &physCore{p: &p, iv: 60, nx: c.nx, nxp: c.nxp, nxOK: c.nxOK}
		cd := cand{lvl: 150, wb: 300, sf: cOpen, fl: fNA}
		if got := s.resistive(&cd, 1<<pathFast); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsNAFollow: the review's case. A flat 120 W step of a
// charger with correction (0.2 var per watt) comes on at 1 h while a
// 100 W load of 80 var is on (since 15 min; 3% ripple); that load goes
// off 6 minutes later, once the step's level is measured. With the
// defaults (NAFollow 0) the step's var per watt is read against the
// 100 var before it, gone: -0.47, under ResistMax, resistive; no path
// confirms it in 5 h. This is a known weakness of round 14
// (docs/detection-history.md: NAFollow was measured and not kept, at 5 min it
// cost 89 sessions). With NAFollow 1 the down-edge lowers the non-active
// power before the step too and the fast path confirms it at 20 min; so
// does ResistTwoSided 1 (-0.47 is not read as resistive). When the load
// goes off 5 minutes after the step, on the reading where its level is
// measured, the step is not clean (an edge at that reading) and the fast
// path does not confirm it either way.
func TestPhysicsNAFollow(t *testing.T) {
	bg, step := base(40), box(hr, 7*hr, 120, 0.002)
	for _, c := range []struct {
		name      string
		off       float64 // when the other load goes off, s after the step
		follow    float64
		twoSided  float64
		scoreOff  bool
		want      []string
		wantFires []string
	}{
		// the default's outcome is a known weakness (docs/detection-history.md,
		// round 14: NAFollow measured and not kept)
		{"defaults", 360, 0, 0, false, nil, nil},
		{"the score off", 360, 0, 0, true, nil, nil},
		{"NAFollow 1", 360, 1, 0, false, []string{"1h20m0s started"}, []string{"fire fast"}},
		{"NAFollow 1, the score off", 360, 1, 0, true, []string{"1h20m0s started"}, []string{"fire fast"}},
		{"ResistTwoSided 1", 360, 0, 1, false, []string{"1h20m0s started"}, []string{"fire fast"}},
		{"off at 5 min (not clean), NAFollow 1", 300, 1, 0, false, nil, nil},
	} {
		other := box(hr/4, hr+c.off, 100, 0.03)
		w := sumW(bg, other, step)
		na := func(s float64) float64 { return 0.5*bg(s) + 0.8*other(s) + 0.2*step(s) }
		p := DefaultPhysicsParams()
		p.NAFollow, p.ResistTwoSided = c.follow, c.twoSided
		// FloorKeep off: the other load's step, held 51 minutes, would
		// outlive its own down-edge on the charger's power and the score
		// would confirm it at 3h50 (FloorKeep's known flaw,
		// TestPhysicsFloorKeepOlderLoad); this test is NAFollow's
		p.FloorKeep = 0
		if c.scoreOff {
			p.ScoreMin, p.ScoreVetoMin = 0, 0
		}
		sigs, fires := naRun(p, 60, 6*hr, w, na)
		if !slices.Equal(sigs, c.want) || !slices.Equal(fires, c.wantFires) {
			t.Errorf("%s: %q by %q, want %q by %q", c.name, sigs, fires, c.want, c.wantFires)
		}
	}
}

// TestPhysicsRoomOldScore: RoomOld forgets the oldest step held
// RoomOldLong whose score is under RoomOldScore, not the oldest held that
// long: an old quiet step (3 h) that scores over the limit keeps its slot
// and a younger wandering one (90 min), under it, is forgotten.
func TestPhysicsRoomOldScore(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	slots := func(s *physCore) {
		roomSlots(s, ts, mn)
		// slot 0 the quiet step, 3 h old; slot 1 the wandering one, 90 min
		s.c[0], s.c[1] = s.c[1], s.c[0]
		s.c[0].t0, s.c[1].t0 = ts-180*mn, ts-90*mn
		// the slots past the fourth: copies of slot 2 (held 40 min), so
		// that no other step is held RoomOldLong
		for j := oldCands; j < nCands; j++ {
			s.c[j] = s.c[2]
			s.c[j].t0 += int64(j-oldCands+1) * mn
		}
	}
	p0 := DefaultPhysicsParams()
	s0 := physCore{p: &p0, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
	slots(&s0)
	z0 := s0.scoreNowCut(&s0.c[0], ts, 700, math.Inf(-1), math.Inf(1))
	z1 := s0.scoreNowCut(&s0.c[1], ts, 700, math.Inf(-1), math.Inf(1))
	if !(z0 > z1+0.2) {
		t.Fatalf("the old quiet step scores %g, not over the wandering one's %g: nothing to test", z0, z1)
	}
	lim := 1 / (1 + math.Exp(-(z0+z1)/2)) // a probability between the two
	for _, c := range []struct {
		name    string
		score   float64
		evicted int
	}{
		{"any score: the oldest", 0, 0},
		{"the oldest over the limit, the younger under: the younger", lim, 1},
		{"both over the limit: the rules (the latest)", 1 / (1 + math.Exp(-(z1 - 0.1))), 3},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.RoomSwap, p.RoomSwapLong = 0, 0, 0
		p.RoomOldLong, p.RoomOldScore = time.Hour, c.score
		s := physCore{p: &p, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
		slots(&s)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}

// TestPhysicsRoomSwapOutOfBand: a step the out-of-band rule chose
// (EvictOutOfBand: a level no charger has) is forgotten as chosen: RoomSwap
// does not replace it by the lowest score. Without the rule the latest is
// chosen and RoomSwap replaces it.
func TestPhysicsRoomSwapOutOfBand(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	slots := func(s *physCore) {
		roomSlots(s, ts, mn)
		// slot 1 (the quiet step of 90 min): a level under the band (40 W)
		s.c[1].step, s.c[1].lvl = 40, 40
	}
	p0 := DefaultPhysicsParams()
	s0 := physCore{p: &p0, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
	slots(&s0)
	z, low := roomScores(&s0, ts)
	if low == 1 || low == 3 || !(z[low] < z[1]-0.2) {
		t.Fatalf("scores %v: the lowest is not another step well under the out-of-band one's: nothing to test", z)
	}
	for _, c := range []struct {
		name    string
		oob     float64
		evicted int
	}{
		{"out of band: kept as chosen", 1, 1},
		{"EvictOutOfBand 0: the latest, swapped for the lowest", 0, low},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.RoomHold, p.RoomOldLong = 0, 5*time.Minute, 0
		p.RoomSwap, p.RoomSwapLong, p.RoomSwapMinIv = 0, 1e-9, 30
		p.EvictOutOfBand = c.oob
		s := physCore{p: &p, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
		slots(&s)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}

// TestPhysicsCheckpointResistive is TestPhysicsCheckpointEveryReading
// with non-active power per load, so that steps are resistive (heaters:
// none of their own, the non-active power unchanged across the step) and
// others a charger's (with correction, 0.2 var per watt; without, 1.4),
// at 1-min readings (ResistIv, FastNewPF): every checkpoint read back is
// written the same, and a detector restored from it at every reading
// gives the same outputs as one never cut. The resistive check must have
// kept some step from a path.
func TestPhysicsCheckpointResistive(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	resist := 0
	p.Trace = func(tr *ChargingTrace) {
		if tr.Reason == "fast: resistive" {
			resist++
		}
	}
	m := NewPhysicsModel(p)
	readings := 0
	for seed := uint64(1); seed <= 120; seed++ {
		rng := rand.New(rand.NewPCG(seed, 14))
		type load struct {
			f func(float64) float64
			q float64 // var per watt
		}
		ls := []load{{base(30 + 60*rng.Float64()), 0.5}}
		if rng.IntN(2) == 0 {
			ls = append(ls, load{cycler(80+100*rng.Float64(), 10+20*rng.Float64(), 20+40*rng.Float64()), 0.7})
		}
		for k := 1 + rng.IntN(3); k > 0; k-- {
			a := rng.Float64() * 20 * hr
			ls = append(ls, load{box(a, a+(0.5+4*rng.Float64())*hr, 60+200*rng.Float64(), 0.003), 0})
		}
		for k := 1 + rng.IntN(2); k > 0; k-- {
			ls = append(ls, load{charge(rng.Float64()*20*hr, 1+3*rng.Float64(), 10+60*rng.Float64(), 8, 70+200*rng.Float64()), []float64{0.2, 1.4}[rng.IntN(2)]})
		}
		step := 60.0
		ref, ch := m.New(), m.New()
		for s := 0.0; s < 26*hr; s += step {
			var w, na float64
			for _, l := range ls {
				v := l.f(s)
				w += v
				na += l.q * v
			}
			ts := t0 + int64(s*1000) + rng.Int64N(1000)
			r := ChargeReading{PowerW: math.Round(w*10) / 10, NonActive: math.Round(na*10) / 10, HasNA: true}
			want, got := ref.Observe(&cfg, ts, r), ch.Observe(&cfg, ts, r)
			if got != want {
				t.Fatalf("seed %d at %.2f h: restored at every reading: %v, never cut: %v", seed, s/hr, got, want)
			}
			b, err := ch.MarshalBinary()
			if err != nil {
				t.Fatalf("seed %d at %.2f h: %v", seed, s/hr, err)
			}
			back := m.New()
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("seed %d at %.2f h: its own checkpoint refused: %v", seed, s/hr, err)
			}
			if again, _ := back.MarshalBinary(); !bytes.Equal(again, b) {
				t.Fatalf("seed %d at %.2f h: the checkpoint read back is written differently", seed, s/hr)
			}
			ch = back
			readings++
		}
	}
	if resist == 0 {
		t.Errorf("no step was kept from the fast path as resistive in %d readings", readings)
	}
	t.Logf("%d checkpoints read back, %d resistive judgements", readings, resist)
}
