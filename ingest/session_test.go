package ingest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// fakeMsg is an mqtt.Message that records its acknowledgement.
type fakeMsg struct {
	topic   string
	payload []byte
	acked   *[]string
	id      string
}

func (m *fakeMsg) Duplicate() bool   { return false }
func (m *fakeMsg) Qos() byte         { return 1 }
func (m *fakeMsg) Retained() bool    { return false }
func (m *fakeMsg) Topic() string     { return m.topic }
func (m *fakeMsg) MessageID() uint16 { return 0 }
func (m *fakeMsg) Payload() []byte   { return m.payload }
func (m *fakeMsg) Ack()              { *m.acked = append(*m.acked, m.id) }

func testSession(t *testing.T, fs wal.FS) (*session, *wal.Log) {
	t.Helper()
	l, err := wal.Open("/wal", wal.Options{FS: fs, Consumers: []string{ConsumerWriter}, SegmentBytes: 1 << 20, MaxBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	d := testDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newProcessor(func() Directory { return d }, devices.DefaultLimits(), time.Now, m, NewSeqTracker(m), logger)
	s := newSession(SessionTelemetry, nil, BrokerConfig{}, l, p, m, logger)
	s.ctx = context.Background()
	return s, l
}

func reading(seq uint64) []byte {
	r := devices.Reading{TS: time.Now().UnixMilli(), Seq: seq}
	r.Put(devices.FieldPower, 1)
	return devices.AppendTelemetry(nil, []devices.Reading{r})
}

// TestAcksInOrderAfterSyncAndNeverAcrossConnections: acks go out in arrival
// order only after the log is synced, and a message received on an earlier
// connection is never acked on a later one (its packet id may be reused).
func TestAcksInOrderAfterSyncAndNeverAcrossConnections(t *testing.T) {
	fs := wal.NewMemFS()
	s, l := testSession(t, fs)
	var acked []string
	s.epoch.Store(1)
	for _, id := range []string{"a", "b", "c"} {
		s.handle(nil, &fakeMsg{topic: "cw/v1/gw-1/m-1/telemetry", payload: reading(1), acked: &acked, id: id})
	}
	if len(acked) != 0 {
		t.Fatalf("acked %v before the log was synced", acked)
	}
	// The connection drops and comes back before the acker runs.
	s.epoch.Store(2)
	s.handle(nil, &fakeMsg{topic: "cw/v1/gw-1/m-1/telemetry", payload: reading(2), acked: &acked, id: "d"})
	s.handle(nil, &fakeMsg{topic: "cw/v1/gw-1/m-1/telemetry", payload: reading(3), acked: &acked, id: "e"})
	s.syncAndAck(drainAcks(s))
	if got := join(acked); got != "d e" {
		t.Fatalf("acked %q, want \"d e\": messages of connection 1 must not be acked on connection 2", got)
	}
	fs.Crash() // a power cut right after the acks: every acked record survives
	l2, err := wal.Open("/wal", wal.Options{FS: fs, Consumers: []string{ConsumerWriter}, SegmentBytes: 1 << 20, MaxBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := l2.Reader(ConsumerWriter)
	n := 0
	for {
		_, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d records survived the crash after the sync, want 5", n)
	}
	l.Close()
}

func drainAcks(s *session) []ackItem {
	var out []ackItem
	for {
		select {
		case it := <-s.acks:
			out = append(out, it)
		default:
			return out
		}
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}
