package detect

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsCheckpointEveryReading writes the default detector's state
// after every reading of random homes (a base load, a fridge, steady loads,
// charges; 1- and 5-min readings, with milliseconds of jitter) and reads
// it back: every checkpoint must be accepted and written again the same.
// A followed taper's running sum once made a state its own binary refused,
// which stopped the engine from starting (TestPhysicsTaper5WatchSeqCheckpoint):
// 1,500 homes found it (about 2 s). Since round 33 it also holds every
// candidate, kept or not, to the x flags' sharing (xFlagsExclusive), and
// every checkpoint to round 32's bytes: of version 9 or lower, never 10
// (no free bit is claimed), and read back to the same flags (sf) of every
// kept candidate; as sfFrom reads a version-9 byte to one sf only, a
// checkpoint that reads back to the state it was written from is the
// one round 32's binary wrote for it (TestCandXFlagsVersion9 holds the
// layout to that binary's own bytes). It counts the checkpoints with an
// open step's xRes or xPF (on their version-9 bits, sfTo9). Since round
// 42b (MemProof on by default) a state whose memory keeps a proof count is
// written as version 11, and only such a state; it is read back and
// written again the same like every other.
func TestPhysicsCheckpointEveryReading(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	readings, shared, proofs := 0, 0, 0
	var vmax uint8
	for seed := uint64(1); seed <= 1500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		fs := []func(float64) float64{base(30 + 60*rng.Float64())}
		if rng.IntN(2) == 0 {
			fs = append(fs, cycler(80+100*rng.Float64(), 10+20*rng.Float64(), 20+40*rng.Float64()))
		}
		for k := rng.IntN(4); k > 0; k-- {
			a := rng.Float64() * 20 * hr
			fs = append(fs, box(a, a+(0.5+4*rng.Float64())*hr, 60+200*rng.Float64(), 0.05*rng.Float64()))
		}
		for k := 1 + rng.IntN(2); k > 0; k-- {
			fs = append(fs, charge(rng.Float64()*20*hr, 1+3*rng.Float64(), 10+60*rng.Float64(), 8, 70+200*rng.Float64()))
		}
		w := sumW(fs...)
		step := []float64{60, 300}[seed%2]
		ch := m.New()
		for s := 0.0; s < 26*hr; s += step {
			p := math.Round(w(s)*10) / 10
			ch.Observe(&cfg, t0+int64(s*1000)+rng.Int64N(1000), ChargeReading{PowerW: p, NonActive: 0.8 * p, HasNA: true})
			b, err := ch.MarshalBinary()
			if err != nil {
				t.Fatalf("seed %d at %.2f h: %v", seed, s/hr, err)
			}
			if err := xFlagsExclusive(ch.(*physCharging)); err != "" {
				t.Fatalf("seed %d at %.2f h: %s", seed, s/hr, err)
			}
			pc := ch.(*physCharging)
			switch v := b[len(physMagic)]; {
			case pc.pc.proofKept() || pc.nc.proofKept():
				// a memory slot keeps a proof count (MemProof, on since
				// round 42b): version 11, and only then
				if v != physVersionMemProof {
					t.Fatalf("seed %d at %.2f h: a proof count kept in a checkpoint of version %d, want %d", seed, s/hr, v, physVersionMemProof)
				}
				proofs++
			case v > physVersionFlags:
				t.Fatalf("seed %d at %.2f h: a checkpoint of version %d, want %d or lower (round 32's)", seed, s/hr, v, physVersionFlags)
			default:
				vmax = max(vmax, v)
			}
			if openShared(ch.(*physCharging)) {
				shared++
			}
			back := m.New()
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("seed %d at %.2f h, %d-s readings: its own checkpoint refused: %v", seed, s/hr, int(step), err)
			}
			if err := sameKeptSF(ch.(*physCharging), back.(*physCharging)); err != "" {
				t.Fatalf("seed %d at %.2f h: read back: %s", seed, s/hr, err)
			}
			if again, _ := back.MarshalBinary(); !bytes.Equal(again, b) {
				t.Fatalf("seed %d at %.2f h: the checkpoint read back is written differently", seed, s/hr)
			}
			readings++
		}
	}
	t.Logf("%d checkpoints read back, of version %d at most (%d of version 11: a proof count kept), %d with an open step's xRes or xPF", readings, vmax, proofs, shared)
	if shared == 0 || vmax != physVersionFlags {
		t.Errorf("%d checkpoints with an open step's xRes or xPF, version %d at most: the shared bits were not written as version 9's", shared, vmax)
	}
}

// openShared reports whether s keeps an open step with xRes or xPF (on a
// charge's bits in memory, on their own in version 9).
func openShared(s *physCharging) bool {
	for _, pc := range []*physCore{&s.pc, &s.nc} {
		for i := range pc.c {
			if c := &pc.c[i]; c.state() == cOpen && (c.openX(xRes) || c.openX(xPF)) {
				return true
			}
		}
	}
	return false
}

// sameKeptSF reports a candidate a checkpoint keeps whose sf (state and x
// flags) r, read back from it, does not have as s had it.
func sameKeptSF(s, r *physCharging) string {
	for k, pc := range []*physCore{&s.pc, &s.nc} {
		rc := []*physCore{&r.pc, &r.nc}[k]
		for i := range pc.c {
			if c := &pc.c[i]; c.kept() && c.sf != rc.c[i].sf {
				return fmt.Sprintf("slot %d (var %v): sf %#x, written from %#x", i, pc.nv, rc.c[i].sf, c.sf)
			}
		}
	}
	return ""
}

// xFlagsExclusive reports a candidate of s that breaks the x flags'
// sharing (round 33): a charge with a flag not a charge's (xDip, xFloor,
// a free bit: an open step's flags are cleared as it is confirmed), an
// open or followed step with a free bit, a free slot with any.
func xFlagsExclusive(s *physCharging) string {
	for _, pc := range []*physCore{&s.pc, &s.nc} {
		for i := range pc.c {
			c := &pc.c[i]
			x := c.sf &^ stMask
			if c.state() == cCharge && x&^xChargeFlags != 0 || c.state() != cCharge && x&xFreeFlags != 0 || c.state() == cFree && x != 0 {
				return fmt.Sprintf("slot %d (var %v): state %d with x flags %#x", i, pc.nv, c.state(), x)
			}
		}
	}
	return ""
}

// TestPhysicsCheckpointMemProof: with MemProof on (every charger lesson of
// the active core counts), the checkpoints of random homes at 1-min
// readings are of version 11 exactly while a kept memory slot has a proof
// count, version 9 or lower otherwise, and each is read back and written
// again the same.
func TestPhysicsCheckpointMemProof(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	p.MemProof = 256 | 16
	m := NewPhysicsModel(p)
	n11 := 0
	for seed := uint64(1); seed <= 80; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		fs := []func(float64) float64{base(30 + 60*rng.Float64())}
		if rng.IntN(2) == 0 {
			fs = append(fs, cycler(80+100*rng.Float64(), 10+20*rng.Float64(), 20+40*rng.Float64()))
		}
		for k := 2 + rng.IntN(3); k > 0; k-- {
			fs = append(fs, charge(rng.Float64()*40*hr, 1+3*rng.Float64(), 10+60*rng.Float64(), 8, 70+200*rng.Float64()))
		}
		w := sumW(fs...)
		ch := m.New()
		for s := 0.0; s < 48*hr; s += 60 {
			pw := math.Round(w(s)*10) / 10
			ch.Observe(&cfg, t0+int64(s*1000)+rng.Int64N(1000), ChargeReading{PowerW: pw, NonActive: 0.8 * pw, HasNA: true})
			b, err := ch.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			pc := ch.(*physCharging)
			proof := pc.pc.proofKept() || pc.nc.proofKept()
			if v := b[len(physMagic)]; proof != (v == physVersionMemProof) || !proof && v > physVersionFlags {
				t.Fatalf("seed %d at %.2f h: version %d with a proof count kept %v", seed, s/hr, v, proof)
			}
			if proof {
				n11++
			}
			back := m.New()
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("seed %d at %.2f h: its own checkpoint refused: %v", seed, s/hr, err)
			}
			if again, _ := back.MarshalBinary(); !bytes.Equal(again, b) {
				t.Fatalf("seed %d at %.2f h: the checkpoint read back is written differently", seed, s/hr)
			}
		}
	}
	t.Logf("%d checkpoints of version 11", n11)
	if n11 == 0 {
		t.Errorf("no checkpoint kept a proof count: the test did not reach version 11")
	}
}
