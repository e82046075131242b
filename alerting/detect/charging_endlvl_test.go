package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsEndLevel: a confirmed charge (30 W reference) ends after
// EndAfter (10 min) with the power over its reference under EndBelowW or,
// with EndLevel, under EndLevel times its level: a load that came on during
// the charge no longer holds it open once the charger's draw has gone.
func TestPhysicsEndLevel(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range []struct {
		name  string
		endLv float64
		lvl   float32
		over  float32 // power over the reference, each minute
		mins  int     // for this many minutes
		ended bool
	}{
		{"off: a 60 W load holds it", 0, 250, 60, 15, false},
		{"0.3 of 250 W: under 75 W ends it", 0.3, 250, 60, 15, true},
		{"0.3 of 250 W: 90 W holds it", 0.3, 250, 90, 15, false},
		{"0.3 of 250 W: under it for 5 min only", 0.3, 250, 60, 5, false},
		{"0.3 of 50 W: EndBelowW still ends it", 0.3, 50, 15, 15, true},
		{"0.3 of 50 W: 25 W over EndBelowW holds it", 0.3, 50, 25, 15, false},
		{"off: the float ends it", 0, 250, 10, 15, true},
	} {
		p := DefaultPhysicsParams()
		p.EndLevel = c.endLv
		s := physCore{p: &p, iv: 60, chg: 1}
		s.c[0] = cand{t0: 1000, ref: 30, lvl: c.lvl, step: c.lvl, st: cCharge}
		ended := false
		for m := 1; m <= c.mins && !ended; m++ {
			ts := int64(4*3600+60*m) * 1000
			ended = s.checkEnd(&cfg, ts, 30+c.over) == ChargeEnded
		}
		if ended != c.ended {
			t.Errorf("%s: ended %v, want %v", c.name, ended, c.ended)
		}
	}
}

// TestPhysicsEndLevelDefault pins EndLevel off: at 0.3 on the tuning look it
// ended 10 more alerts within 30 min of the unplug at 1 min but 18 more
// over 30 min before the charger stopped charging (taper cut).
func TestPhysicsEndLevelDefault(t *testing.T) {
	if v := DefaultPhysicsParams().EndLevel; v != 0 {
		t.Errorf("EndLevel %g, want 0 (off)", v)
	}
}
