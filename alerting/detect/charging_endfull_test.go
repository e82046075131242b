package detect

import (
	"testing"
	"time"
)

// TestPhysicsEndFullDefault pins EndFullLearn off (0; on in round 25d,
// off again after its review) with EndFullRun 180 minutes, the length
// measured for when it is turned on.
func TestPhysicsEndFullDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.EndFullLearn != 0 || p.EndFullRun != 180*time.Minute {
		t.Fatalf("EndFullLearn %v, EndFullRun %v; want 0, 3h0m0s", p.EndFullLearn, p.EndFullRun)
	}
}

// TestPhysicsEndFull: what a confirmed charge that verdict cannot call
// (k 0) teaches the memory with MemConfirmed on: a charger, unless
// EndFullLearn is on, it went at once from its full level ("unplugged",
// "fell") after EndFullRun or more, at 30-90 s readings (both bounds
// included): then nothing (1) or not a charger (2). Verdict's own calls
// are kept.
func TestPhysicsEndFull(t *testing.T) {
	for _, c := range []struct {
		name  string
		learn float64
		iv    float32
		k     int
		why   string
		run   float32
		want  int
	}{
		{"off", 0, 60, 0, "unplugged", 300, 1},
		{"2: unplugged after 5 h", 2, 60, 0, "unplugged", 300, -1},
		{"2: fell after 3 h", 2, 60, 0, "fell", 180, -1},
		{"1: unplugged after 5 h", 1, 60, 0, "unplugged", 300, 0},
		{"2: under EndFullRun", 2, 60, 0, "unplugged", 179, 1},
		{"2: ended at the float", 2, 60, 0, "float", 300, 1},
		{"2: at 10 s", 2, 10, 0, "unplugged", 300, 1},
		{"2: at 5 min", 2, 300, 0, "unplugged", 300, 1},
		// the bounds: 30 s and 90 s are in the range
		{"2: at 30 s", 2, 30, 0, "unplugged", 300, -1},
		{"2: at 29 s", 2, 29, 0, "unplugged", 300, 1},
		{"2: at 90 s", 2, 90, 0, "unplugged", 300, -1},
		{"2: at 91 s", 2, 91, 0, "unplugged", 300, 1},
		{"2: verdict's charger kept", 2, 60, 1, "unplugged", 300, 1},
		{"2: verdict's not a charger kept", 2, 60, -1, "unplugged", 300, -1},
	} {
		p := DefaultPhysicsParams()
		p.EndFullLearn, p.EndFullRun = c.learn, 180*time.Minute
		s := physCore{p: &p, iv: c.iv}
		cd := cand{t0: 1, lvl: 100, sxx: 1, sxy: 0.5}
		if got := s.confirmedVerdict(&cd, c.k, c.why, c.run, true); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestPhysicsEndFullCharge: endCharge hands confirmedVerdict the charge's
// run in minutes (from its step's start), so a confirmed charge at 1-min
// readings that verdict cannot call (a rise of 0.5% an hour, t 0.5) and
// that is unplugged after 200 minutes teaches the memory "not a charger"
// with EndFullLearn 2, and one unplugged after 170 minutes (under
// EndFullRun), or after 200 with EndFullLearn 0, "charger".
func TestPhysicsEndFullCharge(t *testing.T) {
	const mn = 60 * 1000
	for _, c := range []struct {
		name    string
		learn   float64
		run     int64
		charger bool
	}{
		{"2: 200 min", 2, 200, false},
		{"2: 170 min", 2, 170, true},
		{"0: 200 min", 0, 200, true},
	} {
		p := DefaultPhysicsParams()
		p.EndFullLearn = c.learn
		ts := int64(10 * 3600 * 1000)
		s := physCore{p: &p, iv: 60, last: ts, chg: 1}
		s.c[0] = cand{t0: ts - c.run*mn, ref: 100, pre: 100, step: 100, lvl: 100, sf: cCharge, sxx: 1, sxy: 0.5}
		if r, tt := s.rise(&s.c[0]); r < p.MinRise || tt >= 2 {
			t.Fatalf("%s: rise %.4f, t %.2f: verdict would call it", c.name, r, tt)
		}
		if ch := s.endCharge(ts, 0, "unplugged", false); ch != ChargeEnded {
			t.Errorf("%s: %v, want the session ended", c.name, ch)
		}
		k := s.known(100)
		if k < 0 {
			t.Fatalf("%s: nothing learnt", c.name)
		}
		if m := s.mem[k]; (m.charger > 0) != c.charger || m.charger+m.other != 1 || s.notCharger(100) == c.charger {
			t.Errorf("%s: memory charger %d, other %d; want a charger %v", c.name, m.charger, m.other, c.charger)
		}
	}
}
