package eval

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/charger"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// The semi-synthetic set lays real e-bike charges (hilo-software, 48 V
// packs on TP-Link plugs, 5-min samples) onto a real household's whole-
// house aggregate (UCI "Individual household electric power consumption",
// two days at 1 min) plus real appliance traces from tracebase (a CCFL
// television drawing a flat 205 W for hours, a desktop PC on all day, a
// fridge, a freezer, a lamp, a monitor, laptops). Only the composition is
// synthetic: every value is a measured one, interpolated linearly between
// a charger's 5-min samples and held between an appliance's 1-8 s ones.
// The data stays in ../shared/realdata: nothing is copied into the
// repository; tracebase-derived series are ODbL (docs/detection.md).

// realSession is one real charge: power every 5 minutes from its first
// sample (laid onto the background as the plug-in).
type realSession struct {
	name    string
	t       []int64 // ms since the first sample
	w       []float64
	partial bool // the charger did not reach its float in the trace
}

func (r *realSession) at(dt int64) float64 {
	if dt < 0 || dt > r.t[len(r.t)-1] {
		return 0
	}
	i, _ := slices.BinarySearch(r.t, dt)
	if i < len(r.t) && r.t[i] == dt {
		return r.w[i]
	}
	a, b := i-1, i
	f := float64(dt-r.t[a]) / float64(r.t[b]-r.t[a])
	return r.w[a] + f*(r.w[b]-r.w[a])
}

func (r *realSession) length() int64 { return r.t[len(r.t)-1] }

// taperStart returns when the charger left its plateau, ms since the first
// sample: the sample of the highest power before the first that is under
// 95% of the highest so far (0 for a trace that begins in its taper).
func (r *realSession) taperStart() int64 {
	top := 0
	for i, w := range r.w {
		if w < 0.95*r.w[top] {
			return r.t[top]
		}
		if w >= r.w[top] {
			top = i
		}
	}
	return r.t[top]
}

// maxFloatW is the highest float of the simulated chargers (charger.Params.FloatW).
const maxFloatW = 15

// drawEnd returns when the charger stopped charging, ms since the first
// sample: the first sample after the last that stands more than
// charger.GreenW over the trace's final float, as the simulated charger is
// full within GreenW of its floor (a full trace goes on at its float for
// up to an hour after that); the trace's end if it ends drawing more than
// maxFloatW (a charge cut by the battery manager).
func (r *realSession) drawEnd() int64 {
	n := len(r.w)
	if r.w[n-1] > maxFloatW {
		return r.length()
	}
	for i := n - 2; i >= 0; i-- {
		if r.w[i] > r.w[n-1]+charger.GreenW {
			return r.t[i+1]
		}
	}
	return r.length()
}

// dayTrace is one appliance over a day: power held from each sample.
type dayTrace struct {
	name string
	sec  []int32 // seconds of the day
	w    []float32
}

func (d *dayTrace) at(sec int32) float64 {
	i, ok := slices.BinarySearch(d.sec, sec)
	if !ok {
		i--
	}
	if i < 0 {
		return 0
	}
	return float64(d.w[i])
}

// realData is what the semi-synthetic set is built from.
type realData struct {
	uci        []float64 // W, one a minute, 2880 minutes from 2007-02-01 00:00
	sessions   []realSession
	appliances []dayTrace
}

func loadRealData(dir string) (*realData, error) {
	rd := &realData{}
	var err error
	if rd.uci, err = loadUCI(filepath.Join(dir, "uci-household", "household_power_consumption_2007-02-01_02.tsv")); err != nil {
		return nil, err
	}
	full, err := loadHilo(filepath.Join(dir, "ebike-hilo", "sample_full_charge_ebike_battery_manager.power.csv"))
	if err != nil {
		return nil, err
	}
	nominal, err := loadHilo(filepath.Join(dir, "ebike-hilo", "sample_nominal_ebike_battery_manager.power.csv"))
	if err != nil {
		return nil, err
	}
	// The charges in the charger band: the two Lectric packs and the Rad
	// pack 1 run through their plateau and taper; Rad pack 2 begins in the
	// taper; the nominal night's Rad pack 1 is cut by the battery manager
	// at 90 W (a partial charge). Rad pack 3 (a 15.5 W maintenance float)
	// and the empty spare plug are below the band and left out.
	for _, c := range []struct {
		from    map[string]realSession
		plug    string
		partial bool
	}{
		{full, "lectric_battery_1", false}, {full, "lectric_battery_2", false}, {full, "rad_battery_1", false},
		{full, "rad_battery_2", true}, {nominal, "rad_battery_1", true},
	} {
		s, ok := c.from[c.plug]
		if !ok || len(s.t) < 4 {
			return nil, fmt.Errorf("realdata: no trace of %s", c.plug)
		}
		s.partial = c.partial
		rd.sessions = append(rd.sessions, s)
	}
	for _, a := range []string{
		"TV-LCD/dev_D330A3_2011.12.10.csv", "PC-Desktop/Desktop_Schalli_2012.01.04.csv", "Refrigerator/dev_B7E6F4_2012.01.14.csv",
		"Freezer/dev_D36601_2012.01.21.csv", "Lamp/dev_C3E6D1_2012.06.06.csv", "Monitor-TFT/dev_B81109_2012.02.12.csv",
		"PC-Laptop/dev_D320C8_2011.11.30.csv", "PC-Laptop/dev_5AE2CA_2012.01.19.csv",
	} {
		d, err := loadTracebase(filepath.Join(dir, "tracebase", "complete", a))
		if err != nil {
			return nil, err
		}
		rd.appliances = append(rd.appliances, d)
	}
	return rd, nil
}

func loadUCI(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("realdata: %w", err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue // header: 10 names, rows have 11 fields (an R row name first)
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			return nil, fmt.Errorf("realdata: %s:%d: %d fields", path, line, len(fs))
		}
		kw, err := strconv.ParseFloat(fs[3], 64)
		if err != nil {
			return nil, fmt.Errorf("realdata: %s:%d: %v", path, line, err)
		}
		out = append(out, kw*1000)
	}
	return out, sc.Err()
}

func loadHilo(path string) (map[string]realSession, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("realdata: %w", err)
	}
	defer f.Close()
	out := map[string]realSession{}
	first := map[string]time.Time{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		fs := strings.Split(sc.Text(), ",")
		if len(fs) != 3 {
			return nil, fmt.Errorf("realdata: %s:%d: %d fields", path, line, len(fs))
		}
		ts, err := time.Parse("2006-01-02 15:04:05", fs[0])
		if err != nil {
			return nil, fmt.Errorf("realdata: %s:%d: %v", path, line, err)
		}
		w, err := strconv.ParseFloat(fs[2], 64)
		if err != nil {
			return nil, fmt.Errorf("realdata: %s:%d: %v", path, line, err)
		}
		s := out[fs[1]]
		if len(s.t) == 0 {
			first[fs[1]] = ts
			s.name = fs[1]
		}
		s.t = append(s.t, ts.Sub(first[fs[1]]).Milliseconds())
		s.w = append(s.w, w)
		out[fs[1]] = s
	}
	return out, sc.Err()
}

func loadTracebase(path string) (dayTrace, error) {
	d := dayTrace{name: filepath.Base(filepath.Dir(path))}
	f, err := os.Open(path)
	if err != nil {
		return d, fmt.Errorf("realdata: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Split(sc.Text(), ";")
		if len(fs) < 2 {
			continue
		}
		sp := strings.Fields(fs[0])
		if len(sp) != 2 {
			continue
		}
		hms := strings.Split(sp[1], ":")
		if len(hms) != 3 {
			continue
		}
		h, _ := strconv.Atoi(hms[0])
		m, _ := strconv.Atoi(hms[1])
		s, _ := strconv.Atoi(hms[2])
		w, err := strconv.ParseFloat(strings.TrimSpace(fs[1]), 64)
		if err != nil {
			continue
		}
		sec := int32(h*3600 + m*60 + s)
		if n := len(d.sec); n > 0 && sec <= d.sec[n-1] {
			continue // duplicate or out-of-order timestamps
		}
		d.sec = append(d.sec, sec)
		d.w = append(d.w, float32(w))
	}
	if len(d.sec) == 0 {
		return d, fmt.Errorf("realdata: %s: no samples", path)
	}
	return d, sc.Err()
}

// Semi-synthetic units: 60, each over the two days of the real background.
const (
	semiUnits       = 60
	semiChargeUnits = 40 // the others never charge
	semiSeed        = 20070201
)

// SemiSynthetic builds the semi-synthetic set at reading interval iv (a
// whole number of minutes) and runs the detector over it the way the
// engine does.
//
// onTrace, when not nil, receives every decision of the detector (Options.
// Explain), as runCity's does.
func SemiSynthetic(dir string, iv time.Duration, mk ModelMaker, onTrace func(unit, dev string, tr *detect.ChargingTrace)) (*Outcome, error) {
	rd, err := loadRealData(dir)
	if err != nil {
		return nil, err
	}
	if iv < time.Minute || iv%time.Minute != 0 {
		return nil, fmt.Errorf("semi-synthetic: interval %s: the real background has one value a minute", iv)
	}
	t0 := day(2026, 2, 2).UnixMilli() // a Monday; the real days were a Thursday and Friday
	span := int64(len(rd.uci)) * simtime.Minute
	out := &Outcome{Label: "semi-synthetic", Interval: iv, From: t0, To: t0 + span}
	type unit struct {
		id       string
		shift    int           // minutes the background is shifted by
		apps     []int         // appliance traces laid on it
		sessions []semiSession // charges
		w        func(int64) float64
	}
	var units []*unit
	for k := 0; k < semiUnits; k++ {
		r := rng.New(semiSeed, uint64(k))
		u := &unit{id: fmt.Sprintf("semi-%02d", k), shift: r.IntN(61) - 30}
		for a := range rd.appliances {
			if rng.Chance(r, 0.35) {
				u.apps = append(u.apps, a)
			}
		}
		if k%3 == 0 && !slices.Contains(u.apps, 0) {
			u.apps = append(u.apps, 0) // the flat television in a third of the units
		}
		if k < semiChargeUnits {
			for d := int64(0); d < 2; d++ {
				// at any time of day: the real household's evenings are
				// busy (kilowatts of heating), its nights quiet
				start := t0 + d*simtime.Day + int64(rng.Between(r, 0, 21)*float64(simtime.Hour))
				s := semiSession{rs: &rd.sessions[(k+int(d))%len(rd.sessions)], start: start}
				u.sessions = append(u.sessions, s)
				if k%4 == 1 {
					// a second bike, 10-60 minutes later
					s2 := semiSession{rs: &rd.sessions[(k+int(d)+2)%len(rd.sessions)], start: start + int64(rng.Between(r, 10, 60)*float64(simtime.Minute))}
					u.sessions = append(u.sessions, s2)
				}
			}
		}
		units = append(units, u)
	}
	for _, u := range units {
		u := u
		u.w = func(t int64) float64 {
			m := int((t-t0)/simtime.Minute) + u.shift
			m = (m%len(rd.uci) + len(rd.uci)) % len(rd.uci)
			w := rd.uci[m]
			sec := int32(simtime.HourOf(t) * 3600)
			for _, a := range u.apps {
				w += rd.appliances[a].at(sec)
			}
			for _, s := range u.sessions {
				w += s.rs.at(t - s.start)
			}
			return w
		}
	}
	// detection, as the engine feeds a meter
	cfg := detect.Defaults(devices.KindMeter)
	book := newAlertBook()
	var cur string
	why := map[string]string{}
	model := mk(func(tr *detect.ChargingTrace) {
		if onTrace != nil {
			onTrace(cur, "m-"+cur, tr)
		}
		if tr.Event == "fire" {
			why[cur] = fmt.Sprintf("%s after %s: step %.0f %s, noise %.2f%%, rise %+.1f%%/h (t %.1f)",
				reason(tr), tr.Held.Round(time.Minute), tr.LevelW, unitOf(tr), 100*tr.Noise, 100*tr.Rise, tr.RiseT)
		}
	})
	var sigs []detect.Signal
	ivMS := iv.Milliseconds()
	for _, u := range units {
		cur = u.id
		var d detect.Device
		info := detect.Info{ID: "m-" + u.id, Kind: devices.KindMeter, Charging: true}
		for t := t0; t < t0+span; t += ivMS {
			var r devices.Reading
			r.TS = t
			r.Put(devices.FieldPower, math.Round(u.w(t)*10)/10)
			out.Readings++
			var ok bool
			sigs, ok = d.Observe(&cfg, &info, model, &r, sigs[:0])
			if !ok {
				continue
			}
			for j := range sigs {
				book.signal(u.id, info.ID, &sigs[j], why[u.id])
			}
		}
	}
	out.Alerts = book.alerts
	// ground truth
	for _, u := range units {
		var eps []Episode
		ss := slices.Clone(u.sessions)
		slices.SortFunc(ss, func(a, b semiSession) int { return int(a.start - b.start) })
		for _, s := range ss {
			end, drawEnd, taper := s.start+s.rs.length(), s.start+s.rs.drawEnd(), s.start+s.rs.taperStart()
			if n := len(eps); n > 0 && s.start < eps[n-1].End {
				e := &eps[n-1]
				e.End = max(e.End, end)
				e.DrawEnd = max(e.DrawEnd, drawEnd)
				e.PlateauEnd = max(e.PlateauEnd, taper)
				e.Starts = append(e.Starts, s.start)
				e.Bikes++
				e.Chargers = append(e.Chargers, s.rs.name)
				e.PlateauW = max(e.PlateauW, s.rs.w[0])
				e.Cases |= CaseTwoBikes
				if s.rs.partial {
					e.Cases |= CasePartial
				}
				continue
			}
			e := Episode{Unit: u.id, Start: s.start, End: end, PlateauEnd: taper, DrawEnd: drawEnd, Bikes: 1, PlateauW: s.rs.w[0],
				Chargers: []string{s.rs.name}, Starts: []int64{s.start}, Alert: -1, Scored: true}
			if s.rs.partial {
				e.Cases |= CasePartial
			}
			eps = append(eps, e)
		}
		for i := range eps {
			e := &eps[i]
			for _, a := range u.apps {
				if a == 0 || a == 1 || a == 4 { // television, desktop PC, lamp
					if rd.appliances[a].on(simtime.HourOf(e.Start), 1) {
						e.Cases |= CaseLookAlike
					}
				}
			}
			for t := e.Start; t < e.Start+simtime.Hour; t += simtime.Minute {
				m := (int((t-t0)/simtime.Minute) + u.shift + len(rd.uci)) % len(rd.uci)
				if rd.uci[m] >= 1400 {
					e.Cases |= CaseKW
					break
				}
			}
		}
		ud := UnitDays{Unit: u.id}
		for d := simtime.DayOf(t0); d < simtime.DayOf(t0+span); d++ {
			ds, de := simtime.DayStart(d), simtime.DayStart(d+1)
			t := DayTags{Day: d}
			for _, e := range eps {
				if e.Start < de && e.End > ds {
					t.Charging = true
					t.Cases |= e.Cases
				}
			}
			for _, a := range u.apps {
				if a == 0 || a == 1 || a == 4 {
					t.Cases |= CaseLookAlike
				}
			}
			ud.Days = append(ud.Days, t)
		}
		out.Units = append(out.Units, ud)
		out.Episodes = append(out.Episodes, eps...)
	}
	byID := map[string]*unit{}
	for _, u := range units {
		byID[u.id] = u
	}
	bg := map[string]func(int64) float64{}
	for _, u := range units {
		u := u
		bg[u.id] = func(t int64) float64 {
			w := u.w(t)
			for _, s := range u.sessions {
				w -= s.rs.at(t - s.start)
			}
			return w
		}
	}
	out.semi = semiDiagnose(out, bg, func(id string, t int64) float64 {
		w := 0.0
		for _, s := range byID[id].sessions {
			w += s.rs.at(t - s.start)
		}
		return w
	})
	out.series = func(id string, a, b int64) ([]int64, []float64) {
		u := byID[id]
		if u == nil {
			return nil, nil
		}
		var ts []int64
		var ws []float64
		for t := t0 + max(0, (a-t0+ivMS-1)/ivMS)*ivMS; t < min(b, t0+span); t += ivMS {
			ts, ws = append(ts, t), append(ws, math.Round(u.w(t)*10)/10)
		}
		return ts, ws
	}
	return out, nil
}

type semiSession struct {
	rs    *realSession
	start int64
}

// on reports whether the appliance draws at least 20 W at some point of the
// hours [h, h+dur) of its day.
func (d *dayTrace) on(h, dur float64) bool {
	from, to := int32(h*3600), int32((h+dur)*3600)
	for i, s := range d.sec {
		end := int32(86400)
		if i+1 < len(d.sec) {
			end = d.sec[i+1]
		}
		if end > from && s < to && d.w[i] >= 20 {
			return true
		}
	}
	return false
}
