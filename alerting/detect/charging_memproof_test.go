package detect

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestMemProofDefault pins MemProof's defaults: on since round 42b at
// 784 (every "charger" lesson of the active core with the other core
// agreeing, whichever path confirmed the session: bit 8 is not set; read
// by the fast known-charger path, there under SagDrop and ProofGuard),
// and its bounds.
func TestMemProofDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.MemProof != 784 || p.MemProofMin != 1 || p.MemProofMinIv != 45 || p.MemProofMaxIv != 90 || p.MemProofHold != 15*time.Minute || p.MemProofCyc != 1.1 || p.MemProofT != 1 || p.MemProofNoise != 0.01 {
		t.Errorf("MemProof %v, MemProofMin %v, MemProofMinIv %v, MemProofMaxIv %v, MemProofHold %v, MemProofCyc %v, MemProofT %v, MemProofNoise %v; want 784, 1, 45, 90, 15m, 1.1, 1, 0.01",
			p.MemProof, p.MemProofMin, p.MemProofMinIv, p.MemProofMaxIv, p.MemProofHold, p.MemProofCyc, p.MemProofT, p.MemProofNoise)
	}
}

// TestMemProofLesson: which confirmed charges, ending as chargers, count
// in their slot's proof count: only the charge whose own power (the rise
// or a taper) confirmed its session (bit 8), on the active core (256),
// where the other core does not know the size as a non-charger (512), that
// ran 2 hours (1); only at 1-min readings.
func TestMemProofLesson(t *testing.T) {
	const t0 = int64(10 * 3600 * 1000)
	for _, c := range []struct {
		name  string
		bits  float64
		iv    float32
		nv    bool
		path  uint8
		first bool
		peer  bool // the other core knows the size as a non-charger
		run   float32
		want  bool
	}{
		{"off", 0, 60, false, pathRise, true, false, 200, false},
		{"the rise", 8 | 16, 60, false, pathRise, true, false, 200, true},
		{"a taper", 8 | 16, 60, false, pathTaper, true, false, 200, true},
		{"a taper, declined", 8 | 16, 60, false, pathTaperFall, true, false, 200, true},
		{"the known charger", 8 | 16, 60, false, pathKnown, true, false, 200, false},
		{"the fast path", 8 | 16, 60, false, pathFast, true, false, 200, false},
		{"the score", 8 | 16, 60, false, pathScore, true, false, 200, false},
		{"not the session's first charge", 8 | 16, 60, false, pathRise, false, false, 200, false},
		{"5-min readings", 8 | 16, 300, false, pathRise, true, false, 200, false},
		{"10-s readings", 8 | 16, 10, false, pathRise, true, false, 200, false},
		{"the var core", 256 | 16, 60, true, pathKnown, true, false, 200, false},
		{"the active core", 256 | 16, 60, false, pathKnown, true, false, 200, true},
		{"the other core disagrees", 512 | 16, 60, false, pathKnown, true, true, 200, false},
		{"the other core agrees", 512 | 16, 60, false, pathKnown, true, false, 200, true},
		{"ran 100 min", 1 | 16, 60, false, pathKnown, true, false, 100, false},
		{"ran 130 min", 1 | 16, 60, false, pathKnown, true, false, 130, true},
		{"all, rise, 130 min", 8 | 256 | 512 | 1 | 16, 60, false, pathRise, true, false, 130, true},
	} {
		p := DefaultPhysicsParams()
		p.MemProof = c.bits
		s := &physCore{p: &p, iv: c.iv, nv: c.nv, sPath: c.path, sT0: t0, chg: 1}
		peer := &physCore{p: &p, iv: c.iv, nv: !c.nv}
		if c.peer {
			peer.mem[0] = sig{w: 150, other: 5, cycles: 5, maxRun: 20}
		}
		s.peer = peer
		cd := cand{t0: t0, lvl: 150, ws: 150, sf: cCharge}
		if !c.first {
			cd.t0 = t0 + 3600*1000
		}
		if got := s.proofCharge(&cd, "fell", c.run); got != c.want {
			t.Errorf("%s: counts %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMemProofKnownPath: a flat, quiet step of a size the memory holds as
// a cycler's (charger 1, other 5) is confirmed by the fast known-charger
// path at 1-min readings only when the slot has a proof count, MemProof
// reads it there (16), the interval is in MemProofMinIv-MemProofMaxIv, the
// step held MemProofHold and is at most MemProofNoise noisy; with bit 32768
// only when its rise's t reaches MemProofT (a flat step's does not); with
// 16384 only once it outlasted the slot's longest run MemProofCyc times.
func TestMemProofKnownPath(t *testing.T) {
	for _, c := range []struct {
		name  string
		bits  float64
		proof uint8
		min   float64
		maxIv float64
		held  int64
		noise float64
		want  bool
	}{
		{"off", 0, 1, 1, 90, 16, 0.005, false},
		{"no proof", 16 | 256, 0, 1, 90, 16, 0.005, false},
		{"proof 1", 16 | 256, 1, 1, 90, 16, 0.005, true},
		{"proof 1, MemProofMin 2", 16 | 256, 1, 2, 90, 16, 0.005, false},
		{"proof 2, MemProofMin 2", 16 | 256, 2, 2, 90, 16, 0.005, true},
		{"proof 1, not read by the fast path", 64 | 256, 1, 1, 90, 16, 0.005, false},
		{"proof 1, 1 min over MemProofMaxIv", 16 | 256, 1, 1, 50, 16, 0.005, false},
		{"proof 1, held 14 min", 16 | 256, 1, 1, 90, 14, 0.005, false},
		{"proof 1, noisier than MemProofNoise", 16 | 256, 1, 1, 90, 16, 0.001, false},
		{"proof 1, no noise bound", 16 | 256, 1, 1, 90, 16, 0, true},
		{"proof 1, flat, rise required", 32768 | 16 | 256, 1, 1, 90, 16, 0.005, false},
		{"proof 1, within the cycler's run", 16384 | 16 | 256, 1, 1, 90, 16, 0.005, false},
		{"proof 1, outlasted the cycler's run", 16384 | 16 | 256, 1, 1, 90, 35, 0.005, true},
	} {
		p := DefaultPhysicsParams()
		p.MemProof, p.MemProofMin, p.MemProofMaxIv, p.MemProofNoise = c.bits, c.min, c.maxIv, c.noise
		s := stepJudged(&p, 60, c.held, uint16(c.held), fClean, sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 5, proof: c.proof})
		if got := s.c[0].state() == cCharge && s.sPath == pathKnown; got != c.want {
			t.Errorf("%s: confirmed as a known charger %v (state %d, path %d, noise %.4f), want %v", c.name, got, s.c[0].state(), s.sPath, s.noise(&s.c[0]), c.want)
		}
	}
}

// TestMemProofCheckpoint: a state whose memory keeps a proof count is
// written as version 11 (version 10's layout and a proof byte per kept
// slot) and read back the same; the same state without it is written as
// before (version 9 or lower: TestPhysicsCheckpointEveryReading holds
// those to round 32's bytes) and read back with no proof count.
func TestMemProofCheckpoint(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	mk := func(proof uint8) (*physCharging, []byte) {
		ch := m.New().(*physCharging)
		s := &ch.pc
		s.last, s.prev, s.base, s.iv, s.seg0, s.blkT = t0, 500, 380, 60, t0, t0
		s.c[1] = cand{t0: t0 - 3600*1000, ref: 295, pre: 300, step: 100, lvl: 100, sf: cOpen, n: 60}
		s.mem[0] = sig{last: int32(t0/60000) - 100, w: 100, maxRun: 20, other: 7, charger: 2, cycles: 6}
		s.mem[2] = sig{last: int32(t0/60000) - 50, w: 230, maxRun: 0, charger: 3, proof: proof}
		b, err := ch.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return ch, b
	}
	ch, b := mk(2)
	if v := b[len(physMagic)]; v != physVersionMemProof {
		t.Fatalf("a proof count kept: version %d, want %d", v, physVersionMemProof)
	}
	back := m.New().(*physCharging)
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.pc.mem != ch.pc.mem || back.pc.mem[2].proof != 2 {
		t.Errorf("memory read back %+v, want %+v", back.pc.mem, ch.pc.mem)
	}
	if b2, _ := back.MarshalBinary(); !bytes.Equal(b2, b) {
		t.Errorf("the checkpoint read back is written differently")
	}
	_, old := mk(0)
	if v := old[len(physMagic)]; v >= physVersionXShare {
		t.Fatalf("no proof count: version %d, want 9 or lower", v)
	}
	// version 11's bytes are version 10's (the layout it extends) and a
	// proof byte after each kept slot's cycles: the two differ by the proof
	// bytes, 0 and 2, only
	e := enc{}
	e.b = append(e.b, physMagic...)
	e.u8(physVersionXShare)
	e.u8(b[len(physMagic)+1])
	e.u8(ch.from)
	ch.pc.marshal(&e, physVersionXShare)
	v10 := e.b
	if len(b) != len(v10)+2 {
		t.Fatalf("version 11 is %d bytes, version 10 %d: want one more per kept slot", len(b), len(v10))
	}
	ok := false
	for i := len(physMagic) + 1; i < len(b) && !ok; i++ {
		for j := i + 1; j < len(b); j++ {
			x := append(append(bytes.Clone(b[:i]), b[i+1:j]...), b[j+1:]...)
			x[len(physMagic)] = physVersionXShare
			if b[i] == 0 && b[j] == 2 && bytes.Equal(x, v10) {
				ok = true
				break
			}
		}
	}
	if !ok {
		t.Errorf("version 11's bytes are not version 10's and a proof byte per kept slot")
	}
	// the old checkpoint reads back with no proof count, and is written
	// again as it was
	back = m.New().(*physCharging)
	if err := back.UnmarshalBinary(old); err != nil {
		t.Fatal(err)
	}
	for i := range back.pc.mem {
		if back.pc.mem[i].proof != 0 {
			t.Errorf("slot %d: proof %d from an old checkpoint", i, back.pc.mem[i].proof)
		}
	}
	if b2, _ := back.MarshalBinary(); !bytes.Equal(b2, old) {
		t.Errorf("the old checkpoint read back is written differently")
	}
}

// TestMemProofEndTeaches: a charge that ends tapered teaches its slot
// "charger", and with MemProof's lesson met also a proof count; the var
// core's (bit 256) or with MemProof off, no proof count.
func TestMemProofEndTeaches(t *testing.T) {
	for _, c := range []struct {
		name string
		bits float64
		nv   bool
		want uint8
	}{
		{"off", 0, false, 0},
		{"active core", 256 | 16, false, 1},
		{"var core", 256 | 16, true, 0},
	} {
		p := DefaultPhysicsParams()
		p.MemProof = c.bits
		s, k := endTaught(&p, 60, c.nv, pathKnown, nil, sig{})
		if k < 0 || s.mem[k].charger != 1 {
			t.Fatalf("%s: the charge taught no charger (slot %d)", c.name, k)
		}
		if s.mem[k].proof != c.want {
			t.Errorf("%s: proof %d, want %d", c.name, s.mem[k].proof, c.want)
		}
	}
}

// endTS is when endTaught's charge ends.
const endTS = int64(20 * 3600 * 1000)

// endTaught ends, tapered to a float at endTS, a confirmed 150 W charge of
// three hours that began its session by path, on a core at iv s (the var
// core with nv) with peer as its peer and mem in its first memory slot
// (none when mem.w is 0; seen an hour before when mem.last is 0). It
// returns the core and the slot of 150 W (-1: none).
func endTaught(p *PhysicsParams, iv float32, nv bool, path uint8, peer *physCore, mem sig) (*physCore, int) {
	t0 := endTS - 3*3600*1000
	s := &physCore{p: p, iv: iv, nv: nv, last: endTS, chg: 1, sPath: path, sT0: t0, peer: peer}
	if mem.w > 0 {
		if mem.last == 0 {
			mem.last = int32(endTS/60000) - 60
		}
		s.mem[0] = mem
	}
	s.c[0] = cand{t0: t0, ref: 100, pre: 100, step: 150, lvl: 150, ws: 150, sf: cCharge, n: 180}
	s.endCharge(endTS, 0, "float", true)
	return s, s.known(150)
}

// TestMemProofRemember: the slot remember returns is the one it taught, so
// that endCharge adds the proof count to it: the slot a size merged into,
// a free slot, or the slot it evicted for a new size, whose proof count is
// not inherited (a slot reused for another size starts with none). The
// count saturates at 250 as the others do.
func TestMemProofRemember(t *testing.T) {
	p := DefaultPhysicsParams()
	now := int64(30 * 24 * 3600 * 1000)
	s := &physCore{p: &p, iv: 60, last: now}
	full := func() {
		for i := range s.mem {
			// sizes far apart; slot 3 the least worth keeping (seen once,
			// long ago) and proved
			s.mem[i] = sig{last: int32(now/60000) - 60, w: float32(100 + 300*i), charger: 5, other: 5, proof: 7}
		}
		s.mem[3] = sig{last: int32(now/60000) - 20*1440, w: 1000, charger: 1, proof: 9}
	}
	full()
	if k := s.remember(s.mem[2].w*1.02, 30, false); k != 2 || s.mem[2].proof != 7 || s.mem[2].other != 6 {
		t.Errorf("a size merged into slot 2: remember %d, slot %+v", k, s.mem[2])
	}
	if k := s.remember(5000, 200, true); k != 3 || s.mem[3].proof != 0 || s.mem[3].charger != 1 || s.mem[3].w != 5000 {
		t.Errorf("a new size evicting slot 3: remember %d, slot %+v; want 3, its proof count reset", k, s.mem[3])
	}
	s.mem[4] = sig{}
	if k := s.remember(4321, 200, false); k != 4 || s.mem[4].proof != 0 {
		t.Errorf("a new size in a free slot: remember %d, slot %+v", k, s.mem[4])
	}
	if k := s.remember(0, 200, true); k != -1 {
		t.Errorf("no size: remember %d, want -1", k)
	}
	// through endCharge: a proved charge that evicts a proved slot leaves
	// the new size's slot a count of 1
	p.MemProof = 256 | 16
	full()
	const w = 2500
	s.c[0] = cand{t0: now - 3*3600*1000, ref: 100, pre: 100, step: w, lvl: w, ws: w, sf: cCharge, n: 180}
	s.chg, s.sPath, s.sT0 = 1, pathRise, now-3*3600*1000
	s.endCharge(now, 0, "float", true)
	if k := s.known(w); k != 3 || s.mem[k].proof != 1 || s.mem[k].charger != 1 {
		t.Errorf("a proved charge evicting a proved slot: slot %d %+v, want slot 3 with proof 1", k, s.mem[max(k, 0)])
	}
	s.mem[3].proof = 250
	s.c[0] = cand{t0: now - 3*3600*1000, ref: 100, pre: 100, step: w, lvl: w, ws: w, sf: cCharge, n: 180}
	s.chg = 1
	s.endCharge(now, 0, "float", true)
	if s.mem[3].proof != 250 {
		t.Errorf("proof count %d after 251 lessons, want 250", s.mem[3].proof)
	}
}

// TestMemProofCheckpointOld: a checkpoint of version 10 (version 11's
// layout without the proof bytes) is still read, to the same state with
// no proof count; version 11 cut short anywhere is refused.
func TestMemProofCheckpointOld(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	ch := m.New().(*physCharging)
	s := &ch.pc
	s.last, s.prev, s.base, s.iv, s.seg0, s.blkT = t0, 500, 380, 60, t0, t0
	s.c[1] = cand{t0: t0 - 3600*1000, ref: 295, pre: 300, step: 100, lvl: 100, sf: cOpen, n: 60}
	s.mem[0] = sig{last: int32(t0/60000) - 100, w: 100, maxRun: 20, other: 7, charger: 2, cycles: 6}
	s.mem[2] = sig{last: int32(t0/60000) - 50, w: 230, charger: 3, proof: 2}
	b, _ := ch.MarshalBinary()
	e := enc{}
	e.b = append(e.b, physMagic...)
	e.u8(physVersionXShare)
	e.u8(b[len(physMagic)+1])
	e.u8(ch.from)
	ch.pc.marshal(&e, physVersionXShare)
	back := m.New().(*physCharging)
	if err := back.UnmarshalBinary(e.b); err != nil {
		t.Fatalf("version 10: %v", err)
	}
	want := ch.pc.mem
	want[2].proof = 0
	if back.pc.mem != want {
		t.Errorf("version 10 read back %+v, want %+v", back.pc.mem, want)
	}
	for n := len(physMagic); n < len(b); n++ {
		if err := m.New().UnmarshalBinary(b[:n]); err == nil {
			t.Errorf("version 11 cut to %d of %d bytes was accepted", n, len(b))
		}
	}
}

// TestMemProofResume: at 1-min readings with the defaults, a detector
// restored from its checkpoint of version 11 (a proof count kept) at any
// point goes on as the one never interrupted: the same changes, and the
// same checkpoint at the end.
func TestMemProofResume(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	cuts := 0
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		cw := 100 + 150*rng.Float64()
		w := sumW(base(30+60*rng.Float64()), cycler(cw, 10+20*rng.Float64(), 20+40*rng.Float64()),
			charge(2*hr, 3, 30, 8, cw), charge(26*hr, 2, 40, 8, cw), charge(50*hr, 3, 20, 8, cw))
		type rd struct {
			ts int64
			r  ChargeReading
		}
		var rds []rd
		for x := 0.0; x < 60*hr; x += 60 {
			pw := math.Round(w(x)*10) / 10
			rds = append(rds, rd{t0 + int64(x*1000) + rng.Int64N(1000), ChargeReading{PowerW: pw, NonActive: 0.8 * pw, HasNA: true}})
		}
		run := func(cut int) (string, bool) {
			ch := m.New()
			out, v11 := "", false
			for i, r := range rds {
				if i == cut {
					b, _ := ch.MarshalBinary()
					v11 = b[len(physMagic)] == physVersionMemProof
					ch = m.New()
					if err := ch.UnmarshalBinary(b); err != nil {
						t.Fatalf("seed %d, cut %d: %v", seed, cut, err)
					}
				}
				if c := ch.Observe(&cfg, r.ts, r.r); c != ChargeNone {
					out += fmt.Sprintf("%d@%d ", c, i)
				}
			}
			b, _ := ch.MarshalBinary()
			return out + fmt.Sprintf("%x", b), v11
		}
		want, _ := run(-1)
		for _, cut := range []int{20 * 60, 30 * 60, 45 * 60, 52 * 60} {
			got, v11 := run(cut)
			if v11 {
				cuts++
			}
			if got != want {
				t.Errorf("seed %d, restored at reading %d (version 11 %v): not as the run never interrupted", seed, cut, v11)
			}
		}
	}
	if cuts == 0 {
		t.Errorf("no cut at a checkpoint of version 11: the test did not reach it")
	}
}

// TestMemProofFastVeto: the proof count's reading on the fast known-
// charger path is under that path's own vetoes (fastVeto; here the flat
// veto on the known path), as a slot known by its counts is.
func TestMemProofFastVeto(t *testing.T) {
	for _, c := range []struct {
		name  string
		flatT float64
		m     sig
		want  bool
	}{
		{"proof, no flat veto", 0, sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 5, proof: 1}, true},
		{"proof, flat", 1, sig{w: 150, maxRun: 30, charger: 1, other: 5, cycles: 5, proof: 1}, false},
		{"counts, flat", 1, sig{w: 150, maxRun: 200, charger: 3, other: 1}, false},
	} {
		p := DefaultPhysicsParams()
		p.FlatT, p.FlatPaths, p.FlatIv, p.FlatNoise = c.flatT, 1<<pathKnown, 45, 0
		s := stepJudged(&p, 60, 16, 16, fClean, c.m)
		if got := s.c[0].state() == cCharge && s.sPath == pathKnown; got != c.want {
			t.Errorf("%s: confirmed as a known charger %v, want %v", c.name, got, c.want)
		}
	}
}
