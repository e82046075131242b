package devices

import (
	"fmt"
	"math"
	"time"
)

// Reading is one measurement of one device at one time, as decoded from a
// telemetry message. Field values live in a fixed array indexed by Field;
// booleans are 0 or 1 and a pile state is its PileState index.
type Reading struct {
	TS       int64  // Unix milliseconds, the time of measurement
	Seq      uint64 // per-device counter
	SeqReset bool   // the counter restarted (after a reboot)
	Set      FieldSet
	Vals     [NumFields]float64
}

// Put sets field f to v.
func (r *Reading) Put(f Field, v float64) {
	r.Set = r.Set.With(f)
	r.Vals[f] = v
}

// PutBool sets a boolean field.
func (r *Reading) PutBool(f Field, v bool) {
	if v {
		r.Put(f, 1)
	} else {
		r.Put(f, 0)
	}
}

// Get returns field f and whether it is present.
func (r *Reading) Get(f Field) (float64, bool) {
	return r.Vals[f], r.Set.Has(f)
}

// Time returns the reading's timestamp.
func (r *Reading) Time() time.Time { return time.UnixMilli(r.TS) }

// Limits bound what a message may carry. The zero value is not useful:
// start from DefaultLimits.
type Limits struct {
	MaxPayload  int           // bytes per MQTT payload
	MaxReadings int           // readings (or events) per message
	MaxPast     time.Duration // how old a ts may be
	MaxFuture   time.Duration // how far ahead of the server clock a ts may be
}

// DefaultLimits are the limits of wire contract v1.
func DefaultLimits() Limits {
	return Limits{
		MaxPayload:  64 << 10,
		MaxReadings: 500,
		MaxPast:     10 * 24 * time.Hour,
		MaxFuture:   5 * time.Minute,
	}
}

// maxSafeInt is the largest integer accepted for seq, ts and status
// counters: 2^53-1, the largest integer that every JSON implementation (and
// a float64) holds exactly. Larger literals would silently lose digits.
const maxSafeInt = 1<<53 - 1

// ItemError is one reading or event rejected from a message whose other
// items are kept.
type ItemError struct {
	Index int // position in the message's array (0 for a single object)
	Err   *Error
}

// Decoder decodes contract payloads. It is not safe for concurrent use;
// give each worker its own. Its buffers are reused between calls.
type Decoder struct {
	Limits Limits
	s      scanner
}

// NewDecoder returns a decoder with the given limits.
func NewDecoder(l Limits) *Decoder { return &Decoder{Limits: l} }

// DecodeTelemetry decodes a telemetry payload of a device of the given kind,
// checking every value against the kind's vocabulary and physical ranges,
// and ts against now (Unix ms). Valid readings are appended to dst; each
// invalid one is reported in errs, with its index in the message, without
// affecting its neighbours. A message-level problem (oversize, malformed
// JSON, too many readings, an empty array) rejects the whole message with a
// non-nil *Error, and then dst and errs come back as they were passed in.
//
// With a dst of enough capacity, decoding valid readings does not allocate.
// The decoded readings do not alias payload.
func (d *Decoder) DecodeTelemetry(kind Kind, payload []byte, now int64, dst []Reading, errs []ItemError) ([]Reading, []ItemError, *Error) {
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
	switch s.peek() {
	case '{':
		var e *Error
		dst, e = d.reading(kind, now, dst)
		if e != nil {
			if e.syntax {
				return dst[:base], errs[:errBase], e
			}
			errs = append(errs, ItemError{Index: 0, Err: e})
		}
	case '[':
		s.pos++
		if s.expect(']') {
			return dst[:base], errs[:errBase], reject(ReasonMalformedJSON, "telemetry payload is an empty array: send at least one reading, or send nothing")
		}
		for n := 0; ; n++ {
			if n == d.Limits.MaxReadings {
				return dst[:base], errs[:errBase], reject(ReasonTooManyReadings, fmt.Sprintf("telemetry message has more than %d readings: split the batch into messages of at most %d", d.Limits.MaxReadings, d.Limits.MaxReadings))
			}
			var e *Error
			dst, e = d.reading(kind, now, dst)
			if e != nil {
				if e.syntax {
					return dst[:base], errs[:errBase], e
				}
				errs = append(errs, ItemError{Index: n, Err: e})
			}
			more, err := s.afterElement()
			if err != nil {
				return dst[:base], errs[:errBase], malformed(s, "after reading %d of the array: %v", n, err)
			}
			if !more {
				break
			}
		}
	default:
		return dst, errs, topLevelErr(s, "telemetry")
	}
	if !s.atEnd() {
		return dst[:base], errs[:errBase], malformed(s, "unexpected data after the JSON value: send exactly one object or one array per message")
	}
	return dst, errs, nil
}

func (d *Decoder) checkSize(payload []byte) *Error {
	if len(payload) > d.Limits.MaxPayload {
		return reject(ReasonOversize, fmt.Sprintf("payload of %d bytes exceeds the limit of %d bytes: send fewer readings per message", len(payload), d.Limits.MaxPayload))
	}
	return nil
}

// checkKind rejects a kind that is not one of Kinds (a registry problem,
// not the device's).
func checkKind(k Kind) *Error {
	if k == KindUnknown || k >= numKinds {
		return reject(ReasonUnknownDevice, fmt.Sprintf("device kind %d is not known: register the device as a meter, monitor, pile, smoke or plug", uint8(k)))
	}
	return nil
}

// topLevelErr explains a payload that is neither an object nor an array.
func topLevelErr(s *scanner, what string) *Error {
	if s.atEnd() {
		return malformed(s, "%s payload is empty: send a JSON object or an array of objects", what)
	}
	return malformed(s, "%s payload must be a JSON object or an array of objects, got %s: send {...} or [{...},{...}]", what, s.valueKind())
}

// malformed is a syntax error: the scanner cannot go on and the whole
// message is rejected.
func malformed(s *scanner, format string, args ...any) *Error {
	return &Error{Reason: ReasonMalformedJSON, Msg: fmt.Sprintf("malformed JSON at byte %d: %s", s.pos, fmt.Sprintf(format, args...)), syntax: true}
}

func firstErr(first, e *Error) *Error {
	if first != nil {
		return first
	}
	return e
}

// reading decodes one reading object and appends it to dst. A syntax error
// (syntax set) leaves the scanner in an unknown place; any other error has
// consumed the whole object so decoding can go on. On error dst is returned
// unchanged.
func (d *Decoder) reading(kind Kind, now int64, dst []Reading) ([]Reading, *Error) {
	s := &d.s
	if !s.expect('{') {
		if s.peek() == ']' {
			return dst, malformed(s, "%v", errTrailingComma)
		}
		return dst, malformed(s, "each reading must be a JSON object, got %s: send [{\"ts\":...,\"seq\":...,...},...]", s.valueKind())
	}
	if s.expect('}') {
		return dst, reject(ReasonMissingField, fmt.Sprintf("reading is an empty object: add ts (Unix ms), seq and at least one field a %s sends", kind))
	}
	dst = append(dst, Reading{})
	r := &dst[len(dst)-1]
	drop := dst[:len(dst)-1]
	var first *Error // first semantic error; scanning goes on to the end of the object
	vocab := kind.Vocabulary()
	var hasTS, hasSeq, hasReset bool
	var seen FieldSet
	for {
		key, err := s.str()
		if err != nil {
			return drop, malformed(s, "reading key: %v", err)
		}
		if !s.expect(':') {
			return drop, malformed(s, "after key %s: %v", quote(string(key)), s.sepErr(':'))
		}
		switch string(key) {
		case "ts":
			v, e := d.intValue("ts", hasTS)
			switch {
			case e != nil:
				if e.syntax {
					return drop, e
				}
				first = firstErr(first, e)
			case v <= 0 || v > maxSafeInt:
				first = firstErr(first, badTS(v))
			default:
				r.TS = int64(v)
			}
			hasTS = true
		case "seq":
			v, e := d.intValue("seq", hasSeq)
			switch {
			case e != nil:
				if e.syntax {
					return drop, e
				}
				first = firstErr(first, e)
			case v < 0 || v > maxSafeInt:
				first = firstErr(first, badSeq(v))
			default:
				r.Seq = uint64(v)
			}
			hasSeq = true
		case "seq_reset":
			if hasReset {
				first = firstErr(first, duplicate("seq_reset", "a reading"))
			}
			hasReset = true
			if s.valueKind() != "boolean" {
				k := s.valueKind()
				if err := s.skip(0); err != nil {
					return drop, malformed(s, "value of seq_reset: %v", err)
				}
				first = firstErr(first, reject(ReasonWrongType, fmt.Sprintf("seq_reset must be a boolean, got %s: send true after the counter restarted, or leave it out", k)))
				break
			}
			k, err := s.literal()
			if err != nil {
				return drop, malformed(s, "value of seq_reset: %v", err)
			}
			r.SeqReset = k == 't'
		default:
			f, known := lookupField(key)
			if !known || !vocab.Has(f) {
				if known {
					first = firstErr(first, reject(ReasonUnknownField, fmt.Sprintf("field %q is not part of the %s vocabulary: leave it out, or check the device's kind in the registry (docs/protocol.md lists the fields a %s may send)", f, kind, kind)))
				} else {
					first = firstErr(first, reject(ReasonUnknownField, fmt.Sprintf("unknown field %s for a %s: check the name and its unit suffix (docs/protocol.md lists the fields a %s may send)", quote(string(key)), kind, kind)))
				}
				if err := s.skip(0); err != nil {
					return drop, malformed(s, "value of %s: %v", quote(string(key)), err)
				}
				break
			}
			if seen.Has(f) {
				first = firstErr(first, duplicate(f.String(), "a reading"))
			}
			seen = seen.With(f)
			if e := d.fieldValue(r, f); e != nil {
				if e.syntax {
					return drop, e
				}
				first = firstErr(first, e)
			}
		}
		more, err := s.afterMember()
		if err != nil {
			return drop, malformed(s, "in a reading: %v", err)
		}
		if !more {
			break
		}
	}
	switch {
	case first != nil:
	case !hasTS:
		first = reject(ReasonMissingField, `reading has no ts: add the time of measurement in Unix milliseconds, e.g. "ts":1767225600000`)
	case !hasSeq:
		first = reject(ReasonMissingField, `reading has no seq: add the per-device counter, e.g. "seq":42 (with "seq_reset":true after it restarts)`)
	case r.Set == 0:
		first = reject(ReasonNoFields, fmt.Sprintf("reading has no measured field, only ts and seq: add at least one field a %s sends (docs/protocol.md)", kind))
	default:
		first = d.checkTS(r.TS, now)
	}
	if first != nil {
		return drop, first
	}
	return dst, nil
}

func duplicate(key, in string) *Error {
	return reject(ReasonMalformedJSON, fmt.Sprintf("duplicate key %s in %s: send each key once", quote(key), in))
}

func badTS(v float64) *Error {
	return reject(ReasonTimestamp, fmt.Sprintf("ts %v is not a Unix time in milliseconds: send milliseconds since 1970-01-01 UTC, e.g. 1767225600000", v))
}

func badSeq(v float64) *Error {
	return reject(ReasonOutOfRange, fmt.Sprintf("seq %v is outside 0..%d: restart the counter at 0 and send \"seq_reset\":true", v, int64(maxSafeInt)))
}

// intValue scans a whole number for ts, seq or a counter. dup reports that
// the key was seen before in the same object.
func (d *Decoder) intValue(name string, dup bool) (float64, *Error) {
	s := &d.s
	if k := s.valueKind(); k != "number" {
		if err := s.skip(0); err != nil {
			return 0, malformed(s, "value of %s: %v", name, err)
		}
		return 0, reject(ReasonWrongType, fmt.Sprintf("%s must be a whole number, got %s: send it as a JSON number without quotes", name, k))
	}
	v, err := s.number()
	if err != nil {
		return 0, malformed(s, "value of %s: %v", name, err)
	}
	if dup {
		return 0, duplicate(name, "an object")
	}
	if math.IsInf(v, 0) {
		return 0, reject(ReasonNonFinite, fmt.Sprintf("%s overflows a 64-bit float: send a whole number up to %d", name, int64(maxSafeInt)))
	}
	if v != math.Trunc(v) {
		return 0, reject(ReasonWrongType, fmt.Sprintf("%s must be a whole number, got %v: send an integer", name, v))
	}
	return v, nil
}

// fieldValue scans the value of field f into r, checking type and range.
func (d *Decoder) fieldValue(r *Reading, f Field) *Error {
	s := &d.s
	sp := &fieldSpecs[f]
	got := s.valueKind()
	switch sp.Type {
	case TypeFloat, TypeInt:
		if got != "number" {
			break
		}
		v, err := s.number()
		if err != nil {
			return malformed(s, "value of %s: %v", sp.Name, err)
		}
		if reason, ok := CheckValue(f, v); !ok {
			return valueError(reason, f, v)
		}
		if v == 0 {
			v = 0 // no negative zero
		}
		r.Put(f, v)
		return nil
	case TypeBool:
		if got != "boolean" {
			break
		}
		k, err := s.literal()
		if err != nil {
			return malformed(s, "value of %s: %v", sp.Name, err)
		}
		r.PutBool(f, k == 't')
		return nil
	case TypeState:
		if got != "string" {
			break
		}
		b, err := s.str()
		if err != nil {
			return malformed(s, "value of %s: %v", sp.Name, err)
		}
		var st PileState
		switch string(b) {
		case "idle":
			st = PileIdle
		case "charging":
			st = PileCharging
		case "full":
			st = PileFull
		case "fault":
			st = PileFault
		default:
			return reject(ReasonOutOfRange, fmt.Sprintf("%s %s is not one of idle, charging, full, fault: map the port's state onto these", sp.Name, quote(string(b))))
		}
		r.Put(f, float64(st))
		return nil
	}
	if err := s.skip(0); err != nil {
		return malformed(s, "value of %s: %v", sp.Name, err)
	}
	return reject(ReasonWrongType, fmt.Sprintf("%s must be a JSON %s, got %s: %s", sp.Name, sp.Type, got, typeHint(sp)))
}

// typeHint says how a field's value is written.
func typeHint(sp *FieldSpec) string {
	switch sp.Type {
	case TypeInt:
		return fmt.Sprintf("send a whole number from %v to %v without quotes", sp.Min, sp.Max)
	case TypeBool:
		return "send true or false without quotes"
	case TypeState:
		return `send one of "idle", "charging", "full", "fault"`
	}
	return "send a number without quotes"
}

func valueError(reason Reason, f Field, v float64) *Error {
	sp := &fieldSpecs[f]
	switch reason {
	case ReasonNonFinite:
		return reject(reason, fmt.Sprintf("%s overflows a 64-bit float: send a finite number from %v to %v", sp.Name, sp.Min, sp.Max))
	case ReasonWrongType:
		return reject(reason, fmt.Sprintf("%s must be a whole number, got %v: %s", sp.Name, v, typeHint(sp)))
	}
	unit := ""
	if sp.Unit != "" {
		unit = " " + sp.Unit
	}
	return reject(reason, fmt.Sprintf("%s %v%s is outside the physical range %v..%v%s: check the unit and scaling of the value", sp.Name, v, unit, sp.Min, sp.Max, unit))
}

// tsVerdict is what checkTS found.
type tsVerdict uint8

const (
	tsOK      tsVerdict = iota
	tsSeconds           // too old, but within the window if read as seconds
	tsMicros            // too new, but within the window if read as microseconds
	tsPast
	tsFuture
)

// judgeTS places a timestamp against the ingest window around now (ms).
func (d *Decoder) judgeTS(ts, now int64) tsVerdict {
	lo, hi := now-d.Limits.MaxPast.Milliseconds(), now+d.Limits.MaxFuture.Milliseconds()
	in := func(t int64) bool { return t >= lo && t <= hi }
	switch {
	case in(ts):
		return tsOK
	case ts < lo && ts <= maxSafeInt/1000 && in(ts*1000):
		return tsSeconds
	case ts > hi && in(ts/1000):
		return tsMicros
	case ts < lo:
		return tsPast
	}
	return tsFuture
}

// checkTS checks a timestamp against the ingest window around now (ms).
func (d *Decoder) checkTS(ts, now int64) *Error {
	return d.tsError(d.judgeTS(ts, now), ts)
}

func (d *Decoder) tsError(v tsVerdict, ts int64) *Error {
	switch v {
	case tsOK:
		return nil
	case tsSeconds:
		return reject(ReasonTimestamp, fmt.Sprintf("ts %d looks like Unix seconds: send milliseconds (multiply by 1000)", ts))
	case tsMicros:
		return reject(ReasonTimestamp, fmt.Sprintf("ts %d looks like Unix microseconds: send milliseconds (divide by 1000)", ts))
	case tsPast:
		return reject(ReasonTimestamp, fmt.Sprintf("ts %s is more than %s in the past, outside the ingest window: check the gateway clock, and hold readings while it is not synchronised", fmtTS(ts), fmtDur(d.Limits.MaxPast)))
	}
	return reject(ReasonTimestamp, fmt.Sprintf("ts %s is more than %s in the future: synchronise the gateway clock (NTP)", fmtTS(ts), fmtDur(d.Limits.MaxFuture)))
}

func fmtTS(ms int64) string {
	return fmt.Sprintf("%d (%s)", ms, time.UnixMilli(ms).UTC().Format(time.RFC3339))
}

// fmtDur writes a limit in words: "10 days", "5 minutes".
func fmtDur(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d > 0 && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d > 0 && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return d.String()
}
