package wecom

import (
	"context"
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

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"

// robot is a WeCom group robot as documented: POST
// /cgi-bin/webhook/send?key=KEY with {"msgtype":"markdown","markdown":{"content":...}}.
func robot(t *testing.T, errcode *atomic.Int64, got chan<- string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != key {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		md, _ := body["markdown"].(map[string]any)
		if len(body) != 2 || body["msgtype"] != "markdown" || len(md) != 1 || md["content"] == nil {
			t.Errorf("body is not a markdown message: %s", b)
		}
		got <- md["content"].(string)
		code := errcode.Load()
		msg := "ok"
		if code != 0 {
			msg = "invalid webhook url, hint: [1234], key=" + r.URL.Query().Get("key")
		}
		json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func message(addr string) *notify.Message {
	return &notify.Message{ID: 1, Kind: notify.KindFiring, Severity: alerting.SeverityCritical, Title: "t",
		Markdown: "### 【紧急】烟感报警\n**地点**：大塘新村1幢", Recipient: notify.Recipient{Channel: "wecom", Address: addr}}
}

func keyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "wecom.key")
	os.WriteFile(p, []byte(key), 0o600)
	return p
}

func TestWeComMarkdown(t *testing.T) {
	var code atomic.Int64
	got := make(chan string, 10)
	srv := robot(t, &code, got)
	addr := srv.URL + "/cgi-bin/webhook/send#c-dt" // as in the registry: no key
	n, err := New(&Config{Robots: []Robot{{Address: addr, KeyFile: keyFile(t)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), message(addr)); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c != "### 【紧急】烟感报警\n**地点**：大塘新村1幢" {
		t.Errorf("content %q", c)
	}
	// The key may also be in the address itself.
	n2, _ := New(&Config{}, nil)
	if err := n2.Notify(context.Background(), message(srv.URL+"/cgi-bin/webhook/send?key="+key)); err != nil {
		t.Fatal(err)
	}
	<-got
	// Content is cut to the robot's 4096 bytes.
	m := message(addr)
	m.Markdown = strings.Repeat("烟", 3000)
	n.Notify(context.Background(), m)
	if c := <-got; len(c) > MaxContent {
		t.Errorf("content of %d bytes", len(c))
	}
}

func TestWeComErrcodes(t *testing.T) {
	var code atomic.Int64
	got := make(chan string, 10)
	srv := robot(t, &code, got)
	addr := srv.URL + "/cgi-bin/webhook/send"
	n, _ := New(&Config{Robots: []Robot{{Address: addr, KeyFile: keyFile(t)}}, Timeout: 10 * time.Second}, nil) // 10 s: a loaded machine must not turn an errcode into a timeout
	for c, want := range map[int64]struct {
		permanent bool
		after     time.Duration
	}{93000: {true, 0}, 45009: {false, time.Minute}, -1: {false, 0}} {
		code.Store(c)
		err := n.Notify(context.Background(), message(addr))
		<-got
		if err == nil || notify.IsPermanent(err) != want.permanent || notify.RetryAfter(err) != want.after {
			t.Errorf("errcode %d: %v", c, err)
			continue
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("errcode %d: error shows the key: %v", c, err)
		}
	}
	// No key anywhere: refused before sending.
	n2, _ := New(&Config{}, nil)
	if err := n2.Notify(context.Background(), message(addr)); !notify.IsPermanent(err) {
		t.Errorf("no key: %v", err)
	}
}
