package agent

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/queue"
	"github.com/chargewatch/chargewatch/edge/record"
)

func testMetrics() *agentMetrics {
	return &agentMetrics{
		readings:     prometheus.NewCounter(prometheus.CounterOpts{Name: "r"}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "a"}),
		heldDropped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "h"}),
		clockSynced:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "c"}),
	}
}

func sample(dev *modbus.Device, mono time.Duration, n int) modbus.Sample {
	s := modbus.Sample{Device: dev, Mono: mono}
	for i := 0; i < n; i++ {
		var r devices.Reading
		r.Put(devices.FieldPower, float64(100+i))
		s.Readings = append(s.Readings, r)
	}
	return s
}

func queued(t *testing.T, q *queue.Queue) []devices.Reading {
	t.Helper()
	recs, cur, err := q.Read(1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	q.Commit(cur)
	var out []devices.Reading
	for _, rec := range recs {
		var r devices.Reading
		if _, err := record.Decode(rec.Data, &r); err != nil {
			t.Fatal(err)
		}
		if rec.TS != r.TS {
			t.Errorf("queue ts %d != reading ts %d", rec.TS, r.TS)
		}
		out = append(out, r)
	}
	return out
}

// A gateway that boots in 1970 holds its readings and stamps them with the
// right time once NTP has set the clock: ts = now - (monotonic time since the poll).
func TestUnsyncedClockHoldsReadings(t *testing.T) {
	boot := time.Unix(3600, 0) // 1970-01-01T01:00:00Z
	clk := clock.NewFake(boot)
	q, err := queue.Open(t.TempDir(), queue.Options{MaxBytes: 1 << 20, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	m := testMetrics()
	st := newStamper(clk, clock.Floor, 100, q, slog.New(slog.DiscardHandler), m)
	dev := &modbus.Device{ID: "m-1"}
	for i := 0; i < 3; i++ { // three polls, 10 s apart, before NTP
		s := sample(dev, clk.Mono(), 1)
		st.add(&s)
		clk.Advance(10 * time.Second)
	}
	if got := queued(t, q); len(got) != 0 || st.heldCount() != 3 || st.isSynced() {
		t.Fatalf("queued %d readings with the clock at 1970 (held %d)", len(got), st.heldCount())
	}
	if v := testutil.ToFloat64(m.clockSynced); v != 0 {
		t.Errorf("clock_synced = %v", v)
	}
	// NTP steps the clock; 30 s of monotonic time have passed since the first poll.
	ntp := time.Date(2026, 3, 1, 8, 0, 30, 0, time.UTC)
	clk.SetWall(ntp)
	st.tick()
	got := queued(t, q)
	if len(got) != 3 {
		t.Fatalf("%d readings after the clock was set", len(got))
	}
	for i, r := range got {
		want := ntp.Add(-time.Duration(30-10*i) * time.Second).UnixMilli()
		if r.TS != want || r.Seq != uint64(i+1) || r.SeqReset != (i == 0) {
			t.Errorf("reading %d: ts %s seq %d reset %v; want ts %s seq %d",
				i, time.UnixMilli(r.TS).UTC().Format(time.RFC3339), r.Seq, r.SeqReset, time.UnixMilli(want).UTC().Format(time.RFC3339), i+1)
		}
	}
	// From now on readings are stamped at once, with their poll time.
	at := clk.Mono()
	clk.Advance(250 * time.Millisecond)
	s := sample(dev, at, 1)
	st.add(&s)
	got = queued(t, q)
	if len(got) != 1 || got[0].TS != ntp.UnixMilli() || got[0].Seq != 4 || got[0].SeqReset {
		t.Fatalf("after sync: %+v", got)
	}
}

func TestHeldReadingsAreBounded(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	q, _ := queue.Open(t.TempDir(), queue.Options{MaxBytes: 1 << 20, Clock: clk})
	defer q.Close()
	m := testMetrics()
	st := newStamper(clk, clock.Floor, 10, q, slog.New(slog.DiscardHandler), m)
	dev := &modbus.Device{ID: "pile-1"}
	for i := 0; i < 5; i++ {
		s := sample(dev, clk.Mono(), 4) // four ports a poll
		st.add(&s)
		clk.Advance(time.Second)
	}
	if st.heldCount() != 10 || testutil.ToFloat64(m.heldDropped) != 10 {
		t.Fatalf("held %d, dropped %v; want 10 and 10", st.heldCount(), testutil.ToFloat64(m.heldDropped))
	}
	clk.SetWall(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st.tick()
	got := queued(t, q)
	if len(got) != 10 || got[0].Seq != 11 || got[9].Seq != 20 {
		t.Fatalf("kept %d readings, seqs %d..%d: want the newest 10 (11..20)", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
}
