package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

// ackServer mounts the handler as the server would, with an AckFunc that
// records calls and answers with err.
type ackServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string
	err   error
}

func newAckServer(t *testing.T, r *rig) *ackServer {
	s := &ackServer{}
	mux := http.NewServeMux()
	mux.Handle(r.cfg.AckLink.Path, r.d.AckHandler(func(_ context.Context, id int64, person string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err != nil {
			return s.err
		}
		s.calls = append(s.calls, fmt.Sprintf("%d/%s", id, person))
		return nil
	}))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *ackServer) taken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

// do requests the link's path on the test server.
func (s *ackServer) do(t *testing.T, method, link string, form url.Values) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.srv.URL+u.Path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: caching/referrer headers missing", method)
	}
	return resp.StatusCode, string(b)
}

var confirm = url.Values{"confirm": {"yes"}}

func TestAckLink(t *testing.T) {
	r := newRig(t, nil)
	s := newAckServer(t, r)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	got := r.at(0)
	link := got[0].m.AckURL
	if link == "" || len(link) > 120 {
		t.Fatalf("link %q", link)
	}

	// Link previews (GET, HEAD) see a page and acknowledge nothing.
	code, page := s.do(t, http.MethodGet, link, nil)
	if code != 200 || !strings.Contains(page, "确认接警") || !strings.Contains(page, `method="post"`) || !strings.Contains(page, "大塘新村1幢") {
		t.Errorf("GET: %d\n%s", code, page)
	}
	if code, _ := s.do(t, http.MethodHead, link, nil); code != 200 {
		t.Errorf("HEAD: %d", code)
	}
	s.do(t, http.MethodGet, link, nil)
	if c := s.taken(); len(c) != 0 {
		t.Fatalf("GET acknowledged: %v", c)
	}
	// A POST without the page's form field does nothing.
	if code, _ := s.do(t, http.MethodPost, link, url.Values{}); code != 400 || len(s.taken()) != 0 {
		t.Errorf("bare POST: %d", code)
	}
	// The page's POST acknowledges, as the person of the link.
	code, page = s.do(t, http.MethodPost, link, confirm)
	if c := s.taken(); code != 200 || len(c) != 1 || c[0] != "1/gw1" || !strings.Contains(page, "已确认") {
		t.Errorf("POST: %d %v\n%s", code, c, page)
	}
	// It works once.
	if code, page := s.do(t, http.MethodPost, link, confirm); code != 410 || len(s.taken()) != 0 || !strings.Contains(page, "已使用") {
		t.Errorf("second POST: %d\n%s", code, page)
	}
	if code, _ := s.do(t, http.MethodGet, link, nil); code != 410 {
		t.Errorf("GET after use: %d", code)
	}
	if code, _ := s.do(t, http.MethodPut, link, nil); code != 405 {
		t.Errorf("PUT: %d", code)
	}
}

func TestAckLinkExpiresAndResistsTampering(t *testing.T) {
	r := newRig(t, nil)
	s := newAckServer(t, r)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	link := r.at(0)[0].m.AckURL

	// Tampered: another alert id, or a bad signature.
	tok := link[strings.LastIndexByte(link, '/')+1:]
	c, err := r.d.parseLink(tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	c.alerts = []int64{2}
	forged := r.d.signLink(c)
	p, _, _ := strings.Cut(forged, ".")
	_, sig, _ := strings.Cut(tok, ".")
	for _, bad := range []string{p + "." + sig, tok[:len(tok)-2] + "xx", "garbage", ""} {
		if code, _ := s.do(t, http.MethodPost, "https://x/ack/"+bad, confirm); code != 404 {
			t.Errorf("tampered %q: %d", bad, code)
		}
	}
	if len(s.taken()) != 0 {
		t.Fatal("a tampered link acknowledged")
	}
	// Another dispatcher's key does not verify it.
	r2 := newRig(t, nil)
	if _, err := r2.d.parseLink(tok, t0); !errors.Is(err, errLinkInvalid) {
		t.Errorf("foreign key: %v", err)
	}

	// Expired after the TTL (24h).
	r.clock.Set(t0.Add(24*time.Hour + time.Second))
	if code, page := s.do(t, http.MethodPost, link, confirm); code != 410 || !strings.Contains(page, "已过期") || len(s.taken()) != 0 {
		t.Errorf("expired: %d\n%s", code, page)
	}
}

func TestAckLinkSurvivesRestartAndTransientErrors(t *testing.T) {
	r := newRig(t, nil)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	link := r.at(0)[0].m.AckURL
	r.restart()
	s := newAckServer(t, r)
	// The engine's store is briefly unavailable: the link stays usable.
	s.err = errors.New("database is locked")
	if code, _ := s.do(t, http.MethodPost, link, confirm); code != 503 {
		t.Errorf("transient error: %d", code)
	}
	s.err = nil
	if code, _ := s.do(t, http.MethodPost, link, confirm); code != 200 || len(s.taken()) != 1 {
		t.Errorf("retry after a transient error: %d", code)
	}
	// Someone else was faster: final, the link is spent.
	r.transition(r.alert(2, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	link2 := r.at(time.Minute)[0].m.AckURL
	s.err = fmt.Errorf("alert 2 is acknowledged: %w", alerting.ErrConflict)
	if code, page := s.do(t, http.MethodPost, link2, confirm); code != 200 || !strings.Contains(page, "无需确认") {
		t.Errorf("conflict: %d\n%s", code, page)
	}
	s.err = nil
	if code, _ := s.do(t, http.MethodPost, link2, confirm); code != 410 {
		t.Errorf("after a conflict: %d", code)
	}
}
