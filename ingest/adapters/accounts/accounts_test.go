package accounts

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

func demoRegistry(t *testing.T) Registry {
	t.Helper()
	site, err := registry.LoadSite("../../../examples/demo-site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := registry.OpenDB(context.Background(), t.TempDir()+"/r.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := registry.Import(context.Background(), db, site); err != nil {
		t.Fatal(err)
	}
	snap, err := registry.Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return RegistryFunc{
		DeviceFunc: func(id string) (string, devices.Kind, bool) {
			d, ok := snap.Device(id)
			if !ok {
				return "", 0, false
			}
			return d.Gateway.ID, d.Kind, true
		},
		GatewayFunc: func(id string) bool { _, ok := snap.Gateway(id); return ok },
	}
}

func TestExampleFile(t *testing.T) {
	f, err := Load("testdata/accounts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckRegistry(demoRegistry(t)); err != nil {
		t.Fatalf("the example accounts do not fit the demo site:\n%v", err)
	}
	r, err := f.Build()
	if err != nil {
		t.Fatal(err)
	}
	// One message per account, through the router, to the right gateway.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ topic, payload, want string }{
		{"zigbee2mqtt/dt-01/Smoke 201", `{"smoke":true}`, "cw/v1/gw-dt-01/smk-dt-01-201/telemetry"},
		{"tele/athomspv3a/STATE", `{"POWER":"ON"}`, "cw/v1/gw-dt-02/plug-dt-02-201/telemetry"},
		{"shellyplusplugs-80646fd031f8/online", `false`, "cw/v1/gw-my-02/plug-my-02-102/status"},
		{"sites/hn-03/v1/gateway/telemetry", `{"Panel 1":[{"ts":1767225600000,"values":{"temperature":31}}]}`, "cw/v1/gw-hn-03/efm-hn-03/telemetry"},
	} {
		ms, rej := r.Map(tc.topic, []byte(tc.payload), now)
		if len(rej) != 0 || len(ms) == 0 || ms[0].Topic() != tc.want {
			t.Errorf("%s: %+v %v, want %s", tc.topic, ms, rej, tc.want)
		}
	}
	if _, rej := r.Map("somewhere/else", nil, now); len(rej) != 1 || rej[0].Reason != devices.ReasonBadTopic {
		t.Errorf("a topic of no account: %v", rej)
	}
	var acl []string
	for _, e := range f.ACL() {
		acl = append(acl, fmt.Sprintf("%s %s %s", e.Username, e.Access, e.Topic))
	}
	want := []string{
		"z2m-dt-01 readwrite zigbee2mqtt/dt-01/#",
		"plug-athomspv3a write tele/athomspv3a/#", "plug-athomspv3a write stat/athomspv3a/#", "plug-athomspv3a read cmnd/athomspv3a/#",
		"shelly-80646fd031f8 readwrite shellyplusplugs-80646fd031f8/#",
		"tb-hn-03 readwrite sites/hn-03/v1/gateway/#", "tb-hn-03 readwrite sites/hn-03/v1/devices/me/#",
	}
	if strings.Join(acl, "\n") != strings.Join(want, "\n") {
		t.Errorf("ACL:\n%s\nwant:\n%s", strings.Join(acl, "\n"), strings.Join(want, "\n"))
	}
	filters, err := f.Filters()
	if err != nil || len(filters) != 4+2+3+1 {
		t.Errorf("filters %v, %v", filters, err)
	}
	for _, fl := range filters {
		if !adapters.ValidFilter(fl) {
			t.Errorf("invalid filter %q", fl)
		}
	}
}

func TestProblems(t *testing.T) {
	_, err := Parse("bad.yaml", []byte(`
accounts:
  - username: a
    gateway: gw-dt-01
    zigbee2mqtt: {devices: {Smoke: smk-dt-01-201}}
  - username: a
    gateway: GW
    zigbee2mqtt: {devices: {Other: smk-dt-01-102}}
    tasmota: {devices: {x: plug-1}}
  - username: b
    gateway: gw-dt-02
    zigbee2mqtt: {devices: {"bad+name": smk-dt-01-102}}
  - username: c
    gateway: gw-dt-03
    password_hash: secret
    zigbee2mqtt: {devices: {Third: smk-dt-01-301}}
  - username: plugs
    gateway: gw-dt-02
    tasmota: {devices: {p1: plug-1, p2: plug-2}}
`))
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		`accounts[1] (a): username "a" is also accounts[0]'s`,
		`accounts[1] (a): gateway "GW" is not a valid gateway id`,
		"accounts[1] (a): set exactly one of tasmota, shelly, zigbee2mqtt and thingsboard",
		`accounts[2] (b): zigbee2mqtt.devices: friendly name "bad+name"`,
		"accounts[3] (c): password_hash must be a hash",
		"accounts[3] (c): may publish to zigbee2mqtt/#, which accounts[0] (a) may publish to as well",
		"accounts[4] (plugs): tasmota.devices names 2 plugs",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if _, err := Parse("unknown.yaml", []byte("accounts:\n  - usrname: x\n")); err == nil || !strings.Contains(err.Error(), "field usrname not found") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestCheckRegistry(t *testing.T) {
	f, err := Parse("x.yaml", []byte(`
accounts:
  - username: gw-dt-02
    gateway: gw-dt-01
    zigbee2mqtt: {devices: {A: smk-dt-01-201, B: m-dt-01-102, C: smk-none, D: smk-dt-02-401}}
  - username: tb
    gateway: gw-nowhere
    thingsboard: {devices: {X: efm-dt-01}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := f.CheckRegistry(demoRegistry(t)).Error()
	for _, want := range []string{
		`username "gw-dt-02" is a gateway's id`,
		`device "m-dt-01-102" is a meter; a zigbee2mqtt account feeds smoke devices`,
		`device "smk-none" is not registered`,
		`device "smk-dt-02-401" is registered under gateway "smk-dt-02-401", not "gw-dt-01"`,
		`gateway "gw-nowhere" is not registered`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}
