package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// TestSecretsNeverLeak runs every real notifier against receivers that
// fail and echo back everything they were sent (URL, headers, body), then
// against a receiver that is gone, and checks that no secret appears in
// the logs, the receipts, the errors, the metrics or the printed config
// and dispatcher.
func TestSecretsNeverLeak(t *testing.T) {
	secrets := map[string]string{
		"webhook":   "whsec-4f1d8e0c-webhook",
		"wecom":     "wecomkey-9b2a-77c1",
		"regkey":    "regkey-in-the-registry-5e3f", // a robot key written in the registry's address
		"dt_token":  "dt-access-token-0c8d",
		"dt_secret": "SECdingtalk-signing-3a71",
		"sms_key":   "smsapikey-66ae",
		"sms_token": "smstoken-1d0b",
		"am_token":  "am-bearer-2b9c",
		"ack":       "ack-link-key-8e04",
	}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var hdr bytes.Buffer
		r.Header.Write(&hdr)
		all := r.Method + " " + r.URL.String() + "\n" + hdr.String() + "\n" + string(b)
		switch {
		case strings.HasPrefix(r.URL.Path, "/cgi-bin/") || strings.HasPrefix(r.URL.Path, "/robot/"):
			json.NewEncoder(w).Encode(map[string]any{"errcode": 310000, "errmsg": "refused: " + all})
		default:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, all)
		}
	}))
	defer echo.Close()
	dir := t.TempDir()
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("CW_TEST_WECOM_KEY", secrets["wecom"])
	t.Setenv("CW_TEST_DT_SECRET", secrets["dt_secret"])
	t.Setenv("CW_TEST_SMS_KEY", secrets["sms_key"])
	cfgYAML := fmt.Sprintf(`
public_url: https://cw.example.org
ack_link:
  secret_file: %[2]s
outbox:
  fallback_after: 1
  max_attempts: 2
channels:
  webhook:
    secret_file: %[3]s
    timeout: 2s
  wecom:
    robots:
      - {address: "%[1]s/cgi-bin/webhook/send", key: "env:CW_TEST_WECOM_KEY"}
  dingtalk:
    robots:
      - {address: "%[1]s/robot/send", access_token_file: %[4]s, secret: "env:CW_TEST_DT_SECRET"}
  sms:
    url: '%[1]s/sms/send?apikey={{secret "key" | urlquery}}'
    headers: {Authorization: 'Bearer {{secret "token"}}'}
    body: '{"to": {{json .Phone}}, "text": {{json .Text}}, "sig": {{json (hmacSHA256Hex (secret "key") .Phone)}}}'
    secrets: {key: "env:CW_TEST_SMS_KEY", token: "file:%[5]s"}
  alertmanager:
    urls: ["%[1]s/am"]
    bearer_token_file: %[6]s
`, echo.URL, file("ack", secrets["ack"]), file("webhook", secrets["webhook"]), file("dt", secrets["dt_token"]),
		file("sms", secrets["sms_token"]), file("am", secrets["am_token"]))
	cfg, err := ParseConfig("notifications.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	// The registry: gw3's robot has its key in the address.
	site := strings.Replace(siteYAML(echo.URL), echo.URL+"/cgi-bin/webhook/send", echo.URL+"/cgi-bin/webhook/send?key="+secrets["regkey"], 1)
	s, err := registry.ParseSite("site.yaml", []byte(site))
	if err != nil {
		t.Fatal(err)
	}
	snap := fixture.Load(t, s)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	clock := fixture.NewClock(t0)
	d, err := Open(context.Background(), filepath.Join(dir, "dispatch.db"), Options{
		Config: cfg, Registry: fixture.Registry{S: snap}, Clock: clock, Logger: log, Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := &rig{t: t, clock: clock, d: d, docs: map[int64]*alerting.Alert{}}
	for i, u := range []string{"u1", "u4"} {
		r.transition(r.alert(int64(i+1), alerting.RuleSmoke, crit, u), alerting.ActionFire)
	}
	// The ladder reaches every channel (webhooks, both robots, sms,
	// Alertmanager); every attempt fails and falls back or gives up.
	for _, at := range []time.Duration{0, 2 * time.Second, 5 * time.Minute, 5*time.Minute + 2*time.Second, 15 * time.Minute, 15*time.Minute + 2*time.Second} {
		clock.Set(t0.Add(at))
		if err := d.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	echo.Close() // and then the receivers are gone
	for _, at := range []time.Duration{20 * time.Minute, 20*time.Minute + 2*time.Second, 21 * time.Minute} {
		clock.Set(t0.Add(at))
		if err := d.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	rs, err := d.Receipts(context.Background(), ReceiptFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	channels := map[string]bool{}
	failed := 0
	for _, x := range rs {
		channels[x.Channel] = true
		if x.LastError != "" {
			failed++
		}
	}
	if len(channels) != 5 || failed < 10 {
		t.Fatalf("the test did not exercise every channel's failures: channels %v, %d errors", channels, failed)
	}
	rj, _ := json.Marshal(rs)
	var metrics bytes.Buffer
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		expfmt.MetricFamilyToText(&metrics, mf)
	}
	ch := cfg.Channels
	places := map[string]string{
		"logs":       logs.String(),
		"receipts":   string(rj),
		"metrics":    metrics.String(),
		"config":     fmt.Sprintf("%+v %+v %+v %+v %+v %+v", cfg, *ch.Webhook, *ch.WeCom, *ch.DingTalk, *ch.SMS, *ch.Alertmanager),
		"dispatcher": fmt.Sprintf("%+v %#v", d, d.notifiers),
	}
	for where, text := range places {
		for name, s := range secrets {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Errorf("%s shows the %s secret: ...%s...", where, name, text[max(0, i-200):min(len(text), i+100)])
			}
		}
	}
	if !strings.Contains(logs.String(), "falling back") || !strings.Contains(string(rj), "errcode 310000") {
		t.Errorf("expected failures not logged or recorded:\n%s", logs.String())
	}
}
