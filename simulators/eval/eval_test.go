package eval

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// pin is the least a case must keep: sessions detected, and the most false
// alarms it may raise. Raise a pin when the detector improves; a drop
// fails the test, so quality only ratchets up.
type pin struct {
	sessions, detected, falseAlarms int
}

// regressionPins are the figures of the Regression set (two cities, 30
// units, 3 scored days each) per reading interval and case.
var regressionPins = map[time.Duration]map[Cases]pin{
	// Issue #7's fourth round raised every pin it improved (the taper
	// that declined, TaperFallT, and following a fall down, TaperWait):
	// 1 min all 16 → 21, look-alikes 8 → 13, two bikes 2 → 3, kW 9 → 12;
	// 5 min all 10 → 16, look-alikes 4 → 9, two bikes 0 → 1, kW 5 → 10.
	// The fifth round lowered three 1-min pins by two (all 21 → 19,
	// look-alikes 13 → 11, kW 12 → 10), for the wait of an unknown step's
	// fast confirmation (FastNewHold 20 min with its noise still in the
	// limit then, FastNewNoise 1), which took the tuning set's 1-min false
	// alarms from 9 to 4 for 2 sessions of 953: the two sessions lost here
	// are both kW-load and look-alike ones: one (4243, b0003-101, 178 W)
	// was quiet at 12 minutes and no longer at 20 and nothing confirmed it
	// later; the other (4242, b0003-301), noisy from its start, was
	// confirmed without the wait by the var detector's memory of a charger
	// ("known charger (var)" at 20 min), which the run with the wait did
	// not hold at that time (what the memory learns follows what was
	// confirmed before). The sixth round raised them by one again (all
	// 19 → 20, look-alikes 11 → 12, kW 10 → 11): what is left of a step
	// two loads made is kept when one goes off (SplitMin 1, SplitVeto 7).
	// The seventh round raised them by one more (all 20 → 21, look-alikes
	// 12 → 13, kW 11 → 12): a step over the band is followed (BigMax 17,
	// BigVeto 103).
	// The ninth round raised the false alarms allowed at 1 min in all and
	// look-alikes 0 → 1, for the learned confirmation score (ScoreMin
	// 0.93, charging_score.go), which on the tuning seeds' two looks at
	// 1 min found 20 and 27 sessions more for 0 and 1 false alarm more
	// (and 58 and 54 more for 4 and 2 at 5 min): here it confirms, 20
	// minutes after its start, a 302 W step (the band's top) of a
	// charger-free day whose noise (1.15%) is just over the fast limit
	// and which had passed the fast test once (score 0.95); the sessions
	// detected are the same (21). The drop-time score (round 9d: a step
	// held an hour or more is scored when it falls in its taper or float,
	// ScoreDropMin 0.15 and ScoreDropMinLong 0.3 on ScoreDropW) raised
	// every 1-min pin: all 21 → 26, look-alikes 13 → 16, two bikes 3 → 4,
	// partial 4 → 6, kW 12 → 16 (with round 9b's TaperWait 0.3 one
	// session fewer in all, look-alikes and kW; merged with TaperWait 0.5).
	// Round 11 raised all 26 → 27 and kW 16 → 17: with no slot free, the
	// step the learned score finds least like a charge is forgotten, not a
	// charger's young one (RoomScore 0.001, charging_room.go). With the
	// trees' score and its sequence (ScoreModel 11, ScoreSeq 2) the false
	// alarm of round 9 is gone: the false alarms allowed in all and
	// look-alikes go back 1 → 0.
	time.Minute: {
		0:             {38, 20, 0}, // round 13: realistic background, then top-ups (simulator changes) (was 27, 0); 13c+e+f: false alarms 4 -> 3; round 14 (ResistMax, ScoreEarlyGate 4, FastNewPF): 3 -> 1; with the refit, RoomSwap: 1 -> 0
		CaseLookAlike: {24, 9, 0},  // round 13: realistic background, then top-ups (was 16, 0); 13c+e+f: false alarms 3 -> 2; round 14: 2 -> 1 -> 0
		CaseTwoBikes:  {6, 4, 0},
		CasePartial:   {13, 8, 0},  // round 13: top-ups are partial charges (was 7, 6)
		CaseKW:        {28, 12, 0}, // round 13: realistic background, then top-ups (was 17)
	},
	// At 5 min the pins of e39e93b (all 5, look-alikes 1, kW 1, lowered
	// there from 6, 2 and 2 by the short-stretch variance floor) are back
	// above their earlier values: the floor became a pooling
	// (RiseVarShrink) and the fast path waits for four readings quiet
	// beyond chance (FastZ) instead of six. The sixth round lowered
	// three by one (all 16 → 15, look-alikes 9 → 8, kW 10 → 9) for the
	// wait of an unknown step's fast confirmation at 5-min readings
	// (FastNewReadings 8: 40 min, where it was the fast test's own 20),
	// which took the tuning set's 5-min false alarms 13 → 12 for one
	// session more and the second look's 16 → 14 for one fewer: the
	// session lost here (a look-alike and kW one) was confirmed fast at
	// 20 minutes without the wait; with it, a down-edge of its size (a
	// load of the same size going off) ended its step, in both cores,
	// before 40 ("lost on the plateau: switched off" in the miss table).
	// The split (SplitMin) changed nothing here at 5 min. The seventh
	// round raised the three by one again (all 15 → 16, look-alikes 8 → 9,
	// kW 9 → 10): a charger that came on in the reading of a kW load is
	// followed (BigMax 17, BigVeto 103). The ninth round raised them
	// again (all 16 → 18, look-alikes 9 → 10, kW 10 → 12): the taper
	// that declined, at 5-min readings (TaperFallT5, TaperFallNoise5,
	// VerdictSE, TaperRiseT5) and at all (TaperFallNoise, TaperWait).
	// TaperFallT5 is for the active power's detector only: in the
	// non-active one it made a false alarm here (4243, b0001-101: an
	// inverter air conditioner modulating down under a washer's and a
	// television's var step, noise 7.4%). The learned score (ScoreMinLong
	// 0.85) alone raised all 16 → 17 and look-alikes 9 → 10; with both,
	// all 19 and look-alikes 11. The drop-time score (round 9d) adds
	// nothing here at 5 min on top of them. Round 11 raised the false
	// alarms allowed in all and look-alikes 0 → 1 for PairScore 0.3 (a
	// step the learned score finds charger-like outlives a down-edge of
	// its size), which with RoomScore found 50 sessions more at 5 min for
	// 7 false alarms more on the tuning seeds' four looks: here the score
	// confirms, after 5 h 45 min, a 307 W step (the band's top) of a
	// charger-free day (4243, b0003-102), noise 1.4%, flat (rise t 0.2).
	// Later in round 11 the gradient-boosted trees took over the score
	// (ScoreModel 11: confirmation at both intervals, drop at 5 min), with
	// a sequence of windows (ScoreSeq 2), after the followed taper
	// (Taper5N): on the four looks at 5 min 2,522/95 → 2,590/80 sessions /
	// false alarms, with the false alarm here gone (allowed 1 → 0 in all
	// and look-alikes). But the trees' confirmation model at 5 min (its
	// veto of the fast and memory paths, ScoreTreeVetoMin 0.4, on the
	// trees' scale) loses two sessions here: all 19 → 17, look-alikes
	// 11 → 10, partial 4 → 3, kW 12 → 11 (ScoreModel 9, the logistic's
	// confirmation at 5 min, keeps 19 with the false alarm; a veto at 0.25
	// keeps 18, but on the four looks adds 13 false alarms for 7 sessions).
	// Round 12c raised all 17 → 19, look-alikes 10 → 12, kW 11 → 13: one
	// each from the lower edge threshold (EdgeK 3) and from a step whose
	// power stays after a down-edge of its size (StayKeep, 5 min).
	// Round 13f lowered all 12 → 11, look-alikes 8 → 7, kW 10 → 9 and the
	// false alarms allowed in all and look-alikes 2 → 1 for OwnRatioLong
	// 0.5 (a down-edge whose var per watt is another load's does not end a
	// step; four looks at 5 min +55 sessions, -1 false alarm): the steps
	// it keeps fill the slots, and a charge's step is dropped for "no
	// room" and its taper never followed; the fast false alarm here
	// (fan+fridge, b0001-401) is gone.
	// Round 13 merged lowers nothing against its parts but the fifth
	// slot's: five slots at 5 min gave all 14, look-alikes 8, partial 4, kW
	// 11 here, but on the tuning looks with 13c and 13f failed the keep
	// rule on L2 (-3 sessions / +7 false alarms), so CandsLong is 4.
	// Round 26 lowered all 15 -> 14, partial 4 -> 3, kW 11 -> 10 for
	// FastDip 0.85 (the fast path refuses an unknown step with nothing
	// under it once a reading fell under 0.85 of its level): one partial
	// charge over a kilowatt load dipped and nothing else confirmed it;
	// on the pools at 5 min it removed 38 false alarms for 9 sessions
	// (wide -3/-18, cities 225-256 -5/-15, 289-320 -1/-5).
	5 * time.Minute: {
		0:             {38, 14, 1}, // round 13: realistic background, then top-ups (simulator changes) (was 19, 0); 13c+e+f: false alarms 2 -> 1 (14 with five slots at 5 min, CandsLong); round 14 (refit, RoomSwapLong, RoomOldLong): 12 -> 14; round 24 (the young steps' 5-min forest, ScoreYoungMinLong): 14 -> 15; round 26 (FastDip 0.85): 15 -> 14
		CaseLookAlike: {24, 9, 1},  // round 13: realistic background, then top-ups (was 12, 0); 13c+e+f: false alarms 2 -> 1 (8 with five slots); round 14: 7 -> 9
		CaseTwoBikes:  {6, 1, 0},   // round 13: realistic background, then top-ups (was 1)
		CasePartial:   {13, 3, 0},  // round 13: top-ups are partial charges (was 7, 3); 13c+e+f: 2 -> 3 (4 with five slots); round 14: 3 -> 4; round 26 (FastDip 0.85): 4 -> 3
		CaseKW:        {28, 10, 0}, // round 13: realistic background, then top-ups (was 13) (11 with five slots); round 14: 10 -> 11; round 26 (FastDip 0.85): 11 -> 10
	},
}

// endPin is the most alerts of detected sessions (all cases) that may end
// more than the grace after their session ended (Figures.Outlived) or stay
// open at the span's end (Figures.StillOpen, a session that ended half an
// hour before it at least). Lower a pin when the detector improves; a rise
// fails the test. A rise that comes with more sessions detected may be
// worth it: say so where the pin is raised.
type endPin struct{ outlived, stillOpen int }

// regressionEndPins are the alert-end figures of the Regression set,
// per reading interval, all cases together: from the measurement's
// first run (detector of round 17).
var regressionEndPins = map[time.Duration]endPin{
	time.Minute:     {2, 0}, // +85 and +152 min past the unplug
	5 * time.Minute: {1, 0}, // +85 min
}

// startPin is the start-estimate figures of the Regression set's detected
// sessions (all cases): at least near of them within StartNear of the
// session's start, at most early and late more than Grace off. Raise near
// or lower early or late when the detector improves; the reverse fails the
// test (say where a pin is eased why it is worth it).
type startPin struct{ near, early, late int }

// regressionStartPins: from the measurement's first run (round 21b,
// detector of round 20): 1 min n 20, p50 +1 min; 5 min n 14, p50 -2 min.
var regressionStartPins = map[time.Duration]startPin{
	time.Minute:     {11, 3, 5}, // round 28 (FloorKeep 0.5 at 30-90 s): early 2 -> 3, an older load's step kept on a charger's power and confirmed in its place (FloorKeep's known flaw; on 32 new cities the rule gained 18 sessions for 8 false alarms fewer) (round 35c's RoomDup 0.1 at 1 min moved it 3 -> 4 and round 35's second look turned RoomDup off again: 3)
	5 * time.Minute: {5, 4, 3},  // round 24 (the young steps' 5-min forest): near 4 -> 5
}

// TestRegression runs the detector over a small fixed scenario that holds
// every hard case and checks the figures per case against their pins.
func TestRegression(t *testing.T) {
	res, err := Evaluate(context.Background(), Options{Set: Regression, Intervals: []time.Duration{time.Minute, 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	for iv, pins := range regressionPins {
		for c, want := range pins {
			f := res.Figures(iv, c)
			name := fmtInterval(iv) + " " + caseName(c)
			if f.Sessions != want.sessions {
				t.Errorf("%s: %d sessions, the scenario has %d (did the simulator change?)", name, f.Sessions, want.sessions)
			}
			if f.Sessions == 0 {
				t.Errorf("%s: the regression scenario lacks this hard case", name)
			}
			if f.Detected < want.detected {
				t.Errorf("%s: %d sessions detected, pinned at least %d", name, f.Detected, want.detected)
			}
			if f.FalseAlarms > want.falseAlarms {
				t.Errorf("%s: %d false alarms, pinned at most %d", name, f.FalseAlarms, want.falseAlarms)
			}
			if f.Detected > want.detected || f.FalseAlarms < want.falseAlarms {
				t.Logf("%s improved: %d detected (pin %d), %d false alarms (pin %d): raise the pin", name, f.Detected, want.detected, f.FalseAlarms, want.falseAlarms)
			}
		}
	}
	// DrawEnd (cases.go, label): the charger's stop, within the session;
	// before the unplug for the bikes left to float after full
	for iv, outs := range res.Runs {
		full := 0
		for _, o := range outs {
			for _, e := range o.Episodes {
				if e.DrawEnd <= e.Start || e.DrawEnd > e.End {
					t.Errorf("%s: session %s %d-%d: DrawEnd %d not in (Start, End]", fmtInterval(iv), e.Unit, e.Start, e.End, e.DrawEnd)
				}
				if e.DrawEnd < e.End {
					full++
				}
			}
		}
		if full == 0 {
			t.Errorf("%s: no session whose charger stopped before the unplug", fmtInterval(iv))
		}
	}
	for iv, want := range regressionEndPins {
		f := res.Figures(iv, 0)
		name := fmtInterval(iv) + " all"
		if f.Outlived > want.outlived || f.StillOpen > want.stillOpen {
			t.Errorf("%s: %d alerts outlived their session by more than %s and %d still open at the end, pinned at most %d and %d",
				name, f.Outlived, Grace, f.StillOpen, want.outlived, want.stillOpen)
		}
		if f.Outlived < want.outlived || f.StillOpen < want.stillOpen {
			t.Logf("%s alert ends improved: %d outlived (pin %d), %d still open (pin %d): lower the pin", name, f.Outlived, want.outlived, f.StillOpen, want.stillOpen)
		}
	}
	for iv, want := range regressionStartPins {
		f := res.Figures(iv, 0)
		name := fmtInterval(iv) + " all"
		near, early, late := f.StartCounts()
		if near < want.near || early > want.early || late > want.late {
			t.Errorf("%s: start estimates %d within %s, %d more than %s early, %d late; pinned at least %d, at most %d and %d",
				name, near, StartNear, early, Grace, late, want.near, want.early, want.late)
		}
		if near > want.near || early < want.early || late < want.late {
			t.Logf("%s start estimates improved: %d within %s (pin %d), %d early (pin %d), %d late (pin %d): move the pin", name, near, StartNear, want.near, early, want.early, late, want.late)
		}
	}
	// every alert in scope overlaps a session, or is a false alarm on a
	// charger-free day, or overlaps none on a day with charging
	for iv := range res.Runs {
		for _, c := range caseRows {
			if f := res.Figures(iv, c); f.Alerts != f.TruePos+f.FalseAlarms+f.FalseCharging {
				t.Errorf("%s %s: %d alerts, %d true + %d false alarms + %d on charging days", fmtInterval(iv), caseName(c), f.Alerts, f.TruePos, f.FalseAlarms, f.FalseCharging)
			}
		}
	}
	var b strings.Builder
	WriteReport(&b, res)
	t.Log("\n" + b.String())
}

// TestWholeDaysOnly checks that the warm-up day is not scored and that the
// unit-days count whole days of every unit.
func TestWholeDaysOnly(t *testing.T) {
	s := Spec{Seed: 5, Start: day(2026, 3, 2), Days: 2, Interval: 5 * time.Minute, Buildings: 2, Units: 10, Indoor: 0.5, TwoBikes: 0.3}
	o, err := runCity(context.Background(), s, Physics(detect.DefaultPhysicsParams()), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Units) != 20 {
		t.Fatalf("%d units", len(o.Units))
	}
	for _, u := range o.Units {
		if len(u.Days) != 2 || simtime.DayStart(u.Days[0].Day) != s.Start.UnixMilli() {
			t.Fatalf("unit %s days %+v", u.Unit, u.Days)
		}
	}
	for _, e := range o.Episodes {
		if e.Scored != (e.Start >= o.From && e.Start < o.To-simtime.Hour) {
			t.Errorf("episode %+v scored %v", e, e.Scored)
		}
	}
}

func TestMatchAndScore(t *testing.T) {
	h := simtime.Hour
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(d int64, hours float64) int64 { return simtime.At(d0+d, hours) }
	o := &Outcome{
		From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
		Units: []UnitDays{
			{Unit: "a", Days: []DayTags{{Day: d0, Charging: true}, {Day: d0 + 1}}},
			{Unit: "b", Days: []DayTags{{Day: d0, Cases: CaseLookAlike}, {Day: d0 + 1, Charging: true, Cases: CaseTwoBikes}}},
		},
		Episodes: []Episode{
			{Unit: "a", Start: at(0, 20), End: at(0, 20) + 5*h, Scored: true},                      // detected 12 min in
			{Unit: "b", Start: at(1, 20), End: at(1, 20) + 3*h, Scored: true, Cases: CaseTwoBikes}, // missed
		},
		Alerts: []Alert{
			{Unit: "a", Fired: at(0, 20.2), Resolved: at(0, 23)},   // true
			{Unit: "a", Fired: at(1, 10), Resolved: at(1, 11)},     // false, charger-free day
			{Unit: "b", Fired: at(0, 19), Resolved: at(0, 22)},     // false, on a look-alike day
			{Unit: "b", Fired: at(1, 23.5), Resolved: at(1, 23.9)}, // after the session: false, but on a charging day
		},
	}
	f := Score(o, 0)
	if f.Sessions != 2 || f.Detected != 1 || f.Alerts != 4 || f.TruePos != 1 || f.FalseAlarms != 2 || f.FalseCharging != 1 || f.UnitDays != 4 || f.FreeDays != 2 {
		t.Errorf("figures %+v", f)
	}
	if len(f.TTD) != 1 || f.TTD[0] != 12*simtime.Minute {
		t.Errorf("TTD %v", f.TTD)
	}
	la := Score(o, CaseLookAlike)
	if la.Sessions != 0 || la.Alerts != 1 || la.FalseAlarms != 1 || la.UnitDays != 1 || la.FreeDays != 1 {
		t.Errorf("look-alike figures %+v", la)
	}
	tb := Score(o, CaseTwoBikes)
	if tb.Sessions != 1 || tb.Detected != 0 || tb.Alerts != 1 || tb.TruePos != 0 || tb.FalseAlarms != 0 || tb.FalseCharging != 1 {
		t.Errorf("two-bike figures %+v", tb)
	}
	// an alert already open when a session starts detects it at once
	o.Alerts = []Alert{{Unit: "b", Fired: at(1, 19)}}
	if f := Score(o, CaseTwoBikes); f.Detected != 1 || f.TTD[0] != 0 {
		t.Errorf("open alert: %+v", f)
	}
}

func TestStats(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 5e-4 }
	// Wilson 95%: 8/10 -> [0.490, 0.943]; 0/20 -> [0, 0.161]
	if p, lo, hi := Wilson(8, 10); !near(p, 0.8) || !near(lo, 0.4902) || !near(hi, 0.9433) {
		t.Errorf("Wilson(8,10) = %v %v %v", p, lo, hi)
	}
	if _, lo, hi := Wilson(0, 20); lo != 0 || !near(hi, 0.1611) {
		t.Errorf("Wilson(0,20) = %v %v", lo, hi)
	}
	// Garwood: 0 -> [0, 3.689]; 1 -> [0.0253, 5.572]; 10 -> [4.795, 18.39]
	for _, c := range []struct {
		k      int
		lo, hi float64
	}{{0, 0, 3.6889}, {1, 0.0253, 5.5716}, {10, 4.7954, 18.3904}} {
		lo, hi := PoissonCI(c.k)
		if !near(lo, c.lo) || !near(hi, c.hi) {
			t.Errorf("PoissonCI(%d) = %v %v, want %v %v", c.k, lo, hi, c.lo, c.hi)
		}
	}
	v := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if Quantile(v, 0.5) != 10 || Quantile(v, 0.9) != 18 {
		t.Errorf("quantiles %d %d", Quantile(v, 0.5), Quantile(v, 0.9))
	}
	// n = 20: ranks 6 and 15 cover 95.9%
	if lo, hi, ok := MedianCI(v); !ok || lo != 6 || hi != 15 {
		t.Errorf("median CI %d %d %v", lo, hi, ok)
	}
}

// TestPlots draws the pictures of a small run and checks they show a
// series, sessions and alerts.
func TestPlots(t *testing.T) {
	// both cities: since round 11 the first alone has no missed session
	// nor false alarm at 1 min, so only detected ones would be drawn
	res, err := Evaluate(context.Background(), Options{Set: Regression, Intervals: []time.Duration{time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := WritePlots(dir, "simulated", res.Runs[time.Minute])
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 || !slices.ContainsFunc(paths, func(p string) bool { return strings.HasSuffix(p, "-missed.svg") }) {
		t.Fatalf("only %d pictures, or none of a missed session: %v", len(paths), paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "<polyline") || !strings.HasSuffix(s, "</svg>\n") {
			t.Errorf("%s is not a picture of a series", filepath.Base(p))
		}
		if strings.Contains(filepath.Base(p), "detected") && !strings.Contains(s, "alert ") {
			t.Errorf("%s shows no alert", filepath.Base(p))
		}
	}
}

// realData finds ../shared/realdata beside the repository.
func realDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "realdata")
			if _, err := os.Stat(p); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("real traces not found at %s (CI has a copy of shared/ beside the clone)", p)
				}
				t.Skipf("real traces not found at %s", p)
			}
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatal("repository root not found")
		}
	}
}

// TestSemiSynthetic builds the semi-synthetic set from the real traces and
// pins its figures at 5-minute readings (the chargers' own sampling).
func TestSemiSynthetic(t *testing.T) {
	o, err := SemiSynthetic(realDataDir(t), 5*time.Minute, Physics(detect.DefaultPhysicsParams()), nil)
	if err != nil {
		t.Fatal(err)
	}
	// the full traces float after the charger stopped: DrawEnd before End
	stopped := 0
	for _, e := range o.Episodes {
		if e.DrawEnd <= e.Start || e.DrawEnd > e.End {
			t.Errorf("semi-synthetic session %s %d-%d: DrawEnd %d not in (Start, End]", e.Unit, e.Start, e.End, e.DrawEnd)
		}
		if e.DrawEnd < e.End {
			stopped++
		}
	}
	if stopped == 0 {
		t.Error("semi-synthetic set: no session whose charger stopped before the trace's end")
	}
	f := Score(o, 0)
	if f.Sessions != 80 || f.UnitDays != 120 || f.FreeDays != 40 {
		t.Errorf("semi-synthetic set: %d sessions, %d unit-days, %d charger-free", f.Sessions, f.UnitDays, f.FreeDays)
	}
	for _, c := range []Cases{CaseLookAlike, CaseTwoBikes, CasePartial, CaseKW} {
		if g := Score(o, c); g.Sessions == 0 {
			t.Errorf("no semi-synthetic session of case %s", c)
		}
	}
	// round 11 (the trees' score, the followed taper): 2 → 3 detected. Its
	// sequence of windows at 5 min made a false alarm here with
	// ScoreSeqHLong 2.5, not with 3 (8 sessions and 1 false alarm fewer on
	// the tuning seeds' four looks): 3 was taken. Round 12 (EdgeK 3,
	// StayKeep): 3 → 4.
	if f.Detected < 4 || f.FalseAlarms > 0 {
		t.Errorf("semi-synthetic at 5 min: %d detected (pin 4), %d false alarms (pin 0)", f.Detected, f.FalseAlarms)
	}
	if _, err := SemiSynthetic(realDataDir(t), 30*time.Second, Physics(detect.DefaultPhysicsParams()), nil); err == nil {
		t.Error("30-s readings accepted from a 1-min background")
	}
}

func TestParseSet(t *testing.T) {
	s, err := ParseSet("7,8,9")
	if err != nil || len(s.Cities) != 3 || s.Cities[2].Seed != 9 || s.Cities[1].Start.Month() != time.April {
		t.Errorf("ParseSet: %+v %v", s, err)
	}
	if _, err := ParseSet("7,x"); err == nil {
		t.Error("bad seed accepted")
	}
	for _, c := range HeldOut.Cities {
		for _, u := range Tuning.Cities {
			if c.Seed == u.Seed {
				t.Errorf("seed %d is both held out and tuned on", c.Seed)
			}
		}
	}
}
