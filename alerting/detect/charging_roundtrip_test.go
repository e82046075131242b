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
// counts the checkpoints of version 10 (an open step's xRes or xPF).
func TestPhysicsCheckpointEveryReading(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	readings, shared := 0, 0
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
			if b[len(physMagic)] == physVersionXShare {
				shared++
			}
			back := m.New()
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("seed %d at %.2f h, %d-s readings: its own checkpoint refused: %v", seed, s/hr, int(step), err)
			}
			if again, _ := back.MarshalBinary(); !bytes.Equal(again, b) {
				t.Fatalf("seed %d at %.2f h: the checkpoint read back is written differently", seed, s/hr)
			}
			readings++
		}
	}
	t.Logf("%d checkpoints read back, %d of version %d", readings, shared, physVersionXShare)
	if shared == 0 {
		t.Errorf("no checkpoint of version %d: the shared bits were not read back", physVersionXShare)
	}
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
