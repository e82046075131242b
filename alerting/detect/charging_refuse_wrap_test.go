package detect

import "testing"

// A cycler the memory has seen 128 times or more (the counts saturate at
// 250) is still a cycler: cycles*2 must not wrap in uint8.
func TestPhysicsRoomRefuseSaturated(t *testing.T) {
	ts := int64(10 * 3600 * 1000)
	for _, n := range []uint8{100, 128, 200, 250} {
		p := DefaultPhysicsParams()
		s := physCore{p: &p, iv: 10}
		s.mem[0] = sig{w: 100, maxRun: 20, other: n, cycles: n, last: int32(ts/60000) - 60}
		if !s.roomRefused(ts, 100) {
			t.Errorf("cycles = other = %d: not refused", n)
		}
		c := cand{sf: cOpen, lvl: 100, step: 100}
		if !s.cyclerLike(&c) {
			t.Errorf("cycles = other = %d: not cycler-like", n)
		}
	}
}
