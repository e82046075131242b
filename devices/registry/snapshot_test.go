package registry

import (
	"context"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

func demoSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	ctx := context.Background()
	db, _ := openTestDB(t)
	if _, err := Import(ctx, db, loadDemo(t)); err != nil {
		t.Fatal(err)
	}
	snap, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestSnapshotLookups(t *testing.T) {
	s := demoSnapshot(t)
	for _, tc := range []struct {
		id                                    string
		kind                                  devices.Kind
		gateway, unit                         string
		unitType                              UnitType
		building, community, street, district string
		rated                                 float32
		interval                              time.Duration
		ports                                 uint8
		self                                  bool
	}{
		{"m-dt-01-102", devices.KindMeter, "gw-dt-01", "u-dt-01-102", UnitResidential, "b-dt-01", "c-dt", "st-msx", "d-gs", 32, time.Minute, 1, false},
		{"pile-dt-01-101-2", devices.KindPile, "gw-dt-01", "u-dt-01-101", UnitChargingRoom, "b-dt-01", "c-dt", "st-msx", "d-gs", 32, 30 * time.Second, 10, false},
		{"smk-xj-03-201", devices.KindSmoke, "smk-xj-03-201", "u-xj-03-201", UnitResidential, "b-xj-03", "c-xj", "st-hs", "d-gs", 0, time.Hour, 1, true},
		{"efm-hn-03", devices.KindMonitor, "gw-hn-03", "", UnitUnknown, "b-hn-03", "c-hn", "st-hs", "d-gs", 100, time.Minute, 1, false},
		{"plug-my-03-201", devices.KindPlug, "gw-my-03", "u-my-03-201", UnitWorkshop, "b-my-03", "c-my", "st-msx", "d-gs", 16, time.Minute, 1, false},
	} {
		d, ok := s.Device(tc.id)
		if !ok {
			t.Errorf("Device(%q) not found", tc.id)
			continue
		}
		if d.ID != tc.id || d.Kind != tc.kind || d.Gateway.ID != tc.gateway || d.UnitID() != tc.unit || d.UnitType() != tc.unitType ||
			d.Building.ID != tc.building || d.Community().ID != tc.community || d.Street().ID != tc.street || d.District().ID != tc.district ||
			d.RatedCurrentA != tc.rated || d.Interval != tc.interval || d.PortCount != tc.ports || d.Gateway.SelfConnected != tc.self {
			t.Errorf("Device(%q) = %+v (gateway %s, unit %q %v, building %s, community %s)", tc.id, *d, d.Gateway.ID, d.UnitID(), d.UnitType(), d.Building.ID, d.Community().ID)
		}
		if g, ok := s.Gateway(tc.gateway); !ok || g != d.Gateway {
			t.Errorf("Gateway(%q) is not the device's gateway", tc.gateway)
		}
	}
	if _, ok := s.Device("nope"); ok {
		t.Error(`Device("nope") found`)
	}

	u, ok := s.Unit("u-my-03-101")
	if !ok || u.Type != UnitShop || !u.MixedUse || u.Floor != 1 || u.Room != "101" || u.Building.ID != "b-my-03" {
		t.Errorf("Unit(u-my-03-101) = %+v", u)
	}
	b, ok := s.Building("b-dt-01")
	if !ok || b.Lat < 30 || b.Lat > 31 || b.Lon < 120 || b.Lon > 121 || b.Community.ID != "c-dt" || len(b.Units) != 5 || len(b.Gateways) != 1 {
		t.Errorf("Building(b-dt-01) = %+v", b)
	}
	if len(b.Devices) != 1 || b.Devices[0].ID != "efm-dt-01" {
		t.Errorf("building-level devices of b-dt-01: %v", b.Devices)
	}
	g, _ := s.Gateway("gw-dt-01")
	for _, d := range g.Devices {
		if d.Gateway != g {
			t.Errorf("device %s listed under gateway %s belongs to %s", d.ID, g.ID, d.Gateway.ID)
		}
	}
	c, ok := s.Community("c-xj")
	if !ok || c.Street.ID != "st-hs" || c.Street.District.ID != "d-gs" || len(c.Buildings) != 3 {
		t.Errorf("Community(c-xj) = %+v", c)
	}
	p, ok := s.Person("p-fire-gs")
	if !ok || !p.Roles.Has(RoleFireBrigade) || !p.Roles.Has(RoleViewer) || p.Roles.Has(RoleAdmin) ||
		len(p.Districts) != 1 || p.Contacts[0].Channel != ChannelWebhook || p.Locale != LocaleZH {
		t.Errorf("Person(p-fire-gs) = %+v", p)
	}
	if v, _ := s.Person("p-viewer-1"); v.Locale != LocaleEN {
		t.Errorf("locale of p-viewer-1 = %q", v.Locale)
	}

	n, prev := 0, ""
	for d := range s.Devices() {
		if d.ID <= prev {
			t.Fatalf("Devices not in id order: %s after %s", d.ID, prev)
		}
		prev = d.ID
		n++
	}
	if n != s.Counts().Devices {
		t.Errorf("Devices yielded %d, Counts says %d", n, s.Counts().Devices)
	}
}

func TestDeviceIsCompact(t *testing.T) {
	// 1M devices must fit in memory with room to spare; keep the struct
	// small (pointers to shared places, interned models).
	var d Device
	if size := unsafeSizeof(d); size > 96 {
		t.Errorf("Device is %d bytes, want at most 96", size)
	}
}

func BenchmarkSnapshotDevice(b *testing.B) {
	ctx := context.Background()
	db, err := OpenDB(ctx, b.TempDir()+"/registry.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	site, err := LoadSite(demoSite)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Import(ctx, db, site); err != nil {
		b.Fatal(err)
	}
	s, err := Load(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	topic := []byte("cw/v1/gw-xj-02/pile-xj-02-101-2/telemetry")
	id := string(topic[15:31]) // as a parsed topic holds it
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, ok := s.Device(id)
		if !ok || d.Community().ID != "c-xj" {
			b.Fatal("lookup failed")
		}
	}
}

func TestSnapshotNames(t *testing.T) {
	s := demoSnapshot(t)
	for _, tc := range []struct {
		name                                        string
		district, street, community, building, unit string
		device                                      string
		want                                        PlaceNames
	}{
		{"a whole place", "d-gs", "st-msx", "c-dt", "b-dt-01", "u-dt-01-101", "pile-dt-01-101-2", PlaceNames{
			District: "拱墅区", Street: "米市巷街道", Community: "大塘巷社区", Building: "大塘新村1幢", Address: "杭州市拱墅区大塘巷12号",
			Unit: "集中充电间", Room: "101"}},
		{"a unit without a name", "", "", "", "", "u-dt-01-102", "", PlaceNames{Room: "102"}},
		{"places the registry does not have", "d-x", "st-x", "c-x", "b-x", "u-x", "m-x", PlaceNames{}},
		{"nothing asked", "", "", "", "", "", "", PlaceNames{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Names(tc.district, tc.street, tc.community, tc.building, tc.unit, tc.device); got != tc.want {
				t.Errorf("Names = %+v, want %+v", got, tc.want)
			}
		})
	}
}
