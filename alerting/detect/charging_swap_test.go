package detect

import (
	"math"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// roomSlots fills s's slots as TestPhysicsRoomScoreLong does: an old step
// whose power wanders (slot 0, 3 h), two quiet ones (90 and 40 min) and a
// charger's step of 20 minutes, the latest of the four (slot 3).
func roomSlots(s *physCore, ts, mn int64) {
	s.c[0] = cand{t0: ts - 180*mn, ref: 195, pre: 200, step: 100, lvl: 100, sf: cOpen, n: 36, sd2: 36 * 2 * 400, rq: 2 * 400, sxx: 100, sxy: -500}
	s.c[1] = cand{t0: ts - 90*mn, ref: 295, pre: 300, step: 150, lvl: 150, sf: cOpen, n: 18, sd2: 18 * 0.2, rq: 0.2, sxx: 100, sxy: 300}
	s.c[2] = cand{t0: ts - 40*mn, ref: 445, pre: 450, step: 120, lvl: 120, sf: cOpen, n: 8, sd2: 8 * 0.2, rq: 0.2, sxx: 20, sxy: 20}
	s.c[3] = cand{t0: ts - 20*mn, ref: 565, pre: 570, step: 130, lvl: 130, sf: cOpen, n: 4, sd2: 4 * 0.2, rq: 0.2}
	fillRoom(s, mn)
}

// TestPhysicsRoomSwap: the step the eviction rules chose (the latest, at
// 5 min with four slots) is kept when another settled step held RoomHold
// scores more than RoomSwapLong under it: the lowest is forgotten. Not
// with a margin no score gap reaches, with RoomSwapLong 0 (RoomSwap is
// for 90 s or less), for a chosen step held under RoomSwapAge, nor at
// reading intervals under RoomSwapMinIv.
func TestPhysicsRoomSwap(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	// the scores as the detector sees them (the trees may be refitted)
	p0 := DefaultPhysicsParams()
	s0 := physCore{p: &p0, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
	roomSlots(&s0, ts, mn)
	z, low := roomScores(&s0, ts)
	if low == 3 {
		t.Fatalf("the charger's step scores lowest (%v): nothing to test", z)
	}
	for _, c := range []struct {
		name     string
		iv       float32
		swap     float64
		swapLong float64
		age      time.Duration
		evicted  int
	}{
		{"off: the latest", 300, 0, 0, 0, 3},
		{"the lowest score", 300, 0, 1e-9, 0, low},
		{"margin not reached", 300, 0, z[3] - z[low] + 0.01, 0, 3},
		{"RoomSwap is for short intervals", 300, 1e-9, 0, 0, 3},
		{"the chosen step too young", 300, 0, 1e-9, 30 * time.Minute, 3},
		{"10 s: under RoomSwapMinIv", 10, 1e-9, 0, 0, 3},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.RoomHold = 0, 5*time.Minute
		p.RoomSwap, p.RoomSwapLong, p.RoomSwapAge = c.swap, c.swapLong, c.age
		p.RoomSwapMinIv, p.RoomOldLong = 30, 0
		s := physCore{p: &p, iv: c.iv, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
		roomSlots(&s, ts, mn)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}

// TestPhysicsRoomOld: an up-edge with no slot free forgets first the
// oldest settled step held RoomOldLong (at 5 min; RoomOld at 90 s or
// less), when its score is under RoomOldScore (0: any); else the rules
// as before (the latest).
func TestPhysicsRoomOld(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name         string
		old, oldLong time.Duration
		score        float64
		evicted      int
	}{
		{"off: the latest", 0, 0, 0, 3},
		{"the oldest held 2 h", 0, 2 * time.Hour, 0, 0},
		{"held 1 h: the oldest of two", 0, time.Hour, 0, 0},
		{"none held 4 h", 0, 4 * time.Hour, 0, 3},
		{"its score not under", 0, 2 * time.Hour, 1e-12, 3},
		{"its score under", 0, 2 * time.Hour, 1 - 1e-9, 0},
		{"RoomOld is for short intervals", 2 * time.Hour, 0, 0, 3},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore = 0
		p.RoomOld, p.RoomOldLong, p.RoomOldScore = c.old, c.oldLong, c.score
		p.RoomSwap, p.RoomSwapLong = 0, 0
		s := physCore{p: &p, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
		roomSlots(&s, ts, mn)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}

// roomScores returns the confirmation scores of s's first four slots as the
// detector computes them at ts (so that the tests hold when the trees are
// refitted) and the index of the lowest.
func roomScores(s *physCore, ts int64) (z [oldCands]float64, low int) {
	for j := range z {
		z[j] = s.scoreNowCut(&s.c[j], ts, 700, math.Inf(-1), math.Inf(1))
		if z[j] < z[low] {
			low = j
		}
	}
	return z, low
}
