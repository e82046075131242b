// Package ingest is chargewatch's MQTT ingester. Two persistent MQTT
// sessions (telemetry; events and status) validate every message against the
// wire contract and the registry, append accepted items and quarantine
// records to a durable log per session, and acknowledge each message only
// after its records are fsynced (group commit). Consumers read the logs
// through their own durable cursors: the Writer streams them into InfluxDB,
// and the alerting engine reads them too. See docs/ingest.md.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// Config configures the ingester.
type Config struct {
	Broker BrokerConfig // ClientID is the base: sessions add "-telemetry" and "-events"
	// EventsBroker overrides the credentials of the events session; empty
	// fields are taken from Broker.
	EventsBroker BrokerConfig
	Influx       InfluxConfig
	DataDir      string // the durable logs live in DataDir/log/{telemetry,events}
	// TelemetryLogBytes and EventLogBytes bound the logs.
	TelemetryLogBytes int64
	EventLogBytes     int64
	SegmentBytes      int64
	Limits            devices.Limits
	Writer            WriterConfig
	// ExtraConsumers are the other readers of both logs (the alerting
	// engine: "engine"). Segments are kept until they have passed them.
	ExtraConsumers []string
	// SyncEvery is the least time between two group-commit fsyncs of a log
	// (default 2 ms for telemetry; events always sync at once). Longer
	// means fewer fsyncs and more acknowledgement latency.
	SyncEvery time.Duration
	// Adapters map the topics of devices already installed (Tasmota,
	// Shelly, Zigbee2MQTT, ThingsBoard) onto the contract; the events
	// session subscribes to their filters. nil: none.
	Adapters *adapters.Router
	// UnsafeAckBeforeFsync acknowledges messages before their records are
	// durable. Test-only: it is the negative control that proves the
	// crash tests can detect loss. Never set it in production.
	UnsafeAckBeforeFsync bool
	// DrainGrace bounds how long shutdown waits for the writers to empty
	// the logs into InfluxDB. What is left stays on disk.
	DrainGrace time.Duration
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Broker.ClientID == "" {
		c.Broker.ClientID = "chargewatch-ingest"
	}
	if c.TelemetryLogBytes == 0 {
		c.TelemetryLogBytes = 4 << 30
	}
	if c.EventLogBytes == 0 {
		c.EventLogBytes = 512 << 20
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = 64 << 20
	}
	if c.Limits.MaxPayload == 0 {
		c.Limits = devices.DefaultLimits()
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = 2 * time.Millisecond
	}
	if c.DrainGrace == 0 {
		c.DrainGrace = 10 * time.Second
	}
	if c.Influx.Database == "" {
		c.Influx.Database = "chargewatch"
	}
}

// Ingester runs the sessions and the InfluxDB writers.
type Ingester struct {
	cfg      Config
	logger   *slog.Logger
	metrics  *Metrics
	seq      *SeqTracker
	logs     map[string]*wal.Log
	sessions []*session
	writers  []*Writer
	influx   *InfluxWriter
}

// New opens the durable logs and prepares the sessions.
func New(cfg Config, dir func() Directory, reg prometheus.Registerer, logger *slog.Logger) (*Ingester, error) {
	cfg.Defaults()
	m := NewMetrics(reg)
	in := &Ingester{cfg: cfg, logger: logger, metrics: m, seq: NewSeqTracker(m), logs: map[string]*wal.Log{}}
	consumers := append([]string{ConsumerWriter}, cfg.ExtraConsumers...)
	for name, max := range map[string]int64{SessionTelemetry: cfg.TelemetryLogBytes, SessionEvents: cfg.EventLogBytes} {
		seg := min(cfg.SegmentBytes, max/4)
		l, err := wal.Open(filepath.Join(cfg.DataDir, "log", name), wal.Options{MaxBytes: max, SegmentBytes: seg, Consumers: consumers})
		if err != nil {
			in.closeLogs()
			return nil, err
		}
		in.logs[name] = l
		m.LogMaxBytes.WithLabelValues(name).Set(float64(max))
	}
	in.influx = NewInfluxWriter(cfg.Influx)
	now := time.Now
	tel := cfg.Broker
	tel.ClientID = cfg.Broker.ClientID + "-telemetry"
	ev := cfg.EventsBroker
	if ev.URL == "" {
		ev.URL = cfg.Broker.URL
	}
	if ev.Username == "" {
		ev.Username, ev.Password = cfg.Broker.Username, cfg.Broker.Password
	}
	if ev.ClientID == "" {
		ev.ClientID = cfg.Broker.ClientID + "-events"
	}
	if ev.KeepAlive == 0 {
		ev.KeepAlive = cfg.Broker.KeepAlive
	}
	if ev.TLS == nil {
		ev.TLS = cfg.Broker.TLS
	}
	telSess := newSession(SessionTelemetry, []string{devices.FilterTelemetry}, tel, in.logs[SessionTelemetry],
		newProcessor(dir, cfg.Limits, now, m, in.seq, logger), m, logger)
	evFilters := []string{devices.FilterEvent, devices.FilterStatus}
	evProc := newProcessor(dir, cfg.Limits, now, m, in.seq, logger)
	if cfg.Adapters != nil {
		evFilters = append(evFilters, cfg.Adapters.Filters()...)
		evProc.adapters = cfg.Adapters
	}
	evSess := newSession(SessionEvents, evFilters, ev, in.logs[SessionEvents], evProc, m, logger)
	evSess.extra["$SYS/broker/publish/messages/dropped"] = func(_ mqtt.Client, msg mqtt.Message) {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(msg.Payload())), 64); err == nil {
			m.BrokerDropped.Set(v)
		}
	}
	telSess.syncEvery = cfg.SyncEvery
	in.sessions = []*session{telSess, evSess}
	if cfg.UnsafeAckBeforeFsync {
		logger.Warn("UNSAFE: acknowledging MQTT messages before they are durable (test-only negative control); a crash will lose acknowledged readings")
		for _, s := range in.sessions {
			s.unsafeAck = true
		}
	}
	for _, name := range []string{SessionTelemetry, SessionEvents} {
		in.writers = append(in.writers, NewWriter(cfg.Writer, in.logs[name], name, dir, in.influx, m, logger))
	}
	return in, nil
}

// Log returns a session's durable log (SessionTelemetry or SessionEvents),
// for the other consumers.
func (in *Ingester) Log(session string) *wal.Log { return in.logs[session] }

// ForgetSeq restarts the seq accounting of the given devices (after a
// device was replaced by new hardware under the same id).
func (in *Ingester) ForgetSeq(ids ...string) { in.seq.Forget(ids...) }

// Loss returns the n devices with the most readings missing by seq.
func (in *Ingester) Loss(n int) []DeviceLoss { return in.seq.Worst(n) }

// Ready reports whether both sessions are connected and the logs writable.
func (in *Ingester) Ready() error {
	var errs []error
	for _, s := range in.sessions {
		if !s.ready.Load() {
			errs = append(errs, fmt.Errorf("%s session is not connected to the broker %s", s.name, s.broker.URL))
		}
	}
	for name, l := range in.logs {
		if l.Bytes() >= l.MaxBytes()-(1<<20) {
			errs = append(errs, fmt.Errorf("%s log is full (%d bytes): InfluxDB is behind or down", name, l.Bytes()))
		}
	}
	return errors.Join(errs...)
}

// Run consumes until ctx ends. Shutdown stops the sessions first (acking
// what is durable), then gives the writers DrainGrace to empty the logs,
// then closes them; the rest waits on disk for the next start.
func (in *Ingester) Run(ctx context.Context) error {
	defer in.closeLogs()
	defer in.influx.Close()
	if err := EnsureDatabase(ctx, in.cfg.Influx, 30*24*time.Hour, 400*24*time.Hour); err != nil {
		in.logger.Warn("could not prepare the InfluxDB database yet; the writer will retry", "err", err)
	}
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(in.writers))
	for _, w := range in.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(wctx); err != nil {
				errc <- err
			}
		}()
	}
	var sg sync.WaitGroup
	for _, s := range in.sessions {
		sg.Add(1)
		go func() {
			defer sg.Done()
			s.run(ctx)
		}()
	}
	go in.gauges(wctx)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		in.logger.Error("writer failed; stopping", "err", err)
	}
	sg.Wait()
	in.drain(in.cfg.DrainGrace)
	wcancel()
	wg.Wait()
	return err
}

// drain waits until the writers have caught up with the logs or the grace
// period ends.
func (in *Ingester) drain(grace time.Duration) {
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		var left int64
		for _, l := range in.logs {
			left += l.Backlog(ConsumerWriter)
		}
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.logger.Warn("shutdown grace ended before InfluxDB had everything; the rest stays in the durable log for the next start")
}

func (in *Ingester) gauges(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for i := 0; ; i++ {
		for name, l := range in.logs {
			in.metrics.LogBytes.WithLabelValues(name).Set(float64(l.Bytes()))
		}
		if i%10 == 0 {
			in.metrics.DevicesActive.Set(float64(in.seq.Active(time.Now().Add(-5 * time.Minute))))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (in *Ingester) closeLogs() {
	for name, l := range in.logs {
		if err := l.Close(); err != nil {
			in.logger.Error("closing durable log", "log", name, "err", err)
		}
	}
}
