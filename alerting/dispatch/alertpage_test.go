package dispatch

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

// pageScript returns the page's own script (not its JSON data block).
func pageScript(t *testing.T, page string) string {
	t.Helper()
	_, after, ok := strings.Cut(page, "<script>")
	if !ok {
		t.Fatalf("no script in the page:\n%s", page)
	}
	js, _, ok := strings.Cut(after, "</script>")
	if !ok {
		t.Fatal("the script is not closed")
	}
	return js
}

func TestAlertPage(t *testing.T) {
	r := newRig(t, nil)
	// Alert 123 in building 大塘新村1幢 (address 大塘巷12号), unit 302, smoke
	// detector sd1, told to gw1 (王芳).
	r.transition(r.alert(123, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	if got := r.at(0); len(got) == 0 {
		t.Fatal("the alert was not routed")
	}
	mux := http.NewServeMux()
	mux.Handle("GET /alerts/{id}", r.d.AlertPage()) // as the server mounts it
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, page := get("GET", "/alerts/123")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /alerts/123: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), page)
	}
	for h, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// The CSP runs the page's own script, by its hash, and nothing else.
	csp := res.Header.Get("Content-Security-Policy")
	sum := sha256.Sum256([]byte(pageScript(t, page)))
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';",
		"connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows more than the page's own script and style", csp)
	}
	// Nothing of the alert but its id; no external resources.
	if !strings.Contains(page, `data-alert="123"`) || !strings.Contains(page, `lang="zh"`) {
		t.Errorf("the page does not carry the id 123 and the default locale:\n%s", page)
	}
	for _, secret := range []string{"大塘新村1幢", "大塘巷", "302", "sd1", "王芳", "gw1", "13800000001", "米市巷", "拱墅区"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page without a token shows %q", secret)
		}
	}
	for _, ext := range []string{"http://", "https://", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, ext) {
			t.Errorf("the page loads something (%q)", ext)
		}
	}
	if res, body := get("HEAD", "/alerts/123"); res.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: %d %q", res.StatusCode, body)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/alerts/abc", 404},
		{"GET", "/alerts/0", 404},
		{"GET", "/alerts/-4", 404},
		{"GET", "/alerts/0123", 404},
		{"GET", "/alerts/%2B123", 404},
		{"GET", "/alerts/123/ack", 404},
		{"GET", "/alerts/", 404},
		{"POST", "/alerts/123", 405},
	} {
		res, body := get(c.method, c.path)
		if res.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, res.StatusCode, c.want, body)
		}
		if res.StatusCode == 404 && strings.Contains(body, "<script") {
			t.Errorf("%s %s: 404 serves the page", c.method, c.path)
		}
	}

	// English when the config says so.
	cfg := DefaultConfig()
	cfg.Locale = notify.LocaleEN
	en := newRig(t, cfg)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/alerts/7", nil)
	req.SetPathValue("id", "7")
	en.d.AlertPage().ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `lang="en"`) || !strings.Contains(w.Body.String(), "Alert #7") {
		t.Errorf("English page: %d\n%s", w.Code, w.Body.String())
	}
}
