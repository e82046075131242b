package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
)

// Principals of the fixture, and where they stand towards alert m5 in
// community c3 (street s2): gw1 grid worker of c1, so1 street officer of
// s1 (outside); gw3 grid worker of c3 (inside, acts); fb fire brigade and
// viewer-c3 (read only); adm admin.
var principals = []string{"", "gw1", "so1", "fb", "viewer-c3", "gw3", "adm"}

// TestEveryEndpointScope sends every endpoint's request as every
// principal, about things in community c3, and checks the status and
// what comes back. A route without a case here fails the test, so a new
// endpoint cannot go untested for scope.
func TestEveryEndpointScope(t *testing.T) {
	type expect map[string]int // principal -> status; "" is no token
	type check func(t *testing.T, v *env, who string, body string)
	seesM5 := func(t *testing.T, v *env, who, body string) {
		t.Helper()
		in := strings.Contains(body, `"device":"m5"`)
		want := who == "gw3" || who == "fb" || who == "viewer-c3" || who == "adm"
		if in != want {
			t.Errorf("%s sees m5: %v, want %v: %.300s", who, in, want, body)
		}
		if (who == "gw1" || who == "so1") && strings.Contains(body, `"c3"`) {
			t.Errorf("%s sees something of c3: %.300s", who, body)
		}
	}
	cases := map[string]struct {
		method, path, body string
		want               expect
		check              check
	}{
		"GET /api/v1/whoami": {"GET", "/api/v1/whoami", "", expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200}, nil},
		"GET /api/v1/alerts": {"GET", "/api/v1/alerts", "", expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200}, seesM5},
		"GET /api/v1/alerts/{id}": {"GET", "/api/v1/alerts/M5", "",
			expect{"gw1": 404, "so1": 404, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200}, nil},
		"POST /api/v1/alerts/{id}/ack": {"POST", "/api/v1/alerts/M5/ack", `{"note":"x"}`,
			expect{"gw1": 404, "so1": 404, "fb": 403, "viewer-c3": 403, "gw3": 200, "adm": 409}, nil},
		"POST /api/v1/alerts/{id}/close": {"POST", "/api/v1/alerts/M5/close", `{"outcome":"false_alarm","note":"x"}`,
			expect{"gw1": 404, "so1": 404, "fb": 403, "viewer-c3": 403, "gw3": 200, "adm": 409}, nil},
		"GET /api/v1/silences": {"GET", "/api/v1/silences?all=true", "",
			expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				in := strings.Contains(body, `"building":"b3"`)
				if want := who != "gw1" && who != "so1"; in != want {
					t.Errorf("%s sees the silence of b3: %v, want %v: %s", who, in, want, body)
				}
			}},
		"POST /api/v1/silences": {"POST", "/api/v1/silences", `{"building":"b3","reason":"rewiring","ends_at":"END"}`,
			expect{"gw1": 403, "so1": 403, "fb": 403, "viewer-c3": 403, "gw3": 201, "adm": 201}, nil},
		"DELETE /api/v1/silences/{id}": {"DELETE", "/api/v1/silences/SIL", "",
			expect{"gw1": 404, "so1": 404, "fb": 403, "viewer-c3": 403, "gw3": 200, "adm": 200}, nil},
		"GET /api/v1/audit": {"GET", "/api/v1/audit", "", expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				in := strings.Contains(body, fmt.Sprintf(`"alert_id":%d,`, v.ids["m5"]))
				if want := who != "gw1" && who != "so1"; in != want {
					t.Errorf("%s sees m5's audit log: %v, want %v: %.300s", who, in, want, body)
				}
			}},
		"GET /api/v1/report": {"GET", "/api/v1/report?level=all&from=2026-01-05T00:00:00%2B08:00&to=2026-01-06T00:00:00%2B08:00", "",
			expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				in := strings.Contains(body, `"place":"c3"`)
				if want := who == "gw3" || who == "fb" || who == "viewer-c3" || who == "adm"; in != want {
					t.Errorf("%s sees c3's figures: %v, want %v: %.300s", who, in, want, body)
				}
				if (who == "gw1" || who == "so1") && strings.Contains(body, `"s2"`) {
					t.Errorf("%s sees something of s2: %.300s", who, body)
				}
			}},
		"GET /api/v1/alerts/{id}/deliveries": {"GET", "/api/v1/alerts/M5/deliveries", "",
			expect{"gw1": 404, "so1": 404, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				if !strings.Contains(body, `"person":"gw3","address":"138****0003","status":"sent"`) {
					t.Errorf("%s does not see m5's delivery to gw3: %.300s", who, body)
				}
			}},
		"GET /api/v1/deliveries": {"GET", "/api/v1/deliveries", "",
			expect{"gw1": 403, "so1": 403, "fb": 403, "viewer-c3": 403, "gw3": 403, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				if !strings.Contains(body, `"backlog":{"pending":0}`) || !strings.Contains(body, `"status":"failed"`) {
					t.Errorf("%s does not see the outbox: %.300s", who, body)
				}
			}},
		"GET /api/v1/ingest/loss": {"GET", "/api/v1/ingest/loss", "",
			expect{"gw1": 200, "so1": 200, "fb": 200, "viewer-c3": 200, "gw3": 200, "adm": 200},
			func(t *testing.T, v *env, who, body string) {
				seesM5(t, v, who, body)
				// A device no longer in the registry has no place: only
				// those who read everything see it.
				if in, want := strings.Contains(body, `"device":"gone"`), who == "fb" || who == "adm"; in != want {
					t.Errorf("%s sees the unregistered device: %v, want %v: %.300s", who, in, want, body)
				}
			}},
		"GET /api/v1/tokens":         {"GET", "/api/v1/tokens", "", expect{"gw1": 403, "so1": 403, "fb": 403, "viewer-c3": 403, "gw3": 403, "adm": 200}, nil},
		"POST /api/v1/tokens":        {"POST", "/api/v1/tokens", `{"name":"n","role":"viewer"}`, expect{"gw1": 403, "so1": 403, "fb": 403, "viewer-c3": 403, "gw3": 403, "adm": 201}, nil},
		"DELETE /api/v1/tokens/{id}": {"DELETE", "/api/v1/tokens/TOK", "", expect{"gw1": 403, "so1": 403, "fb": 403, "viewer-c3": 403, "gw3": 403, "adm": 204}, nil},
	}
	for _, r := range (&Server{}).routes() {
		c, ok := cases[r.pattern]
		if !ok {
			t.Errorf("route %s has no scope case: add one to TestEveryEndpointScope", r.pattern)
			continue
		}
		t.Run(r.pattern, func(t *testing.T) {
			v, _ := newDeliveryEnv(t) // fresh state: the cases change it
			ctx := context.Background()
			sl, err := v.e.CreateSilence(ctx, alerting.Silence{Building: "b3", Reason: "painting", CreatedBy: "adm",
				StartsAt: t0.UnixMilli(), EndsAt: t0.Add(time.Hour).UnixMilli()})
			if err != nil {
				t.Fatal(err)
			}
			_, tok, err := v.st.CreateToken(ctx, store.Token{Name: "victim", Role: "viewer", CreatedAt: t0.UnixMilli()})
			if err != nil {
				t.Fatal(err)
			}
			path := strings.NewReplacer("M5", fmt.Sprint(v.ids["m5"]), "SIL", fmt.Sprint(sl.ID), "TOK", fmt.Sprint(tok.ID)).Replace(c.path)
			body := strings.ReplaceAll(c.body, "END", t0.Add(2*time.Hour).Format(time.RFC3339))
			for _, who := range principals {
				want, ok := c.want[who]
				if who == "" {
					want, ok = 401, true
				}
				if !ok {
					t.Fatalf("no expectation for %q", who)
				}
				var b any
				if body != "" {
					b = body
				}
				code, got := v.do(who, c.method, path, b, nil)
				if code != want {
					t.Errorf("%s %s as %q: %d, want %d: %s", c.method, path, who, code, want, got)
				}
				if c.check != nil && code == 200 {
					c.check(t, v, who, got)
				}
			}
		})
	}
}

// TestNothingOutsideScopeChanges: after every write attempt of a grid
// worker on another community's things, those things are as they were.
func TestNothingOutsideScopeChanges(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	sl, _ := v.e.CreateSilence(ctx, alerting.Silence{Building: "b3", Reason: "painting", CreatedBy: "adm",
		StartsAt: t0.UnixMilli(), EndsAt: t0.Add(time.Hour).UnixMilli()})
	before, _ := v.st.Alert(ctx, v.ids["m5"])
	id := v.ids["m5"]
	for _, req := range []struct{ method, path, body string }{
		{"POST", fmt.Sprintf("/api/v1/alerts/%d/ack", id), `{"note":"mine now"}`},
		{"POST", fmt.Sprintf("/api/v1/alerts/%d/close", id), `{"outcome":"false_alarm","note":"gone"}`},
		{"DELETE", fmt.Sprintf("/api/v1/silences/%d", sl.ID), ``},
		{"POST", "/api/v1/silences", `{"community":"c3","reason":"quiet please","ends_at":"` + t0.Add(time.Hour).Format(time.RFC3339) + `"}`},
		{"POST", "/api/v1/silences", `{"device":"m5","reason":"quiet please","ends_at":"` + t0.Add(time.Hour).Format(time.RFC3339) + `"}`},
		{"POST", "/api/v1/tokens", `{"name":"mine","role":"admin"}`},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		if code, got := v.do("gw1", req.method, req.path, body, nil); code < 400 {
			t.Errorf("gw1 %s %s: %d %s", req.method, req.path, code, got)
		}
	}
	after, _ := v.st.Alert(ctx, id)
	if after.State != before.State || after.AckedBy != "" || after.UpdatedAt != before.UpdatedAt {
		t.Errorf("alert changed: %+v", after)
	}
	sls, _ := v.st.Silences(ctx, 0)
	if len(sls) != 1 || sls[0].EndedAt != 0 {
		t.Errorf("silences changed: %+v", sls)
	}
	ts, _ := v.st.Tokens(ctx)
	if len(ts) != 6 {
		t.Errorf("%d tokens", len(ts))
	}
	au, _ := v.st.Audit(ctx, id)
	for _, e := range au {
		if e.Actor == "gw1" {
			t.Errorf("audit entry by gw1: %+v", e)
		}
	}
}

func TestQueryParametersAreChecked(t *testing.T) {
	v := newEnv(t)
	id := v.ids["mon1"]
	for _, path := range []string{
		"/api/v1/whoami?verbose=1",
		fmt.Sprintf("/api/v1/alerts/%d?fields=all", id),
		"/api/v1/tokens?all=true",
		"/api/v1/audit?after=-1",
		"/api/v1/audit?limit=0",
		"/api/v1/audit?people=maybe",
		"/api/v1/audit?colour=red",
		"/api/v1/silences?all=true&all=false",
	} {
		if code, body := v.do("adm", "GET", path, nil, nil); code != 400 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	// A write with query parameters is refused and changes nothing.
	if code, _ := v.do("gw1", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack?force=true", id), nil, nil); code != 400 {
		t.Errorf("ack with a query: %d", code)
	}
	a, _ := v.st.Alert(context.Background(), id)
	if a.State != alerting.StateFiring {
		t.Errorf("alert is %s", a.State)
	}
}

// TestAuthFailuresAreLimited: ten failures from one address, then 429 with
// Retry-After until the bucket refills; a valid token is served all along.
func TestAuthFailuresAreLimited(t *testing.T) {
	v := newEnv(t)
	for i := range DefaultAuthFailures.Burst {
		if code, _ := v.do("cwt_guess", "GET", "/api/v1/alerts", nil, nil); code != 401 {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	req, _ := http.NewRequest("GET", v.srv.URL+"/api/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer cwt_guess")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "60" {
		t.Errorf("over the limit: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if code, _ := v.do("", "GET", "/api/v1/alerts", nil, nil); code != 429 {
		t.Errorf("no token over the limit: %d", code)
	}
	// Someone with a valid token at the same address is not locked out.
	if code, _ := v.do("gw1", "GET", "/api/v1/alerts", nil, nil); code != 200 {
		t.Errorf("valid token from a limited address: %d", code)
	}
	v.clock.Add(time.Minute)
	if code, _ := v.do("cwt_guess", "GET", "/api/v1/alerts", nil, nil); code != 401 {
		t.Errorf("after a minute: %d", code)
	}
	if code, _ := v.do("cwt_guess", "GET", "/api/v1/alerts", nil, nil); code != 429 {
		t.Errorf("second attempt after a minute: %d", code)
	}
}

// TestWritesAreLimited: a caller's changes are limited (a stolen token
// cannot acknowledge everything in sight), others are not affected.
func TestWritesAreLimited(t *testing.T) {
	v := newEnvWith(t, Options{Writes: Limit{Burst: 3, PerMinute: 6}})
	id := v.ids["mon1"]
	path := fmt.Sprintf("/api/v1/alerts/%d/ack", id)
	codes := []int{}
	for range 4 {
		code, _ := v.do("gw1", "POST", path, nil, nil)
		codes = append(codes, code)
	}
	if !slices.Equal(codes, []int{200, 409, 409, 429}) {
		t.Errorf("codes %v", codes)
	}
	code, body := v.do("gw1", "POST", path, nil, nil)
	if code != 429 || !strings.Contains(body, "too many changes by gw1") || !strings.Contains(body, "one every 10s") {
		t.Errorf("limited: %d %s", code, body)
	}
	// Reading is not limited; another person is not limited.
	if code, _ := v.do("gw1", "GET", "/api/v1/alerts", nil, nil); code != 200 {
		t.Errorf("read: %d", code)
	}
	if code, _ := v.do("gw3", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", v.ids["m5"]), nil, nil); code != 200 {
		t.Errorf("other person: %d", code)
	}
	v.clock.Add(10 * time.Second)
	if code, _ := v.do("gw1", "POST", path, nil, nil); code != 409 {
		t.Errorf("after 10 s: %d", code)
	}
}

func TestAuditAPI(t *testing.T) {
	v := newEnv(t)
	id := v.ids["mon1"]
	v.do("gw1", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", id), `{"note":"on my way"}`, nil)
	v.do("gw1", "POST", fmt.Sprintf("/api/v1/alerts/%d/close", id), `{"outcome":"false_alarm","note":"loose CT"}`, nil)
	v.do("gw3", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", v.ids["m5"]), nil, nil)

	trail := func(who, q string) ([]string, auditResponse) {
		t.Helper()
		var res auditResponse
		if code, body := v.do(who, "GET", "/api/v1/audit"+q, nil, &res); code != 200 {
			t.Fatalf("audit %s as %s: %d %s", q, who, code, body)
		}
		var out []string
		for _, e := range res.Entries {
			out = append(out, fmt.Sprintf("%s:%s:%s:%s", e.Actor, e.Action, e.Community, e.Note))
		}
		return out, res
	}
	got, _ := trail("gw1", "?people=true")
	if want := []string{"gw1:ack:c1:on my way", "gw1:close:c1:loose CT"}; !slices.Equal(got, want) {
		t.Errorf("gw1's audit %q, want %q", got, want)
	}
	got, _ = trail("adm", "?people=true")
	if want := []string{"gw1:ack:c1:on my way", "gw1:close:c1:loose CT", "gw3:ack:c3:"}; !slices.Equal(got, want) {
		t.Errorf("admin's audit %q, want %q", got, want)
	}
	got, _ = trail("adm", "?actor=gw3")
	if want := []string{"gw3:ack:c3:"}; !slices.Equal(got, want) {
		t.Errorf("actor filter %q", got)
	}
	got, _ = trail("so1", fmt.Sprintf("?alert=%d", id))
	if len(got) != 3 || !strings.HasPrefix(got[0], "engine:fire:c1") {
		t.Errorf("one alert's log %q", got)
	}
	if code, _ := v.do("gw3", "GET", fmt.Sprintf("/api/v1/audit?alert=%d", id), nil, nil); code != 404 {
		t.Errorf("another community's alert log: %d", code)
	}
	// Paging: one entry at a time until next_after is gone.
	var all []string
	q := "?people=true&limit=1"
	for range 10 {
		page, res := trail("adm", q)
		all = append(all, page...)
		if res.NextAfter == 0 {
			break
		}
		q = fmt.Sprintf("?people=true&limit=1&after=%d", res.NextAfter)
	}
	if len(all) != 3 {
		t.Errorf("paged %q", all)
	}
	// Only an admin silences smoke alarms.
	smoke := map[string]any{"device": "sd1", "reason": "dusty renovation", "ends_at": t0.Add(time.Hour).Format(time.RFC3339), "rules": []string{"smoke"}}
	if code, body := v.do("gw1", "POST", "/api/v1/silences", smoke, nil); code != 403 || !strings.Contains(body, "only an admin may silence smoke alarms") {
		t.Errorf("grid worker silences smoke: %d %s", code, body)
	}
	if code, body := v.do("adm", "POST", "/api/v1/silences", smoke, nil); code != 201 {
		t.Errorf("admin silences smoke: %d %s", code, body)
	}
	// Silences keep who made and ended them, why and until when.
	ends := t0.Add(time.Hour).Format(time.RFC3339)
	var sl alerting.Silence
	v.do("gw1", "POST", "/api/v1/silences", map[string]any{"building": "b1", "reason": "rewiring", "ends_at": ends}, &sl)
	v.do("so1", "DELETE", fmt.Sprintf("/api/v1/silences/%d", sl.ID), nil, nil)
	var list silencesResponse
	v.do("gw1", "GET", "/api/v1/silences?all=true", nil, &list)
	list.Silences = slices.DeleteFunc(list.Silences, func(s alerting.Silence) bool { return s.Device == "sd1" })
	if len(list.Silences) != 1 || list.Silences[0].CreatedBy != "gw1" || list.Silences[0].EndedBy != "so1" || list.Silences[0].Reason != "rewiring" || list.Silences[0].EndsAt == 0 {
		t.Errorf("silences %+v", list.Silences)
	}
}

// FuzzRequestBodies sends arbitrary bodies to every endpoint that takes
// one, as an admin (who may do anything): every answer is a JSON success
// or a 4xx that says what is wrong, never a 5xx, and nothing panics.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"note":"on my way"}`, `{"outcome":"rectified","note":"moved the battery"}`,
		`{"building":"b1","reason":"rewiring","ends_at":"2026-01-05T22:00:00+08:00","rules":["overload"]}`,
		`{"name":"grafana","role":"viewer","scope":{"streets":["s2"]},"expires_at":"2027-01-01T00:00:00Z"}`,
		`{"name":"x","person":"gw1"}`, `{}`, `[]`, `null`, `{"note":1}`, `{"a":{"b":{"c":[[[[[]]]]]}}}`,
		"{\"note\":\"\xff\xfe\"}", `{"note":"x"}{"note":"y"}`, `{"note":"x"`, `{"ends_at":"9999-12-31T23:59:59Z","community":"c1","reason":"r"}`,
		`{"outcome":"false_alarm","note":"` + strings.Repeat("长", 1000) + `"}`, `{"starts_at":"1","ends_at":"2","device":"m1","reason":"r"}`,
	} {
		f.Add([]byte(seed))
	}
	v := newEnvWith(f, Options{Writes: Limit{Burst: 1 << 30, PerMinute: 1 << 30}})
	h := v.srv.Config.Handler
	paths := []string{
		fmt.Sprintf("/api/v1/alerts/%d/ack", v.ids["m3"]), fmt.Sprintf("/api/v1/alerts/%d/close", v.ids["m3"]),
		"/api/v1/silences", "/api/v1/tokens",
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range paths {
			req := httptest.NewRequest("POST", p, strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer "+v.tokens["adm"])
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 || (rec.Code >= 300 && rec.Code < 400) {
				t.Fatalf("POST %s %q: %d %s", p, body, rec.Code, rec.Body)
			}
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("POST %s %q: answer is not a JSON object: %v: %s", p, body, err, rec.Body)
			}
			if rec.Code >= 400 {
				if msg, _ := out["error"].(string); msg == "" {
					t.Fatalf("POST %s %q: %d without an error message", p, body, rec.Code)
				}
			}
		}
	})
}
