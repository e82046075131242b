package detect

import "testing"

// TestPhysicsCyclerHoldLongDefault pins the default: CyclerHoldLong 5
// (round 25c) at readings over 90 s, CyclerHold 2.5 at the others.
func TestPhysicsCyclerHoldLongDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.CyclerHoldLong != 5 || p.CyclerHold != 2.5 {
		t.Fatalf("CyclerHoldLong %v, CyclerHold %v; want 5, 2.5", p.CyclerHoldLong, p.CyclerHold)
	}
}

// cyclerStepJudged judges, with p at readings iv s apart, a flat, quiet
// step of 150 W held `held` minutes, quiet on all its readings, whose
// size the unit's memory knows as a cycler's (a fridge: 10 runs of at
// most 15 minutes, never a charger) and returns the core.
func cyclerStepJudged(p *PhysicsParams, iv float32, held int64) *physCore {
	return stepJudged(p, iv, held, uint16(held*60/int64(iv)), fClean, sig{w: 150, maxRun: 15, cycles: 10, other: 2})
}

// TestPhysicsCyclerHoldLong: a quiet step of a cycler's size (longest
// run 15 minutes) held 45 minutes has outlasted CyclerHold (2.5 runs,
// 37.5 minutes) and is confirmed "outlasted a cycler" at 5-min and
// 1-min readings with CyclerHoldLong 0; with CyclerHoldLong 5 (75
// minutes) it is not at 5-min (or 2-min) readings, is at 80 minutes, and
// 1-min and 90-s readings keep CyclerHold.
func TestPhysicsCyclerHoldLong(t *testing.T) {
	for _, c := range []struct {
		name string
		long float64
		iv   float32
		held int64
		want bool
	}{
		{"5 min, off: 45 min", 0, 300, 45, true},
		{"5 min, 5 runs: 45 min", 5, 300, 45, false},
		{"5 min, 5 runs: 80 min", 5, 300, 80, true},
		{"1 min, 5 runs: 45 min (CyclerHold)", 5, 60, 45, true},
		{"1 min, off: 30 min (under CyclerHold)", 0, 60, 30, false},
		// the bound: 90 s keeps CyclerHold, 2 min takes CyclerHoldLong
		{"90 s, 5 runs: 45 min (CyclerHold)", 5, 90, 45, true},
		{"2 min, off: 45 min", 0, 120, 45, true},
		{"2 min, 5 runs: 45 min", 5, 120, 45, false},
		{"2 min, 5 runs: 80 min", 5, 120, 80, true},
	} {
		p := DefaultPhysicsParams()
		p.CyclerHoldLong = c.long
		p.OutlastMaxIv = 0 // the path at 1 min too (OutlastMaxIv 90 turns it off there: TestPhysicsOutlastJudge)
		var why []string
		p.Trace = func(tr *ChargingTrace) {
			why = append(why, tr.Event+": "+tr.Reason)
		}
		s := cyclerStepJudged(&p, c.iv, c.held)
		if got := s.c[0].state() == cCharge && s.sPath == pathCycler; got != c.want {
			t.Errorf("%s: confirmed as outlasted a cycler %v (state %d, path %d, why %q), want %v", c.name, got, s.c[0].state(), s.sPath, why, c.want)
		}
	}
}
