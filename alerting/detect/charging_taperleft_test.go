package detect

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsTaperLeftDefaults pins round 31a's defaults: the taper paths
// ask the power to stand TaperLeftW (0.5 W) over the step's reference at
// intervals over 150 s (5 min; the interval is an average of the gaps,
// so the floor sits off the nominal 300 s); the followed taper's floor
// on each reading's decline (Taper5DecW) is off.
func TestPhysicsTaperLeftDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.TaperLeftW != 0.5 || p.TaperLeftMinIv != 150 || p.Taper5DecW != 0 {
		t.Fatalf("TaperLeftW %v, TaperLeftMinIv %v, Taper5DecW %v; want 0.5, 150, 0", p.TaperLeftW, p.TaperLeftMinIv, p.Taper5DecW)
	}
}

// TestPhysicsTaperGone: a step whose power stands under TaperLeftW over
// its reference is gone, at intervals over TaperLeftMinIv only, and
// never with TaperLeftW 0.
func TestPhysicsTaperGone(t *testing.T) {
	for _, c := range []struct {
		name  string
		left  float64
		iv    float32
		over  float32 // the power over the reference
		wantG bool
	}{
		{"5 min, under its reference", 0.5, 300, -3, true},
		{"5 min, at its reference", 0.5, 300, 0, true},
		{"5 min, 0.4 W over it", 0.5, 300, 0.4, true},
		{"5 min, 0.5 W over it", 0.5, 300, 0.5, false},
		{"5 min, a taper's remainder", 0.5, 300, 30, false},
		{"5 min, off", 0, 300, -3, false},
		{"1 min", 0.5, 60, -3, false},
		{"10 s", 0.5, 10, -3, false},
		{"a 5-min meter whose gaps jitter", 0.5, 290, -3, true},
	} {
		p := DefaultPhysicsParams()
		p.TaperLeftW = c.left
		s := physCore{p: &p, iv: c.iv, prev: 40 + c.over}
		cd := cand{t0: 1, ref: 40, lvl: 100, step: 100, sf: cOpen}
		if got := s.taperGone(&cd); got != c.wantG {
			t.Errorf("%s: gone %v, want %v", c.name, got, c.wantG)
		}
	}
}

// TestPhysicsTaperLeftTapered: a 100 W step held two hours whose level
// declined (t -10, 10% an hour) and that fell under its hold level
// without an edge that matched it is a declined taper while its power
// stands over its reference; with TaperLeftW on, not once the power is
// at or under its reference (a load switched off) at 5-min readings,
// still at 1-min readings. The taper after a rise (its plateau rose with
// t 4) is held to the same.
func TestPhysicsTaperLeftTapered(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	const held = 2 * time.Hour
	for _, c := range []struct {
		name string
		left float64
		iv   float32
		over float32 // the power over the reference now
		tb   float32 // the plateau's rise t
		want uint8
	}{
		{"5 min, a taper's remainder", 0.5, 300, 50, 0, pathTaperFall},
		{"5 min, nothing left", 0.5, 300, 0, 0, 0},
		{"5 min, under its reference", 0.5, 300, -5, 0, 0},
		{"5 min, nothing left, off", 0, 300, 0, 0, pathTaperFall},
		{"1 min, nothing left", 0.5, 60, 0, 0, pathTaperFall},
		{"5 min, after a rise, a taper's remainder", 0.5, 300, 50, 4, pathTaper},
		{"5 min, after a rise, nothing left", 0.5, 300, 0, 4, 0},
	} {
		p := DefaultPhysicsParams()
		p.TaperLeftW = c.left
		ts := int64(held/time.Millisecond) + 1
		s := physCore{p: &p, iv: c.iv, prev: 40 + c.over}
		// its last reading on the plateau 20 minutes ago; t0 after seg0:
		// the rise is the step's own regression (sxx 1, sxy -10: t -10 at
		// 1 and 5 min, the level's 10% an hour)
		low := int32((held-20*time.Minute)/time.Second) + 1
		cd := cand{t0: 1, ref: 40, pre: 42, lvl: 100, step: 100, sf: cOpen, low: low, n: 30, sd2: 30, sxx: 1, sxy: -10, tb: c.tb}
		if got := s.tapered(&cfg, ts, &cd); got != c.want {
			r, tt := s.rise(&cd)
			t.Errorf("%s: path %d, want %d (rise %.2f, t %.1f)", c.name, got, c.want, r, tt)
		}
	}
}

// TestPhysicsTaper5DecW: with Taper5DecW a followed step (level 100 W,
// 30 W reference) whose reading declined by less than that many watts is
// dropped, though the decline is Taper5Rel of what was left; a taper's
// decline of watts is confirmed as before; off, the drift is a taper.
func TestPhysicsTaper5DecW(t *testing.T) {
	for _, c := range []struct {
		name string
		decW float64
		over []float32 // power over the reference, from the reading it was followed from
		want uint8
	}{
		{"a taper", 0.6, []float32{60, 55, 50, 46}, cCharge},
		{"a small remainder drifting down", 0.6, []float32{8, 7.6, 7.2, 6.8}, cFree},
		{"the same, off", 0, []float32{8, 7.6, 7.2, 6.8}, cCharge},
	} {
		p := DefaultPhysicsParams()
		p.Taper5N, p.Taper5Rel, p.Taper5DecW = 3, 0.03, c.decW
		if st, ch := followTaper5(&p, c.over); st != c.want || (ch == ChargeStarted) != (c.want == cCharge) {
			t.Errorf("%s: state %d (%v), want %d", c.name, st, ch, c.want)
		}
	}
}
