package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// dupSlots fills s's slots at ts: two steps of about 160 W on the floor
// (slots 0 and 1, slot 1 the newer), two more stacked over them, and at
// 1 min a fifth.
func dupSlots(s *physCore, ts, mn int64) {
	s.c[0] = cand{t0: ts - 170*mn, ref: 195, pre: 200, step: 160, lvl: 160, sf: cOpen, n: 34, sd2: 34 * 2 * 400, rq: 2 * 400, sxx: 100, sxy: -500}
	s.c[1] = cand{t0: ts - 90*mn, ref: 198, pre: 203, step: 155, lvl: 155, sf: cOpen, n: 18, sd2: 18 * 0.2, rq: 0.2, sxx: 100, sxy: 300, nz: 0.01}
	s.c[2] = cand{t0: ts - 40*mn, ref: 355, pre: 360, step: 120, lvl: 120, sf: cOpen, n: 8, sd2: 8 * 0.2, rq: 0.2, sxx: 20, sxy: 20}
	s.c[3] = cand{t0: ts - 20*mn, ref: 475, pre: 480, step: 130, lvl: 130, sf: cOpen, n: 4, sd2: 4 * 0.2, rq: 0.2}
	s.c[4] = cand{t0: ts - 10*mn, ref: 605, pre: 610, step: 90, lvl: 90, sf: cOpen, n: 2, sd2: 2 * 0.2, rq: 0.2}
}

// usualRoom returns the slot the usual rules give an up-edge at ts on
// s, set up with the rule under test off (what they forget); it fails
// the test when the new step is not followed.
func usualRoom(t *testing.T, name string, cfg *ChargingConfig, s *physCore, ts int64) int {
	t.Helper()
	s.open(cfg, ts, 700, 100)
	for j := range s.c {
		if s.c[j].t0 == ts {
			return j
		}
	}
	t.Fatalf("%s: the new step not followed with the rule off", name)
	return -1
}

// TestPhysicsRoomDup: an up-edge that finds every slot taken forgets the
// newer of two settled open steps of one level on one reference on the
// floor (RoomDupLong at 5 min, RoomDup at 1 min), where the usual rules
// forget another; the memory is not told. Not when the rule is off at the
// interval, when the levels or the references lie further apart than the
// tolerance, when the references stand off the floor, when one of the two
// is a confirmed charge or not settled, at 5 min and at 1 min (round
// 35c's RoomDup 0.1: levels 11% apart are no pair there, as they would be
// under RoomDupLong's 0.12). Of three of a size, the newest goes.
// RoomDupMinIv bounds RoomDup from below: at the bound or over it the
// newer goes; at 10 s, 30 s and just under the bound the usual rules
// choose; with the bound 0 RoomDup holds at 10 s too.
func TestPhysicsRoomDup(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name         string
		iv           float32
		dup, dupLong float64
		base         float32
		change       func(s *physCore)
		want         int // -1: as with the rule off
	}{
		{"5 min: the newer of the two", 300, 0, 0.12, 200, nil, 1},
		{"off", 300, 0, 0, 200, nil, -1},
		{"1 min: RoomDup 0", 60, 0, 0.12, 200, nil, -1},
		{"1 min: RoomDup on", 60, 0.12, 0, 200, nil, 1},
		{"1 min, 0.1 (round 35c): the newer of the two", 60, 0.1, 0.12, 200, nil, 1},
		// RoomDupMinIv (45 by default) bounds RoomDup from below
		{"0.1 just over RoomDupMinIv", 46, 0.1, 0.12, 200, nil, 1},
		{"0.1 at RoomDupMinIv", 45, 0.1, 0.12, 200, nil, 1},
		{"0.1 just under RoomDupMinIv", 44, 0.1, 0.12, 200, nil, -1},
		{"0.1 at 30 s", 30, 0.1, 0.12, 200, nil, -1},
		{"0.1 at 10 s", 10, 0.1, 0.12, 200, nil, -1},
		{"0.1 at 10 s, RoomDupMinIv 0", 10, 0.1, 0.12, 200, func(s *physCore) { s.p.RoomDupMinIv = 0 }, 1},
		{"1 min, 0.1: levels 11% apart (within RoomDupLong's 0.12)", 60, 0.1, 0.12, 200, func(s *physCore) { s.c[1].lvl = 142 }, -1},
		{"1 min, 0.1: references apart", 60, 0.1, 0.12, 200, func(s *physCore) { s.c[1].ref, s.c[1].pre = 230, 235 }, -1},
		{"1 min, 0.1: off the floor", 60, 0.1, 0.12, 100, nil, -1},
		{"1 min, 0.1: a confirmed charge", 60, 0.1, 0.12, 200, func(s *physCore) { s.c[1].setState(cCharge) }, -1},
		{"1 min, 0.1: not settled", 60, 0.1, 0.12, 200, func(s *physCore) { s.c[1].lvl = 0 }, -1},
		{"levels apart", 300, 0, 0.12, 200, func(s *physCore) { s.c[1].lvl = 130 }, -1},
		{"references apart", 300, 0, 0.12, 200, func(s *physCore) { s.c[1].ref, s.c[1].pre = 230, 235 }, -1},
		{"off the floor", 300, 0, 0.12, 100, nil, -1},
		{"a confirmed charge", 300, 0, 0.12, 200, func(s *physCore) { s.c[1].setState(cCharge) }, -1},
		{"not settled", 300, 0, 0.12, 200, func(s *physCore) { s.c[1].lvl = 0 }, -1},
		{"three of a size", 300, 0, 0.12, 200, func(s *physCore) { s.c[2].ref, s.c[2].pre, s.c[2].lvl = 200, 205, 158 }, 2},
	} {
		setup := func(dup, dupLong float64) *physCore {
			p := DefaultPhysicsParams()
			p.RoomDup, p.RoomDupLong = dup, dupLong
			s := &physCore{p: &p, iv: c.iv, na: 4, base: c.base, last: ts - mn, prev: 700, seg0: ts - 10*mn}
			dupSlots(s, ts, mn)
			if c.change != nil {
				c.change(s)
			}
			return s
		}
		usual := usualRoom(t, c.name, &cfg, setup(0, 0), ts)
		want := c.want
		if want < 0 {
			want = usual
		} else if usual == want {
			t.Fatalf("%s: the usual rules forget slot %d too: nothing to test", c.name, want)
		}
		s := setup(c.dup, c.dupLong)
		mem := s.mem
		checkRoom(t, c.name, &cfg, s, ts, want)
		if s.mem != mem {
			t.Errorf("%s: the memory was told", c.name)
		}
	}
}

// TestPhysicsRoomDupDefault pins the defaults: off up to 90 s (round 35c
// turned 0.1 on at 1 min on the wide pool and the cities 513-544; round
// 35's second look, on the cities 545-576, failed it: 5 of 8 sets
// against), its floor 45 s kept for a rule turned on again (off at 10 s
// and 30 s, never measured there), 0.12 over 90 s (round 19: on the
// looks and on two sets of fresh cities).
func TestPhysicsRoomDupDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.RoomDup != 0 || p.RoomDupMinIv != 45 || p.RoomDupLong != 0.12 {
		t.Errorf("RoomDup %v, RoomDupMinIv %v, RoomDupLong %v; want 0, 45, 0.12", p.RoomDup, p.RoomDupMinIv, p.RoomDupLong)
	}
}
