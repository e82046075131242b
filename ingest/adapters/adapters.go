// Package adapters maps the MQTT messages of devices that were installed
// before chargewatch onto wire contract v1: smart plugs running Tasmota
// (ingest/adapters/tasmota) or Shelly Gen2 firmware (shelly), Zigbee smoke
// detectors behind Zigbee2MQTT (zigbee2mqtt), and gateways that speak
// ThingsBoard's gateway telemetry API (thingsboard).
//
// An adapter is pure: bytes and a topic in, contract readings, events and
// status out, no I/O. Each adapter account (ingest/adapters/accounts) is
// tied to one registered gateway and maps the foreign names it publishes
// under (a Tasmota topic, a Shelly topic prefix, a Zigbee2MQTT friendly
// name, a ThingsBoard device name) to registered device ids, through
// configuration only.
//
// Foreign devices have no per-device seq counter, so adapters number the
// readings and events of each device themselves (Seqs); the first after a
// start carries seq_reset, which the ingester counts as an announced
// restart. State that a foreign format only reports as a level (smoke,
// tamper, battery_low) also becomes the matching contract events on each
// change, so a smoke alarm travels on the events path as well.
//
// The ingester feeds what Map returns to the same processor as contract
// messages: Mapped.Topic and Mapped.AppendPayload give the contract topic
// and payload, so validation, registry checks, quarantine, the durable log
// and the alerting engine are the same for every device.
package adapters

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Mapped is what one foreign message means for one device, on one channel
// of the contract.
type Mapped struct {
	Gateway, Device string
	Channel         devices.Channel // telemetry, event or status
	Readings        []devices.Reading
	Events          []devices.Event
	Status          devices.Status // when Channel is status
}

// Topic returns the contract topic of the mapped message.
func (m *Mapped) Topic() string { return devices.TopicFor(m.Gateway, m.Device, m.Channel) }

// AppendPayload appends the contract payload of the mapped message.
func (m *Mapped) AppendPayload(dst []byte) []byte {
	switch m.Channel {
	case devices.ChannelTelemetry:
		return devices.AppendTelemetry(dst, m.Readings)
	case devices.ChannelEvent:
		if len(m.Events) == 1 {
			return devices.AppendEvent(dst, &m.Events[0])
		}
		dst = append(dst, '[')
		for i := range m.Events {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = devices.AppendEvent(dst, &m.Events[i])
		}
		return append(dst, ']')
	default:
		return devices.AppendStatus(dst, m.Status)
	}
}

// Adapter maps the foreign messages of one adapter account.
type Adapter interface {
	// Filters are the MQTT topic filters of the account's messages: the
	// ingester subscribes to them, and the broker's ACL lets the account
	// write them.
	Filters() []string
	// Map maps one message received on topic at now. It returns what the
	// message means in the contract, and a rejection for each part of it
	// that cannot be mapped (the parts that can are still returned). A
	// message that carries nothing for chargewatch (another command's
	// answer, an unmapped switch) gives neither. Map is called by one
	// goroutine at a time.
	Map(topic string, payload []byte, now time.Time) ([]Mapped, []*devices.Error)
}

// Reject makes a rejection with its reason.
func Reject(r devices.Reason, format string, args ...any) *devices.Error {
	return &devices.Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// Seqs numbers the readings and events of each device. The first number
// after a start is 1 and is marked as a reset.
type Seqs struct {
	mu   sync.Mutex
	last map[string]uint64
}

// Next returns the device's next seq and whether it restarts the counter.
func (s *Seqs) Next(device string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]uint64{}
	}
	n := s.last[device] + 1
	s.last[device] = n
	return n, n == 1
}

// Reading starts a reading of device at ts, numbered by s.
func (s *Seqs) Reading(device string, ts int64) devices.Reading {
	seq, reset := s.Next(device)
	return devices.Reading{TS: ts, Seq: seq, SeqReset: reset}
}

// Event makes an event of device at ts, numbered by s.
func (s *Seqs) Event(device string, ts int64, t devices.EventType, detail string) devices.Event {
	seq, _ := s.Next(device)
	return devices.Event{TS: ts, Seq: seq, Type: t, Detail: detail}
}

// Put checks v for field f and sets it. The rejection names the foreign
// key the value came from.
func Put(r *devices.Reading, f devices.Field, v float64, key string) *devices.Error {
	if reason, ok := devices.CheckValue(f, v); !ok {
		sp := f.Spec()
		return Reject(reason, "%s = %v does not fit %s (%s, %v to %v %s)", key, v, sp.Name, sp.Doc, sp.Min, sp.Max, sp.Unit)
	}
	r.Put(f, v)
	return nil
}

// Number reads a JSON number, or a string holding one: some firmware
// releases send numbers as strings (Zigbee2MQTT's battery was "100.00" in
// 2018-2020 releases and 100 since).
func Number(raw json.RawMessage) (float64, bool) {
	s := strings.TrimSpace(string(raw))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, false
		}
		s = strings.TrimSpace(str)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Bool reads a JSON boolean, or a string or number that firmware uses for
// one: "ON"/"OFF", "true"/"false", 1/0.
func Bool(raw json.RawMessage) (bool, bool) {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(raw)), `"`))
	switch s {
	case "true", "on", "1", "yes":
		return true, true
	case "false", "off", "0", "no":
		return false, true
	}
	return false, false
}

// Match reports whether an MQTT topic matches a filter with + and #
// wildcards [MQTT-4.7.1].
func Match(filter, topic string) bool {
	for {
		f, frest, fmore := strings.Cut(filter, "/")
		if f == "#" {
			return true
		}
		t, trest, tmore := strings.Cut(topic, "/")
		if f != "+" && f != t {
			return false
		}
		if !fmore || !tmore {
			// "a/#" also matches "a" [MQTT-4.7.1-2].
			return fmore == tmore || (fmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}

// Overlap reports whether some topic matches both filters.
func Overlap(a, b string) bool {
	for {
		x, arest, amore := strings.Cut(a, "/")
		y, brest, bmore := strings.Cut(b, "/")
		if x == "#" || y == "#" {
			return true
		}
		if x != "+" && y != "+" && x != y {
			return false
		}
		if !amore || !bmore {
			return amore == bmore || (amore && arest == "#") || (bmore && brest == "#")
		}
		a, b = arest, brest
	}
}

// ValidFilter reports whether s is a usable topic filter: not empty, no
// wildcard inside a level, # only at the end, no $ at the start.
func ValidFilter(s string) bool {
	if s == "" || strings.HasPrefix(s, "$") || strings.ContainsRune(s, 0) {
		return false
	}
	levels := strings.Split(s, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) != 1 {
			return false
		}
		if l == "#" && i != len(levels)-1 {
			return false
		}
	}
	return true
}

// ValidName reports whether a foreign name can be part of a topic (no
// wildcards, no empty levels at the ends).
func ValidName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "+#\x00") && !strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/")
}

// Router hands each message to the adapter whose filters match its topic.
type Router struct {
	routes []route
}

type route struct {
	filter string
	a      Adapter
}

// NewRouter routes to the given adapters. Their filters must not overlap:
// a foreign topic belongs to one adapter account, so it says which gateway
// published it.
func NewRouter(as ...Adapter) (*Router, error) {
	r := &Router{}
	for _, a := range as {
		for _, f := range a.Filters() {
			if !ValidFilter(f) {
				return nil, fmt.Errorf("adapter topic filter %q is not valid", f)
			}
			for _, o := range r.routes {
				if Overlap(o.filter, f) {
					return nil, fmt.Errorf("adapter topic filters %q and %q overlap: a topic must belong to one adapter account", o.filter, f)
				}
			}
			r.routes = append(r.routes, route{f, a})
		}
	}
	return r, nil
}

// Filters returns every adapter's filters: the ingester's subscriptions.
func (r *Router) Filters() []string {
	out := make([]string, len(r.routes))
	for i, rt := range r.routes {
		out[i] = rt.filter
	}
	return out
}

// Map maps a message with the adapter whose filter matches its topic.
func (r *Router) Map(topic string, payload []byte, now time.Time) ([]Mapped, []*devices.Error) {
	for _, rt := range r.routes {
		if Match(rt.filter, topic) {
			return rt.a.Map(topic, payload, now)
		}
	}
	return nil, []*devices.Error{Reject(devices.ReasonBadTopic, "topic %q belongs to no adapter account", topic)}
}

// Telemetry returns a telemetry Mapped for one reading.
func Telemetry(gateway, device string, rs ...devices.Reading) Mapped {
	return Mapped{Gateway: gateway, Device: device, Channel: devices.ChannelTelemetry, Readings: rs}
}

// Events returns an event Mapped.
func Events(gateway, device string, evs ...devices.Event) Mapped {
	return Mapped{Gateway: gateway, Device: device, Channel: devices.ChannelEvent, Events: evs}
}

// Online returns a status Mapped: online at now, or offline (no ts, like
// the contract's Last Will).
func Online(gateway, device string, online bool, now time.Time) Mapped {
	st := devices.Status{Online: online}
	if online {
		st.TS = now.UnixMilli()
	}
	return Mapped{Gateway: gateway, Device: device, Channel: devices.ChannelStatus, Status: st}
}

// Transitions turns a level reported in every message (smoke, tamper,
// battery low) into contract events on each change, per device.
type Transitions struct {
	mu   sync.Mutex
	last map[string]bool
}

// Change records the level of key (device and what) and reports whether
// it changed; the first level seen counts as a change only when it is
// raised (an alarm present at start is reported, a quiet state is not).
func (t *Transitions) Change(key string, v bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]bool{}
	}
	old, seen := t.last[key]
	t.last[key] = v
	if !seen {
		return v
	}
	return old != v
}
