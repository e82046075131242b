package detect

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Series for the physics detector's tests: each function gives the power
// at t seconds; a ripple draws a deterministic pseudo-random value per
// reading, as a meter sees an appliance's fluctuation.

// ripple returns a uniform value in [-1, 1) for (t, key).
func ripple(t float64, key uint64) float64 {
	x := uint64(t)*0x9e3779b97f4a7c15 ^ key*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return float64(x>>11)/(1<<52) - 1
}

// base is an always-on load with a 3% ripple.
func base(w float64) func(float64) float64 {
	return func(t float64) float64 { return w * (1 + 0.03*ripple(t, 1)) }
}

// charge is a lithium charge: a plateau from plateau W rising 2% an hour,
// from start for cc hours, then a logistic taper (tau minutes) to a 4 W
// float, unplugged at end hours; 0.4% ripple.
func charge(start, cc, tau, end, plateau float64) func(float64) float64 {
	return func(t float64) float64 {
		h := (t - start) / 3600
		switch {
		case t < start || h >= end:
			return 0
		case h < cc:
			return plateau * (1 + 0.02*(h-cc)) * (1 + 0.004*ripple(t, 2))
		}
		x := (h - cc) * 60 / tau
		return 4 + (plateau-4)*2/(1+math.Exp(x))*(1+0.004*ripple(t, 3))
	}
}

// cycler is a compressor: w W (with a start-up peak of 60% decaying in 1.5
// minutes) for on minutes every on+off minutes, 2% ripple.
func cycler(w, on, off float64) func(float64) float64 {
	return func(t float64) float64 {
		m := math.Mod(t/60, on+off)
		if m >= on {
			return 0
		}
		return w * (1 + 0.6*math.Exp(-m/1.5)) * (1 + 0.02*ripple(t, 4))
	}
}

// box is a load of w W with a relative ripple from a to b seconds.
func box(a, b, w, rip float64) func(float64) float64 {
	return func(t float64) float64 {
		if t < a || t >= b {
			return 0
		}
		return w * (1 + rip*ripple(t, uint64(w)))
	}
}

// physRun feeds power every step seconds from 0 to end through a Device
// with the physics model and returns its signals as "seconds op rule".
func physRun(t *testing.T, p PhysicsParams, step, end float64, w func(float64) float64) []string {
	t.Helper()
	return physRunPF(t, p, step, end, 0, w)
}

// physRunPF is physRun with a power factor in every reading that gives all
// of the power ratio var per watt (0: power alone).
func physRunPF(t *testing.T, p PhysicsParams, step, end, ratio float64, w func(float64) float64) []string {
	t.Helper()
	var d Device
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	m := NewPhysicsModel(p)
	var out []string
	var sigs []Signal
	for s := 0.0; s < end; s += step {
		var r devices.Reading
		r.TS = t0 + int64(s*1000)
		r.Put(devices.FieldPower, math.Round(w(s)*10)/10)
		if ratio > 0 {
			r.Put(devices.FieldPF, math.Round(1/math.Hypot(1, ratio)*1000)/1000)
		}
		sigs, _ = d.Observe(&cfg, &inf, m, &r, sigs[:0])
		for _, g := range sigs {
			if g.Rule == "indoor_charging" {
				out = append(out, fmtSig(g))
			}
		}
	}
	return out
}

func fmtSig(g Signal) string {
	return (time.Duration(g.TS-t0) * time.Millisecond).String() + " " + g.Op.String() + " since " + (time.Duration(g.Since-t0) * time.Millisecond).String()
}

func sumW(fs ...func(float64) float64) func(float64) float64 {
	return func(t float64) float64 {
		s := 0.0
		for _, f := range fs {
			s += f(t)
		}
		return s
	}
}

const hr = 3600.0

func TestPhysicsFeatures(t *testing.T) {
	p := DefaultPhysicsParams()
	cases := []struct {
		name string
		step float64
		w    func(float64) float64
		want []string // empty: nothing fires
		// the score path and its veto off (ScoreMin, ScoreVetoMin 0): the
		// fast path alone, whatever the score's forest makes of the step
		fastOnly bool
	}{
		{"a charge over a quiet background fires 20 min after its start (FastNewHold), clears 10 min after its taper falls under 20 W", 60,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110)),
			[]string{"2h20m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}, false},
		{"the same at 10-s readings (its noise since the start is over the fast limit at 20 min, under it at 26)", 10,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110)),
			// 6h29m30s until round 20a (EndLevel 0.2)
			[]string{"2h26m10s fire since 2h0m0s", "6h28m10s clear since 2h0m0s"}, false},
		{"a noisier base: over the fast limit for this step, its rise confirms it", 60,
			sumW(base(150), charge(2*hr, 3, 30, 7, 110)),
			[]string{"3h2m0s fire since 2h0m0s", "6h47m0s clear since 2h0m0s"}, false},
		{"at 5-min readings it passes the fast test after four readings quiet beyond chance, and fires after eight (FastNewReadings)", 300,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110)),
			// (the fast path alone: the round-14 forest's score vetoes it
			// at 5-min readings, under ScoreTreeVetoMin, until 2h55m)
			[]string{"2h40m0s fire since 2h0m0s", "6h30m0s clear since 2h0m0s"}, true},
		{"... with the defaults (the score and its veto on), at 2h55m", 300,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110)),
			// the round-14 forest's: its veto delays the fast path
			[]string{"2h55m0s fire since 2h0m0s", "6h30m0s clear since 2h0m0s"}, false},
		{"a partial charge, unplugged on its plateau, clears at once (confirmed by the early score at 15 min: ScoreEarlyGate 0 since round 21a)", 60,
			sumW(base(40), charge(2*hr, 3, 30, 3, 150)),
			[]string{"2h15m0s fire since 2h0m0s", "5h0m0s clear since 2h0m0s"}, false},
		{"a charge the size of the fridge, under its cycles, is confirmed by its rise; the cycles are not", 60,
			sumW(base(40), cycler(110, 18, 30), charge(2*hr+7*60, 3, 30, 6, 106)),
			[]string{"3h4m0s fire since 2h7m0s", "5h54m0s clear since 2h7m0s"}, false},
		{"fridge cycles alone raise nothing", 60, sumW(base(40), cycler(110, 18, 30)), nil, false},
		{"fridge cycles at 5-min readings raise nothing", 300, sumW(base(40), cycler(110, 18, 30)), nil, false},
		{"a kettle and a heater raise nothing", 60, sumW(base(40), box(hr, hr+240, 1900, 0.01), box(2*hr, 5*hr, 1500, 0.01)), nil, false},
		{"a television (12% ripple) raises nothing", 60, sumW(base(40), box(hr, 5*hr, 150, 0.12)), nil, false},
		{"a desktop PC (8% ripple) left on overnight raises nothing", 60, sumW(base(40), box(hr, 11*hr, 90, 0.08)), nil, false},
		{"a laptop under the band raises nothing", 60, sumW(base(40), box(hr, 5*hr, 45, 0.01)), nil, false},
		{"a load over the band raises nothing", 60, sumW(base(40), box(hr, 5*hr, 450, 0.004)), nil, false},
		{"two bikes, 40 minutes apart, make one session", 60,
			sumW(base(40), charge(2*hr, 3, 30, 7, 110), charge(2*hr+40*60, 3.5, 30, 7.5, 150)),
			[]string{"2h20m0s fire since 2h0m0s", "8h1m0s clear since 2h0m0s"}, false},
		{"a charge that starts under a running heater is confirmed by its rise once the power is quiet, with its own start", 60,
			sumW(base(40), box(hr, 3*hr, 1200, 0.01), charge(2*hr, 3, 30, 7, 180)),
			// 6h29m until round 7, 6h30m in rounds 7-9b (the heater
			// followed as a step over the band, BigMax), 6h29m again with
			// round 9's TaperRiseT 3.75 and TaperWait 0.5 together (either
			// alone keeps 6h30m): when the charge's step is let go in its
			// float decides in which minute its end is read; 6h14m from
			// round 20a (EndLevel 0.2: the 180 W charge's tail under 34 W,
			// a fifth of its 170 W level)
			[]string{"3h44m0s fire since 2h0m0s", "6h14m0s clear since 2h0m0s"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := p
			if c.fastOnly {
				q.ScoreMin, q.ScoreVetoMin = 0, 0
			}
			got := physRun(t, q, c.step, 12*hr, c.w)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestPhysicsChargeUnderTelevision checks the slow paths: a charge that
// starts while a television runs is not confirmed at once (the power is
// noisy), but by its rise once the television is off and the power
// quiet; with QuietHold set, by the quietness itself a little sooner.
func TestPhysicsChargeUnderTelevision(t *testing.T) {
	w := sumW(base(40), box(hr, 4*hr, 160, 0.12), charge(2*hr, 5, 30, 9, 110))
	for _, c := range []struct {
		quiet time.Duration
		want  []string
	}{
		// 4h39m until round 12: the rise's threshold now grows past an
		// hour held (RiseTGrow 0.1: 4.13 at 2h40m), crossed 2 min later;
		// cleared at 8h23m until round 20a (EndLevel 0.2 ends the taper's
		// tail under a fifth of its level)
		{0, []string{"4h41m0s fire since 2h0m0s", "8h15m0s clear since 2h0m0s"}},
		{90 * time.Minute, []string{"4h31m0s fire since 2h0m0s", "8h15m0s clear since 2h0m0s"}},
	} {
		p := DefaultPhysicsParams()
		p.QuietHold = c.quiet
		if got := physRun(t, p, 60, 12*hr, w); !slices.Equal(got, c.want) {
			t.Errorf("QuietHold %s: signals:\n got %q\nwant %q", c.quiet, got, c.want)
		}
	}
}

// TestPhysicsLearnsLookAlike checks the memory: a quiet flat evening load
// (lighting) that ends abruptly and never rose is a false alarm the first
// evening and not the next ones.
func TestPhysicsLearnsLookAlike(t *testing.T) {
	day := 24 * hr
	lights := func(t float64) float64 {
		d := math.Mod(t, day)
		if d >= 18*hr && d < 23*hr {
			return 95 * (1 + 0.002*ripple(t, 9))
		}
		return 0
	}
	// the score path and its veto off (ScoreMin, ScoreVetoMin 0): with the
	// round-14 forest and ScoreSeqMin 0.7 the running sum confirms the
	// third evening's lights at 1h05m, whatever the memory says
	p := DefaultPhysicsParams()
	p.ScoreMin, p.ScoreVetoMin = 0, 0
	got := physRun(t, p, 60, 3*day, sumW(base(40), lights))
	want := []string{"18h20m0s fire since 18h0m0s", "23h0m0s clear since 18h0m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("signals:\n got %q\nwant %q (the first evening only)", got, want)
	}
	// with the full defaults the third evening fires too: a known false
	// alarm of round 14's running sum (ScoreSeqMin 0.7), which the memory
	// veto (ScoreVeto 2/6) would stop but at more cost on the tuning
	// looks (docs/detection-history.md, Tuning 14a)
	got = physRun(t, DefaultPhysicsParams(), 60, 3*day, sumW(base(40), lights))
	want = []string{"18h20m0s fire since 18h0m0s", "23h0m0s clear since 18h0m0s", "67h5m0s fire since 66h0m0s", "71h0m0s clear since 66h0m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("defaults: signals:\n got %q\nwant %q", got, want)
	}
}

// TestPhysicsChargingRoom checks that a unit that is a designated charging
// room raises nothing.
func TestPhysicsChargingRoom(t *testing.T) {
	inf := info(devices.KindMeter)
	inf.Charging = false
	var d Device
	cfg := Defaults(devices.KindMeter)
	var sigs []Signal
	w := sumW(base(40), charge(hr, 3, 30, 6, 150))
	for s := 0.0; s < 8*hr; s += 60 {
		var r devices.Reading
		r.TS = t0 + int64(s*1000)
		r.Put(devices.FieldPower, w(s))
		sigs, _ = d.Observe(&cfg, &inf, PhysicsModel, &r, sigs[:0])
		if len(sigs) > 0 {
			t.Fatalf("a designated charging room raised %v", sigs)
		}
	}
}

// TestPhysicsGap checks that a gap longer than MaxGap forgets a candidate
// and that a session across a gap goes on.
func TestPhysicsGap(t *testing.T) {
	var d Device
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	w := sumW(base(40), charge(hr, 4, 30, 7, 120))
	var got []string
	var sigs []Signal
	for s := 0.0; s < 9*hr; s += 60 {
		if s > 1.1*hr && s < 1.6*hr || s > 3*hr && s < 3.5*hr {
			continue // the meter is silent for 30 minutes, twice
		}
		var r devices.Reading
		r.TS = t0 + int64(s*1000)
		r.Put(devices.FieldPower, w(s))
		sigs, _ = d.Observe(&cfg, &inf, PhysicsModel, &r, sigs[:0])
		for _, g := range sigs {
			got = append(got, fmtSig(g))
		}
	}
	// the candidate from 1h is lost across the first gap; the charge is
	// not seen again without a step (a known limit); nothing false fires
	for _, g := range got {
		if g[len(g)-7:] != "1h0m0s" {
			t.Errorf("signal %q", g)
		}
	}
}

// TestPhysicsCheckpoint checks that the state survives MarshalBinary and
// UnmarshalState at every point of a day with a charge, fridge cycles,
// lighting and a kettle: the signals equal those of an uninterrupted run.
func TestPhysicsCheckpoint(t *testing.T) {
	w := sumW(base(40), cycler(110, 18, 30), box(17*hr, 23*hr, 80, 0.02), box(19*hr, 19*hr+240, 1900, 0.01),
		box(18*hr, 19*hr, 130, 0.005), charge(23*hr+33*60, 3, 30, 9, 130))
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	var ins []*devices.Reading
	for s := 0.0; s < 30*hr; s += 60 {
		r := &devices.Reading{TS: t0 + int64(s*1000)}
		r.Put(devices.FieldPower, math.Round(w(s)*10)/10)
		ins = append(ins, r)
	}
	feedAll := func(d *Device, rs []*devices.Reading) []string {
		var out []string
		var sigs []Signal
		for _, r := range rs {
			sigs, _ = d.Observe(&cfg, &inf, PhysicsModel, r, sigs[:0])
			for _, g := range sigs {
				out = append(out, fmtSig(g))
			}
		}
		return out
	}
	var whole Device
	want := feedAll(&whole, ins)
	if len(want) != 4 {
		t.Fatalf("expected two sessions' fire and clear, got %q", want)
	}
	for cut := 60; cut < len(ins); cut += 97 {
		var d Device
		got := feedAll(&d, ins[:cut])
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var d2 Device
		if err := d2.UnmarshalState(b, PhysicsModel); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		b2, _ := d2.MarshalBinary()
		if string(b) != string(b2) {
			t.Fatalf("cut %d: state does not round-trip", cut)
		}
		got = append(got, feedAll(&d2, ins[cut:])...)
		if !slices.Equal(got, want) {
			t.Errorf("cut %d:\n got %q\nwant %q", cut, got, want)
		}
	}
	// corrupt states are refused
	var d Device
	feedAll(&d, ins[:21*60])
	b, _ := d.MarshalBinary()
	var d2 Device
	for _, n := range []int{len(b) - 1, len(b) - 40, 20} {
		if err := d2.UnmarshalState(b[:n], PhysicsModel); err == nil {
			t.Errorf("a state cut to %d of %d bytes was accepted", n, len(b))
		}
	}
}

// TestPhysicsStateSize pins the detector's state, and a device with it
// under the engine's 2 KiB: with five candidate slots (round 13e) and the
// remembered up-edge (round 13f, 8 bytes per core) 1,280 bytes and a
// device of 2,048, the budget exactly (four slots: 1,120 and 1,888; each
// slot is a 64-byte cand per core, and the fifth's sequence bits 8 bytes
// more per core). Another byte needs room made first.
func TestPhysicsStateSize(t *testing.T) {
	var s physCharging
	if n := s.Size(); n > 1300 {
		t.Errorf("physics detector state %d bytes in memory", n)
	}
	var d Device
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	w := sumW(base(40), cycler(110, 18, 30), charge(hr, 3, 30, 6, 130))
	var sigs []Signal
	for x := 0.0; x < 2*hr; x += 60 {
		r := &devices.Reading{TS: t0 + int64(x*1000)}
		r.Put(devices.FieldPower, w(x))
		r.Put(devices.FieldVoltage, 230)
		r.Put(devices.FieldCurrent, w(x)/230)
		sigs, _ = d.Observe(&cfg, &inf, PhysicsModel, r, sigs[:0])
	}
	b, _ := d.MarshalBinary()
	t.Logf("physics detector: %d bytes in memory; device %d bytes in memory, %d checkpointed during a charge", s.Size(), d.Size(), len(b))
	if d.Size() > 2048 {
		t.Errorf("device state %d bytes", d.Size())
	}
}

// BenchmarkPhysicsObserve measures the detector alone on a day of
// 1-minute readings of a busy home (fridge, lighting, a television, a
// kettle and a charge): readings per second per core is 1e9 / ns/op.
func BenchmarkPhysicsObserve(b *testing.B) {
	w := sumW(base(40), cycler(110, 18, 30), box(17*hr, 23*hr, 80, 0.02), box(19*hr, 22*hr, 150, 0.12),
		box(19*hr, 19*hr+240, 1900, 0.01), charge(20*hr+3*60, 3, 30, 9, 130))
	const n = 1440
	var ps [n]float64
	for i := range ps {
		ps[i] = math.Round(w(float64(i*60))*10) / 10
	}
	cfg := Defaults(devices.KindMeter).Charging
	const devs = 256
	for _, pf := range []bool{true, false} {
		name := "power"
		if pf {
			name = "power+pf"
		}
		b.Run(name, func(b *testing.B) {
			ds := make([]Charging, devs)
			for i := range ds {
				ds[i] = PhysicsModel.New()
			}
			b.ReportAllocs()
			b.SetBytes(8)
			for i := 0; b.Loop(); i++ {
				k := i / devs
				w := ps[k%n]
				ds[i%devs].Observe(&cfg, t0+int64(k)*60000, ChargeReading{PowerW: w, NonActive: 0.9 * w, HasNA: pf})
			}
		})
	}
}

// BenchmarkObserveMeterPhysics is BenchmarkObserveMeter's reading through
// a whole Device with the physics model.
func BenchmarkObserveMeterPhysics(b *testing.B) {
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	const n = 1024
	ds := make([]Device, n)
	r := &devices.Reading{}
	var sigs []Signal
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Set = 0
		r.TS = t0 + int64(i/n)*60000
		r.Put(devices.FieldPower, 400+float64(i%7))
		r.Put(devices.FieldCurrent, 2)
		r.Put(devices.FieldVoltage, 230)
		r.Put(devices.FieldPF, 0.75)
		sigs, _ = ds[i%n].Observe(&cfg, &inf, PhysicsModel, r, sigs[:0])
	}
}

// TestCheckpointFromTheFirstModel: a checkpoint written by the first
// charging model (an upgrade) does not stop the engine from starting: the
// device's charging detector starts afresh, the rest of its state stays.
func TestCheckpointFromTheFirstModel(t *testing.T) {
	if err := NewPhysicsModel(DefaultPhysicsParams()).New().UnmarshalBinary([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}); !errors.Is(err, ErrOtherChargingModel) {
		t.Fatalf("a state of another model: %v, want ErrOtherChargingModel", err)
	}
}

// TestPhysicsNonActive: with the power factor in the readings, a charge
// without power-factor correction (PF 0.55) that starts under a heater's
// thermostat (1.5 kW, PF 1, switching every few minutes) is followed in the
// non-active power, where the heater does not show, and confirmed by its
// rise there; the alert's evidence says how it was confirmed and with what
// confidence. With power alone the heater's switching hides it: nothing
// fires.
func TestPhysicsNonActive(t *testing.T) {
	heater := func(t float64) float64 {
		if t < 1.5*hr || t >= 6*hr || math.Mod(t/60, 13) >= 7 {
			return 0
		}
		return 1500 * (1 + 0.01*ripple(t, 9))
	}
	chg := charge(2*hr, 3, 30, 7, 110)
	bg := base(40)
	cases := []struct {
		name string
		pf   bool
		want string
	}{
		// by the rise (var), confidence 0.90, at 3h23m before round 9's
		// score (which fires at 3h15m; round 11's trees at 2h45m, 0.96);
		// the round-14 forest's at 2h30m, by the running sum (windows of
		// 0.91 and 0.94 at 25 and 30 min), 0.93
		{"with the power factor", true, "fire since 2h0m0s confidence 0.93 path score (var)"},
		{"power alone", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d Device
			inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
			var got string
			var sigs []Signal
			for s := 0.0; s < 8*hr && got == ""; s += 60 {
				p := bg(s) + heater(s) + chg(s)
				n := bg(s)*1.3 + chg(s)*1.5
				var r devices.Reading
				r.TS = t0 + int64(s*1000)
				r.Put(devices.FieldPower, math.Round(p*10)/10)
				if tc.pf {
					r.Put(devices.FieldPF, math.Round(p/math.Hypot(p, n)*1000)/1000)
				}
				sigs, _ = d.Observe(&cfg, &inf, PhysicsModel, &r, sigs[:0])
				for _, g := range sigs {
					if g.Rule == "indoor_charging" && g.Op == OpFire {
						ev := g.Evidence[0]
						got = fmt.Sprintf("fire since %s confidence %.2f path %s", time.Duration(g.Since-t0)*time.Millisecond, ev.Values["confidence"], ev.Code)
						t.Logf("fired at %s: %s", time.Duration(g.TS-t0)*time.Millisecond, got)
					}
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPhysicsCheckpointV1: a checkpoint of the first physics model (state
// version 1, the active power alone), written two and a half hours into a
// charge by that model, restores: the charge carries on and ends as it
// would have.
func TestPhysicsCheckpointV1(t *testing.T) {
	const v1 = "63775001e01163779b010000008548779b01000000d84f779b010000c05260779b010000008548779b01000033b31043f3331b423631633f0000704299331b429a99d042ceccce426899d442cdcc0e439a190f43cd4c0f43cdcc20429a991d429a991b4266660f43cd4c0f439a190f43020100000000000035409b99999999991a40000000d0cc9ea740bafd4186ca8e0240444444420aef8d408014528c75911a4101008548779b010000000000000000000099331b42cdcc20429a99d042ceccce42279d6d3ff4d6df417d7c583b5e3b9e3f00000000000000001900020100"
	b, err := hex.DecodeString(v1)
	if err != nil {
		t.Fatal(err)
	}
	ch := PhysicsModel.New()
	if err := ch.UnmarshalBinary(b); err != nil {
		t.Fatalf("version 1 state: %v", err)
	}
	if s := ch.Session(); s.Start != t0+2*3600*1000 {
		t.Fatalf("session after restore %+v", s)
	}
	cfg := Defaults(devices.KindMeter).Charging
	w := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	end := ""
	for s := 2.5 * hr; s < 8*hr && end == ""; s += 60 {
		if ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10}) == ChargeEnded {
			end = (time.Duration(s) * time.Second).String()
		}
	}
	if end != "6h29m0s" {
		t.Errorf("ended at %q, want 6h29m0s", end)
	}
}

// TestPhysicsLookAlikeFeatures: features that reject look-alikes, each
// with and without itself (the parameter that turns it off).
func TestPhysicsLookAlikeFeatures(t *testing.T) {
	off := func(f func(*PhysicsParams)) PhysicsParams {
		p := DefaultPhysicsParams()
		f(&p)
		return p
	}
	// a light of 120 W that stays on 5 hours over a quiet base; ratio is
	// its var per watt (PF 0.8: 0.75)
	light := sumW(base(40), box(hr, 6*hr, 120, 0.002))
	// a load under the edge threshold switching on unseen in a long quiet
	// stretch of a steady 120 W load makes a step that a line fits as a
	// rise
	hidden := sumW(base(150), box(hr, 6*hr, 120, 0.002), box(2.5*hr, 6*hr, 18, 0.002))
	cases := []struct {
		name  string
		p     PhysicsParams
		w     func(float64) float64
		ratio float64 // var per watt of everything; 0: no power factor in the readings
		want  []string
	}{
		{"a steady light whose power factor is no charger's (0.8) is not confirmed fast", DefaultPhysicsParams(), light, 0.75, nil},
		{"... it is without that check", off(func(p *PhysicsParams) { p.FastRatioHi = 0 }), light, 0.75, []string{"1h20m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}},
		{"... and with power alone", DefaultPhysicsParams(), light, 0, []string{"1h20m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}},
		{"a steady load drawing more var per watt than any charger (2.5: PF 0.37) is not confirmed fast", DefaultPhysicsParams(), light, 2.5, nil},
		{"... it is without that check", off(func(p *PhysicsParams) { p.FastRatioMax = 0 }), light, 2.5, []string{"1h20m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}},
		{"a load switched on unseen under a steady one is not taken for its rise", DefaultPhysicsParams(), hidden, 0, nil},
		{"... it is without the lack-of-fit check", off(func(p *PhysicsParams) { p.RiseLackOfFit = 0 }), hidden, 0, []string{"2h37m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d Device
			inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
			m := NewPhysicsModel(tc.p)
			var got []string
			var sigs []Signal
			for s := 0.0; s < 8*hr; s += 60 {
				p := tc.w(s)
				var r devices.Reading
				r.TS = t0 + int64(s*1000)
				r.Put(devices.FieldPower, math.Round(p*10)/10)
				if tc.ratio > 0 {
					r.Put(devices.FieldPF, math.Round(1/math.Hypot(1, tc.ratio)*1000)/1000)
				}
				sigs, _ = d.Observe(&cfg, &inf, m, &r, sigs[:0])
				for _, g := range sigs {
					if g.Rule == "indoor_charging" {
						got = append(got, fmtSig(g))
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPhysicsLampAtFiveMinutes: a lamp (2% ripple) whose few 5-min
// readings happen to be quiet is confirmed fast on its noise's estimate,
// not on its upper confidence bound (FastZ).
func TestPhysicsLampAtFiveMinutes(t *testing.T) {
	lamp := sumW(base(30), box(hr, 6*hr, 92, 0.02))
	if got := physRun(t, DefaultPhysicsParams(), 300, 8*hr, lamp); len(got) != 0 {
		t.Errorf("lamp at 5 min: %q", got)
	}
	p := DefaultPhysicsParams()
	p.FastZ = 0
	// without the bound, the trees' score veto (round 11) still stops it
	if got := physRun(t, p, 300, 8*hr, lamp); len(got) != 0 {
		t.Errorf("without the bound, with the veto: %q", got)
	}
	p.ScoreVetoMin = 0 // and confirmed at 40 min, eight readings (FastNewReadings)
	if got, want := physRun(t, p, 300, 8*hr, lamp), []string{"1h40m0s fire since 1h0m0s", "6h0m0s clear since 1h0m0s"}; !slices.Equal(got, want) {
		t.Errorf("without the bound and the veto: got %q, want %q", got, want)
	}
	if b0, b4, b40 := noiseBound(10, 0), noiseBound(4, 1), noiseBound(40, 1); b0 != 1 || b4 <= b40 || b40 <= 1 || b4 > 3 {
		t.Errorf("noise bounds %v %v %v", b0, b4, b40)
	}
}

// TestChargeReadingExact: under a kilowatt resistive load the power factor
// of 3 decimals leaves the non-active power tens of var off; V·I is then
// taken.
func TestChargeReadingExact(t *testing.T) {
	const p, q, v = 2000.0, 120.0, 230.0
	s := math.Hypot(p, q)
	var r devices.Reading
	r.Put(devices.FieldPower, p)
	r.Put(devices.FieldPF, math.Round(p/s*1000)/1000)
	r.Put(devices.FieldVoltage, v)
	r.Put(devices.FieldCurrent, math.Round(s/v*1000)/1000)
	if cr := chargeReading(&r, p); !cr.HasNA || math.Abs(cr.NonActive-q) > 3 {
		t.Errorf("non-active power %.1f var, want %.0f", cr.NonActive, q)
	}
	// a charger alone: either way is within a var
	const p2, q2 = 110.0, 150.0
	s2 := math.Hypot(p2, q2)
	var r2 devices.Reading
	r2.Put(devices.FieldPF, math.Round(p2/s2*1000)/1000)
	r2.Put(devices.FieldVoltage, v)
	r2.Put(devices.FieldCurrent, math.Round(s2/v*1000)/1000)
	if cr := chargeReading(&r2, p2); !cr.HasNA || math.Abs(cr.NonActive-q2) > 1 {
		t.Errorf("non-active power %.1f var, want %.0f", cr.NonActive, q2)
	}
	// the power factor alone
	var r3 devices.Reading
	r3.Put(devices.FieldPF, math.Round(p/s*1000)/1000)
	if cr := chargeReading(&r3, p); !cr.HasNA || math.Abs(cr.NonActive-q) > 20 {
		t.Errorf("non-active power from the power factor alone %.1f var", cr.NonActive)
	}
}

// traceRun is physRun that also returns the trace events as "event reason".
func traceRun(t *testing.T, p PhysicsParams, step, end float64, w func(float64) float64) ([]string, []string) {
	t.Helper()
	var evs []string
	p.Trace = func(tr *ChargingTrace) {
		if !tr.Var {
			evs = append(evs, tr.Event+" "+tr.Reason)
		}
	}
	return physRun(t, p, step, end, w), evs
}

// TestPhysicsTraceReasons checks the trace events the miss analysis of
// cw-sim eval --explain-misses reads: up-changes not followed, and why a
// candidate judged was not confirmed fast.
func TestPhysicsTraceReasons(t *testing.T) {
	cases := []struct {
		name string
		w    func(float64) float64
		want []string // events that must occur
		not  []string // events that must not
	}{
		{"a cooker is over the band and BigMax", sumW(base(40), box(hr, hr+180, 6000, 0.003)), []string{"edge band"}, []string{"open "}},
		{"a charge is judged young, then fires", sumW(base(40), charge(hr, 3, 30, 6, 130)), []string{"open ", "judge fast: held too short", "fire fast"}, []string{"edge band"}},
		{"a television is noisy", sumW(base(40), box(hr, 3*hr, 150, 0.12)), []string{"open ", "judge fast: noisy"}, []string{"fire fast"}},
		{"a small step in a busy home is under the edge threshold", sumW(box(0, 4*hr, 2000, 0.03), box(2*hr, 4*hr, 80, 0)), []string{"edge small"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, evs := traceRun(t, DefaultPhysicsParams(), 60, 4*hr, c.w)
			for _, w := range c.want {
				if !slices.Contains(evs, w) {
					t.Errorf("no %q in %d events", w, len(evs))
				}
			}
			for _, w := range c.not {
				if slices.Contains(evs, w) {
					t.Errorf("%q", w)
				}
			}
		})
	}
}

// TestPhysicsSplit: a charge and a fridge that start in the same 5-min
// reading make one step; when the fridge stops, SplitMin keeps the charge
// (the rest of the step) instead of dropping it as fallen.
func TestPhysicsSplit(t *testing.T) {
	// the fridge runs 20 minutes from the charge's start, once
	w := sumW(base(40), charge(hr+30, 4, 30, 7, 130), box(hr+60, hr+60+20*60, 120, 0.005))
	for _, c := range []struct {
		split    float64
		fell, ok bool
	}{{0, true, false}, {0.8, false, true}} {
		p := DefaultPhysicsParams()
		p.SplitMin = c.split
		sigs, evs := traceRun(t, p, 300, 6*hr, w)
		if got := slices.Contains(evs, "drop fell"); got != c.fell {
			t.Errorf("SplitMin %g: dropped as fallen %v, want %v (%q)", c.split, got, c.fell, evs)
		}
		if got := len(sigs) > 0; got != c.ok {
			t.Errorf("SplitMin %g: signals %q", c.split, sigs)
		}
	}
}

// TestPhysicsSplitVeto: what a step kept by SplitMin may not do
// (SplitVeto, round 6): with 4 it is not confirmed fast (at 40 min, eight
// readings; here the rise confirms it later), with 2 it teaches the memory
// nothing when it ends.
func TestPhysicsSplitVeto(t *testing.T) {
	// the charge and a fridge start in one 5-min reading (as TestPhysicsSplit)
	w := sumW(base(40), charge(hr+30, 4, 30, 7, 130), box(hr+60, hr+60+20*60, 120, 0.005))
	for _, c := range []struct {
		veto  float64
		fire  string // the path that confirmed it
		at    string // its first signal
		learn bool
		atDef string // its first signal with the score and its veto on (the defaults)
	}{
		{0, "fire fast", "1h45m0s fire since 1h5m0s", true, "1h50m0s fire since 1h5m0s"},
		{1, "fire fast", "1h45m0s fire since 1h5m0s", true, "1h50m0s fire since 1h5m0s"},
		{2, "fire fast", "1h45m0s fire since 1h5m0s", false, "1h50m0s fire since 1h5m0s"},
		{4, "fire rise", "2h0m0s fire since 1h5m0s", true, "2h0m0s fire since 1h5m0s"},
		{7, "fire rise", "2h0m0s fire since 1h5m0s", false, "2h0m0s fire since 1h5m0s"},
	} {
		p := DefaultPhysicsParams()
		p.SplitMin, p.SplitVeto = 0.8, c.veto
		// the score path and its veto off: the round-14 forest's score
		// vetoes the fast path at 5-min readings until 1h50m
		q := p
		q.ScoreMin, q.ScoreVetoMin = 0, 0
		sigs, evs := traceRun(t, q, 300, 12*hr, w)
		if !slices.Contains(evs, c.fire) || len(sigs) == 0 || sigs[0] != c.at {
			t.Errorf("SplitVeto %g: want %q at %q, got signals %q", c.veto, c.fire, c.at, sigs)
		}
		learnt := slices.Contains(evs, "learn charger, charge ended: float")
		if learnt != c.learn {
			t.Errorf("SplitVeto %g: learnt %v, want %v", c.veto, learnt, c.learn)
		}
		// with the score and its veto on, the same path later: the
		// round-14 forest's veto delays the fast path to 1h50m
		sigs, evs = traceRun(t, p, 300, 12*hr, w)
		if !slices.Contains(evs, c.fire) || len(sigs) == 0 || sigs[0] != c.atDef {
			t.Errorf("SplitVeto %g, the score on: want %q at %q, got signals %q", c.veto, c.fire, c.atDef, sigs)
		}
	}
}

// TestPhysicsBigMax: a charge and a heater that start in the same 5-min
// reading make one step over the band; with BigMax (round 7) it is
// followed, the heater's down-edge does not end it, and the charge left
// is split and confirmed (not fast: SplitVeto); without, it is never
// opened.
func TestPhysicsBigMax(t *testing.T) {
	w := sumW(base(40), charge(hr+30, 4, 30, 7, 130), box(hr+60, hr+60+20*60, 2000, 0.005))
	for _, c := range []struct {
		big float64
		ok  bool
	}{{0, false}, {17, true}} {
		p := DefaultPhysicsParams()
		p.BigMax = c.big
		sigs, evs := traceRun(t, p, 300, 12*hr, w)
		if got := len(sigs) > 0; got != c.ok {
			t.Errorf("BigMax %g: signals %q, want any %v (%q)", c.big, sigs, c.ok, evs)
		}
		if c.ok && (slices.Contains(evs, "fire fast") || slices.Contains(evs, "drop fell")) {
			t.Errorf("BigMax %g: fast or dropped: %q", c.big, evs)
		}
	}
}

// TestPhysicsSplitVetoed: the veto bits apply to split steps only (and
// BigVeto's to steps opened over the band).
func TestPhysicsSplitVetoed(t *testing.T) {
	for _, c := range []struct {
		veto float64
		fl   uint8
		bit  int
		want bool
	}{
		{7, fSplit, 1, true},
		{7, fSplit, 4, true},
		{7, fSplit, 8, false},
		{5, fSplit, 2, false},
		{7, fClean, 1, false},
		{0, fSplit, 1, false},
		{0, fBig, 4, true},
		{0, fBig, 8, false},
		{0, fClean, 4, false},
	} {
		p := DefaultPhysicsParams()
		p.SplitVeto, p.BigVeto = c.veto, 7
		s := physCore{p: &p}
		cd := cand{fl: c.fl}
		if got := s.splitVetoed(&cd, c.bit); got != c.want {
			t.Errorf("SplitVeto %g, flags %b, bit %d: %v, want %v", c.veto, c.fl, c.bit, got, c.want)
		}
	}
}

// TestPhysicsTaperNeedsRise: a step that fell gradually after TaperHold is
// a taper only if its plateau rose (its best rise t) as a charger's does.
func TestPhysicsTaperNeedsRise(t *testing.T) {
	p := DefaultPhysicsParams()
	p.TaperHold, p.TaperRiseT = 90*time.Minute, 2
	cfg := Defaults(devices.KindMeter).Charging
	s := physCore{p: &p}
	ts := int64(3 * 3600 * 1000)
	for _, c := range []struct {
		tb    float32
		lowS  int32 // last reading on the plateau, s after the start
		lvl   float32
		taper bool
	}{
		{2.5, 2*3600 + 1, 130, true},
		{1.5, 2*3600 + 1, 130, false},        // no rise seen
		{2.5, 3*3600 - 3*60 + 1, 130, false}, // fell within three minutes: switched off
		{2.5, 2*3600 + 1, 725, false},        // no charger's level (an air conditioner)
	} {
		cd := cand{t0: 0, low: c.lowS, lvl: c.lvl, step: c.lvl, tb: c.tb, sf: cOpen}
		if got := s.tapered(&cfg, ts, &cd) == pathTaper; got != c.taper {
			t.Errorf("tb %g, plateau until %ds, level %g W: tapered %v, want %v", c.tb, c.lowS, c.lvl, got, c.taper)
		}
	}
}

// TestPhysicsTaperRiseLast: the rise a taper needs is the one standing on
// the plateau's last reading (TaperRiseLast), not the best seen, which is a
// maximum over many looks; readings off the plateau do not change it.
func TestPhysicsTaperRiseLast(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	step := []struct {
		t       float64 // t statistic of the rise at this reading (2%/h)
		plateau bool    // the reading is on the plateau
	}{{3, true}, {1.5, true}, {2.8, false}}
	for _, c := range []struct {
		last float64
		want []float32
	}{{1, []float32{3, 1.5, 1.5}}, {0, []float32{3, 3, 3}}} {
		p := DefaultPhysicsParams()
		p.TaperRiseLast = c.last
		s := physCore{p: &p, iv: 60, seg0: -1}
		for i := range s.blk {
			s.blk[i] = 500
		}
		s.c[0] = cand{t0: 0, lvl: 100, step: 100, sf: cOpen}
		for k, st := range step {
			ts := int64(2*3600+k*60) * 1000
			// b = 2 W/h on 100 W; t = b·sqrt(sxx) at 1-min readings
			sxx := float32(st.t * st.t / 4)
			s.c[0].sxx, s.c[0].sxy = sxx, 2*sxx
			s.c[0].low = int32(ts/1000) + 1
			if !st.plateau {
				s.c[0].low -= 60
			}
			if ch := s.judge(&cfg, ts, 0); ch != ChargeNone || s.c[0].state() != cOpen {
				t.Fatalf("TaperRiseLast %g, reading %d: %v, state %d", c.last, k, ch, s.c[0].state())
			}
			if got := s.c[0].tb; math.Abs(float64(got-c.want[k])) > 1e-4 {
				t.Errorf("TaperRiseLast %g, reading %d: tb %g, want %g", c.last, k, got, c.want[k])
			}
		}
	}
}

// TestPhysicsCheckpointV2: a state written by round 2's version (2), whose
// candidate slot now holding the rise t held a noise then, restores with
// that slot as no rise seen, and everything else as written.
func TestPhysicsCheckpointV2(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	// a noisy 130 W load over a heater: judged past SlowHold, not confirmed
	w := sumW(base(40), box(hr, 5*hr, 1500, 0.01), box(1.5*hr, 5*hr, 130, 0.05))
	ch := PhysicsModel.New()
	for s := 0.0; s < 3*hr; s += 60 {
		ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10})
	}
	b, err := ch.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[len(physMagic)] != 3 {
		t.Fatalf("version %d written", b[len(physMagic)])
	}
	var cur, old physCharging
	if err := cur.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	tb := false
	for i := range cur.pc.c {
		tb = tb || cur.pc.c[i].state() != cFree && cur.pc.c[i].tb != 0
	}
	if !tb {
		t.Fatal("no candidate with a rise t to lose: the test needs another series")
	}
	b[len(physMagic)] = 2
	if err := old.UnmarshalBinary(b); err != nil {
		t.Fatalf("version 2 state: %v", err)
	}
	for i := range cur.pc.c {
		c := cur.pc.c[i]
		c.tb = 0
		if old.pc.c[i] != c {
			t.Errorf("candidate %d: %+v, want %+v", i, old.pc.c[i], c)
		}
	}
}

// TestPhysicsDeclined: the decline a taper without a rise needs
// (TaperFallT): on the step's pooled regression, or with TaperFallLocal on
// the current stretch alone, whose curve the lack-of-fit test leaves out of
// the pooled one; not when the step is noisy, not when it is flat, not
// when it falls faster than TaperFallMax allows.
func TestPhysicsDeclined(t *testing.T) {
	flat := func(m float64) float64 { return 100 }
	linear := func(m float64) float64 { return 100 - 30*m/60 } // 30 %/h
	steep := func(m float64) float64 { return 100 - 200*m/60 } // 200 %/h
	// flat since the last edge, then a taper's start
	curve := func(m float64) float64 {
		if m < 20 {
			return 100
		}
		return 100 * math.Exp(-(m-20)/40)
	}
	for _, c := range []struct {
		name  string
		w     func(float64) float64
		rip   float64
		min   int
		local float64
		want  bool
	}{
		{"flat", flat, 0.004, 120, 1, false},
		{"a linear decline", linear, 0.004, 120, 0, true},
		{"a noisy decline", linear, 0.3, 120, 1, false},
		{"too steep", steep, 0.004, 30, 0, false},
		{"a curve, pooled only", curve, 0.004, 45, 0, false},
		{"a curve, with the stretch's own", curve, 0.004, 45, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPhysicsParams()
			p.TaperFallLocal = c.local
			s := physCore{p: &p, iv: 60, na: 0.3}
			s.c[0] = cand{t0: 0, lvl: 100, step: 100, sf: cOpen}
			prev := float32(140)
			for m := 1; m <= c.min; m++ {
				ts := int64(m) * 60000
				pw := float32(40 + c.w(float64(m))*(1+c.rip*ripple(float64(m), 7)))
				s.quiet(ts, pw, pw-prev)
				prev = pw
			}
			if got := s.declined(&s.c[0]); got != c.want {
				r, tt := s.rise(&s.c[0])
				t.Errorf("declined %v, want %v (rise %.3f/h, t %.1f, noise %.4f)", got, c.want, r, tt, s.noise(&s.c[0]))
			}
		})
	}
}

// flatCharge is a 130 W charge from 1 h whose plateau does not rise (3 h),
// then a logistic taper to a 4 W float that ends at 7 h: the charge of the
// declined-taper tests.
func flatCharge(t float64) float64 {
	h := (t - hr) / 3600
	switch {
	case h < 0 || h >= 6:
		return 0
	case h < 3:
		return 130 * (1 + 0.004*ripple(t, 2))
	}
	return 4 + 126*2/(1+math.Exp((h-3)*60/40))*(1+0.004*ripple(t, 3))
}

// TestPhysicsTaperDeclined: a charge whose plateau does not rise, in a home
// where it cannot be confirmed on the plateau, is confirmed as a taper
// ("taper, declined") while it declines, before its float ends; not with
// TaperFallT off, and a steady lamp switched off after as long is not.
func TestPhysicsTaperDeclined(t *testing.T) {
	for _, c := range []struct {
		name  string
		w     func(float64) float64
		fallT float64
		fire  bool
	}{
		{"a flat charge's taper", sumW(base(40), flatCharge), 10, true},
		{"the same without the decline path", sumW(base(40), flatCharge), 0, false},
		{"a lamp switched off", sumW(base(40), box(hr, 4*hr, 130, 0.004)), 10, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPhysicsParams()
			// nothing on the plateau: no fast confirmation, no memory
			p.FastNoise, p.FastNoiseW, p.KnownHold = 1e-9, 0, 0
			p.TaperFallT = c.fallT
			// the drop-time score would confirm the charge without the
			// decline path (TestScoreDrop), and round 11's trees confirm
			// the lamp (flat, 130 W, 3 h) by the score 45 min in: this
			// tests the path
			p.ScoreDropMin, p.ScoreMin = 0, 0
			sigs, evs := traceRun(t, p, 60, 8*hr, c.w)
			fired := slices.Contains(evs, "fire taper, declined")
			if fired != c.fire {
				t.Fatalf("fired as a declined taper %v, want %v (%q)", fired, c.fire, sigs)
			}
			if c.fire {
				if len(sigs) == 0 || !strings.Contains(sigs[0], "fire since 1h0m0s") {
					t.Fatalf("signals %q", sigs)
				}
				// fired in the taper (it starts at 4 h), before the float ends (7 h)
				at, err := time.ParseDuration(strings.Fields(sigs[0])[0])
				if err != nil || at < 4*time.Hour || at >= 7*time.Hour {
					t.Errorf("fired at %v (%v)", at, err)
				}
			} else if slices.ContainsFunc(sigs, func(s string) bool { return strings.Contains(s, "fire") }) {
				t.Errorf("signals %q", sigs)
			}
		})
	}
}

// TestPhysicsFollowing: a step that held TaperHold and fell under its hold
// level is followed down while it stays at least TaperWait of its level
// over its reference (TaperWait 0: dropped at once).
func TestPhysicsFollowing(t *testing.T) {
	for _, c := range []struct {
		wait float64
		held time.Duration
		over float32 // power over the reference, W, on a 100 W step
		want bool
	}{
		{0.5, 2 * time.Hour, 60, true},
		{0.5, 2 * time.Hour, 50, true},
		{0.5, 2 * time.Hour, 45, false},
		{0.5, time.Hour, 60, false}, // not held TaperHold
		{0, 2 * time.Hour, 60, false},
	} {
		p := DefaultPhysicsParams()
		p.TaperWait = c.wait
		s := physCore{p: &p}
		cd := cand{t0: 0, ref: 40, lvl: 100, step: 100, sf: cOpen}
		if got := s.following(c.held.Milliseconds(), &cd, 40+c.over); got != c.want {
			t.Errorf("TaperWait %g, held %v, %g W over: %v, want %v", c.wait, c.held, c.over, got, c.want)
		}
	}
}

// TestPhysicsTaperDeclinedCheckpoint: a session confirmed by the new path
// (index 8) is checkpointed and restored with its path.
func TestPhysicsTaperDeclinedCheckpoint(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	p.FastNoise, p.FastNoiseW, p.KnownHold = 1e-9, 0, 0
	w := sumW(base(40), flatCharge)
	ch := NewPhysicsModel(p).New()
	fired := false
	for s := 0.0; s < 6*hr && !fired; s += 60 {
		fired = ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10}) == ChargeStarted
	}
	if !fired || ch.Session().Path != "taper, declined" {
		t.Fatalf("fired %v, session %+v", fired, ch.Session())
	}
	b, err := ch.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back physCharging
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got := back.Session(); got != ch.Session() {
		t.Errorf("restored session %+v, want %+v", got, ch.Session())
	}
}

// TestPhysicsFastNewReadings: at 5-min readings the wait of an unknown
// step is at least FastNewReadings readings (round 6): a steady 32-minute
// load is confirmed at 20 minutes without it, not at all with 8 (40 min);
// a charge is still confirmed fast, at 40 minutes.
func TestPhysicsFastNewReadings(t *testing.T) {
	lamp := sumW(base(40), box(hr, hr+32*60, 120, 0.002))
	ch := sumW(base(40), charge(hr, 3, 30, 7, 130))
	for _, c := range []struct {
		name string
		n    float64
		w    func(float64) float64
		want []string
	}{
		{"a 32-min load, no minimum", 0, lamp, []string{"1h20m0s fire since 1h0m0s", "1h35m0s clear since 1h0m0s"}},
		{"a 32-min load, 8 readings", 8, lamp, nil},
		{"a charge, no minimum", 0, ch, []string{"1h20m0s fire since 1h0m0s", "5h30m0s clear since 1h0m0s"}},
		{"a charge, 8 readings", 8, ch, []string{"1h40m0s fire since 1h0m0s", "5h30m0s clear since 1h0m0s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPhysicsParams()
			p.FastNewReadings = c.n
			p.ScoreMin, p.ScoreVetoMin = 0, 0 // the fast path alone (no score path, no score veto at 5 min)
			sigs, evs := traceRun(t, p, 300, 12*hr, c.w)
			if !slices.Equal(sigs, c.want) {
				t.Errorf("signals %q, want %q", sigs, c.want)
			}
			if c.want != nil && !slices.Contains(evs, "fire fast") {
				t.Errorf("not confirmed fast: %q", evs)
			}
		})
	}
}

// TestPhysicsFastNewHold checks the wait of a step the unit's memory does
// not know (round 5): it is confirmed fast only once it has held
// FastNewHold, and only if its noise is then still within the fast limit
// (FastNewNoise); a compressor cycle whose start-up peak was hidden (here:
// none at all) ends before.
func TestPhysicsFastNewHold(t *testing.T) {
	def := DefaultPhysicsParams()
	noWait := def
	noWait.FastNewHold = 0
	// the charge with the PC: the score path and its veto off (ScoreMin,
	// ScoreVetoMin 0), to read the fast path's wait and what follows
	noScore := def
	noScore.ScoreMin, noScore.ScoreVetoMin = 0, 0
	noNoise := noScore
	noNoise.FastNewNoise = 0
	// and without round 16b's quiet share (FastQuiet), which the PC's
	// ripple also delays (the last case)
	withQuiet := noNoise
	noNoise.FastQuiet = 0
	// a 120 W load, flat as a charger, for 16 minutes, twice an evening
	cycle := sumW(base(40), box(hr, hr+16*60, 120, 0.002), box(3*hr, 3*hr+16*60, 120, 0.002))
	// a charge, then 12 minutes after its start a noisy 100 W load (8%
	// ripple: a PC) for an hour on top of it
	pc := sumW(base(40), charge(2*hr, 3, 30, 7, 110), box(2*hr+12*60, 3*hr+12*60, 100, 0.08))
	cases := []struct {
		name string
		p    PhysicsParams
		w    func(float64) float64
		want []string
	}{
		{"a steady 16-min cycle is not confirmed", def, cycle, nil},
		{"... it is without the wait (FastNewHold 0), at 10 min", noWait, cycle,
			[]string{"1h10m0s fire since 1h0m0s", "1h16m0s clear since 1h0m0s"}},
		// 4h00m with the score on until round 14 (round 11's score, 6 min
		// before the declined taper); the round-14 forest's does not
		// confirm it first (4h07m either way), and no refit's should
		// decide this case
		{"a charge quiet at 10 min, noisy at 20 (a PC came on) is not confirmed fast at 20 min (later, by its rise)", noScore, pc,
			[]string{"4h7m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
		{"... it is without the noise check (FastNewNoise 0): quiet once is enough", noNoise, pc,
			[]string{"2h20m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
		{"... with FastQuiet 0.6, once 0.6 of its readings were quiet, 3 min later", withQuiet, pc,
			[]string{"2h23m0s fire since 2h0m0s", "6h29m0s clear since 2h0m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := physRun(t, c.p, 60, 12*hr, c.w)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// startedAt feeds ch the 1-min readings of w (power alone, to 0.1 W) from
// from to to seconds and returns when a charge started, "" if none did.
func startedAt(ch Charging, cfg *ChargingConfig, w func(float64) float64, from, to float64) string {
	for s := from; s < to; s += 60 {
		if ch.Observe(cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10}) == ChargeStarted {
			return (time.Duration(s) * time.Second).String()
		}
	}
	return ""
}

// cutRestore checks a checkpoint taken mid-series: a fresh detector of m
// fed w's 1-min readings (startedAt) from 0 to end starts a charge at
// want; another, fed up to cut, has started none, writes a checkpoint of
// version (0: any), and the detector restored from it, fed from cut to
// end, starts the charge at want too. It returns the detector at the cut
// and the restored one.
func cutRestore(t *testing.T, name string, m ChargingModel, w func(float64) float64, cut, end float64, version byte, want string) (Charging, Charging) {
	t.Helper()
	cfg := Defaults(devices.KindMeter).Charging
	if got := startedAt(m.New(), &cfg, w, 0, end); got != want {
		t.Fatalf("%s: uncut: fired at %q, want %s", name, got, want)
	}
	ch := m.New()
	if got := startedAt(ch, &cfg, w, 0, cut); got != "" {
		t.Fatalf("%s: fired at %s, before the cut", name, got)
	}
	b, err := ch.MarshalBinary()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if v := b[len(physMagic)]; version != 0 && v != version {
		t.Errorf("%s: checkpoint at the cut: version %d, want %d", name, v, version)
	}
	restored := m.New()
	if err := restored.UnmarshalBinary(b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got := startedAt(restored, &cfg, w, cut, end); got != want {
		t.Errorf("%s: restored at %s: fired at %q, want %s", name, time.Duration(cut)*time.Second, got, want)
	}
	return ch, restored
}

// TestPhysicsFastNewHoldCheckpoint: a step that passed the fast test as an
// unknown step and waits for FastNewHold keeps that in a checkpoint (a flag
// bit of its candidate; the layout is unchanged) and fires when the whole
// series does.
func TestPhysicsFastNewHoldCheckpoint(t *testing.T) {
	w := sumW(base(40), charge(2*hr, 3, 30, 7, 110))
	p := DefaultPhysicsParams()
	p.ScoreMin = 0 // the fast path alone (the score would fire first)
	_, ch2 := cutRestore(t, "fast, waiting", NewPhysicsModel(p), w, 2*hr+15*60, 3*hr, 0, "2h20m0s")
	// without the flag the restored step would be judged afresh; check
	// that the flag was set and survived
	pc := &ch2.(*physCharging).pc
	set := false
	for i := range pc.c {
		set = set || pc.c[i].fl&fFast != 0
	}
	if !set {
		t.Error("no candidate carries fFast after the restore")
	}
}

// TestPhysicsPairKept: a down-edge of a settled, rising step's size from a
// load the unit knows as no charger (a 150 W fridge on before a 150 W
// charger's step) lowers the step's reference instead of ending it
// (PairKeep, round 8); with PairKeep 0, a flat step, an unknown load or at
// 5-min readings it ends as before.
func TestPhysicsPairKept(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name  string
		keep  float64
		sxy   float32
		known bool
		iv    float32
		kept  bool
	}{
		{"kept", 1, 300, true, 60, true},
		{"off", 0, 300, true, 60, false},
		{"flat", 1, 0, true, 60, false},
		{"unknown load", 1, 300, false, 60, false},
		{"5 min", 1, 300, true, 300, false},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep = c.keep
		p.PairScore = 0 // PairKeep alone (TestPhysicsPairScore)
		s := physCore{p: &p, iv: c.iv, base: 100, last: ts, prev: 550}
		if c.known {
			s.mem[0] = sig{w: 150, other: 3, maxRun: 40, cycles: 3}
		}
		// 550 W: a 100 W floor, the fridge's 150 W, 150 W of
		// other loads and the charger's 150 W step an hour old, rising 3 W/h
		s.c[0] = cand{t0: ts - 3600*1000, ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, sxx: 100, sxy: c.sxy, n: 60, sd2: 60}
		s.down(&cfg, ts, 400, -150)
		checkPairKept(t, c.name, &s, c.kept)
	}
}

// TestPhysicsTaperFallT5: at intervals over 90 s the decline of a taper
// is judged against TaperFallT5 (a few 5-min readings reach a smaller
// |t|) in the active power's detector; at 1-min readings, with
// TaperFallT5 0, and in the non-active power's detector, against
// TaperFallT.
func TestPhysicsTaperFallT5(t *testing.T) {
	for _, c := range []struct {
		name string
		iv   float32
		t5   float64
		nv   bool
		want bool
	}{
		{"5 min", 300, 7, false, true},
		{"5 min, off", 300, 0, false, false},
		{"1 min", 60, 7, false, false},
		{"5 min, non-active power", 300, 7, true, false},
	} {
		p := DefaultPhysicsParams()
		p.TaperFallT, p.TaperFallT5 = 10, c.t5
		s := physCore{p: &p, iv: c.iv, nv: c.nv}
		// a 100 W step declining 30 %/h with t -8 (rise's sums: b -30 W/h,
		// sxx 0.0711), noise 1%
		s.c[0] = cand{t0: 1, lvl: 100, step: 100, sf: cOpen, sxx: 0.0711, sxy: -30 * 0.0711, n: 10, sd2: 20}
		if _, tt := s.rise(&s.c[0]); math.Abs(tt+8) > 0.05 {
			t.Fatalf("%s: t %.2f, want -8", c.name, tt)
		}
		if got := s.declined(&s.c[0]); got != c.want {
			t.Errorf("%s: declined %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsVerdictSE: at intervals over 90 s, a step that ran two hours
// without a measured rise is not remembered as "not a charger"
// (VerdictSE), one whose level was measured flat is; at 1 min, and with
// VerdictSE 0, any rise under MinRise is (round 8).
func TestPhysicsVerdictSE(t *testing.T) {
	for _, c := range []struct {
		name     string
		iv       float32
		se       float64
		sxx, sxy float32
		want     int
	}{
		{"5 min, rise not measured", 300, 1, 0, 0, 0},
		{"5 min, rise not measured, off", 300, 0, 0, 0, -1},
		{"5 min, rise uncertain", 300, 1, 1, 0.2, 0},       // +0.2 %/h, t 0.2
		{"5 min, rise uncertain, off", 300, 0, 1, 0.2, -1}, // under MinRise
		{"5 min, measured flat", 300, 1, 25, -25, -1},      // -1 %/h, t -5
		{"1 min, rise not measured", 60, 1, 0, 0, -1},
	} {
		p := DefaultPhysicsParams()
		p.VerdictSE = c.se
		s := physCore{p: &p, iv: c.iv}
		cd := cand{t0: 1, lvl: 100, step: 100, sf: cOpen, sxx: c.sxx, sxy: c.sxy}
		if got := s.verdict(&cd, false, 120); got != c.want {
			r, tt := s.rise(&cd)
			t.Errorf("%s: verdict %d, want %d (rise %.4f/h, t %.2f)", c.name, got, c.want, r, tt)
		}
	}
}

// TestPhysicsTaperFallNoise5: at intervals over 90 s the noise limit of
// the declined taper is TaperFallNoise5; at 1 min, and with it 0,
// TaperFallNoise.
func TestPhysicsTaperFallNoise5(t *testing.T) {
	for _, c := range []struct {
		name string
		iv   float32
		n5   float64
		want bool
	}{
		{"5 min", 300, 0.12, true},
		{"5 min, off", 300, 0, false},
		{"1 min", 60, 0.12, false},
	} {
		p := DefaultPhysicsParams()
		p.TaperFallNoise, p.TaperFallNoise5 = 0.10, c.n5
		s := physCore{p: &p, iv: c.iv}
		// a 100 W step declining 30 %/h with t -12, noise 11%
		s.c[0] = cand{t0: 1, lvl: 100, step: 100, sf: cOpen, sxx: 0.16, sxy: -30 * 0.16, n: 10, sd2: 2420}
		if nz := s.noise(&s.c[0]); math.Abs(nz-0.11) > 0.001 {
			t.Fatalf("%s: noise %.4f, want 0.11", c.name, nz)
		}
		if got := s.declined(&s.c[0]); got != c.want {
			t.Errorf("%s: declined %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsScoreVetoIv checks the score veto of round 9c: at readings
// over ScoreVetoIv (90 s) the fast, fast-known-charger and known-charger-
// held paths (ScoreVetoPaths 70) confirm a step only when its score is at
// least ScoreVetoMin (0.4); at 1-min readings, with ScoreVetoMin 0 or with
// ScoreVetoIv at the interval, they do as before. A score forced to about
// 0 (intercept -30) stands for a lamp the score does not take.
func TestPhysicsScoreVetoIv(t *testing.T) {
	ch := sumW(base(40), charge(hr, 3, 30, 7, 130))
	low := DefaultPhysicsParams()
	// the logistic regression's score forced low (not the trees')
	low.ScoreModel = 0
	low.ScoreWLong[0], low.ScoreW[0] = -30, -30
	noVeto := low
	noVeto.ScoreVetoMin = 0
	at5 := low
	at5.ScoreVetoIv = 300
	fired := []string{"1h40m0s fire since 1h0m0s", "5h30m0s clear since 1h0m0s"}
	for _, c := range []struct {
		name string
		p    PhysicsParams
		iv   float64
		want []string
	}{
		{"5 min, defaults", DefaultPhysicsParams(), 300, fired},
		{"5 min, score low: vetoed", low, 300, nil},
		{"5 min, score low, ScoreVetoMin 0", noVeto, 300, fired},
		{"5 min, score low, ScoreVetoIv 300", at5, 300, fired},
		// cleared at 5h33m until round 20a (EndLevel 0.2)
		{"1 min, score low: no veto", low, 60, []string{"1h20m0s fire since 1h0m0s", "5h25m0s clear since 1h0m0s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			// the fast path alone (the followed taper, Taper5N, confirms
			// the vetoed charge in its taper at 4 h 55 min)
			p.ScoreMin, p.Taper5N = 0, 0
			sigs, evs := traceRun(t, p, c.iv, 12*hr, ch)
			if !slices.Equal(sigs, c.want) {
				t.Errorf("signals %q, want %q", sigs, c.want)
			}
			if c.want != nil && !slices.Contains(evs, "fire fast") {
				t.Errorf("not confirmed fast: %q", evs)
			}
		})
	}
}

// TestPhysicsTaperRiseT: the taper after a rise needs a rise of t
// TaperRiseT before it (3.75 since round 9c, the rise path's own: a rise
// of t 3 no longer makes one, as it did with 2.5; one of t 4 does), and at
// intervals over 90 s of t TaperRiseT5 (round 9b; 0: TaperRiseT there too).
func TestPhysicsTaperRiseT(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range []struct {
		name   string
		iv     float32
		rt, t5 float64 // TaperRiseT, TaperRiseT5
		tb     float32 // the rise's t on the plateau's last reading
		want   uint8
	}{
		{"1 min, t 3, defaults", 60, 3.75, 3.75, 3, 0},
		{"1 min, t 4, defaults", 60, 3.75, 3.75, 4, pathTaper},
		{"1 min, t 3, TaperRiseT 2.5 (round 9b)", 60, 2.5, 3.75, 3, pathTaper},
		{"5 min, t 3, TaperRiseT 2.5: TaperRiseT5 decides", 300, 2.5, 3.75, 3, 0},
		{"5 min, t 3, TaperRiseT 2.5, TaperRiseT5 off", 300, 2.5, 0, 3, pathTaper},
	} {
		p := DefaultPhysicsParams()
		p.TaperRiseT, p.TaperRiseT5 = c.rt, c.t5
		// the power now 50 W over the step's reference: a taper's
		// remainder (at 5 min TaperLeftW, round 31a, takes none of a step
		// whose power is at or under its reference)
		s := physCore{p: &p, iv: c.iv, prev: 90}
		// held 2 h, its plateau's last reading at its start
		cd := cand{t0: 0, low: 1, ref: 40, lvl: 100, step: 100, sf: cOpen, tb: c.tb, n: 10, sd2: 2}
		if got := s.tapered(&cfg, 2*3600*1000, &cd); got != c.want {
			t.Errorf("%s: path %d, want %d", c.name, got, c.want)
		}
	}
}

// TestPhysicsRoomScore: with no candidate slot free, an up-edge forgets the
// settled step held RoomHold or more whose learned score is lowest when
// that is under RoomScore (an old, noisy step of a busy home), not the
// latest (a charger's young step); otherwise the latest, as before.
func TestPhysicsRoomScore(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name    string
		score   float64
		hold    time.Duration
		evicted int
	}{
		{"off", 0, 5 * time.Minute, 3},
		{"lowest score", 0.5, 5 * time.Minute, 0},
		{"none under", 1e-9, 5 * time.Minute, 3},
		{"held too short", 0.5, 10 * time.Hour, 3},
	} {
		p := DefaultPhysicsParams()
		p.RoomScore, p.RoomHold = c.score, c.hold
		p.RoomSwap, p.RoomSwapLong, p.RoomOldLong = 0, 0, 0 // round 14's rules off: RoomScore alone
		s := physCore{p: &p, iv: 60, na: 4, base: 200, last: ts - mn, prev: 800, seg0: ts - 10*mn}
		// an old step whose power wanders (20% of it from reading to
		// reading, falling), two quiet ones, and a charger's step of
		// 8 minutes, the latest
		s.c[0] = cand{t0: ts - 180*mn, ref: 195, pre: 200, step: 100, lvl: 100, sf: cOpen, n: 150, sd2: 150 * 2 * 400, rq: 2 * 400, sxx: 100, sxy: -500}
		s.c[1] = cand{t0: ts - 90*mn, ref: 295, pre: 300, step: 150, lvl: 150, sf: cOpen, n: 80, sd2: 80 * 0.2, rq: 0.2, sxx: 100, sxy: 300}
		s.c[2] = cand{t0: ts - 40*mn, ref: 445, pre: 450, step: 120, lvl: 120, sf: cOpen, n: 35, sd2: 35 * 0.2, rq: 0.2, sxx: 20, sxy: 20}
		s.c[3] = cand{t0: ts - 8*mn, ref: 565, pre: 570, step: 130, lvl: 130, sf: cOpen, n: 4, sd2: 4 * 0.2, rq: 0.2}
		fillRoom(&s, mn)
		checkRoom(t, c.name, &cfg, &s, ts, c.evicted)
	}
}

// fillRoom takes the slots past the fourth (round 13e) with copies of
// slot 1's quiet step, each a minute (mn) later: neither the latest nor the
// lowest score, so the four slots' cases decide as they did.
func fillRoom(s *physCore, mn int64) {
	for j := oldCands; j < nCands; j++ {
		s.c[j] = s.c[1]
		s.c[j].t0 += int64(j-oldCands+1) * mn
	}
}

// checkRoom opens a 100 W up-edge at ts on s, whose slots are all taken,
// and checks that the new step took slot evicted and left the other slots
// as they were.
func checkRoom(t *testing.T, name string, cfg *ChargingConfig, s *physCore, ts int64, evicted int) {
	t.Helper()
	old := s.c
	s.open(cfg, ts, 700, 100)
	if s.c[evicted].t0 != ts {
		t.Errorf("%s: the new step is not in slot %d: %+v", name, evicted, s.c)
	}
	for j := range s.c {
		if j != evicted && s.c[j].t0 != old[j].t0 {
			t.Errorf("%s: slot %d forgotten", name, j)
		}
	}
}

// TestPhysicsPairScore: a down-edge that matches an open step in size does
// not end it when the step has held PairScoreHold and its learned score is
// at least PairScore (its reference goes down with the edge, fPair); it
// does for a score under it, a step held shorter, a split step, or with
// PairScore 0.
func TestPhysicsPairScore(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(5 * 3600 * 1000)
	for _, c := range []struct {
		name  string
		score float64
		hold  time.Duration
		fl    uint8
		kept  bool
	}{
		{"kept", 1e-6, 20 * time.Minute, 0, true},
		{"off", 0, 20 * time.Minute, 0, false},
		{"score under", 1 - 1e-9, 20 * time.Minute, 0, false},
		{"held too short", 1e-6, 2 * time.Hour, 0, false},
		{"split", 1e-6, 20 * time.Minute, fSplit, false},
	} {
		p := DefaultPhysicsParams()
		p.PairKeep = 0
		p.PairScore, p.PairScoreHold = c.score, c.hold
		s := physCore{p: &p, iv: 60, na: 1, base: 100, last: ts, prev: 400}
		// 550 W: a 100 W floor, 150 W of other loads, another load of
		// 150 W and a quiet 150 W step an hour old; the other load goes
		s.c[0] = cand{t0: ts - 3600*1000, ref: 395, pre: 400, step: 150, lvl: 150, sf: cOpen, fl: c.fl, sxx: 100, sxy: 300, n: 60, sd2: 60, rq: 1}
		s.down(&cfg, ts, 400, -150)
		checkPairKept(t, c.name, &s, c.kept)
	}
}

// checkPairKept checks that the step in slot 0, 150 W over a reference of
// 395 W, outlived a 150 W down-edge or not, as want says, and when it did
// that its reference went down with the edge and it is flagged fPair.
func checkPairKept(t *testing.T, name string, s *physCore, want bool) {
	t.Helper()
	got := s.c[0].state() == cOpen
	if got != want {
		t.Errorf("%s: kept %v, want %v", name, got, want)
	}
	if got && (s.c[0].ref != 245 || s.c[0].fl&fPair == 0) {
		t.Errorf("%s: ref %g, flags %b; want 245 and fPair", name, s.c[0].ref, s.c[0].fl)
	}
}
