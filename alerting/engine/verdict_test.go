package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
)

// TestFalseAlarmVerdictTeaches: a 150 W lamp on for four hours every
// evening raises an indoor-charging alert on meter m1 (the detector alone
// raises one every evening: a flat step that holds); a grid worker closes it as a
// false alarm, the engine restarts, and the same lamp the next evening
// raises no alert, because the detector was told that a load of that size
// is no charger and the lamp shows no charge curve. Closed as referred, or
// with verdicts off (the default model unless the configuration sets
// learn_from_false_alarms), the lamp raises a second alert.
func TestFalseAlarmVerdictTeaches(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		feedback float64 // -1: the default model, with the config's switch
		config   string  // the engine's configuration file
		outcome  alerting.Outcome
		want     []string // the alerts at the end, oldest first
		verdicts float64
	}{
		{"false alarm", 1, "", alerting.OutcomeFalseAlarm, []string{"indoor_charging/u1 closed"}, 1},
		{"referred", 1, "", alerting.OutcomeReferred, []string{"indoor_charging/u1 closed", "indoor_charging/u1 resolved"}, 0},
		{"false alarm, verdicts off", 0, "", alerting.OutcomeFalseAlarm, []string{"indoor_charging/u1 closed", "indoor_charging/u1 resolved"}, 0},
		{"false alarm, the default model", -1, "", alerting.OutcomeFalseAlarm, []string{"indoor_charging/u1 closed", "indoor_charging/u1 resolved"}, 0},
		{"false alarm, learn_from_false_alarms", -1, "learn_from_false_alarms: true\n", alerting.OutcomeFalseAlarm, []string{"indoor_charging/u1 closed"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("alerting.yaml", []byte(c.config))
			if err != nil {
				t.Fatal(err)
			}
			r := &rig{t: t, path: t.TempDir() + "/alerts.db", cfg: cfg}
			if c.feedback >= 0 {
				p := detect.DefaultPhysicsParams()
				p.Feedback = c.feedback
				r.model = detect.NewPhysicsModel(p)
			}
			base := newRig(t, nil)
			r.snap, r.clock = base.snap, base.clock
			r.open()
			lamp := func(from time.Duration) {
				for m := from; m < from+24*time.Hour; m += time.Minute {
					w := 40.0
					if m >= from+time.Hour && m < from+5*time.Hour {
						w += 150
					}
					r.read("m1", m, devices.FieldPower, w)
				}
				r.clock.Set(t0.Add(from + 24*time.Hour))
				r.commit(from.String())
			}
			lamp(0)
			as := r.alerts(store.Filter{Rules: []alerting.Rule{alerting.RuleIndoorCharging}})
			if len(as) != 1 || as[0].Rule != alerting.RuleIndoorCharging {
				t.Fatalf("first evening: alerts %q, want one indoor_charging", brief(as))
			}
			if _, err := r.e.Close(ctx, as[0].ID, "gw1", c.outcome, "a desk lamp, no e-bike in the flat"); err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(r.e.m.verdicts); got != c.verdicts {
				t.Errorf("verdicts metric %v, want %v", got, c.verdicts)
			}
			r.crash()
			r.open()
			lamp(24 * time.Hour)
			if got := brief(r.alerts(store.Filter{Rules: []alerting.Rule{alerting.RuleIndoorCharging}})); !slices.Equal(got, c.want) {
				t.Errorf("alerts %q, want %q", got, c.want)
			}
		})
	}
}
