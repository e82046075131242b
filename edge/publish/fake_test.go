package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/queue"
	"github.com/chargewatch/chargewatch/edge/record"
)

// fakeToken completes when acked.
type fakeToken struct {
	done chan struct{}
	err  error
}

func (t *fakeToken) Done() <-chan struct{} { return t.done }
func (t *fakeToken) Error() error          { return t.err }

type message struct {
	topic    string
	retained bool
	payload  string
}

// fakeBroker records what is published and acknowledged; drop tells it to
// leave the first n publishes of a connection unacknowledged.
type fakeBroker struct {
	mu       sync.Mutex
	acked    []message
	conns    int
	dropNext int // publishes of telemetry left unacknowledged
}

func (b *fakeBroker) Dial(ctx context.Context) (Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conns++
	return &fakeConn{b: b, lost: make(chan struct{})}, nil
}

type fakeConn struct {
	b    *fakeBroker
	lost chan struct{}
	once sync.Once
}

func (c *fakeConn) Publish(topic string, qos byte, retained bool, payload []byte) Token {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	t := &fakeToken{done: make(chan struct{})}
	if strings.HasSuffix(topic, "/telemetry") && c.b.dropNext > 0 {
		c.b.dropNext--
		return t // never acknowledged
	}
	c.b.acked = append(c.b.acked, message{topic, retained, string(payload)})
	close(t.done)
	return t
}

func (c *fakeConn) Lost() <-chan struct{} { return c.lost }
func (c *fakeConn) Close(time.Duration)   { c.once.Do(func() { close(c.lost) }) }

func (b *fakeBroker) messages(suffix string) []message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []message
	for _, m := range b.acked {
		if strings.HasSuffix(m.topic, suffix) {
			out = append(out, m)
		}
	}
	return out
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func meterReading(seq int) devices.Reading {
	r := devices.Reading{TS: t0.Add(time.Duration(seq) * 10 * time.Second).UnixMilli(), Seq: uint64(seq), SeqReset: seq == 1}
	for _, f := range []devices.Field{devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3, devices.FieldCurrentL1,
		devices.FieldCurrentL2, devices.FieldCurrentL3, devices.FieldPower, devices.FieldPowerL1, devices.FieldPowerL2,
		devices.FieldPowerL3, devices.FieldReactivePower, devices.FieldPF, devices.FieldFreq, devices.FieldEnergy} {
		r.Put(f, 123.456+float64(seq)/1000)
	}
	r.Put(devices.FieldPF, 0.987)
	r.Put(devices.FieldFreq, 50.01)
	return r
}

func fill(t *testing.T, q *queue.Queue, dev string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		r := meterReading(i)
		if err := q.Append(queue.Item{TS: r.TS, Data: record.Append(nil, dev, &r)}); err != nil {
			t.Fatal(err)
		}
	}
}

func newQueue(t *testing.T) *queue.Queue {
	q, err := queue.Open(t.TempDir(), queue.Options{MaxBytes: 64 << 20, Sync: queue.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// decodeAll decodes every telemetry message of dev and returns the seqs in
// arrival order, checking each message against the contract decoder.
func decodeAll(t *testing.T, msgs []message, gw, dev string) []uint64 {
	t.Helper()
	d := devices.NewDecoder(devices.DefaultLimits())
	now := t0.Add(30 * 24 * time.Hour).UnixMilli()
	d.Limits.MaxPast = 365 * 24 * time.Hour
	var seqs []uint64
	for _, m := range msgs {
		if m.topic != devices.TopicFor(gw, dev, devices.ChannelTelemetry) {
			continue
		}
		if m.retained {
			t.Errorf("telemetry published retained")
		}
		rs, errs, e := d.DecodeTelemetry(devices.KindMeter, []byte(m.payload), now, nil, nil)
		if e != nil || len(errs) > 0 {
			t.Fatalf("message rejected by the contract decoder: %v %v", e, errs)
		}
		if len(m.payload) > devices.DefaultLimits().MaxPayload || len(rs) > 500 {
			t.Fatalf("message of %d bytes, %d readings", len(m.payload), len(rs))
		}
		for _, r := range rs {
			seqs = append(seqs, r.Seq)
		}
	}
	return seqs
}

func run(t *testing.T, p *Publisher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A backlog is sent in batches of at most 500 readings and 64 KiB, per
// device, in order, each message valid for the contract decoder.
func TestBacklogBatches(t *testing.T) {
	q := newQueue(t)
	for i := 0; i < 1200; i += 100 {
		fill(t, q, "m-1", i+1, i+100)
		fill(t, q, "m-2", i/100+1, i/100+1)
	}
	b := &fakeBroker{}
	p := New(Config{Gateway: "gw-1", MaxBatch: 500, MaxInflight: 4}, b, q, nil, Options{})
	stop := run(t, p)
	waitFor(t, "the backlog", func() bool { return q.Stats().Records == 0 })
	stop()
	seqs := decodeAll(t, b.messages("/telemetry"), "gw-1", "m-1")
	if len(seqs) != 1200 {
		t.Fatalf("%d readings of m-1 arrived, want 1200", len(seqs))
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("reading %d has seq %d: out of order", i, s)
		}
	}
	if n := len(decodeAll(t, b.messages("/telemetry"), "gw-1", "m-2")); n != 12 {
		t.Fatalf("%d readings of m-2", n)
	}
	msgs := len(b.messages("m-1/telemetry"))
	t.Logf("1200 readings of a 3-phase meter in %d messages (64 KiB limit)", msgs)
	if msgs < 5 || msgs > 10 {
		t.Errorf("%d messages for 1200 readings", msgs)
	}
}

// A publish that is not acknowledged keeps its readings in the queue: they
// are published again on a new connection, from the last acknowledged one.
func TestUnacknowledgedIsRepublished(t *testing.T) {
	q := newQueue(t)
	fill(t, q, "m-1", 1, 50)
	b := &fakeBroker{dropNext: 1}
	p := New(Config{Gateway: "gw-1", MaxBatch: 10, MaxInflight: 2, AckTimeout: 100 * time.Millisecond,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 20 * time.Millisecond}, b, q, nil, Options{})
	stop := run(t, p)
	waitFor(t, "the queue to drain", func() bool { return q.Stats().Records == 0 })
	stop()
	seqs := decodeAll(t, b.messages("/telemetry"), "gw-1", "m-1")
	// The first round had its first message dropped: its second (11-20) was acknowledged
	// on the broken connection and arrives twice. Nothing is lost.
	seen := map[uint64]int{}
	for _, s := range seqs {
		seen[s]++
	}
	for s := uint64(1); s <= 50; s++ {
		if seen[s] == 0 {
			t.Fatalf("seq %d lost", s)
		}
	}
	if b.conns < 2 {
		t.Errorf("%d connections: the unacknowledged publish did not reconnect", b.conns)
	}
	if testutilValue(p.m.failures.WithLabelValues("timeout")) != 1 {
		t.Errorf("timeout failures not counted")
	}
}

func TestStatusAndGoodbye(t *testing.T) {
	q := newQueue(t)
	b := &fakeBroker{}
	depth := int64(7)
	health := func() devices.Status {
		return devices.Status{QueueDepth: &depth, Clock: devices.ClockSynced, Version: "test"}
	}
	p := New(Config{Gateway: "gw-1", StatusInterval: 50 * time.Millisecond}, b, q, health, Options{})
	stop := run(t, p)
	waitFor(t, "two status messages", func() bool { return len(b.messages("/status")) >= 2 })
	stop()
	st := b.messages("gw-1/gw-1/status")
	d := devices.NewDecoder(devices.DefaultLimits())
	first, e := d.DecodeStatus([]byte(st[0].payload), time.Now().UnixMilli())
	if e != nil || !first.Online || *first.QueueDepth != 7 || first.Clock != devices.ClockSynced || !st[0].retained {
		t.Fatalf("status %s: %v", st[0].payload, e)
	}
	if last := st[len(st)-1]; last.payload != string(devices.LastWill) || !last.retained {
		t.Fatalf("last status %q retained=%v, want the offline message", last.payload, last.retained)
	}
}

// A gateway whose clock reads 1970 says so in a status the contract accepts.
func TestUnsyncedStatusIsAccepted(t *testing.T) {
	b := &fakeBroker{}
	health := func() devices.Status { return devices.Status{Clock: devices.ClockUnsynced} }
	p := New(Config{Gateway: "gw-1"}, b, newQueue(t), health, Options{Clock: clock.NewFake(time.Unix(90, 0))})
	stop := run(t, p)
	waitFor(t, "a status", func() bool { return len(b.messages("/status")) >= 1 })
	stop()
	st := b.messages("/status")[0]
	got, e := devices.NewDecoder(devices.DefaultLimits()).DecodeStatus([]byte(st.payload), time.Now().UnixMilli())
	if e != nil || got.Clock != devices.ClockUnsynced || got.TS != 90000 {
		t.Fatalf("status %s: %v", st.payload, e)
	}
}

// Dial failures back off exponentially up to ReconnectMax.
func TestReconnectBackoff(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	d := DialerFunc(func(ctx context.Context) (Conn, error) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		return nil, errors.New("connection refused")
	})
	p := New(Config{Gateway: "gw-1", ReconnectMin: 10 * time.Millisecond, ReconnectMax: 80 * time.Millisecond}, d, newQueue(t), nil, Options{})
	stop := run(t, p)
	time.Sleep(600 * time.Millisecond)
	stop()
	mu.Lock()
	defer mu.Unlock()
	// Delays (with jitter of up to half): 10, 20, 40, 80, 80... ms.
	if len(at) < 6 || len(at) > 16 {
		t.Fatalf("%d attempts in 600 ms", len(at))
	}
	var gaps []string
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, fmt.Sprint(at[i].Sub(at[i-1]).Round(time.Millisecond)))
		if g := at[i].Sub(at[i-1]); g > 100*time.Millisecond {
			t.Errorf("gap %v beyond reconnect_max", g)
		}
	}
	t.Logf("gaps between attempts: %s", strings.Join(gaps, " "))
}

func testutilValue(c interface{ Desc() *prometheus.Desc }) float64 {
	return testutil.ToFloat64(c.(prometheus.Collector))
}
