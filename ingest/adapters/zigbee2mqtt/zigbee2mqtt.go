// Package zigbee2mqtt maps the MQTT messages that Zigbee2MQTT publishes
// for Zigbee smoke detectors onto contract readings and events of kind
// smoke.
//
// Zigbee2MQTT publishes a device's whole state as JSON on
// <base_topic>/<friendly_name> (base_topic is zigbee2mqtt by default; a
// friendly name may contain slashes) and its availability on
// <base_topic>/<friendly_name>/availability: "online" or "offline" in older
// releases, {"state":"online"} in newer ones. Mapped state keys:
//
//	smoke        -> smoke        and the events smoke_alarm / smoke_clear on change
//	battery_low  -> battery_low  and low_battery / battery_ok on change
//	tamper       -> tamper       and tamper / tamper_clear on change
//	test         -> (self_test event when it becomes true)
//	trouble      -> fault        and fault / fault_clear on change
//	battery      -> battery_pct  a number, or a string ("100.00") in releases of 2018-2020
//	linkquality  -> link_quality
//	temperature  -> temp_c
//
// Keys set to null (a value the device has not reported yet) are left out,
// as are keys chargewatch does not use (voltage, smoke_density, device...).
// A reading is stamped with last_seen when Zigbee2MQTT adds it (epoch ms
// or ISO 8601 with a zone), else with the time it arrives.
package zigbee2mqtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

// Config is the zigbee2mqtt section of an adapter account.
type Config struct {
	// BaseTopic is Zigbee2MQTT's mqtt.base_topic; default zigbee2mqtt.
	BaseTopic string `yaml:"base_topic"`
	// Devices maps friendly names (or IEEE addresses, when no friendly
	// name was set) to registered device ids.
	Devices map[string]string `yaml:"devices"`
}

// DefaultBaseTopic is Zigbee2MQTT's default base topic.
const DefaultBaseTopic = "zigbee2mqtt"

func (c *Config) base() string {
	if c.BaseTopic == "" {
		return DefaultBaseTopic
	}
	return c.BaseTopic
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Validate reports every problem, naming the key.
func (c *Config) Validate() []string {
	var out []string
	if !adapters.ValidName(c.base()) {
		out = append(out, fmt.Sprintf("base_topic %q must not be empty, contain + or #, or start or end with /", c.base()))
	}
	if len(c.Devices) == 0 {
		out = append(out, "devices: map at least one friendly name to its registered device id")
	}
	for _, n := range sortedKeys(c.Devices) {
		if !adapters.ValidName(n) || n == "bridge" || strings.HasPrefix(n, "bridge/") || strings.HasSuffix(n, "/availability") || strings.HasSuffix(n, "/set") || strings.HasSuffix(n, "/get") {
			out = append(out, fmt.Sprintf("devices: friendly name %q cannot be a device's (no + or #, no leading or trailing /, not bridge, not ending in /set, /get or /availability)", n))
		}
		if !devices.ValidID(c.Devices[n]) {
			out = append(out, fmt.Sprintf("devices: %q maps to %q, which is not a valid device id", n, c.Devices[n]))
		}
	}
	return out
}

// ACL returns the topics the Zigbee2MQTT instance publishes and reads:
// everything under its base topic.
func (c *Config) ACL() (write, read []string) {
	return []string{c.base() + "/#"}, []string{c.base() + "/#"}
}

// Adapter maps one Zigbee2MQTT instance's smoke detectors.
type Adapter struct {
	gateway string
	base    string
	devs    map[string]string
	filters []string
	seqs    adapters.Seqs
	levels  adapters.Transitions
}

// New returns an adapter for the detectors of gateway.
func New(gateway string, cfg Config) (*Adapter, error) {
	if p := cfg.Validate(); len(p) > 0 {
		return nil, fmt.Errorf("zigbee2mqtt: %s", strings.Join(p, "; "))
	}
	a := &Adapter{gateway: gateway, base: cfg.base() + "/", devs: cfg.Devices}
	for _, n := range sortedKeys(cfg.Devices) {
		a.filters = append(a.filters, a.base+n, a.base+n+"/availability")
	}
	return a, nil
}

// Filters implements adapters.Adapter.
func (a *Adapter) Filters() []string { return a.filters }

// Map implements adapters.Adapter.
func (a *Adapter) Map(topic string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	name, ok := strings.CutPrefix(topic, a.base)
	if !ok {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonBadTopic, "topic %q is not under the base topic %q of this account", topic, strings.TrimSuffix(a.base, "/"))}
	}
	if dev, ok := a.devs[name]; ok {
		return a.state(dev, payload, now)
	}
	if n, ok := strings.CutSuffix(name, "/availability"); ok {
		if dev, ok := a.devs[n]; ok {
			return a.availability(dev, payload, now)
		}
	}
	return nil, []*devices.Error{adapters.Reject(devices.ReasonUnknownDevice, "Zigbee2MQTT device %q is not in this adapter account: add its friendly name under zigbee2mqtt.devices", name)}
}

func (a *Adapter) availability(dev string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	s := strings.TrimSpace(string(payload))
	if strings.HasPrefix(s, "{") {
		var v struct {
			State string `json:"state"`
		}
		if err := json.Unmarshal(payload, &v); err != nil {
			return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "availability of %s: %v", dev, err)}
		}
		s = v.State
	}
	switch s {
	case "online":
		return []adapters.Mapped{adapters.Online(a.gateway, dev, true, now)}, nil
	case "offline":
		return []adapters.Mapped{adapters.Online(a.gateway, dev, false, now)}, nil
	case "":
		return nil, nil // a cleared retained message
	}
	return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "availability of %s is %q, not online or offline", dev, trunc(payload))}
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// flags are the boolean state keys, with their field and the events their
// changes become.
var flags = []struct {
	key         string
	field       devices.Field // NumFields: no field, events only
	raise, fall devices.EventType
}{
	{"smoke", devices.FieldSmoke, devices.EventSmokeAlarm, devices.EventSmokeClear},
	{"tamper", devices.FieldTamper, devices.EventTamper, devices.EventTamperClear},
	{"battery_low", devices.FieldBatteryLow, devices.EventLowBattery, devices.EventBatteryOK},
	{"trouble", devices.FieldFault, devices.EventFault, devices.EventFaultClear},
	{"test", devices.NumFields, devices.EventSelfTest, devices.EventUnknown},
}

var numbers = []struct {
	key   string
	field devices.Field
}{
	{"battery", devices.FieldBatteryPct},
	{"linkquality", devices.FieldLinkQuality},
	{"temperature", devices.FieldTemp},
}

var null = []byte("null")

func (a *Adapter) state(dev string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil || obj == nil {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "state of %s is not a JSON object: %v", dev, err)}
	}
	ms := lastSeen(obj["last_seen"], now)
	var r devices.Reading
	var rejects []*devices.Error
	type change struct {
		t devices.EventType
		k string
	}
	var changes []change
	for _, f := range flags {
		raw, ok := obj[f.key]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), null) {
			continue
		}
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			rejects = append(rejects, adapters.Reject(devices.ReasonWrongType, "state of %s: %s is %s, not true or false", dev, f.key, trunc(raw)))
			continue
		}
		if f.field != devices.NumFields {
			r.PutBool(f.field, v)
		}
		if a.levels.Change(dev+"/"+f.key, v) {
			t := f.fall
			if v {
				t = f.raise
			}
			if t != devices.EventUnknown {
				changes = append(changes, change{t, f.key})
			}
		}
	}
	for _, n := range numbers {
		raw, ok := obj[n.key]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), null) {
			continue
		}
		v, ok := adapters.Number(raw)
		if !ok {
			rejects = append(rejects, adapters.Reject(devices.ReasonWrongType, "state of %s: %s is %s, not a number", dev, n.key, trunc(raw)))
			continue
		}
		if n.field == devices.FieldLinkQuality {
			v = math.Round(v)
		}
		if e := adapters.Put(&r, n.field, v, n.key); e != nil {
			e.Msg = "state of " + dev + ": " + e.Msg
			rejects = append(rejects, e)
		}
	}
	var out []adapters.Mapped
	if r.Set != 0 {
		rd := a.seqs.Reading(dev, ms)
		rd.Set, rd.Vals = r.Set, r.Vals
		out = append(out, adapters.Telemetry(a.gateway, dev, rd))
	}
	if len(changes) > 0 {
		evs := make([]devices.Event, len(changes))
		for i, c := range changes {
			evs[i] = a.seqs.Event(dev, ms, c.t, "zigbee2mqtt "+c.k)
		}
		out = append(out, adapters.Events(a.gateway, dev, evs...))
	}
	return out, rejects
}

// lastSeen reads Zigbee2MQTT's last_seen (epoch ms, or ISO 8601 with a
// zone) and falls back to now.
func lastSeen(raw json.RawMessage, now time.Time) int64 {
	if raw == nil {
		return now.UnixMilli()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixMilli()
		}
		return now.UnixMilli()
	}
	if v, ok := adapters.Number(raw); ok && v > 1e12 && v < 1e14 {
		return int64(v)
	}
	return now.UnixMilli()
}
