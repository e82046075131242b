package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsOutlastDefault pins round 25d's OutlastMaxIv: 90 (the path
// "outlasted a cycler" off at 30-90 s readings).
func TestPhysicsOutlastDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.OutlastMaxIv != 90 {
		t.Fatalf("OutlastMaxIv %v, want 90", p.OutlastMaxIv)
	}
}

// TestPhysicsOutlastJudge: a flat, clean step of 150 W held 21 minutes,
// the size of a load the unit's memory knows as a cycler (runs of 5
// minutes), is confirmed as "outlasted a cycler"; with OutlastMaxIv 90 not
// at 1-min readings (it stays open), nor at 30 s or 90 s (the range's
// bounds), and still at 10 s and 29 s (under 30 s) and with OutlastMaxIv
// 50 (1 min over it).
func TestPhysicsOutlastJudge(t *testing.T) {
	const mn = 60 * 1000
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
		p.ScoreMin, p.ScoreEarlyMin = 0, 0
		cfg := Defaults(devices.KindMeter).Charging
		ts := int64(10 * 3600 * 1000)
		s := &physCore{p: &p, iv: c.iv, na: 1, base: 100, last: ts - mn, prev: 250, seg0: ts - 21*mn}
		s.mem[0] = sig{w: 150, maxRun: 5, cycles: 6, other: 6, last: int32(ts/60000) - 600}
		s.c[0] = cand{t0: ts - 21*mn, ref: 98, pre: 100, step: 150, lvl: 150, st: cOpen, fl: fClean,
			n: 21, sd2: 21 * 0.5, rq: 0.5}
		s.judge(&cfg, ts, 0)
		if got := s.c[0].st == cCharge && s.sPath == pathCycler; got != c.want {
			t.Errorf("%s: confirmed as outlasted a cycler %v (state %d, path %d), want %v", c.name, got, s.c[0].st, s.sPath, c.want)
		}
		if !c.want && s.c[0].st != cOpen {
			t.Errorf("%s: state %d, want open", c.name, s.c[0].st)
		}
	}
}
