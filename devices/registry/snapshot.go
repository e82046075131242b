package registry

import (
	"iter"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Snapshot is an immutable, in-memory copy of the registry for the hot path:
// lookups are map reads without locks or allocation. Entities point at their
// places, so a device leads to its unit, building, community, street and
// district without further lookups. Nothing in a Snapshot may be modified;
// a change to the registry makes a new Snapshot (see Store).
type Snapshot struct {
	generation int64
	loadedAt   time.Time

	deviceList  []Device // sorted by id; the map points into it
	devices     map[string]*Device
	gateways    map[string]*Gateway
	gatewayList []*Gateway
	units       map[string]*Unit
	buildings   map[string]*Building
	communities map[string]*Community
	streets     map[string]*Street
	districts   map[string]*District
	// districtList holds every place through its children, sorted by id.
	districtList []*District
	people       map[string]*Person
	peopleList   []*Person
	rosters      []*Roster
	// replacedAt: when a device's hardware was last replaced (Unix ms),
	// for the devices that ever were (device_lineage).
	replacedAt map[string]int64
}

// District is a district (区).
type District struct {
	ID, Name string
	Streets  []*Street
	Rosters  []*Roster // duty windows for the district as a whole
}

// Street is a street or town (街道/镇).
type Street struct {
	ID, Name    string
	District    *District
	Communities []*Community
	Rosters     []*Roster
}

// Community is a community (社区), the responsibility grid of grid workers.
type Community struct {
	ID, Name  string
	Street    *Street
	Buildings []*Building
	Rosters   []*Roster
}

// Building is a building with its position.
type Building struct {
	ID, Name, Address string
	Lat, Lon          float64 // WGS-84 degrees
	Floors            int     // 0 if not known
	Community         *Community
	Units             []*Unit
	Gateways          []*Gateway // gateways in the building, in a unit of it or not
	Devices           []*Device  // devices that serve the whole building (in no unit)
}

// Unit is a unit of a building.
type Unit struct {
	ID, Name string
	Room     string
	Type     UnitType
	MixedUse bool // living and business in one ("three-in-one")
	Floor    int  // 1 is the ground floor, -1 the first basement, 0 not known
	Building *Building
	Devices  []*Device
}

// Gateway is a gateway, or a device that connects by itself (SelfConnected,
// with the device's id).
type Gateway struct {
	ID, Name, Description string
	Building              *Building // always set
	Unit                  *Unit     // nil unless the gateway sits in a unit
	SelfConnected         bool
	PasswordHash          string // crypt-format MQTT password hash; "" if none
	Devices               []*Device
}

// Device is a registered device. It is kept small: a registry may hold a
// million of them.
type Device struct {
	ID    string
	Name  string
	Model string

	Gateway  *Gateway
	Unit     *Unit     // nil when the device serves a whole building
	Building *Building // always set

	Interval      time.Duration // expected time between readings
	RatedCurrentA float32       // breaker rating for overload detection; 0 if none
	Kind          devices.Kind
	PortCount     uint8 // ports of a pile; 1 for other kinds
}

// UnitID returns the id of the device's unit, or "" if it is in none.
func (d *Device) UnitID() string {
	if d.Unit == nil {
		return ""
	}
	return d.Unit.ID
}

// UnitType returns the type of the device's unit, or UnitUnknown.
func (d *Device) UnitType() UnitType {
	if d.Unit == nil {
		return UnitUnknown
	}
	return d.Unit.Type
}

// Community returns the device's community.
func (d *Device) Community() *Community { return d.Building.Community }

// Street returns the device's street.
func (d *Device) Street() *Street { return d.Building.Community.Street }

// District returns the device's district.
func (d *Device) District() *District { return d.Building.Community.Street.District }

// Person is someone who receives alerts or uses chargewatch.
type Person struct {
	ID, Name    string
	Locale      string // LocaleZH or LocaleEN
	Roles       RoleSet
	Communities []*Community
	Streets     []*Street
	Districts   []*District
	Contacts    []Contact // in order of preference
	Rosters     []*Roster
}

// Contact is one way to reach a person.
type Contact struct {
	Channel ContactChannel
	Address string
}

// Roster is a duty window of a person for one place: exactly one of
// Community, Street and District is set.
type Roster struct {
	Person    *Person
	Community *Community
	Street    *Street
	District  *District
	Days      Weekdays
	From, To  TimeOfDay
}

// Generation returns the registry generation the snapshot was loaded at.
func (s *Snapshot) Generation() int64 { return s.generation }

// LoadedAt returns when the snapshot was loaded.
func (s *Snapshot) LoadedAt() time.Time { return s.loadedAt }

// Device looks a device up by id.
func (s *Snapshot) Device(id string) (*Device, bool) {
	d, ok := s.devices[id]
	return d, ok
}

// Gateway looks a gateway up by id; a device that connects by itself is
// also a gateway.
func (s *Snapshot) Gateway(id string) (*Gateway, bool) {
	g, ok := s.gateways[id]
	return g, ok
}

// Unit looks a unit up by id.
func (s *Snapshot) Unit(id string) (*Unit, bool) {
	u, ok := s.units[id]
	return u, ok
}

// Building looks a building up by id.
func (s *Snapshot) Building(id string) (*Building, bool) {
	b, ok := s.buildings[id]
	return b, ok
}

// Community looks a community up by id.
func (s *Snapshot) Community(id string) (*Community, bool) {
	c, ok := s.communities[id]
	return c, ok
}

// Street looks a street up by id.
func (s *Snapshot) Street(id string) (*Street, bool) {
	st, ok := s.streets[id]
	return st, ok
}

// District looks a district up by id.
func (s *Snapshot) District(id string) (*District, bool) {
	d, ok := s.districts[id]
	return d, ok
}

// PlaceNames are the names people know a place by: the registry's names of
// its district, street, community, building (and its address), unit (and
// room) and device. A place the registry does not have (any more) is left
// empty, as is a name it was registered without.
type PlaceNames struct {
	District, Street, Community, Building, Address, Unit, Room, Device string
}

// Names looks up the names of the places with these ids (empty ids are
// skipped).
func (s *Snapshot) Names(district, street, community, building, unit, device string) PlaceNames {
	var n PlaceNames
	if x, ok := s.districts[district]; ok {
		n.District = x.Name
	}
	if x, ok := s.streets[street]; ok {
		n.Street = x.Name
	}
	if x, ok := s.Community(community); ok {
		n.Community = x.Name
	}
	if x, ok := s.Building(building); ok {
		n.Building, n.Address = x.Name, x.Address
	}
	if x, ok := s.Unit(unit); ok {
		n.Unit, n.Room = x.Name, x.Room
	}
	if x, ok := s.Device(device); ok {
		n.Device = x.Name
	}
	return n
}

// Person looks a person up by id.
func (s *Snapshot) Person(id string) (*Person, bool) {
	p, ok := s.people[id]
	return p, ok
}

// Devices yields every device in id order.
func (s *Snapshot) Devices() iter.Seq[*Device] {
	return func(yield func(*Device) bool) {
		for i := range s.deviceList {
			if !yield(&s.deviceList[i]) {
				return
			}
		}
	}
}

// Gateways returns every gateway in id order. The slice is shared: do not
// modify it.
func (s *Snapshot) Gateways() []*Gateway { return s.gatewayList }

// Districts returns every district in id order; the other places hang off
// them. The slice is shared: do not modify it.
func (s *Snapshot) Districts() []*District { return s.districtList }

// People returns every person in id order. The slice is shared: do not
// modify it.
func (s *Snapshot) People() []*Person { return s.peopleList }

// Rosters returns every duty window, by person. The slice is shared: do not
// modify it.
func (s *Snapshot) Rosters() []*Roster { return s.rosters }

// Counts is the number of entities of each kind in a snapshot.
type Counts struct {
	Districts, Streets, Communities, Buildings, Units, Gateways, Devices, People, Rosters int
}

// Counts returns the number of entities of each kind.
func (s *Snapshot) Counts() Counts {
	return Counts{
		Districts: len(s.districts), Streets: len(s.streets), Communities: len(s.communities),
		Buildings: len(s.buildings), Units: len(s.units), Gateways: len(s.gateways),
		Devices: len(s.devices), People: len(s.people), Rosters: len(s.rosters),
	}
}
