package ingest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// Session names: telemetry runs on its own MQTT session and log; events
// and status share another, so a smoke alarm never queues behind readings.
const (
	SessionTelemetry = "telemetry"
	SessionEvents    = "events"
)

// Directory tells the ingester who a device is. The registry implements it;
// lookups are on the hot path and must not block.
type Directory interface {
	// Device returns a registered device.
	Device(id string) (DeviceEntry, bool)
	// GatewayKnown reports whether a gateway is registered.
	GatewayKnown(id string) bool
}

// DeviceEntry is what ingest needs to know about a device.
type DeviceEntry struct {
	Kind    devices.Kind
	Gateway string
	Ports   int // ports of a pile; readings of a multi-port pile must name their port
	Loc     Location
}

// Location holds the tags of a device's place.
type Location struct {
	District, Street, Community, Building, Unit string
}

// BrokerConfig says how a session connects.
type BrokerConfig struct {
	URL      string // tcp://host:port, ssl://host:port
	ClientID string // fixed, so the persistent session survives restarts
	Username string
	Password string
	// TLS configures ssl:// URLs: the CAs to trust (nil RootCAs: the
	// system's) and an optional client certificate. nil uses the defaults.
	TLS       *tls.Config
	KeepAlive time.Duration
}

// ackItem is one received message waiting for its record to be durable.
type ackItem struct {
	msg      mqtt.Message // nil when taken from the connection (takePublish)
	conn     *ackConn     // the connection it arrived on: its PUBACK goes there or nowhere
	id       uint16       // packet id
	qos      byte
	pos      wal.Pos
	received time.Time
}

// maxPendingAcks bounds the messages handled and not yet acknowledged; at
// the bound the handler waits for the acker, and paho stops reading.
const maxPendingAcks = 1 << 16

// session consumes one MQTT session into one durable log. Messages are
// handled one at a time in arrival order, on the connection's reading
// goroutine (takePublish; paho's router with SetOrderMatters for the few it
// leaves to paho), and acknowledged in the same order by the acker once
// their records are durable [MQTT-4.6.0-2].
type session struct {
	name    string
	filters map[string]byte
	broker  BrokerConfig
	log     *wal.Log
	proc    *processor
	metrics *Metrics
	logger  *slog.Logger

	// conn is the broker connection most recently dialed. Paho dials a new
	// connection only after its router has handled every message of the
	// previous one (stopCommsWorkers waits for it), so for a message paho
	// hands over it is the connection the message arrived on.
	conn        atomic.Pointer[ackConn]
	connections atomic.Uint64 // CONNACKs received, for logs and the reconnect count
	mu          sync.Mutex    // serialises handling with shutdown
	closed      bool
	ctx         context.Context
	client      mqtt.Client
	ready       atomic.Bool

	// The hand-off from the handler to the acker: a bounded queue that the
	// acker takes whole once per group commit. wake is signalled when the
	// queue becomes non-empty, space when the acker has emptied it.
	qmu   sync.Mutex
	queue []ackItem
	wake  chan struct{}
	space chan struct{}
	acks  []byte // the acker's PUBACKs of one group

	// extra handlers for non-contract topics ($SYS).
	extra map[string]mqtt.MessageHandler
	// received counts messages (resolved once: WithLabelValues hashes).
	received prometheus.Counter
	// syncEvery is the least time between two group-commit fsyncs: acks
	// wait up to this long so that one fsync serves more messages.
	syncEvery time.Duration
	// unsafeAck acks on receipt, before the record is durable. It exists
	// only as the negative control of the durability tests.
	unsafeAck bool
}

func newSession(name string, filters []string, bc BrokerConfig, l *wal.Log, p *processor, m *Metrics, logger *slog.Logger) *session {
	f := map[string]byte{}
	for _, t := range filters {
		f[t] = 1
	}
	return &session{name: name, filters: f, broker: bc, log: l, proc: p, metrics: m,
		logger: logger.With("session", name), wake: make(chan struct{}, 1), space: make(chan struct{}, 1), extra: map[string]mqtt.MessageHandler{},
		received: m.Received.WithLabelValues(name)}
}

// run connects and consumes until ctx ends, then acks what is durable and
// disconnects. Messages not acked are redelivered by the broker to the next
// connection of this persistent session.
func (s *session) run(ctx context.Context) error {
	s.ctx = ctx
	opts := mqtt.NewClientOptions().
		AddBroker(s.broker.URL).
		SetClientID(s.broker.ClientID).
		SetUsername(s.broker.Username).
		SetPassword(s.broker.Password).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetCustomOpenConnectionFn(s.dial).
		SetStore(noStore{}).
		SetKeepAlive(s.keepAlive()).
		SetDefaultPublishHandler(s.handleMessage).
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			s.ready.Store(false)
			s.metrics.Connected.WithLabelValues(s.name).Set(0)
			s.logger.Warn("lost connection to broker; reconnecting", "err", err)
		})
	if s.broker.TLS != nil {
		opts.SetTLSConfig(s.broker.TLS) // dialBuffered dials with it
	}
	s.client = mqtt.NewClient(opts)
	s.client.Connect() // with ConnectRetry it keeps trying in the background

	stop, ackDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ackDone)
		s.acker(stop)
	}()
	<-ctx.Done()
	s.mu.Lock()
	s.closed = true // no message is handled after this
	s.mu.Unlock()
	close(stop) // the acker's final round acks everything handled
	<-ackDone
	s.client.Disconnect(250)
	s.ready.Store(false)
	s.metrics.Connected.WithLabelValues(s.name).Set(0)
	return nil
}

func (s *session) keepAlive() time.Duration {
	if s.broker.KeepAlive > 0 {
		return s.broker.KeepAlive
	}
	return 30 * time.Second
}

// dial opens a connection for paho and makes it the one acks go to.
func (s *session) dial(uri *url.URL, opts mqtt.ClientOptions) (net.Conn, error) {
	take := s.takePublish
	if s.unsafeAck {
		take = nil // the negative control acks through paho on receipt
	}
	c, err := dialConn(uri, opts, take)
	if err != nil {
		return nil, err
	}
	s.conn.Store(c)
	return c, nil
}

func (s *session) onConnect(c mqtt.Client) {
	n := s.connections.Add(1)
	if n > 1 {
		s.metrics.Reconnects.WithLabelValues(s.name).Inc()
	}
	s.logger.Info("connected to broker", "broker", s.broker.URL, "client_id", s.broker.ClientID, "connection", n)
	// The session is persistent, so the broker remembers subscriptions;
	// subscribing again is harmless and covers a broker that lost its state.
	if t := c.SubscribeMultiple(s.filters, nil); t.WaitTimeout(10*time.Second) && t.Error() != nil {
		s.logger.Error("subscribe failed", "err", t.Error())
	}
	for topic, h := range s.extra {
		c.Subscribe(topic, 0, h)
	}
	s.ready.Store(true)
	s.metrics.Connected.WithLabelValues(s.name).Set(1)
}

// takePublish handles a PUBLISH on the connection's reading goroutine,
// before paho sees it. It leaves to paho the $SYS topics (their handlers
// are paho's) and QoS 2, which a QoS 1 subscription never receives.
func (s *session) takePublish(c *ackConn, topic, payload []byte, id uint16, qos byte) bool {
	if qos > 1 || len(topic) == 0 || topic[0] == '$' {
		return false
	}
	t := string(topic)
	if !strings.HasPrefix(t, devices.TopicPrefix) {
		// Adapters (foreign topics) may keep what they are given; the
		// contract path copies what it keeps.
		payload = bytes.Clone(payload)
	}
	s.handle(t, payload, id, qos, c, nil)
	return true
}

// handleMessage is paho's handler, for the messages takePublish leaves to
// paho (and all of them with unsafeAck).
func (s *session) handleMessage(_ mqtt.Client, msg mqtt.Message) {
	s.handle(msg.Topic(), msg.Payload(), msg.MessageID(), msg.Qos(), s.conn.Load(), msg)
}

// handle stores one message and queues its acknowledgement; one message at
// a time, in arrival order. msg is paho's message, nil when taken from the
// connection.
func (s *session) handle(topic string, payload []byte, id uint16, qos byte, conn *ackConn, msg mqtt.Message) {
	received := time.Now()
	s.received.Inc()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // not acked: redelivered to the next connection
	}
	rec := s.proc.process(topic, payload, received)
	var pos wal.Pos
	for _, r := range rec {
		p, err := s.appendWait(r)
		if err != nil {
			s.logger.Error("cannot store message; not acknowledging it", "topic", topic, "err", err)
			return
		}
		pos = p
	}
	if len(rec) == 0 {
		pos = 0 // nothing to store (e.g. a duplicate retained status): ack at once after earlier ones
	}
	if s.unsafeAck && msg != nil {
		msg.Ack()
		return
	}
	s.enqueue(ackItem{msg: msg, conn: conn, id: id, qos: qos, pos: pos, received: received})
}

// enqueue hands a message to the acker, waiting while maxPendingAcks are
// pending. If the session stops meanwhile the message is not acked (the
// broker redelivers it; its record may be in the log twice, which seq
// accounting counts as a duplicate).
func (s *session) enqueue(it ackItem) {
	s.qmu.Lock()
	for len(s.queue) >= maxPendingAcks {
		s.qmu.Unlock()
		select {
		case <-s.space:
		case <-s.ctx.Done():
			return
		}
		s.qmu.Lock()
	}
	s.queue = append(s.queue, it)
	first := len(s.queue) == 1
	s.qmu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// takeQueued returns everything queued, in arrival order, leaving the queue empty
// (batch's array becomes the next queue).
func (s *session) takeQueued(batch []ackItem) []ackItem {
	s.qmu.Lock()
	out := s.queue
	s.queue = batch[:0]
	s.qmu.Unlock()
	select {
	case s.space <- struct{}{}:
	default:
	}
	return out
}

// appendWait appends a record, waiting while the log is full. While it
// waits nothing is acked, so the broker holds the backlog.
func (s *session) appendWait(rec []byte) (wal.Pos, error) {
	full := false
	defer func() {
		if full {
			s.metrics.LogFull.WithLabelValues(s.name).Set(0)
			s.logger.Info("durable log has room again; acknowledging resumes")
		}
	}()
	for {
		p, err := s.log.Append(rec)
		if !errors.Is(err, wal.ErrFull) {
			return p, err
		}
		if !full {
			full = true
			s.metrics.LogFull.WithLabelValues(s.name).Set(1)
			s.logger.Warn("durable log is full: holding acknowledgements so the broker keeps the backlog; check that InfluxDB is reachable",
				"log_bytes", s.log.Bytes(), "max_bytes", s.log.MaxBytes())
		}
		// Wake at least every 5 s to try again (space may also come from
		// a consumer commit that raced with the check above).
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		_ = s.log.WaitSpace(ctx)
		cancel()
		if s.ctx.Err() != nil {
			return 0, s.ctx.Err()
		}
	}
}

// acker syncs the log once for all messages handled so far (group commit)
// and acknowledges them in arrival order. When stop closes, no message is
// handled any more: it acks what is left and returns.
func (s *session) acker(stop <-chan struct{}) {
	var batch []ackItem
	var lastSync time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-s.wake:
		case <-stop:
			if batch = s.takeQueued(batch); len(batch) > 0 {
				s.syncAndAck(batch)
			}
			return
		}
		// Group commit: let more messages join this fsync, but no later
		// than syncEvery after the previous one.
		if wait := s.syncEvery - time.Since(lastSync); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-stop:
				timer.Stop()
			}
		}
		if batch = s.takeQueued(batch); len(batch) > 0 {
			s.syncAndAck(batch)
			lastSync = time.Now()
		}
		clear(batch) // let the messages go
	}
}

// syncAndAck makes the batch durable and acknowledges it: the PUBACKs of
// the messages that arrived on the current connection go out in one write,
// in arrival order. A message of an earlier connection is never acked: its
// packet id may be reused on this one, and the broker redelivers it.
func (s *session) syncAndAck(batch []ackItem) {
	start := time.Now()
	durable, err := s.log.Sync()
	s.metrics.StageDuration.WithLabelValues(s.name).Observe(time.Since(start).Seconds())
	if err != nil {
		s.logger.Error("fsync of the durable log failed; not acknowledging", "err", err)
		return
	}
	conn := s.conn.Load()
	now := time.Now()
	acks := s.acks[:0]
	for _, it := range batch {
		if it.pos > durable {
			// Cannot happen: Sync covers everything appended before it.
			panic(fmt.Sprintf("ingest: record at %v not durable after sync to %v", it.pos, durable))
		}
		if it.conn != conn {
			continue
		}
		switch {
		case it.qos == 0: // nothing to acknowledge
		case it.qos == 1:
			acks = appendPuback(acks, it.id)
		case it.msg != nil:
			// QoS 2 cannot arrive (the subscriptions are QoS 1); if a broker
			// sends it anyway, paho runs its flow.
			it.msg.Ack()
		}
		s.metrics.AckLatency.Observe(now.Sub(it.received).Seconds())
	}
	s.acks = acks
	if len(acks) > 0 && conn != nil {
		if _, err := conn.Write(acks); err != nil {
			s.logger.Warn("could not acknowledge to the broker; it redelivers on the next connection", "err", err)
		}
	}
}
