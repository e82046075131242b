package elec

import (
	"math"
	"testing"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

const h = simtime.Hour

// numeric integrates s.Shape over [a, b) with the midpoint rule.
func numeric(s *Segment, a, b int64) float64 {
	const steps = 20000
	dt := float64(b-a) / steps
	var e float64
	for i := 0; i < steps; i++ {
		t := a + int64((float64(i)+0.5)*dt)
		if s.Active(t) {
			e += s.Shape(t) * dt
		}
	}
	return e / float64(h)
}

func TestSegmentEnergy(t *testing.T) {
	t0 := int64(1_767_225_600_000)
	for _, tc := range []struct {
		name string
		s    Segment
	}{
		{"constant", Segment{T0: t0, Start: t0, End: t0 + 2*h, W: 100}},
		{"rising plateau", Segment{T0: t0, Start: t0, End: t0 + 4*h, W: 100, Slope: 2}},
		{"taper", Segment{T0: t0, Start: t0 + h/2, End: t0 + 3*h, W: 4, Exp: 100, TauH: 0.75}},
		{"logistic taper", Segment{T0: t0 + h/3, Start: t0, End: t0 + 5*h, W: 3, Logi: 90, TauH: 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range [][2]int64{{t0 - h, t0 + 10*h}, {t0 + h, t0 + 90*h/60}, {t0 + 2*h, t0 + 2*h}} {
				got, want := tc.s.Wh(w[0], w[1]), numeric(&tc.s, w[0], w[1])
				if math.Abs(got-want) > 1e-3*math.Max(1, want) {
					t.Errorf("Wh(%d..%d h) = %.4f, numeric %.4f", (w[0]-t0)/h, (w[1]-t0)/h, got, want)
				}
			}
		})
	}
}

func TestTanOf(t *testing.T) {
	for _, pf := range []float64{1, 0.99, 0.95, 0.7, 0.55} {
		tan := TanOf(pf)
		_, got := Meter(100, 100*tan, 230)
		if math.Abs(got-pf) > 1e-9 {
			t.Errorf("PF round trip %v -> %v", pf, got)
		}
	}
	i, pf := Meter(2200, 0, 220)
	if i != 10 || pf != 1 {
		t.Errorf("resistive 2200 W at 220 V: %v A pf %v", i, pf)
	}
}

func TestSubtract(t *testing.T) {
	s := Segment{Start: 0, End: 100, W: 1}
	got := Subtract(nil, s, []Interval{{10, 20}, {50, 60}, {90, 200}})
	want := []Interval{{0, 10}, {20, 50}, {60, 90}}
	if len(got) != len(want) {
		t.Fatalf("got %d pieces, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Errorf("piece %d = %d..%d, want %v", i, got[i].Start, got[i].End, want[i])
		}
	}
}

func TestTimelineEnergyAndRandomAccess(t *testing.T) {
	// A 100 W load from 22:00 to 02:00 every night plus 10 W all day.
	src := func(d int64, dst []Segment) []Segment {
		ds := simtime.DayStart(d)
		dst = append(dst, Segment{T0: ds, Start: ds, End: ds + simtime.Day, W: 10})
		return append(dst, Segment{T0: ds + 22*h, Start: ds + 22*h, End: ds + 26*h, W: 100})
	}
	day := simtime.DayOf(1_767_225_600_000)
	epoch := simtime.DayStart(day)
	tl := NewTimeline(src, epoch, 5000)
	if p, _ := tl.At(epoch + h); p != 110 {
		t.Fatalf("power at 01:00 = %v, want 110 (yesterday's segment runs past midnight)", p)
	}
	// After 3 days: 3*240 Wh base + the loads since the epoch: 2 h on day 0
	// (00:00-02:00) + 4 h on each of the nights that ended, and 2 h tonight.
	at := simtime.DayStart(day+3) + 0
	want := 5000 + 3*240.0 + 100*(2+4+4+2)
	if got := tl.EnergyWh(at); math.Abs(got-want) > 1e-6 {
		t.Fatalf("energy after 3 days = %v, want %v", got, want)
	}
	// Going back in time gives the same answer as going forward.
	mid := epoch + 30*h
	fwd := tl.EnergyWh(mid)
	tl2 := NewTimeline(src, epoch, 5000)
	if back := tl2.EnergyWh(mid); back != fwd {
		t.Fatalf("energy at the same time differs: %v vs %v", back, fwd)
	}
	if e := tl.EnergyWh(epoch - h); e != 5000 {
		t.Fatalf("energy before the epoch = %v, want the initial reading", e)
	}
}

func BenchmarkTimelineAt(b *testing.B) {
	src := func(d int64, dst []Segment) []Segment {
		ds := simtime.DayStart(d)
		for i := int64(0); i < 150; i++ {
			dst = append(dst, Segment{T0: ds + i*9*simtime.Minute, Start: ds + i*9*simtime.Minute, End: ds + i*9*simtime.Minute + 15*simtime.Minute, W: 100, Exp: 30, TauH: 0.02, Ripple: 0.05, Tan: 0.5})
		}
		return dst
	}
	epoch := simtime.DayStart(20000)
	tl := NewTimeline(src, epoch, 0)
	b.ReportAllocs()
	t := epoch
	for b.Loop() {
		tl.At(t)
		tl.EnergyWh(t)
		t += simtime.Minute
	}
}

// TestTimelineOrder: the running set kept for readings in time order gives
// the same power and energy, bit for bit, as a fresh timeline asked about
// each instant alone, whatever the order of the questions.
func TestTimelineOrder(t *testing.T) {
	src := func(d int64, dst []Segment) []Segment {
		ds := simtime.DayStart(d)
		dst = append(dst, Segment{T0: ds, Start: ds, End: ds + simtime.Day, W: 20, Ripple: 0.03, Key: uint64(d)})
		for i := int64(0); i < 60; i++ {
			s := ds + (i*37%1440)*simtime.Minute
			dst = append(dst, Segment{T0: s, Start: s, End: s + (3+i%50)*simtime.Minute, W: float64(30 + i), Exp: 10, TauH: 0.03,
				Ripple: 0.02, Tan: 0.4, Key: uint64(d*100 + i)})
		}
		return dst
	}
	epoch := simtime.DayStart(20000)
	tl := NewTimeline(src, epoch, 0)
	var ts []int64
	for k := int64(0); k < 3*1440; k += 7 {
		ts = append(ts, epoch+k*simtime.Minute)
	}
	ts = append(ts, epoch+5*h, epoch+2*h, epoch+50*h, epoch+49*h) // back in time, and back a day
	for _, at := range ts {
		p, n := tl.At(at)
		e := tl.EnergyWh(at)
		one := NewTimeline(src, epoch, 0)
		p1, n1 := one.At(at)
		if p != p1 || n != n1 || e != one.EnergyWh(at) {
			t.Fatalf("at %d: %v %v %v against %v %v %v alone", at, p, n, e, p1, n1, one.EnergyWh(at))
		}
	}
}
