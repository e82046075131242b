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

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/devices/registry"
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
	tp, sig, _ := strings.Cut(tok, ".")
	// The signature with one character changed (its first: every bit of it
	// is the MAC's) and with a last character that spells the same bytes
	// with other unused bits, where the signature's bit length leaves some.
	other := func(ch byte) string {
		if ch == 'A' {
			return "B"
		}
		return "A"
	}
	bad := []string{p + "." + sig, tp + "." + other(sig[0]) + sig[1:], "garbage", ""}
	if len(sig)*6%8 != 0 { // the last character's low bits are unused
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, sig[len(sig)-1])
		bad = append(bad, tp+"."+sig[:len(sig)-1]+string(alphabet[last^1]))
	}
	for _, bad := range bad {
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

// TestAckLinkFollowsTheRegistry: a link acts for its person as the
// registry has them when it is used. Removed from the registry, or moved
// off the alert's community, they cannot acknowledge with it any more.
func TestAckLinkFollowsTheRegistry(t *testing.T) {
	gw1 := `  - {id: gw1, name: 王芳, roles: [grid_worker], communities: [c1], contacts: [{channel: webhook, address: "%[1]s/hook/gw1"}, {channel: sms, address: "13800000001"}]}
`
	roster := `  - {person: gw1, community: c1, from: "08:00", to: "20:00"}
`
	for _, c := range []struct {
		name     string
		edit     func(site string) string
		code     int
		page     string
		acks     int
		linkUsed bool
	}{
		{"unchanged", func(s string) string { return s }, 200, "已确认接警", 1, true},
		{"removed", func(s string) string {
			return strings.Replace(strings.Replace(s, fmt.Sprintf(gw1, "http://hooks.test"), "", 1), roster, "", 1)
		}, 410, "已不在人员名单中", 0, false},
		{"moved to c2", func(s string) string {
			s = strings.Replace(s, "communities: [c1], contacts: [{channel: webhook", "communities: [c2], contacts: [{channel: webhook", 1)
			return strings.Replace(s, roster, strings.Replace(roster, "c1", "c2", 1), 1)
		}, 403, "您已不再负责", 0, false},
		{"street officer now", func(s string) string {
			// Responsible through the street instead of the community.
			s = strings.Replace(s, "roles: [grid_worker], communities: [c1], contacts: [{channel: webhook", "roles: [street_officer], streets: [s1], contacts: [{channel: webhook", 1)
			return strings.Replace(s, roster, "", 1)
		}, 200, "已确认接警", 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
			got := r.at(0)
			var link string
			for _, m := range got {
				if m.m.Recipient.Person == "gw1" {
					link = m.m.AckURL
				}
			}
			if link == "" {
				t.Fatalf("no link for gw1 in %v", got)
			}
			site := c.edit(siteYAML("http://hooks.test"))
			if c.name != "unchanged" && site == siteYAML("http://hooks.test") {
				t.Fatal("the edit changed nothing")
			}
			parsed, err := registry.ParseSite("site.yaml", []byte(site))
			if err != nil {
				t.Fatal(err)
			}
			r.snap = fixture.Load(t, parsed)
			r.restart()
			s := newAckServer(t, r)
			if code, page := s.do(t, http.MethodGet, link, nil); code != c.code {
				t.Errorf("GET: %d, want %d\n%s", code, c.code, page)
			}
			code, page := s.do(t, http.MethodPost, link, confirm)
			if acks := s.taken(); code != c.code || len(acks) != c.acks || !strings.Contains(page, c.page) {
				t.Errorf("POST: %d %v, want %d with %d acks and %q\n%s", code, acks, c.code, c.acks, c.page, page)
			}
			if c.code != 200 && strings.Contains(page, "大塘新村1幢") {
				t.Errorf("the refusal shows the alert's place:\n%s", page)
			}
			if want := map[bool]float64{true: 0, false: 2}[c.code == 200]; testutil.ToFloat64(r.d.m.ackLinks.WithLabelValues("refused")) != want {
				t.Errorf("refused links counted %v, want %v", testutil.ToFloat64(r.d.m.ackLinks.WithLabelValues("refused")), want)
			}
			used, err := r.d.db.linkUsed(context.Background(), mustNonce(t, r, link))
			if err != nil || used != c.linkUsed {
				t.Errorf("link used: %v %v, want %v", used, err, c.linkUsed)
			}
		})
	}
}

// mustNonce returns the nonce of a link's token.
func mustNonce(t *testing.T, r *rig, link string) []byte {
	t.Helper()
	c, err := r.d.parseLink(link[strings.LastIndexByte(link, '/')+1:], r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.nonce
}
