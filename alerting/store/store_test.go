package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "alerts.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func alert(id int64, rule alerting.Rule, place string, st alerting.State, community string) *alerting.Alert {
	return &alerting.Alert{ID: id, Rule: rule, Severity: alerting.SeverityMajor, State: st, PlaceKind: alerting.PlaceOf(rule), Place: place,
		Location:  alerting.Location{District: "d1", Street: "s1", Community: community, Building: "b1", Device: place},
		StartedAt: id * 1000, UpdatedAt: id * 1000, Sources: []string{place}}
}

func TestCommitAndReadBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "a.db"), Options{Synchronous: "full"})
	if err != nil {
		t.Fatal(err)
	}
	b := &Batch{
		Alerts: []*alerting.Alert{alert(1, alerting.RuleSmoke, "sd1", alerting.StateFiring, "c1"), alert(2, alerting.RuleOverload, "m1", alerting.StateClosed, "c2")},
		Audit: []alerting.Audit{{AlertID: 1, At: 5, Actor: "engine", Action: alerting.ActionFire, To: alerting.StateFiring, Severity: alerting.SeverityCritical},
			{AlertID: 2, At: 6, Actor: "alice", Action: alerting.ActionClose, From: alerting.StateResolved, To: alerting.StateClosed, Outcome: alerting.OutcomeRectified, Note: "fixed"}},
		Devices: []State{{ID: "sd1", Blob: []byte{1, 2, 3}}, {ID: "m1", Blob: []byte{4}}},
		Meta:    map[string][]byte{"cursor": []byte("seg-7:42")},
	}
	b.Alerts[1].Outcome, b.Alerts[1].ClosedAt = alerting.OutcomeRectified, 77
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Audit[0].ID == 0 || b.Audit[1].ID <= b.Audit[0].ID {
		t.Errorf("audit ids %d, %d", b.Audit[0].ID, b.Audit[1].ID)
	}
	// Delete a state, then reopen the database.
	if err := s.Commit(ctx, &Batch{Devices: []State{{ID: "m1"}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, filepath.Join(dir, "a.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open, err := s.OpenAlerts(ctx)
	if err != nil || len(open) != 1 || open[0].ID != 1 || open[0].Sources[0] != "sd1" {
		t.Fatalf("open alerts %+v, %v", open, err)
	}
	states := map[string][]byte{}
	if err := s.States(ctx, "device", func(id string, b []byte) error { states[id] = bytes.Clone(b); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || !bytes.Equal(states["sd1"], []byte{1, 2, 3}) {
		t.Errorf("states %v", states)
	}
	if c, _ := s.Meta(ctx, "cursor"); string(c) != "seg-7:42" {
		t.Errorf("cursor %q", c)
	}
	if c, _ := s.Meta(ctx, "nope"); c != nil {
		t.Errorf("unset meta %q", c)
	}
	rs, err := s.RectifiedSince(ctx, 0)
	if err != nil || len(rs) != 1 || rs[0].ID != 2 || rs[0].Key.Rule != alerting.RuleOverload || rs[0].ClosedAt != 77 {
		t.Errorf("rectified %+v %v", rs, err)
	}
	au, err := s.Audit(ctx, 2)
	if err != nil || len(au) != 1 || au[0].Outcome != alerting.OutcomeRectified || au[0].Note != "fixed" || au[0].From != alerting.StateResolved {
		t.Errorf("audit %+v %v", au, err)
	}
	if id, _ := s.MaxAlertID(ctx); id != 2 {
		t.Errorf("max id %d", id)
	}
	if _, err := s.Alert(ctx, 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing alert: %v", err)
	}
}

func TestOneActiveAlertPerKey(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.Commit(ctx, &Batch{Alerts: []*alerting.Alert{alert(1, alerting.RuleSmoke, "sd1", alerting.StateFiring, "c1")}}); err != nil {
		t.Fatal(err)
	}
	err := s.Commit(ctx, &Batch{Alerts: []*alerting.Alert{alert(2, alerting.RuleSmoke, "sd1", alerting.StatePending, "c1")}})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("second active alert for a key: %v", err)
	}
	// The old one closed and a new one opened in one batch, listed new first.
	a1 := alert(1, alerting.RuleSmoke, "sd1", alerting.StateClosed, "c1")
	if err := s.Commit(ctx, &Batch{Alerts: []*alerting.Alert{alert(2, alerting.RuleSmoke, "sd1", alerting.StateFiring, "c1"), a1}}); err != nil {
		t.Fatal(err)
	}
}

func TestFilterAndScope(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	b := &Batch{}
	for i, c := range []string{"c1", "c2", "c1", "c3"} {
		st := alerting.StateFiring
		if i == 2 {
			st = alerting.StateResolved
		}
		b.Alerts = append(b.Alerts, alert(int64(i+1), alerting.RuleOverload, "m"+c+string(rune('a'+i)), st, c))
	}
	b.Alerts[3].Location.Street = "s2"
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	ids := func(f Filter) []int64 {
		t.Helper()
		as, err := s.Alerts(ctx, &f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	eq := func(name string, got []int64, want ...int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", name, got, want)
				return
			}
		}
	}
	eq("all", ids(Filter{}), 4, 3, 2, 1)
	eq("community", ids(Filter{Community: "c1"}), 3, 1)
	eq("state", ids(Filter{States: []alerting.State{alerting.StateResolved}}), 3)
	eq("scope c2", ids(Filter{Scope: &alerting.Scope{Communities: []string{"c2"}}}), 2)
	eq("scope street s2 or c2", ids(Filter{Scope: &alerting.Scope{Communities: []string{"c2"}, Streets: []string{"s2"}}}), 4, 2)
	eq("empty scope", ids(Filter{Scope: &alerting.Scope{}}))
	eq("scope and filter", ids(Filter{Community: "c1", Scope: &alerting.Scope{Communities: []string{"c2"}}}))
	eq("page", ids(Filter{Limit: 2}), 4, 3)
	eq("next page", ids(Filter{Limit: 2, Before: 3}), 2, 1)
	eq("since", ids(Filter{Since: 3000}), 4, 3)
	eq("severity", ids(Filter{Severities: []alerting.Severity{alerting.SeverityCritical}}))
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	tok, rec, err := s.CreateToken(ctx, Token{Name: "grafana", Role: "viewer", Scope: alerting.Scope{Communities: []string{"c1"}}, CreatedAt: 1, ExpiresAt: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) < 40 {
		t.Errorf("token %q", tok)
	}
	got, err := s.Authenticate(ctx, tok, 10)
	if err != nil || got.ID != rec.ID || got.Scope.Communities[0] != "c1" || got.Role != "viewer" {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, tok, 1000); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired token: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok+"x", 10); !errors.Is(err, ErrBadToken) {
		t.Errorf("wrong token: %v", err)
	}
	// The token itself is not in the database.
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE hash = ? OR name = ? OR CAST(hash AS TEXT) LIKE ?`, tok, tok, "%"+tok[4:12]+"%").Scan(&n); err != nil || n != 0 {
		t.Errorf("token stored in plain text (%d rows, %v)", n, err)
	}
	if _, err := s.RevokeToken(ctx, rec.ID, 20, ""); err == nil {
		t.Error("revoked without saying who")
	}
	if _, err := s.Authenticate(ctx, tok, 10); err != nil {
		t.Errorf("a failed revocation revoked the token: %v", err)
	}
	for _, c := range []struct {
		name   string
		id, at int64
		by     string
		want   Token // RevokedAt, RevokedBy
		err    error
	}{
		{"revoke", rec.ID, 20, "adm", Token{RevokedAt: 20, RevokedBy: "adm"}, nil},
		{"again keeps the first revoker", rec.ID, 25, "cli:root", Token{RevokedAt: 20, RevokedBy: "adm"}, nil},
		{"unknown", 99, 20, "adm", Token{}, ErrNotFound},
	} {
		got, err := s.RevokeToken(ctx, c.id, c.at, c.by)
		if !errors.Is(err, c.err) || got.RevokedAt != c.want.RevokedAt || got.RevokedBy != c.want.RevokedBy {
			t.Errorf("%s: %+v, %v; want revoked at %d by %q, error %v", c.name, got, err, c.want.RevokedAt, c.want.RevokedBy, c.err)
		}
	}
	if _, err := s.Authenticate(ctx, tok, 30); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked token: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, Token{Name: "x", Person: "p1", Role: "admin"}); err == nil {
		t.Error("token with both person and role")
	}
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 1 || ts[0].RevokedAt != 20 || ts[0].RevokedBy != "adm" {
		t.Errorf("tokens %+v %v", ts, err)
	}
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	sl, err := s.CreateSilence(ctx, alerting.Silence{Building: "b1", Rules: []alerting.Rule{alerting.RuleSmoke, alerting.RuleTamper}, Reason: "renovation", StartsAt: 100, EndsAt: 200, CreatedBy: "alice", CreatedAt: 50,
		Location: alerting.Location{Community: "c1", Building: "b1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSilence(ctx, alerting.Silence{Building: "b1", Device: "d1", Reason: "x", StartsAt: 1, EndsAt: 2}); err == nil {
		t.Error("silence of a building and a device at once accepted")
	}
	act, err := s.Silences(ctx, 150)
	if err != nil || len(act) != 1 || act[0].ID != sl.ID || len(act[0].Rules) != 2 || act[0].Location.Community != "c1" {
		t.Fatalf("active silences %+v %v", act, err)
	}
	ended, err := s.EndSilence(ctx, sl.ID, "bob", 160)
	if err != nil || ended.EndedAt != 160 || ended.EndedBy != "bob" || ended.ActiveAt(170) || !ended.ActiveAt(150) {
		t.Errorf("ended %+v %v", ended, err)
	}
	if act, _ := s.Silences(ctx, 170); len(act) != 0 {
		t.Errorf("ended silence still active: %+v", act)
	}
	if _, err := s.EndSilence(ctx, 42, "bob", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("end unknown silence: %v", err)
	}
}

func TestAuditSince(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	b := &Batch{Alerts: []*alerting.Alert{alert(1, alerting.RuleSmoke, "sd1", alerting.StateFiring, "c1")}}
	for i := range 5 {
		b.Audit = append(b.Audit, alerting.Audit{AlertID: 1, At: int64(i), Actor: "engine", Action: alerting.ActionFire, To: alerting.StateFiring, Severity: 4})
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	au, err := s.AuditSince(ctx, b.Audit[1].ID, 2)
	if err != nil || len(au) != 2 || au[0].ID != b.Audit[2].ID {
		t.Errorf("audit since: %+v %v", au, err)
	}
	m, err := s.AlertsByID(ctx, []int64{1, 5})
	if err != nil || len(m) != 1 || m[1] == nil {
		t.Errorf("alerts by id %v %v", m, err)
	}
	if n, err := s.PurgeCancelled(ctx, 1e12); err != nil || n != 0 {
		t.Errorf("purge %d %v", n, err)
	}
}

// TestCommitStates: device states go in multi-row upserts; counts around
// the statement size, repeated ids and deletes queued among upserts all
// leave exactly the last state of each id.
func TestCommitStates(t *testing.T) {
	put := func(id string, v int) State { return State{ID: id, Blob: []byte(fmt.Sprintf("%s=%d", id, v))} }
	del := func(id string) State { return State{ID: id} }
	many := func(n, v int) []State {
		var out []State
		for i := range n {
			out = append(out, put(fmt.Sprintf("d-%04d", i), v))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		batches [][]State
		want    map[string]string
	}{
		{"one", [][]State{{put("a", 1)}}, map[string]string{"a": "a=1"}},
		{"update", [][]State{{put("a", 1)}, {put("a", 2)}}, map[string]string{"a": "a=2"}},
		{"repeated id in one batch", [][]State{{put("a", 1), put("b", 1), put("a", 3)}}, map[string]string{"a": "a=3", "b": "b=1"}},
		{"put then delete", [][]State{{put("a", 1), put("b", 1), del("a")}}, map[string]string{"b": "b=1"}},
		{"delete then put", [][]State{{put("a", 1)}, {del("a"), put("a", 2)}}, map[string]string{"a": "a=2"}},
		{"delete of an unknown id", [][]State{{del("x")}}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			for _, b := range tc.batches {
				if err := s.Commit(context.Background(), &Batch{Devices: b}); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]string{}
			if err := s.States(context.Background(), "device", func(id string, blob []byte) error {
				got[id] = string(blob)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("states %v, want %v", got, tc.want)
			}
		})
	}
	for _, n := range []int{statesPerStmt - 1, statesPerStmt, statesPerStmt + 1, 3*statesPerStmt + 7} {
		t.Run(fmt.Sprintf("%d states", n), func(t *testing.T) {
			s := open(t)
			for v := 1; v <= 2; v++ {
				if err := s.Commit(context.Background(), &Batch{Devices: many(n, v)}); err != nil {
					t.Fatal(err)
				}
			}
			seen := 0
			if err := s.States(context.Background(), "device", func(id string, blob []byte) error {
				seen++
				if want := id + "=2"; string(blob) != want {
					t.Errorf("%s: %q, want %q", id, blob, want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if seen != n {
				t.Fatalf("%d states read back, want %d", seen, n)
			}
		})
	}
}
