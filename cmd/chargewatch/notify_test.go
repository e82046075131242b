package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/alerting/notify/webhook"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

// TestSmokeAlarmNotifiesTheGridWorker: a smoke alarm published over MQTT
// reaches the on-duty grid worker's webhook, signed, naming the place; the
// personal link in it acknowledges the alert with a POST (a GET only shows
// the confirmation page).
func TestSmokeAlarmNotifiesTheGridWorker(t *testing.T) {
	const secret = "test-webhook-secret"
	got := make(chan map[string]any, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		got <- m
	}))
	defer recv.Close()

	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	p := newServer(t, mq, inf, db, "CW_TEST_WEBHOOK_SECRET="+secret)
	dir := filepath.Dir(p.cfg)
	// The grid worker of c1 is reachable on her own webhook, round the clock.
	site := strings.Replace(testSite, `contacts: [{channel: sms, address: "13800000001"}]`,
		fmt.Sprintf(`contacts: [{channel: webhook, address: "%s/wang"}]`, recv.URL), 1) +
		"rosters:\n  - {person: gw-wang, community: c1, from: \"00:00\", to: \"24:00\"}\n"
	os.WriteFile(filepath.Join(dir, "site2.yaml"), []byte(site), 0o644)
	if out, err := execCmd(binary(t), "devices", "import", "--db", filepath.Join(dir, "registry.db"), filepath.Join(dir, "site2.yaml")); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	notif := filepath.Join(dir, "notifications.yaml")
	os.WriteFile(notif, fmt.Appendf(nil, "public_url: %s\nchannels:\n  webhook:\n    secret: env:CW_TEST_WEBHOOK_SECRET\n", p.http), 0o644)
	f, _ := os.OpenFile(p.cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "alerting: {notifications: %q}\n", notif)
	f.Close()
	p.start()

	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("pub-" + db))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	ev := devices.Event{TS: time.Now().UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm}
	sent := time.Now()
	c.Publish("cw/v1/gw-t/sd-1/event", 1, false, devices.AppendEvent(nil, &ev)).WaitTimeout(5 * time.Second)
	var msg map[string]any
	select {
	case msg = <-got:
	case <-time.After(15 * time.Second):
		t.Fatalf("no webhook request after 15 s:\n%s", p.log.String())
	}
	t.Logf("smoke alarm to webhook request: %v", time.Since(sent))
	b, _ := json.Marshal(msg)
	for _, want := range []string{`"sd-1"`, "smoke", `"gw-wang"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("webhook body lacks %s: %s", want, b)
		}
	}
	link := findAckLink(msg)
	if link == "" {
		t.Fatalf("no personal acknowledgement link in %s", b)
	}
	// A link preview (GET) must not acknowledge.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(page)), "<form") {
		t.Fatalf("GET of the link: %d, want a confirmation page with a form:\n%s", resp.StatusCode, page)
	}
	resp, err = http.PostForm(link, url.Values{"confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST of the link: %d", resp.StatusCode)
	}
	out, err := execCmd(binary(t), "tokens", "create", "--config", p.cfg, "--name", "t", "--person", "gw-wang")
	if err != nil {
		t.Fatalf("tokens: %v %s", err, out)
	}
	req, _ := http.NewRequest("GET", p.http+"/api/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"state":"acknowledged"`) || !strings.Contains(string(body), `"gw-wang"`) {
		t.Errorf("the alert is not acknowledged by gw-wang after the link: %s", body)
	}
	// The link works once.
	resp, err = http.PostForm(link, url.Values{"confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("second use of the link: %d, want 410", resp.StatusCode)
	}

	// The server mounts the alert page that group robots link to, and the
	// ingest loss report only answers with a token.
	var alerts struct {
		Alerts []struct {
			ID int64 `json:"id"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &alerts); err != nil || len(alerts.Alerts) == 0 {
		t.Fatalf("alerts %s: %v", body, err)
	}
	resp, err = http.Get(fmt.Sprintf("%s/alerts/%d", p.http, alerts.Alerts[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
		!strings.Contains(string(page), "sessionStorage") || strings.Contains(string(page), "sd-1") {
		t.Errorf("alert page: %d %q, want the token-asking page without alert data:\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {strings.TrimSpace(string(out)), http.StatusOK}} {
		req, _ := http.NewRequest("GET", p.http+"/api/v1/ingest/loss", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /api/v1/ingest/loss with token %v: %d, want %d", tc.token != "", resp.StatusCode, tc.want)
		}
	}
}

// ackLinkRE matches the personal acknowledgement link in a message.
var ackLinkRE = regexp.MustCompile(`https?://[^\s"]+/ack/[A-Za-z0-9._~-]+`)

// findAckLink finds the personal acknowledgement link in a webhook body.
func findAckLink(v any) string {
	b, _ := json.Marshal(v)
	return ackLinkRE.FindString(string(b))
}
