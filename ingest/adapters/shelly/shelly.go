// Package shelly maps the MQTT messages of Shelly Gen2 and later smart
// plugs and relays (Plus Plug S, Plus 1PM, Pro 4PM, Gen3 and Gen4 models)
// onto contract readings of kind plug.
//
// A Shelly publishes under its topic prefix (by default its id, such as
// shellyplusplugs-80646fd031f8; settable per device). Mapped, for the
// switch components the account names:
//
//	<prefix>/status/switch:<n>  the switch's status object ("Generic status
//	                            update over MQTT" must be on)
//	<prefix>/events/rpc         NotifyStatus (what changed) and NotifyFullStatus
//	                            (everything), with params.ts ("RPC status
//	                            notifications over MQTT", on by default)
//	<prefix>/online             true | false (the Last Will)               status
//
// Switch status keys: output -> relay_on, apower (W) -> power_w, voltage ->
// voltage_v, current -> current_a, pf -> pf, freq -> freq_hz, aenergy.total
// (Wh) -> energy_kwh, temperature.tC -> temp_c, errors -> fault (any error),
// and the over_temp and overload events when "overtemp" or "overpower" /
// "overcurrent" appear in errors. Readings carry params.ts when the message
// has one, else the time they arrive.
package shelly

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

// Config is the shelly section of an adapter account.
type Config struct {
	// Devices maps each Shelly's topic prefix to the registered device of
	// its switch 0, or to a device per switch: {"switch:0": plug-1,
	// "switch:1": plug-2}.
	Devices map[string]Switches `yaml:"devices"`
}

// Switches maps switch ids to registered device ids.
type Switches map[int]string

// UnmarshalYAML reads a device id (switch 0) or a map of "switch:<n>" to
// device ids.
func (s *Switches) UnmarshalYAML(n *yaml.Node) error {
	*s = Switches{}
	if n.Kind == yaml.ScalarNode {
		(*s)[0] = n.Value
		return nil
	}
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return fmt.Errorf("line %d: give a device id, or a map of switch:<n> to device ids", n.Line)
	}
	for k, v := range m {
		id, ok := switchID(k)
		if !ok {
			return fmt.Errorf("line %d: %q: name a switch switch:0, switch:1 and so on", n.Line, k)
		}
		(*s)[id] = v
	}
	return nil
}

func switchID(component string) (int, bool) {
	rest, ok := strings.CutPrefix(component, "switch:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0 && n < 64
}

func sortedPrefixes(m map[string]Switches) []string {
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
	if len(c.Devices) == 0 {
		out = append(out, "devices: map at least one Shelly's topic prefix to its registered device id")
	}
	for _, p := range sortedPrefixes(c.Devices) {
		if !adapters.ValidName(p) {
			out = append(out, fmt.Sprintf("devices: topic prefix %q must not be empty, contain + or #, or start or end with /", p))
		}
		if len(c.Devices[p]) == 0 {
			out = append(out, fmt.Sprintf("devices: %q names no switch", p))
		}
		for _, sw := range sortedSwitches(c.Devices[p]) {
			if !devices.ValidID(c.Devices[p][sw]) {
				out = append(out, fmt.Sprintf("devices: %q switch:%d maps to %q, which is not a valid device id", p, sw, c.Devices[p][sw]))
			}
		}
	}
	return out
}

func sortedSwitches(s Switches) []int {
	out := make([]int, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// ACL returns the topics the devices publish and read: everything under
// their prefixes (they read their rpc topic for commands).
func (c *Config) ACL() (write, read []string) {
	for _, p := range sortedPrefixes(c.Devices) {
		write = append(write, p+"/#")
		read = append(read, p+"/#")
	}
	return write, read
}

// Adapter maps one account's Shellies.
type Adapter struct {
	gateway string
	devs    map[string]Switches
	filters []string
	seqs    adapters.Seqs
	levels  adapters.Transitions
}

// New returns an adapter for the Shellies of gateway.
func New(gateway string, cfg Config) (*Adapter, error) {
	if p := cfg.Validate(); len(p) > 0 {
		return nil, fmt.Errorf("shelly: %s", strings.Join(p, "; "))
	}
	a := &Adapter{gateway: gateway, devs: cfg.Devices}
	for _, p := range sortedPrefixes(cfg.Devices) {
		for _, sw := range sortedSwitches(cfg.Devices[p]) {
			a.filters = append(a.filters, fmt.Sprintf("%s/status/switch:%d", p, sw))
		}
		a.filters = append(a.filters, p+"/events/rpc", p+"/online")
	}
	return a, nil
}

// Filters implements adapters.Adapter.
func (a *Adapter) Filters() []string { return a.filters }

// Map implements adapters.Adapter.
func (a *Adapter) Map(topic string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	switch {
	case strings.HasSuffix(topic, "/online"):
		sw, ok := a.devs[strings.TrimSuffix(topic, "/online")]
		if !ok {
			break
		}
		on, ok := adapters.Bool(payload)
		if !ok {
			return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "%s: %q is not true or false", topic, trunc(payload))}
		}
		var out []adapters.Mapped
		for _, id := range sortedSwitches(sw) {
			out = append(out, adapters.Online(a.gateway, sw[id], on, now))
		}
		return out, nil
	case strings.HasSuffix(topic, "/events/rpc"):
		sw, ok := a.devs[strings.TrimSuffix(topic, "/events/rpc")]
		if !ok {
			break
		}
		return a.rpc(sw, payload, now)
	default:
		i := strings.LastIndex(topic, "/status/")
		if i < 0 {
			break
		}
		sw, ok := a.devs[topic[:i]]
		if !ok {
			break
		}
		n, ok := switchID(topic[i+len("/status/"):])
		if !ok || sw[n] == "" {
			return nil, nil // another component: nothing for chargewatch
		}
		var st switchStatus
		if err := json.Unmarshal(payload, &st); err != nil {
			return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "%s: not a switch status: %v", topic, err)}
		}
		return a.switchStatus(sw[n], &st, true, now.UnixMilli())
	}
	return nil, []*devices.Error{adapters.Reject(devices.ReasonUnknownDevice, "topic %q is not the topic of a Shelly in this adapter account: add its topic prefix under shelly.devices", topic)}
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// rpcFrame is a notification on <prefix>/events/rpc.
type rpcFrame struct {
	Method string                     `json:"method"`
	Params map[string]json.RawMessage `json:"params"`
}

func (a *Adapter) rpc(sw Switches, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	var f rpcFrame
	if err := json.Unmarshal(payload, &f); err != nil {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "events/rpc: not a Shelly RPC frame: %v", err)}
	}
	full := false
	switch f.Method {
	case "NotifyFullStatus":
		full = true
	case "NotifyStatus":
	default:
		return nil, nil // NotifyEvent and answers to calls: nothing mapped
	}
	ms := now.UnixMilli()
	if raw, ok := f.Params["ts"]; ok {
		ts, ok := adapters.Number(raw)
		if !ok || ts <= 0 || ts > 1e11 {
			return nil, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "events/rpc: params.ts %s is not a Unix time in seconds", trunc(raw))}
		}
		ms = int64(math.Round(ts * 1000))
	}
	var out []adapters.Mapped
	var rejects []*devices.Error
	for _, id := range sortedSwitches(sw) {
		raw, ok := f.Params[fmt.Sprintf("switch:%d", id)]
		if !ok {
			continue
		}
		var st switchStatus
		if err := json.Unmarshal(raw, &st); err != nil {
			rejects = append(rejects, adapters.Reject(devices.ReasonMalformedJSON, "device %s: switch:%d is not a switch status: %v", sw[id], id, err))
			continue
		}
		m, r := a.switchStatus(sw[id], &st, full, ms)
		out = append(out, m...)
		rejects = append(rejects, r...)
	}
	return out, rejects
}

// switchStatus is a Switch component's status; pointers tell what a
// partial NotifyStatus left out.
type switchStatus struct {
	Output  *bool    `json:"output"`
	APower  *float64 `json:"apower"`
	Voltage *float64 `json:"voltage"`
	Current *float64 `json:"current"`
	PF      *float64 `json:"pf"`
	Freq    *float64 `json:"freq"`
	AEnergy *struct {
		Total *float64 `json:"total"` // Wh
	} `json:"aenergy"`
	Temperature *struct {
		TC *float64 `json:"tC"`
	} `json:"temperature"`
	Errors *[]string `json:"errors"`
}

// switchStatus maps a status; full says that a missing errors key means no
// errors (a full status), rather than "unchanged" (a NotifyStatus).
func (a *Adapter) switchStatus(device string, st *switchStatus, full bool, ms int64) ([]adapters.Mapped, []*devices.Error) {
	var r devices.Reading
	var rejects []*devices.Error
	put := func(f devices.Field, v *float64, div float64, key string) {
		if v == nil {
			return
		}
		if e := adapters.Put(&r, f, *v/div, key); e != nil {
			e.Msg = "device " + device + ": " + e.Msg
			rejects = append(rejects, e)
		}
	}
	if st.Output != nil {
		r.PutBool(devices.FieldRelayOn, *st.Output)
	}
	put(devices.FieldPower, st.APower, 1, "apower")
	put(devices.FieldVoltage, st.Voltage, 1, "voltage")
	put(devices.FieldCurrent, st.Current, 1, "current")
	put(devices.FieldPF, st.PF, 1, "pf")
	put(devices.FieldFreq, st.Freq, 1, "freq")
	if st.AEnergy != nil {
		put(devices.FieldEnergy, st.AEnergy.Total, 1000, "aenergy.total")
	}
	if st.Temperature != nil {
		put(devices.FieldTemp, st.Temperature.TC, 1, "temperature.tC")
	}
	var errs []string
	if st.Errors != nil {
		errs = *st.Errors
	}
	var out []adapters.Mapped
	var rd devices.Reading
	if st.Errors != nil || full {
		r.PutBool(devices.FieldFault, len(errs) > 0)
	}
	if r.Set != 0 {
		rd = a.seqs.Reading(device, ms)
		rd.Set, rd.Vals = r.Set, r.Vals
		out = append(out, adapters.Telemetry(a.gateway, device, rd))
	}
	var evs []devices.Event
	if st.Errors != nil || full {
		for _, e := range []struct {
			key   string
			names []string
			t     devices.EventType
		}{
			{"overtemp", []string{"overtemp"}, devices.EventOverTemp},
			{"overload", []string{"overpower", "overcurrent"}, devices.EventOverload},
		} {
			on := slices.ContainsFunc(errs, func(s string) bool { return slices.Contains(e.names, s) })
			if a.levels.Change(device+"/"+e.key, on) && on {
				evs = append(evs, a.seqs.Event(device, ms, e.t, "shelly error: "+strings.Join(errs, ",")))
			}
		}
	}
	if len(evs) > 0 {
		out = append(out, adapters.Events(a.gateway, device, evs...))
	}
	return out, rejects
}
