package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/publish"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// ruleFor maps the simulator's ground-truth episode kinds onto the alert
// rule that must fire for them on the same device.
var ruleFor = map[truth.Kind]string{
	truth.Smoke:         "smoke",
	truth.Overload:      "overload",
	truth.Leakage:       "residual_current",
	truth.CableOverTemp: "over_temperature",
	truth.UnderVoltage:  "under_voltage",
	truth.Tamper:        "tamper",
	truth.LowBattery:    "low_battery",
	truth.PortOverTemp:  "port_over_temperature",
	truth.PileFault:     "pile_fault",
}

// TestScenarioAlertsReachTheAPI plays the demo city's scripted hazards
// (simulator, backfill clock) through the real broker into the real server
// and checks, episode by episode from the ground truth, that the API shows
// the alert the episode implies, on the right device; and that the smoke
// detector's test press raised no smoke alert.
func TestScenarioAlertsReachTheAPI(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	sitePath := filepath.Join(testenv.RepoRoot(), "examples", "demo-site.yaml")
	p := newServerWithSite(t, mq, inf, db, sitePath)
	p.start()
	out, err := exec.Command(binary(t), "tokens", "create", "--config", p.cfg, "--name", "test", "--person", "p-admin").CombinedOutput()
	if err != nil {
		t.Fatalf("tokens create: %v\n%s", err, out)
	}
	token := strings.TrimSpace(string(out))

	site, err := registry.LoadSite(sitePath)
	if err != nil {
		t.Fatal(err)
	}
	sc := scenario.ForSite(sitePath)
	sc.Clock, sc.Demo, sc.Seed = scenario.Backfill, true, 7
	now := time.Now().Truncate(time.Second)
	from, to := now.Add(-40*time.Minute), now
	c, err := city.New(sc, site, city.Options{Epoch: from, DemoAt: from.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	pub := publish.New(publish.Config{Broker: mq.URL, QoS: 1, InFlight: 1000})
	ctx := context.Background()
	if err := pub.Connect(ctx, c.Gateways()); err != nil {
		t.Fatal(err)
	}
	var episodes []*truth.Record
	if _, err := c.Run(ctx, city.RunOptions{From: from, To: to, Batch: 10,
		Emit:  func(m *city.Message) error { return pub.Publish(ctx, m) },
		Truth: func(r *truth.Record) error { episodes = append(episodes, r); return nil },
	}); err != nil {
		t.Fatal(err)
	}
	st := pub.Close(10 * time.Second)
	if st.Acked != st.Published {
		t.Fatalf("broker acknowledged %d of %d messages", st.Acked, st.Published)
	}

	want := map[key]*truth.Record{}
	var testPresses []string
	for _, r := range episodes {
		if r.StartMS < from.UnixMilli() || r.EndMS > to.UnixMilli()-2*60_000 {
			continue // under way before the span or still running at its end
		}
		if rule, ok := ruleFor[r.Kind]; ok {
			want[key{rule, r.Device}] = r
		}
		if r.Kind == truth.SmokeTest {
			testPresses = append(testPresses, r.Device)
		}
	}
	if len(want) < 6 {
		t.Fatalf("the demo scripted only %d checkable episodes: %v", len(want), episodes)
	}
	deadline := time.Now().Add(30 * time.Second)
	var got map[key]bool
	var body []byte
	for {
		got, body = alertsByRuleAndDevice(t, p.http, token)
		missing := 0
		for k := range want {
			if !got[k] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			for k, r := range want {
				if !got[k] {
					t.Errorf("no %s alert on %s for the %s episode %s..%s", k.rule, k.device, r.Kind, r.Start, r.End)
				}
			}
			t.Fatalf("alerts: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, d := range testPresses {
		if got[key{"smoke", d}] {
			t.Errorf("a test press of smoke detector %s raised a smoke alert", d)
		}
	}
	t.Logf("%d scripted episodes matched by alerts; %d test presses raised none", len(want), len(testPresses))
}

// key names an alert by rule and device.
type key struct{ rule, device string }

func alertsByRuleAndDevice(t *testing.T, base, token string) (map[key]bool, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/alerts?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/alerts: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Alerts []struct {
			Rule     string
			Sources  []string
			Location struct{ Device string }
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	got := map[key]bool{}
	for _, a := range list.Alerts {
		got[key{a.Rule, a.Location.Device}] = true
		for _, s := range a.Sources {
			got[key{a.Rule, s}] = true
		}
	}
	return got, body
}

// newServerWithSite is newServer with a given site file.
func newServerWithSite(t *testing.T, mq *testenv.Mosquitto, inf *testenv.Influx, db, site string) *proc {
	t.Helper()
	b, err := os.ReadFile(site)
	if err != nil {
		t.Fatal(err)
	}
	p := newServer(t, mq, inf, db)
	dir := filepath.Dir(p.cfg)
	siteCopy := filepath.Join(dir, "demo-site.yaml")
	os.WriteFile(siteCopy, b, 0o644)
	reg := filepath.Join(dir, "registry.db")
	if out, err := exec.Command(binary(t), "devices", "import", "--db", reg, siteCopy).CombinedOutput(); err != nil {
		t.Fatalf("import %s: %v\n%s", site, err, out)
	}
	return p
}
