package detect

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsOwnGhostForgotten: a remembered up-edge's time is kept modulo
// 2^16 ticks, so it is forgotten once past OwnGhost; otherwise, when the
// ticks wrap, it would read as minutes old again and take a down-edge from
// the step it matched (round 13's review).
func TestPhysicsOwnGhostForgotten(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	p.PairKeep, p.PairScore, p.StayKeep, p.FloorKeep = 0, 0, 0, 0 // the rules that keep a step after a down-edge of its size: this test is the remembered up-edge's
	p.OwnGhost = 15 * time.Minute
	t0 := int64(5 * 3600 * 1000)
	wrap := int64(1<<16) * 60000
	s := &physCore{p: &p, iv: 60, na: 1, base: 100, last: t0, prev: 700, seg0: t0}
	s.ghostSet(t0, 150)
	// 45.5 days of quiet minutes at 700 W (no edge, no gap)
	for ts := t0 + 60000; ts <= t0+wrap; ts += 60000 {
		s.observe(&cfg, ts, 700, true)
	}
	ts := t0 + wrap + 5*60000 // the down-edge, 45.5 days and 5 min after the up-edge
	// a 150 W step an hour old at the down-edge
	s.c[0] = cand{t0: ts - 3600*1000, ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, n: 60}
	s.down(&cfg, ts, 550, -150)
	if s.c[0].state() == cOpen {
		t.Errorf("an up-edge 45 days old took the down-edge from the step")
	}
}

// TestPhysicsOwnGhostVersion: an up-edge remembered past OwnGhost (it can
// own no down-edge any more) does not keep the checkpoint at version 8,
// which a binary of version 7 does not read (round 13's review).
func TestPhysicsOwnGhostVersion(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	ch := m.New().(*physCharging)
	for ts := t0; ts < t0+10*60000; ts += 60000 {
		ch.Observe(&cfg, ts, ChargeReading{PowerW: 300})
	}
	ch.pc.ghostSet(t0+9*60000, 150)
	b, _ := ch.MarshalBinary()
	if v := b[len(physMagic)]; v != physVersionOwn {
		t.Errorf("an up-edge just remembered: version %d, want %d", v, physVersionOwn)
	}
	for ts := t0 + 10*60000; ts < t0+60*60000; ts += 60000 {
		ch.Observe(&cfg, ts, ChargeReading{PowerW: 300})
	}
	b, _ = ch.MarshalBinary()
	if v := b[len(physMagic)]; v == physVersionOwn {
		t.Errorf("an up-edge remembered 50 min ago (OwnGhost %v): version %d", ch.p.OwnGhost, v)
	}
}

// TestPhysicsCheckpointVersions: the held band's session, a fifth slot
// with its sequence bits and a remembered up-edge at once round-trip as
// version 8; each alone picks its own version.
func TestPhysicsCheckpointVersions(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	for _, c := range []struct {
		name              string
		band, wide, ghost bool
		want              uint8
	}{
		{"band", true, false, false, physVersionBand},
		{"wide", false, true, false, physVersionSlots},
		{"ghost", false, false, true, physVersionOwn},
		{"band+wide", true, true, false, physVersionSlots},
		{"band+ghost", true, false, true, physVersionOwn},
		{"all", true, true, true, physVersionOwn},
	} {
		ch := m.New().(*physCharging)
		s := &ch.pc
		s.last, s.prev, s.base, s.iv, s.seg0, s.blkT = t0, 500, 380, 60, t0, t0
		s.c[1] = cand{t0: t0 - 3600*1000, ref: 295, pre: 300, step: 100, lvl: 100, sf: cOpen, n: 60}
		s.seqSet(1, 5)
		if c.band {
			s.c[2] = cand{t0: t0 - 7200*1000, ref: 195, pre: 200, step: 100, lvl: 100, sf: cCharge, n: 120}
			s.chg, ch.on, s.sPath = 1, true, pathBand
		}
		if c.wide {
			s.c[nCands-1] = cand{t0: t0 - 1800*1000, ref: 395, pre: 400, step: 100, lvl: 100, sf: cOpen, n: 30}
			s.seqSet(nCands-1, 42)
		}
		if c.ghost {
			s.ghostSet(t0-5*60000, 120)
		}
		b, _ := ch.MarshalBinary()
		if v := b[len(physMagic)]; v != c.want {
			t.Errorf("%s: version %d, want %d", c.name, v, c.want)
		}
		back := m.New().(*physCharging)
		if err := back.UnmarshalBinary(b); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b2, _ := back.MarshalBinary()
		if string(b2) != string(b) || back.pc.sPath != s.sPath || back.pc.gW != s.gW || back.pc.gT != s.gT || back.pc.seqGet(nCands-1) != s.seqGet(nCands-1) {
			t.Errorf("%s: not read back the same", c.name)
		}
	}
}

// TestPhysicsOwnGhostSameMinute: at 10-s readings, an up-edge no candidate
// followed 20 s after the step started (in the same minute) owns its
// down-edge: its time is kept in 10-s ticks, not whole minutes, which read
// it as before the step (round 13's review).
func TestPhysicsOwnGhostSameMinute(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	p.PairKeep, p.PairScore, p.StayKeep = 0, 0, 0
	p.OwnGhost = 15 * time.Minute
	start := int64(5*3600*1000) + 20000 // the step, at hh:00:20
	ts := start + 5*60000
	s := &physCore{p: &p, iv: 10, na: 1, base: 100, last: ts, prev: 700}
	s.c[0] = cand{t0: start, ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, n: 30}
	s.ghostSet(start+20000, 150) // hh:00:40, after the step
	s.down(&cfg, ts, 550, -150)
	if s.c[0].state() != cOpen {
		t.Errorf("an up-edge 20 s after the step, in its minute, did not own the down-edge")
	}
}

// TestSlotsLongNoFifth: at 5 min with CandsLong 4, a step left in the
// fifth slot (opened at 1 min, or read from a 1-min checkpoint) runs until
// it ends, but a new up-edge does not take its place: the eviction loops
// go over the slots an up-edge may take, or five steps would be followed at
// 5 min for as long as edges come (round 13's review).
func TestSlotsLongNoFifth(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	p := DefaultPhysicsParams() // CandsLong 4
	s := physCore{p: &p, iv: 300, na: 4, base: 200, last: ts - 5*mn, prev: 800, seg0: ts - 10*mn}
	for j := range nCands {
		s.c[j] = cand{t0: ts - int64(60-10*j)*mn, ref: float32(195 + 100*j), pre: float32(200 + 100*j), step: 100, lvl: 100, sf: cOpen, n: 20, sd2: 4, rq: 0.2}
	}
	s.open(&cfg, ts, 800, 100)
	if s.c[nCands-1].t0 == ts {
		t.Errorf("CandsLong %d: the new step took slot %d", p.CandsLong, nCands-1)
	}
}
