// Package accounts reads the adapter accounts file and wires the adapters:
// each account is one MQTT account of foreign devices (a Zigbee2MQTT
// instance, a set of Tasmota or Shelly plugs, a ThingsBoard gateway), tied
// to one registered gateway, with the foreign names it publishes mapped to
// registered device ids.
//
//	accounts:
//	  - username: z2m-dt-01        # the MQTT username the foreign software logs in with
//	    gateway: gw-dt-01          # registered gateway its devices belong to
//	    password_hash: $7$101$...  # optional, for the broker's password file (mosquitto_passwd format)
//	    zigbee2mqtt:
//	      base_topic: zigbee2mqtt/dt-01
//	      devices: {"0x00158d0001d64498": smk-dt-01-102}
//
// Exactly one of tasmota, shelly, zigbee2mqtt and thingsboard is set per
// account (docs/adapters.md describes each). Load checks the file alone;
// CheckRegistry checks it against the registry. Build wires the adapters
// into an adapters.Router for the ingester, and ACL gives what the broker
// must allow each account (for chargewatch mqtt-auth).
package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/shelly"
	"github.com/chargewatch/chargewatch/ingest/adapters/tasmota"
	"github.com/chargewatch/chargewatch/ingest/adapters/thingsboard"
	"github.com/chargewatch/chargewatch/ingest/adapters/zigbee2mqtt"
)

// File is the adapter accounts file.
type File struct {
	Accounts []Account `yaml:"accounts"`
}

// Account is one MQTT account of foreign devices: one MQTT client (a
// Zigbee2MQTT instance, a ThingsBoard gateway, one Tasmota or Shelly
// device), since the broker makes the username the client id.
type Account struct {
	// Username is the MQTT username the foreign software logs in with. It
	// must differ from every gateway id: the broker makes the username the
	// client id, and a gateway's cw-edge uses its id.
	Username string `yaml:"username"`
	// Gateway is the registered gateway the account's devices belong to.
	Gateway string `yaml:"gateway"`
	// PasswordHash is the account's MQTT password hash in crypt format, as
	// mosquitto_passwd writes it; empty if the broker authenticates it
	// otherwise.
	PasswordHash string `yaml:"password_hash"`

	Tasmota     *tasmota.Config     `yaml:"tasmota"`
	Shelly      *shelly.Config      `yaml:"shelly"`
	Zigbee2MQTT *zigbee2mqtt.Config `yaml:"zigbee2mqtt"`
	ThingsBoard *thingsboard.Config `yaml:"thingsboard"`
}

// Type names the account's adapter: tasmota, shelly, zigbee2mqtt,
// thingsboard, or "" when none or several are set.
func (a *Account) Type() string {
	var set []string
	if a.Tasmota != nil {
		set = append(set, "tasmota")
	}
	if a.Shelly != nil {
		set = append(set, "shelly")
	}
	if a.Zigbee2MQTT != nil {
		set = append(set, "zigbee2mqtt")
	}
	if a.ThingsBoard != nil {
		set = append(set, "thingsboard")
	}
	if len(set) != 1 {
		return ""
	}
	return set[0]
}

// Kind is the device kind an account's devices must have, or KindUnknown
// when any kind will do (ThingsBoard).
func (a *Account) Kind() devices.Kind {
	switch a.Type() {
	case "tasmota", "shelly":
		return devices.KindPlug
	case "zigbee2mqtt":
		return devices.KindSmoke
	}
	return devices.KindUnknown
}

// Devices returns the registered device ids the account maps to.
func (a *Account) Devices() []string {
	var out []string
	switch {
	case a.Tasmota != nil:
		for _, d := range a.Tasmota.Devices {
			out = append(out, d)
		}
	case a.Shelly != nil:
		for _, sw := range a.Shelly.Devices {
			for _, d := range sw {
				out = append(out, d)
			}
		}
	case a.Zigbee2MQTT != nil:
		for _, d := range a.Zigbee2MQTT.Devices {
			out = append(out, d)
		}
	case a.ThingsBoard != nil:
		for _, d := range a.ThingsBoard.Devices {
			out = append(out, d.Device)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (a *Account) name(i int) string {
	if a.Username != "" {
		return fmt.Sprintf("accounts[%d] (%s)", i, a.Username)
	}
	return fmt.Sprintf("accounts[%d]", i)
}

// Load reads and checks an accounts file. Unknown keys are errors, and
// every problem is reported.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adapter accounts: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and checks an accounts file's content; name is used in
// errors.
func Parse(name string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("adapter accounts %s: %w", name, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("adapter accounts %s:\n%w", name, err)
	}
	return &f, nil
}

// Validate checks the file on its own and reports every problem.
func (f *File) Validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("  %s: %s", where, fmt.Sprintf(format, args...)))
	}
	users := map[string]int{}
	type owned struct {
		account int
		write   string
	}
	var writes []owned
	var filters []owned
	for i := range f.Accounts {
		a := &f.Accounts[i]
		w := a.name(i)
		if a.Username == "" || strings.ContainsAny(a.Username, " \t\n:#+/") {
			bad(w, "username %q: give the MQTT username of the account (no spaces, :, /, + or #)", a.Username)
		} else if j, dup := users[a.Username]; dup {
			bad(w, "username %q is also accounts[%d]'s: one account per username", a.Username, j)
		} else {
			users[a.Username] = i
		}
		if !devices.ValidID(a.Gateway) {
			bad(w, "gateway %q is not a valid gateway id", a.Gateway)
		}
		if a.PasswordHash != "" && !strings.HasPrefix(a.PasswordHash, "$") {
			bad(w, "password_hash must be a hash in crypt format as mosquitto_passwd writes it ($7$...), never a password")
		}
		var problems []string
		switch a.Type() {
		case "tasmota":
			problems = a.Tasmota.Validate()
		case "shelly":
			problems = a.Shelly.Validate()
		case "zigbee2mqtt":
			problems = a.Zigbee2MQTT.Validate()
		case "thingsboard":
			problems = a.ThingsBoard.Validate()
		default:
			bad(w, "set exactly one of tasmota, shelly, zigbee2mqtt and thingsboard")
			continue
		}
		for _, p := range problems {
			bad(w, "%s.%s", a.Type(), p)
		}
		// Each plug is an MQTT client of its own, and the broker makes the
		// username the client id (use_username_as_clientid): plugs sharing
		// an account would throw each other off.
		if n := len(a.Devices()); (a.Tasmota != nil && len(a.Tasmota.Devices) > 1) || (a.Shelly != nil && len(a.Shelly.Devices) > 1) {
			bad(w, "%s.devices names %d plugs, but each plug is an MQTT client of its own and the broker makes the username the client id: give each plug an account of its own", a.Type(), n)
		}
		if len(problems) > 0 {
			continue
		}
		write, _ := a.acl()
		for _, t := range write {
			writes = append(writes, owned{i, t})
		}
		ad, err := a.adapter()
		if err != nil {
			bad(w, "%v", err)
			continue
		}
		for _, t := range ad.Filters() {
			filters = append(filters, owned{i, t})
		}
	}
	// A foreign topic belongs to one account: its topic says which
	// gateway published it, and the broker confines each account to its
	// own topics.
	for x := range writes {
		for y := x + 1; y < len(writes); y++ {
			a, b := writes[x], writes[y]
			if a.account != b.account && adapters.Overlap(a.write, b.write) {
				bad(f.Accounts[b.account].name(b.account), "may publish to %s, which %s may publish to as well: give each Zigbee2MQTT its own base_topic, each ThingsBoard gateway its own topic_prefix (a Mosquitto bridge prefix), each plug its own topic",
					b.write, f.Accounts[a.account].name(a.account))
			}
		}
	}
	for x := range filters {
		for y := x + 1; y < len(filters); y++ {
			a, b := filters[x], filters[y]
			if a.account == b.account && adapters.Overlap(a.write, b.write) && a.write != b.write {
				bad(f.Accounts[a.account].name(a.account), "topics %s and %s overlap", a.write, b.write)
			}
		}
	}
	return errors.Join(errs...)
}

// adapter makes the account's adapter.
func (a *Account) adapter() (adapters.Adapter, error) {
	switch a.Type() {
	case "tasmota":
		return tasmota.New(a.Gateway, *a.Tasmota)
	case "shelly":
		return shelly.New(a.Gateway, *a.Shelly)
	case "zigbee2mqtt":
		return zigbee2mqtt.New(a.Gateway, *a.Zigbee2MQTT)
	case "thingsboard":
		return thingsboard.New(a.Gateway, *a.ThingsBoard)
	}
	return nil, errors.New("set exactly one of tasmota, shelly, zigbee2mqtt and thingsboard")
}

func (a *Account) acl() (write, read []string) {
	switch a.Type() {
	case "tasmota":
		return a.Tasmota.ACL()
	case "shelly":
		return a.Shelly.ACL()
	case "zigbee2mqtt":
		return a.Zigbee2MQTT.ACL()
	case "thingsboard":
		return a.ThingsBoard.ACL()
	}
	return nil, nil
}

// Build makes the adapters of every account and the router that hands
// each foreign message to its account's adapter. The file must be valid.
func (f *File) Build() (*adapters.Router, error) {
	var as []adapters.Adapter
	for i := range f.Accounts {
		a, err := f.Accounts[i].adapter()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Accounts[i].name(i), err)
		}
		as = append(as, a)
	}
	return adapters.NewRouter(as...)
}

// Registry is what CheckRegistry needs to know of the registry;
// server.Directory over a registry snapshot has the same shape through
// RegistryFunc.
type Registry interface {
	// Device returns a registered device's gateway and kind.
	Device(id string) (gateway string, kind devices.Kind, ok bool)
	// GatewayKnown reports whether a gateway is registered.
	GatewayKnown(id string) bool
}

// CheckRegistry checks the accounts against the registry: each gateway is
// registered, no username is a gateway's id, and each device is registered
// under the account's gateway with a kind the adapter can feed.
func (f *File) CheckRegistry(r Registry) error {
	var errs []error
	for i := range f.Accounts {
		a := &f.Accounts[i]
		w := a.name(i)
		if !r.GatewayKnown(a.Gateway) {
			errs = append(errs, fmt.Errorf("  %s: gateway %q is not registered: add it to the site file and import it, or tie the account to a registered gateway", w, a.Gateway))
			continue
		}
		if r.GatewayKnown(a.Username) {
			errs = append(errs, fmt.Errorf("  %s: username %q is a gateway's id: the broker makes the username the client id, so the two would throw each other off; give the account a username of its own", w, a.Username))
		}
		want := a.Kind()
		for _, d := range a.Devices() {
			gw, kind, ok := r.Device(d)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("  %s: device %q is not registered: add it under gateway %q in the site file", w, d, a.Gateway))
			case gw != a.Gateway:
				errs = append(errs, fmt.Errorf("  %s: device %q is registered under gateway %q, not %q: the ingester would reject its readings (wrong_gateway)", w, d, gw, a.Gateway))
			case want != devices.KindUnknown && kind != want:
				errs = append(errs, fmt.Errorf("  %s: device %q is a %s; a %s account feeds %s devices", w, d, kind, a.Type(), want))
			}
		}
	}
	return errors.Join(errs...)
}

// RegistryFunc adapts two functions to Registry.
type RegistryFunc struct {
	DeviceFunc  func(id string) (gateway string, kind devices.Kind, ok bool)
	GatewayFunc func(id string) bool
}

// Device implements Registry.
func (r RegistryFunc) Device(id string) (string, devices.Kind, bool) { return r.DeviceFunc(id) }

// GatewayKnown implements Registry.
func (r RegistryFunc) GatewayKnown(id string) bool { return r.GatewayFunc(id) }

// ACLEntry is one line of a Mosquitto ACL file for an account: access is
// read, write or readwrite (Mosquitto's "topic [read|write|readwrite] <topic>").
type ACLEntry struct {
	Username     string
	PasswordHash string // for the password file; "" if none configured
	Gateway      string
	Access       string
	Topic        string
}

// ACL returns what the broker must allow each account: write to the
// topics its devices publish, read what they subscribe to (commands).
// chargewatch mqtt-auth writes them as
//
//	user <Username>
//	topic <Access> <Topic>
//
// The ingester's adapter session reads every filter of Filters.
func (f *File) ACL() []ACLEntry {
	var out []ACLEntry
	for i := range f.Accounts {
		a := &f.Accounts[i]
		write, read := a.acl()
		rw := map[string]string{}
		var order []string
		for _, t := range write {
			if _, ok := rw[t]; !ok {
				order = append(order, t)
			}
			rw[t] = "write"
		}
		for _, t := range read {
			switch rw[t] {
			case "":
				order = append(order, t)
				rw[t] = "read"
			case "write":
				rw[t] = "readwrite"
			}
		}
		for _, t := range order {
			out = append(out, ACLEntry{Username: a.Username, PasswordHash: a.PasswordHash, Gateway: a.Gateway, Access: rw[t], Topic: t})
		}
	}
	return out
}

// Filters returns the topic filters of every account: what the ingester's
// adapter session subscribes to, and what its broker account must be
// allowed to read.
func (f *File) Filters() ([]string, error) {
	r, err := f.Build()
	if err != nil {
		return nil, err
	}
	return r.Filters(), nil
}
