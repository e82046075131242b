package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// lifecycleRig is a registry imported from a copy of the demo site.
type lifecycleRig struct {
	t    *testing.T
	ctx  context.Context
	db   *sql.DB
	site string
}

func newLifecycleRig(t *testing.T) *lifecycleRig {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(demoSite)
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(site, src, 0o640); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := LoadSite(site)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ImportBy(ctx, db, s, "installer-1", "first import"); err != nil {
		t.Fatal(err)
	}
	return &lifecycleRig{t: t, ctx: ctx, db: db, site: site}
}

func (r *lifecycleRig) snapshot() *Snapshot {
	r.t.Helper()
	s, err := Load(r.ctx, r.db)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *lifecycleRig) file() string {
	r.t.Helper()
	b, err := os.ReadFile(r.site)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// inSync checks that importing the site file now changes nothing: the site
// file and the registry tell the same story.
func (r *lifecycleRig) inSync() {
	r.t.Helper()
	s, err := LoadSite(r.site)
	if err != nil {
		r.t.Fatalf("the edited site file is invalid: %v", err)
	}
	ch, err := DryRunImport(r.ctx, r.db, s)
	if err != nil {
		r.t.Fatal(err)
	}
	if ch.Changed() {
		r.t.Fatalf("site file and registry differ after the change: %+v", ch)
	}
}

// changedLines returns the lines of b that are not in a, and those of a not in b.
func changedLines(a, b string) (added, removed []string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for _, l := range bl {
		if !slices.Contains(al, l) {
			added = append(added, l)
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

func TestReplaceDeviceSameID(t *testing.T) {
	r := newLifecycleRig(t)
	before, prev := r.file(), r.snapshot()
	timeNow = func() time.Time { return time.UnixMilli(1767225600000) }
	defer func() { timeNow = time.Now }()
	res, err := ReplaceDevice(r.ctx, r.db, r.site, Replace{Device: "smk-dt-01-102", Model: "Heiman HS1SA"}, Change{By: "installer-1", Note: "WO-17: detector dead"})
	if err != nil {
		t.Fatal(err)
	}
	added, removed := changedLines(before, r.file())
	if len(added) != 1 || len(removed) != 1 || added[0] != "  - {id: smk-dt-01-102, kind: smoke, model: Heiman HS1SA, gateway: gw-dt-01, unit: u-dt-01-102, interval: 30m}" {
		t.Fatalf("site file changes: +%q -%q", added, removed)
	}
	r.inSync()
	next := r.snapshot()
	if next.Generation() <= prev.Generation() {
		t.Errorf("generation %d, was %d: running servers would not reload", next.Generation(), prev.Generation())
	}
	d, _ := next.Device("smk-dt-01-102")
	if d.Model != "Heiman HS1SA" || d.Unit.ID != "u-dt-01-102" || d.Gateway.ID != "gw-dt-01" {
		t.Errorf("device after replacement: %+v", d)
	}
	if at, ok := next.ReplacedAt("smk-dt-01-102"); !ok || at != 1767225600000 {
		t.Errorf("ReplacedAt = %d, %v", at, ok)
	}
	if got := ReplacedDevices(prev, next); !slices.Equal(got, []string{"smk-dt-01-102"}) {
		t.Errorf("ReplacedDevices = %v: the ingester must restart this device's seq accounting", got)
	}
	if got := ReplacedDevices(next, next); len(got) != 0 {
		t.Errorf("ReplacedDevices of one snapshot = %v", got)
	}
	if len(res.Reminders) == 0 || !strings.Contains(res.Reminders[0], "seq counter") {
		t.Errorf("reminders: %q", res.Reminders)
	}
	// The same device replaced again at the same millisecond still gets its row.
	if _, err := ReplaceDevice(r.ctx, r.db, r.site, Replace{Device: "smk-dt-01-102"}, Change{By: "installer-1"}); err != nil {
		t.Fatal(err)
	}
	lin, err := Lineage(r.ctx, r.db, "smk-dt-01-102")
	if err != nil || len(lin) != 2 || lin[0].At != lin[1].At+1 {
		t.Fatalf("lineage = %+v, %v", lin, err)
	}
	entries, err := AuditLog(r.ctx, r.db, AuditFilter{Subject: "smk-dt-01-102"})
	if err != nil || len(entries) != 2 || entries[1].Action != ActionReplaceDevice || entries[1].Actor != "installer-1" || entries[1].Note != "WO-17: detector dead" {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	var detail map[string]any
	if err := json.Unmarshal(entries[1].Detail, &detail); err != nil || detail["model_before"] != "Zigbee JTY-GD-Z100" || detail["model_after"] != "Heiman HS1SA" {
		t.Errorf("detail = %s", entries[1].Detail)
	}
}

func TestReplaceSelfConnectedWithNewID(t *testing.T) {
	r := newLifecycleRig(t)
	prev := r.snapshot()
	res, err := ReplaceDevice(r.ctx, r.db, r.site, Replace{Device: "smk-dt-02-401", NewID: "smk-dt-02-401b"}, Change{By: "installer-2"})
	if err != nil {
		t.Fatal(err)
	}
	r.inSync()
	next := r.snapshot()
	if _, ok := next.Device("smk-dt-02-401"); ok {
		t.Error("the old id is still registered")
	}
	d, ok := next.Device("smk-dt-02-401b")
	if !ok || d.Gateway.ID != "smk-dt-02-401b" || !d.Gateway.SelfConnected || d.Unit.ID != "u-dt-02-401" {
		t.Fatalf("new device: %+v", d)
	}
	got := ReplacedDevices(prev, next)
	slices.Sort(got)
	if !slices.Equal(got, []string{"smk-dt-02-401", "smk-dt-02-401b"}) {
		t.Errorf("ReplacedDevices = %v", got)
	}
	lin, err := Lineage(r.ctx, r.db, "smk-dt-02-401b")
	if err != nil || len(lin) != 1 || lin[0].Previous != "smk-dt-02-401" {
		t.Fatalf("lineage = %+v, %v", lin, err)
	}
	// The old id's audit trail leads to the new one.
	if e, _ := AuditLog(r.ctx, r.db, AuditFilter{Subject: "smk-dt-02-401b"}); len(e) != 1 {
		t.Errorf("audit by the new id: %+v", e)
	}
	if !strings.Contains(strings.Join(res.Reminders, "\n"), "mqtt-auth") {
		t.Errorf("reminders lack the broker account: %q", res.Reminders)
	}
	// A taken id is refused and nothing changes.
	before := r.file()
	if _, err := ReplaceDevice(r.ctx, r.db, r.site, Replace{Device: "m-dt-01-102", NewID: "m-dt-01-201"}, Change{By: "x"}); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("replace onto a taken id: %v", err)
	}
	if r.file() != before {
		t.Error("a refused change edited the site file")
	}
}

func TestMoveDevice(t *testing.T) {
	r := newLifecycleRig(t)
	before := r.file()
	if _, err := MoveDevice(r.ctx, r.db, r.site, Move{Device: "m-dt-01-102", Unit: "u-dt-01-201", Gateway: "gw-dt-02"}, Change{By: "installer-1"}); err != nil {
		t.Fatal(err)
	}
	added, _ := changedLines(before, r.file())
	if len(added) != 1 || added[0] != "  - {id: m-dt-01-102, kind: meter, model: DELIXI DDSU606, gateway: gw-dt-02, unit: u-dt-01-201, rated_current_a: 32}" {
		t.Fatalf("site file: +%q", added)
	}
	r.inSync()
	d, _ := r.snapshot().Device("m-dt-01-102")
	if d.Unit.ID != "u-dt-01-201" || d.Gateway.ID != "gw-dt-02" {
		t.Errorf("after move: unit %s gateway %s", d.UnitID(), d.Gateway.ID)
	}
	// From a unit to a whole building and back.
	if _, err := MoveDevice(r.ctx, r.db, r.site, Move{Device: "m-dt-01-102", Building: "b-dt-02"}, Change{By: "installer-1"}); err != nil {
		t.Fatal(err)
	}
	r.inSync()
	if d, _ := r.snapshot().Device("m-dt-01-102"); d.Unit != nil || d.Building.ID != "b-dt-02" {
		t.Errorf("after move to a building: %+v", d)
	}
	if _, err := MoveDevice(r.ctx, r.db, r.site, Move{Device: "m-dt-01-102", Unit: "u-dt-01-102"}, Change{By: "installer-1"}); err != nil {
		t.Fatal(err)
	}
	r.inSync()
	// Refusals change nothing.
	before = r.file()
	gen := r.snapshot().Generation()
	for _, tc := range []struct {
		m    Move
		want string
	}{
		{Move{Device: "m-dt-01-102", Unit: "u-nowhere"}, `refers to unit "u-nowhere", which is not defined`},
		{Move{Device: "m-dt-01-102", Unit: "u-dt-01-102"}, "already there"},
		{Move{Device: "m-nope", Unit: "u-dt-01-102"}, `no device entry with id "m-nope"`},
		{Move{Device: "m-dt-01-102"}, "nothing to move"},
	} {
		_, err := MoveDevice(r.ctx, r.db, r.site, tc.m, Change{By: "installer-1"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("MoveDevice(%+v) = %v, want %q", tc.m, err, tc.want)
		}
	}
	if r.file() != before || r.snapshot().Generation() != gen {
		t.Error("a refused move changed something")
	}
	if e, _ := AuditLog(r.ctx, r.db, AuditFilter{Subject: "m-dt-01-102"}); len(e) != 3 || e[0].Action != ActionMoveDevice {
		t.Errorf("audit: %+v", e)
	}
}

func TestDecommissionGateway(t *testing.T) {
	r := newLifecycleRig(t)
	snap := r.snapshot()
	gw, _ := snap.Gateway("gw-dt-03")
	n := len(gw.Devices)
	if n == 0 {
		t.Fatal("demo gateway gw-dt-03 has no devices")
	}
	_, err := DecommissionGateway(r.ctx, r.db, r.site, Decommission{Gateway: "gw-dt-03"}, Change{By: "installer-1"})
	if err == nil || !strings.Contains(err.Error(), "still has") {
		t.Fatalf("decommission with devices left: %v", err)
	}
	if _, err := DecommissionGateway(r.ctx, r.db, r.site, Decommission{Gateway: "smk-dt-02-401"}, Change{By: "installer-1"}); err == nil || !strings.Contains(err.Error(), "connects by itself") {
		t.Errorf("decommission of a self-connected device: %v", err)
	}
	res, err := DecommissionGateway(r.ctx, r.db, r.site, Decommission{Gateway: "gw-dt-03", MoveDevicesTo: "gw-dt-02"}, Change{By: "installer-1", Note: "gateway burnt"})
	if err != nil {
		t.Fatal(err)
	}
	r.inSync()
	snap = r.snapshot()
	if _, ok := snap.Gateway("gw-dt-03"); ok {
		t.Error("gateway still registered")
	}
	gw2, _ := snap.Gateway("gw-dt-02")
	var detail struct {
		Devices []string `json:"devices"`
		MovedTo string   `json:"devices_moved_to"`
	}
	if err := json.Unmarshal(res.Audit.Detail, &detail); err != nil || len(detail.Devices) != n || detail.MovedTo != "gw-dt-02" {
		t.Errorf("detail %s", res.Audit.Detail)
	}
	for _, id := range detail.Devices {
		if d, ok := snap.Device(id); !ok || d.Gateway != gw2 {
			t.Errorf("device %s not moved to gw-dt-02", id)
		}
	}
	// Remove a gateway with its devices.
	gw1, _ := snap.Gateway("gw-dt-01")
	gone := []string{}
	for _, d := range gw1.Devices {
		gone = append(gone, d.ID)
	}
	if _, err := DecommissionGateway(r.ctx, r.db, r.site, Decommission{Gateway: "gw-dt-01", RemoveDevices: true}, Change{By: "installer-1"}); err != nil {
		t.Fatal(err)
	}
	r.inSync()
	snap = r.snapshot()
	for _, id := range gone {
		if _, ok := snap.Device(id); ok {
			t.Errorf("device %s of the removed gateway is still registered", id)
		}
	}
	if strings.Contains(r.file(), "gw-dt-01") {
		t.Error("the site file still names gw-dt-01")
	}
}

func TestLifecycleRefusesOutOfSyncSite(t *testing.T) {
	r := newLifecycleRig(t)
	edited := strings.Replace(r.file(), "model: DELIXI DDSU606, gateway: gw-dt-01, unit: u-dt-01-102", "model: CHINT DDSU666, gateway: gw-dt-01, unit: u-dt-01-102", 1)
	if err := os.WriteFile(r.site, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}
	gen := r.snapshot().Generation()
	_, err := MoveDevice(r.ctx, r.db, r.site, Move{Device: "m-dt-01-201", Gateway: "gw-dt-02"}, Change{By: "installer-1"})
	var sync *SiteOutOfSyncError
	if !errors.As(err, &sync) || sync.Changes.Devices.Updated != 1 || !strings.Contains(err.Error(), "devices +0 ~1 -0") {
		t.Fatalf("err = %v, want a SiteOutOfSyncError naming one updated device", err)
	}
	if r.file() != edited || r.snapshot().Generation() != gen {
		t.Error("a refused change changed the site file or the registry")
	}
	if _, err := MoveDevice(r.ctx, r.db, r.site, Move{Device: "m-dt-01-201", Gateway: "gw-dt-02"}, Change{}); err == nil || !strings.Contains(err.Error(), "--by") {
		t.Errorf("no actor: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(r.site))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left a temporary file: %s", e.Name())
		}
	}
}

func TestLifecycleCommands(t *testing.T) {
	r := newLifecycleRig(t)
	db := filepath.Join(filepath.Dir(r.site), "registry.db")
	r.db.Close()
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"replace", "--db", db, "--by", "wang", "smk-dt-01-102"}, ExitInvalid, "", "--site FILE is required"},
		{[]string{"replace", "--db", db, "--site", r.site, "--by", "wang", "--model", "Heiman HS1SA", "smk-dt-01-102"}, ExitOK, "replaced smk-dt-01-102: audit entry 2", ""},
		{[]string{"move", "--db", db, "--site", r.site, "--by", "wang", "--unit", "u-dt-01-201", "m-dt-01-102"}, ExitOK, "moved m-dt-01-102", ""},
		{[]string{"move", "--db", db, "--site", r.site, "--by", "wang", "--unit", "u-x", "m-dt-01-102"}, ExitInvalid, "", `unit "u-x"`},
		{[]string{"decommission", "--db", db, "--site", r.site, "--by", "wang", "--remove-devices", "gw-hn-03"}, ExitOK, "mqtt-auth", ""},
		{[]string{"audit", "--db", db}, ExitOK, "decommission_gateway", ""},
		{[]string{"audit", "--db", db, "--subject", "smk-dt-01-102"}, ExitOK, "lineage: smk-dt-01-102 got new hardware", ""},
		{[]string{"audit", "--db", db, "--json", "--limit", "1"}, ExitOK, `"action": "decommission_gateway"`, ""},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout, stderr)
		}
	}
}
