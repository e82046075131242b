package detect

import (
	"slices"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsScoreDropFallDefaults pins round 16c's defaults: the
// drop-time score asks a decline (t at most -1) at 5 min only.
func TestPhysicsScoreDropFallDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.ScoreDropFall != 0 || p.ScoreDropFallLong != 1 {
		t.Fatalf("ScoreDropFall %v, ScoreDropFallLong %v; want 0, 1", p.ScoreDropFall, p.ScoreDropFallLong)
	}
}

// TestPhysicsDropFlat: a step whose rise's t is over -ScoreDropFall
// (ScoreDropFallLong over 90 s) is flat; not when the parameter of its
// interval is 0.
func TestPhysicsDropFlat(t *testing.T) {
	for _, c := range []struct {
		name           string
		iv             float32
		fall, fallLong float64
		sxy            float32 // with sxx 1: the rise's t at 1 min and over
		want           bool
	}{
		{"5 min: t 0, limit 1", 300, 0, 1, 0, true},
		{"5 min: t -0.5, limit 1", 300, 0, 1, -0.5, true},
		{"5 min: t -3, limit 1", 300, 0, 1, -3, false},
		{"5 min: t +2 (a rise), limit 1", 300, 0, 1, 2, true},
		{"5 min: off", 300, 4, 0, 0, false},
		{"1 min: off by default", 60, 0, 1, 0, false},
		{"1 min: t -3, limit 4", 60, 4, 0, -3, true},
		{"1 min: t -5, limit 4", 60, 4, 0, -5, false},
	} {
		p := DefaultPhysicsParams()
		p.ScoreDropFall, p.ScoreDropFallLong = c.fall, c.fallLong
		s := physCore{p: &p, iv: c.iv}
		cd := cand{t0: 1, lvl: 150, sxx: 1, sxy: c.sxy} // t0 after seg0: no open segment adds to it
		if got := s.dropFlat(&cd); got != c.want {
			_, tt := s.rise(&cd)
			t.Errorf("%s (t %.1f): flat %v, want %v", c.name, tt, got, c.want)
		}
	}
}

// TestPhysicsScoredDropFall: at 5-min readings a 150 W step held three
// hours, whose power fell under its hold level and whose drop-time score
// passes (a linear model made to pass), is confirmed when its level
// declined (t -5), not when it stayed flat (t 0) or rose; with
// ScoreDropFallLong 0 it is confirmed either way.
func TestPhysicsScoredDropFall(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	const ts = int64(10 * 3600 * 1000)
	for _, c := range []struct {
		name     string
		fallLong float64
		sxy      float32
		want     bool
	}{
		{"declined", 1, -5, true},
		{"flat", 1, 0, false},
		{"rose", 1, 3, false},
		{"flat, off", 0, 0, true},
	} {
		p := DefaultPhysicsParams()
		p.ScoreModel = 0 // the linear drop-time score, made to pass
		p.ScoreDropWLong = [ScoreFeatures + 1]float64{20}
		p.ScoreDropFallLong = c.fallLong
		p.scoreLimits()
		p.seqLimits()
		s := &physCore{p: &p, iv: 300, na: 1, base: 100, last: ts, prev: 300 + 60}
		s.c[0] = cand{t0: ts - 3*3600*1000, ref: 300, pre: 300, step: 150, lvl: 150, sf: cOpen, sxx: 1, sxy: c.sxy, n: 30, sd2: 30, rq: 1}
		ok, _ := s.scoredDrop(&cfg, ts, 0, ts-s.c[0].t0)
		if ok != c.want {
			t.Errorf("%s: confirmed %v, want %v", c.name, ok, c.want)
		}
		if ok != (s.c[0].fl&fDrop != 0) {
			t.Errorf("%s: confirmed %v but fDrop %v", c.name, ok, s.c[0].fl&fDrop != 0)
		}
	}
}

// TestPhysicsDropFallFlatCharge: at 5-min readings a charge whose plateau
// does not rise (flatCharge), in a home where nothing confirms it on the
// plateau, reads no rise at its drop (t 0): by default its drop-time
// score does not confirm it, and the taper it is then followed in
// (Taper5N) confirms it 15 minutes later; with ScoreDropFallLong 0 the
// drop-time score does, at the drop.
func TestPhysicsDropFallFlatCharge(t *testing.T) {
	for _, c := range []struct {
		name     string
		fallLong float64
		want     []string
		path     string
	}{
		{"default: the taper", 1, []string{"5h0m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}, "taper, declined"},
		{"off: the drop-time score", 0, []string{"4h45m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}, "score"},
	} {
		p := DefaultPhysicsParams()
		p.FastNoise, p.FastNoiseW, p.KnownHold = 1e-9, 0, 0
		p.ScoreTreeMin, p.ScoreSeq = 1, 0
		p.ScoreYoungMinLong = 0 // the young steps' 5-min forest would confirm it on the plateau (at an hour)
		p.ScoreDropFallLong = c.fallLong
		var paths []string
		p.Trace = func(tr *ChargingTrace) {
			if tr.Event == "fire" {
				paths = append(paths, tr.Reason)
			}
		}
		got := physRun(t, p, 300, 8*hr, sumW(base(40), flatCharge))
		if !slices.Equal(got, c.want) || len(paths) != 1 || paths[0] != c.path {
			t.Errorf("%s: signals %q by %q, want %q by %q", c.name, got, paths, c.want, c.path)
		}
	}
}
