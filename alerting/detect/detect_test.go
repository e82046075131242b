package detect

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/devices"
)

const t0 = int64(1_767_225_600_000) // 2026-01-01T00:00:00Z

// input is a reading (ev == 0) or an event at t seconds after t0.
type input struct {
	t    float64
	ev   devices.EventType
	port int
	code string
	kv   []any // field, value pairs of a reading
}

func at(t float64, kv ...any) input { return input{t: t, kv: kv} }
func evAt(t float64, typ devices.EventType) input {
	return input{t: t, ev: typ}
}
func evPort(t float64, typ devices.EventType, port int, code string) input {
	return input{t: t, ev: typ, port: port, code: code}
}

func (in input) ts() int64 { return t0 + int64(math.Round(in.t*1000)) }

func (in input) reading() *devices.Reading {
	r := &devices.Reading{TS: in.ts()}
	for i := 0; i < len(in.kv); i += 2 {
		f := in.kv[i].(devices.Field)
		switch v := in.kv[i+1].(type) {
		case int:
			r.Put(f, float64(v))
		case float64:
			r.Put(f, v)
		case bool:
			r.PutBool(f, v)
		case devices.PileState:
			r.Put(f, float64(v))
		}
	}
	return r
}

// run feeds inputs to a fresh device and returns its signals formatted as
// "T op rule[/port]" with T in seconds after t0.
func run(t *testing.T, info Info, cfg Config, ins []input) []string {
	t.Helper()
	var d Device
	return feed(t, &d, info, &cfg, ins)
}

func feed(t *testing.T, d *Device, info Info, cfg *Config, ins []input) []string {
	t.Helper()
	if err := cfg.Validate("test"); err != nil {
		t.Fatalf("config: %v", err)
	}
	var out []string
	var sigs []Signal
	for _, in := range ins {
		sigs = sigs[:0]
		if in.ev != 0 {
			ev := devices.Event{TS: in.ts(), Seq: uint64(in.t * 1000), Type: in.ev, Port: in.port, Code: in.code}
			sigs, _ = d.Event(cfg, &info, &ev, sigs)
		} else {
			sigs, _ = d.Observe(cfg, &info, StepModel, in.reading(), sigs)
		}
		for _, s := range sigs {
			out = append(out, format(s))
			if s.Op != OpClear && len(s.Evidence) == 0 {
				t.Errorf("%s has no evidence", format(s))
			}
		}
	}
	return out
}

func format(s Signal) string {
	r := string(s.Rule)
	if s.Port != 0 {
		r += fmt.Sprintf("/%d", s.Port)
	}
	return fmt.Sprintf("%g %s %s", float64(s.TS-t0)/1000, s.Op, r)
}

func info(k devices.Kind) Info {
	return Info{ID: "d1", Kind: k, RatedCurrentA: 16, Charging: k == devices.KindMeter || k == devices.KindPlug}
}

// series returns readings every step seconds from from to to (exclusive)
// with f set to v(t).
func series(from, to, step float64, f devices.Field, v func(t float64) float64) []input {
	var out []input
	for t := from; t < to; t += step {
		out = append(out, at(t, f, v(t)))
	}
	return out
}

func cat(parts ...[]input) []input { return slices.Concat(parts...) }

func TestThresholdRules(t *testing.T) {
	const (
		V    = devices.FieldVoltage
		Leak = devices.FieldLeak
		T1   = devices.FieldTemp1
	)
	cases := []struct {
		name string
		kind devices.Kind
		ins  []input
		want []string
	}{
		{"residual current fires on the first reading at 300 mA", devices.KindMonitor,
			[]input{at(0, Leak, 150), at(10, Leak, 299), at(20, Leak, 300), at(30, Leak, 320)},
			[]string{"20 fire residual_current"}},
		{"residual current clears after a minute under 270 mA", devices.KindMonitor,
			[]input{at(0, Leak, 350), at(10, Leak, 260), at(40, Leak, 250), at(70, Leak, 250), at(80, Leak, 100)},
			[]string{"0 fire residual_current", "70 clear residual_current"}},
		{"residual current hovering at the threshold fires once and does not flap", devices.KindMonitor,
			cat(series(0, 600, 10, Leak, func(t float64) float64 {
				if int(t/10)%2 == 0 {
					return 301
				}
				return 295
			})),
			[]string{"0 fire residual_current"}},
		{"a dip under the clear level shorter than clear_for does not clear", devices.KindMonitor,
			[]input{at(0, Leak, 400), at(10, Leak, 100), at(20, Leak, 100), at(30, Leak, 400), at(40, Leak, 100), at(90, Leak, 100), at(100, Leak, 100)},
			[]string{"0 fire residual_current", "100 clear residual_current"}},
		{"over-temperature waits its 20 s for-duration", devices.KindMonitor,
			[]input{at(0, T1, 60), at(10, T1, 85), at(20, T1, 86), at(30, T1, 87), at(40, T1, 50), at(100, T1, 50), at(110, T1, 50)},
			[]string{"10 pending over_temperature", "30 fire over_temperature", "100 clear over_temperature"}},
		{"over-temperature pending falls back under the clear level and is cancelled", devices.KindMonitor,
			[]input{at(0, T1, 81), at(10, T1, 70), at(20, T1, 81), at(30, T1, 81), at(40, T1, 81)},
			[]string{"0 pending over_temperature", "10 clear over_temperature", "20 pending over_temperature", "40 fire over_temperature"}},
		{"temperature hovering between clear and raise keeps the for-duration running", devices.KindMonitor,
			[]input{at(0, T1, 80), at(10, T1, 79), at(20, T1, 80.5), at(30, T1, 79.9)},
			[]string{"0 pending over_temperature", "20 fire over_temperature"}},
		{"the hottest channel counts", devices.KindMonitor,
			[]input{at(0, devices.FieldTemp2, 30, devices.FieldTemp4, 95), at(20, devices.FieldTemp4, 95)},
			[]string{"0 pending over_temperature", "20 fire over_temperature"}},
		{"over-voltage", devices.KindMeter,
			[]input{at(0, V, 271), at(30, V, 275), at(60, V, 230), at(120, V, 230)},
			[]string{"0 pending over_voltage", "30 fire over_voltage", "120 clear over_voltage"}},
		{"under-voltage", devices.KindMeter,
			[]input{at(0, V, 180), at(30, V, 175), at(60, V, 190), at(90, V, 196), at(150, V, 220)},
			[]string{"0 pending under_voltage", "30 fire under_voltage", "150 clear under_voltage"}},
		{"a lost phase is phase loss, not under-voltage", devices.KindMonitor,
			[]input{at(0, devices.FieldVoltageL1, 230, devices.FieldVoltageL2, 231, devices.FieldVoltageL3, 229),
				at(10, devices.FieldVoltageL1, 230, devices.FieldVoltageL2, 3, devices.FieldVoltageL3, 229),
				at(20, devices.FieldVoltageL1, 230, devices.FieldVoltageL2, 229, devices.FieldVoltageL3, 229)},
			[]string{"10 fire phase_loss", "20 clear phase_loss"}},
		{"out-of-order and repeated readings are ignored", devices.KindMonitor,
			[]input{at(0, Leak, 100), at(20, Leak, 100), at(10, Leak, 500), at(20, Leak, 500), at(30, Leak, 500), at(25, Leak, 100)},
			[]string{"30 fire residual_current"}},
		{"arc fault event fires at once and clears after ten quiet minutes of readings", devices.KindMonitor,
			[]input{at(0, Leak, 50), evAt(5, devices.EventArcFault), at(10, Leak, 50), evAt(300, devices.EventArcFault), at(600, Leak, 50), at(899, Leak, 50), at(900, Leak, 50)},
			[]string{"5 fire arc_fault", "900 clear arc_fault"}},
		{"phase-loss event latches over normal readings until quiet", devices.KindMonitor,
			[]input{evAt(0, devices.EventPhaseLoss), at(10, devices.FieldVoltageL1, 230, devices.FieldVoltageL2, 230, devices.FieldVoltageL3, 230), at(600, devices.FieldVoltageL1, 230, devices.FieldVoltageL2, 230, devices.FieldVoltageL3, 230)},
			[]string{"0 fire phase_loss", "600 clear phase_loss"}},
		{"over-voltage event from the monitor", devices.KindMonitor,
			[]input{evAt(0, devices.EventOverVoltage), at(10, V, 280), at(620, V, 280), at(650, V, 230), at(710, V, 230)},
			[]string{"0 fire over_voltage", "710 clear over_voltage"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, info(c.kind), Defaults(c.kind), c.ins)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestSmokeDetector(t *testing.T) {
	const (
		S   = devices.FieldSmoke
		Bat = devices.FieldBatteryPct
		Low = devices.FieldBatteryLow
		Tam = devices.FieldTamper
		F   = devices.FieldFault
	)
	cases := []struct {
		name string
		ins  []input
		want []string
	}{
		{"smoke event fires at once, clear event clears",
			[]input{evAt(0, devices.EventSmokeAlarm), evAt(60, devices.EventSmokeClear)},
			[]string{"0 fire smoke", "60 clear smoke"}},
		{"smoke flag in readings",
			[]input{at(0, S, false), at(10, S, true), at(20, S, true), at(30, S, false)},
			[]string{"10 fire smoke", "30 clear smoke"}},
		{"a reading older than the alarm event does not clear it",
			[]input{evAt(100, devices.EventSmokeAlarm), at(90, S, false), at(110, S, false)},
			[]string{"100 fire smoke", "110 clear smoke"}},
		{"a clear event older than the alarm is ignored",
			[]input{evAt(100, devices.EventSmokeAlarm), evAt(90, devices.EventSmokeClear)},
			[]string{"100 fire smoke"}},
		{"tamper and put back",
			[]input{evAt(0, devices.EventTamper), at(10, Tam, true), evAt(20, devices.EventTamperClear)},
			[]string{"0 fire tamper", "20 clear tamper"}},
		{"low battery from the level with hysteresis",
			[]input{at(0, Bat, 30), at(3600, Bat, 20), at(7200, Bat, 22), at(10800, Bat, 19), at(14400, Bat, 100)},
			[]string{"3600 fire low_battery", "14400 clear low_battery"}},
		{"low battery flag and event",
			[]input{evAt(0, devices.EventLowBattery), at(10, Low, true), evAt(20, devices.EventBatteryOK)},
			[]string{"0 fire low_battery", "20 clear low_battery"}},
		{"detector fault",
			[]input{at(0, F, true), at(3600, F, false)},
			[]string{"0 fire device_fault", "3600 clear device_fault"}},
		{"repeated event is ignored",
			[]input{evAt(0, devices.EventSmokeAlarm), evAt(0, devices.EventSmokeAlarm)},
			[]string{"0 fire smoke"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, info(devices.KindSmoke), Defaults(devices.KindSmoke), c.ins)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPile(t *testing.T) {
	const (
		P  = devices.FieldPort
		W  = devices.FieldPower
		St = devices.FieldState
		T  = devices.FieldTemp
	)
	charging, idle, fault := devices.PileCharging, devices.PileIdle, devices.PileFault
	h := 3600.0
	// A charge that tapers after 3 h: 180 W, then 40 W.
	taper := func(port int, start float64) []input {
		var out []input
		for t := start; t < start+5*h; t += 300 {
			w := 180.0
			if t-start > 3*h {
				w = 40
			}
			out = append(out, at(t, P, port, St, charging, W, w))
		}
		return append(out, at(start+5*h, P, port, St, devices.PileFull, W, 2))
	}
	// A charge that never tapers, 9 h at 200 W.
	flat := func(port int) []input {
		var out []input
		for t := 0.0; t <= 9*h; t += 300 {
			out = append(out, at(t, P, port, St, charging, W, 200))
		}
		return append(out, at(9*h+300, P, port, St, idle, W, 0))
	}
	cases := []struct {
		name string
		ins  []input
		want []string
	}{
		{"per-port overload over 2000 W", []input{at(0, P, 1, W, 1900), at(300, P, 2, W, 2100), at(600, P, 2, W, 1500), at(660, P, 2, W, 1500), at(700, P, 1, W, 1000)},
			[]string{"300 fire port_overload/2", "660 clear port_overload/2"}},
		{"port over-temperature over 30 s", []input{at(0, P, 3, T, 81), at(20, P, 3, T, 82), at(30, P, 3, T, 85), at(40, P, 3, T, 60), at(100, P, 3, T, 60)},
			[]string{"0 pending port_over_temperature/3", "30 fire port_over_temperature/3", "100 clear port_over_temperature/3"}},
		{"fault code event and clear", []input{evPort(0, devices.EventFault, 4, "E07"), evPort(100, devices.EventFaultClear, 4, "")},
			[]string{"0 fire pile_fault/4", "100 clear pile_fault/4"}},
		{"fault state in readings", []input{at(0, P, 2, St, fault), at(300, P, 2, St, idle)},
			[]string{"0 fire pile_fault/2", "300 clear pile_fault/2"}},
		{"a normal charge that tapers raises nothing", taper(1, 0), nil},
		{"a session that never tapers: no_taper at 7.5 h, long_session at 8 h", flat(5),
			[]string{"27000 fire no_taper/5", "28800 fire long_session/5", "32700 clear long_session/5", "32700 clear no_taper/5"}},
		{"sessions from events", []input{evPort(0, devices.EventChargeStart, 1, ""), at(h, P, 1, W, 150), at(8*h, P, 1, W, 30), evPort(8*h+60, devices.EventChargeStop, 1, "full")},
			[]string{"28800 fire long_session/1", "28860 clear long_session/1"}},
		{"ports are independent and out-of-order per port", []input{at(100, P, 1, W, 2500), at(50, P, 2, W, 2500), at(90, P, 1, W, 2500)},
			[]string{"100 fire port_overload/1", "50 fire port_overload/2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, info(devices.KindPile), Defaults(devices.KindPile), c.ins)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestOverloadTable checks the alarm times that docs/alerting.md tabulates:
// with readings every second at a constant multiple of the rated current,
// the alarm comes T(m) after the first reading over the pickup.
func TestOverloadTable(t *testing.T) {
	cfg := Defaults(devices.KindMeter)
	cases := []struct {
		m    float64
		want time.Duration // alarm delay after the first reading over the pickup
	}{
		{1.13, 598 * time.Second},
		{1.20, 174 * time.Second},
		{1.45, 45 * time.Second},
		{2.00, 0},
		{2.55, 0},
		{1.105, 15 * time.Minute},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.m), func(t *testing.T) {
			if d := cfg.Overload.AlarmDelay(c.m); d.Round(time.Second) != c.want {
				t.Errorf("AlarmDelay(%g) = %s, want %s", c.m, d, c.want)
			}
			var d Device
			inf := info(devices.KindMeter)
			var fired int64 = -1
			var sigs []Signal
			for s := int64(0); s < 3600 && fired < 0; s++ {
				r := at(float64(s), devices.FieldCurrent, 16*c.m).reading()
				sigs, _ = d.Observe(&cfg, &inf, nil, r, sigs[:0])
				for _, sg := range sigs {
					if sg.Rule == alerting.RuleOverload && sg.Op == OpFire {
						fired = s
						if sg.Since != t0 {
							t.Errorf("since = %d, want the first reading", sg.Since-t0)
						}
					}
				}
			}
			got := time.Duration(fired) * time.Second
			if got < c.want || got > c.want+time.Second {
				t.Errorf("fired %s after the first reading, want %s", got, c.want)
			}
		})
	}
}

func TestOverloadSeries(t *testing.T) {
	const (
		I = devices.FieldCurrent
		W = devices.FieldPower
		V = devices.FieldVoltage
	)
	every := func(from, to, step, amps float64) []input {
		return series(from, to, step, I, func(float64) float64 { return amps })
	}
	cases := []struct {
		name string
		ins  []input
		want []string
	}{
		{"1.45 x rated at 10 s readings alarms 50 s after the first reading over",
			cat(every(0, 30, 10, 10), every(30, 200, 10, 16*1.45)),
			[]string{"30 pending overload", "80 fire overload"}},
		{"2.55 x rated alarms on the first reading", every(0, 20, 10, 16*2.55),
			[]string{"0 fire overload"}},
		{"a 2-minute kettle at 1.2 x is cancelled", cat(every(0, 120, 60, 16*1.2), every(120, 900, 60, 8)),
			[]string{"0 pending overload", "360 clear overload"}},
		{"3 minutes at 1.2 x is longer than T(1.2) = 174 s and fires", cat(every(0, 180, 60, 16*1.2), every(180, 900, 60, 8)),
			[]string{"0 pending overload", "180 fire overload", "360 clear overload"}},
		{"current hovering around the pickup accumulates and fires once",
			series(0, 3000, 60, I, func(t float64) float64 {
				if int(t/60)%2 == 0 {
					return 16 * 1.2
				}
				return 16 * 1.05
			}),
			[]string{"0 pending overload", "660 fire overload"}},
		{"clears after two minutes at or under rated", cat(every(0, 60, 10, 40), every(60, 200, 10, 15)),
			[]string{"0 fire overload", "180 clear overload"}},
		{"current from power and voltage when the meter gives no current",
			[]input{at(0, W, 220*16*2.6, V, 220)},
			[]string{"0 fire overload"}},
		{"device-reported overload event", []input{evAt(0, devices.EventOverload), at(60, I, 5), at(600, I, 5), at(720, I, 5)},
			[]string{"0 fire overload", "720 clear overload"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, info(devices.KindMeter), Defaults(devices.KindMeter), c.ins)
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestOverloadNeedsRating(t *testing.T) {
	inf := info(devices.KindMeter)
	inf.RatedCurrentA = 0
	got := run(t, inf, Defaults(devices.KindMeter), []input{at(0, devices.FieldCurrent, 100)})
	if len(got) != 0 {
		t.Errorf("a meter without a rating raised %q", got)
	}
	// A plug has a default rating of 10 A.
	inf = info(devices.KindPlug)
	inf.RatedCurrentA = 0
	got = run(t, inf, Defaults(devices.KindPlug), []input{at(0, devices.FieldCurrent, 30)})
	if !slices.Equal(got, []string{"0 fire overload"}) {
		t.Errorf("plug: %q", got)
	}
}

// power builds a power series every step seconds from 0 to end.
func power(end, step float64, w func(t float64) float64) []input {
	return series(0, end, step, devices.FieldPower, w)
}

// charger is an e-bike charge on top of base W: a plateau from plateau W
// rising 10% over cc hours, then an exponential taper (tau minutes) to a
// 5 W float, unplugged at end hours.
func charger(start, cc, tau, end, plateau float64) func(t float64) float64 {
	return func(t float64) float64 {
		h := (t - start) / 3600
		switch {
		case t < start || h >= end:
			return 0
		case h < cc:
			return plateau * (1 + 0.1*h/cc)
		}
		return 5 + (plateau*1.1-5)*math.Exp(-(h-cc)*60/tau)
	}
}

func fridge(on, off float64) func(t float64) float64 {
	return func(t float64) float64 {
		if math.Mod(t, (on+off)*60) < on*60 {
			return 120
		}
		return 0
	}
}

func sum(fs ...func(float64) float64) func(float64) float64 {
	return func(t float64) float64 {
		s := 0.0
		for _, f := range fs {
			s += f(t)
		}
		return s
	}
}

func constant(w float64) func(float64) float64 { return func(float64) float64 { return w } }

func TestCharging(t *testing.T) {
	h := 3600.0
	kettle := func(t float64) float64 {
		if m := math.Mod(t, 4*h); m > 600 && m < 780 {
			return 1800
		}
		return 0
	}
	heater := func(t float64) float64 {
		if t > 2*h && t < 5*h {
			return 1200
		}
		return 0
	}
	cases := []struct {
		name string
		step float64
		w    func(float64) float64
		want []string
	}{
		{"a 150 W charge over a 40 W background, 1-min readings", 60,
			sum(constant(40), charger(3600, 3, 45, 6, 150)), []string{"5400 fire indoor_charging", "21420 clear indoor_charging"}},
		{"the same at 5-min readings", 300,
			sum(constant(40), charger(3600, 3, 45, 6, 150)), []string{"5400 fire indoor_charging", "21600 clear indoor_charging"}},
		{"a charge under fridge cycles and a kettle", 60,
			sum(constant(60), fridge(15, 30), kettle, charger(2*h, 4, 40, 7, 110)), []string{"9840 fire indoor_charging", "28500 clear indoor_charging"}},
		{"fridge cycles alone", 60, sum(constant(60), fridge(20, 25)), nil},
		{"a kettle and a heater alone", 60, sum(constant(80), kettle, heater), nil},
		{"a 2 kW resistive load for hours", 60, sum(constant(30), func(t float64) float64 {
			if t > h && t < 4*h {
				return 2000
			}
			return 0
		}), nil},
		{"a charge starting under a running heater", 60, sum(constant(50), heater, charger(3*h, 3, 50, 7, 180)), []string{"12600 fire indoor_charging", "29820 clear indoor_charging"}},
		{"a noisy desktop PC is not stable enough", 60, sum(constant(40), func(t float64) float64 {
			if t > h && t < 5*h {
				return 120 + 60*math.Sin(t/97)*math.Sin(t/31)
			}
			return 0
		}), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, info(devices.KindMeter), Defaults(devices.KindMeter), power(10*h, c.step, c.w))
			if !slices.Equal(got, c.want) {
				t.Errorf("signals:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestChargingOnlyOutsideChargingRooms(t *testing.T) {
	inf := info(devices.KindMeter)
	inf.Charging = false
	got := run(t, inf, Defaults(devices.KindMeter), power(8*3600, 60, charger(3600, 3, 45, 6, 150)))
	if len(got) != 0 {
		t.Errorf("charging room raised %q", got)
	}
}

// TestCheckpointMidway checks that a device's state survives
// MarshalBinary/UnmarshalState at every point of a series: the signals of
// a run interrupted and restored are those of an uninterrupted run.
func TestCheckpointMidway(t *testing.T) {
	h := 3600.0
	ins := cat(
		power(6*h, 60, sum(constant(40), charger(1800, 2, 40, 5, 150))),
		[]input{at(6*h, devices.FieldCurrent, 16*1.3), at(6*h+60, devices.FieldCurrent, 16*1.3), at(6*h+120, devices.FieldTemp, 90), evAt(6*h+130, devices.EventFault)},
		series(6*h+180, 7*h, 30, devices.FieldCurrent, func(float64) float64 { return 16 * 1.3 }),
	)
	inf, cfg := info(devices.KindMeter), Defaults(devices.KindMeter)
	want := run(t, inf, cfg, ins)
	if len(want) < 4 {
		t.Fatalf("too few signals to test with: %q", want)
	}
	for _, cut := range []int{1, 45, 100, 200, 300, 361, 362, 363, 364, 380} {
		var d Device
		got := feed(t, &d, inf, &cfg, ins[:cut])
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var d2 Device
		if err := d2.UnmarshalState(b, StepModel); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		// Feeding the inputs before the cut again changes nothing.
		if again := feed(t, &d2, inf, &cfg, ins[cut-1:cut]); len(again) != 0 {
			t.Errorf("cut %d: refed reading raised %q", cut, again)
		}
		got = append(got, feed(t, &d2, inf, &cfg, ins[cut:])...)
		if !slices.Equal(got, want) {
			t.Errorf("cut %d:\n got %q\nwant %q", cut, got, want)
		}
	}
}

func TestCheckpointPile(t *testing.T) {
	var d Device
	inf, cfg := info(devices.KindPile), Defaults(devices.KindPile)
	feed(t, &d, inf, &cfg, []input{at(0, devices.FieldPort, 3, devices.FieldState, devices.PileCharging, devices.FieldPower, 150), evPort(10, devices.EventFault, 2, "E12")})
	b, _ := d.MarshalBinary()
	var d2 Device
	if err := d2.UnmarshalState(b, nil); err != nil {
		t.Fatal(err)
	}
	b2, _ := d2.MarshalBinary()
	if string(b) != string(b2) {
		t.Error("pile state does not round-trip")
	}
	if err := d2.UnmarshalState(b[:len(b)-3], nil); err == nil {
		t.Error("truncated state accepted")
	}
}

func TestEvidence(t *testing.T) {
	var d Device
	inf, cfg := info(devices.KindMonitor), Defaults(devices.KindMonitor)
	var sigs []Signal
	for i, leak := range []float64{100, 120, 110, 130, 350} {
		r := at(float64(i*10), devices.FieldLeak, leak, devices.FieldVoltage, 230).reading()
		sigs, _ = d.Observe(&cfg, &inf, nil, r, sigs[:0])
	}
	if len(sigs) != 1 {
		t.Fatalf("signals %v", sigs)
	}
	ev := sigs[0].Evidence
	// The last reading before the condition and the one that raised it.
	if len(ev) != 2 || ev[0].Values["leak_ma"] != 130 || ev[1].Values["leak_ma"] != 350 || ev[1].Device != "d1" || ev[1].Values["voltage_v"] != 230 {
		t.Errorf("evidence %+v", ev)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Defaults(devices.KindMeter)
	c.ResidualCurrent.Clear = 400
	c.Overload.Instant = 1
	c.Session.TaperFraction = 2
	err := c.Validate("kinds.meter")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"kinds.meter.residual_current.clear", "kinds.meter.overload.instant", "kinds.meter.session.taper_fraction"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	for _, k := range devices.Kinds() {
		c := Defaults(k)
		if err := c.Validate(k.String()); err != nil {
			t.Errorf("defaults of %s: %v", k, err)
		}
	}
}

// TestStateSize reports the detector state per device kind; the budget is
// 2 KiB per device, and for a charging pile 2 KiB plus 136 bytes for each
// port beyond the eighth.
func TestStateSize(t *testing.T) {
	for _, k := range devices.Kinds() {
		var d Device
		inf, cfg := info(k), Defaults(k)
		ins := []input{at(0, devices.FieldPower, 100, devices.FieldCurrent, 1)}
		if k == devices.KindPile {
			for p := 1; p <= 10; p++ {
				ins = append(ins, at(float64(p), devices.FieldPort, p, devices.FieldPower, 100))
			}
		}
		feed(t, &d, inf, &cfg, ins)
		b, _ := d.MarshalBinary()
		t.Logf("%s: %d bytes in memory, %d bytes checkpointed", k, d.Size(), len(b))
		if budget := 2048 + 136*2*boolInt(k == devices.KindPile); d.Size() > budget {
			t.Errorf("%s: %d bytes of state", k, d.Size())
		}
	}
}

func BenchmarkObserveMeter(b *testing.B) {
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
		sigs, _ = ds[i%n].Observe(&cfg, &inf, StepModel, r, sigs[:0])
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
