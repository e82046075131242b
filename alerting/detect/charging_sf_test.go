package detect

import (
	"errors"
	"testing"
	"unsafe"
)

// TestCandStateBits: the candidate record stays 64 bytes; its state (cFree,
// cOpen, cCharge, cWatch) fits in sf's low stBits bits and every x flag
// lies over them; setState keeps the x flags, except a free slot, which
// keeps none (round 26a).
func TestCandStateBits(t *testing.T) {
	if n := unsafe.Sizeof(cand{}); n != 64 {
		t.Errorf("cand is %d bytes, want 64", n)
	}
	for _, st := range []uint8{cFree, cOpen, cCharge, cWatch} {
		if st&^stMask != 0 {
			t.Errorf("state %d does not fit in %d bits", st, stBits)
		}
	}
	for _, x := range []uint8{xJump, xTaper, xDip, xFloor, xRes, xPF} {
		if x&stMask != 0 || x == 0 {
			t.Errorf("x flag %#x overlaps the state bits", x)
		}
	}
	c := cand{sf: cOpen}
	c.sf |= xJump
	if c.state() != cOpen {
		t.Errorf("an open step with xJump: state %d, want %d", c.state(), cOpen)
	}
	c.setState(cCharge)
	if c.state() != cCharge || c.sf&xJump == 0 {
		t.Errorf("confirmed: state %d, sf %#x; want %d with xJump kept", c.state(), c.sf, cCharge)
	}
	c.setState(cWatch)
	c.setState(cOpen)
	if c.state() != cOpen || c.sf&xJump == 0 {
		t.Errorf("watched and reopened: state %d, sf %#x; want %d with xJump kept", c.state(), c.sf, cOpen)
	}
	c.setState(cFree)
	if c.sf != 0 || c.kept() {
		t.Errorf("freed: sf %#x, kept %v; want 0, not kept", c.sf, c.kept())
	}
}

// TestCandXFlagsCheckpoint: a kept candidate with an x flag is written as
// version 9 (physVersionFlags) and restored with it; without one the
// checkpoint is written as before; a version under 9 with an x flag, or a
// state a checkpoint never keeps, is corrupt.
func TestCandXFlagsCheckpoint(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	mk := func(sf uint8) []byte {
		ch := m.New().(*physCharging)
		ch.pc.last, ch.pc.prev, ch.pc.iv = t0, 200, 60
		ch.pc.c[1] = cand{t0: t0 - 3600*1000, ref: 50, pre: 50, step: 150, lvl: 150, low: 30, sf: sf}
		if sf&stMask == cCharge {
			ch.pc.chg, ch.on = 1, true
		}
		b, err := ch.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name    string
		sf      uint8
		version uint8
	}{
		{"a charge", cCharge, physVersionNoScr},
		{"a charge with xJump", cCharge | xJump, physVersionFlags},
		{"an open step with xJump", cOpen | xJump, physVersionFlags},
		{"a charge with xTaper", cCharge | xTaper, physVersionFlags},
		{"an open step with xFloor", cOpen | xFloor, physVersionFlags},
		{"an open step with xRes", cOpen | xRes, physVersionFlags},
		{"an open step with xPF", cOpen | xPF, physVersionFlags},
		{"a watched step with xJump (not kept)", cWatch | xJump, physVersionNoScr},
	} {
		b := mk(c.sf)
		if v := b[len(physMagic)]; v != c.version {
			t.Errorf("%s: version %d, want %d", c.name, v, c.version)
		}
		r := m.New().(*physCharging)
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := c.sf
		if !(&cand{sf: c.sf}).kept() {
			want = cFree
		}
		if r.pc.c[1].sf != want {
			t.Errorf("%s: restored sf %#x, want %#x", c.name, r.pc.c[1].sf, want)
		}
	}
	// the state byte sits right after the record's 12 floats: find it by
	// writing two states that differ in it only
	a, b := mk(cCharge|xJump), mk(cCharge|xJump<<1)
	at := -1
	for i := range a {
		if a[i] != b[i] {
			at = i
		}
	}
	if at < 0 || a[at] != cCharge|xJump {
		t.Fatalf("state byte not found (%d)", at)
	}
	for _, c := range []struct {
		name    string
		sf      uint8
		version uint8
	}{
		{"version 8 with an x flag", cCharge | xJump, physVersionOwn},
		{"version 9, a free state", cFree | xJump, physVersionFlags},
		{"version 9, a watched state", cWatch | xJump, physVersionFlags},
	} {
		bad := append([]byte(nil), a...)
		bad[len(physMagic)], bad[at] = c.version, c.sf // 9 is 8's layout
		if err := m.New().UnmarshalBinary(bad); !errors.Is(err, errPhysState) {
			t.Errorf("%s: %v, want errPhysState", c.name, err)
		}
	}
}
