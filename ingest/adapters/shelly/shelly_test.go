package shelly

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/adaptertest"
)

func plug(string) devices.Kind { return devices.KindPlug }

var accounts = map[string]Config{
	"testdata/cases": {Devices: map[string]Switches{
		"shellyplusplugs-80646fd031f8": {0: "plug-hn-01-101"},
		"shellyplusplugs-3ce90e304de4": {0: "plug-hn-01-102"},
	}},
	"testdata/cases-mini":   {Devices: map[string]Switches{"ShellyLichtGarten": {0: "plug-hn-02-101"}}},
	"testdata/cases-pro4pm": {Devices: map[string]Switches{"shellypro4pm-xxxx": {0: "plug-hn-03-101", 1: "plug-hn-03-102"}}},
}

func newAdapter(t testing.TB, dir string) func() adapters.Adapter {
	return adaptertest.Maker(t, New, "gw-hn-01", accounts[dir])
}

func TestCases(t *testing.T) {
	for dir := range accounts {
		t.Run(dir, func(t *testing.T) { adaptertest.Run(t, dir, newAdapter(t, dir), plug) })
	}
}

func FuzzMap(f *testing.F) {
	adaptertest.Fuzz(f, "testdata/cases", newAdapter(f, "testdata/cases"), plug)
}

func TestConfigYAML(t *testing.T) {
	var c Config
	err := yaml.Unmarshal([]byte("devices:\n  shellyplusplugs-1: plug-1\n  shellypro4pm-2: {\"switch:0\": plug-2, \"switch:3\": plug-3}\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Devices["shellyplusplugs-1"][0] != "plug-1" || c.Devices["shellypro4pm-2"][3] != "plug-3" {
		t.Fatalf("%+v", c)
	}
	a, err := New("gw-1", c)
	if err != nil {
		t.Fatal(err)
	}
	want := "shellyplusplugs-1/status/switch:0 shellyplusplugs-1/events/rpc shellyplusplugs-1/online shellypro4pm-2/status/switch:0 shellypro4pm-2/status/switch:3 shellypro4pm-2/events/rpc shellypro4pm-2/online"
	if got := strings.Join(a.Filters(), " "); got != want {
		t.Errorf("filters:\n%s\nwant\n%s", got, want)
	}
	if err := yaml.Unmarshal([]byte("devices:\n  x: {relay0: plug-2}\n"), &c); err == nil || !strings.Contains(err.Error(), "name a switch switch:0") {
		t.Errorf("bad switch name: %v", err)
	}
	bad := Config{Devices: map[string]Switches{"a/+": {0: "Plug"}}}
	if p := strings.Join(bad.Validate(), "\n"); !strings.Contains(p, "must not be empty, contain + or #") || !strings.Contains(p, `"Plug", which is not a valid device id`) {
		t.Errorf("problems: %s", p)
	}
}

// TestErrorsBecomeEvents: an overpower error raises fault and one overload
// event, which is not repeated while the error stays; it clears with the
// error.
func TestErrorsBecomeEvents(t *testing.T) {
	a, _ := New("gw-1", Config{Devices: map[string]Switches{"s1": {0: "plug-1"}}})
	msg := func(errs string) string {
		return adaptertest.Render(t, a, plug, "s1/status/switch:0", []byte(`{"id":0,"output":false,"apower":0`+errs+`}`), adaptertest.DefaultNow)
	}
	got := msg(`,"errors":["overpower"]`) + msg(`,"errors":["overpower"]`) + msg("")
	want := "cw/v1/gw-1/plug-1/telemetry {\"ts\":1767225600000,\"seq\":1,\"seq_reset\":true,\"power_w\":0,\"fault\":true,\"relay_on\":false}\n" +
		"cw/v1/gw-1/plug-1/event {\"ts\":1767225600000,\"seq\":2,\"type\":\"overload\",\"detail\":\"shelly error: overpower\"}\n" +
		"cw/v1/gw-1/plug-1/telemetry {\"ts\":1767225600000,\"seq\":3,\"power_w\":0,\"fault\":true,\"relay_on\":false}\n" +
		"cw/v1/gw-1/plug-1/telemetry {\"ts\":1767225600000,\"seq\":4,\"power_w\":0,\"fault\":false,\"relay_on\":false}\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
