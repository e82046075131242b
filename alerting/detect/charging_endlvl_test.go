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
		long  bool // read every 5 min: EndLevelLong set to endLv (EndLevel 0.3 when not long)
		lvl   float32
		over  float32 // power over the reference, each minute
		mins  int     // for this many minutes
		ended bool
	}{
		{"off: a 60 W load holds it", 0, false, 250, 60, 15, false},
		{"0.3 of 250 W: under 75 W ends it", 0.3, false, 250, 60, 15, true},
		{"0.3 of 250 W: 90 W holds it", 0.3, false, 250, 90, 15, false},
		{"0.3 of 250 W: under it for 5 min only", 0.3, false, 250, 60, 5, false},
		{"0.3 of 50 W: EndBelowW still ends it", 0.3, false, 50, 15, 15, true},
		{"0.3 of 50 W: 25 W over EndBelowW holds it", 0.3, false, 50, 25, 15, false},
		{"off: the float ends it", 0, false, 250, 10, 15, true},
		{"5 min, EndLevelLong 0: a 60 W load holds it", 0, true, 250, 60, 15, false},
		{"5 min, EndLevelLong 0.3: under 75 W ends it", 0.3, true, 250, 60, 15, true},
	} {
		p := DefaultPhysicsParams()
		p.EndLevel, p.EndLevelLong = c.endLv, 0
		iv := float32(60)
		if c.long {
			// EndLevel does not apply over 90 s
			p.EndLevel, p.EndLevelLong, iv = 0.3, c.endLv, 300
		}
		s := physCore{p: &p, iv: iv, chg: 1}
		s.c[0] = cand{t0: 1000, ref: 30, lvl: c.lvl, step: c.lvl, sf: cCharge}
		ended := false
		for m := 1; m <= c.mins && !ended; m++ {
			ts := int64(4*3600+60*m) * 1000
			ended = s.checkEnd(&cfg, ts, 30+c.over, 30+c.over) == ChargeEnded
		}
		if ended != c.ended {
			t.Errorf("%s: ended %v, want %v", c.name, ended, c.ended)
		}
	}
}

// TestPhysicsEndLevelDefault pins EndLevel 0.2 at intervals up to 90 s and
// off over them: alone (round 18c) it cut tapers; with FellEdge 0.6 (round
// 20a), wide pool at 1 min, alerts outlived / ended while charging 405/1,006
// -> 410/923, sessions / false alarms 6,461/275 -> 6,465/277; at 5 min
// EndLevelLong 0.2 with FellEdgeLong 0.6 added false alarms (5,080/227 ->
// 5,079/230).
func TestPhysicsEndLevelDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.EndLevel != 0.2 || p.EndLevelLong != 0 {
		t.Errorf("EndLevel %g, EndLevelLong %g, want 0.2 and 0 (off)", p.EndLevel, p.EndLevelLong)
	}
}

// TestPhysicsEndLevelEdges: EndLevel applies up to 90 s (EndLevelLong
// over), the charge ends only under EndLevel of its level (a power at it
// holds it), and the var core ends its charge under EndLevel of its var
// level as well as under its own float level (EndBelowW × VarEnd, 50 var).
func TestPhysicsEndLevelEdges(t *testing.T) {
	for _, c := range []struct {
		name      string
		iv        float32
		nv        bool
		lvl, over float32 // the level; the power over the reference, each minute for 15 min
		ended     bool
	}{
		{"90 s: EndLevel 0.2, under 50 W ends it", 90, false, 250, 40, true},
		{"91 s: EndLevelLong 0, 40 W holds it", 91, false, 250, 40, false},
		{"at 0.2 of 250 W, 50 W holds it", 60, false, 250, 50, false},
		{"var: 0.2 of 350 var, under 70 var ends it", 60, true, 350, 60, true},
		{"var: 70 var holds it", 60, true, 350, 70, false},
		{"var: its float level (50 var) still ends a smaller one", 60, true, 200, 45, true},
	} {
		cfg := Defaults(devices.KindMeter).Charging
		p := DefaultPhysicsParams()
		p.EndLevel, p.EndLevelLong = 0.2, 0
		if c.nv {
			cfg.EndBelowW *= p.VarEnd
		}
		s := physCore{p: &p, iv: c.iv, chg: 1, nv: c.nv}
		s.c[0] = cand{t0: 1000, ref: 30, lvl: c.lvl, step: c.lvl, sf: cCharge}
		ended := false
		for m := 1; m <= 15 && !ended; m++ {
			ts := int64(4*3600+60*m) * 1000
			ended = s.checkEnd(&cfg, ts, 30+c.over, 30+c.over) == ChargeEnded
		}
		if ended != c.ended {
			t.Errorf("%s: ended %v, want %v", c.name, ended, c.ended)
		}
	}
}
