package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsFloorKeepDefaults pins round 26c's defaults.
func TestPhysicsFloorKeepDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.FloorKeep != 0 || p.FloorKeepIv != 90 {
		t.Fatalf("FloorKeep %v, FloorKeepIv %v; want 0, 90", p.FloorKeep, p.FloorKeepIv)
	}
}

// TestPhysicsFloorKeep: a down-edge of an open settled step's size does not
// end it when the step has held the persistence window (45 minutes) and
// both the lowest power of the window and the power after the edge stand
// FloorKeep of its level over its reference, at intervals up to
// FloorKeepIv s (0: all); its reference stays. It does end it when the
// power is back near its reference, when the window's floor went under (a
// cycler's step: it was off in the window), for a younger step, a step not
// settled, a longer interval, or with FloorKeep 0.
func TestPhysicsFloorKeep(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	const ts = int64(5 * 3600 * 1000)
	const minute = int64(60 * 1000)
	for _, c := range []struct {
		name   string
		keep   float64
		keepIv float64
		iv     float32
		held   int64   // minutes
		after  float32 // the power after the 150 W down-edge
		floor  float32 // the lowest power of the window (the edge's included)
		lvl    float32
		kept   bool
	}{
		{"kept", 0.7, 90, 60, 60, 550, 550, 150, true},
		{"kept, at the window's end", 0.7, 90, 60, 45, 550, 550, 150, true},
		{"kept, the floor at FloorKeep of the level", 0.7, 90, 60, 60, 550, 500, 150, true},
		{"off", 0, 90, 60, 60, 550, 550, 150, false},
		{"power back near the reference", 0.7, 90, 60, 60, 420, 420, 150, false},
		{"the floor went under: a cycler's step", 0.7, 90, 60, 60, 550, 450, 150, false},
		{"held under the window", 0.7, 90, 60, 44, 550, 550, 150, false},
		{"not settled", 0.7, 90, 60, 60, 550, 550, 0, false},
		{"interval over FloorKeepIv", 0.7, 90, 300, 60, 550, 550, 150, false},
		{"FloorKeepIv 0: at every interval", 0.7, 0, 300, 60, 550, 550, 150, true},
		{"10 s", 0.7, 90, 10, 60, 550, 550, 150, true},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep, p.PairScore, p.StayKeep = 0, 0, 0
		p.FloorKeep, p.FloorKeepIv = c.keep, c.keepIv
		s := &physCore{p: &p, iv: c.iv, na: 1, base: 100, last: ts, prev: c.after + 150}
		for i := range s.blk {
			s.blk[i] = c.floor + 100
		}
		s.blk[3] = c.floor
		s.c[0] = cand{t0: ts - c.held*minute, ref: 395, pre: 400, step: 150, lvl: c.lvl, sf: cOpen, sxx: 100, sxy: 300, n: 60, sd2: 60, rq: 1}
		s.down(&cfg, ts, c.after, -150)
		got := s.c[0].state() == cOpen
		if got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.kept)
		}
		if got && s.c[0].ref != 395 {
			t.Errorf("%s: ref %g, want 395 (the step still stands over it)", c.name, s.c[0].ref)
		}
	}
}
