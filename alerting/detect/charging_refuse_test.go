package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsRoomRefuse: an up-edge that finds every slot taken is not
// followed when the unit's memory knows a load of its size as a cycler and
// not a charger (RoomRefuse, at 10 s, and at 1 min with RoomRefuseMaxIv
// 60): no slot is forgotten and its size is remembered as an up-edge no
// candidate follows. It is followed (a slot is forgotten for it) when
// RoomRefuse is 0, at 1 min with the default RoomRefuseMaxIv (30), at
// 5 min (RoomRefuseLong 0),
// when the memory knows the size as a charger's, as a load that does not
// cycle, or does not know it, and whenever a slot is free.
func TestPhysicsRoomRefuse(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	cycler := sig{w: 100, maxRun: 20, other: 10, cycles: 10}
	for _, c := range []struct {
		name    string
		refuse  float64
		maxIv   float64
		iv      float32
		mem     sig
		free    bool
		refused bool
	}{
		{"a cycler's size: refused", 1, 60, 60, cycler, false, true},
		{"10 s: refused", 1, 30, 10, cycler, false, true},
		{"1 min, RoomRefuseMaxIv 30: followed", 1, 30, 60, cycler, false, false},
		{"off", 0, 60, 60, cycler, false, false},
		{"5 min: RoomRefuseLong 0", 1, 0, 300, cycler, false, false},
		{"a charger's size", 1, 60, 60, sig{w: 100, maxRun: 200, other: 2, charger: 5, cycles: 2}, false, false},
		{"another load, not a cycler", 1, 60, 60, sig{w: 100, maxRun: 20, other: 10}, false, false},
		{"a size the memory does not know", 1, 60, 60, sig{w: 200, maxRun: 20, other: 10, cycles: 10}, false, false},
		{"a slot free", 1, 60, 60, cycler, true, false},
	} {
		p := DefaultPhysicsParams()
		p.RoomRefuse, p.RoomRefuseMaxIv = c.refuse, c.maxIv
		s := physCore{p: &p, iv: c.iv, na: 4, base: 200, last: ts - mn, prev: 700, seg0: ts - 10*mn}
		roomSlots(&s, ts, mn)
		if c.free {
			s.c[2].setState(cFree)
		}
		s.mem[0] = c.mem
		s.mem[0].last = int32(ts/60000) - 60
		old := s.c
		s.open(&cfg, ts, 700, 100)
		opened := false
		for j := range s.c {
			if s.c[j].state() == cOpen && s.c[j].t0 == ts {
				opened = true
			}
		}
		if opened == c.refused {
			t.Errorf("%s: opened %v, want %v", c.name, opened, !c.refused)
		}
		if c.refused {
			if s.c != old {
				t.Errorf("%s: the slots changed", c.name)
			}
			if s.gW != 1000 || s.gT != uint16(ts/ghostTick) {
				t.Errorf("%s: the up-edge not remembered (gW %d, gT %d)", c.name, s.gW, s.gT)
			}
		}
	}
}

// TestPhysicsRoomRefuseDefault pins the defaults: on at 10 s only (round
// 16a had it at 1 min too; round 17's fresh cities took it off there),
// off at 5 min; RoomRefuseMaxIv 45 (30 until round 29's review) keeps it
// on at 30-s readings whose gaps jitter, not on every other reading.
func TestPhysicsRoomRefuseDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.RoomRefuse != 1 || p.RoomRefuseLong != 0 || p.RoomRefuseMaxIv != 45 {
		t.Errorf("RoomRefuse %v, RoomRefuseLong %v, RoomRefuseMaxIv %v; want 1, 0, 45", p.RoomRefuse, p.RoomRefuseLong, p.RoomRefuseMaxIv)
	}
}
