package feed

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/record"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// TestSlicedCheckpoint runs the real engine with slices of two device
// states: a commit writes two of the six dirty states and the logs are let
// go only up to the engine's durable cursor, which trails what was fed; a
// restart resumes from there; the ticker's checkpoint writes slice after
// slice until every state is written and the log can go.
func TestSlicedCheckpoint(t *testing.T) {
	ctx := context.Background()
	snap := fixture.Snapshot(t)
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// Logs, store and feed live in the bubble: the ticker fires when the
	// test sleeps, and Wait sees the feed idle at the logs' ends.
	synctest.Test(t, func(t *testing.T) {
		open := func(name string) *wal.Log {
			l, err := wal.Open(dir+"/"+name, wal.Options{SegmentBytes: 1 << 20, MaxBytes: 4 << 20, Consumers: []string{Consumer}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		}
		tel, ev := open("telemetry"), open("events")
		meters := []string{"m1", "p1", "m2", "m3", "m4", "m5"}
		appendReadings := func(at time.Time) {
			for i, id := range meters {
				d, _ := snap.Device(id)
				var r devices.Reading
				r.TS, r.Seq = at.Add(time.Duration(i)*time.Second).UnixMilli(), uint64(at.Unix())
				r.Put(devices.FieldPower, 50)
				if _, err := tel.Append(record.AppendReadings(nil, at.UnixNano(), d.Gateway.ID, id, d.Kind, []devices.Reading{r})); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tel.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		appendReadings(t0)

		// start opens the store and the engine and feeds the logs until every
		// record is fed. crash stops it without a last commit (the store is
		// closed first); stop stops it as a SIGTERM does.
		type life struct {
			eng         *engine.Engine
			f           *Feed
			crash, stop func()
		}
		start := func() life {
			st, err := store.Open(ctx, dir+"/alerts.db", store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var f *Feed
			eng, err := engine.New(ctx, st, fixture.Registry{S: snap}, engine.Options{Clock: fixture.NewClock(t0.Add(time.Minute)),
				CheckpointSlice: 2, Marker: func() []byte { return f.Mark() }})
			if err != nil {
				t.Fatal(err)
			}
			f, err = New(eng, fixture.Registry{S: snap}, tel, ev, Options{CommitEvery: time.Hour, MaxSlices: 1})
			if err != nil {
				t.Fatal(err)
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- f.Run(rctx) }()
			synctest.Wait()
			if fed := wal.Pos(f.fedTel.Load()); fed != tel.Durable() {
				t.Fatalf("fed up to %d of %d", fed, tel.Durable())
			}
			return life{eng: eng, f: f,
				crash: func() { st.Close(); cancel(); <-done },
				stop: func() {
					cancel()
					if err := <-done; err != nil {
						t.Fatal(err)
					}
					st.Close()
				}}
		}

		l := start()
		if err := l.f.commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := l.eng.Dirty(); n != 4 {
			t.Fatalf("after one sliced commit %d states are unwritten, want 4", n)
		}
		durable := l.eng.Durable()
		if len(durable) != 16 || string(durable) == string(l.eng.Cursor()) {
			t.Fatalf("durable cursor %x should trail the fed cursor %x", durable, l.eng.Cursor())
		}
		if tel.Backlog(Consumer) == 0 {
			t.Fatal("the telemetry log was let go past the states not yet written")
		}
		l.crash()

		l = start()
		if got := l.eng.Cursor(); string(got) != string(durable) {
			t.Fatalf("restarted at cursor %x, want the durable %x", got, durable)
		}
		if l.eng.Dirty() == 0 || tel.Backlog(Consumer) == 0 {
			t.Fatalf("after the restart: %d states unwritten, %d bytes of log kept; want some of both", l.eng.Dirty(), tel.Backlog(Consumer))
		}
		// The ticker's checkpoint writes slice after slice until all is
		// written (MaxSlices 1 would leave the rest for the next tick).
		l.f.opt.MaxSlices = 64
		time.Sleep(time.Hour)
		synctest.Wait()
		if n, b := l.eng.Dirty(), tel.Backlog(Consumer); n != 0 || b != 0 {
			t.Errorf("after the ticker's checkpoint: %d states unwritten, %d bytes of the log kept; want none", n, b)
		}
		l.stop()

		// A graceful stop writes every state, whatever MaxSlices says.
		l = start()
		appendReadings(t0.Add(time.Minute)) // no silence: no offline alert writes them
		synctest.Wait()
		if l.eng.Dirty() != len(meters) {
			t.Fatalf("%d states dirty after new readings, want %d", l.eng.Dirty(), len(meters))
		}
		l.stop()
		if n, b := l.eng.Dirty(), tel.Backlog(Consumer); n != 0 || b != 0 {
			t.Errorf("after a graceful stop: %d states unwritten, %d bytes of the log kept; want none", n, b)
		}
	})
}
