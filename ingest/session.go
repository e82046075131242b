package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
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
	msg      mqtt.Message
	pos      wal.Pos
	epoch    uint64
	received time.Time
}

// session consumes one MQTT session into one durable log. Messages are
// handled in arrival order on paho's router goroutine (SetOrderMatters), and
// acknowledged in the same order by the acker once their records are
// durable [MQTT-4.6.0-2].
type session struct {
	name    string
	filters map[string]byte
	broker  BrokerConfig
	log     *wal.Log
	proc    *processor
	metrics *Metrics
	logger  *slog.Logger

	epoch  atomic.Uint64 // connection number; acks never cross connections
	acks   chan ackItem
	mu     sync.Mutex // serialises handling with shutdown
	closed bool
	ctx    context.Context
	client mqtt.Client
	ready  atomic.Bool

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
		logger: logger.With("session", name), acks: make(chan ackItem, 1<<16), extra: map[string]mqtt.MessageHandler{},
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
		SetCustomOpenConnectionFn(dialBuffered).
		SetStore(noStore{}).
		SetKeepAlive(s.keepAlive()).
		SetDefaultPublishHandler(s.handle).
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

	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		s.acker(ctx)
	}()
	<-ctx.Done()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
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

func (s *session) onConnect(c mqtt.Client) {
	n := s.epoch.Add(1)
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

// handle runs on paho's router goroutine, one message at a time in order.
func (s *session) handle(_ mqtt.Client, msg mqtt.Message) {
	received := time.Now()
	epoch := s.epoch.Load()
	s.received.Inc()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // not acked: redelivered to the next connection
	}
	rec := s.proc.process(msg.Topic(), msg.Payload(), received)
	var pos wal.Pos
	for _, r := range rec {
		p, err := s.appendWait(r)
		if err != nil {
			s.logger.Error("cannot store message; not acknowledging it", "topic", msg.Topic(), "err", err)
			return
		}
		pos = p
	}
	if len(rec) == 0 {
		pos = 0 // nothing to store (e.g. a duplicate retained status): ack at once after earlier ones
	}
	if s.unsafeAck {
		msg.Ack()
		return
	}
	select {
	case s.acks <- ackItem{msg: msg, pos: pos, epoch: epoch, received: received}:
	case <-s.ctx.Done():
	}
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

// acker syncs the log once for all messages appended so far (group
// commit) and acknowledges them in arrival order.
func (s *session) acker(ctx context.Context) {
	var batch []ackItem
	var lastSync time.Time
	for {
		select {
		case it := <-s.acks:
			batch = append(batch[:0], it)
		case <-ctx.Done():
			// Final round: whatever was handled before shutdown.
			batch = batch[:0]
		final:
			for {
				select {
				case it := <-s.acks:
					batch = append(batch, it)
				default:
					break final
				}
			}
			if len(batch) > 0 {
				s.syncAndAck(batch)
			}
			return
		}
		// Group commit: let more messages join this fsync, but no later
		// than syncEvery after the previous one.
		if wait := s.syncEvery - time.Since(lastSync); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
	drain:
		for len(batch) < cap(s.acks) {
			select {
			case it := <-s.acks:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		s.syncAndAck(batch)
		lastSync = time.Now()
	}
}

func (s *session) syncAndAck(batch []ackItem) {
	start := time.Now()
	durable, err := s.log.Sync()
	s.metrics.StageDuration.WithLabelValues(s.name).Observe(time.Since(start).Seconds())
	if err != nil {
		s.logger.Error("fsync of the durable log failed; not acknowledging", "err", err)
		return
	}
	epoch := s.epoch.Load()
	now := time.Now()
	for _, it := range batch {
		if it.pos > durable {
			// Cannot happen: Sync covers everything appended before it.
			panic(fmt.Sprintf("ingest: record at %v not durable after sync to %v", it.pos, durable))
		}
		if it.epoch != epoch {
			// Received on an earlier connection: its packet id may be reused
			// on this one, so never ack it here. The broker redelivers it.
			continue
		}
		it.msg.Ack()
		s.metrics.AckLatency.Observe(now.Sub(it.received).Seconds())
	}
}
