package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
)

// TestChargingEvidenceConfidence: with the physics model, the alert of a
// charge carries the detector's confidence and how it confirmed the charge
// in its evidence, as stored (and served by the API).
func TestChargingEvidenceConfidence(t *testing.T) {
	r := newRig(t, nil)
	r.model = detect.PhysicsModel
	r.crash()
	r.open()
	for m := time.Duration(0); m < 90*time.Minute; m += time.Minute {
		w := 40.0
		if m >= 10*time.Minute {
			w = 150
		}
		r.read("m1", m, devices.FieldPower, w, devices.FieldCurrent, w/230, devices.FieldVoltage, 230.0)
	}
	r.commit("x")
	as := r.alerts(store.Filter{})
	if got := brief(as); !slices.Equal(got, []string{"indoor_charging/u1 firing"}) {
		t.Fatalf("alerts %q", got)
	}
	ev := as[0].Evidence
	if len(ev) == 0 || ev[0].Values["confidence"] != 0.85 || ev[0].Code != "fast" || ev[0].Values["step_w"] != 110 {
		t.Errorf("evidence %+v, want confidence 0.85, path fast, step 110 W first", ev)
	}
}
