// Package publish sends a simulated city's traffic to an MQTT broker the
// way real gateways do: one paho client per gateway, whose username and
// client id are the gateway id, with the Last Will {"online":false}
// retained on cw/v1/{gw}/{gw}/status and a retained online status
// published on every connect. Messages are encoded by package devices, sent
// with the configured QoS, and counted as published and acknowledged; the
// number of unacknowledged messages is bounded, so a slow broker slows the
// simulation instead of growing memory.
//
// In live mode a gateway's simulated network outage really drops its TCP
// connection (so the broker publishes its Last Will) and reconnects when
// the outage ends; in other modes outages are only gaps and replays in the
// data.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/city"
)

// Config configures a Publisher.
type Config struct {
	Broker   string                 // e.g. tcp://127.0.0.1:1883
	QoS      byte                   // 0 or 1 for telemetry and events (status is always QoS 1)
	InFlight int                    // messages sent and not yet acknowledged, in total (default 1000)
	Password func(gw string) string // MQTT password of a gateway; nil for none
	Live     bool                   // act out gateway outages on the connection (Last Will)
	Log      *slog.Logger
	// Now stamps the online status published on connect; time.Now when nil.
	Now func() time.Time
}

// Stats count what was published.
type Stats struct {
	Published int64 // handed to the broker connection
	Acked     int64 // acknowledged by the broker (PUBACK for QoS 1; written for QoS 0)
	Failed    int64 // publish failed (connection lost, timeout)
	Clients   int   // connected clients
}

// Publisher publishes a city's messages.
type Publisher struct {
	cfg     Config
	sem     chan struct{}
	mu      sync.Mutex
	clients map[string]*client

	published, acked, failed atomic.Int64
	wg                       sync.WaitGroup
	lastLog                  atomic.Int64 // throttles the log of failures to one line a second
}

type client struct {
	p      *Publisher
	id     string
	c      mqtt.Client
	tokens chan mqtt.Token

	mu      sync.Mutex
	conn    *dropConn // the current TCP connection, to drop it for a Last Will
	pending sync.WaitGroup
}

// dropConn is a connection that can be cut like a lost link. paho treats
// "use of closed network connection" as its own deliberate close and would
// not notice, so reads after a drop fail with errOutage instead.
type dropConn struct {
	net.Conn
	dropped atomic.Bool
}

var errOutage = errors.New("simulated network outage")

func (c *dropConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.dropped.Load() {
		return n, errOutage
	}
	return n, err
}

func (c *dropConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil && c.dropped.Load() {
		return n, errOutage
	}
	return n, err
}

func (c *dropConn) drop() {
	c.dropped.Store(true)
	c.Conn.Close()
}

// New returns a publisher; Connect starts its clients.
func New(cfg Config) *Publisher {
	if cfg.InFlight <= 0 {
		cfg.InFlight = 1000
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Publisher{cfg: cfg, sem: make(chan struct{}, cfg.InFlight), clients: map[string]*client{}}
}

// Connect connects a client for each gateway, a few at a time, and
// publishes their retained online status.
func (p *Publisher) Connect(ctx context.Context, gateways []*city.Gateway) error {
	const parallel = 16
	errc := make(chan error, len(gateways))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, g := range gateways {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c := p.newClient(g.ID, g.StatusTopic())
			if err := c.connect(ctx); err != nil {
				errc <- fmt.Errorf("gateway %q: %w", g.ID, err)
				return
			}
			p.mu.Lock()
			p.clients[g.ID] = c
			p.mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (p *Publisher) newClient(id, statusTopic string) *client {
	c := &client{p: p, id: id, tokens: make(chan mqtt.Token, p.cfg.InFlight)}
	o := mqtt.NewClientOptions().AddBroker(p.cfg.Broker).
		SetClientID(id).SetUsername(id).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetKeepAlive(30*time.Second).
		SetConnectTimeout(10*time.Second).
		SetWriteTimeout(10*time.Second).
		SetBinaryWill(statusTopic, devices.LastWill, 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			p.cfg.Log.Warn("connection lost", "gateway", id, "err", err)
		}).
		SetOnConnectHandler(func(mc mqtt.Client) {
			st := devices.AppendStatus(nil, devices.Status{Online: true, TS: p.cfg.Now().UnixMilli(), Clock: devices.ClockSynced})
			c.publish(statusTopic, 1, true, st)
		}).
		SetCustomOpenConnectionFn(func(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			conn, err := net.DialTimeout("tcp", uri.Host, 10*time.Second)
			if err != nil {
				return nil, err
			}
			dc := &dropConn{Conn: conn}
			c.mu.Lock()
			c.conn = dc
			c.mu.Unlock()
			return dc, nil
		})
	if p.cfg.Password != nil {
		o.SetPassword(p.cfg.Password(id))
	}
	c.c = mqtt.NewClient(o)
	p.wg.Add(1)
	go c.ackLoop()
	return c
}

func (c *client) connect(ctx context.Context) error {
	tok := c.c.Connect()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ackLoop waits for this client's publishes in order, counting acks and
// freeing in-flight slots.
func (c *client) ackLoop() {
	defer c.p.wg.Done()
	for tok := range c.tokens {
		<-tok.Done()
		if err := tok.Error(); err != nil {
			c.p.failed.Add(1)
			c.p.logErr(err)
		} else {
			c.p.acked.Add(1)
		}
		<-c.p.sem
		c.pending.Done()
	}
}

func (p *Publisher) logErr(err error) {
	now := time.Now().UnixNano()
	if last := p.lastLog.Load(); now-last > int64(time.Second) && p.lastLog.CompareAndSwap(last, now) {
		p.cfg.Log.Warn("publish failed", "err", err, "failed_total", p.failed.Load())
	}
}

func (c *client) publish(topic string, qos byte, retained bool, payload []byte) {
	c.p.sem <- struct{}{}
	c.pending.Add(1)
	c.p.published.Add(1)
	c.tokens <- c.c.Publish(topic, qos, retained, payload)
}

// Publish sends one message. It blocks while the in-flight bound is
// reached. Gateway status messages from the simulation are only acted on
// in live mode: offline drops the connection (the broker then publishes
// the Last Will), online reconnects (publishing the online status).
func (p *Publisher) Publish(ctx context.Context, m *city.Message) error {
	p.mu.Lock()
	c := p.clients[m.Gateway.ID]
	p.mu.Unlock()
	if c == nil {
		return fmt.Errorf("gateway %q is not connected: call Connect first", m.Gateway.ID)
	}
	if m.Channel == devices.ChannelStatus {
		if !p.cfg.Live {
			return nil
		}
		if !m.Status.Online {
			c.drop()
			return nil
		}
		if !c.c.IsConnected() {
			if err := c.connect(ctx); err != nil {
				p.cfg.Log.Warn("reconnect failed", "gateway", c.id, "err", err)
				return nil
			}
		}
		c.publish(m.Topic(), 1, true, m.AppendPayload(nil))
		return nil
	}
	if !c.c.IsConnected() && p.cfg.Live {
		// back after an outage we did not simulate (the broker restarted):
		// try once, then count the message as failed
		if err := c.connect(ctx); err != nil {
			p.failed.Add(1)
			p.logErr(err)
			return nil
		}
	}
	c.publish(m.Topic(), p.cfg.QoS, false, m.AppendPayload(nil))
	return nil
}

// drop waits (briefly) for the client's messages in flight, then closes its
// TCP connection without DISCONNECT, so the broker publishes its will.
func (c *client) drop() {
	done := make(chan struct{})
	go func() { c.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	c.mu.Lock()
	if c.conn != nil {
		c.conn.drop()
	}
	c.mu.Unlock()
	// paho notices the closed connection; wait until it gives up the session
	deadline := time.Now().Add(5 * time.Second)
	for c.c.IsConnectionOpen() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// Stats returns the counters so far.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	n := 0
	for _, c := range p.clients {
		if c.c.IsConnectionOpen() {
			n++
		}
	}
	p.mu.Unlock()
	return Stats{Published: p.published.Load(), Acked: p.acked.Load(), Failed: p.failed.Load(), Clients: n}
}

// Close waits up to grace for outstanding acknowledgements, publishes each
// gateway's retained offline status (the simulation ends, so its gateways
// are gone) and disconnects.
func (p *Publisher) Close(grace time.Duration) Stats {
	p.mu.Lock()
	clients := make([]*client, 0, len(p.clients))
	for _, c := range p.clients {
		clients = append(clients, c)
	}
	p.mu.Unlock()
	for _, c := range clients {
		if c.c.IsConnectionOpen() {
			c.publish(devices.TopicFor(c.id, c.id, devices.ChannelStatus), 1, true, devices.LastWill)
		}
	}
	done := make(chan struct{})
	go func() {
		for _, c := range clients {
			c.pending.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
	for _, c := range clients {
		c.c.Disconnect(250)
		close(c.tokens)
	}
	p.wg.Wait()
	return p.Stats()
}
