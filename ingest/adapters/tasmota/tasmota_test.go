package tasmota

import (
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/adaptertest"
)

func plug(string) devices.Kind { return devices.KindPlug }

// accounts used by the cases: each folder of testdata holds the cases of
// one account's configuration.
var accounts = map[string]Config{
	"testdata/cases": {Devices: map[string]string{"athomspv3a": "plug-dt-01-101", "DVES_EA9716": "plug-dt-01-102"}},
	// A Shelly 2.5 on Tasmota: the plug is the first relay and channel.
	"testdata/cases-power1":    {Relay: "POWER1", Channel: 1, Devices: map[string]string{"tasmota_228C3D": "plug-dt-01-201", "Anet-E10-Power": "plug-dt-01-202"}},
	"testdata/cases-fulltopic": {FullTopic: "MyHome/Bathroom/%prefix%/%topic%/", Devices: map[string]string{"sonoff_basic_1": "plug-dt-01-301"}},
}

func newAdapter(t testing.TB, dir string) func() adapters.Adapter {
	return adaptertest.Maker(t, New, "gw-dt-01", accounts[dir])
}

func TestCases(t *testing.T) {
	for dir := range accounts {
		t.Run(dir, func(t *testing.T) { adaptertest.Run(t, dir, newAdapter(t, dir), plug) })
	}
}

func FuzzMap(f *testing.F) {
	adaptertest.Fuzz(f, "testdata/cases", newAdapter(f, "testdata/cases"), plug)
}

func TestFiltersAndACL(t *testing.T) {
	a, err := New("gw-dt-01", accounts["testdata/cases-fulltopic"])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Filters(), " "); got != "MyHome/Bathroom/tele/sonoff_basic_1/+ MyHome/Bathroom/stat/sonoff_basic_1/+" {
		t.Errorf("filters: %s", got)
	}
	c := accounts["testdata/cases-fulltopic"]
	w, r := c.ACL()
	if strings.Join(w, " ") != "MyHome/Bathroom/tele/sonoff_basic_1/# MyHome/Bathroom/stat/sonoff_basic_1/#" || strings.Join(r, " ") != "MyHome/Bathroom/cmnd/sonoff_basic_1/#" {
		t.Errorf("ACL: write %v read %v", w, r)
	}
}

func TestValidate(t *testing.T) {
	c := Config{FullTopic: "%topic%/%hostname%/", Relay: "POWER9", Channel: 9, Devices: map[string]string{"a/b": "plug-1", "ok": "Bad Id"}}
	got := strings.Join(c.Validate(), "\n")
	for _, want := range []string{"%hostname%", `relay "POWER9"`, "channel 9", `Tasmota topic "a/b"`, `"Bad Id", which is not a valid device id`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if p := (&Config{}).Validate(); len(p) != 1 || !strings.Contains(p[0], "at least one plug") {
		t.Errorf("empty config: %q", p)
	}
}
