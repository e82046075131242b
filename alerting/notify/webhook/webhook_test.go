package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

func secretFile(t *testing.T, v string) string {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func message(addr string) *notify.Message {
	return &notify.Message{
		ID: 42, Kind: notify.KindFiring, Severity: alerting.SeverityCritical, Locale: "zh",
		At:        time.Date(2026, 1, 5, 14, 8, 0, 0, time.FixedZone("CST", 8*3600)),
		Recipient: notify.Recipient{Person: "p-liu-yang", Name: "刘洋", Channel: "webhook", Address: addr},
		AckURL:    "https://cw.example.org/ack/T",
		Alerts: []notify.Alert{{Alert: alerting.Alert{ID: 17, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical,
			State: alerting.StateFiring, Location: alerting.Location{Building: "b1"}}, Names: notify.Names{Building: "大塘新村1幢"}}},
		Title: "【紧急】烟感报警", Text: "text", Markdown: "md",
	}
}

type received struct {
	header http.Header
	body   []byte
	url    string
}

func testReceiver(t *testing.T, status int) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b, r.URL.String()})
		mu.Unlock()
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		w.WriteHeader(status)
		// A careless receiver echoes what it got.
		w.Write([]byte("echo: " + r.Header.Get(HeaderSignature) + " " + string(b)))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received { mu.Lock(); defer mu.Unlock(); return append([]received(nil), got...) }
}

func TestWebhookRequestAndSignature(t *testing.T) {
	srv, got := testReceiver(t, 204)
	n, err := New(&Config{SecretFile: secretFile(t, "whsec-default")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), message(srv.URL+"/hook/p-liu-yang")); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	for k, want := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", HeaderDelivery: "42", HeaderEvent: "firing", "User-Agent": "chargewatch-webhook/1",
	} {
		if r.header.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, r.header.Get(k), want)
		}
	}
	ts := r.header.Get(HeaderTimestamp)
	// The signature as a receiver computes it, independently of Sign.
	mac := hmac.New(sha256.New, []byte("whsec-default"))
	mac.Write([]byte(ts + "." + string(r.body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.header.Get(HeaderSignature) != want {
		t.Errorf("signature %q, want %q", r.header.Get(HeaderSignature), want)
	}
	if err := Verify("whsec-default", ts, r.header.Get(HeaderSignature), r.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify("other", ts, r.header.Get(HeaderSignature), r.body, time.Now(), 5*time.Minute); err != ErrBadSignature {
		t.Errorf("Verify with another secret: %v", err)
	}
	if err := Verify("whsec-default", ts, r.header.Get(HeaderSignature), r.body, time.Now().Add(time.Hour), 5*time.Minute); err != ErrStale {
		t.Errorf("Verify an hour later: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body["version"] != "1" || body["kind"] != "firing" || body["severity"] != "critical" || body["ack_url"] != "https://cw.example.org/ack/T" ||
		body["id"] != 42.0 || body["title"] != "【紧急】烟感报警" {
		t.Errorf("body %s", r.body)
	}
	rec := body["recipient"].(map[string]any)
	if rec["person"] != "p-liu-yang" || rec["address"] != nil {
		t.Errorf("recipient %v (the address stays out)", rec)
	}
	a := body["alerts"].([]any)[0].(map[string]any)
	if a["id"] != 17.0 || a["rule"] != "smoke" || a["names"].(map[string]any)["building"] != "大塘新村1幢" {
		t.Errorf("alert %v", a)
	}
}

func TestWebhookReceiverSecrets(t *testing.T) {
	srv, got := testReceiver(t, 200)
	t.Setenv("CW_FIRE_SECRET", "whsec-fire")
	n, err := New(&Config{SecretFile: secretFile(t, "whsec-default"),
		Receivers: []Receiver{{URLPrefix: srv.URL + "/fire/", Secret: "env:CW_FIRE_SECRET"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(context.Background(), message(srv.URL+"/fire/duty"))
	n.Notify(context.Background(), message(srv.URL+"/hook/x"))
	rs := got()
	if Verify("whsec-fire", rs[0].header.Get(HeaderTimestamp), rs[0].header.Get(HeaderSignature), rs[0].body, time.Now(), time.Minute) != nil {
		t.Error("fire brigade receiver not signed with its own secret")
	}
	if Verify("whsec-default", rs[1].header.Get(HeaderTimestamp), rs[1].header.Get(HeaderSignature), rs[1].body, time.Now(), time.Minute) != nil {
		t.Error("other receiver not signed with the default secret")
	}
}

func TestWebhookErrors(t *testing.T) {
	secret := "whsec-must-not-leak"
	n, err := New(&Config{SecretFile: secretFile(t, secret), Timeout: 10 * time.Second}, nil) // 10 s: the test is about errors, not the deadline
	if err != nil {
		t.Fatal(err)
	}
	// The token has letters no hex digit or the message's JSON has: the
	// error quotes the receiver's echo of the signature, and a token such
	// as "abc" turned up in about 1.5% of signatures (the test failed in
	// one second of about 70).
	const token = "tok-zq-must-not-leak"
	for status, permanent := range map[int]bool{500: false, 503: false, 429: false, 400: true, 404: true} {
		srv, _ := testReceiver(t, status)
		err := n.Notify(context.Background(), message(srv.URL+"/hook?token="+token))
		if err == nil || notify.IsPermanent(err) != permanent {
			t.Errorf("HTTP %d: %v, permanent %v", status, err, notify.IsPermanent(err))
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
			t.Errorf("HTTP %d: error shows a secret: %v", status, err)
		}
	}
	if err := n.Notify(context.Background(), message("ftp://x")); !notify.IsPermanent(err) {
		t.Errorf("bad address: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{}, "secret or secret_file is required"},
		{Config{Secret: "env:X", Receivers: []Receiver{{URLPrefix: "nope"}}}, "url_prefix must start"},
		{Config{Secret: "env:X", Timeout: -1}, "timeout cannot be negative"},
	} {
		if err := c.c.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.c, err, c.want)
		}
	}
	if _, err := New(&Config{Secret: "whsec-literal"}, nil); err == nil || strings.Contains(err.Error(), "whsec-literal") {
		t.Errorf("literal secret: %v", err)
	}
}
