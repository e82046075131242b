package detect

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsRoomScoreLong: at reading intervals over 90 s, RoomScoreLong
// and RoomHoldLong (when over 0) stand for RoomScore and RoomHold in the
// choice of the step an up-edge with no slot free forgets; at 90 s or
// less, and with them 0, RoomScore and RoomHold apply.
func TestPhysicsRoomScoreLong(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name      string
		iv        float32
		score     float64
		scoreLong float64
		holdLong  time.Duration
		evicted   int
	}{
		{"long: lowest score", 300, 0, 0.5, 0, 0},
		{"long: off", 300, 0, 0, 0, 3},
		{"long: RoomScore when 0", 300, 0.5, 0, 0, 0},
		{"long: none under", 300, 0.5, 1e-9, 0, 3},
		{"long: held too short", 300, 0, 0.5, 10 * time.Hour, 3},
		{"short: RoomScore", 60, 0, 0.5, 0, 3},
		{"short: RoomHold", 60, 0.5, 0.5, 10 * time.Hour, 0},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.RoomHold = c.score, 5*time.Minute
		p.RoomSwap, p.RoomSwapLong, p.RoomOldLong = 0, 0, 0 // round 14's rules off: RoomScore alone
		p.RoomScoreLong, p.RoomHoldLong = c.scoreLong, c.holdLong
		s := physCore{p: &p, iv: c.iv, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
		// an old step whose power wanders (20% of it from reading to
		// reading, falling), two quiet ones, and a charger's step of
		// 20 minutes, the latest
		s.c[0] = cand{t0: ts - 180*mn, ref: 195, pre: 200, step: 100, lvl: 100, sf: cOpen, n: 36, sd2: 36 * 2 * 400, rq: 2 * 400, sxx: 100, sxy: -500}
		s.c[1] = cand{t0: ts - 90*mn, ref: 295, pre: 300, step: 150, lvl: 150, sf: cOpen, n: 18, sd2: 18 * 0.2, rq: 0.2, sxx: 100, sxy: 300}
		s.c[2] = cand{t0: ts - 40*mn, ref: 445, pre: 450, step: 120, lvl: 120, sf: cOpen, n: 8, sd2: 8 * 0.2, rq: 0.2, sxx: 20, sxy: 20}
		s.c[3] = cand{t0: ts - 20*mn, ref: 565, pre: 570, step: 130, lvl: 130, sf: cOpen, n: 4, sd2: 4 * 0.2, rq: 0.2}
		fillRoom(&s, mn)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}
