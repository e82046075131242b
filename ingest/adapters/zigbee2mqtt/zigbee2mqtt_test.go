package zigbee2mqtt

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/adaptertest"
)

func smoke(string) devices.Kind { return devices.KindSmoke }

var accounts = map[string]Config{
	"testdata/cases": {Devices: map[string]string{
		"livingroomsmokedetector":  "smk-dt-01-102",
		"Smoke":                    "smk-dt-01-201",
		"0x00158d000202eff6":       "smk-dt-01-301",
		"0x00158d0002527271":       "smk-dt-02-101",
		"0x00158d0003467624":       "smk-dt-02-102",
		"Schlafzimmer Rauchmelder": "smk-dt-02-201",
		"sens_smoke1":              "smk-dt-03-201",
		"0x0015bc00310095bd":       "smk-dt-03-301",
	}},
	"testdata/cases-zigbee": {BaseTopic: "zigbee", Devices: map[string]string{"smoke_detector": "smk-dt-03-101"}},
	"testdata/cases-base":   {BaseTopic: "base", Devices: map[string]string{"livingroom/door": "smk-my-01-101"}},
}

func newAdapter(t testing.TB, dir string) func() adapters.Adapter {
	return adaptertest.Maker(t, New, "gw-dt-01", accounts[dir])
}

func TestCases(t *testing.T) {
	for dir := range accounts {
		t.Run(dir, func(t *testing.T) { adaptertest.Run(t, dir, newAdapter(t, dir), smoke) })
	}
}

func FuzzMap(f *testing.F) {
	adaptertest.Fuzz(f, "testdata/cases", newAdapter(f, "testdata/cases"), smoke)
}

// TestTransitions: a detector's levels become events on each change only,
// in the order smoke, tamper, battery_low, trouble, test.
func TestTransitions(t *testing.T) {
	a := newAdapter(t, "testdata/cases")()
	var got []string
	for _, p := range []string{
		`{"smoke":false,"tamper":false,"battery_low":false}`, // quiet start: no events
		`{"smoke":true,"tamper":false,"battery_low":false}`,  // alarm
		`{"smoke":true,"tamper":true,"battery_low":false}`,   // still smoke: only tamper
		`{"smoke":false,"tamper":false,"battery_low":true,"test":true}`,
		`{"smoke":false,"tamper":false,"battery_low":true,"test":false}`,
	} {
		out := adaptertest.Render(t, a, smoke, "zigbee2mqtt/Smoke", []byte(p), adaptertest.DefaultNow)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(l, "/event ") {
				for _, m := range eventType.FindAllStringSubmatch(l, -1) {
					got = append(got, m[1])
				}
			}
		}
	}
	want := "smoke_alarm tamper smoke_clear tamper_clear low_battery self_test"
	if strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

var eventType = regexp.MustCompile(`"type":"([a-z_]+)"`)

func TestValidate(t *testing.T) {
	c := Config{BaseTopic: "z2m/", Devices: map[string]string{"bridge": "smk-1", "a/availability": "smk-2", "ok": "NOT OK"}}
	got := strings.Join(c.Validate(), "\n")
	for _, want := range []string{`base_topic "z2m/"`, `friendly name "bridge"`, `friendly name "a/availability"`, `"NOT OK", which is not a valid device id`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestLastSeen(t *testing.T) {
	a := newAdapter(t, "testdata/cases")()
	for p, want := range map[string]string{
		`{"smoke":false,"last_seen":"2022-10-27T11:17:41+02:00"}`: `"ts":1666862261000`,
		`{"smoke":false,"last_seen":1666862261123}`:               `"ts":1666862261123`,
		`{"smoke":false,"last_seen":"yesterday"}`:                 `"ts":1767225600000`,
	} {
		if out := adaptertest.Render(t, a, smoke, "zigbee2mqtt/Smoke", []byte(p), adaptertest.DefaultNow); !strings.Contains(out, want) {
			t.Errorf("%s: %s, want %s", p, out, want)
		}
	}
}
