package alertmanager

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/notify/alertmanager/amtest"
)

var t0 = time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)

func smoke(state alerting.State) notify.Alert {
	a := notify.Alert{Alert: alerting.Alert{
		ID: 17, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical, State: state, Place: "sd-1", PlaceKind: alerting.PlaceDevice,
		Location:  alerting.Location{District: "d-gs", Street: "st-msx", Community: "c-dt", Building: "b-dt-01", Unit: "u-302", Device: "sd-1", Kind: "smoke"},
		StartedAt: t0.UnixMilli(), FiredAt: t0.UnixMilli(),
	}, Names: notify.Names{District: "拱墅区", Street: "米市巷街道", Community: "大塘巷社区", Building: "大塘新村1幢", Room: "302"},
		URL: "https://cw.example.org/alerts/17"}
	if state == alerting.StateResolved {
		a.ResolvedAt = t0.Add(10 * time.Minute).UnixMilli()
	}
	return a
}

func TestPostableAlerts(t *testing.T) {
	got := make(chan []byte, 4)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "cw" || p != "am-password-1" {
			t.Errorf("basic auth %q %q", u, p)
		}
		b, _ := io.ReadAll(r.Body)
		got <- b
	})
	a1, a2 := httptest.NewServer(h), httptest.NewServer(h)
	defer a1.Close()
	defer a2.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("am-password-1"), 0o600)
	n, err := New(&Config{URLs: []string{a1.URL, a2.URL + "/"}, ResendInterval: time.Minute, Labels: map[string]string{"env": "test"},
		BasicAuth: &BasicAuth{Username: "cw", PasswordFile: pw}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(5 * time.Minute)
	n.now = func() time.Time { return now }
	m := &notify.Message{Kind: notify.KindForward, Locale: "zh", Alerts: []notify.Alert{smoke(alerting.StateFiring)}}
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for range 2 { // both Alertmanagers of the pair
		var as []map[string]any
		if err := json.Unmarshal(<-got, &as); err != nil || len(as) != 1 {
			t.Fatalf("body: %v %v", as, err)
		}
		a := as[0]
		keys := []string{}
		for k := range a {
			keys = append(keys, k)
		}
		if len(a) != 5 {
			t.Errorf("postableAlert keys %v, want labels, annotations, startsAt, endsAt, generatorURL", keys)
		}
		labels := a["labels"].(map[string]any)
		for k, v := range map[string]string{"alertname": "smoke", "severity": "critical", "alert_id": "17", "place": "sd-1",
			"district": "d-gs", "street": "st-msx", "community": "c-dt", "building": "b-dt-01", "unit": "u-302", "device": "sd-1",
			"source": "chargewatch", "env": "test"} {
			if labels[k] != v {
				t.Errorf("label %s = %v, want %s", k, labels[k], v)
			}
		}
		ann := a["annotations"].(map[string]any)
		if ann["hazard"] != "烟感报警" || ann["state"] != "firing" || !strings.Contains(ann["summary"].(string), "烟感报警") ||
			!strings.Contains(ann["description"].(string), "大塘新村1幢") || ann["place"] != "拱墅区 米市巷街道 大塘巷社区 大塘新村1幢 302室" {
			t.Errorf("annotations %v", ann)
		}
		if a["startsAt"] != "2026-01-05T14:00:00.000Z" || a["endsAt"] != "2026-01-05T14:09:00.000Z" || a["generatorURL"] != "https://cw.example.org/alerts/17" {
			t.Errorf("times/url %v %v %v", a["startsAt"], a["endsAt"], a["generatorURL"])
		}
	}
	// Resolved: endsAt is the resolution.
	m.Alerts[0] = smoke(alerting.StateResolved)
	n.Notify(context.Background(), m)
	for range 2 {
		var as []PostableAlert
		json.Unmarshal(<-got, &as)
		if as[0].EndsAt != "2026-01-05T14:10:00.000Z" {
			t.Errorf("resolved endsAt %s", as[0].EndsAt)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{}, "give at least one"},
		{Config{URLs: []string{"nope"}}, "not an http(s) base URL"},
		{Config{URLs: []string{"http://x"}, Labels: map[string]string{"severity": "x"}}, "set by chargewatch"},
		{Config{URLs: []string{"http://x"}, Labels: map[string]string{"bad-name": "x"}}, "not a valid label name"},
	} {
		if err := c.c.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.c, err, c.want)
		}
	}
}

// TestRealAlertmanagerAcceptsAlerts posts to a real Alertmanager and reads
// the alert back through its API; the resolved post removes it.
func TestRealAlertmanagerAcceptsAlerts(t *testing.T) {
	am := amtest.Start(t, time.Minute)
	n, err := New(&Config{URLs: []string{am.URL}, ResendInterval: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := smoke(alerting.StateFiring)
	a.FiredAt = time.Now().Add(-time.Minute).UnixMilli()
	a.StartedAt = a.FiredAt
	if err := n.Notify(ctx, &notify.Message{Kind: notify.KindForward, Locale: "en", Alerts: []notify.Alert{a}}); err != nil {
		t.Fatal(err)
	}
	got, err := am.Find(ctx, "17")
	if err != nil || got == nil {
		t.Fatalf("alert not in Alertmanager: %v", err)
	}
	if got.Labels["alertname"] != "smoke" || got.Labels["building"] != "b-dt-01" || got.Annotations["hazard"] != "SMOKE ALARM" ||
		got.GeneratorURL != "https://cw.example.org/alerts/17" || got.Status.State != "active" {
		t.Errorf("alert %+v", got)
	}
	a.State, a.ResolvedAt = alerting.StateResolved, time.Now().Add(-time.Second).UnixMilli()
	if err := n.Notify(ctx, &notify.Message{Kind: notify.KindForward, Locale: "en", Alerts: []notify.Alert{a}}); err != nil {
		t.Fatal(err)
	}
	if got, err := am.Find(ctx, "17"); err != nil || got != nil {
		t.Errorf("resolved alert still listed: %+v %v", got, err)
	}
}
