package thingsboard

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/adaptertest"
)

// The devices of the cases and their kinds.
var kinds = map[string]devices.Kind{"efm-hn-01": devices.KindMonitor, "efm-hn-02": devices.KindMonitor, "m-hn-01": devices.KindMeter, "pile-hn-01": devices.KindPile}

func kind(d string) devices.Kind { return kinds[d] }

const accountYAML = `
fields:
  temperature: temp_c
devices:
  Device A: efm-hn-01
  Device B: efm-hn-02
  pile-1: pile-hn-01
  B1ENJ22:
    device: m-hn-01
    fields:
      PL1: power_l1_w
      PL2: power_l2_w
      PL3: power_l3_w
      L1COSFI: pf
      P_Import: {field: power_w, scale: 1000}
      Frekans: freq_hz
      AE_Import: energy_kwh
`

func config(t testing.TB) Config {
	var c Config
	if err := yaml.Unmarshal([]byte(accountYAML), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func newAdapter(t testing.TB) func() adapters.Adapter {
	return adaptertest.Maker(t, New, "gw-hn-01", config(t))
}

func TestCases(t *testing.T) { adaptertest.Run(t, "testdata/cases", newAdapter(t), kind) }

func FuzzMap(f *testing.F) { adaptertest.Fuzz(f, "testdata/cases", newAdapter(f), kind) }

func TestValidate(t *testing.T) {
	var c Config
	err := yaml.Unmarshal([]byte(`
topic_prefix: sites/+/
fields: {t: temperature, s: {field: state, scale: 2}}
devices: {"": "X", ok: {device: m-1, fields: {p: {field: power_w, scale: -1}}}}
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Validate(), "\n")
	for _, want := range []string{`topic_prefix "sites/+/"`, `"t" maps to "temperature", which is not a contract field`, `state is not a number field`, "device name is empty", `"X", which is not a valid device id`, "scale -1 must be positive"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestSplitsLargeBatches(t *testing.T) {
	a := newAdapter(t)()
	var b strings.Builder
	b.WriteString(`{"Device A":[`)
	for i := range 1200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"ts":` + "1767225" + strings.Repeat("0", 6-len(itoa(i))) + itoa(i) + `000,"values":{"temperature":20}}`)
	}
	b.WriteString(`]}`)
	ms, rej := a.Map(TelemetryTopic, []byte(b.String()), adaptertest.DefaultNow)
	if len(rej) != 0 || len(ms) != 3 || len(ms[0].Readings) != 500 || len(ms[2].Readings) != 200 {
		t.Fatalf("%d messages, %v", len(ms), rej)
	}
	if ms[2].Readings[199].Seq != 1200 {
		t.Errorf("last seq %d", ms[2].Readings[199].Seq)
	}
}

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		i /= 10
		if i == 0 {
			return s
		}
	}
}
