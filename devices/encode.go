package devices

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendReading encodes one reading as a JSON object, fields in vocabulary
// order. Float fields use the shortest representation that round-trips, so
// decoding the output gives back the identical reading. The reading must be
// valid (every value passes CheckValue): a NaN or an infinity would make
// invalid JSON.
func AppendReading(dst []byte, r *Reading) []byte {
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, r.TS, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	if r.SeqReset {
		dst = append(dst, `,"seq_reset":true`...)
	}
	for f := Field(0); f < NumFields; f++ {
		if !r.Set.Has(f) {
			continue
		}
		sp := &fieldSpecs[f]
		dst = append(dst, ',', '"')
		dst = append(dst, sp.Name...)
		dst = append(dst, '"', ':')
		v := r.Vals[f]
		switch sp.Type {
		case TypeBool:
			dst = strconv.AppendBool(dst, v != 0)
		case TypeState:
			dst = append(dst, '"')
			dst = append(dst, PileState(v).String()...)
			dst = append(dst, '"')
		case TypeInt:
			dst = strconv.AppendInt(dst, int64(v), 10)
		default:
			dst = appendFloat(dst, v)
		}
	}
	return append(dst, '}')
}

// AppendTelemetry encodes readings as a telemetry payload: a single object
// for one reading, an array for a gateway batch. Do not send an empty
// batch: the decoder rejects "[]".
func AppendTelemetry(dst []byte, rs []Reading) []byte {
	if len(rs) == 1 {
		return AppendReading(dst, &rs[0])
	}
	dst = append(dst, '[')
	for i := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendReading(dst, &rs[i])
	}
	return append(dst, ']')
}

// AppendEvent encodes one event as a JSON object.
func AppendEvent(dst []byte, ev *Event) []byte {
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, ev.TS, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, ev.Seq, 10)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, ev.Type.String()...)
	dst = append(dst, '"')
	if ev.Port != 0 {
		dst = append(dst, `,"port":`...)
		dst = strconv.AppendInt(dst, int64(ev.Port), 10)
	}
	if ev.Code != "" {
		dst = append(dst, `,"code":`...)
		dst = appendString(dst, ev.Code)
	}
	if ev.Detail != "" {
		dst = append(dst, `,"detail":`...)
		dst = appendString(dst, ev.Detail)
	}
	return append(dst, '}')
}

func appendFloat(dst []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}
