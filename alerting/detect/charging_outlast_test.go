package detect

import "testing"

// TestPhysicsOutlastDefault pins round 25d's OutlastMaxIv: 90 (the path
// "outlasted a cycler" off at 30-90 s readings).
func TestPhysicsOutlastDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.OutlastMaxIv != 90 {
		t.Fatalf("OutlastMaxIv %v, want 90", p.OutlastMaxIv)
	}
}

// TestPhysicsOutlastJudge: a quiet step of a cycler's size held 45
// minutes (cyclerStepJudged: longest run 15 minutes, so past CyclerHold's
// 2.5 runs) is confirmed as "outlasted a cycler"; with OutlastMaxIv 90 not
// at 1-min readings (it stays open), nor at 30 s or 90 s (the range's
// bounds), and still at 10 s and 29 s (under 30 s) and with OutlastMaxIv
// 50 (1 min over it).
func TestPhysicsOutlastJudge(t *testing.T) {
	for _, c := range []struct {
		name string
		max  float64
		iv   float32
		want bool
	}{
		{"off, 1 min", 0, 60, true},
		{"90, 1 min", 90, 60, false},
		{"90, 10 s", 90, 10, true},
		{"50, 1 min", 50, 60, true},
		// the bounds: 30 s and OutlastMaxIv itself are in the range
		{"off, 30 s", 0, 30, true},
		{"90, 30 s", 90, 30, false},
		{"90, 29 s", 90, 29, true},
		{"off, 90 s", 0, 90, true},
		{"90, 90 s", 90, 90, false},
		{"60, 60 s", 60, 60, false},
	} {
		p := DefaultPhysicsParams()
		p.OutlastMaxIv = c.max
		s := cyclerStepJudged(&p, c.iv, 45)
		if got := s.c[0].state() == cCharge && s.sPath == pathCycler; got != c.want {
			t.Errorf("%s: confirmed as outlasted a cycler %v (state %d, path %d), want %v", c.name, got, s.c[0].state(), s.sPath, c.want)
		}
		if !c.want && s.c[0].state() != cOpen {
			t.Errorf("%s: state %d, want open", c.name, s.c[0].state())
		}
	}
}
