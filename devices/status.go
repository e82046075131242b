package devices

import (
	"fmt"
	"strconv"
)

// ClockState is a gateway's view of its own clock.
type ClockState string

// Clock states. A gateway whose clock is not synchronised holds its readings
// instead of stamping them with a wrong time.
const (
	ClockSynced   ClockState = "synced"
	ClockUnsynced ClockState = "unsynced"
)

// Status is the retained message on cw/v1/{gw}/{dev}/status. Online true
// carries ts and optional health fields; the Last Will is {"online":false}
// with nothing else. Health fields that are absent are nil.
type Status struct {
	Online     bool
	TS         int64      // Unix ms; 0 when absent (the Last Will has none)
	UptimeS    *int64     // seconds since the agent started
	QueueDepth *int64     // readings waiting in the store-and-forward queue
	QueueAgeS  *int64     // age of the oldest queued reading, seconds
	PollErrors *int64     // poll errors since start
	Clock      ClockState // "" when absent
	Version    string     // agent version, "" when absent
}

// LastWill is the payload a gateway registers as its MQTT Last Will.
var LastWill = []byte(`{"online":false}`)

// Status keys, as bits of a seen mask.
const (
	stOnline = 1 << iota
	stTS
	stUptime
	stQueueDepth
	stQueueAge
	stPollErrors
	stClock
	stVersion
)

// MaxVersion bounds the length of a status version string, in bytes.
const MaxVersion = 64

// DecodeStatus decodes a status payload strictly. An online status needs
// ts; the Last Will {"online":false} has none. Because status messages are
// retained, and so delivered again whenever the server subscribes, ts may
// be arbitrarily old; it may not be further in the future than
// Limits.MaxFuture, nor look like seconds, unless the status says
// "clock":"unsynced".
func (d *Decoder) DecodeStatus(payload []byte, now int64) (Status, *Error) {
	var st Status
	if err := d.checkSize(payload); err != nil {
		return st, err
	}
	s := &d.s
	s.reset(payload)
	defer s.reset(nil) // do not keep the caller's payload alive
	if s.atEnd() {
		return st, malformed(s, `status payload is empty: send {"online":true,"ts":...}; an empty retained message only clears the status`)
	}
	var seen uint16
	first, err := d.object("a status", func(key []byte) *Error {
		var bit uint16
		var name string
		switch string(key) {
		case "online":
			bit, name = stOnline, "online"
		case "ts":
			bit, name = stTS, "ts"
		case "uptime_s":
			bit, name = stUptime, "uptime_s"
		case "queue_depth":
			bit, name = stQueueDepth, "queue_depth"
		case "queue_age_s":
			bit, name = stQueueAge, "queue_age_s"
		case "poll_errors":
			bit, name = stPollErrors, "poll_errors"
		case "clock":
			bit, name = stClock, "clock"
		case "version":
			bit, name = stVersion, "version"
		default:
			e := reject(ReasonUnknownField, fmt.Sprintf("unknown status key %s: remove it; a status has online, ts, uptime_s, queue_depth, queue_age_s, poll_errors, clock and version (docs/protocol.md)", quote(string(key))))
			if err := s.skip(0); err != nil {
				return malformed(s, "value of %s: %v", quote(string(key)), err)
			}
			return e
		}
		dup := seen&bit != 0
		seen |= bit
		switch bit {
		case stOnline:
			if k := s.valueKind(); k != "boolean" {
				if err := s.skip(0); err != nil {
					return malformed(s, "value of online: %v", err)
				}
				return reject(ReasonWrongType, "online must be a boolean, got "+k+": send true or false without quotes")
			}
			k, err := s.literal()
			if err != nil {
				return malformed(s, "value of online: %v", err)
			}
			if dup {
				return duplicate(name, "a status")
			}
			st.Online = k == 't'
		case stClock:
			b, e := d.stringValue(name, `send "synced" or "unsynced"`)
			if e != nil {
				return e
			}
			if dup {
				return duplicate(name, "a status")
			}
			switch string(b) {
			case string(ClockSynced):
				st.Clock = ClockSynced
			case string(ClockUnsynced):
				st.Clock = ClockUnsynced
			default:
				return reject(ReasonOutOfRange, fmt.Sprintf("clock %s is not synced or unsynced: send \"synced\" once NTP (or another source) has set the clock, else \"unsynced\"", quote(string(b))))
			}
		case stVersion:
			b, e := d.stringValue(name, `send the agent version as a string, e.g. "1.4.2"`)
			if e != nil {
				return e
			}
			if dup {
				return duplicate(name, "a status")
			}
			if len(b) > MaxVersion {
				return reject(ReasonOutOfRange, fmt.Sprintf("version is %d bytes, more than %d: shorten it", len(b), MaxVersion))
			}
			st.Version = string(b)
		default: // ts and counters
			v, e := d.intValue(name, dup)
			if e != nil {
				return e
			}
			if bit == stTS {
				if v <= 0 || v > maxSafeInt {
					return badTS(v)
				}
				st.TS = int64(v)
				return nil
			}
			if v < 0 || v > maxSafeInt {
				return reject(ReasonOutOfRange, fmt.Sprintf("%s %v is outside 0..%d: send a count from 0", name, v, int64(maxSafeInt)))
			}
			n := int64(v)
			switch bit {
			case stUptime:
				st.UptimeS = &n
			case stQueueDepth:
				st.QueueDepth = &n
			case stQueueAge:
				st.QueueAgeS = &n
			case stPollErrors:
				st.PollErrors = &n
			}
		}
		return nil
	})
	if err != nil {
		return Status{}, err
	}
	if !s.atEnd() {
		return Status{}, malformed(s, "unexpected data after the JSON value: send exactly one object")
	}
	switch {
	case first != nil:
		return st, first
	case seen&stOnline == 0:
		return st, reject(ReasonMissingField, `status has no online flag: send {"online":true,"ts":...}, and register {"online":false} as the Last Will`)
	case st.Online && seen&stTS == 0:
		return st, reject(ReasonMissingField, `an online status needs ts: add the time in Unix milliseconds, e.g. "ts":1767225600000`)
	case seen&stTS != 0 && st.Clock != ClockUnsynced:
		// Only the future bound and the seconds-for-milliseconds mistake:
		// a retained status is as old as its last publish. A gateway that
		// says its clock is unsynchronised is believed whatever its ts: it
		// must still be able to say so.
		switch v := d.judgeTS(st.TS, now); v {
		case tsSeconds, tsMicros, tsFuture:
			return st, d.tsError(v, st.TS)
		}
	}
	return st, nil
}

// AppendStatus encodes st as JSON.
func AppendStatus(dst []byte, st Status) []byte {
	dst = append(dst, `{"online":`...)
	dst = strconv.AppendBool(dst, st.Online)
	if st.TS != 0 {
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, st.TS, 10)
	}
	opt := func(name string, v *int64) {
		if v != nil {
			dst = append(dst, `,"`...)
			dst = append(dst, name...)
			dst = append(dst, `":`...)
			dst = strconv.AppendInt(dst, *v, 10)
		}
	}
	opt("uptime_s", st.UptimeS)
	opt("queue_depth", st.QueueDepth)
	opt("queue_age_s", st.QueueAgeS)
	opt("poll_errors", st.PollErrors)
	if st.Clock != "" {
		dst = append(dst, `,"clock":`...)
		dst = appendString(dst, string(st.Clock))
	}
	if st.Version != "" {
		dst = append(dst, `,"version":`...)
		dst = appendString(dst, st.Version)
	}
	return append(dst, '}')
}
