package detect

import (
	"testing"
	"time"
)

// TestPhysicsEndFullDefault pins round 25d's EndFullLearn 2 (learn "not a
// charger") after EndFullRun 180 minutes.
func TestPhysicsEndFullDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.EndFullLearn != 2 || p.EndFullRun != 180*time.Minute {
		t.Fatalf("EndFullLearn %v, EndFullRun %v; want 2, 3h0m0s", p.EndFullLearn, p.EndFullRun)
	}
}

// TestPhysicsEndFull: what a confirmed charge that verdict cannot call
// (k 0) teaches the memory with MemConfirmed on: a charger, unless
// EndFullLearn is on, it went at once from its full level ("unplugged",
// "fell") after EndFullRun or more, at 30-90 s readings: then nothing (1)
// or not a charger (2). Verdict's own calls are kept.
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
