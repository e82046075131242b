package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

const (
	token  = "0a1b2c3d4e5f-access-token"
	secret = "SEC3b1f0e1cdd9a7d0c4b-signing-secret"
)

// testRobot is a DingTalk robot that checks the request as documented:
// access_token, timestamp (ms, within an hour) and
// sign = urlencode(base64(HmacSHA256(secret, timestamp+"\n"+secret))).
func testRobot(t *testing.T, errcode *atomic.Int64, got chan<- map[string]any) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The raw query, decoded by hand, so that the test does not trust
		// url.Values to have done what the notifier did.
		raw := map[string]string{}
		for kv := range strings.SplitSeq(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			raw[k] = v
		}
		if r.Method != http.MethodPost || r.URL.Path != "/robot/send" || raw["access_token"] != token {
			t.Errorf("request %s %s %v", r.Method, r.URL.Path, raw)
		}
		ts, err := strconv.ParseInt(raw["timestamp"], 10, 64)
		if err != nil || time.Since(time.UnixMilli(ts)).Abs() > time.Hour {
			t.Errorf("timestamp %q", raw["timestamp"])
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(raw["timestamp"] + "\n" + secret))
		want := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		if raw["sign"] != want {
			t.Errorf("sign %q, want %q", raw["sign"], want)
		}
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(b, &body)
		md, _ := body["markdown"].(map[string]any)
		if body["msgtype"] != "markdown" || md["title"] == nil || md["text"] == nil {
			t.Errorf("body is not a markdown message: %s", b)
		}
		got <- md
		code := errcode.Load()
		json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": map[bool]string{true: "ok", false: "sign not match, more: [access_token=" + token + "]"}[code == 0]})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func file(t *testing.T, name, v string) string {
	p := filepath.Join(t.TempDir(), name)
	os.WriteFile(p, []byte(v), 0o600)
	return p
}

func message(addr string) *notify.Message {
	return &notify.Message{ID: 1, Kind: notify.KindFiring, Severity: alerting.SeverityMajor, Title: "【严重】电动自行车室内充电",
		Markdown: "### 【严重】\n**地点**：卖鱼桥小区5幢", Recipient: notify.Recipient{Channel: "dingtalk", Address: addr}}
}

func TestSignKnownAnswer(t *testing.T) {
	// Computed independently: echo -n "1700000000000\nSECabc" | openssl dgst -sha256 -hmac SECabc -binary | base64
	if got := Sign("SECabc", 1700000000000); got != "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=" {
		t.Errorf("Sign = %s", got)
	}
}

func TestDingTalkSignedMarkdown(t *testing.T) {
	var code atomic.Int64
	got := make(chan map[string]any, 10)
	srv := testRobot(t, &code, got)
	addr := srv.URL + "/robot/send#c-my"
	n, err := New(&Config{Robots: []Robot{{Address: addr, AccessTokenFile: file(t, "token", token), SecretFile: file(t, "secret", secret)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), message(addr)); err != nil {
		t.Fatal(err)
	}
	md := <-got
	if md["title"] != "【严重】电动自行车室内充电" || md["text"] != "### 【严重】\n\n**地点**：卖鱼桥小区5幢" {
		t.Errorf("markdown %v", md)
	}
	for c, permanent := range map[int64]bool{310000: true, 130101: false, -1: false} {
		code.Store(c)
		err := n.Notify(context.Background(), message(addr))
		<-got
		if err == nil || notify.IsPermanent(err) != permanent {
			t.Errorf("errcode %d: %v", c, err)
		} else if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
			t.Errorf("errcode %d: error shows a secret: %v", c, err)
		}
	}
}
