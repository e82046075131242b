package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// benchEngine returns an engine over a registry of n devices.
func benchEngine(b *testing.B, n int) (*Engine, []*registry.Device) {
	b.Helper()
	ctx := context.Background()
	snap, err := fixture.LoadSite(ctx, b.TempDir(), fixture.BigSite(n))
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e, err := New(ctx, st, fixture.Registry{S: snap}, Options{Clock: fixture.NewClock(t0)})
	if err != nil {
		b.Fatal(err)
	}
	var devs []*registry.Device
	for d := range snap.Devices() {
		devs = append(devs, d)
	}
	return e, devs
}

func meterReading(r *devices.Reading, i int, ts int64) {
	r.Set, r.TS = 0, ts
	w := 300 + float64(i%11)
	r.Put(devices.FieldPower, w)
	r.Put(devices.FieldCurrent, w/228)
	r.Put(devices.FieldVoltage, 228)
}

// BenchmarkReading is the engine's per-reading cost with 10,000 devices
// (go run ./alerting/cmd/alertbench measures 100,000).
func BenchmarkReading(b *testing.B) {
	e, devs := benchEngine(b, 10_000)
	var r devices.Reading
	// A first round creates the devices' state.
	for i, d := range devs {
		meterReading(&r, i, t0.UnixMilli())
		e.Reading(d, &r)
	}
	b.ReportAllocs()
	i := len(devs)
	for b.Loop() {
		d := devs[i%len(devs)]
		meterReading(&r, i, t0.UnixMilli()+int64(i/len(devs))*60_000)
		e.Reading(d, &r)
		i++
	}
}

// BenchmarkCommit is the cost of committing, per reading, when every
// reading of a batch of 2,000 dirties another device.
func BenchmarkCommit(b *testing.B) {
	e, devs := benchEngine(b, 10_000)
	ctx := context.Background()
	var r devices.Reading
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := devs[i%len(devs)]
		meterReading(&r, i, t0.UnixMilli()+int64(i/len(devs))*60_000)
		e.Reading(d, &r)
		i++
		if i%2000 == 0 {
			if err := e.Commit(ctx, []byte(fmt.Sprint(i)), 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCheckOffline is one round of offline detection over 10,000
// devices that all reported.
func BenchmarkCheckOffline(b *testing.B) {
	e, devs := benchEngine(b, 10_000)
	var r devices.Reading
	for i, d := range devs {
		meterReading(&r, i, t0.UnixMilli())
		e.Reading(d, &r)
	}
	now := t0.UnixMilli() + 30_000
	b.ReportAllocs()
	for b.Loop() {
		e.mu.Lock()
		e.checkOffline(now)
		e.mu.Unlock()
	}
}
