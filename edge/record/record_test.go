package record

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

func TestRoundTrip(t *testing.T) {
	var r devices.Reading
	r.TS, r.Seq, r.SeqReset = 1767225600123, 42, true
	r.Put(devices.FieldVoltage, 230.1)
	r.Put(devices.FieldPower, -12.5)
	r.Put(devices.FieldPort, 3)
	r.Put(devices.FieldState, float64(devices.PileCharging))
	b := Append(nil, "pile-7", &r)
	var got devices.Reading
	dev, err := Decode(b, &got)
	if err != nil {
		t.Fatal(err)
	}
	if string(dev) != "pile-7" || !bytes.Equal(devices.AppendReading(nil, &got), devices.AppendReading(nil, &r)) {
		t.Fatalf("got %s %s", dev, devices.AppendReading(nil, &got))
	}
	for i := range b {
		if _, err := Decode(b[:i], &got); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", i, err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	var r devices.Reading
	r.TS, r.Seq = 1767225600123, 42
	for _, f := range []devices.Field{devices.FieldVoltage, devices.FieldCurrent, devices.FieldPower, devices.FieldPF, devices.FieldEnergy, devices.FieldFreq} {
		r.Put(f, 123.4)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(Append(nil, "meter-0001", &r))))
	for b.Loop() {
		buf = Append(buf[:0], "meter-0001", &r)
	}
}
