package registry

import (
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Site is the content of a site file: the whole registry, as flat lists whose
// entries refer to their parents by id. ParseSite builds one from YAML and
// validates it; a Site built in code is checked by Validate, and Import
// refuses one that does not pass.
type Site struct {
	Districts   []DistrictSpec
	Streets     []StreetSpec
	Communities []CommunitySpec
	Buildings   []BuildingSpec
	Units       []UnitSpec
	Gateways    []GatewaySpec
	Devices     []DeviceSpec
	People      []PersonSpec
	Rosters     []RosterSpec
}

// DistrictSpec is a district (区).
type DistrictSpec struct {
	ID   string
	Name string
}

// StreetSpec is a street or town (街道/镇) in a district.
type StreetSpec struct {
	ID       string
	Name     string
	District string
}

// CommunitySpec is a community (社区), the responsibility grid of grid workers.
type CommunitySpec struct {
	ID     string
	Name   string
	Street string
}

// BuildingSpec is a building in a community.
type BuildingSpec struct {
	ID        string
	Name      string
	Community string
	Address   string
	Lat, Lon  float64 // WGS-84 degrees
	Floors    int     // number of floors above ground; 0 if not given
}

// UnitSpec is a unit of a building: a flat, a room, a shop, a workshop or a
// charging room.
type UnitSpec struct {
	ID       string
	Name     string
	Building string
	Type     UnitType
	MixedUse bool   // people live where business is done ("three-in-one")
	Floor    int    // Chinese numbering: 1 is the ground floor, -1 the first basement; 0 if not given
	Room     string // room number as written on the door, e.g. "201"
}

// GatewaySpec is a gateway: the MQTT client that publishes for its devices.
// It sits in a building, or in a unit of one.
type GatewaySpec struct {
	ID          string
	Name        string
	Description string
	Building    string // exactly one of Building and Unit
	Unit        string
	// PasswordHash is the MQTT password hash of the gateway in crypt format
	// ("$7$..." as mosquitto_passwd writes). chargewatch never checks it
	// itself: `chargewatch mqtt-auth` writes it into the broker's password
	// file, and the broker authenticates the gateway with it.
	PasswordHash string
}

// DeviceSpec is a device. A device that connects by itself names its own id
// as gateway; it needs no entry under gateways.
type DeviceSpec struct {
	ID            string
	Name          string
	Kind          devices.Kind
	Model         string
	Gateway       string
	Unit          string // exactly one of Unit and Building
	Building      string
	RatedCurrentA float64       // breaker or device rating in amperes; 0 if not given
	Interval      time.Duration // expected time between readings
	PortCount     int           // ports of a charging pile; 1 for other kinds
}

// PersonSpec is a person: a grid worker, an officer, a fire brigade contact,
// a viewer or an admin.
type PersonSpec struct {
	ID          string
	Name        string
	Roles       RoleSet
	Communities []string // grid of a grid worker; optional scope of fire brigade and viewers
	Streets     []string // street of a street officer; optional scope of fire brigade and viewers
	Districts   []string // district of a district officer; optional scope of fire brigade and viewers
	Contacts    []ContactSpec
	Locale      string // LocaleZH or LocaleEN
}

// ContactSpec is one way to reach a person.
type ContactSpec struct {
	Channel ContactChannel
	Address string
}

// RosterSpec is a duty window of a person for one community, street or
// district. The window starts on each of Days at From and ends at To, on the
// next day when To is not after From (a night shift 20:00-08:00). Times are
// Asia/Shanghai.
type RosterSpec struct {
	Person    string
	Community string // exactly one of Community, Street and District
	Street    string
	District  string
	Days      Weekdays
	From, To  TimeOfDay
}

// defaultInterval is the expected reading interval of a kind when the site
// file gives none: smoke detectors send a heartbeat, the others readings.
func defaultInterval(k devices.Kind) time.Duration {
	if k == devices.KindSmoke {
		return time.Hour
	}
	return time.Minute
}
