package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/internal/migratetest"
)

// fixtureSummary is what was written into testdata/migrations/vN.db, in
// vN.json: v1 by internal/upgradetest/testdata/writer with chargewatch
// v0.1.0, later versions by fillFixture.
type fixtureSummary struct {
	Token     string           `json:"token"`
	TokenID   int64            `json:"token_id"`
	SilenceID int64            `json:"silence_id"`
	Alerts    []alerting.Alert `json:"alerts"`
	AuditIDs  []int64          `json:"audit_ids"`
	// Revoked is a revoked token's record (from v2, which records who
	// revoked it).
	Revoked *Token `json:"revoked,omitempty"`
}

// TestMigrationFixtures migrates the committed fixture of every earlier
// schema version and checks that nothing was lost, also through the
// store's API.
func TestMigrationFixtures(t *testing.T) {
	migratetest.Run(t, migratetest.Config{
		Dir:     "testdata/migrations",
		Current: SchemaVersion(),
		Open: func(ctx context.Context, path string) (io.Closer, error) {
			return Open(ctx, path, Options{})
		},
		Fill: fillFixture,
		Check: func(t *testing.T, path string, version int) {
			b, err := os.ReadFile(fmt.Sprintf("testdata/migrations/v%d.json", version))
			if err != nil {
				t.Fatalf("the summary of fixture v%d: %v", version, err)
			}
			var sum fixtureSummary
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, want := range sum.Alerts {
				got, err := st.Alert(ctx, want.ID)
				if err != nil {
					t.Errorf("alert %d: %v", want.ID, err)
					continue
				}
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("alert %d after migration:\n got %+v\nwant %+v", want.ID, *got, want)
				}
			}
			var ids []int64
			for _, a := range sum.Alerts {
				au, err := st.Audit(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range au {
					ids = append(ids, e.ID)
				}
			}
			if len(ids) != len(sum.AuditIDs) {
				t.Errorf("audit entries %v, want %v", ids, sum.AuditIDs)
			}
			tok, err := st.Authenticate(ctx, sum.Token, 1767225600000)
			if err != nil || tok.ID != sum.TokenID {
				t.Errorf("the token made before the upgrade: %+v, %v", tok, err)
			}
			if _, err := st.Silence(ctx, sum.SilenceID); err != nil {
				t.Errorf("silence %d: %v", sum.SilenceID, err)
			}
			if version >= 2 && sum.Revoked == nil {
				t.Errorf("the summary of fixture v%d has no revoked token", version)
			}
			toks, err := st.Tokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Revoked != nil {
				i := slices.IndexFunc(toks, func(x Token) bool { return x.ID == sum.Revoked.ID })
				if i < 0 || !reflect.DeepEqual(toks[i], *sum.Revoked) {
					t.Errorf("the revoked token after migration: %+v, want %+v", toks, *sum.Revoked)
				}
			}
			// A token of the old database can be revoked, and who did it is
			// recorded.
			rec, err := st.RevokeToken(ctx, sum.TokenID, 1767225700000, "p-admin")
			if err != nil || rec.RevokedAt != 1767225700000 || rec.RevokedBy != "p-admin" {
				t.Errorf("revoke the token made before the upgrade: %+v, %v", rec, err)
			}
			if _, err := st.Authenticate(ctx, sum.Token, 1767225800000); !errors.Is(err, ErrBadToken) {
				t.Errorf("the revoked token still authenticates: %v", err)
			}
		},
	})
}

// fillFixture writes a fixture of the current schema version with the
// current code: the content of the v0.1.0 writer
// (internal/upgradetest/testdata/writer), plus what later versions added (a
// revoked token, with who revoked it). It writes the summary the checks
// read as testdata/migrations/vN.json beside the fixture.
func fillFixture(ctx context.Context, path string) error {
	var sum fixtureSummary
	st, err := Open(ctx, path, Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	const t0 = int64(1767225600000) // 2026-01-01T00:00:00Z
	loc := alerting.Location{District: "d-gs", Street: "st-msx", Community: "c-dt", Building: "b-dt-01",
		Unit: "u-dt-01-102", UnitType: "residential", Gateway: "gw-dt-01"}
	smokeLoc, meterLoc := loc, loc
	smokeLoc.Device, smokeLoc.Kind = "smk-dt-01-102", "smoke"
	meterLoc.Device, meterLoc.Kind = "m-dt-01-102", "meter"
	alerts := []*alerting.Alert{
		{ID: 1, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical, State: alerting.StateFiring,
			PlaceKind: alerting.PlaceDevice, Place: "smk-dt-01-102", Location: smokeLoc, Summary: "smoke alarm",
			Value: 1, Limit: 1, Sources: []string{"smk-dt-01-102"},
			Evidence:  []alerting.Sample{{TS: t0, Device: "smk-dt-01-102", Values: map[string]float64{"smoke": 1}}},
			StartedAt: t0, FiredAt: t0, UpdatedAt: t0 + 10},
		{ID: 2, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateClosed,
			PlaceKind: alerting.PlaceDevice, Place: "m-dt-01-102", Location: meterLoc, Summary: "overload",
			Value: 41.5, Limit: 32, Unit: "A", Sources: []string{"m-dt-01-102"},
			StartedAt: t0 - 86400000, FiredAt: t0 - 86340000, AckedAt: t0 - 86000000, AckedBy: "p-wang-fang",
			ResolvedAt: t0 - 85000000, ClosedAt: t0 - 80000000, ClosedBy: "p-wang-fang", Outcome: alerting.OutcomeRectified,
			Note: "tenant moved the heater", UpdatedAt: t0 - 80000000},
		{ID: 3, Rule: alerting.RuleIndoorCharging, Severity: alerting.SeverityMajor, State: alerting.StateAcknowledged,
			PlaceKind: alerting.PlaceUnit, Place: "u-dt-01-102", Location: loc, Summary: "e-bike charging indoors",
			Value: 160, Limit: 70, Unit: "W", Sources: []string{"m-dt-01-102"},
			StartedAt: t0 - 3600000, FiredAt: t0 - 3000000, AckedAt: t0 - 2000000, AckedBy: "p-wang-fang", UpdatedAt: t0 - 2000000},
	}
	b := &Batch{
		Alerts: alerts,
		Audit: []alerting.Audit{
			{AlertID: 2, At: t0 - 86340000, EventTS: t0 - 86340000, Actor: alerting.ActorEngine, Action: alerting.ActionFire, To: alerting.StateFiring, Severity: alerting.SeverityMajor},
			{AlertID: 2, At: t0 - 86000000, Actor: "p-wang-fang", Action: alerting.ActionAck, From: alerting.StateFiring, To: alerting.StateAcknowledged, Severity: alerting.SeverityMajor},
			{AlertID: 2, At: t0 - 85000000, Actor: alerting.ActorEngine, Action: alerting.ActionResolve, From: alerting.StateAcknowledged, To: alerting.StateResolved, Severity: alerting.SeverityMajor},
			{AlertID: 2, At: t0 - 80000000, Actor: "p-wang-fang", Action: alerting.ActionClose, From: alerting.StateResolved, To: alerting.StateClosed, Outcome: alerting.OutcomeRectified, Note: "tenant moved the heater", Severity: alerting.SeverityMajor},
			{AlertID: 3, At: t0 - 3000000, Actor: alerting.ActorEngine, Action: alerting.ActionFire, To: alerting.StateFiring, Severity: alerting.SeverityMajor},
			{AlertID: 3, At: t0 - 2000000, Actor: "p-wang-fang", Action: alerting.ActionAck, From: alerting.StateFiring, To: alerting.StateAcknowledged, Severity: alerting.SeverityMajor},
			{AlertID: 1, At: t0, EventTS: t0, Actor: alerting.ActorEngine, Action: alerting.ActionFire, To: alerting.StateFiring, Severity: alerting.SeverityCritical},
		},
		Devices:  []State{{ID: "m-dt-01-102", Blob: []byte{1, 2, 3, 4}}, {ID: "smk-dt-01-102", Blob: []byte{5, 6}}},
		Gateways: []State{{ID: "gw-dt-01", Blob: []byte{7}}},
		Meta:     map[string][]byte{"cursor.telemetry": []byte("0000000000000001:0000000000000123"), "cursor.events": []byte("0000000000000001:0000000000000045")},
	}
	if err := st.Commit(ctx, b); err != nil {
		return err
	}
	for _, a := range alerts {
		sum.Alerts = append(sum.Alerts, *a)
	}
	for _, au := range b.Audit {
		sum.AuditIDs = append(sum.AuditIDs, au.ID)
	}
	sl, err := st.CreateSilence(ctx, alerting.Silence{Device: "m-dt-01-201", Reason: "breaker being replaced",
		StartsAt: t0, EndsAt: t0 + 7*86400000, CreatedBy: "p-wang-fang", CreatedAt: t0,
		Location: alerting.Location{District: "d-gs", Street: "st-msx", Community: "c-dt", Building: "b-dt-01", Device: "m-dt-01-201"}})
	if err != nil {
		return err
	}
	sum.SilenceID = sl.ID
	tok, rec, err := st.CreateToken(ctx, Token{Name: "grafana", Role: "viewer", CreatedBy: "upgrade-test", CreatedAt: t0})
	if err != nil {
		return err
	}
	sum.Token, sum.TokenID = tok, rec.ID
	_, rec, err = st.CreateToken(ctx, Token{Name: "laptop of Wang Fang", Person: "p-wang-fang", CreatedBy: "p-admin",
		CreatedAt: t0 - 86400000, ExpiresAt: t0 + 30*86400000})
	if err != nil {
		return err
	}
	if rec, err = st.RevokeToken(ctx, rec.ID, t0-3600000, "p-admin"); err != nil {
		return err
	}
	sum.Revoked = &rec
	if _, err := st.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	js, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	return os.WriteFile(fmt.Sprintf("testdata/migrations/v%d.json", SchemaVersion()), append(js, '\n'), 0o644)
}
