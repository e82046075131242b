package registry

import (
	"fmt"
	"os"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"gopkg.in/yaml.v3"
)

// SiteFileVersion is the version of the site file format this package reads.
const SiteFileVersion = 1

// Top-level keys of a site file, in the order they are best written.
var siteKeys = []string{"version", "districts", "streets", "communities", "buildings", "units", "gateways", "devices", "people", "rosters"}

// Keys of each entry, per list.
var (
	districtKeys  = []string{"id", "name"}
	streetKeys    = []string{"id", "name", "district"}
	communityKeys = []string{"id", "name", "street"}
	buildingKeys  = []string{"id", "name", "community", "address", "lat", "lon", "floors"}
	unitKeys      = []string{"id", "name", "building", "type", "mixed_use", "floor", "room"}
	gatewayKeys   = []string{"id", "name", "description", "building", "unit", "password_hash"}
	deviceKeys    = []string{"id", "name", "kind", "model", "gateway", "unit", "building", "rated_current_a", "interval", "port_count"}
	personKeys    = []string{"id", "name", "roles", "communities", "streets", "districts", "contacts", "locale"}
	contactKeys   = []string{"channel", "address"}
	rosterKeys    = []string{"person", "community", "street", "district", "days", "from", "to"}
)

// LoadSite reads and validates the site file at path.
func LoadSite(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read site file: %w", err)
	}
	return ParseSite(path, data)
}

// ParseSite parses and validates a site file; file names it in problems.
// Every problem is reported, in a *ValidationError, each with the line and
// the key it is about.
func ParseSite(file string, data []byte) (*Site, error) {
	ps := newProblems(file)
	root, ok := parseYAML(ps, data)
	if !ok {
		return nil, ps.err()
	}
	ps.locate = func(key string) (int, int) { return locate(root, key) }
	d := &decoder{ps: ps}
	site := d.site(root)
	validate(site, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return site, nil
}

type decoder struct {
	ps *problems
}

func (d *decoder) site(root *yaml.Node) *Site {
	top := d.object("", root, "the site file", siteKeys)
	s := &Site{}
	if top.has("version") {
		if v, ok := top.integer("version", ""); ok && v != SiteFileVersion {
			top.problem("version", "site file version %d is not known to this chargewatch, which reads version %d: write version: %d or upgrade chargewatch", v, SiteFileVersion, SiteFileVersion)
		}
	}
	for _, o := range d.items(top, "districts", "district", districtKeys) {
		s.Districts = append(s.Districts, DistrictSpec{
			ID:   o.str("id", "add an id such as d-1"),
			Name: o.str("name", "add the district's name, e.g. name: 拱墅区"),
		})
	}
	for _, o := range d.items(top, "streets", "street", streetKeys) {
		s.Streets = append(s.Streets, StreetSpec{
			ID:       o.str("id", "add an id such as st-1"),
			Name:     o.str("name", "add the street's name, e.g. name: 米市巷街道"),
			District: o.str("district", "add the id of its district, e.g. district: d-1"),
		})
	}
	for _, o := range d.items(top, "communities", "community", communityKeys) {
		s.Communities = append(s.Communities, CommunitySpec{
			ID:     o.str("id", "add an id such as c-1"),
			Name:   o.str("name", "add the community's name, e.g. name: 大塘巷社区"),
			Street: o.str("street", "add the id of its street, e.g. street: st-1"),
		})
	}
	for _, o := range d.items(top, "buildings", "building", buildingKeys) {
		b := BuildingSpec{
			ID:        o.str("id", "add an id such as b-1"),
			Name:      o.str("name", "add the building's name, e.g. name: 3幢"),
			Community: o.str("community", "add the id of its community, e.g. community: c-1"),
			Address:   o.str("address", ""),
		}
		b.Lat, _ = o.number("lat", "add its latitude in degrees north, e.g. lat: 30.2741")
		b.Lon, _ = o.number("lon", "add its longitude in degrees east, e.g. lon: 120.1551")
		b.Floors, _ = o.integer("floors", "")
		s.Buildings = append(s.Buildings, b)
	}
	for _, o := range d.items(top, "units", "unit", unitKeys) {
		u := UnitSpec{
			ID:       o.str("id", "add an id such as u-1"),
			Name:     o.str("name", ""),
			Building: o.str("building", "add the id of its building, e.g. building: b-1"),
			MixedUse: o.boolean("mixed_use"),
			Room:     o.str("room", ""),
		}
		u.Floor, _ = o.integer("floor", "")
		if t := o.str("type", "add its type: residential, shop, workshop or charging_room"); t != "" {
			var ok bool
			if u.Type, ok = ParseUnitType(t); !ok {
				o.problem("type", "%s has type %q: use one of residential, shop, workshop or charging_room%s", o.what, t, suggest(t, unitTypeNames[1:]))
			}
		}
		s.Units = append(s.Units, u)
	}
	for _, o := range d.items(top, "gateways", "gateway", gatewayKeys) {
		s.Gateways = append(s.Gateways, GatewaySpec{
			ID:           o.str("id", "add an id such as gw-1; it is also the gateway's MQTT username"),
			Name:         o.str("name", ""),
			Description:  o.str("description", ""),
			Building:     o.str("building", ""),
			Unit:         o.str("unit", ""),
			PasswordHash: o.secret("password_hash"),
		})
	}
	for _, o := range d.items(top, "devices", "device", deviceKeys) {
		s.Devices = append(s.Devices, d.device(o))
	}
	for _, o := range d.items(top, "people", "person", personKeys) {
		s.People = append(s.People, d.person(o))
	}
	for _, o := range d.items(top, "rosters", "roster", rosterKeys) {
		s.Rosters = append(s.Rosters, d.roster(o))
	}
	return s
}

func (d *decoder) device(o *object) DeviceSpec {
	dev := DeviceSpec{
		ID:       o.str("id", "add an id such as m-1"),
		Name:     o.str("name", ""),
		Model:    o.str("model", ""),
		Gateway:  o.str("gateway", "add the id of the gateway it publishes through, or its own id if it connects by itself"),
		Unit:     o.str("unit", ""),
		Building: o.str("building", ""),
	}
	if k := o.str("kind", "add its kind: meter, monitor, pile, smoke or plug"); k != "" {
		var err error
		if dev.Kind, err = devices.ParseKind(k); err != nil {
			o.problem("kind", "%s has kind %q: use one of %s%s", o.what, k, kindNames(), suggest(k, kindList()))
		}
	}
	dev.RatedCurrentA, _ = o.number("rated_current_a", "")
	if o.has("interval") {
		v := o.value("interval")
		if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float") {
			o.problem("interval", "%s has interval %s without a unit: write it as a duration such as %ss or 5m", o.what, v.Value, v.Value)
		} else if s := o.str("interval", ""); s != "" {
			iv, err := time.ParseDuration(s)
			if err != nil {
				o.problem("interval", "%s has interval %q, which is not a duration: write e.g. 60s, 5m or 1h", o.what, s)
			} else {
				dev.Interval = iv
			}
		}
	} else if dev.Kind != devices.KindUnknown {
		dev.Interval = defaultInterval(dev.Kind)
	}
	if o.has("port_count") {
		dev.PortCount, _ = o.integer("port_count", "")
	} else if dev.Kind == devices.KindPile {
		dev.PortCount = 1
	}
	return dev
}

func (d *decoder) person(o *object) PersonSpec {
	p := PersonSpec{
		ID:          o.str("id", "add an id such as p-1"),
		Name:        o.str("name", "add the person's name, e.g. name: 王芳"),
		Communities: o.strs("communities"),
		Streets:     o.strs("streets"),
		Districts:   o.strs("districts"),
		Locale:      LocaleZH,
	}
	if o.has("locale") {
		if l := o.str("locale", ""); l != LocaleZH && l != LocaleEN {
			o.problem("locale", "%s has locale %q: use zh or en", o.what, l)
		} else {
			p.Locale = l
		}
	}
	if !o.has("roles") {
		o.problem("roles", "%s has no roles: add roles: [grid_worker] (or street_officer, district_officer, fire_brigade, viewer, admin)", o.what)
	}
	for i, r := range o.strs("roles") {
		key := fmt.Sprintf("%s.roles[%d]", o.path, i)
		role, ok := ParseRole(r)
		switch {
		case !ok:
			d.ps.add(key, "%s has role %q: use one of %s%s", o.what, r, quoteList(roleNames[:]), suggest(r, roleNames[:]))
		case p.Roles.Has(role):
			d.ps.add(key, "%s lists role %s twice: remove one", o.what, r)
		default:
			p.Roles = p.Roles.With(role)
		}
	}
	contactName := func(i int) string { return fmt.Sprintf("contact %d of %s", i+1, o.what) }
	for _, c := range d.namedItems(o, "contacts", "contact", contactKeys, contactName) {
		spec := ContactSpec{Address: c.str("address", "add the address: a phone number, a URL or an e-mail address")}
		if ch := c.str("channel", "add its channel: sms, webhook, wecom, dingtalk or email"); ch != "" {
			var ok bool
			if spec.Channel, ok = ParseContactChannel(ch); !ok {
				c.problem("channel", "%s has channel %q: use one of %s%s", c.what, ch, quoteList(channelNames[1:]), suggest(ch, channelNames[1:]))
			}
		}
		p.Contacts = append(p.Contacts, spec)
	}
	return p
}

func (d *decoder) roster(o *object) RosterSpec {
	r := RosterSpec{
		Person:    o.str("person", "add the id of the person on duty"),
		Community: o.str("community", ""),
		Street:    o.str("street", ""),
		District:  o.str("district", ""),
		Days:      EveryDay,
	}
	if o.has("days") {
		r.Days = 0
		days := o.strs("days")
		for i, s := range days {
			key := fmt.Sprintf("%s.days[%d]", o.path, i)
			day, ok := ParseWeekday(s)
			switch {
			case !ok:
				d.ps.add(key, "%s has day %q: use mon, tue, wed, thu, fri, sat or sun%s", o.what, s, suggest(s, dayNames[:]))
			case r.Days.Has(day):
				d.ps.add(key, "%s lists day %s twice: remove one", o.what, s)
			default:
				r.Days = r.Days.With(day)
			}
		}
		if len(days) == 0 && o.value("days").Kind == yaml.SequenceNode {
			o.problem("days", "%s has no days: list the days its window starts on, e.g. [mon, tue], or leave days out for every day", o.what)
		}
	}
	r.From = o.clock("from", "add the start of the window, e.g. from: \"08:00\"")
	r.To = o.clock("to", "add the end of the window, e.g. to: \"20:00\"")
	return r
}

func kindList() []string {
	var out []string
	for _, k := range devices.Kinds() {
		out = append(out, k.String())
	}
	return out
}

func kindNames() string { return quoteList(kindList()) }
