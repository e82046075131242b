package detect

import (
	"encoding/binary"
	"errors"
	"math"
)

// enc and dec are a tiny little-endian codec for detector checkpoints.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) i64(v int64)   { e.u64(uint64(v)) }
func (e *enc) f32(v float32) { e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v)) }
func (e *enc) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *enc) bytes(v []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(v)))
	e.b = append(e.b, v...)
}

var errShort = errors.New("detector state is truncated")

type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.err = errShort
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8() uint8    { return d.take(1)[0] }
func (d *dec) u64() uint64  { return binary.LittleEndian.Uint64(d.take(8)) }
func (d *dec) i64() int64   { return int64(d.u64()) }
func (d *dec) f32() float32 { return math.Float32frombits(binary.LittleEndian.Uint32(d.take(4))) }
func (d *dec) bool() bool   { return d.u8() != 0 }
func (d *dec) bytes() []byte {
	if d.err != nil {
		return nil
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || uint64(len(d.b)-k) < n {
		d.err = errShort
		return nil
	}
	v := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	return v
}

func (e *enc) cond(c *cond) {
	e.i64(c.since)
	e.i64(c.below)
	e.i64(c.latch)
	e.f32(c.worst)
	e.bool(c.firing)
	e.bool(c.over)
}

func (d *dec) cond(c *cond) {
	c.since = d.i64()
	c.below = d.i64()
	c.latch = d.i64()
	c.worst = d.f32()
	c.firing = d.bool()
	c.over = d.bool()
}
