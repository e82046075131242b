package record

import (
	"reflect"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

func TestRoundTrip(t *testing.T) {
	var r1, r2 devices.Reading
	r1.TS, r1.Seq = 1_700_000_000_123, 42
	r1.Put(devices.FieldPower, 123.5)
	r1.Put(devices.FieldVoltage, 229.9)
	r2.TS, r2.Seq, r2.SeqReset = 1_700_000_060_000, 1, true
	r2.Put(devices.FieldPF, -0.5)
	up, depth := int64(3600), int64(0)
	cases := []struct {
		name string
		enc  []byte
		want Record
	}{
		{"readings", AppendReadings(nil, 99, "gw-1", "m-1", devices.KindMeter, []devices.Reading{r1, r2}),
			Record{Type: TypeReadings, Received: 99, Gateway: "gw-1", Device: "m-1", Kind: devices.KindMeter, Readings: []devices.Reading{r1, r2}}},
		{"events", AppendEvents(nil, 100, "gw-1", "s-1", devices.KindSmoke, []devices.Event{{TS: 5, Seq: 6, Type: devices.EventSmokeAlarm, Port: 2, Code: "E1", Detail: "厨房"}}),
			Record{Type: TypeEvents, Received: 100, Gateway: "gw-1", Device: "s-1", Kind: devices.KindSmoke, Events: []devices.Event{{TS: 5, Seq: 6, Type: devices.EventSmokeAlarm, Port: 2, Code: "E1", Detail: "厨房"}}}},
		{"status", AppendStatus(nil, 101, "gw-1", "gw-1", devices.KindUnknown, devices.Status{Online: true, TS: 7, UptimeS: &up, QueueDepth: &depth, Clock: devices.ClockSynced, Version: "1.0"}),
			Record{Type: TypeStatus, Received: 101, Gateway: "gw-1", Device: "gw-1", Status: devices.Status{Online: true, TS: 7, UptimeS: &up, QueueDepth: &depth, Clock: devices.ClockSynced, Version: "1.0"}}},
		{"last will", AppendStatus(nil, 102, "gw-1", "gw-1", devices.KindUnknown, devices.Status{}),
			Record{Type: TypeStatus, Received: 102, Gateway: "gw-1", Device: "gw-1"}},
		{"rejected", AppendRejected(nil, 103, "", "", &Rejected{Reason: devices.ReasonBadTopic, Message: "bad", Topic: "x/y", Payload: []byte{0xff, 0}, Size: 2, Index: -1}),
			Record{Type: TypeRejected, Received: 103, Rejected: Rejected{Reason: devices.ReasonBadTopic, Message: "bad", Topic: "x/y", Payload: []byte{0xff, 0}, Size: 2, Index: -1}}},
	}
	d := NewDecoder()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := d.Decode(c.enc)
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			if len(g.Readings) == 0 {
				g.Readings = nil
			}
			if len(g.Events) == 0 {
				g.Events = nil
			}
			if !reflect.DeepEqual(g, c.want) {
				t.Fatalf("got  %+v\nwant %+v", g, c.want)
			}
		})
	}
}

func TestRejectedPayloadTruncated(t *testing.T) {
	big := make([]byte, 5000)
	b := AppendRejected(nil, 1, "", "", &Rejected{Reason: devices.ReasonOversize, Payload: big, Size: len(big)})
	rec, err := NewDecoder().Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Rejected.Payload) != MaxRawPayload || rec.Rejected.Size != 5000 {
		t.Fatalf("payload %d bytes, size %d", len(rec.Rejected.Payload), rec.Rejected.Size)
	}
}

func TestDecodeGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {9}, {1, 1, 0, 0}, {byte(TypeReadings), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200}} {
		if _, err := NewDecoder().Decode(b); err == nil {
			t.Errorf("Decode(%v): want an error", b)
		}
	}
}

func BenchmarkAppendDecodeReadings(b *testing.B) {
	rs := make([]devices.Reading, 32)
	for i := range rs {
		rs[i].TS, rs[i].Seq = 1_700_000_000_000+int64(i), uint64(i)
		for _, f := range []devices.Field{devices.FieldVoltage, devices.FieldCurrent, devices.FieldPower, devices.FieldPF, devices.FieldEnergy, devices.FieldFreq} {
			rs[i].Put(f, 1.5)
		}
	}
	d := NewDecoder()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReadings(buf[:0], 1, "gw-000001", "m-0000001", devices.KindMeter, rs)
		if _, err := d.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
