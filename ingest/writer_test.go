package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/record"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

func TestLineProtocol(t *testing.T) {
	var r devices.Reading
	r.TS, r.Seq = 1_800_000_000_123, 7
	r.Put(devices.FieldPort, 2)
	r.PutBool(devices.FieldFault, false)
	r.Put(devices.FieldState, float64(devices.PileCharging))
	r.Put(devices.FieldPower, 181.25)
	r.Put(devices.FieldTemp, 41)
	var lp lineBuilder
	loc := testLoc
	lp.reading(&record.Record{Kind: devices.KindPile, Gateway: "gw-1", Device: "p-1"}, &r, &loc)
	lp.event(&record.Record{Kind: devices.KindSmoke, Gateway: "gw-1", Device: "s-1"}, &devices.Event{TS: 1_800_000_000_000, Seq: 3, Type: devices.EventSmokeAlarm, Detail: `say "hi"` + "\n"}, &loc)
	lp.status(&record.Record{Gateway: "gw-1", Device: "gw-1", Received: 55}, &Location{})
	lp.rejected(99, "", "", &record.Rejected{Reason: devices.ReasonMalformedJSON, Message: "m", Topic: "t", Payload: []byte{0xff}, Size: 1, Index: -1})
	want := `pile,building=b1,community=c1,device=p-1,district=d1,gateway=gw-1,port=2,street=s1,unit=u1 seq=7i,power_w=181.25,temp_c=41,state="charging",fault=false 1800000000123000000
event,building=b1,community=c1,device=s-1,district=d1,gateway=gw-1,street=s1,type=smoke_alarm,unit=u1 seq=3i,kind="smoke",detail="say \"hi\"\n" 1800000000000000000
status,device=gw-1,gateway=gw-1 online=false 55
rejected,reason=malformed_json message="m",topic="t",payload_b64="/w==",size=1i,index=-1i 99
`
	if got := string(lp.buf); got != want {
		t.Fatalf("line protocol:\n%s\nwant:\n%s", got, want)
	}
	if lp.points != 4 {
		t.Fatalf("points = %d", lp.points)
	}
}

// fakeStore records written lines and fails on demand.
type fakeStore struct {
	mu      sync.Mutex
	lines   []string
	calls   int
	failFor func(call int, lines []byte) error
}

func (f *fakeStore) Write(_ context.Context, lines []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failFor != nil {
		if err := f.failFor(f.calls, lines); err != nil {
			return err
		}
	}
	f.lines = append(f.lines, strings.Split(strings.TrimRight(string(lines), "\n"), "\n")...)
	return nil
}

func (f *fakeStore) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

func runWriter(t *testing.T, store PointWriter, n int, batch int) (*Metrics, *wal.Log) {
	t.Helper()
	l, err := wal.Open(t.TempDir(), wal.Options{Consumers: []string{ConsumerWriter}, SegmentBytes: 1 << 20, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	appendReadings(t, l, 0, n)
	m := NewMetrics(prometheus.NewRegistry())
	d := testDir()
	w := NewWriter(WriterConfig{BatchPoints: batch, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, l, SessionTelemetry,
		func() Directory { return d }, store, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for l.Backlog(ConsumerWriter) > 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b := l.Backlog(ConsumerWriter); b != 0 {
		t.Fatalf("writer left %d bytes unwritten", b)
	}
	return m, l
}

// appendReadings appends n single-reading records of meter m-1 (seq from+1
// on) to l and syncs them.
func appendReadings(t *testing.T, l *wal.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		var r devices.Reading
		r.TS, r.Seq = 1_800_000_000_000+int64(i), uint64(i+1)
		r.Put(devices.FieldPower, float64(i))
		if _, err := l.Append(record.AppendReadings(nil, 1, "gw-1", "m-1", devices.KindMeter, []devices.Reading{r})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestWriterRetriesUntilWritten(t *testing.T) {
	store := &fakeStore{failFor: func(call int, _ []byte) error {
		if call <= 3 {
			return &WriteError{Class: "network", Err: errors.New("connection refused")}
		}
		if call == 4 {
			return &WriteError{Class: "server", Status: 503, Err: errors.New("unavailable")}
		}
		return nil
	}}
	m, _ := runWriter(t, store, 100, 1000)
	if got := len(store.snapshot()); got != 100 {
		t.Fatalf("store has %d points, want 100", got)
	}
	if got := testutil.ToFloat64(m.WriteErrors.WithLabelValues("network")); got != 3 {
		t.Errorf("network errors = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.WriteErrors.WithLabelValues("server")); got != 1 {
		t.Errorf("server errors = %v, want 1", got)
	}
}

func TestWriterSplitsTooLarge(t *testing.T) {
	store := &fakeStore{failFor: func(_ int, lines []byte) error {
		if bytes.Count(lines, []byte("\n")) >= 16 {
			return &WriteError{Class: "too_large", Status: 413, Err: errors.New("too large")}
		}
		return nil
	}}
	m, _ := runWriter(t, store, 100, 100)
	if got := len(store.snapshot()); got != 100 {
		t.Fatalf("store has %d points, want 100", got)
	}
	if got := testutil.ToFloat64(m.WriteBatches.WithLabelValues("split")); got == 0 {
		t.Error("no split counted")
	}
}

func TestWriterQuarantinesOnlyRefusedPoints(t *testing.T) {
	// The store refuses points whose power is 13 or 77 (as InfluxDB refuses
	// a field type conflict), writing the rest: a partial write.
	bad := func(l string) bool {
		return strings.HasPrefix(l, "meter") && (strings.Contains(l, "power_w=13 ") || strings.Contains(l, "power_w=77 "))
	}
	store := &fakeStore{}
	store.failFor = func(_ int, lines []byte) error {
		var good []string
		refused := 0
		for _, l := range strings.Split(strings.TrimRight(string(lines), "\n"), "\n") {
			if bad(l) {
				refused++
			} else {
				good = append(good, l)
			}
		}
		if refused == 0 {
			return nil // Write records every line
		}
		store.lines = append(store.lines, good...) // a partial write: the good ones land
		return &WriteError{Class: "bad_data", Status: 400, Err: errors.New("partial write: field type conflict dropped=1")}
	}
	m, _ := runWriter(t, store, 100, 100)
	var good, quarantined int
	seen := map[string]bool{}
	for _, l := range store.snapshot() {
		if strings.HasPrefix(l, "rejected,reason=store_refused") {
			quarantined++
			continue
		}
		if bad(l) {
			t.Errorf("refused point was stored: %s", l)
		}
		seen[l] = true
	}
	good = len(seen)
	if good != 98 || quarantined != 2 {
		t.Fatalf("good %d quarantined %d, want 98 and 2", good, quarantined)
	}
	if got := testutil.ToFloat64(m.QuarantinedByDB); got != 2 {
		t.Fatalf("quarantined counter %v", got)
	}
}

// TestInfluxWriterRetryAfter puts a local HTTP front that answers 429 with
// Retry-After before the real client, and checks the writer waits as told.
func TestInfluxWriterRetryAfter(t *testing.T) {
	var calls atomic.Int32
	var got bytes.Buffer
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/write" {
			http.NotFound(w, r)
			return
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "slow down")
			return
		}
		mu.Lock()
		io.Copy(&got, r.Body)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	iw := NewInfluxWriter(InfluxConfig{URL: srv.URL, Database: "db"})
	defer iw.Close()
	err := iw.Write(context.Background(), []byte("meter,device=m-1 power_w=1 1\n"))
	var we *WriteError
	if !errors.As(err, &we) || we.Class != "throttled" || we.RetryAfter != time.Second {
		t.Fatalf("first write: %#v, want throttled with Retry-After 1s", err)
	}
	start := time.Now()
	m, _ := runWriter(t, &retryAfterOnce{iw: iw}, 3, 10)
	if time.Since(start) < 900*time.Millisecond {
		t.Fatalf("writer did not wait for Retry-After (took %v)", time.Since(start))
	}
	if testutil.ToFloat64(m.WriteErrors.WithLabelValues("throttled")) != 1 {
		t.Fatal("throttled error not counted")
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(got.String(), "\n") + 1; n != 3 {
		t.Fatalf("front received %d lines after the 429, want 3:\n%s", n, got.String())
	}
}

// retryAfterOnce resets the front's counter so the writer's first attempt
// gets the 429.
type retryAfterOnce struct {
	iw   *InfluxWriter
	once sync.Once
}

func (r *retryAfterOnce) Write(ctx context.Context, lines []byte) error {
	var first bool
	r.once.Do(func() { first = true })
	if first {
		return &WriteError{Class: "throttled", Status: 429, RetryAfter: time.Second, Err: errors.New("429")}
	}
	return r.iw.Write(ctx, lines)
}

func TestSortSeries(t *testing.T) {
	line := func(dev string, ts int) string {
		return "meter,device=" + dev + ",gateway=gw-1 seq=1i,power_w=" + strconv.Itoa(ts) + " " + strconv.Itoa(ts) + "\n"
	}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, nil},
		{"one line", []string{line("m-2", 1)}, []string{line("m-2", 1)}},
		{"already in order is kept", []string{line("m-1", 1), line("m-1", 2), line("m-2", 1)},
			[]string{line("m-1", 1), line("m-1", 2), line("m-2", 1)}},
		{"interleaved devices grouped, time order kept within a device",
			[]string{line("m-2", 1), line("m-1", 1), line("m-2", 2), line("m-10", 1), line("m-1", 2)},
			[]string{line("m-1", 1), line("m-1", 2), line("m-10", 1), line("m-2", 1), line("m-2", 2)}},
		{"measurements apart", []string{line("m-1", 1), "event,device=m-1 seq=1i 5\n", line("m-1", 2)},
			[]string{"event,device=m-1 seq=1i 5\n", line("m-1", 1), line("m-1", 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lp lineBuilder
			var spare []byte
			for range 2 { // the second round reuses the buffers
				lp.reset()
				for _, l := range tc.in {
					lp.buf = append(lp.buf, strings.TrimSuffix(l, "\n")...)
					lp.buf = append(lp.buf, '\n')
					lp.ends = append(lp.ends, int32(len(lp.buf)))
					lp.points++
				}
				lp.sortSeries(&spare)
				if got, want := string(lp.buf), strings.Join(tc.want, ""); got != want {
					t.Fatalf("sorted:\n%s\nwant:\n%s", got, want)
				}
				if len(lp.ends) != len(tc.want) || (len(lp.ends) > 0 && int(lp.ends[len(lp.ends)-1]) != len(lp.buf)) {
					t.Fatalf("line ends %v do not match the buffer of %d bytes", lp.ends, len(lp.buf))
				}
			}
		})
	}
}

// TestWriterBatchWaitsToFill: with a long BatchWait a batch is written only
// when it has BatchPoints points, so the store sees one write, not three.
func TestWriterBatchWaitsToFill(t *testing.T) {
	l, err := wal.Open(t.TempDir(), wal.Options{Consumers: []string{ConsumerWriter}, SegmentBytes: 1 << 20, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendReadings(t, l, 0, 3)
	store := &fakeStore{}
	d := testDir()
	w := NewWriter(WriterConfig{BatchPoints: 10, BatchWait: time.Hour}, l, SessionTelemetry,
		func() Directory { return d }, store, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	appendReadings(t, l, 3, 3)
	appendReadings(t, l, 6, 4)
	deadline := time.Now().Add(10 * time.Second)
	for l.Backlog(ConsumerWriter) > 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.calls != 1 || len(store.lines) != 10 {
		t.Fatalf("%d writes of %d points in all, want 1 write of 10", store.calls, len(store.lines))
	}
}

func BenchmarkSortSeries(b *testing.B) {
	// A batch of 5,000 single readings of 10,000 devices in arrival order:
	// the line protocol alone, then with the batch sorted by series.
	loc := Location{District: "d-1", Street: "s-1", Community: "c-1", Building: "b-1", Unit: "u-1"}
	var recs [][]byte
	for i := range 5000 {
		var r devices.Reading
		r.TS, r.Seq = 1_800_000_000_000, uint64(i)
		r.Put(devices.FieldPower, 123.4)
		r.Put(devices.FieldVoltage, 229.8)
		r.Put(devices.FieldCurrent, 0.61)
		dev := "m-" + strconv.Itoa((i*7919)%10000)
		recs = append(recs, record.AppendReadings(nil, 1, "gw-1", dev, devices.KindMeter, []devices.Reading{r}))
	}
	for _, sorted := range []bool{false, true} {
		name := "build"
		if sorted {
			name = "build+sort"
		}
		b.Run(name, func(b *testing.B) {
			var lp lineBuilder
			var spare []byte
			dec := record.NewDecoder()
			b.ReportAllocs()
			for b.Loop() {
				lp.reset()
				for _, rb := range recs {
					rec, err := dec.Decode(rb)
					if err != nil {
						b.Fatal(err)
					}
					lp.reading(rec, &rec.Readings[0], &loc)
				}
				if sorted {
					lp.sortSeries(&spare)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/point")
		})
	}
}

// TestWriterTouchesAndCheckpointsBeforeTheCursor: readings and events mark
// their hours, the checkpoint runs while the batch is still in the log, and
// a failing checkpoint keeps the cursor where it was.
func TestWriterTouchesAndCheckpointsBeforeTheCursor(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpoint fails=%v", fail), func(t *testing.T) {
			l, err := wal.Open(t.TempDir(), wal.Options{Consumers: []string{ConsumerWriter}, SegmentBytes: 1 << 20, MaxBytes: 64 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var r devices.Reading
			r.TS, r.Seq = 1_800_000_000_000, 1
			r.Put(devices.FieldPower, 5)
			ev := devices.Event{TS: 1_800_000_360_000, Seq: 2, Type: devices.EventSmokeAlarm}
			for _, rec := range [][]byte{
				record.AppendReadings(nil, 1, "gw-1", "m-1", devices.KindMeter, []devices.Reading{r}),
				record.AppendEvents(nil, 1, "gw-1", "m-1", devices.KindMeter, []devices.Event{ev}),
			} {
				if _, err := l.Append(rec); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var touched []string
			var backlogAtCheckpoint []int64
			store := &fakeStore{}
			d := testDir()
			w := NewWriter(WriterConfig{BatchWait: -1,
				Touch: func(m string, ts int64) {
					mu.Lock()
					defer mu.Unlock()
					touched = append(touched, fmt.Sprintf("%s@%d", m, ts))
				},
				Checkpoint: func() error {
					mu.Lock()
					defer mu.Unlock()
					backlogAtCheckpoint = append(backlogAtCheckpoint, l.Backlog(ConsumerWriter))
					if fail {
						return errors.New("disk full")
					}
					return nil
				},
			}, l, SessionTelemetry, func() Directory { return d }, store, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				mu.Lock()
				n := len(backlogAtCheckpoint)
				mu.Unlock()
				if n > 0 && (fail || l.Backlog(ConsumerWriter) == 0) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"meter@1800000000000", "event@1800000360000"}; !slices.Equal(touched, want) {
				t.Errorf("touched %v, want %v", touched, want)
			}
			if len(backlogAtCheckpoint) == 0 || backlogAtCheckpoint[0] == 0 {
				t.Errorf("checkpoint saw backlogs %v: it must run before the cursor moves", backlogAtCheckpoint)
			}
			if got := l.Backlog(ConsumerWriter); fail && got == 0 {
				t.Error("the cursor moved although the checkpoint failed")
			} else if !fail && got != 0 {
				t.Errorf("%d bytes left in the log after a good checkpoint", got)
			}
		})
	}
}
