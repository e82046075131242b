package engine

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
)

// TestRun runs the engine's wall-clock loop in a synctest bubble: with no
// input at all, the devices that fell silent go offline on Run's ticks, and
// cancelling the context stops Run after a last commit.
func TestRun(t *testing.T) {
	snap := fixture.Snapshot(t)
	path := filepath.Join(t.TempDir(), "alerts.db")
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		e, err := New(ctx, st, fixture.Registry{S: snap}, Options{}) // the bubble's clock
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for d := range snap.Devices() {
			if d.ID != "m4" {
				e.Reading(d, &devices.Reading{TS: start.UnixMilli()})
			}
		}
		if err := e.Commit(ctx, []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- e.Run(runCtx) }()
		// Everyone falls silent; smoke detectors (1 h interval) stay online
		// for 3 h, the others are offline after 5 minutes; a lone gateway is
		// pending for 2 more minutes, then firing.
		time.Sleep(8 * time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		as, err := st.Alerts(ctx, &store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, string(a.Rule)+"/"+a.Place+" "+string(a.State))
		}
		slices.Sort(got)
		// Gateways g1-g4 of street s1 went silent together: one area
		// outage; g5 is alone in s2. sd1 connects by itself and reports
		// hourly.
		want := []string{"area_outage/s1 firing", "gateway_offline/g5 firing"}
		if !slices.Equal(got, want) {
			t.Errorf("alerts %q, want %q", got, want)
		}
	})
}
