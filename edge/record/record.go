// Package record is the binary form of a reading in cw-edge's
// store-and-forward queue: the device id and the devices.Reading with its
// timestamp, seq and the fields it carries. It is not the wire contract:
// readings are encoded for MQTT by devices.AppendTelemetry when they are
// published.
//
// Layout (version 1):
//
//	version     1 byte (1)
//	device id   1 byte length, then the id
//	ts          signed varint, Unix ms
//	seq         unsigned varint
//	flags       1 byte: bit 0 seq_reset
//	field set   unsigned varint (devices.FieldSet)
//	values      8 bytes each (IEEE 754, little endian), in field order
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/chargewatch/chargewatch/devices"
)

const version = 1

// ErrCorrupt is returned for a record that cannot be decoded.
var ErrCorrupt = errors.New("corrupt queue record")

// Append encodes the reading r of device dev (at most 255 bytes) onto dst.
func Append(dst []byte, dev string, r *devices.Reading) []byte {
	dst = append(dst, version, byte(len(dev)))
	dst = append(dst, dev...)
	dst = binary.AppendVarint(dst, r.TS)
	dst = binary.AppendUvarint(dst, r.Seq)
	var flags byte
	if r.SeqReset {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(r.Set))
	for f := devices.Field(0); f < devices.NumFields; f++ {
		if r.Set.Has(f) {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(r.Vals[f]))
		}
	}
	return dst
}

// Decode decodes record b into r and returns the device id, a sub-slice of b.
func Decode(b []byte, r *devices.Reading) ([]byte, error) {
	if len(b) < 2 || b[0] != version {
		return nil, fmt.Errorf("%w: version", ErrCorrupt)
	}
	n := int(b[1])
	if len(b) < 2+n {
		return nil, fmt.Errorf("%w: device id", ErrCorrupt)
	}
	dev := b[2 : 2+n]
	b = b[2+n:]
	ts, k := binary.Varint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: ts", ErrCorrupt)
	}
	b = b[k:]
	seq, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return nil, fmt.Errorf("%w: seq", ErrCorrupt)
	}
	flags := b[k]
	b = b[k+1:]
	set, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: field set", ErrCorrupt)
	}
	b = b[k:]
	*r = devices.Reading{TS: ts, Seq: seq, SeqReset: flags&1 != 0}
	for f := devices.Field(0); f < devices.NumFields; f++ {
		if devices.FieldSet(set).Has(f) {
			if len(b) < 8 {
				return nil, fmt.Errorf("%w: values", ErrCorrupt)
			}
			r.Put(f, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		}
	}
	if len(b) != 0 || set>>devices.NumFields != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrCorrupt)
	}
	return dev, nil
}
