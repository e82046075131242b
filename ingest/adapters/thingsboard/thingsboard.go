// Package thingsboard maps ThingsBoard gateway telemetry onto contract
// readings: the JSON that ThingsBoard's IoT Gateway, and many vendors'
// gateways, publish on v1/gateway/telemetry:
//
//	{"Device A": [{"ts": 1483228800000, "values": {"temperature": 42, "humidity": 80}},
//	              {"ts": 1483228801000, "values": {"temperature": 43, "humidity": 82}}],
//	 "Device B": [{"ts": 1483228800000, "values": {"temperature": 42}}]}
//
// Each ThingsBoard device name maps to a registered device, and each
// telemetry key to a contract field (with an optional scale: a key in kW
// becomes power_w with scale 1000). Keys that already are contract field
// names map to themselves. Keys that are not mapped are ignored. An entry
// without ts is stamped with the time it arrives; an entry without
// "values" is read as the values themselves.
//
// The ThingsBoard topic is the same for every gateway, so the broker
// cannot tell two of them apart by topic: an account may set a
// topic_prefix (what a Mosquitto bridge adds, e.g. "sites/hn-01/"), and two
// accounts must not share one.
package thingsboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

// TelemetryTopic is the gateway telemetry topic of ThingsBoard's gateway API.
const TelemetryTopic = "v1/gateway/telemetry"

// Config is the thingsboard section of an adapter account.
type Config struct {
	// TopicPrefix comes before v1/gateway/telemetry; default none.
	TopicPrefix string `yaml:"topic_prefix"`
	// Fields maps telemetry keys to contract fields for every device.
	Fields map[string]Field `yaml:"fields"`
	// Devices maps ThingsBoard device names to registered devices.
	Devices map[string]Device `yaml:"devices"`
}

// Device is one ThingsBoard device: a registered device id, or
// {device: id, fields: {...}} with keys of its own.
type Device struct {
	Device string           `yaml:"device"`
	Fields map[string]Field `yaml:"fields"`
}

// UnmarshalYAML reads a device id or a mapping.
func (d *Device) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		d.Device = n.Value
		return nil
	}
	type plain Device
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*d = Device(p)
	return nil
}

// Field is a contract field name, or {field: name, scale: factor}.
type Field struct {
	Name  string  `yaml:"field"`
	Scale float64 `yaml:"scale"`
}

// UnmarshalYAML reads a field name or a mapping.
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.Name = n.Value
		return nil
	}
	type plain Field
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = Field(p)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
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
	if c.TopicPrefix != "" && (strings.ContainsAny(c.TopicPrefix, "+#\x00") || !strings.HasSuffix(c.TopicPrefix, "/") || strings.HasPrefix(c.TopicPrefix, "/")) {
		out = append(out, fmt.Sprintf("topic_prefix %q: end it with / and use no + or #, e.g. sites/hn-01/", c.TopicPrefix))
	}
	checkFields := func(where string, fs map[string]Field) {
		for _, k := range sortedKeys(fs) {
			f := fs[k]
			sf, ok := devices.FieldByName(f.Name)
			if !ok {
				out = append(out, fmt.Sprintf("%s: %q maps to %q, which is not a contract field (docs/protocol.md lists them)", where, k, f.Name))
				continue
			}
			if f.Scale < 0 || math.IsNaN(f.Scale) || math.IsInf(f.Scale, 0) {
				out = append(out, fmt.Sprintf("%s: %q: scale %v must be positive", where, k, f.Scale))
			}
			if f.Scale != 0 && f.Scale != 1 && sf.Spec().Type != devices.TypeFloat {
				out = append(out, fmt.Sprintf("%s: %q: %s is not a number field and cannot be scaled", where, k, f.Name))
			}
		}
	}
	checkFields("fields", c.Fields)
	if len(c.Devices) == 0 {
		out = append(out, "devices: map at least one ThingsBoard device name to its registered device id")
	}
	for _, n := range sortedKeys(c.Devices) {
		d := c.Devices[n]
		if n == "" {
			out = append(out, "devices: a ThingsBoard device name is empty")
		}
		if !devices.ValidID(d.Device) {
			out = append(out, fmt.Sprintf("devices: %q maps to %q, which is not a valid device id", n, d.Device))
		}
		checkFields(fmt.Sprintf("devices: %q: fields", n), d.Fields)
	}
	return out
}

// ACL returns the topics the gateway publishes and reads: ThingsBoard's
// gateway and device API topics under the prefix.
func (c *Config) ACL() (write, read []string) {
	t := []string{c.TopicPrefix + "v1/gateway/#", c.TopicPrefix + "v1/devices/me/#"}
	return t, t
}

// Adapter maps one ThingsBoard gateway's telemetry.
type Adapter struct {
	gateway string
	topic   string
	devs    map[string]device
	seqs    adapters.Seqs
}

type device struct {
	id     string
	fields map[string]resolved
}

type resolved struct {
	field devices.Field
	scale float64
}

// New returns an adapter for the ThingsBoard gateway tied to gateway.
func New(gateway string, cfg Config) (*Adapter, error) {
	if p := cfg.Validate(); len(p) > 0 {
		return nil, fmt.Errorf("thingsboard: %s", strings.Join(p, "; "))
	}
	a := &Adapter{gateway: gateway, topic: cfg.TopicPrefix + TelemetryTopic, devs: map[string]device{}}
	for name, d := range cfg.Devices {
		fs := map[string]resolved{}
		for _, m := range []map[string]Field{cfg.Fields, d.Fields} {
			for k, f := range m {
				sf, _ := devices.FieldByName(f.Name)
				scale := f.Scale
				if scale == 0 {
					scale = 1
				}
				fs[k] = resolved{sf, scale}
			}
		}
		a.devs[name] = device{id: d.Device, fields: fs}
	}
	return a, nil
}

// Filters implements adapters.Adapter.
func (a *Adapter) Filters() []string { return []string{a.topic} }

// Map implements adapters.Adapter.
func (a *Adapter) Map(topic string, payload []byte, now time.Time) ([]adapters.Mapped, []*devices.Error) {
	if topic != a.topic {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonBadTopic, "topic %q is not %q", topic, a.topic)}
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(payload, &msg); err != nil || msg == nil {
		return nil, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "gateway telemetry is not a JSON object of device names: %v", err)}
	}
	var out []adapters.Mapped
	var rejects []*devices.Error
	for _, name := range sortedKeys(msg) {
		d, ok := a.devs[name]
		if !ok {
			rejects = append(rejects, adapters.Reject(devices.ReasonUnknownDevice, "ThingsBoard device %q is not in this adapter account: add it under thingsboard.devices", name))
			continue
		}
		entries, err := entriesOf(msg[name])
		if err != nil {
			rejects = append(rejects, adapters.Reject(devices.ReasonMalformedJSON, "device %q: %v", name, err))
			continue
		}
		var rs []devices.Reading
		for i, e := range entries {
			r, rej := a.entry(&d, name, i, e, now)
			rejects = append(rejects, rej...)
			if r.Set != 0 {
				rd := a.seqs.Reading(d.id, r.TS)
				rd.Set, rd.Vals = r.Set, r.Vals
				rs = append(rs, rd)
			}
		}
		// The contract allows 500 readings a message.
		for len(rs) > 0 {
			n := min(len(rs), 500)
			out = append(out, adapters.Telemetry(a.gateway, d.id, rs[:n]...))
			rs = rs[n:]
		}
	}
	return out, rejects
}

// entriesOf reads a device's value: an array of entries, or one entry.
func entriesOf(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		return []json.RawMessage{raw}, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("not an array of {\"ts\", \"values\"} entries: %v", err)
	}
	return entries, nil
}

func (a *Adapter) entry(d *device, name string, i int, raw json.RawMessage, now time.Time) (devices.Reading, []*devices.Error) {
	var r devices.Reading
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return r, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "device %q, entry %d: not a JSON object", name, i)}
	}
	r.TS = now.UnixMilli()
	values := obj
	if v, ok := obj["values"]; ok {
		if t, ok := obj["ts"]; ok {
			ts, ok := adapters.Number(t)
			if !ok || ts != math.Trunc(ts) || ts <= 0 || ts > 1<<53 || bytes.HasPrefix(bytes.TrimSpace(t), []byte(`"`)) {
				return r, []*devices.Error{adapters.Reject(devices.ReasonWrongType, "device %q, entry %d: ts %s is not Unix milliseconds", name, i, trunc(t))}
			}
			r.TS = int64(ts)
		}
		values = nil
		if err := json.Unmarshal(v, &values); err != nil || values == nil {
			return r, []*devices.Error{adapters.Reject(devices.ReasonMalformedJSON, "device %q, entry %d: values is not a JSON object", name, i)}
		}
	}
	var rejects []*devices.Error
	var unmapped []string
	for _, k := range sortedKeys(values) {
		f, ok := d.fields[k]
		if !ok {
			sf, isField := devices.FieldByName(k)
			if !isField {
				unmapped = append(unmapped, k)
				continue
			}
			f = resolved{sf, 1}
		}
		v, ok := value(f.field, values[k])
		if !ok {
			rejects = append(rejects, adapters.Reject(devices.ReasonWrongType, "device %q, entry %d: %s is %s, which does not fit %s (%s)", name, i, k, trunc(values[k]), f.field, f.field.Spec().Type))
			continue
		}
		if e := adapters.Put(&r, f.field, v*f.scale, k); e != nil {
			e.Msg = fmt.Sprintf("device %q, entry %d: %s", name, i, e.Msg)
			rejects = append(rejects, e)
		}
	}
	if r.Set == 0 && len(rejects) == 0 {
		rejects = append(rejects, adapters.Reject(devices.ReasonNoFields, "device %q, entry %d: none of the keys %s is mapped to a contract field: add them under thingsboard.fields", name, i, strings.Join(unmapped, ", ")))
	}
	return r, rejects
}

// value reads a JSON value for a field of the contract's type.
func value(f devices.Field, raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	switch f.Spec().Type {
	case devices.TypeBool:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			if b {
				return 1, true
			}
			return 0, true
		}
		if v, ok := adapters.Number(raw); ok && (v == 0 || v == 1) && raw[0] != '"' {
			return v, true
		}
		return 0, false
	case devices.TypeState:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		st, ok := devices.ParsePileState(s)
		return float64(st), ok
	}
	if len(raw) > 0 && raw[0] == '"' {
		return 0, false
	}
	return adapters.Number(raw)
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
