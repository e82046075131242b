package dispatch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/notify/alertmanager"
	"github.com/chargewatch/chargewatch/alerting/notify/alertmanager/amtest"
	"github.com/chargewatch/chargewatch/alerting/notify/webhook"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
)

// TestEngineToWebhook wires the real engine and store to the dispatcher
// and a real webhook notifier: a smoke alarm reaches the grid worker's
// webhook at once (the time is logged; the lead measures p99 end to end),
// and the personal link in it acknowledges the alert in the engine.
func TestEngineToWebhook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type hit struct {
		at   time.Time
		body map[string]any
	}
	hits := make(chan hit, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(b, &body)
		if r.URL.Path == "/hook/gw1" {
			hits <- hit{at, body}
		}
	}))
	defer hook.Close()
	dir := t.TempDir()
	secret := filepath.Join(dir, "webhook.secret")
	os.WriteFile(secret, []byte("whsec"), 0o600)
	wh, err := webhook.New(&webhook.Config{SecretFile: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, hook.URL)
	st, err := store.Open(ctx, filepath.Join(dir, "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := DefaultConfig()
	cfg.PublicURL = "https://cw.example.org"
	clock := fixture.NewClock(t0) // the day shift: gw1 is on duty
	d, err := Open(ctx, filepath.Join(dir, "dispatch.db"), Options{
		Config: cfg, Registry: fixture.Registry{S: snap}, Audit: st, Clock: clock,
		Notifiers: map[string]notify.Notifier{ChannelWebhook: wh, ChannelSMS: notify.NotifierFunc(func(context.Context, *notify.Message) error { return nil })},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	eng, err := engine.New(ctx, st, fixture.Registry{S: snap}, engine.Options{Notifier: d, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var lat []time.Duration
	var first hit
	for i, dev := range []string{"sd1", "sd2", "sd3", "sd4", "sd5"} {
		dv, _ := snap.Device(dev)
		start := time.Now()
		eng.Event(dv, &devices.Event{TS: clock.Now().UnixMilli(), Seq: uint64(i + 1), Type: devices.EventSmokeAlarm})
		if err := eng.Commit(ctx, []byte{byte(i)}, 0); err != nil {
			t.Fatal(err)
		}
		select {
		case h := <-hits:
			lat = append(lat, h.at.Sub(start))
			if i == 0 {
				first = h
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no webhook request", dev)
		}
	}
	slices.Sort(lat)
	t.Logf("smoke alarm to webhook request: min %v, median %v, max %v", lat[0], lat[len(lat)/2], lat[len(lat)-1])
	if lat[len(lat)-1] > time.Second {
		t.Errorf("slowest smoke notification took %v", lat[len(lat)-1])
	}

	// The worker acknowledges from the link in the first request.
	link, _ := first.body["ack_url"].(string)
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("ack_url %q", link)
	}
	alertID := int64(first.body["alerts"].([]any)[0].(map[string]any)["id"].(float64))
	ackSrv := httptest.NewServer(d.AckHandler(func(ctx context.Context, id int64, person string) error {
		_, err := eng.Ack(ctx, id, person, "acknowledged from the personal link")
		return err
	}))
	defer ackSrv.Close()
	resp, err := http.PostForm(ackSrv.URL+u.Path, url.Values{"confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "已确认") {
		t.Fatalf("ack: %d\n%s", resp.StatusCode, page)
	}
	a, err := st.Alert(ctx, alertID)
	if err != nil || a.State != alerting.StateAcknowledged || a.AckedBy != "gw1" {
		t.Fatalf("alert after the link: %+v %v", a, err)
	}
	// The ladder of that alert stopped: at 5 minutes, escalations and
	// reminders name only the four others.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		tr := d.alerts[alertID]
		stopped := tr != nil && tr.phase == phaseStopped
		d.mu.Unlock()
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ack did not reach the dispatcher")
		}
		time.Sleep(10 * time.Millisecond)
	}
	clock.Add(5 * time.Minute)
	select {
	case h := <-hits:
		for _, x := range h.body["alerts"].([]any) {
			if int64(x.(map[string]any)["id"].(float64)) == alertID {
				t.Errorf("acknowledged alert still reminded: %v", h.body["kind"])
			}
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no reminder after 5 minutes")
	}
}

// TestAlertmanagerKeepsFiringAlerts forwards to a real Alertmanager whose
// resolve_timeout is 2s: open alerts stay active long after it because the
// dispatcher posts them again every resend interval; a resolved alert
// leaves at once; and when the dispatcher stops, its alerts expire.
func TestAlertmanagerKeepsFiringAlerts(t *testing.T) {
	am := amtest.Start(t, 2*time.Second)
	fwd, err := alertmanager.New(&alertmanager.Config{URLs: []string{am.URL}, ResendInterval: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	notifs := rec.notifiers()
	notifs[ChannelAlertmanager] = fwd
	cfg := DefaultConfig()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "dispatch.db"), Options{
		Config: cfg, Registry: fixture.Registry{S: snapshot(t, "http://hooks.test")}, Notifiers: notifs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	clock := fixture.NewClock(time.Now())
	r := &rig{t: t, clock: clock, d: d, docs: map[int64]*alerting.Alert{}}
	smoke := r.alert(1, alerting.RuleSmoke, crit, "u1")
	hazard := r.alert(2, alerting.RuleIndoorCharging, major, "u3")
	r.transition(smoke, alerting.ActionFire)
	r.transition(hazard, alerting.ActionFire)
	waitFor := func(what string, timeout time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	find := func(id string) *amtest.Alert {
		a, err := am.Find(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	waitFor("alerts in Alertmanager", 5*time.Second, func() bool { return find("1") != nil && find("2") != nil })
	a := find("1")
	if a.Labels["alertname"] != "smoke" || a.Labels["severity"] != "critical" || a.Labels["community"] != "c1" ||
		a.Annotations["hazard"] != "烟感报警" || !strings.Contains(a.Annotations["place"], "大塘新村1幢 302室") {
		t.Errorf("forwarded alert %+v", a)
	}
	// Well past resolve_timeout (2s) and the endsAt of any single post.
	time.Sleep(3500 * time.Millisecond)
	if find("1") == nil || find("2") == nil {
		t.Fatal("open alerts expired in Alertmanager: they were not posted again")
	}
	// Resolved: gone at once, the other stays.
	clock.Set(time.Now())
	r.transition(hazard, alerting.ActionResolve)
	waitFor("resolved alert leaves Alertmanager", 3*time.Second, func() bool { return find("2") == nil })
	if find("1") == nil {
		t.Fatal("the open alert left too")
	}
	// Control: without the re-posting, the open alert expires.
	cancel()
	<-done
	waitFor("alert expires once chargewatch stops posting it", 4*time.Second, func() bool { return find("1") == nil })
}
