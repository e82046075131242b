package ingest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// fakeMsg is an mqtt.Message that records when paho would acknowledge it
// (Ack): the messages takePublish leaves to paho.
type fakeMsg struct {
	topic   string
	payload []byte
	acked   *[]string
	id      string
	mid     uint16
	qos     byte
}

func (m *fakeMsg) Duplicate() bool   { return false }
func (m *fakeMsg) Qos() byte         { return m.qos }
func (m *fakeMsg) Retained() bool    { return false }
func (m *fakeMsg) Topic() string     { return m.topic }
func (m *fakeMsg) MessageID() uint16 { return m.mid }
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

// connect stands for paho dialing a new connection.
func connect(s *session) (*ackConn, *recConn) {
	rc := &recConn{}
	c := newAckConn(rc, s.takePublish)
	s.conn.Store(c)
	return c, rc
}

// deliver stands for a PUBLISH arriving on c.
func deliver(t *testing.T, s *session, c *ackConn, topic string, payload []byte, id uint16, qos byte) {
	t.Helper()
	if !s.takePublish(c, []byte(topic), payload, id, qos) {
		t.Fatalf("the session left a QoS %d message on %s to paho", qos, topic)
	}
}

func reading(seq uint64) []byte {
	r := devices.Reading{TS: time.Now().UnixMilli(), Seq: seq}
	r.Put(devices.FieldPower, 1)
	return devices.AppendTelemetry(nil, []devices.Reading{r})
}

func pubacks(ids ...uint16) []byte {
	var b []byte
	for _, id := range ids {
		b = appendPuback(b, id)
	}
	return b
}

const topicM1 = "cw/v1/gw-1/m-1/telemetry"

// TestAcksInOrderAfterSyncAndNeverAcrossConnections: acks go out in arrival
// order only after the log is synced, in one write per group, and a
// message received on an earlier connection is never acked on a later one
// (its packet id may be reused).
func TestAcksInOrderAfterSyncAndNeverAcrossConnections(t *testing.T) {
	fs := wal.NewMemFS()
	s, l := testSession(t, fs)
	c1, r1 := connect(s)
	for i := range 3 {
		deliver(t, s, c1, topicM1, reading(uint64(i+1)), uint16(i+1), 1)
	}
	if n, _ := r1.all(); n != 0 {
		t.Fatalf("%d writes to the broker before the log was synced", n)
	}
	// The connection drops and comes back before the acker runs; the new
	// connection reuses packet id 1.
	c2, r2 := connect(s)
	deliver(t, s, c2, topicM1, reading(4), 1, 1)
	deliver(t, s, c2, topicM1, reading(5), 7, 1)
	s.syncAndAck(s.takeQueued(nil))
	if n, got := r2.all(); n != 1 || !bytes.Equal(got, pubacks(1, 7)) {
		t.Fatalf("the new connection got %d writes: % x, want one write of the PUBACKs of its two messages: % x", n, got, pubacks(1, 7))
	}
	if n, got := r1.all(); n != 0 {
		t.Fatalf("the old connection got % x: messages of connection 1 must not be acked after it dropped", got)
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

// TestAckByQoS: QoS 1 gets a PUBACK from the acker and QoS 0 nothing;
// QoS 2 (which a QoS 1 subscription never receives) and $SYS topics are
// left to paho, and a QoS 2 message paho hands over is acked through paho.
// The PUBACKs keep arrival order around them.
func TestAckByQoS(t *testing.T) {
	s, l := testSession(t, wal.NewMemFS())
	defer l.Close()
	c, rc := connect(s)
	deliver(t, s, c, topicM1, reading(1), 10, 1)
	deliver(t, s, c, topicM1, reading(2), 11, 0)
	for _, tc := range []struct {
		topic string
		qos   byte
	}{{topicM1, 2}, {"$SYS/broker/publish/messages/dropped", 0}} {
		if s.takePublish(c, []byte(tc.topic), []byte("1"), 12, tc.qos) {
			t.Errorf("the session took a QoS %d message on %s, want it left to paho", tc.qos, tc.topic)
		}
	}
	var acked []string
	s.handleMessage(nil, &fakeMsg{topic: topicM1, payload: reading(3), acked: &acked, id: "q2", mid: 12, qos: 2})
	deliver(t, s, c, topicM1, reading(4), 13, 1)
	s.syncAndAck(s.takeQueued(nil))
	if _, got := rc.all(); !bytes.Equal(got, pubacks(10, 13)) {
		t.Errorf("the broker got % x, want the PUBACKs of the QoS 1 messages % x", got, pubacks(10, 13))
	}
	if join(acked) != "q2" {
		t.Errorf("paho acked %v, want only the QoS 2 message", acked)
	}
}

// TestAckerFinalRound: when the session stops, the acker syncs and acks
// everything handled before it returns.
func TestAckerFinalRound(t *testing.T) {
	s, l := testSession(t, wal.NewMemFS())
	defer l.Close()
	s.syncEvery = time.Hour // only the stop can end the group commit wait
	c, rc := connect(s)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		s.acker(stop)
	}()
	var want []uint16
	for i := range 100 {
		deliver(t, s, c, topicM1, reading(uint64(i+1)), uint16(i+1), 1)
		want = append(want, uint16(i+1))
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	close(stop)
	<-done
	if _, got := rc.all(); !bytes.Equal(got, pubacks(want...)) {
		t.Fatalf("after the stop the broker got %d bytes of PUBACKs, want all 100 in order", len(got))
	}
	if d := l.Durable(); d == 0 {
		t.Fatal("acked without syncing the log")
	}
}

// TestPendingAcksBounded: the handler waits while maxPendingAcks messages
// wait for the acker, gives up (without acking) when the session stops,
// and goes on once the acker has taken the queue.
func TestPendingAcksBounded(t *testing.T) {
	s, l := testSession(t, wal.NewMemFS())
	defer l.Close()
	for range maxPendingAcks {
		s.enqueue(ackItem{})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.ctx = ctx
	s.enqueue(ackItem{pos: 1}) // the queue is full and the session stops: dropped
	if len(s.queue) != maxPendingAcks {
		t.Fatalf("%d pending, want the bound %d", len(s.queue), maxPendingAcks)
	}
	s.ctx = context.Background()
	if got := s.takeQueued(nil); len(got) != maxPendingAcks {
		t.Fatalf("took %d, want %d", len(got), maxPendingAcks)
	}
	s.enqueue(ackItem{pos: 2})
	if len(s.queue) != 1 || s.queue[0].pos != 2 {
		t.Fatalf("after the take the queue holds %v, want the one new item", s.queue)
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

// loopReader replays the same bytes forever.
type loopReader struct {
	b   []byte
	off int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

// BenchmarkInbound is the session's whole hot path per single-reading QoS 1
// message, as the broker sends it: read and parse the PUBLISH, validate
// and decode, append to the log, queue the ack; every 64 messages a group
// commit (the log on MemFS: no real fsync) and one write of their PUBACKs.
func BenchmarkInbound(b *testing.B) {
	l, err := wal.Open("/wal", wal.Options{FS: wal.NewMemFS(), Consumers: []string{ConsumerWriter}, SegmentBytes: 64 << 20, MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	m := NewMetrics(prometheus.NewRegistry())
	var d Directory = testDir() // boxed once, as the registry's one-pointer Directory needs no boxing
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := newProcessor(func() Directory { return d }, devices.DefaultLimits(), time.Now, m, NewSeqTracker(m), logger)
	s := newSession(SessionTelemetry, nil, BrokerConfig{}, l, p, m, logger)
	s.ctx = context.Background()
	var wire bytes.Buffer
	for i := range 64 {
		pkt := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		pkt.TopicName, pkt.Qos, pkt.MessageID = topicM1, 1, uint16(i+1)
		r := devices.Reading{TS: time.Now().UnixMilli(), Seq: uint64(i + 1)} // handled as received now
		for _, f := range []struct {
			f devices.Field
			v float64
		}{{devices.FieldVoltage, 229.8}, {devices.FieldCurrent, 0.52}, {devices.FieldPower, 112.4}, {devices.FieldEnergy, 1234.56}} {
			r.Put(f.f, f.v)
		}
		pkt.Payload = devices.AppendTelemetry(nil, []devices.Reading{r})
		if err := pkt.Write(&wire); err != nil {
			b.Fatal(err)
		}
	}
	rc := &recConn{in: &loopReader{b: wire.Bytes()}}
	c := newAckConn(rc, s.takePublish)
	s.conn.Store(c)
	var batch []ackItem
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := c.readPacket(); err != nil || len(c.pass) > 0 {
			b.Fatalf("read: %v, %d bytes left to paho", err, len(c.pass))
		}
		if n++; n%64 == 0 {
			if len(s.queue) != 64 {
				b.Fatalf("%d of 64 messages queued for an ack", len(s.queue))
			}
			batch = s.takeQueued(batch)
			s.syncAndAck(batch)
			if len(rc.writes) != 1 || len(rc.writes[0]) != 64*4 {
				b.Fatalf("%d writes to the broker, want one of 64 PUBACKs", len(rc.writes))
			}
			rc.writes = rc.writes[:0]
		}
	}
}
