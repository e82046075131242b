package household

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// january and july are Mondays in 2026, days since the epoch (Shanghai).
var (
	january = simtime.DayOf(1_768_147_200_000) // 2026-01-12
	july    = simtime.DayOf(1_783_785_600_000) // 2026-07-12
)

type stats struct {
	kwh        map[Appliance]float64 // per unit-day
	minW, maxW map[Appliance]float64 // per segment, noiseless at its start
	days       int
}

// collect draws n units for days days from day d0 and sums energy by
// appliance, counting a segment's energy on the day it starts.
func collect(n, days int, d0 int64, use Use, opt Options) stats {
	st := stats{kwh: map[Appliance]float64{}, minW: map[Appliance]float64{}, maxW: map[Appliance]float64{}, days: n * days}
	for i := 0; i < n; i++ {
		u := New(42, fmt.Sprintf("u-%d", i), use, opt)
		for d := d0; d < d0+int64(days); d++ {
			for _, s := range u.Day(d, nil) {
				a := Appliance(s.Tag)
				st.kwh[a] += s.Wh(s.Start, s.End) / 1000
				w := s.Shape(s.Start)
				if s.Exp != 0 {
					w = s.Shape(s.End) // steady state, after the start-up decay
				}
				if old, ok := st.minW[a]; !ok || w < old {
					st.minW[a] = w
				}
				st.maxW[a] = max(st.maxW[a], s.Shape(s.Start))
			}
		}
	}
	for a := range st.kwh {
		st.kwh[a] /= float64(st.days)
	}
	return st
}

func (st stats) total() float64 {
	var t float64
	for _, v := range st.kwh {
		t += v
	}
	return t
}

func TestResidentialEnergyAndPower(t *testing.T) {
	for _, tc := range []struct {
		name     string
		day      int64
		totalKWh [2]float64 // mean per unit-day
	}{
		{"winter", january, [2]float64{4, 12}},
		{"summer", july, [2]float64{5, 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := collect(150, 7, tc.day, Residential, Options{})
			total := st.total()
			t.Logf("mean %.2f kWh/day: %v", total, fmtKWh(st.kwh))
			if total < tc.totalKWh[0] || total > tc.totalKWh[1] {
				t.Errorf("mean household energy %.2f kWh/day outside %v", total, tc.totalKWh)
			}
			// Energy per unit-day averaged over all units (owners or not).
			for a, want := range map[Appliance][2]float64{
				Base:   {0.4, 1.5},
				Fridge: {0.4, 1.6},
				Lights: {0.2, 1.0},
				TV:     {0.1, 0.8},
				Kettle: {0.05, 0.4},
			} {
				if got := st.kwh[a]; got < want[0] || got > want[1] {
					t.Errorf("%s: %.3f kWh/day outside %v", a, got, want)
				}
			}
			// Power ranges (W) of single appliances, including the look-alikes
			// in the e-bike band.
			for a, want := range map[Appliance][2]float64{
				Fridge:      {65, 230}, // round 13: the compressor's draw sags 10% an hour on
				Laptop:      {20, 65},
				Hood:        {80, 250},
				TV:          {80, 200},
				PC:          {60, 200},
				Kettle:      {1500, 2200},
				Induction:   {700, 2100},
				WaterHeater: {1500, 3000},
				RiceCooker:  {30, 800},
			} {
				if lo, hi := st.minW[a], st.maxW[a]; lo < want[0] || hi > want[1] {
					t.Errorf("%s: power %.0f..%.0f W outside %v", a, lo, hi, want)
				}
			}
			if tc.name == "winter" {
				if lo, hi := st.minW[Blanket], st.maxW[Blanket]; st.kwh[Blanket] < 0.03 || lo < 35 || hi > 150 {
					t.Errorf("blanket: %.2f kWh/day, %.0f..%.0f W", st.kwh[Blanket], lo, hi)
				}
				if st.kwh[Heater] < 0.3 || st.maxW[Heater] > 2000 || st.minW[Heater] < 800 {
					t.Errorf("heater: %.2f kWh/day, %.0f..%.0f W", st.kwh[Heater], st.minW[Heater], st.maxW[Heater])
				}
				if st.kwh[AC] > st.kwh[Heater] {
					t.Errorf("winter: more air conditioning (%.2f) than heaters (%.2f)", st.kwh[AC], st.kwh[Heater])
				}
			} else {
				if st.kwh[AC] < 1 || st.kwh[Heater] != 0 {
					t.Errorf("summer: AC %.2f kWh/day, heater %.2f", st.kwh[AC], st.kwh[Heater])
				}
			}
		})
	}
}

func fmtKWh(m map[Appliance]float64) string {
	var keys []Appliance
	for a := range m {
		keys = append(keys, a)
	}
	slices.Sort(keys)
	s := ""
	for _, a := range keys {
		s += fmt.Sprintf("%s=%.2f ", a, m[a])
	}
	return s
}

// TestDailyRhythm checks that evenings draw more than the small hours and
// that a unit is never dark: the base load is always there.
func TestDailyRhythm(t *testing.T) {
	var byHour [24]float64
	for i := 0; i < 100; i++ {
		u := New(1, fmt.Sprintf("r-%d", i), Residential, Options{})
		tl := elec.NewTimeline(u.Day, simtime.DayStart(january), 0)
		for d := january; d < january+5; d++ {
			for m := int64(0); m < 24*60; m += 10 {
				p, _ := tl.At(simtime.DayStart(d) + m*simtime.Minute)
				if p < 10 {
					t.Fatalf("unit %d draws %.1f W at %s", i, p, simtime.Format(simtime.DayStart(d)+m*simtime.Minute))
				}
				byHour[m/60] += p
			}
		}
	}
	if byHour[20] < 2*byHour[4] {
		t.Errorf("20:00 draws %.0f, 04:00 %.0f: want a clear evening peak", byHour[20], byHour[4])
	}
}

func TestShopAndWorkshop(t *testing.T) {
	shop := collect(40, 7, july, Shop, Options{})
	if e := shop.total(); e < 8 || e > 60 {
		t.Errorf("shop: %.1f kWh/day", e)
	}
	ws := collect(40, 7, january, Workshop, Options{})
	mixed := collect(40, 7, january, Workshop, Options{MixedUse: true})
	if ws.kwh[TV] != 0 || mixed.kwh[TV] == 0 {
		t.Errorf("a workshop has no TV (%.2f), a mixed-use one does (%.2f)", ws.kwh[TV], mixed.kwh[TV])
	}
	if ws.kwh[Machine] < 0.5 {
		t.Errorf("workshop machines %.2f kWh/day", ws.kwh[Machine])
	}
}

func TestDeterministicDays(t *testing.T) {
	a := New(9, "u-1", Residential, Options{}).Day(january, nil)
	b := New(9, "u-1", Residential, Options{}).Day(january, nil)
	if !slices.Equal(a, b) {
		t.Fatal("same seed and unit, different days")
	}
	c := New(10, "u-1", Residential, Options{}).Day(january, nil)
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same day")
	}
	// Drawing another day first does not change this one.
	u := New(9, "u-1", Residential, Options{})
	u.Day(january+3, nil)
	if d := u.Day(january, nil); !slices.Equal(a, d) {
		t.Fatal("a day depends on what was drawn before")
	}
	for _, s := range a {
		if math.IsNaN(s.W) || s.End <= s.Start {
			t.Fatalf("bad segment %+v", s)
		}
	}
}

func BenchmarkDay(b *testing.B) {
	u := New(1, "u-1", Residential, Options{})
	var dst []elec.Segment
	b.ReportAllocs()
	d := january
	for b.Loop() {
		dst = u.Day(d, dst[:0])
		d++
	}
}
