package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

var t0 = time.Date(2026, 1, 5, 20, 0, 0, 0, registry.Shanghai())

// env is the engine behind the API on a fresh database, with alerts in
// communities c1 (mon1), c2 (m3) and c3 (m5), and a token per person.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	st     *store.Store
	e      *engine.Engine
	clock  *fixture.Clock
	snap   *registry.Snapshot
	tokens map[string]string
	ids    map[string]int64 // alert id by device
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, Options{})
}

// newEnvWith is newEnv with options for the API (Now is always the
// test clock).
func newEnvWith(t testing.TB, o Options) *env {
	t.Helper()
	return newEnvHook(t, o, nil)
}

// newEnvHook is newEnvWith with a hook that runs before the engine is
// made: it may set the API's options and return the engine's notifier.
func newEnvHook(t testing.TB, o Options, hook func(st *store.Store, snap *registry.Snapshot, clock *fixture.Clock, o *Options) engine.Notifier) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := fixture.Snapshot(t)
	clock := fixture.NewClock(t0)
	var notifier engine.Notifier
	if hook != nil {
		notifier = hook(st, snap, clock, &o)
	}
	e, err := engine.New(ctx, st, fixture.Registry{S: snap}, engine.Options{Clock: clock, Notifier: notifier})
	if err != nil {
		t.Fatal(err)
	}
	o.Now = clock.Now
	srv := httptest.NewServer(New(st, e, fixture.Registry{S: snap}, o).Handler())
	t.Cleanup(srv.Close)
	v := &env{t: t, srv: srv, st: st, e: e, clock: clock, snap: snap, tokens: map[string]string{}, ids: map[string]int64{}}
	for _, p := range []string{"gw1", "gw3", "so1", "fb", "adm"} {
		tok, _, err := st.CreateToken(ctx, store.Token{Name: p, Person: p, CreatedAt: t0.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		v.tokens[p] = tok
	}
	tok, _, err := st.CreateToken(ctx, store.Token{Name: "dashboard", Role: "viewer", Scope: alerting.Scope{Communities: []string{"c3"}}, CreatedAt: t0.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	v.tokens["viewer-c3"] = tok
	// Alerts: residual current on mon1 (c1), overloads on m3 (c2) and m5 (c3).
	dev := func(id string) *registry.Device { d, _ := snap.Device(id); return d }
	rd := func(id string, f devices.Field, val float64) {
		r := &devices.Reading{TS: t0.UnixMilli()}
		r.Put(f, val)
		e.Reading(dev(id), r)
	}
	rd("mon1", devices.FieldLeak, 500)
	rd("m3", devices.FieldCurrent, 100)
	rd("m5", devices.FieldCurrent, 100)
	if err := e.Commit(ctx, []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	as, err := st.Alerts(ctx, &store.Filter{})
	if err != nil || len(as) != 3 {
		t.Fatalf("alerts %v %v", as, err)
	}
	for _, a := range as {
		v.ids[a.Location.Device] = a.ID
	}
	return v
}

// do sends a request as who ("" for no token) and decodes the answer into
// out (if not nil); it returns the status and the raw body.
func (v *env) do(who, method, path string, body any, out any) (int, string) {
	v.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, v.srv.URL+path, rd)
	if who != "" {
		tok := v.tokens[who]
		if tok == "" {
			tok = who // a raw token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode < 300 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			v.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if res.StatusCode >= 400 && !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
		v.t.Errorf("%s %s: error %d is not JSON: %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, string(raw)
}

func (v *env) devices(who, query string) []string {
	v.t.Helper()
	var res listResponse
	if code, body := v.do(who, "GET", "/api/v1/alerts"+query, nil, &res); code != 200 {
		v.t.Fatalf("list as %s: %d %s", who, code, body)
	}
	var out []string
	for _, a := range res.Alerts {
		out = append(out, a.Location.Device)
	}
	slices.Sort(out)
	return out
}

func TestAuthentication(t *testing.T) {
	v := newEnv(t)
	if code, body := v.do("", "GET", "/api/v1/alerts", nil, nil); code != 401 || !strings.Contains(body, "missing token") {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, _ := v.do("cwt_nope", "GET", "/api/v1/alerts", nil, nil); code != 401 {
		t.Errorf("bad token: %d", code)
	}
	// Expired and revoked tokens.
	ctx := context.Background()
	tok, rec, _ := v.st.CreateToken(ctx, store.Token{Name: "short", Person: "gw1", CreatedAt: t0.UnixMilli(), ExpiresAt: t0.Add(time.Hour).UnixMilli()})
	v.tokens["short"] = tok
	if code, _ := v.do("short", "GET", "/api/v1/whoami", nil, nil); code != 200 {
		t.Errorf("fresh token: %d", code)
	}
	v.clock.Add(2 * time.Hour)
	if code, _ := v.do("short", "GET", "/api/v1/whoami", nil, nil); code != 401 {
		t.Errorf("expired token: %d", code)
	}
	if code, _ := v.do("adm", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", rec.ID), nil, nil); code != 204 {
		t.Errorf("revoke: %d", code)
	}
	var who whoamiResponse
	if code, body := v.do("so1", "GET", "/api/v1/whoami", nil, &who); code != 200 || who.Subject != "so1" || who.Roles[0] != "street_officer" || who.Write.Streets[0] != "s1" {
		t.Errorf("whoami: %d %s", code, body)
	}
}

// TestScopes checks who sees what: a grid worker sees and changes only
// their communities' alerts.
func TestScopes(t *testing.T) {
	v := newEnv(t)
	cases := []struct {
		who  string
		want []string
	}{
		{"gw1", []string{"mon1"}},
		{"gw3", []string{"m5"}},
		{"so1", []string{"m3", "mon1"}},
		{"fb", []string{"m3", "m5", "mon1"}},
		{"adm", []string{"m3", "m5", "mon1"}},
		{"viewer-c3", []string{"m5"}},
	}
	for _, c := range cases {
		if got := v.devices(c.who, ""); !slices.Equal(got, c.want) {
			t.Errorf("%s sees %v, want %v", c.who, got, c.want)
		}
	}
	// A filter cannot widen the scope.
	if got := v.devices("gw1", "?community=c3"); len(got) != 0 {
		t.Errorf("gw1 with community=c3 sees %v", got)
	}
	other := v.ids["m5"] // c3
	for _, req := range []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/api/v1/alerts/%d", other), ""},
		{"POST", fmt.Sprintf("/api/v1/alerts/%d/ack", other), `{"note":"x"}`},
		{"POST", fmt.Sprintf("/api/v1/alerts/%d/close", other), `{"outcome":"false_alarm","note":"x"}`},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		if code, _ := v.do("gw1", req.method, req.path, body, nil); code != 404 {
			t.Errorf("gw1 %s %s: %d, want 404", req.method, req.path, code)
		}
	}
	// Read-only roles may see but not act.
	if code, body := v.do("fb", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", other), nil, nil); code != 403 || !strings.Contains(body, "fire_brigade") {
		t.Errorf("fire brigade ack: %d %s", code, body)
	}
	if code, _ := v.do("viewer-c3", "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", other), nil, nil); code != 403 {
		t.Errorf("viewer ack: %d", code)
	}
	// Nothing changed.
	a, _ := v.st.Alert(context.Background(), other)
	if a.State != alerting.StateFiring {
		t.Errorf("alert %d is %s", other, a.State)
	}
}

func TestLifecycleThroughAPI(t *testing.T) {
	v := newEnv(t)
	id := v.ids["mon1"]
	path := fmt.Sprintf("/api/v1/alerts/%d", id)
	var a alerting.Alert
	if code, body := v.do("gw1", "POST", path+"/ack", `{"note":"on my way"}`, &a); code != 200 || a.State != alerting.StateAcknowledged || a.AckedBy != "gw1" {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, body := v.do("gw1", "POST", path+"/ack", nil, nil); code != 409 || !strings.Contains(body, "already acknowledged by gw1") {
		t.Errorf("second ack: %d %s", code, body)
	}
	for _, bad := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"outcome":"fixed","note":"x"}`, 400, "outcome"},
		{`{"outcome":"false_alarm"}`, 400, "note is required"},
		{`{"outcome":"false_alarm","note":"x","extra":1}`, 400, "unknown field"},
		{`{"outcome":"false_alarm","note":"x"} {}`, 400, "more than one value"},
		{`not json`, 400, "invalid JSON"},
		{`{"outcome":"false_alarm","note":"` + strings.Repeat("x", 70000) + `"}`, 413, "larger than"},
		{`{"outcome":"rectified","note":"fixed the wiring"}`, 409, "cannot be closed as rectified"},
	} {
		if code, body := v.do("gw1", "POST", path+"/close", bad.body, nil); code != bad.code || !strings.Contains(body, bad.msg) {
			t.Errorf("close %.60s: %d %s, want %d %q", bad.body, code, body, bad.code, bad.msg)
		}
	}
	if code, body := v.do("gw1", "POST", path+"/close", map[string]string{"outcome": "false_alarm", "note": "the monitor's CT was loose"}, &a); code != 200 || a.State != alerting.StateClosed || a.Outcome != alerting.OutcomeFalseAlarm {
		t.Fatalf("close: %d %s", code, body)
	}
	// Closing an alert that is not open is a conflict, with a clear message.
	code, body := v.do("gw1", "POST", path+"/close", map[string]string{"outcome": "false_alarm", "note": "again"}, nil)
	if code != 409 || !strings.Contains(body, fmt.Sprintf("alert %d is closed: cannot close: it is no longer open", id)) {
		t.Errorf("close closed: %d %s", code, body)
	}
	var got alertResponse
	if code, body := v.do("gw1", "GET", path, nil, &got); code != 200 {
		t.Fatalf("get: %d %s", code, body)
	}
	var trail []string
	for _, x := range got.Audit {
		trail = append(trail, fmt.Sprintf("%s:%s:%s", x.Action, x.Actor, x.Note))
	}
	want := []string{"fire:engine:", "ack:gw1:on my way", "close:gw1:the monitor's CT was loose"}
	if !slices.Equal(trail, want) {
		t.Errorf("audit %q, want %q", trail, want)
	}
	if got.Alert.Location.Building != "b1" || len(got.Alert.Evidence) == 0 {
		t.Errorf("alert %+v", got.Alert)
	}
}

func TestListFilters(t *testing.T) {
	v := newEnv(t)
	cases := []struct {
		query string
		want  []string
	}{
		{"?rule=overload", []string{"m3", "m5"}},
		{"?rule=overload,residual_current&community=c2", []string{"m3"}},
		{"?state=open", []string{"m3", "m5", "mon1"}},
		{"?state=closed", nil},
		{"?severity=major", []string{"m3", "m5", "mon1"}},
		{"?street=s2", []string{"m5"}},
		{"?since=" + t0.Add(time.Minute).Format(time.RFC3339), nil},
		{fmt.Sprintf("?until=%d", t0.Add(time.Minute).UnixMilli()), []string{"m3", "m5", "mon1"}},
	}
	for _, c := range cases {
		if got := v.devices("adm", c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	var page listResponse
	v.do("adm", "GET", "/api/v1/alerts?limit=2", nil, &page)
	if len(page.Alerts) != 2 || page.NextBefore == 0 {
		t.Fatalf("page 1: %+v", page)
	}
	var page2 listResponse
	v.do("adm", "GET", fmt.Sprintf("/api/v1/alerts?limit=2&before=%d", page.NextBefore), nil, &page2)
	if len(page2.Alerts) != 1 || page2.NextBefore != 0 {
		t.Errorf("page 2: %+v", page2)
	}
	for _, bad := range []string{"?state=burning", "?rule=fire", "?severity=loud", "?since=yesterday", "?limit=0", "?limit=5000", "?colour=red", "?rule=overload&rule=smoke"} {
		if code, _ := v.do("adm", "GET", "/api/v1/alerts"+bad, nil, nil); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code, _ := v.do("adm", "GET", "/api/v1/alerts/abc", nil, nil); code != 400 {
		t.Errorf("bad id: %d", code)
	}
	if code, _ := v.do("adm", "GET", "/api/v1/alerts/999", nil, nil); code != 404 {
		t.Errorf("unknown id: %d", code)
	}
	if code, _ := v.do("adm", "GET", "/api/v1/nothing", nil, nil); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
	if code, _ := v.do("adm", "PUT", "/api/v1/alerts", nil, nil); code != 405 {
		t.Errorf("wrong method: %d", code)
	}
}

func TestSilencesAPI(t *testing.T) {
	v := newEnv(t)
	ends := t0.Add(2 * time.Hour).Format(time.RFC3339)
	var sl alerting.Silence
	code, body := v.do("gw1", "POST", "/api/v1/silences", map[string]any{"building": "b1", "reason": "rewiring", "ends_at": ends}, &sl)
	if code != 201 || sl.ID == 0 || sl.CreatedBy != "gw1" || sl.Location.Community != "c1" {
		t.Fatalf("create: %d %s", code, body)
	}
	for _, bad := range []struct {
		who  string
		body map[string]any
		code int
	}{
		{"gw1", map[string]any{"building": "b3", "reason": "x", "ends_at": ends}, 403},
		{"fb", map[string]any{"building": "b1", "reason": "x", "ends_at": ends}, 403},
		{"gw1", map[string]any{"building": "b1", "reason": "x"}, 400},
		{"gw1", map[string]any{"building": "b1", "ends_at": ends}, 400},
		{"gw1", map[string]any{"building": "nope", "reason": "x", "ends_at": ends}, 400},
		{"gw1", map[string]any{"building": "b1", "reason": "x", "ends_at": ends, "rules": []string{"fire"}}, 400},
	} {
		if code, body := v.do(bad.who, "POST", "/api/v1/silences", bad.body, nil); code != bad.code {
			t.Errorf("%s %v: %d %s, want %d", bad.who, bad.body, code, body, bad.code)
		}
	}
	var list silencesResponse
	v.do("gw3", "GET", "/api/v1/silences", nil, &list)
	if len(list.Silences) != 0 {
		t.Errorf("gw3 sees c1's silence: %+v", list)
	}
	v.do("so1", "GET", "/api/v1/silences", nil, &list)
	if len(list.Silences) != 1 {
		t.Errorf("so1 silences: %+v", list)
	}
	if code, _ := v.do("gw3", "DELETE", fmt.Sprintf("/api/v1/silences/%d", sl.ID), nil, nil); code != 404 {
		t.Errorf("gw3 ends c1's silence: %d", code)
	}
	if code, body := v.do("gw1", "DELETE", fmt.Sprintf("/api/v1/silences/%d", sl.ID), nil, &sl); code != 200 || sl.EndedBy != "gw1" {
		t.Errorf("end: %d %s", code, body)
	}
	v.do("gw1", "GET", "/api/v1/silences", nil, &list)
	if len(list.Silences) != 0 {
		t.Errorf("ended silence still listed: %+v", list)
	}
}

func TestTokensAPI(t *testing.T) {
	v := newEnv(t)
	if code, _ := v.do("gw1", "GET", "/api/v1/tokens", nil, nil); code != 403 {
		t.Errorf("non-admin lists tokens: %d", code)
	}
	var tr tokenResponse
	code, body := v.do("adm", "POST", "/api/v1/tokens", map[string]any{"name": "grafana", "role": "viewer", "scope": map[string]any{"streets": []string{"s2"}}}, &tr)
	if code != 201 || !strings.HasPrefix(tr.Token, store.TokenPrefix) {
		t.Fatalf("create: %d %s", code, body)
	}
	v.tokens["grafana"] = tr.Token
	if got := v.devices("grafana", ""); !slices.Equal(got, []string{"m5"}) {
		t.Errorf("service token sees %v", got)
	}
	var ts tokensResponse
	v.do("adm", "GET", "/api/v1/tokens", nil, &ts)
	raw, _ := json.Marshal(ts)
	if strings.Contains(string(raw), tr.Token) || len(ts.Tokens) != 7 {
		t.Errorf("token list: %s", raw)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "person": "nobody"},
		{"name": "x", "role": "king"},
		{"name": "x", "person": "gw1", "role": "admin"},
		{"name": "", "role": "viewer"},
		{"name": "x", "role": "viewer", "expires_at": "2020-01-01T00:00:00Z"},
	} {
		if code, body := v.do("adm", "POST", "/api/v1/tokens", bad, nil); code != 400 {
			t.Errorf("%v: %d %s", bad, code, body)
		}
	}
	// A service token with the admin role revokes as "token:NAME".
	var ops tokenResponse
	if code, body := v.do("adm", "POST", "/api/v1/tokens", map[string]any{"name": "ops", "role": "admin"}, &ops); code != 201 {
		t.Fatalf("create an admin service token: %d %s", code, body)
	}
	v.tokens["ops"] = ops.Token
	var laptop tokenResponse
	if code, body := v.do("adm", "POST", "/api/v1/tokens", map[string]any{"name": "laptop", "person": "gw1"}, &laptop); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	now := v.clock.Now().UnixMilli()
	for _, c := range []struct {
		name, by string
		id       int64
		code     int
		// the record afterwards
		revokedBy string
		revokedAt int64
	}{
		{"by a person", "adm", tr.Record.ID, 204, "adm", now},
		{"again, by someone else: the first revoker stays", "ops", tr.Record.ID, 204, "adm", now},
		{"by a service token", "ops", laptop.Record.ID, 204, "token:ops", now},
		{"unknown", "adm", 999, 404, "", 0},
		{"not an admin", "gw1", ops.Record.ID, 403, "", 0},
	} {
		if code, body := v.do(c.by, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", c.id), nil, nil); code != c.code {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
		var ts tokensResponse
		v.do("adm", "GET", "/api/v1/tokens", nil, &ts)
		var rec store.Token
		for _, x := range ts.Tokens {
			if x.ID == c.id {
				rec = x
			}
		}
		if rec.RevokedBy != c.revokedBy || rec.RevokedAt != c.revokedAt {
			t.Errorf("%s: listed as revoked by %q at %d, want %q at %d", c.name, rec.RevokedBy, rec.RevokedAt, c.revokedBy, c.revokedAt)
		}
	}
	if code, _ := v.do("grafana", "GET", "/api/v1/alerts", nil, nil); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	// The list answers revoked_by in its JSON.
	code, body = v.do("adm", "GET", "/api/v1/tokens", nil, nil)
	if code != 200 || !strings.Contains(body, `"revoked_by":"token:ops"`) {
		t.Errorf("token list: %d %s", code, body)
	}
}
