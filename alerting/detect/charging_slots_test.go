package detect

import (
	"errors"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestSlots: Cands (CandsLong over 90 s, when over 0) limits the slots an
// up-edge may take; 0 or more than nCands: all.
func TestSlots(t *testing.T) {
	for _, c := range []struct {
		name             string
		cands, candsLong int
		iv               float32
		want             int
	}{
		{"default", 0, 0, 60, nCands},
		{"four", 4, 0, 60, 4},
		{"four, at 5 min too", 4, 0, 300, 4},
		{"CandsLong at 5 min", 4, nCands, 300, nCands},
		{"CandsLong not at 1 min", 4, nCands, 60, 4},
		{"over nCands", nCands + 1, 0, 60, nCands},
	} {
		p := DefaultPhysicsParams()
		p.Cands, p.CandsLong = c.cands, c.candsLong
		s := physCore{p: &p, iv: c.iv}
		if got := s.slots(); got != c.want {
			t.Errorf("%s: %d slots, want %d", c.name, got, c.want)
		}
	}
}

// TestSlotsOpen: with the four first slots taken, an up-edge takes the
// next free slot; with Cands 4 it forgets the latest step (RoomScore off)
// instead, or the one RoomScore finds (any, with RoomScore near 1).
func TestSlotsOpen(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name  string
		cands int
		room  float64
		want  int // the new step's slot; -1: one of the first four, by score
	}{
		{"all slots: the free one", 0, 0, oldCands},
		{"Cands 4: the latest of the four", oldCands, 0, oldCands - 1},
		{"Cands 4, RoomScore finds one: it", oldCands, 1 - 1e-9, -1},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.Cands = c.room, c.cands
		s := physCore{p: &p, iv: 60, na: 4, base: 200, last: ts - mn, prev: 700, seg0: ts - 10*mn}
		for j := range oldCands {
			s.c[j] = cand{t0: ts - int64(60-10*j)*mn, ref: float32(195 + 100*j), pre: float32(200 + 100*j), step: 100, lvl: 100, sf: cOpen, n: 20, sd2: 4, rq: 0.2}
		}
		s.open(&cfg, ts, 700, 100)
		got := -1
		for j := range s.c {
			if s.c[j].t0 == ts {
				got = j
			}
		}
		if c.want >= 0 && got != c.want || c.want < 0 && (got < 0 || got >= oldCands) {
			t.Errorf("%s: the new step in slot %d, want %d", c.name, got, c.want)
		}
	}
}

// TestSlotsCheckpoint: a state that keeps a step in a slot past the
// fourth is written as version 7 and read back with it and its sequence
// bits; once that slot is free, the state is written as before (version 3
// here, 5 with a sequence in the first four slots). A reader with four
// slots (versions up to 6) answers version 7 with ErrOtherChargingModel
// (an unknown version: TestScoreCheckpoint); a version-6 state with a
// slot past the fourth is corrupt.
func TestSlotsCheckpoint(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	ch := m.New().(*physCharging)
	s := &ch.pc
	s.last, s.prev, s.base, s.iv, s.seg0, s.blkT = t0, 500, 380, 60, t0, t0
	s.c[1] = cand{t0: t0 - 3600*1000, ref: 295, pre: 300, step: 100, lvl: 100, sf: cOpen, n: 60}
	s.c[nCands-1] = cand{t0: t0 - 1800*1000, ref: 395, pre: 400, step: 100, lvl: 100, sf: cOpen, n: 30, ws: 7}
	s.seqSet(1, 5)
	s.seqSet(nCands-1, 42)
	b, err := ch.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if v := b[len(physMagic)]; v != physVersionSlots {
		t.Errorf("a fifth slot in use: version %d, want %d", v, physVersionSlots)
	}
	back := m.New().(*physCharging)
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if bc := back.pc.c[nCands-1]; bc.t0 != s.c[nCands-1].t0 || bc.ws != 7 || back.pc.seqGet(nCands-1) != 42 || back.pc.seqGet(1) != 5 {
		t.Errorf("the last slot not read back: %+v, sequence %d %d", bc, back.pc.seqGet(1), back.pc.seqGet(nCands-1))
	}
	// as version 6 it would be corrupt (no reader of 6 has the slot)
	old := append([]byte(nil), b...)
	old[len(physMagic)] = physVersionBand
	if err := m.New().UnmarshalBinary(old); err == nil || errors.Is(err, ErrOtherChargingModel) {
		t.Errorf("version 6 with a fifth slot: %v, want corrupt", err)
	}
	// the slot freed: as before
	s.c[nCands-1].setState(cFree)
	b, _ = ch.MarshalBinary()
	if v := b[len(physMagic)]; v != physVersionSeq {
		t.Errorf("the fifth slot free: version %d, want %d", v, physVersionSeq)
	}
	back = m.New().(*physCharging)
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.pc.seqGet(1) != 5 || back.pc.seqGet(nCands-1) != 0 {
		t.Errorf("version 5: sequence %d %d, want 5 0", back.pc.seqGet(1), back.pc.seqGet(nCands-1))
	}
	s.seqReset(1)
	if b, _ = ch.MarshalBinary(); b[len(physMagic)] != physVersionNoScr {
		t.Errorf("no sequence: version %d, want %d", b[len(physMagic)], physVersionNoScr)
	}
}
