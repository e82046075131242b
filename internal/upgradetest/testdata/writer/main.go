// Command writer fills a registry database and an alert database with the
// APIs of chargewatch v0.1.0. It is not part of the module's packages (it
// lives under testdata): the upgrade test copies it into a checkout of the
// pinned tag and runs it there, and the migration fixtures
// (devices/registry/testdata/migrations/v1.db,
// alerting/store/testdata/migrations/v1.db) were made with it.
//
// Keep it to the APIs of v0.1.0: it is compiled against that version only.
//
//	go run ./cmd/cwwriter -site examples/demo-site.yaml -registry R.db -alerts A.db
//
// It prints a JSON summary on stdout that the new version checks against.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// Summary is what the writer wrote.
type Summary struct {
	Generation int64            `json:"generation"`
	Devices    int              `json:"devices"`
	Gateways   int              `json:"gateways"`
	People     int              `json:"people"`
	Token      string           `json:"token"`
	TokenID    int64            `json:"token_id"`
	SilenceID  int64            `json:"silence_id"`
	Alerts     []alerting.Alert `json:"alerts"`
	AuditIDs   []int64          `json:"audit_ids"`
}

func main() {
	site := flag.String("site", "examples/demo-site.yaml", "site file")
	regPath := flag.String("registry", "", "registry database to create")
	alertsPath := flag.String("alerts", "", "alert database to create")
	flag.Parse()
	if err := run(*site, *regPath, *alertsPath); err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		os.Exit(1)
	}
}

func run(sitePath, regPath, alertsPath string) error {
	ctx := context.Background()
	var sum Summary

	s, err := registry.LoadSite(sitePath)
	if err != nil {
		return err
	}
	db, err := registry.OpenDB(ctx, regPath)
	if err != nil {
		return err
	}
	ch, err := registry.Import(ctx, db, s)
	if err != nil {
		return err
	}
	snap, err := registry.Load(ctx, db)
	if err != nil {
		return err
	}
	c := snap.Counts()
	sum.Generation, sum.Devices, sum.Gateways, sum.People = ch.Generation, c.Devices, c.Gateways, c.People
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}

	st, err := store.Open(ctx, alertsPath, store.Options{})
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
	b := &store.Batch{
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
		Devices:  []store.State{{ID: "m-dt-01-102", Blob: []byte{1, 2, 3, 4}}, {ID: "smk-dt-01-102", Blob: []byte{5, 6}}},
		Gateways: []store.State{{ID: "gw-dt-01", Blob: []byte{7}}},
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
	tok, t, err := st.CreateToken(ctx, store.Token{Name: "grafana", Role: "viewer", CreatedBy: "upgrade-test", CreatedAt: t0})
	if err != nil {
		return err
	}
	sum.Token, sum.TokenID = tok, t.ID
	return json.NewEncoder(os.Stdout).Encode(sum)
}
