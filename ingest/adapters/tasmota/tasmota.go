// Package tasmota maps the MQTT messages of smart plugs running Tasmota
// firmware onto contract readings of kind plug.
//
// Tasmota publishes under its FullTopic, by default %prefix%/%topic%/, with
// the prefixes tele (periodic, every TelePeriod), stat (answers and
// changes) and cmnd (commands to the device). Mapped:
//
//	tele/<topic>/SENSOR  {"Time":..., "ENERGY":{"Total":kWh, "Power":W, "Voltage":V,
//	                      "Current":A, "Factor":pf, "Frequency":Hz, ...}}
//	                     power_w, voltage_v, current_a, pf, energy_kwh, freq_hz
//	                     (multi-channel devices send arrays: Channel picks one)
//	tele/<topic>/STATE   {"POWER":"ON", ...}              relay_on
//	stat/<topic>/POWER   ON | OFF                         relay_on
//	stat/<topic>/RESULT  {"POWER":"OFF"}                  relay_on (other answers: nothing)
//	tele/<topic>/LWT     Online | Offline                 status
//
// Readings are stamped with the time they arrive: Tasmota's "Time" is the
// plug's local time without a zone, and a plug's clock is often not set.
package tasmota

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

// Config is the tasmota section of an adapter account.
type Config struct {
	// FullTopic is the plugs' FullTopic setting; default %prefix%/%topic%/.
	FullTopic string `yaml:"full_topic"`
	// Relay is the key of the relay state: POWER (default) for one relay,
	// POWER1, POWER2... for one of several.
	Relay string `yaml:"relay"`
	// Channel picks the value of arrays in ENERGY (devices that measure
	// several channels), from 1; default 1.
	Channel int `yaml:"channel"`
	// Devices maps each plug's %topic% to its registered device id.
	Devices map[string]string `yaml:"devices"`
}

// DefaultFullTopic is Tasmota's default FullTopic.
const DefaultFullTopic = "%prefix%/%topic%/"

// Validate reports every problem, naming the key.
func (c *Config) Validate() []string {
	var out []string
	ft := c.fullTopic()
	if strings.Count(ft, "%prefix%") != 1 || strings.Count(ft, "%topic%") != 1 || strings.Count(ft, "%") != 4 {
		out = append(out, fmt.Sprintf("full_topic %q: use %%prefix%% and %%topic%% once each, and no other placeholder (%%hostname%%, %%id%% are not supported: set the plugs' Topic instead)", ft))
	}
	if strings.ContainsAny(strings.NewReplacer("%prefix%", "", "%topic%", "").Replace(ft), "+#") {
		out = append(out, fmt.Sprintf("full_topic %q must not contain + or #", ft))
	}
	if c.Relay != "" && c.Relay != "POWER" && !(strings.HasPrefix(c.Relay, "POWER") && len(c.Relay) == 6 && c.Relay[5] >= '1' && c.Relay[5] <= '8') {
		out = append(out, fmt.Sprintf("relay %q: use POWER, or POWER1 to POWER8", c.Relay))
	}
	if c.Channel < 0 || c.Channel > 8 {
		out = append(out, fmt.Sprintf("channel %d: use 1 to 8", c.Channel))
	}
	if len(c.Devices) == 0 {
		out = append(out, "devices: map at least one plug's Tasmota topic to its registered device id")
	}
	for _, t := range sortedKeys(c.Devices) {
		if !adapters.ValidName(t) || strings.Contains(t, "/") {
			out = append(out, fmt.Sprintf("devices: Tasmota topic %q must be one topic level without + or #", t))
		}
		if !devices.ValidID(c.Devices[t]) {
			out = append(out, fmt.Sprintf("devices: %q maps to %q, which is not a valid device id", t, c.Devices[t]))
		}
	}
	return out
}

func (c *Config) fullTopic() string {
	if c.FullTopic == "" {
		return DefaultFullTopic
	}
	return c.FullTopic
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// topicBase is the part of a plug's topics before the message name.
func (c *Config) topicBase(prefix, topic string) string {
	s := strings.NewReplacer("%prefix%", prefix, "%topic%", topic).Replace(c.fullTopic())
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// ACL returns the topics the plugs publish (write) and read: their tele
// and stat topics, and their cmnd topics.
func (c *Config) ACL() (write, read []string) {
	for _, t := range sortedKeys(c.Devices) {
		write = append(write, c.topicBase("tele", t)+"#", c.topicBase("stat", t)+"#")
		read = append(read, c.topicBase("cmnd", t)+"#")
	}
	return write, read
}

// Adapter maps one account's plugs.
type Adapter struct {
	gateway string
	cfg     Config
	relay   string
	channel int
	bases   map[string]target // topic base ("tele/plug1/") to plug
	filters []string
	seqs    adapters.Seqs
}

type target struct {
	device, prefix string
}

// New returns an adapter for the plugs of gateway. The config must be valid.
func New(gateway string, cfg Config) (*Adapter, error) {
	if p := cfg.Validate(); len(p) > 0 {
		return nil, fmt.Errorf("tasmota: %s", strings.Join(p, "; "))
	}
	a := &Adapter{gateway: gateway, cfg: cfg, relay: cfg.Relay, channel: max(cfg.Channel, 1), bases: map[string]target{}}
	if a.relay == "" {
		a.relay = "POWER"
	}
	for _, t := range sortedKeys(cfg.Devices) {
		for _, p := range []string{"tele", "stat"} {
			base := cfg.topicBase(p, t)
			a.bases[base] = target{device: cfg.Devices[t], prefix: p}
			a.filters = append(a.filters, base+"+")
		}
	}
	return a, nil
}

// Filters implements adapters.Adapter.
func (a *Adapter) Filters() []string { return a.filters }

// Map implements adapters.Adapter.
func (a *Adapter) Map(topic string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	i := strings.LastIndexByte(topic, '/')
	if i < 0 {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonBadTopic, "topic %q is not a Tasmota topic of this account", topic)}
	}
	tg, ok := a.bases[topic[:i+1]]
	if !ok {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonUnknownDevice, "topic %q is not the topic of a plug in this adapter account: add the plug's Tasmota topic under tasmota.devices", topic)}
	}
	name := topic[i+1:]
	ms := now.UnixMilli()
	switch {
	case tg.prefix == "tele" && name == "SENSOR":
		return a.sensor(tg.device, payload, ms)
	case tg.prefix == "tele" && name == "STATE", tg.prefix == "stat" && name == "RESULT":
		return a.relayJSON(tg.device, payload, ms)
	case tg.prefix == "stat" && name == a.relay:
		on, ok := adapters.Bool(payload)
		if !ok {
			return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "%s: %q is not ON or OFF", topic, trunc(payload))}
		}
		return a.relayReading(tg.device, on, ms), nil
	case tg.prefix == "tele" && name == "LWT":
		switch strings.TrimSpace(string(payload)) {
		case "Online":
			return []adapters.Mapped{adapters.Online(a.gateway, tg.device, true, now)}, nil
		case "Offline":
			return []adapters.Mapped{adapters.Online(a.gateway, tg.device, false, now)}, nil
		case "":
			return nil, nil // a cleared retained message
		}
		return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "%s: %q is not Online or Offline", topic, trunc(payload))}
	}
	return nil, nil // INFO1, HASS_STATE, other sensors and answers: nothing for chargewatch
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func (a *Adapter) relayReading(device string, on bool, ms int64) []adapters.Mapped {
	r := a.seqs.Reading(device, ms)
	r.PutBool(devices.FieldRelayOn, on)
	return []adapters.Mapped{adapters.Telemetry(a.gateway, device, r)}
}

// relayJSON maps STATE and RESULT: the relay key if present.
func (a *Adapter) relayJSON(device string, payload []byte, ms int64) ([]adapters.Mapped, []*devices.Error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "plug %s: not a JSON object: %v", device, err)}
	}
	raw, ok := obj[a.relay]
	if !ok {
		return nil, nil
	}
	on, ok := adapters.Bool(raw)
	if !ok {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "plug %s: %s is %s, not \"ON\" or \"OFF\"", device, a.relay, trunc(raw))}
	}
	return a.relayReading(device, on, ms), nil
}

// energyFields are the ENERGY keys chargewatch reads, in Tasmota's names.
var energyFields = []struct {
	key   string
	field devices.Field
}{
	{"Voltage", devices.FieldVoltage},
	{"Current", devices.FieldCurrent},
	{"Power", devices.FieldPower},
	{"Factor", devices.FieldPF},
	{"Total", devices.FieldEnergy},
	{"Frequency", devices.FieldFreq},
}

func (a *Adapter) sensor(device string, payload []byte, ms int64) ([]adapters.Mapped, []*devices.Error) {
	var msg struct {
		Energy map[string]json.RawMessage `json:"ENERGY"`
	}
	if err := json.Unmarshal(payload, &msg); err != nil {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "plug %s: SENSOR is not the JSON Tasmota sends: %v", device, err)}
	}
	if msg.Energy == nil {
		return nil, nil // a SENSOR message without energy (another sensor)
	}
	// A value that does not fit its field is left out of the reading and
	// reported; the other values are kept (like cw-edge's bad_value).
	var r devices.Reading
	var rejects []*devices.Error
	for _, ef := range energyFields {
		raw, ok := msg.Energy[ef.key]
		if !ok {
			continue
		}
		v, ok := a.value(raw)
		if !ok {
			rejects = append(rejects, adapters.Reject(devices.ReasonWrongType, "plug %s: ENERGY.%s is %s, not a number (or an array of %d or more)", device, ef.key, trunc(raw), a.channel))
			continue
		}
		if ef.field == devices.FieldFreq && v == 0 {
			continue // Tasmota reports 0 Hz when it does not measure the frequency
		}
		if e := adapters.Put(&r, ef.field, v, "ENERGY."+ef.key); e != nil {
			e.Msg = "plug " + device + ": " + e.Msg
			rejects = append(rejects, e)
		}
	}
	if r.Set == 0 {
		return nil, rejects
	}
	out := a.seqs.Reading(device, ms)
	out.Set, out.Vals = r.Set, r.Vals
	return []adapters.Mapped{adapters.Telemetry(a.gateway, device, out)}, rejects
}

// value reads a number, or the configured channel of an array.
func (a *Adapter) value(raw json.RawMessage) (float64, bool) {
	if s := strings.TrimSpace(string(raw)); strings.HasPrefix(s, "[") {
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil || len(arr) < a.channel {
			return 0, false
		}
		raw = arr[a.channel-1]
	}
	if s := strings.TrimSpace(string(raw)); strings.HasPrefix(s, `"`) {
		return 0, false // Tasmota sends numbers; a string here is not Tasmota
	}
	return adapters.Number(raw)
}
