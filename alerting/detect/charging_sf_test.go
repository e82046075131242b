package detect

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"unsafe"
)

// TestCandStateBits: the candidate record stays 64 bytes; its state (cFree,
// cOpen, cCharge, cWatch) fits in sf's low stBits bits and every x flag
// lies over them; a charge's flags and an open step's are each distinct
// bits, the two kinds share bits (round 33: xRes on xJump's, xPF on
// xTaper's), and xFree1 and xFree2 are in neither; setState keeps the x
// flags, except a free slot, which keeps none (round 26a); openX and
// chargeX read each kind's flags only in its own states.
func TestCandStateBits(t *testing.T) {
	if n := unsafe.Sizeof(cand{}); n != 64 {
		t.Errorf("cand is %d bytes, want 64", n)
	}
	for _, st := range []uint8{cFree, cOpen, cCharge, cWatch} {
		if st&^stMask != 0 {
			t.Errorf("state %d does not fit in %d bits", st, stBits)
		}
	}
	distinct := func(name string, xs ...uint8) uint8 {
		var all uint8
		for _, x := range xs {
			if x&stMask != 0 || x == 0 || x&(x-1) != 0 {
				t.Errorf("%s: x flag %#x is not one bit over the state bits", name, x)
			}
			if all&x != 0 {
				t.Errorf("%s: x flag %#x shares a bit with another", name, x)
			}
			all |= x
		}
		return all
	}
	open := distinct("open", xDip, xFloor, xRes, xPF)
	charge := distinct("charge", xJump, xTaper)
	free := distinct("free", xFree1, xFree2)
	if open != xOpenFlags || charge != xChargeFlags || free != xFreeFlags {
		t.Errorf("flag sets %#x %#x %#x, want %#x %#x %#x", open, charge, free, xOpenFlags, xChargeFlags, xFreeFlags)
	}
	if free&(open|charge) != 0 || open|charge|free|stMask != 0xff {
		t.Errorf("free bits %#x, open %#x, charge %#x: want the free bits in neither kind and every bit accounted for", free, open, charge)
	}
	if xRes != xJump || xPF != xTaper || x9Res != xFree1 || x9PF != xFree2 {
		t.Errorf("the shared bits moved: a checkpoint's layout (sfFrom, version 10) says where they are")
	}
	c := cand{sf: cOpen}
	c.sf |= xDip
	if c.state() != cOpen || !c.openX(xDip) || c.chargeX(xDip) {
		t.Errorf("an open step with xDip: state %d, open %v, charge %v", c.state(), c.openX(xDip), c.chargeX(xDip))
	}
	c.setState(cWatch)
	if c.state() != cWatch || !c.openX(xDip) {
		t.Errorf("followed: state %d, sf %#x; want %d with xDip kept", c.state(), c.sf, cWatch)
	}
	c.setState(cOpen)
	if c.state() != cOpen || !c.openX(xDip) {
		t.Errorf("reopened: state %d, sf %#x; want %d with xDip kept", c.state(), c.sf, cOpen)
	}
	c.sf |= xRes
	if !c.openX(xRes) || c.chargeX(xJump) {
		t.Errorf("an open step with xRes reads as a charge's xJump")
	}
	c.setState(cCharge)
	if c.state() != cCharge || c.sf&xDip == 0 || c.openX(xDip) || c.openX(xRes) || !c.chargeX(xJump) {
		t.Errorf("set to a charge: state %d, sf %#x; want %d with the bits kept, read as a charge's", c.state(), c.sf, cCharge)
	}
	c.setState(cFree)
	if c.sf != 0 || c.kept() {
		t.Errorf("freed: sf %#x, kept %v; want 0, not kept", c.sf, c.kept())
	}
}

// TestCandFire: a step confirmed keeps none of an open step's flags, so
// that a charge's flags on the same bits start clear (round 33).
func TestCandFire(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	ch := m.New().(*physCharging)
	ch.pc.last, ch.pc.prev, ch.pc.iv = t0, 200, 60
	ch.pc.c[0] = cand{t0: t0 - 3600*1000, ref: 50, pre: 50, step: 150, lvl: 150, low: 30, sf: cOpen | xOpenFlags}
	ch.pc.fire(t0, 0, pathRise)
	c := &ch.pc.c[0]
	if c.state() != cCharge || c.sf != cCharge || c.chargeX(xJump) || c.chargeX(xTaper) {
		t.Errorf("confirmed: state %d, sf %#x; want %#x", c.state(), c.sf, cCharge)
	}
}

// TestCandXFlagsCheckpoint: a kept candidate with an x flag is written as
// version 9 (physVersionFlags) with round 32's state byte (an open step's
// xRes and xPF on their version-9 bits, sfTo9) and restored with it;
// without one the checkpoint is written as before; version 10
// (physVersionXShare, the shared layout) is read to the same state and
// written again as 9; a state with a free bit (claimed by no round) is
// the only one written as 10; a version under 9 with an x flag, a state a
// checkpoint never keeps, a free bit, or a flag of the other kind of
// step, is corrupt.
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
	// the state byte sits right after the record's 12 floats: find it by
	// writing two states that differ in it only
	a, b := mk(cCharge|xJump), mk(cCharge|xTaper)
	at := -1
	for i := range a {
		if a[i] != b[i] {
			at = i
		}
	}
	if at < 0 || a[at] != cCharge|xJump {
		t.Fatalf("state byte not found (%d)", at)
	}
	const old6, old7 = 1 << 6, 1 << 7 // xRes's and xPF's bits in version 9 (round 26a to 32)
	for _, c := range []struct {
		name    string
		sf      uint8
		version uint8
		old     uint8 // the state byte round 32's binary wrote
	}{
		{"a charge", cCharge, physVersionNoScr, cCharge},
		{"a charge with xJump", cCharge | xJump, physVersionFlags, cCharge | 1<<2},
		{"a charge with xTaper", cCharge | xTaper, physVersionFlags, cCharge | 1<<3},
		{"a charge with xJump and xTaper", cCharge | xJump | xTaper, physVersionFlags, cCharge | 1<<2 | 1<<3},
		{"an open step", cOpen, physVersionNoScr, cOpen},
		{"an open step with xDip", cOpen | xDip, physVersionFlags, cOpen | 1<<4},
		{"an open step with xFloor", cOpen | xFloor, physVersionFlags, cOpen | 1<<5},
		{"an open step with xRes", cOpen | xRes, physVersionFlags, cOpen | old6},
		{"an open step with xPF", cOpen | xPF, physVersionFlags, cOpen | old7},
		{"an open step with xRes and xPF", cOpen | xRes | xPF, physVersionFlags, cOpen | old6 | old7},
		{"an open step with every flag", cOpen | xOpenFlags, physVersionFlags, cOpen | 1<<4 | 1<<5 | old6 | old7},
		{"a watched step with xRes (not kept)", cWatch | xRes, physVersionNoScr, 0},
	} {
		b := mk(c.sf)
		if v := b[len(physMagic)]; v != c.version {
			t.Errorf("%s: version %d, want %d", c.name, v, c.version)
		}
		kept := (&cand{sf: c.sf}).kept()
		if kept && b[at] != c.old {
			t.Errorf("%s: state byte %#x, want round 32's %#x", c.name, b[at], c.old)
		}
		r := m.New().(*physCharging)
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := c.sf
		if !kept {
			want = cFree
		}
		if r.pc.c[1].sf != want {
			t.Errorf("%s: restored sf %#x, want %#x", c.name, r.pc.c[1].sf, want)
		}
		if again, _ := r.MarshalBinary(); !bytes.Equal(again, b) {
			t.Errorf("%s: written again differently", c.name)
		}
		if !kept || c.version != physVersionFlags {
			continue
		}
		// version 10 (9's layout): the same state with sf as it is in memory
		b10 := append([]byte(nil), b...)
		b10[len(physMagic)], b10[at] = physVersionXShare, c.sf
		r = m.New().(*physCharging)
		if err := r.UnmarshalBinary(b10); err != nil {
			t.Fatalf("%s, version 10: %v", c.name, err)
		}
		if r.pc.c[1].sf != want {
			t.Errorf("%s, version 10: restored sf %#x, want %#x", c.name, r.pc.c[1].sf, want)
		}
		if again, _ := r.MarshalBinary(); !bytes.Equal(again, b) {
			t.Errorf("%s, version 10: written again not as version %d's bytes", c.name, c.version)
		}
	}
	// a free bit (no round has claimed one) is what makes version 10
	for _, sf := range []uint8{cOpen | xFree1, cOpen | xRes | xFree2, cCharge | xDip, cCharge | xJump | xFloor, cCharge | xFree1} {
		if v := mk(sf)[len(physMagic)]; v != physVersionXShare {
			t.Errorf("sf %#x (a free bit): version %d, want %d", sf, v, physVersionXShare)
		}
	}
	for _, c := range []struct {
		name    string
		sf      uint8
		version uint8
	}{
		{"version 8 with an x flag", cCharge | xJump, physVersionOwn},
		{"version 9, a free state", cFree | xJump, physVersionFlags},
		{"version 9, a watched state", cWatch | xJump, physVersionFlags},
		{"version 9, an open step with a charge's bit", cOpen | xJump, physVersionFlags},
		{"version 9, a charge with xRes's version-9 bit", cCharge | x9Res, physVersionFlags},
		{"version 10, a free state", cFree | xJump, physVersionXShare},
		{"version 10, a watched state", cWatch | xRes, physVersionXShare},
		{"version 10, an open step with xFree1", cOpen | xRes | xFree1, physVersionXShare},
		{"version 10, an open step with xFree2", cOpen | xFree2, physVersionXShare},
		{"version 10, a charge with xFree1", cCharge | xFree1, physVersionXShare},
		{"version 10, a charge with xFloor", cCharge | xFloor, physVersionXShare},
	} {
		bad := append([]byte(nil), a...)
		bad[len(physMagic)], bad[at] = c.version, c.sf // 9 and 10 are 8's layout
		if err := m.New().UnmarshalBinary(bad); !errors.Is(err, errPhysState) {
			t.Errorf("%s: %v, want errPhysState", c.name, err)
		}
	}
}

// TestCandXFlagsVersion9: checkpoints of version 9 written by the binary
// of round 32 (before the x flags shared bits; the bytes below are its
// MarshalBinary's, slot 1 holding sf1 and slot 2 sf2) read to the same
// flags: an open step's xRes and xPF from their old bits (the bits now
// xFree1 and xFree2), the rest where they were; written again, every
// state is the same bytes (version 9, the same state byte: sfTo9).
func TestCandXFlagsVersion9(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	type flag struct {
		name   string
		old    uint8 // its bit in version 9
		x      uint8
		charge bool
	}
	flags := []flag{
		{"xJump", 1 << 2, xJump, true}, {"xTaper", 1 << 3, xTaper, true},
		{"xDip", 1 << 4, xDip, false}, {"xFloor", 1 << 5, xFloor, false},
		{"xRes", 1 << 6, xRes, false}, {"xPF", 1 << 7, xPF, false},
	}
	for _, g := range []struct {
		sf1, sf2 uint8
		hex      string
	}{
		{0x11, 0x00, "63775009000000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000001100000000000000000000"},
		{0x21, 0x00, "63775009000000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000002100000000000000000000"},
		{0x41, 0x00, "63775009000000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000004100000000000000000000"},
		{0x81, 0x00, "63775009000000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000008100000000000000000000"},
		{0xf1, 0x00, "63775009000000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e000000000000000000484200004842000016430000164300000000000000000000000000000000000000000000000000000000000000000000f100000000000000000000"},
		{0x06, 0x00, "63775009010000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000000600000000000000000000"},
		{0x0a, 0x00, "63775009010000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000000a00000000000000000000"},
		{0x0e, 0x00, "63775009010000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000000e00000000000000000000"},
		{0x51, 0x06, "63775009010000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000680b9a3769b0100001e000000000000000000484200004842000016430000164300000000000000000000000000000000000000000000000000000000000000000000510000cb6c769b010000000000000000000000002042000034420000f0420000dc42000000000000000000000000000000000000000000000000000000000000000000000600000000000000000000"},
	} {
		b, err := hex.DecodeString(g.hex)
		if err != nil || b[len(physMagic)] != physVersionFlags {
			t.Fatalf("%#x: golden bytes %v", g.sf1, err)
		}
		r := m.New().(*physCharging)
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("%#x %#x: %v", g.sf1, g.sf2, err)
		}
		for k, sf := range []uint8{g.sf1, g.sf2} {
			c := &r.pc.c[k+1]
			if c.state() != sf&stMask {
				t.Errorf("%#x: slot %d state %d, want %d", sf, k+1, c.state(), sf&stMask)
			}
			for _, f := range flags {
				want := sf&f.old != 0 && f.charge == (sf&stMask == cCharge)
				got := c.openX(f.x)
				if f.charge {
					got = c.chargeX(f.x)
				}
				if got != want {
					t.Errorf("%#x: slot %d %s %v, want %v", sf, k+1, f.name, got, want)
				}
			}
			if c.sf&xFreeFlags != 0 {
				t.Errorf("%#x: slot %d has a free bit (sf %#x)", sf, k+1, c.sf)
			}
		}
		if again, _ := r.MarshalBinary(); !bytes.Equal(again, b) {
			t.Errorf("%#x %#x: written again not as round 32's bytes (version %d; restored sf %#x %#x)", g.sf1, g.sf2, again[len(physMagic)], r.pc.c[1].sf, r.pc.c[2].sf)
		}
	}
}

// TestCandXFlagsOldCharge: the binaries of rounds 26 to 28 kept an open
// step's xDip (5e5974e to 9dc5410) and xFloor (0dfbebc to 00e7ce1) on the
// charge fire made of it and wrote them in version 9 (round 32's binary
// reads them); such a checkpoint reads with the charge's own flags and
// without those two, which a charge never reads.
func TestCandXFlagsOldCharge(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	// round 32's bytes of a charge with xTaper in slot 1 (TestCandXFlagsVersion9)
	const h = "63775009010000a8da769b010000000000000000000000000000000000000000000000000000000000000000000000004843000000000000000000007042000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000280b9a3769b0100001e0000000000000000004842000048420000164300001643000000000000000000000000000000000000000000000000000000000000000000000a00000000000000000000"
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	at := len(b) - 11 // slot 1's state byte, then its fl, the memory and the sequences
	if b[at] != cCharge|xTaper {
		t.Fatalf("state byte %#x", b[at])
	}
	for _, c := range []struct{ old, want uint8 }{
		{cCharge | 1<<4, cCharge},                        // xDip
		{cCharge | 1<<5, cCharge},                        // xFloor
		{cCharge | 1<<4 | 1<<5 | 1<<3, cCharge | xTaper}, // both, with xTaper
		{cCharge | 1<<5 | 1<<2 | 1<<3, cCharge | xJump | xTaper},
	} {
		b[at] = c.old
		r := m.New().(*physCharging)
		if err := r.UnmarshalBinary(b); err != nil {
			t.Errorf("charge %#x in version 9: %v", c.old, err)
			continue
		}
		if got := r.pc.c[1].sf; got != c.want {
			t.Errorf("charge %#x in version 9: restored sf %#x, want %#x", c.old, got, c.want)
		}
	}
}
