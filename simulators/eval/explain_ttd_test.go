package eval

import (
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// TestExplainTTDByPath: the time to detect of each detected session is
// kept under the path of the alert that detected it (its first), with the
// age of that alert's step; the printout has a row per path and one for
// all.
func TestExplainTTDByPath(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	mn := int64(60000)
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1),
		Units: []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}}}, {Unit: "v", Days: []DayTags{{Day: d0, Charging: true}}}},
		Episodes: []Episode{
			{Unit: "u", Start: at(10), End: at(14), Scored: true, Alert: -1},
			{Unit: "v", Start: at(10), End: at(14), Scored: true, Alert: -1},
			{Unit: "v", Start: at(20), End: at(23), Scored: false, Alert: -1}, // not scored: not counted
		},
		Alerts: []Alert{
			// the step began a minute after the plug-in, confirmed 10 min later
			{Unit: "u", Start: at(10) + mn, Fired: at(10) + 11*mn, Resolved: at(14), Why: "fast, known charger after 10m0s: step 130 W"},
			{Unit: "v", Start: at(10), Fired: at(10) + 95*mn, Resolved: at(14), Why: "rise (var) after 1h35m0s: step 200 var"},
			{Unit: "v", Start: at(20), Fired: at(20) + 20*mn, Resolved: at(23), Why: "score after 20m0s"},
		},
	}
	ex := newTracer().explain(o, detect.DefaultPhysicsParams())
	if got := ex.TTD["fast, known charger"]; len(got) != 1 || got[0] != 11*mn || ex.Age["fast, known charger"][0] != 10*mn {
		t.Errorf("fast, known charger: TTD %v age %v, want [11 min] [10 min]", got, ex.Age["fast, known charger"])
	}
	if got := ex.TTD["rise (var)"]; len(got) != 1 || got[0] != 95*mn {
		t.Errorf("rise (var): TTD %v, want [95 min]", got)
	}
	if len(ex.TTD) != 2 {
		t.Errorf("paths %v, want 2 (the unscored session left out)", ex.TTD)
	}
	var b strings.Builder
	writeTTDByPath(&b, time.Minute, ex.TTD, ex.Age)
	out := b.String()
	for _, want := range []string{"TIME TO DETECT BY PATH, readings every 1min", "  11   11   11     10   10   10       1  fast, known charger\n",
		"  95   95   95     95   95   95       0  rise (var)\n", "  11   11   95     10   10   95       1  all\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("printout lacks %q:\n%s", want, out)
		}
	}
}
