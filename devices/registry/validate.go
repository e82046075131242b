package registry

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Limits on values of a site file.
const (
	minInterval  = time.Second
	maxInterval  = 24 * time.Hour
	maxRatedA    = 1000 // the largest current_a a reading may carry
	maxPorts     = 64   // the largest port number a reading may carry
	maxFloors    = 200
	minFloor     = -10
	maxTextRunes = 200
)

// Validate checks a site built in code, with the checks ParseSite applies
// to a file. Problems name keys as a file would ("devices[3].gateway") but
// have no line.
func (s *Site) Validate() error {
	ps := newProblems("")
	validate(s, ps)
	return ps.err()
}

// validator checks values, references and the rules that tie entities
// together. Structural problems (types, unknown keys) are the decoder's.
type validator struct {
	s  *Site
	ps *problems

	districts, streets, communities, buildings, units, gateways, devices, people map[string]int
}

func validate(s *Site, ps *problems) {
	v := &validator{s: s, ps: ps}
	v.districts = v.ids("districts", "district", len(s.Districts), func(i int) string { return s.Districts[i].ID })
	v.streets = v.ids("streets", "street", len(s.Streets), func(i int) string { return s.Streets[i].ID })
	v.communities = v.ids("communities", "community", len(s.Communities), func(i int) string { return s.Communities[i].ID })
	v.buildings = v.ids("buildings", "building", len(s.Buildings), func(i int) string { return s.Buildings[i].ID })
	v.units = v.ids("units", "unit", len(s.Units), func(i int) string { return s.Units[i].ID })
	v.gateways = v.ids("gateways", "gateway", len(s.Gateways), func(i int) string { return s.Gateways[i].ID })
	v.devices = v.ids("devices", "device", len(s.Devices), func(i int) string { return s.Devices[i].ID })
	v.people = v.ids("people", "person", len(s.People), func(i int) string { return s.People[i].ID })
	v.places()
	v.checkGateways()
	v.checkDevices()
	v.checkPeople()
	v.checkRosters()
}

func key(list string, i int, k string) string {
	if k == "" {
		return fmt.Sprintf("%s[%d]", list, i)
	}
	return fmt.Sprintf("%s[%d].%s", list, i, k)
}

// ids checks the ids of one list and indexes them. The first of duplicate
// ids wins.
func (v *validator) ids(list, noun string, n int, id func(int) string) map[string]int {
	m := make(map[string]int, n)
	for i := range n {
		s := id(i)
		k := key(list, i, "id")
		switch {
		case s == "":
			v.ps.add(k, "this %s has no id: add an id such as %s", noun, exampleID(noun))
			continue
		case !devices.ValidID(s):
			v.ps.add(k, "%s %q has an invalid id: ids are 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit%s", noun, s, fixID(s))
		}
		if first, dup := m[s]; dup {
			v.ps.add(k, "%s %q is defined twice (first at %s): give each %s its own id", noun, s, v.where(key(list, first, "")), noun)
			continue
		}
		m[s] = i
	}
	return m
}

// where names a position for a message: its line if known, else its key.
func (v *validator) where(k string) string {
	if v.ps.locate != nil {
		if line, _ := v.ps.locate(k); line > 0 {
			return fmt.Sprintf("line %d", line)
		}
	}
	return k
}

func exampleID(noun string) string {
	switch noun {
	case "district":
		return "d-1"
	case "street":
		return "st-1"
	case "community":
		return "c-1"
	case "building":
		return "b-1"
	case "unit":
		return "u-101"
	case "gateway":
		return "gw-1"
	case "device":
		return "m-1"
	}
	return "p-1"
}

// fixID suggests a valid id for an invalid one, if an obvious one exists.
func fixID(s string) string {
	f := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r == ' ' || r == '/':
			return '-'
		}
		return r
	}, strings.TrimSpace(s))
	if f != s && devices.ValidID(f) {
		return fmt.Sprintf(", e.g. %q", f)
	}
	return ""
}

// ref checks a reference to an entity of a list; "" is not checked (a
// missing required key is reported elsewhere).
func (v *validator) ref(k, what, noun, id string, index map[string]int, list string) bool {
	if id == "" {
		return false
	}
	if _, ok := index[id]; ok {
		return true
	}
	if v.ps.reported(list) {
		return false // the list itself is broken; its ids are unknown
	}
	hint := ""
	if len(index) <= 10000 {
		known := make([]string, 0, len(index))
		for id := range index {
			known = append(known, id)
		}
		hint = suggest(id, sorted(known))
	}
	v.ps.add(k, "%s refers to %s %q, which is not defined%s: add it under %s or fix the id", what, noun, id, hint, list)
	return false
}

func (v *validator) name(k, what, name string, required bool, example string) {
	switch {
	case name == "" && required:
		v.ps.add(k, "%s has no name: add one, e.g. name: %s", what, example)
	case len([]rune(name)) > maxTextRunes:
		v.ps.add(k, "%s has a %s longer than %d characters: shorten it", what, k[strings.LastIndexByte(k, '.')+1:], maxTextRunes)
	}
}

func describe(noun, id string) string {
	if id == "" {
		return "this " + noun
	}
	return fmt.Sprintf("%s %q", noun, id)
}

func (v *validator) places() {
	s := v.s
	for i, d := range s.Districts {
		v.name(key("districts", i, "name"), describe("district", d.ID), d.Name, true, "拱墅区")
	}
	for i, st := range s.Streets {
		what := describe("street", st.ID)
		v.name(key("streets", i, "name"), what, st.Name, true, "米市巷街道")
		v.required(key("streets", i, "district"), what, st.District, "district", "d-1")
		v.ref(key("streets", i, "district"), what, "district", st.District, v.districts, "districts")
	}
	for i, c := range s.Communities {
		what := describe("community", c.ID)
		v.name(key("communities", i, "name"), what, c.Name, true, "大塘巷社区")
		v.required(key("communities", i, "street"), what, c.Street, "street", "st-1")
		v.ref(key("communities", i, "street"), what, "street", c.Street, v.streets, "streets")
	}
	for i, b := range s.Buildings {
		what := describe("building", b.ID)
		v.name(key("buildings", i, "name"), what, b.Name, true, "3幢")
		v.name(key("buildings", i, "address"), what, b.Address, false, "")
		v.required(key("buildings", i, "community"), what, b.Community, "community", "c-1")
		v.ref(key("buildings", i, "community"), what, "community", b.Community, v.communities, "communities")
		switch {
		case b.Lat == 0 && b.Lon == 0:
			v.ps.add(key("buildings", i, "lat"), "%s has no position: add lat and lon in degrees (WGS-84), e.g. lat: 30.2741, lon: 120.1551", what)
		case b.Lat < -90 || b.Lat > 90:
			hint := ""
			if b.Lon >= -90 && b.Lon <= 90 {
				hint = " (are lat and lon swapped?)"
			}
			v.ps.add(key("buildings", i, "lat"), "%s has lat %g, outside -90 to 90%s: write degrees north, e.g. 30.2741", what, b.Lat, hint)
		}
		if b.Lon < -180 || b.Lon > 180 {
			v.ps.add(key("buildings", i, "lon"), "%s has lon %g, outside -180 to 180: write degrees east, e.g. 120.1551", what, b.Lon)
		}
		if b.Floors < 0 || b.Floors > maxFloors {
			v.ps.add(key("buildings", i, "floors"), "%s has floors %d: write the number of floors above ground, 1 to %d, or leave it out", what, b.Floors, maxFloors)
		}
	}
	for i, u := range s.Units {
		what := describe("unit", u.ID)
		v.name(key("units", i, "name"), what, u.Name, false, "")
		v.name(key("units", i, "room"), what, u.Room, false, "")
		v.required(key("units", i, "building"), what, u.Building, "building", "b-1")
		if u.Type == UnitUnknown {
			v.ps.add(key("units", i, "type"), "%s has no type: add type: residential, shop, workshop or charging_room", what)
		}
		if u.Floor < minFloor || u.Floor > maxFloors {
			v.ps.add(key("units", i, "floor"), "%s has floor %d: write 1 for the ground floor, -1 for the first basement (%d to %d)", what, u.Floor, minFloor, maxFloors)
		}
		if v.ref(key("units", i, "building"), what, "building", u.Building, v.buildings, "buildings") {
			b := s.Buildings[v.buildings[u.Building]]
			if b.Floors > 0 && u.Floor > b.Floors {
				v.ps.add(key("units", i, "floor"), "%s is on floor %d but building %q has %d floors: fix the floor or the building's floors", what, u.Floor, b.ID, b.Floors)
			}
		}
	}
}

func (v *validator) required(k, what, val, name, example string) {
	if val == "" {
		v.ps.add(k, "%s has no %s: add one, e.g. %s: %s", what, name, name, example)
	}
}

// place checks the exactly-one-of building and unit of a gateway or device.
func (v *validator) place(list string, i int, what, building, unit string) {
	switch {
	case building == "" && unit == "":
		v.ps.add(key(list, i, "unit"), "%s has no place: add unit: (the unit it is in) or building: (if it serves the whole building)", what)
	case building != "" && unit != "":
		v.ps.add(key(list, i, "building"), "%s has both building and unit: keep only unit, its building follows from it", what)
	case unit != "":
		v.ref(key(list, i, "unit"), what, "unit", unit, v.units, "units")
	default:
		v.ref(key(list, i, "building"), what, "building", building, v.buildings, "buildings")
	}
}

func (v *validator) checkGateways() {
	for i, g := range v.s.Gateways {
		what := describe("gateway", g.ID)
		v.name(key("gateways", i, "name"), what, g.Name, false, "")
		v.name(key("gateways", i, "description"), what, g.Description, false, "")
		v.place("gateways", i, what, g.Building, g.Unit)
		if h := g.PasswordHash; h != "" && (!strings.HasPrefix(h, "$") || strings.Count(h, "$") < 3) {
			v.ps.add(key("gateways", i, "password_hash"), "%s has a password_hash that is not a crypt-format hash: write the hash mosquitto_passwd makes (\"$7$...\"), never the password itself", what)
		}
	}
}

func (v *validator) checkDevices() {
	for i, d := range v.s.Devices {
		what := describe("device", d.ID)
		v.name(key("devices", i, "name"), what, d.Name, false, "")
		v.name(key("devices", i, "model"), what, d.Model, false, "")
		if d.Kind == devices.KindUnknown {
			v.ps.add(key("devices", i, "kind"), "%s has no kind: add kind: %s", what, kindNames())
		}
		switch {
		case d.Gateway == "":
			v.ps.add(key("devices", i, "gateway"), "%s has no gateway: add the id of the gateway it publishes through, or its own id if it connects by itself", what)
		case d.Gateway == d.ID:
			// Connects by itself; a gateways entry with its id is optional.
		default:
			v.ref(key("devices", i, "gateway"), what, "gateway", d.Gateway, v.gateways, "gateways")
			if _, clash := v.gateways[d.ID]; clash && d.ID != "" {
				v.ps.add(key("devices", i, "id"), "%s has the id of gateway %q but publishes through gateway %q: give the device its own id (a device shares its id only with itself, when it connects by itself)", what, d.ID, d.Gateway)
			}
		}
		v.place("devices", i, what, d.Building, d.Unit)
		v.rating(i, what, d)
		switch {
		case d.Interval == 0 && d.Kind != devices.KindUnknown:
			v.ps.add(key("devices", i, "interval"), "%s has no interval: add the expected time between readings, e.g. interval: 60s", what)
		case d.Interval != 0 && (d.Interval < minInterval || d.Interval > maxInterval):
			v.ps.add(key("devices", i, "interval"), "%s has interval %s: the expected time between readings must be from %s to %s, e.g. 60s", what, fmtDuration(d.Interval), fmtDuration(minInterval), fmtDuration(maxInterval))
		}
		switch {
		case d.Kind == devices.KindPile && (d.PortCount < 1 || d.PortCount > maxPorts):
			v.ps.add(key("devices", i, "port_count"), "%s has port_count %d: a pile has 1 to %d ports", what, d.PortCount, maxPorts)
		case d.Kind != devices.KindPile && d.Kind != devices.KindUnknown && d.PortCount != 0:
			v.ps.add(key("devices", i, "port_count"), "%s is a %s, which has no ports: remove port_count (it is for piles)", what, kindNoun(d.Kind))
		}
	}
}

// kindNoun names a device kind in messages.
func kindNoun(k devices.Kind) string {
	switch k {
	case devices.KindMonitor:
		return "electrical-fire monitor"
	case devices.KindPile:
		return "charging pile"
	case devices.KindSmoke:
		return "smoke detector"
	case devices.KindPlug:
		return "smart plug"
	}
	return k.String()
}

// rating checks rated_current_a: the breaker rating that overload detection
// compares the current with.
func (v *validator) rating(i int, what string, d DeviceSpec) {
	k := key("devices", i, "rated_current_a")
	switch d.Kind {
	case devices.KindMeter, devices.KindMonitor, devices.KindPlug:
		if d.RatedCurrentA <= 0 {
			v.ps.add(k, "%s needs rated_current_a above 0: the rating in amperes of the breaker it measures (of the plug itself for a plug), e.g. rated_current_a: 32", what)
			return
		}
	case devices.KindSmoke:
		if d.RatedCurrentA != 0 {
			v.ps.add(k, "%s is a smoke detector, which measures no current: remove rated_current_a", what)
		}
		return
	}
	if d.RatedCurrentA < 0 || d.RatedCurrentA > maxRatedA {
		v.ps.add(k, "%s has rated_current_a %g: write the rating in amperes, above 0 and at most %d", what, d.RatedCurrentA, maxRatedA)
	}
}

// ladderRoles are the roles that receive alerts and so need a contact.
var ladderRoles = []Role{RoleGridWorker, RoleStreetOfficer, RoleDistrictOfficer, RoleFireBrigade}

func (v *validator) checkPeople() {
	for i, p := range v.s.People {
		what := describe("person", p.ID)
		v.name(key("people", i, "name"), what, p.Name, true, "王芳")
		if p.Roles == 0 {
			v.ps.add(key("people", i, "roles"), "%s has no roles: add roles: [grid_worker] (or street_officer, district_officer, fire_brigade, viewer, admin)", what)
		}
		v.scope(i, what, p, "communities", "community", p.Communities, v.communities, RoleGridWorker)
		v.scope(i, what, p, "streets", "street", p.Streets, v.streets, RoleStreetOfficer)
		v.scope(i, what, p, "districts", "district", p.Districts, v.districts, RoleDistrictOfficer)
		if p.Locale != LocaleZH && p.Locale != LocaleEN {
			v.ps.add(key("people", i, "locale"), "%s has locale %q: use zh or en", what, p.Locale)
		}
		seen := map[ContactSpec]int{}
		for j, c := range p.Contacts {
			ck := fmt.Sprintf("people[%d].contacts[%d]", i, j)
			cwhat := fmt.Sprintf("contact %d of %s", j+1, what)
			if first, dup := seen[c]; dup {
				v.ps.add(ck, "%s repeats contact %d: remove one", cwhat, first+1)
				continue
			}
			seen[c] = j
			v.contact(ck, cwhat, c)
		}
		if len(p.Contacts) == 0 {
			for _, r := range ladderRoles {
				if p.Roles.Has(r) {
					v.ps.add(key("people", i, "contacts"), "%s is a %s but has no contacts, so alerts cannot reach them: add contacts: [{channel: sms, address: \"13800000001\"}]", what, r)
					break
				}
			}
		}
	}
}

// scope checks one of a person's scope lists (communities, streets,
// districts) and that the person has a role that uses it.
func (v *validator) scope(i int, what string, p PersonSpec, list, noun string, ids []string, index map[string]int, role Role) {
	k := key("people", i, list)
	if p.Roles.Has(role) && len(ids) == 0 {
		v.ps.add(k, "%s is a %s but has no %s: add %s: [%s]", what, role, list, list, exampleID(noun))
	}
	if len(ids) > 0 && p.Roles != 0 && !p.Roles.Has(role) && !p.Roles.Has(RoleFireBrigade) && !p.Roles.Has(RoleViewer) {
		v.ps.add(k, "%s has %s but none of the roles that use them (%s, fire_brigade, viewer): add the role or remove %s", what, list, role, list)
	}
	seen := map[string]bool{}
	for j, id := range ids {
		ek := fmt.Sprintf("%s[%d]", k, j)
		if seen[id] {
			v.ps.add(ek, "%s lists %s %q twice: remove one", what, noun, id)
			continue
		}
		seen[id] = true
		v.ref(ek, what, noun, id, index, list)
	}
}

// contact checks an address for its channel. Webhook addresses often hold
// a key, so messages never repeat them.
func (v *validator) contact(k, what string, c ContactSpec) {
	a := c.Address
	if a == "" {
		v.ps.add(k+".address", "%s has no address: add the phone number, URL or e-mail address", what)
		return
	}
	switch c.Channel {
	case ChannelUnknown:
		v.ps.add(k+".channel", "%s has no channel: add channel: sms, webhook, wecom, dingtalk or email", what)
	case ChannelSMS:
		digits := strings.TrimPrefix(a, "+")
		if len(digits) < 5 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			v.ps.add(k+".address", "%s has sms address %q, which is not a phone number: write digits only, e.g. 13800000001 or +8613800000001", what, a)
		}
	case ChannelWebhook, ChannelWeCom, ChannelDingTalk:
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.ps.add(k+".address", "%s has a %s address that is not an http(s) URL with a host: write the full URL, e.g. https://example.org/hook", what, c.Channel)
		}
	case ChannelEmail:
		m, err := mail.ParseAddress(a)
		if err != nil || m.Address != a {
			v.ps.add(k+".address", "%s has email address %q, which is not a plain e-mail address: write e.g. name@example.org", what, a)
		}
	}
}

func (v *validator) checkRosters() {
	seen := make(map[RosterSpec]int, len(v.s.Rosters))
	for i, r := range v.s.Rosters {
		// A roster with a value that failed to parse could look like
		// another; only whole rosters are compared.
		if !v.ps.anyUnder(key("rosters", i, "")) {
			if first, dup := seen[r]; dup {
				v.ps.add(key("rosters", i, ""), "roster of person %q repeats the roster at %s: remove one", r.Person, v.where(key("rosters", first, "")))
				continue
			}
			seen[r] = i
		}
		what := "this roster"
		if r.Person != "" {
			what = fmt.Sprintf("roster of person %q", r.Person)
		}
		if r.Person == "" {
			v.ps.add(key("rosters", i, "person"), "%s has no person: add person: (the id of the person on duty)", what)
		}
		var p *PersonSpec
		if v.ref(key("rosters", i, "person"), what, "person", r.Person, v.people, "people") {
			p = &v.s.People[v.people[r.Person]]
		}
		n := 0
		for _, s := range []string{r.Community, r.Street, r.District} {
			if s != "" {
				n++
			}
		}
		switch {
		case n == 0:
			v.ps.add(key("rosters", i, "community"), "%s has no place: add community:, street: or district: (where the person is on duty)", what)
		case n > 1:
			v.ps.add(key("rosters", i, "community"), "%s has more than one of community, street and district: write one roster per place", what)
		case r.Community != "":
			v.dutyPlace(i, what, p, "community", "communities", r.Community, v.communities, func(p *PersonSpec) []string { return p.Communities })
		case r.Street != "":
			v.dutyPlace(i, what, p, "street", "streets", r.Street, v.streets, func(p *PersonSpec) []string { return p.Streets })
		default:
			v.dutyPlace(i, what, p, "district", "districts", r.District, v.districts, func(p *PersonSpec) []string { return p.Districts })
		}
		if r.Days == 0 {
			v.ps.add(key("rosters", i, "days"), "%s has no days: list the days its window starts on, e.g. [mon, tue], or leave days out for every day", what)
		}
		switch {
		case r.From < 0 || r.From >= 24*60:
			v.ps.add(key("rosters", i, "from"), "%s starts at %s: a window starts from \"00:00\" to \"23:59\"", what, r.From)
		case r.To < 0 || r.To > 24*60:
			v.ps.add(key("rosters", i, "to"), "%s ends at %s: a window ends from \"00:00\" to \"24:00\"", what, r.To)
		case r.From == r.To:
			v.ps.add(key("rosters", i, "to"), "%s starts and ends at %s, which is empty: for round the clock write from: \"00:00\" and to: \"24:00\"", what, r.From)
		}
	}
}

// dutyPlace checks the place of a roster: it exists, and the person lists
// it among their own.
func (v *validator) dutyPlace(i int, what string, p *PersonSpec, noun, list, id string, index map[string]int, scope func(*PersonSpec) []string) {
	k := key("rosters", i, noun)
	if !v.ref(k, what, noun, id, index, list) || p == nil {
		return
	}
	if !contains(scope(p), id) {
		v.ps.add(k, "%s puts them on duty in %s %q, which is not among the person's %s: add it to the person's %s or fix the roster", what, noun, id, list, list)
	}
}
