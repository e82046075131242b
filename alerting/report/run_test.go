package report

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
)

// TestRunner: the fixture through the store, Load (paging) and a Runner
// gives the same points as Compute on the fixture.
func TestRunner(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b store.Batch
	for _, a := range fixture() {
		a.Place = "p" + string(rune('a'+a.ID))
		a.PlaceKind = alerting.PlaceDevice
		b.Alerts = append(b.Alerts, &a)
	}
	if err := st.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	end := day.Add(24 * time.Hour)
	var got [][]string
	r := &Runner{Store: st, Now: func() time.Time { return end },
		Escalations: func(_ context.Context, since int64) (Counts, error) {
			if since != day.UnixMilli() {
				t.Errorf("escalations since %d", since)
			}
			return Counts(escalations), nil
		},
		Write: func(_ context.Context, lines []string) error { got = append(got, lines); return nil }}
	if err := r.Once(ctx); err != nil {
		t.Fatal(err)
	}
	want := Points(Compute(fixture(), escalationsOf, day, end, end, nil), end)
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("written:\n%v\nwant\n%v", got, want)
	}

	// Run writes at once and stops with its context; errors go to OnError.
	cctx, cancel := context.WithCancel(ctx)
	var errs []error
	writes := 0
	r.Every = 10 * time.Millisecond
	r.Write = func(context.Context, []string) error {
		if writes++; writes == 2 {
			cancel()
		}
		return errors.New("influx down")
	}
	r.OnError = func(err error) { errs = append(errs, err) }
	if err := r.Run(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if writes != 2 || len(errs) != 1 { // the second failure is the shutdown's: not reported
		t.Errorf("%d writes, errors %v", writes, errs)
	}
}
