package detect

import (
	"bytes"
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
// 1,500 homes found it (about 2 s).
func TestPhysicsCheckpointEveryReading(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	readings := 0
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
	t.Logf("%d checkpoints read back", readings)
}
