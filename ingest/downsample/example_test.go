package downsample_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/ingest/downsample"
)

// How the server wires the Downsampler: one per InfluxDB database, Touch from
// the writer after each accepted batch, Checkpoint before the writer commits
// its log cursor, Run beside the writers.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := downsample.New(downsample.Config{
		Database:  "chargewatch",
		StatePath: "/var/lib/chargewatch/downsample.json", // <data_dir>/downsample.json
	}, &downsample.HTTPQuerier{URL: "http://127.0.0.1:8086", Database: "chargewatch"},
		prometheus.NewRegistry(), slog.Default())
	if err != nil {
		panic(err)
	}
	go func() { _ = d.Run(ctx) }()

	// In the InfluxDB writer, once a batch is written:
	type point struct {
		measurement string // "meter", "pile", "event", ...
		tsMillis    int64
	}
	batch := []point{{"meter", time.Now().UnixMilli()}, {"event", time.Now().UnixMilli()}}
	for _, p := range batch {
		d.Touch(p.measurement, p.tsMillis)
	}
	if err := d.Checkpoint(); err != nil {
		slog.Warn("saving the downsampling state", "err", err) // then commit the cursor anyway, or retry
	}
}
