package feed

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest/record"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// fakeEngine records what the feed hands it; a reading of more than
// 1,000 W "raises an alert" (signals Changed).
type fakeEngine struct {
	mu       sync.Mutex
	readings []float64
	events   int
	commits  [][2]wal.Pos
	changed  chan struct{}
}

func (e *fakeEngine) Reading(_ *registry.Device, r *devices.Reading) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, _ := r.Get(devices.FieldPower)
	e.readings = append(e.readings, w)
	if w > 1000 {
		select {
		case e.changed <- struct{}{}:
		default:
		}
	}
}

func (e *fakeEngine) Event(*registry.Device, *devices.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events++
}

func (e *fakeEngine) Status(string, string, devices.Status, time.Time) {}

func (e *fakeEngine) Commit(_ context.Context, c []byte, _ time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.commits = append(e.commits, [2]wal.Pos{wal.Pos(binary.BigEndian.Uint64(c)), wal.Pos(binary.BigEndian.Uint64(c[8:]))})
	return nil
}

func (e *fakeEngine) Cursor() []byte           { return nil }
func (e *fakeEngine) Changed() <-chan struct{} { return e.changed }
func (e *fakeEngine) count() (readings, commits int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.readings), len(e.commits)
}

// TestCommitsAlertsAtOnceAndStateOnTheTicker: telemetry that changes no
// alert is checkpointed on the CommitEvery ticker; telemetry that raises an
// alert, and any event, are committed at once, so a notification never
// waits for the checkpoint interval. A commit carries the positions fed.
func TestCommitsAlertsAtOnceAndStateOnTheTicker(t *testing.T) {
	snap := fixture.Snapshot(t)
	synctest.Test(t, func(t *testing.T) {
		open := func() *wal.Log {
			l, err := wal.Open(t.TempDir(), wal.Options{SegmentBytes: 1 << 20, MaxBytes: 4 << 20, Consumers: []string{Consumer}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		}
		tel, ev := open(), open()
		seq := uint64(0)
		reading := func(w float64) {
			seq++
			var r devices.Reading
			r.TS, r.Seq = time.Now().UnixMilli(), seq
			r.Put(devices.FieldPower, w)
			if _, err := tel.Append(record.AppendReadings(nil, time.Now().UnixNano(), "g1", "m1", devices.KindMeter, []devices.Reading{r})); err != nil {
				t.Fatal(err)
			}
			if _, err := tel.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		eng := &fakeEngine{changed: make(chan struct{}, 1)}
		f, err := New(eng, fixture.Registry{S: snap}, tel, ev, Options{CommitEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()

		for _, tc := range []struct {
			name            string
			do              func()
			readings, calls int
		}{
			{"quiet readings wait for the ticker", func() { reading(100); reading(120) }, 2, 0},
			{"a reading that raises an alert is committed at once", func() { reading(2500) }, 3, 1},
			{"quiet again", func() { reading(110) }, 4, 1},
			{"the ticker checkpoints the rest", func() { time.Sleep(time.Hour) }, 4, 2},
			{"an event is committed at once", func() {
				if _, err := ev.Append(record.AppendEvents(nil, time.Now().UnixNano(), "sd1", "sd1", devices.KindSmoke,
					[]devices.Event{{TS: time.Now().UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm}})); err != nil {
					t.Fatal(err)
				}
				if _, err := ev.Sync(); err != nil {
					t.Fatal(err)
				}
			}, 4, 3},
		} {
			tc.do()
			synctest.Wait()
			if r, c := eng.count(); r != tc.readings || c != tc.calls {
				t.Fatalf("%s: %d readings fed and %d commits, want %d and %d", tc.name, r, c, tc.readings, tc.calls)
			}
		}
		eng.mu.Lock()
		last := eng.commits[len(eng.commits)-1]
		events := eng.events
		eng.mu.Unlock()
		if last[0] != tel.Durable() || last[1] != ev.Durable() || events != 1 {
			t.Errorf("last commit at %v, want the logs' ends %v and %v; %d events fed", last, tel.Durable(), ev.Durable(), events)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
