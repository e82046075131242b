package devices

import (
	"fmt"
	"slices"
)

// EventType is the type of a discrete device event.
type EventType uint8

// Event types of wire contract v1.
const (
	EventUnknown      EventType = iota
	EventSmokeAlarm             // smoke detected (critical)
	EventSmokeClear             // smoke alarm ended
	EventTamper                 // removed from its base or opened
	EventTamperClear            // put back
	EventFault                  // device fault (code says which)
	EventFaultClear             // fault cleared
	EventLowBattery             // battery low
	EventBatteryOK              // battery replaced or recovered
	EventSelfTest               // test button pressed or periodic self-test
	EventSilenced               // alarm silenced at the device
	EventChargeStart            // pile port started charging
	EventChargeStop             // pile port stopped (code gives the stop reason)
	EventOverTemp               // over-temperature reported by the device itself
	EventOverload               // overload reported by the device itself
	EventArcFault               // fire monitor: arc fault detected
	EventPhaseLoss              // fire monitor or meter: a phase is lost
	EventOverVoltage            // over-voltage reported by the device
	EventUnderVoltage           // under-voltage reported by the device
	numEventTypes
)

var eventNames = [numEventTypes]string{
	"", "smoke_alarm", "smoke_clear", "tamper", "tamper_clear", "fault", "fault_clear",
	"low_battery", "battery_ok", "self_test", "silenced", "charge_start", "charge_stop",
	"over_temperature", "overload", "arc_fault", "phase_loss", "over_voltage", "under_voltage",
}

func (t EventType) String() string {
	if t < numEventTypes {
		return eventNames[t]
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// eventDocs says what each event type means, for docs/protocol.md.
var eventDocs = [numEventTypes]string{
	EventSmokeAlarm:   "smoke detected (critical)",
	EventSmokeClear:   "smoke alarm ended",
	EventTamper:       "removed from its base or opened",
	EventTamperClear:  "put back after a tamper",
	EventFault:        "device fault; code says which",
	EventFaultClear:   "fault cleared",
	EventLowBattery:   "battery low",
	EventBatteryOK:    "battery replaced or recovered",
	EventSelfTest:     "test button pressed or periodic self-test",
	EventSilenced:     "alarm silenced at the device",
	EventChargeStart:  "pile port started charging",
	EventChargeStop:   "pile port stopped; code gives the stop reason",
	EventOverTemp:     "over-temperature reported by the device itself",
	EventOverload:     "overload reported by the device itself",
	EventArcFault:     "arc fault detected",
	EventPhaseLoss:    "a phase is lost",
	EventOverVoltage:  "over-voltage reported by the device",
	EventUnderVoltage: "under-voltage reported by the device",
}

// Doc says what the event type means.
func (t EventType) Doc() string {
	if t < numEventTypes {
		return eventDocs[t]
	}
	return ""
}

// EventTypes lists every valid event type.
func EventTypes() []EventType {
	out := make([]EventType, 0, numEventTypes-1)
	for t := EventSmokeAlarm; t < numEventTypes; t++ {
		out = append(out, t)
	}
	return out
}

// MarshalText implements encoding.TextMarshaler, so an Event encodes its
// type by wire name with encoding/json too.
func (t EventType) MarshalText() ([]byte, error) {
	if t == EventUnknown || t >= numEventTypes {
		return nil, fmt.Errorf("invalid event type %d", uint8(t))
	}
	return []byte(eventNames[t]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *EventType) UnmarshalText(b []byte) error {
	v, ok := ParseEventType(string(b))
	if !ok {
		return fmt.Errorf("unknown event type %s", quote(string(b)))
	}
	*t = v
	return nil
}

// ParseEventType parses an event type's wire name.
func ParseEventType(s string) (EventType, bool) {
	for t := EventSmokeAlarm; t < numEventTypes; t++ {
		if eventNames[t] == s {
			return t, true
		}
	}
	return EventUnknown, false
}

var kindEvents = [numKinds][]EventType{
	KindMeter:   {EventFault, EventFaultClear, EventTamper, EventTamperClear, EventPhaseLoss, EventOverVoltage, EventUnderVoltage, EventOverload},
	KindMonitor: {EventFault, EventFaultClear, EventTamper, EventTamperClear, EventSelfTest, EventArcFault, EventPhaseLoss, EventOverVoltage, EventUnderVoltage, EventOverTemp, EventOverload},
	KindPile:    {EventFault, EventFaultClear, EventTamper, EventTamperClear, EventChargeStart, EventChargeStop, EventOverTemp, EventOverload, EventOverVoltage, EventUnderVoltage, EventSmokeAlarm, EventSmokeClear},
	KindSmoke:   {EventSmokeAlarm, EventSmokeClear, EventTamper, EventTamperClear, EventFault, EventFaultClear, EventLowBattery, EventBatteryOK, EventSelfTest, EventSilenced},
	KindPlug:    {EventFault, EventFaultClear, EventOverTemp, EventOverload},
}

// Events returns the event types a device of kind k may send. The slice is
// shared: do not modify it.
func (k Kind) Events() []EventType {
	if k < numKinds {
		return kindEvents[k]
	}
	return nil
}

// Allows reports whether a device of kind k may send events of type t.
func (k Kind) Allows(t EventType) bool {
	return t != EventUnknown && slices.Contains(k.Events(), t)
}

// Event is one discrete event of a device.
type Event struct {
	TS     int64     `json:"ts"`
	Seq    uint64    `json:"seq"`
	Type   EventType `json:"type"`
	Port   int       `json:"port,omitempty"`   // pile port, 0 when not about a port
	Code   string    `json:"code,omitempty"`   // device-specific code (fault code, stop reason)
	Detail string    `json:"detail,omitempty"` // free text, at most MaxDetail bytes
}

// MaxDetail bounds an event's code and detail strings, in bytes.
const MaxDetail = 512

// DecodeEvents decodes an event payload (one object or an array) of a device
// of the given kind. Like DecodeTelemetry, invalid events are reported in
// errs with their index and valid ones kept; message-level problems reject
// it all, and then dst and errs come back as they were passed in.
func (d *Decoder) DecodeEvents(kind Kind, payload []byte, now int64, dst []Event, errs []ItemError) ([]Event, []ItemError, *Error) {
	if e := d.checkSize(payload); e != nil {
		return dst, errs, e
	}
	if e := checkKind(kind); e != nil {
		return dst, errs, e
	}
	s := &d.s
	s.reset(payload)
	defer s.reset(nil) // do not keep the caller's payload alive
	base, errBase := len(dst), len(errs)
	one := func(i int) *Error {
		ev, e := d.event(kind, now)
		if e != nil {
			if e.syntax {
				return e
			}
			errs = append(errs, ItemError{Index: i, Err: e})
			return nil
		}
		dst = append(dst, ev)
		return nil
	}
	switch s.peek() {
	case '{':
		if e := one(0); e != nil {
			return dst[:base], errs[:errBase], e
		}
	case '[':
		s.pos++
		if s.expect(']') {
			return dst[:base], errs[:errBase], reject(ReasonMalformedJSON, "event payload is an empty array: send at least one event, or send nothing")
		}
		for n := 0; ; n++ {
			if n == d.Limits.MaxReadings {
				return dst[:base], errs[:errBase], reject(ReasonTooManyReadings, fmt.Sprintf("event message has more than %d events: split the batch into messages of at most %d", d.Limits.MaxReadings, d.Limits.MaxReadings))
			}
			if s.peek() == ']' {
				return dst[:base], errs[:errBase], malformed(s, "%v", errTrailingComma)
			}
			if e := one(n); e != nil {
				return dst[:base], errs[:errBase], e
			}
			more, err := s.afterElement()
			if err != nil {
				return dst[:base], errs[:errBase], malformed(s, "after event %d of the array: %v", n, err)
			}
			if !more {
				break
			}
		}
	default:
		return dst, errs, topLevelErr(s, "event")
	}
	if !s.atEnd() {
		return dst[:base], errs[:errBase], malformed(s, "unexpected data after the JSON value: send exactly one object or one array per message")
	}
	return dst, errs, nil
}

// Keys of an event object, as bits of a seen mask.
const (
	evTS = 1 << iota
	evSeq
	evType
	evPort
	evCode
	evDetail
)

func (d *Decoder) event(kind Kind, now int64) (Event, *Error) {
	var ev Event
	var seen uint8
	s := &d.s
	first, err := d.object("an event", func(key []byte) *Error {
		var bit uint8
		switch string(key) {
		case "ts":
			bit = evTS
		case "seq":
			bit = evSeq
		case "type":
			bit = evType
		case "port":
			bit = evPort
		case "code":
			bit = evCode
		case "detail":
			bit = evDetail
		default:
			e := reject(ReasonUnknownField, fmt.Sprintf("unknown event key %s: remove it; an event has ts, seq, type and optionally port, code and detail", quote(string(key))))
			if err := s.skip(0); err != nil {
				return malformed(s, "value of %s: %v", quote(string(key)), err)
			}
			return e
		}
		dup := seen&bit != 0
		seen |= bit
		switch bit {
		case evTS, evSeq, evPort:
			name := [...]string{evTS: "ts", evSeq: "seq", evPort: "port"}[bit]
			v, e := d.intValue(name, dup)
			if e != nil {
				return e
			}
			switch bit {
			case evTS:
				if v <= 0 || v > maxSafeInt {
					return badTS(v)
				}
				ev.TS = int64(v)
			case evSeq:
				if v < 0 || v > maxSafeInt {
					return reject(ReasonOutOfRange, fmt.Sprintf("seq %v is outside 0..%d: restart the counter at 0", v, int64(maxSafeInt)))
				}
				ev.Seq = uint64(v)
			case evPort:
				if r, ok := CheckValue(FieldPort, v); !ok {
					return valueError(r, FieldPort, v)
				}
				ev.Port = int(v)
			}
		case evType:
			b, e := d.stringValue("type", "send the event type as a string, e.g. \"smoke_alarm\"")
			if e != nil {
				return e
			}
			if dup {
				return duplicate("type", "an event")
			}
			t, ok := ParseEventType(string(b))
			if !ok {
				return reject(ReasonBadEvent, fmt.Sprintf("unknown event type %s: use one of the types a %s sends (docs/protocol.md): %s", quote(string(b)), kind, eventList(kind)))
			}
			ev.Type = t
		case evCode, evDetail:
			name := "code"
			if bit == evDetail {
				name = "detail"
			}
			var b []byte
			if s.valueKind() == "number" {
				start := s.pos
				if _, err := s.number(); err != nil {
					return malformed(s, "value of %s: %v", name, err)
				}
				b = s.b[start:s.pos]
			} else {
				var e *Error
				if b, e = d.stringValue(name, "send it as a string (a code may also be a number)"); e != nil {
					return e
				}
			}
			if dup {
				return duplicate(name, "an event")
			}
			if len(b) > MaxDetail {
				return reject(ReasonOutOfRange, fmt.Sprintf("event %s is %d bytes, more than %d: shorten it", name, len(b), MaxDetail))
			}
			if bit == evCode {
				ev.Code = string(b)
			} else {
				ev.Detail = string(b)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return ev, err
	case first != nil:
	case seen&evTS == 0:
		first = reject(ReasonMissingField, `event has no ts: add the time of the event in Unix milliseconds, e.g. "ts":1767225600000`)
	case seen&evSeq == 0:
		first = reject(ReasonMissingField, `event has no seq: add the per-device counter, e.g. "seq":42`)
	case seen&evType == 0:
		first = reject(ReasonMissingField, fmt.Sprintf(`event has no type: add one of the types a %s sends: %s`, kind, eventList(kind)))
	case !kind.Allows(ev.Type):
		first = reject(ReasonBadEvent, fmt.Sprintf("a %s does not send %s events: use one of %s (docs/protocol.md), or check the device's kind in the registry", kind, ev.Type, eventList(kind)))
	default:
		first = d.checkTS(ev.TS, now)
	}
	return ev, first
}

// eventList lists the event types of a kind for messages.
func eventList(kind Kind) string {
	var b []byte
	for i, t := range kind.Events() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, t.String()...)
	}
	return string(b)
}

// object scans an object, calling fn for each key with the scanner placed at
// the value; fn must consume the value, and must not keep key, which may
// alias the scanner's scratch buffer. A semantic error from fn is kept as
// first (the first one wins) and scanning goes on; a syntax error stops it
// and is returned as err.
func (d *Decoder) object(what string, fn func(key []byte) *Error) (first, err *Error) {
	s := &d.s
	if !s.expect('{') {
		return nil, malformed(s, "%s must be a JSON object, got %s: send {\"key\":value,...}", what, s.valueKind())
	}
	if s.expect('}') {
		return nil, nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return nil, malformed(s, "key in %s: %v", what, err)
		}
		if !s.expect(':') {
			return nil, malformed(s, "after key %s: %v", quote(string(key)), s.sepErr(':'))
		}
		if e := fn(key); e != nil {
			if e.syntax {
				return nil, e
			}
			first = firstErr(first, e)
		}
		more, err := s.afterMember()
		if err != nil {
			return nil, malformed(s, "in %s: %v", what, err)
		}
		if !more {
			return first, nil
		}
	}
}

// stringValue scans a string value; hint says how to write it.
func (d *Decoder) stringValue(name, hint string) ([]byte, *Error) {
	s := &d.s
	if k := s.valueKind(); k != "string" {
		if err := s.skip(0); err != nil {
			return nil, malformed(s, "value of %s: %v", name, err)
		}
		return nil, reject(ReasonWrongType, fmt.Sprintf("%s must be a string, got %s: %s", name, k, hint))
	}
	b, err := s.str()
	if err != nil {
		return nil, malformed(s, "value of %s: %v", name, err)
	}
	return b, nil
}
