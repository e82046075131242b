package phones

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// ackServer is a stand-in for chargewatch's acknowledgement handler: it
// records the requests to each link.
type ackServer struct {
	mu    sync.Mutex
	calls []string
}

func (a *ackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r.ParseForm()
	a.calls = append(a.calls, r.Method+" "+r.URL.Path+" "+r.PostForm.Get("confirm"))
}

func (a *ackServer) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPhones(t *testing.T) {
	acks := &ackServer{}
	cw := httptest.NewServer(acks)
	defer cw.Close()
	var log syncBuffer
	p := New(Config{AckAfter: time.Millisecond, AckShare: 1, Log: &log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	link := cw.URL + "/ack/TOKEN1"
	for _, tc := range []struct {
		name, path, ctype, body string
		code                    int
		logs                    string
	}{
		{"sms", "/sms", "application/json", fmt.Sprintf(`{"phone":"13800000001","text":"【紧急】烟感报警\n大塘新村1幢 302室 确认接警：%s"}`, link), 200,
			"SMS to 13800000001: 【紧急】烟感报警 大塘新村1幢 302室 确认接警：" + link},
		{"webhook", "/hook/fire-gs", "application/json; charset=utf-8",
			`{"version":"1","kind":"escalation","title":"【升级】烟感报警","recipient":{"person":"p-fire-gs","name":"值班室"},"alerts":[{"id":1}]}`, 204,
			"webhook fire-gs (值班室 p-fire-gs) escalation: 【升级】烟感报警"},
		{"sms without text", "/sms", "application/json", `{"phone":"138"}`, 400, ""},
		{"sms not JSON", "/sms", "text/plain", `hello`, 400, ""},
		{"webhook without alerts", "/hook/x", "application/json", `{"version":"1","kind":"firing","alerts":[]}`, 400, ""},
	} {
		resp, err := http.Post(base+tc.path, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if tc.logs != "" && !strings.Contains(log.String(), tc.logs) {
			t.Errorf("%s: log lacks %q:\n%s", tc.name, tc.logs, log.String())
		}
	}
	// The SMS's link is opened (GET) and then confirmed (POST), once. Wait
	// for the phone's own log of the outcome, not only for the server to
	// see the POST: cancelling between the two cancels the POST's response
	// and the phone logs a failure (a flake on a loaded machine).
	deadline := time.Now().Add(5 * time.Second)
	outcome := func() bool { return strings.Contains(log.String(), "SMS 13800000001 ") } // acknowledged, or did not get through
	for (len(acks.got()) < 2 || !outcome()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && err != http.ErrServerClosed {
		t.Fatal(err)
	}
	if got := acks.got(); len(got) != 2 || got[0] != "GET /ack/TOKEN1 " || got[1] != "POST /ack/TOKEN1 yes" {
		t.Errorf("link requests %q, want a GET then a confirming POST", got)
	}
	if !strings.Contains(log.String(), "SMS 13800000001 acknowledged through the link") {
		t.Errorf("log lacks the acknowledgement:\n%s", log.String())
	}
}

// TestAckShare: the share of links acknowledged is close to AckShare and
// the same link is always treated alike.
func TestAckShare(t *testing.T) {
	for _, share := range []float64{0, 1.0 / 3, 2.0 / 3, 1} {
		p := New(Config{AckShare: share})
		if share == 0 {
			p.cfg.AckShare = 0
		}
		n := 0
		for i := range 3000 {
			link := fmt.Sprintf("http://127.0.0.1:9466/ack/token-%d", i)
			a := p.acknowledges(link)
			if a != p.acknowledges(link) {
				t.Fatalf("link %s treated differently twice", link)
			}
			if a {
				n++
			}
		}
		if got := float64(n) / 3000; got < share-0.05 || got > share+0.05 {
			t.Errorf("share %.2f: %.3f of links acknowledged", share, got)
		}
	}
}
