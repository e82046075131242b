// Package sitegen makes a registry site for a generated city and writes
// registry site files, so that what cw-sim simulates can be imported into
// the registry (`cw-sim site --scenario X -o site.yaml`, then
// `chargewatch devices import`).
//
// A generated city has, per building, a gateway on an RS-485 bus with a
// smart meter per unit and an electrical-fire monitor at the main panel;
// a smoke detector per unit (Zigbee through the building gateway, or NB-IoT
// connecting by itself); smart plugs in a few homes; and designated charging
// rooms with 4G charging piles that connect by themselves. Ground floors
// hold shops and workshops, some of them lived in ("three-in-one"). Every
// community has a grid worker on duty round the clock, every street an
// officer.
package sitegen

import (
	"fmt"
	"math"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/rng"
	"github.com/chargewatch/chargewatch/simulators/scenario"
)

var chineseDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

func cn(n int) string {
	if n >= 0 && n <= 10 {
		return chineseDigits[n]
	}
	return fmt.Sprint(n)
}

// Generate makes the site of a generated city. The same seed and settings
// give the same site.
func Generate(seed uint64, g scenario.Generate, iv scenario.Intervals) *registry.Site {
	s := &registry.Site{}
	r := rng.New(seed, rng.Key("sitegen"))
	var communities []string
	for di := 1; di <= g.Districts; di++ {
		did := fmt.Sprintf("d%d", di)
		s.Districts = append(s.Districts, registry.DistrictSpec{ID: did, Name: fmt.Sprintf("模拟%s区", cn(di))})
		for si := 1; si <= g.StreetsPerDistrict; si++ {
			sid := fmt.Sprintf("%s-s%d", did, si)
			s.Streets = append(s.Streets, registry.StreetSpec{ID: sid, Name: fmt.Sprintf("第%s街道", cn(si)), District: did})
			s.People = append(s.People, registry.PersonSpec{
				ID: "p-officer-" + sid, Name: fmt.Sprintf("街道值班员%s", sid),
				Roles: registry.RoleSet(0).With(registry.RoleStreetOfficer), Streets: []string{sid},
				Contacts: []registry.ContactSpec{{Channel: registry.ChannelSMS, Address: phone(len(s.People))}},
				Locale:   registry.LocaleZH,
			})
			s.Rosters = append(s.Rosters, registry.RosterSpec{Person: "p-officer-" + sid, Street: sid, Days: registry.EveryDay, From: 0, To: 1440})
			for ci := 1; ci <= g.CommunitiesPerStreet; ci++ {
				cid := fmt.Sprintf("%s-c%d", sid, ci)
				communities = append(communities, cid)
				s.Communities = append(s.Communities, registry.CommunitySpec{ID: cid, Name: fmt.Sprintf("%s%s社区", s.Streets[len(s.Streets)-1].Name, cn(ci)), Street: sid})
				s.People = append(s.People, registry.PersonSpec{
					ID: "p-grid-" + cid, Name: fmt.Sprintf("网格员%s", cid),
					Roles: registry.RoleSet(0).With(registry.RoleGridWorker), Communities: []string{cid},
					Contacts: []registry.ContactSpec{{Channel: registry.ChannelSMS, Address: phone(len(s.People))}},
					Locale:   registry.LocaleZH,
				})
				s.Rosters = append(s.Rosters, registry.RosterSpec{Person: "p-grid-" + cid, Community: cid, Days: registry.EveryDay, From: 0, To: 1440})
			}
		}
	}
	floors := (g.UnitsPerBuilding + g.UnitsPerFloor - 1) / g.UnitsPerFloor
	cols := int(math.Ceil(math.Sqrt(float64(g.Buildings))))
	for bi := 0; bi < g.Buildings; bi++ {
		// Buildings are spread round-robin over the communities and laid
		// out on a grid about 60 m apart.
		ci := bi % len(communities)
		bid := fmt.Sprintf("b%04d", bi+1)
		lat := g.Lat + float64(bi/cols-cols/2)*0.00055
		lon := g.Lon + float64(bi%cols-cols/2)*0.00062
		s.Buildings = append(s.Buildings, registry.BuildingSpec{
			ID: bid, Name: fmt.Sprintf("%d幢", bi+1), Community: communities[ci],
			Address: fmt.Sprintf("模拟路%d号", bi+1), Lat: round(lat, 6), Lon: round(lon, 6), Floors: floors,
		})
		gw := "gw-" + bid
		s.Gateways = append(s.Gateways, registry.GatewaySpec{ID: gw, Building: bid, Description: "一楼弱电井, RS485 总线"})
		if g.Monitors {
			s.Devices = append(s.Devices, registry.DeviceSpec{ID: "efm-" + bid, Kind: devices.KindMonitor, Model: "Acrel ARCM300",
				Gateway: gw, Building: bid, RatedCurrentA: 100, Interval: iv.Monitor})
		}
		for k := 0; k < g.UnitsPerBuilding; k++ {
			floor, room := k/g.UnitsPerFloor+1, k%g.UnitsPerFloor+1
			roomNo := fmt.Sprintf("%d%02d", floor, room)
			uid := fmt.Sprintf("%s-%s", bid, roomNo)
			u := registry.UnitSpec{ID: uid, Building: bid, Type: registry.UnitResidential, Floor: floor, Room: roomNo}
			rated := g.RatedA
			if floor == 1 {
				switch rng.Pick(r, g.Shops, g.Workshops, 1-g.Shops-g.Workshops) {
				case 0:
					u.Type, u.Name, rated = registry.UnitShop, "商铺", 40
				case 1:
					u.Type, u.Name, rated = registry.UnitWorkshop, "作坊", 63
				}
				if u.Type != registry.UnitResidential && rng.Chance(r, g.MixedUse) {
					u.MixedUse = true
					u.Name += "(住人)"
				}
			}
			s.Units = append(s.Units, u)
			s.Devices = append(s.Devices, registry.DeviceSpec{ID: "m-" + uid, Kind: devices.KindMeter, Model: "CHINT DDSU666",
				Gateway: gw, Unit: uid, RatedCurrentA: rated, Interval: iv.Meter})
			if rng.Chance(r, g.SmokeDetectors) {
				sd := registry.DeviceSpec{ID: "smk-" + uid, Kind: devices.KindSmoke, Model: "Zigbee JTY-GD-Z100", Gateway: gw, Unit: uid, Interval: iv.Smoke}
				if rng.Chance(r, g.NBIoT) {
					sd.Model, sd.Gateway = "NB-IoT JTY-GD-N300", sd.ID
				}
				s.Devices = append(s.Devices, sd)
			}
			if u.Type == registry.UnitResidential && rng.Chance(r, g.Plugs) {
				s.Devices = append(s.Devices, registry.DeviceSpec{ID: "plug-" + uid, Kind: devices.KindPlug, Model: "Tuya 16A metering plug",
					Gateway: gw, Unit: uid, RatedCurrentA: 16, Interval: iv.Plug})
			}
		}
		// The first buildings of each community get its charging rooms.
		if bi/len(communities) < g.ChargingRooms {
			uid := bid + "-cr"
			s.Units = append(s.Units, registry.UnitSpec{ID: uid, Building: bid, Type: registry.UnitChargingRoom, Name: "集中充电间", Floor: 1, Room: "充电间"})
			for p := 1; p <= g.PilesPerRoom; p++ {
				id := fmt.Sprintf("pile-%s-%d", uid, p)
				s.Devices = append(s.Devices, registry.DeviceSpec{ID: id, Kind: devices.KindPile, Model: "4G two-wheeler pile",
					Gateway: id, Unit: uid, RatedCurrentA: 32, Interval: iv.Pile, PortCount: g.PortsPerPile})
			}
		}
	}
	return s
}

func phone(i int) string { return fmt.Sprintf("138%08d", 10000+i) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// fmtInterval writes a duration the way the registry reads it.
func fmtInterval(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
