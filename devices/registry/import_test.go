package registry

import (
	"context"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

func loadDemo(t *testing.T) *Site {
	t.Helper()
	site, err := LoadSite(demoSite)
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func TestImportCounts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t)
	site := loadDemo(t)
	self := 0
	for _, d := range site.Devices {
		if d.Gateway == d.ID {
			self++
		}
	}

	ch, err := Import(ctx, db, site)
	if err != nil {
		t.Fatal(err)
	}
	want := Changes{
		Generation:  1,
		Districts:   Count{Added: len(site.Districts)},
		Streets:     Count{Added: len(site.Streets)},
		Communities: Count{Added: len(site.Communities)},
		Buildings:   Count{Added: len(site.Buildings)},
		Units:       Count{Added: len(site.Units)},
		Gateways:    Count{Added: len(site.Gateways) + self},
		Devices:     Count{Added: len(site.Devices)},
		People:      Count{Added: len(site.People)},
		Rosters:     Count{Added: len(site.Rosters)},
	}
	if *ch != want {
		t.Fatalf("first import:\n got %+v\nwant %+v", *ch, want)
	}

	// The same site again changes nothing and keeps the generation.
	ch, err = Import(ctx, db, site)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Changed() || ch.Generation != 1 || ch.Devices.Unchanged != len(site.Devices) || ch.People.Unchanged != len(site.People) {
		t.Fatalf("second import of the same site: %+v", *ch)
	}

	// Change a little of everything.
	site.Units[0].MixedUse = !site.Units[0].MixedUse                                                                                                      // updated unit
	site.Devices = site.Devices[1:]                                                                                                                       // removed device (a meter)
	site.Devices[0].Interval *= 2                                                                                                                         // updated device
	site.Devices = append(site.Devices, DeviceSpec{ID: "smk-new", Kind: devices.KindSmoke, Gateway: "smk-new", Unit: site.Units[1].ID, Interval: 3600e9}) // added device and implicit gateway
	site.People[0].Contacts = append(site.People[0].Contacts, ContactSpec{Channel: ChannelEmail, Address: "x@example.org"})                               // updated person
	site.People[1].Communities = site.People[1].Communities[:1]                                                                                           // updated person (scope)
	site.Rosters[0].To = 21 * 60                                                                                                                          // a changed roster: removed and added
	var dropped []RosterSpec
	for _, r := range site.Rosters {
		if r.Person != site.People[1].ID || r.Community == site.People[1].Communities[0] {
			dropped = append(dropped, r)
		}
	}
	rosterRemoved := len(site.Rosters) - len(dropped)
	site.Rosters = dropped
	ch, err = Import(ctx, db, site)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want Count) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	check("districts", ch.Districts, Count{Unchanged: len(site.Districts)})
	check("units", ch.Units, Count{Updated: 1, Unchanged: len(site.Units) - 1})
	check("devices", ch.Devices, Count{Added: 1, Updated: 1, Removed: 1, Unchanged: len(site.Devices) - 2})
	check("gateways", ch.Gateways, Count{Added: 1, Unchanged: len(site.Gateways) + self})
	check("people", ch.People, Count{Updated: 2, Unchanged: len(site.People) - 2})
	check("rosters", ch.Rosters, Count{Added: 1, Removed: 1 + rosterRemoved, Unchanged: len(site.Rosters) - 1})
	if ch.Generation != 2 {
		t.Errorf("generation %d after a change, want 2", ch.Generation)
	}

	// What was imported is what loads.
	snap, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Device("smk-new"); !ok {
		t.Error("added device missing from the snapshot")
	}
	p, _ := snap.Person(site.People[0].ID)
	if len(p.Contacts) != len(site.People[0].Contacts) || p.Contacts[len(p.Contacts)-1].Address != "x@example.org" {
		t.Errorf("contacts of %s: %+v", p.ID, p.Contacts)
	}
}

func TestImportRejectsInvalidSite(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t)
	site := loadDemo(t)
	site.Devices[3].Unit = "u-missing"
	if _, err := Import(ctx, db, site); err == nil {
		t.Fatal("Import of an invalid site succeeded")
	}
	if g, _ := Generation(ctx, db); g != 0 {
		t.Errorf("generation %d after a refused import, want 0", g)
	}
}

func TestDryRunImport(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t)
	ch, err := DryRunImport(ctx, db, loadDemo(t))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Devices.Added == 0 {
		t.Errorf("dry run reports no devices to add: %+v", ch)
	}
	snap, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Counts() != (Counts{}) || snap.Generation() != 0 {
		t.Errorf("dry run changed the registry: %+v, generation %d", snap.Counts(), snap.Generation())
	}
}
