package devices

import (
	"bytes"
	"fmt"
	"testing"
)

// testNow is the server clock of the tests: 2026-01-01T00:00:00Z.
const testNow int64 = 1767225600000

// benchMeter is a typical single-phase meter reading of about 150 bytes.
var benchMeter = []byte(`{"ts":1767225600000,"seq":123456,"voltage_v":229.8,"current_a":5.12,"power_w":1130.5,"pf":0.96,"energy_kwh":12345.67,"freq_hz":50.01,"temp_c":31.5}`)

// benchBatch is a gateway batch of 32 such readings.
func benchBatch() []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 32 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ts":%d,"seq":%d,"voltage_v":229.8,"current_a":5.12,"power_w":1130.5,"pf":0.96,"energy_kwh":12345.67,"freq_hz":50.01,"temp_c":31.5}`, testNow-int64(32-i)*1000, 123456+i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func BenchmarkDecodeTelemetrySingle(b *testing.B) {
	d := NewDecoder(DefaultLimits())
	dst := make([]Reading, 0, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMeter)))
	for b.Loop() {
		rs, errs, err := d.DecodeTelemetry(KindMeter, benchMeter, testNow, dst[:0], nil)
		if err != nil || len(errs) != 0 || len(rs) != 1 {
			b.Fatal(err, errs)
		}
	}
}

func BenchmarkDecodeTelemetryBatch32(b *testing.B) {
	d := NewDecoder(DefaultLimits())
	payload := benchBatch()
	dst := make([]Reading, 0, 32)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		rs, errs, err := d.DecodeTelemetry(KindMeter, payload, testNow, dst[:0], nil)
		if err != nil || len(errs) != 0 || len(rs) != 32 {
			b.Fatal(err, errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/reading")
}

func decodeOrDie(tb testing.TB, kind Kind, payload []byte) []Reading {
	tb.Helper()
	rs, errs, err := NewDecoder(DefaultLimits()).DecodeTelemetry(kind, payload, testNow, nil, nil)
	if err != nil || len(errs) != 0 {
		tb.Fatalf("decode: %v %v", err, errs)
	}
	return rs
}

func BenchmarkEncodeTelemetrySingle(b *testing.B) {
	rs := decodeOrDie(b, KindMeter, benchMeter)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendTelemetry(nil, rs))))
	for b.Loop() {
		buf = AppendTelemetry(buf[:0], rs)
	}
}

func BenchmarkEncodeTelemetryBatch32(b *testing.B) {
	rs := decodeOrDie(b, KindMeter, benchBatch())
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendTelemetry(nil, rs))))
	for b.Loop() {
		buf = AppendTelemetry(buf[:0], rs)
	}
}

func BenchmarkParseTopic(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTopic("cw/v1/gw-0042/meter-0007.l1/telemetry"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	d := NewDecoder(DefaultLimits())
	p := []byte(`{"ts":1767225600000,"seq":77,"type":"charge_stop","port":3,"code":12,"detail":"full"}`)
	dst := make([]Event, 0, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		evs, errs, err := d.DecodeEvents(KindPile, p, testNow, dst[:0], nil)
		if err != nil || len(errs) != 0 || len(evs) != 1 {
			b.Fatal(err, errs)
		}
	}
}
