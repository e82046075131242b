// Package record is the binary format of the ingester's durable log: one
// record per accepted MQTT message (its validated readings, events or
// status) or per rejection. It is compact and cheap to encode and decode,
// since every message passes through it twice (writer and engine).
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/chargewatch/chargewatch/devices"
)

// Type is the type of a log record.
type Type uint8

// Record types.
const (
	TypeReadings Type = iota + 1
	TypeEvents
	TypeStatus
	TypeRejected
)

// Record is one decoded log record. Only the part matching Type is set.
type Record struct {
	Type     Type
	Received int64 // server receive time, Unix nanoseconds (unique per rejected record)
	Gateway  string
	Device   string
	Kind     devices.Kind
	Readings []devices.Reading
	Events   []devices.Event
	Status   devices.Status
	Rejected Rejected
}

// Rejected is a quarantined message or item.
type Rejected struct {
	Reason  devices.Reason
	Message string // why, naming the thing and the fix
	Topic   string // the raw topic, possibly invalid
	Payload []byte // the raw payload, truncated to MaxRawPayload
	Size    int    // the original payload size
	Index   int    // the item's index within the message, -1 for the whole message
}

// MaxRawPayload bounds the raw payload kept with a rejection.
const MaxRawPayload = 1024

var errShort = errors.New("record: truncated")

// AppendReadings encodes a readings record.
func AppendReadings(dst []byte, received int64, gw, dev string, kind devices.Kind, rs []devices.Reading) []byte {
	dst = appendHeader(dst, TypeReadings, received, gw, dev, kind)
	dst = binary.AppendUvarint(dst, uint64(len(rs)))
	for i := range rs {
		r := &rs[i]
		dst = binary.AppendVarint(dst, r.TS)
		dst = binary.AppendUvarint(dst, r.Seq)
		if r.SeqReset {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
		dst = binary.AppendUvarint(dst, uint64(r.Set))
		for f := devices.Field(0); f < devices.NumFields; f++ {
			if r.Set.Has(f) {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(r.Vals[f]))
			}
		}
	}
	return dst
}

// AppendEvents encodes an events record.
func AppendEvents(dst []byte, received int64, gw, dev string, kind devices.Kind, evs []devices.Event) []byte {
	dst = appendHeader(dst, TypeEvents, received, gw, dev, kind)
	dst = binary.AppendUvarint(dst, uint64(len(evs)))
	for i := range evs {
		e := &evs[i]
		dst = binary.AppendVarint(dst, e.TS)
		dst = binary.AppendUvarint(dst, e.Seq)
		dst = append(dst, byte(e.Type))
		dst = binary.AppendUvarint(dst, uint64(e.Port))
		dst = appendStr(dst, e.Code)
		dst = appendStr(dst, e.Detail)
	}
	return dst
}

// AppendStatus encodes a status record.
func AppendStatus(dst []byte, received int64, gw, dev string, kind devices.Kind, st devices.Status) []byte {
	dst = appendHeader(dst, TypeStatus, received, gw, dev, kind)
	var flags byte
	if st.Online {
		flags |= 1
	}
	opts := []*int64{st.UptimeS, st.QueueDepth, st.QueueAgeS, st.PollErrors}
	for i, p := range opts {
		if p != nil {
			flags |= 2 << i
		}
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, st.TS)
	for _, p := range opts {
		if p != nil {
			dst = binary.AppendVarint(dst, *p)
		}
	}
	dst = appendStr(dst, string(st.Clock))
	return appendStr(dst, st.Version)
}

// AppendRejected encodes a rejection record. gw and dev are the ids from the
// topic when they were valid, else empty.
func AppendRejected(dst []byte, received int64, gw, dev string, rj *Rejected) []byte {
	dst = appendHeader(dst, TypeRejected, received, gw, dev, devices.KindUnknown)
	dst = appendStr(dst, string(rj.Reason))
	dst = appendStr(dst, rj.Message)
	dst = appendStr(dst, rj.Topic)
	p := rj.Payload
	if len(p) > MaxRawPayload {
		p = p[:MaxRawPayload]
	}
	dst = binary.AppendUvarint(dst, uint64(len(p)))
	dst = append(dst, p...)
	dst = binary.AppendUvarint(dst, uint64(rj.Size))
	return binary.AppendVarint(dst, int64(rj.Index))
}

func appendHeader(dst []byte, t Type, received int64, gw, dev string, kind devices.Kind) []byte {
	dst = append(dst, byte(t), byte(kind))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(received))
	dst = appendStr(dst, gw)
	return appendStr(dst, dev)
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errShort
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errShort
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// interned small strings avoid an allocation per record for ids that repeat.
type interner map[string]string

func (in interner) str(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < 1<<20 {
		in[s] = s
	}
	return s
}

// Decoder decodes records, reusing its slices between calls. Not safe for
// concurrent use.
type Decoder struct {
	ids interner
	rec Record
}

// NewDecoder returns a decoder.
func NewDecoder() *Decoder { return &Decoder{ids: interner{}} }

// Decode decodes b. The result, including its slices, is valid until the
// next call.
func (d *Decoder) Decode(b []byte) (*Record, error) {
	r := reader{b: b}
	rec := &d.rec
	rec.Readings = rec.Readings[:0]
	rec.Events = rec.Events[:0]
	rec.Status = devices.Status{}
	rec.Rejected = Rejected{}
	rec.Type = Type(r.byte())
	rec.Kind = devices.Kind(r.byte())
	rec.Received = int64(r.u64())
	rec.Gateway = d.ids.str(r.bytes())
	rec.Device = d.ids.str(r.bytes())
	switch rec.Type {
	case TypeReadings:
		n := r.uvarint()
		if n > uint64(len(b)) {
			return nil, errShort
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			rec.Readings = append(rec.Readings, devices.Reading{})
			x := &rec.Readings[len(rec.Readings)-1]
			x.TS = r.varint()
			x.Seq = r.uvarint()
			x.SeqReset = r.byte() == 1
			x.Set = devices.FieldSet(r.uvarint())
			for f := devices.Field(0); f < devices.NumFields; f++ {
				if x.Set.Has(f) {
					x.Vals[f] = math.Float64frombits(r.u64())
				}
			}
		}
	case TypeEvents:
		n := r.uvarint()
		if n > uint64(len(b)) {
			return nil, errShort
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			var e devices.Event
			e.TS = r.varint()
			e.Seq = r.uvarint()
			e.Type = devices.EventType(r.byte())
			e.Port = int(r.uvarint())
			e.Code = string(r.bytes())
			e.Detail = string(r.bytes())
			rec.Events = append(rec.Events, e)
		}
	case TypeStatus:
		flags := r.byte()
		st := &rec.Status
		st.Online = flags&1 != 0
		st.TS = r.varint()
		for i, p := range []**int64{&st.UptimeS, &st.QueueDepth, &st.QueueAgeS, &st.PollErrors} {
			if flags&(2<<i) != 0 {
				v := r.varint()
				*p = &v
			}
		}
		st.Clock = devices.ClockState(r.bytes())
		st.Version = string(r.bytes())
	case TypeRejected:
		rj := &rec.Rejected
		rj.Reason = devices.Reason(r.bytes())
		rj.Message = string(r.bytes())
		rj.Topic = string(r.bytes())
		rj.Payload = r.bytes()
		rj.Size = int(r.uvarint())
		rj.Index = int(r.varint())
	default:
		return nil, fmt.Errorf("record: unknown type %d", rec.Type)
	}
	if r.err != nil {
		return nil, r.err
	}
	return rec, nil
}
