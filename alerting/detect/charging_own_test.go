package detect

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsOwnRatio: a down-edge of the active power that matches an
// open step in size does not end it when its non-active change per watt
// is further than OwnRatio (OwnRatioLong over 90 s) from the step's own;
// it does when the ratios agree, when the non-active power of the reading
// before is not known, with the tolerance 0, for a step younger than
// OwnAge (up to 90 s), or on the non-active core.
func TestPhysicsOwnRatio(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name        string
		tol, tolL   float64
		iv          float32
		qStep, qOff float32 // non-active per watt: the step's, the edge's
		known       bool    // the non-active power of the reading before
		nv          bool
		kept        bool
		held        time.Duration // the step's age; an hour when 0
	}{
		{"a resistive load off, a charger without correction kept", 0.5, 0, 60, 1.4, 0, true, false, true, 0},
		{"the charger itself off", 0.5, 0, 60, 1.4, 1.35, true, false, false, 0},
		{"within the tolerance", 0.5, 0, 60, 0.2, 0.6, true, false, false, 0},
		{"over the tolerance", 0.5, 0, 60, 0.2, 0.8, true, false, true, 0},
		{"off", 0, 0, 60, 1.4, 0, true, false, false, 0},
		{"not known before", 0.5, 0, 60, 1.4, 0, false, false, false, 0},
		{"over 90 s: OwnRatioLong", 0, 0.5, 300, 1.4, 0, true, false, true, 0},
		{"over 90 s, OwnRatioLong off", 0.5, 0, 300, 1.4, 0, true, false, false, 0},
		{"the non-active core", 0.5, 0, 60, 1.4, 0, true, true, false, 0},
		{"younger than OwnAge", 0.5, 0, 60, 1.4, 0, true, false, false, 10 * time.Minute},
		{"younger than OwnAge, over 90 s", 0, 0.5, 300, 1.4, 0, true, false, true, 10 * time.Minute},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep, p.PairScore, p.StayKeep = 0, 0, 0
		p.OwnRatio, p.OwnRatioLong = c.tol, c.tolL
		// a 150 W step an hour old over 400 W that drew 300 var before it
		s := &physCore{p: &p, iv: c.iv, na: 1, base: 100, last: ts, prev: 700, nv: c.nv, nxOK: true}
		held := c.held
		if held == 0 {
			held = time.Hour
		}
		s.c[0] = cand{t0: ts - held.Milliseconds(), ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, wb: 300, fl: fNA, n: 60}
		s.nxp = -1
		if c.known {
			s.nxp = 300 + c.qStep*150
		}
		s.nx = s.nxp - c.qOff*150
		if !c.known {
			s.nx = 300
		}
		s.down(&cfg, ts, 550, -150)
		if got := s.c[0].state() == cOpen; got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.kept)
		}
	}
}

// TestPhysicsOwnGhost: a down-edge that matches an open step in size does
// not end it when an up-edge of its size that no candidate followed came
// after the step started, within OwnGhost, and the power after the edge
// still stands OwnStay of the step's level over its reference; the
// remembered up-edge is spent. It does end it for an up-edge too old,
// before the step, of another size, with the power back at the
// reference, or with OwnGhost 0.
func TestPhysicsOwnGhost(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name  string
		ghost time.Duration
		ago   time.Duration // the up-edge, before the down-edge
		w     float32       // its size
		after float32       // the power after the 150 W down-edge
		kept  bool
	}{
		{"kept", 15 * time.Minute, 5 * time.Minute, 150, 550, true},
		{"off", 0, 5 * time.Minute, 150, 550, false},
		{"too old", 15 * time.Minute, 20 * time.Minute, 150, 550, false},
		{"before the step", 15 * time.Minute, 70 * time.Minute, 150, 550, false},
		{"another size", 15 * time.Minute, 5 * time.Minute, 100, 550, false},
		{"power back at the reference", 15 * time.Minute, 5 * time.Minute, 150, 410, false},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep, p.PairScore, p.StayKeep = 0, 0, 0
		p.OwnGhost = c.ghost
		// a 150 W step an hour old over 400 W
		s := &physCore{p: &p, iv: 60, na: 1, base: 100, last: ts, prev: c.after + 150}
		s.c[0] = cand{t0: ts - 3600*1000, ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, n: 60}
		s.ghostSet(ts-c.ago.Milliseconds(), c.w)
		s.down(&cfg, ts, c.after, -150)
		if got := s.c[0].state() == cOpen; got != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.kept)
		}
		if c.kept {
			// spent: the next edge of its size ends the step
			s.down(&cfg, ts+60000, c.after-150, -150)
			if s.c[0].state() == cOpen {
				t.Errorf("%s: a second down-edge did not end the step", c.name)
			}
		}
	}
}

// TestPhysicsOwnGhostDefault pins round 16's OwnGhost: half an hour, a
// compressor's longest run, so a fridge's remembered up-edge is still
// there when its down-edge comes.
func TestPhysicsOwnGhostDefault(t *testing.T) {
	if g := DefaultPhysicsParams().OwnGhost; g != 30*time.Minute {
		t.Errorf("OwnGhost %v, want 30m", g)
	}
}
