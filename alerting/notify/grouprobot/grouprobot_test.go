package grouprobot

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

const (
	secret  = "s3cr3t-robot-key"
	tooFast = 45009
)

func TestPost(t *testing.T) {
	for _, c := range []struct {
		name      string
		status    int
		answer    string
		ok        bool
		permanent bool
		reason    notify.Reason
		retry     time.Duration
	}{
		{"delivered", 200, `{"errcode":0,"errmsg":"ok"}`, true, false, "", 0},
		{"too fast", 200, `{"errcode":45009,"errmsg":"api freq out of limit"}`, false, false, notify.ReasonRateLimited, TooFastRetryFor},
		{"busy", 200, `{"errcode":-1,"errmsg":"system busy"}`, false, false, notify.ReasonProvider, 0},
		{"refused", 200, `{"errcode":93000,"errmsg":"invalid webhook url, key=` + secret + `"}`, false, true, notify.ReasonProvider, 0},
		{"not JSON", 200, `<html>` + secret + `</html>`, false, false, notify.ReasonProvider, 0},
		{"server error", 502, `bad gateway`, false, false, notify.ReasonServer, 0},
	} {
		var body string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: %s with Content-Type %q", c.name, r.Method, r.Header.Get("Content-Type"))
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.answer)
		}))
		u, _ := url.Parse(srv.URL + "/send?key=" + secret)
		err := Post(context.Background(), srv.Client(), u, map[string]string{"msgtype": "text"}, tooFast, "test robot", notify.NewRedactor(notify.NewSecret(secret)))
		srv.Close()
		if body != `{"msgtype":"text"}` {
			t.Errorf("%s: sent %q", c.name, body)
		}
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ne *notify.Error
		if !errors.As(err, &ne) || ne.Reason != c.reason || notify.IsPermanent(err) != c.permanent || notify.RetryAfter(err) != c.retry {
			t.Errorf("%s: %#v, want reason %s, permanent %v, retry after %s", c.name, err, c.reason, c.permanent, c.retry)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the key: %v", c.name, err)
		}
	}
}

func TestAddresses(t *testing.T) {
	seen := Addresses{}
	for i, c := range []struct {
		addr, want string // error substring; "" for none
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send#c-dt", ""},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send#c-my", ""},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send#c-dt", "x.robots[2].address is listed twice"},
		{"ftp://example.com/x", "x.robots[3].address must be an http(s) URL"},
		{"https:///nohost", "x.robots[4].address must be an http(s) URL"},
	} {
		err := seen.Check("x.robots", i, c.addr)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.addr, err, c.want)
		}
	}
	if _, err := Address("wecom", "mailto:x@example.com"); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "wecom: the contact's address is not an http(s) URL") {
		t.Errorf("a contact address that is no URL: %v", err)
	}
}
