package sms

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

const (
	apiKey    = "ak-7f3a9c-api-key"
	apiSecret = "as-91bd02-api-secret"
)

func message(phone, text string) *notify.Message {
	return &notify.Message{ID: 99, Kind: notify.KindFiring, Title: "【紧急】烟感报警", Text: text,
		Recipient: notify.Recipient{Person: "p-wang-fang", Channel: "sms", Address: phone}}
}

func config(t *testing.T, url string) *Config {
	p := filepath.Join(t.TempDir(), "sms.secret")
	os.WriteFile(p, []byte(apiSecret+"\n"), 0o600)
	t.Setenv("CW_TEST_SMS_KEY", apiKey)
	return &Config{
		URL: url + "/v1/send",
		Headers: map[string]string{
			"X-Api-Key":   `{{secret "api_key"}}`,
			"X-Signature": `{{hmacSHA256Hex (secret "api_secret") (print .Timestamp .Nonce .Phone)}}`,
			"X-Timestamp": `{{.Timestamp}}`,
			"X-Nonce":     `{{.Nonce}}`,
		},
		Body:    `{"to": {{json .Phone}}, "text": {{json .Text}}, "ref": "{{.ID}}"}`,
		Secrets: map[string]string{"api_key": "env:CW_TEST_SMS_KEY", "api_secret": "file:" + p},
		Success: Success{Status: []int{200}, JSONField: "result.code", Equals: "0", Retry: []string{"1001"}},
		Timeout: 10 * time.Second, // error classification, not the deadline: a loaded 2-core machine can take over 1 s
	}
}

// gateway checks each request like a real gateway would and answers with
// the code in code, echoing the request in its message.
func gateway(t *testing.T, code *atomic.Value) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/send" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if r.Header.Get("X-Api-Key") != apiKey {
			t.Errorf("api key %q", r.Header.Get("X-Api-Key"))
		}
		var body struct{ To, Text, Ref string }
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		mac := hmac.New(sha256.New, []byte(apiSecret))
		mac.Write([]byte(r.Header.Get("X-Timestamp") + r.Header.Get("X-Nonce") + body.To))
		if r.Header.Get("X-Signature") != hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("signature %q", r.Header.Get("X-Signature"))
		}
		if body.To != "13800000001" || body.Ref != "99" || !strings.HasPrefix(body.Text, "【紧急】烟感报警") {
			t.Errorf("body %+v", body)
		}
		json.NewEncoder(w).Encode(map[string]any{"result": map[string]any{"code": code.Load()},
			"echo": r.Header.Get("X-Api-Key") + " " + r.Header.Get("X-Signature")})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSMSTemplate(t *testing.T) {
	var code atomic.Value
	code.Store("0")
	srv := gateway(t, &code)
	n, err := New(config(t, srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	text := "【紧急】烟感报警｜大塘新村1幢 302室 \"quoted\"\n确认接警：https://cw/ack/T"
	if err := n.Notify(context.Background(), message("13800000001", text)); err != nil {
		t.Fatal(err)
	}
	for c, permanent := range map[string]bool{"1001": false, "4003": true} {
		code.Store(c)
		err := n.Notify(context.Background(), message("13800000001", text))
		if err == nil || notify.IsPermanent(err) != permanent {
			t.Errorf("code %s: %v", c, err)
			continue
		}
		if strings.Contains(err.Error(), apiKey) || strings.Contains(err.Error(), apiSecret) {
			t.Errorf("code %s: error shows a secret: %v", c, err)
		}
	}
	if err := n.Notify(context.Background(), message("not-a-phone", text)); !notify.IsPermanent(err) {
		t.Errorf("bad phone: %v", err)
	}
}

func TestSMSGetAndLength(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	t.Setenv("CW_TEST_SMS_PW", "pw-secret-1")
	n, err := New(&Config{
		Method:    "GET",
		URL:       srv.URL + `/send?user=cw&pw={{secret "pw" | urlquery}}&to={{.Phone | urlquery}}&msg={{.Text | urlquery}}`,
		Secrets:   map[string]string{"pw": "env:CW_TEST_SMS_PW"},
		MaxLength: 10,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), message("+8613800000001", "一二三四五六七八九十十一")); err != nil {
		t.Fatal(err)
	}
	r := <-got
	q := r.URL.Query()
	if r.Method != "GET" || q.Get("pw") != "pw-secret-1" || q.Get("to") != "+8613800000001" || q.Get("msg") != "一二三四五六七八九…" {
		t.Errorf("%s %v", r.Method, q)
	}
}

func TestSMSConfigErrors(t *testing.T) {
	t.Setenv("CW_TEST_SMS_K", "k-secret-value-77")
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{}, "sms.url is required"},
		{Config{URL: "http://x"}, "sms.body is required"},
		{Config{URL: "http://x", Method: "GET", Body: "x"}, "must be empty with method GET"},
		{Config{URL: "http://x", Body: "x", Secrets: map[string]string{"k": "plain-secret"}}, "never the secret itself"},
		{Config{URL: "http://x", Body: "x", Success: Success{Equals: "0"}}, "need json_field"},
		{Config{URL: "http://x", Body: "x", Success: Success{RetryField: "Response.Error.Code", Retry: []string{"x"}}}, "need json_field"},
		{Config{URL: "http://x", Body: "x", Success: Success{JSONField: "Code"}}, `sms.success.json_field "Code" needs equals`},
		{Config{URL: "http://x", Body: "x", Success: Success{JSONField: "Response..Code", Equals: "Ok"}}, `sms.success.json_field "Response..Code": empty or padded part`},
		{Config{URL: "http://x", Body: "x", Success: Success{JSONField: "Code.", Equals: "OK"}}, `json_field "Code.": empty`},
		{Config{URL: "http://x", Body: "x", Success: Success{JSONField: "Code", Equals: "OK", RetryField: "Error. Code", Retry: []string{"x"}}}, `sms.success.retry_field "Error. Code": empty or padded part`},
		{Config{URL: "http://x", Body: "x", Success: Success{JSONField: "Code", Equals: "OK", RetryField: "Error.Code"}}, "retry_field needs retry"},
		{Config{URL: "http://x", Body: "x", Success: Success{Status: []int{404}}}, "404 is not a 2xx status"},
	} {
		if err := c.c.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.c, err, c.want)
		}
	}
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{URL: "http://x", Body: "{{.Nope}}"}, "sms.body"},
		{Config{URL: "http://x", Body: `{{secret "missing"}}`}, `no secret "missing"`},
		{Config{URL: "{{.Phone}}", Body: "x"}, "not an http(s) URL"},
		{Config{URL: "http://x", Body: "{{"}, "sms.body"},
		{Config{URL: "http://x", Body: `{{canonicalQuery "a"}}`}, "sms.body"},
		{Config{URL: "http://x", Body: `{{hex .ID}}`}, "want a string or bytes"},
		{Config{URL: "http://x", Body: "x", Headers: map[string]string{"X-Sig": `{{hmacSHA1 (secret "k") .Timestamp}}`},
			Secrets: map[string]string{"k": "env:CW_TEST_SMS_K"}}, "sms.headers.X-Sig"},
	} {
		_, err := New(&c.c, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.c, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "k-secret-value-77") {
			t.Errorf("%+v: the error shows the secret: %v", c.c, err)
		}
	}
}
