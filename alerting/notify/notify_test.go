package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2-very-secret")
	type cfg struct {
		Key Secret
		Ptr *Secret
	}
	c := cfg{Key: s, Ptr: &s}
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", c, c, &c), s.String(), s.GoString(),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("secret in JSON: %s", b)
	}
	if s.Reveal() != "hunter2-very-secret" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("  s3cr3t-value\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("s3cr3t-value"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	t.Setenv("CW_TEST_SECRET", "env-s3cr3t")

	s, err := LoadSecret("k", "", good)
	if err != nil || s.Reveal() != "s3cr3t-value" {
		t.Fatalf("file: %q, %v", s.Reveal(), err)
	}
	s, err = LoadSecret("k", "env:CW_TEST_SECRET", "")
	if err != nil || s.Reveal() != "env-s3cr3t" {
		t.Fatalf("env: %q, %v", s.Reveal(), err)
	}
	if s, err = LoadSecret("k", "", ""); err != nil || !s.IsZero() {
		t.Fatalf("none: %v", err)
	}
	for _, c := range []struct {
		ref, file, want string
	}{
		{"literal-s3cr3t-value", "", "not written in the config"},
		{"env:CW_TEST_UNSET_VARIABLE", "", "CW_TEST_UNSET_VARIABLE is not set"},
		{"", open, "can be read by other users (mode 0644)"},
		{"", empty, "is empty"},
		{"", filepath.Join(dir, "missing"), "no such file"},
		{"env:X", good, "not both"},
	} {
		_, err := LoadSecret("webhook.secret", c.ref, c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadSecret(%q, %q) = %v, want %q", c.ref, c.file, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	if s, err := ParseSecretRef("sms.secrets.k", "file:"+good); err != nil || s.Reveal() != "s3cr3t-value" {
		t.Errorf("ParseSecretRef file: %v", err)
	}
	if _, err := ParseSecretRef("sms.secrets.k", "s3cr3t"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseSecretRef literal: %v", err)
	}
}

func TestRedact(t *testing.T) {
	r := NewRedactor(NewSecret("k+y/1=z"))
	for _, in := range []string{"k+y/1=z", "key=k%2By%2F1%3Dz", base64Of("k+y/1=z")} {
		if out := r.String("x " + in + " y"); strings.Contains(out, in) {
			t.Errorf("redact(%q) = %q", in, out)
		}
	}
	var nilR *Redactor
	if nilR.String("a") != "a" {
		t.Error("nil redactor changed text")
	}
	for in, want := range map[string]string{
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=REDACTED",
		"https://u:pw@example.org/hook?a=1&b=2#frag":               "https://example.org/hook?a=REDACTED&b=REDACTED",
		"not a url": "<invalid URL>",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func base64Of(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDoClassifies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("fine"))
		case "/429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "/500":
			w.WriteHeader(500)
			w.Write([]byte("echo " + r.URL.RawQuery))
		case "/400":
			w.WriteHeader(400)
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c := &http.Client{Timeout: 50 * time.Millisecond}
	r := NewRedactor(NewSecret("topsecretkey"))
	do := func(path string) error {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+path+"?key=topsecretkey", nil)
		_, _, err := Do(c, req, "test", r)
		return err
	}
	if err := do("/ok"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		reason    Reason
		permanent bool
		after     time.Duration
	}{
		"/429":  {ReasonRateLimited, false, 7 * time.Second},
		"/500":  {ReasonServer, false, 0},
		"/400":  {ReasonRejected, true, 0},
		"/slow": {ReasonTimeout, false, 0},
	} {
		err := do(path)
		if ReasonOf(err) != want.reason || IsPermanent(err) != want.permanent || RetryAfter(err) != want.after {
			t.Errorf("%s: %v: reason %s permanent %v after %v", path, err, ReasonOf(err), IsPermanent(err), RetryAfter(err))
		}
		if strings.Contains(err.Error(), "topsecretkey") || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: error shows the URL or key: %v", path, err)
		}
	}
	srv.Close()
	if err := do("/ok"); ReasonOf(err) != ReasonNetwork || strings.Contains(err.Error(), "topsecretkey") {
		t.Errorf("closed server: %v (%s)", err, ReasonOf(err))
	}
	var e *Error
	if !errors.As(Permanent(ReasonOther, errors.New("x")), &e) || e.Unwrap().Error() != "x" {
		t.Error("Unwrap")
	}
}

func sampleAlerts(at time.Time) (smoke, charging Alert) {
	smoke = Alert{Alert: alerting.Alert{
		ID: 17, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical, State: alerting.StateFiring,
		Location:  alerting.Location{District: "d-gs", Street: "st-msx", Community: "c-dt", Building: "b-dt-01", Unit: "u-302", Device: "sd-1", Kind: "smoke"},
		StartedAt: at.Add(-6 * time.Minute).UnixMilli(), FiredAt: at.Add(-6 * time.Minute).UnixMilli(), Relapse: true,
		Evidence: []alerting.Sample{{TS: at.Add(-6 * time.Minute).UnixMilli(), Device: "sd-1", Event: "smoke_alarm",
			Values: map[string]float64{"smoke": 1, "battery_low": 0}}},
	}, Names: Names{District: "拱墅区", Street: "米市巷街道", Community: "大塘巷社区", Building: "大塘新村1幢", Room: "302", Address: "杭州市拱墅区大塘巷12号"},
		URL: "https://cw.example.org/alerts/17"}
	charging = Alert{Alert: alerting.Alert{
		ID: 18, Rule: alerting.RuleIndoorCharging, Severity: alerting.SeverityMajor, State: alerting.StateFiring,
		Location:  alerting.Location{District: "d-gs", Building: "b-dt-01", Unit: "u-401"},
		StartedAt: at.Add(-95 * time.Minute).UnixMilli(), Value: 182, Unit: "W",
		Evidence: []alerting.Sample{{TS: at.Add(-40 * time.Minute).UnixMilli(), Device: "m-401", Code: "rise (var)",
			Values: map[string]float64{"power_w": 181.5, "base_w": 40, "step_w": 141.5, "confidence": 0.9}}},
	}, Names: Names{District: "拱墅区", Street: "米市巷街道", Community: "大塘巷社区", Building: "大塘新村1幢", Room: "401", Unit: "小卖部"},
		URL: "https://cw.example.org/alerts/18"}
	return
}

func TestRenderNamesEverything(t *testing.T) {
	at := time.Date(2026, 1, 5, 14, 8, 0, 0, shanghai)
	smoke, charging := sampleAlerts(at)
	m := &Message{Kind: KindFiring, Severity: alerting.SeverityCritical, Locale: LocaleZH, At: at,
		AckURL: "https://cw.example.org/ack/TOKEN", Alerts: []Alert{smoke}}
	if err := Render(m, shanghai); err != nil {
		t.Fatal(err)
	}
	// Place, hazard, evidence, how long open, where to act; relapse.
	for _, want := range []string{"拱墅区 米市巷街道 大塘巷社区 大塘新村1幢 302室", "烟感报警", "14:02:00 烟感 sd-1", "烟雾 是", "电量低 否",
		"已持续 6分钟（14:02 起）", "杭州市拱墅区大塘巷12号", "确认接警：https://cw.example.org/ack/TOKEN", "复发"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Title != "【紧急】烟感报警｜大塘新村1幢 302室" {
		t.Errorf("title %q", m.Title)
	}
	// Group robots get the alert page, never the personal link.
	if strings.Contains(m.Markdown, "ack/TOKEN") || !strings.Contains(m.Markdown, "(https://cw.example.org/alerts/17)") {
		t.Errorf("markdown links:\n%s", m.Markdown)
	}
	for _, want := range []string{"**地点**：", "**证据**：", "**状态**：已持续 6分钟"} {
		if !strings.Contains(m.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, m.Markdown)
		}
	}

	// Two alerts in one building: one message naming both.
	m = &Message{Kind: KindEscalation, Severity: alerting.SeverityCritical, Locale: LocaleEN, At: at, Level: 1,
		Targets: []string{"street_officer"}, Alerts: []Alert{smoke, charging}}
	if err := Render(m, shanghai); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[ESCALATED · CRITICAL] 大塘新村1幢: 2 hazards", "1. SMOKE ALARM room 302 (RELAPSE)",
		"2. E-bike charging indoors room 401 (小卖部)", "measured 182 W", "power 181.5 W", "open for 1 h 35 min (since 12:33)",
		"escalated to the street duty officer", "confidence 90%", "power before 40 W", "step 141.5 W",
		"confirmed by power rising with the pack voltage (non-active power)"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}

	// The charging detector's evidence in Chinese.
	m = &Message{Kind: KindFiring, Severity: alerting.SeverityMajor, Locale: LocaleZH, At: at, Alerts: []Alert{charging}}
	if err := Render(m, shanghai); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"充电前功率 40 W", "功率阶跃 141.5 W", "置信度 90%", "判定依据 功率随电池电压缓升（无功功率）"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}

	// Acknowledged and resolved notices.
	smoke.State, smoke.AckedAt, smoke.AckedBy = alerting.StateAcknowledged, at.UnixMilli(), "p-wang-fang"
	m = &Message{Kind: KindAcknowledged, Severity: alerting.SeverityCritical, Locale: LocaleZH, At: at, Alerts: []Alert{smoke}}
	Render(m, shanghai)
	if !strings.Contains(m.Text, "已由 p-wang-fang 于 14:08 确认") || !strings.HasPrefix(m.Title, "【已确认】") {
		t.Errorf("ack notice:\n%s", m.Text)
	}
	charging.State, charging.ResolvedAt, charging.ResolvedUnacked = alerting.StateResolved, at.UnixMilli(), true
	m = &Message{Kind: KindResolved, Severity: alerting.SeverityMajor, Locale: LocaleZH, At: at, Alerts: []Alert{charging}}
	Render(m, shanghai)
	if !strings.Contains(m.Text, "期间无人确认") || !strings.Contains(m.Text, "仍须到场核查") {
		t.Errorf("resolved unacked notice:\n%s", m.Text)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("烟", 10) // 30 bytes
	got := Truncate(s, 10)
	if len(got) > 10 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "烟烟") {
		t.Errorf("Truncate = %q", got)
	}
	if Truncate("abc", 10) != "abc" {
		t.Error("short string changed")
	}
}
