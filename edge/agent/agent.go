// Package agent wires cw-edge together: Modbus buses poll devices, a
// stamper gives readings their seq and timestamp and appends them to the
// on-disk queue, a publisher drains the queue to the MQTT broker, and a
// small HTTP server exposes /metrics and /healthz.
//
// Shutdown (Run's ctx done) stops polling, stamps what was polled, gives the
// publisher up to ShutdownGrace to publish what is queued, says offline,
// then syncs and closes the queue: what is not published stays on disk for
// the next start.
package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/config"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/publish"
	"github.com/chargewatch/chargewatch/edge/queue"
	"github.com/chargewatch/chargewatch/internal/tlsutil"
)

// Options are the agent's collaborators. Config is required.
type Options struct {
	Config        *config.Config
	Logger        *slog.Logger
	Registry      *prometheus.Registry // nil for a private one
	Clock         clock.Clock          // nil for the system clock
	Version       string
	Dialer        publish.Dialer // nil for paho, from the config
	ShutdownGrace time.Duration  // time to publish what is queued on shutdown; 0 for 5 s
}

// Agent is a running cw-edge.
type Agent struct {
	o       Options
	c       *config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	clock   clock.Clock
	q       *queue.Queue
	buses   []*modbus.Bus
	mm      *modbus.Metrics
	pub     *publish.Publisher
	st      *stamper
	m       *agentMetrics
	started time.Duration
	addr    chan string
}

type agentMetrics struct {
	readings       prometheus.Counter
	appendErrors   prometheus.Counter
	heldDropped    prometheus.Counter
	heldDroppedNow atomic.Int64
	clockSynced    prometheus.Gauge
}

// New builds the agent and opens its queue.
func New(o Options) (*Agent, error) {
	if o.Config == nil {
		return nil, errors.New("agent: no config")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Clock == nil {
		o.Clock = clock.NewSystem()
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 5 * time.Second
	}
	c := o.Config
	a := &Agent{o: o, c: c, log: o.Logger.With("gateway", c.Gateway), reg: o.Registry, clock: o.Clock,
		started: o.Clock.Mono(), addr: make(chan string, 1)}
	maxBytes := c.QueueMaxBytes()
	q, err := queue.Open(c.Queue.Dir, queue.Options{
		MaxBytes: maxBytes, MaxAge: c.Queue.MaxAge, Sync: queue.SyncPolicy(c.Queue.Fsync),
		SyncInterval: c.Queue.FsyncInterval, Clock: o.Clock, Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	a.q = q
	a.checkDiskSpace(maxBytes)
	a.m = a.registerMetrics(maxBytes)
	a.mm = modbus.NewMetrics(a.reg)
	for _, bc := range c.ModbusBuses() {
		b, err := modbus.NewBus(bc, modbus.Options{Clock: o.Clock, Logger: a.log, Metrics: a.mm})
		if err != nil {
			q.Close()
			return nil, err
		}
		a.buses = append(a.buses, b)
	}
	a.st = newStamper(o.Clock, c.Clock.Floor.Time, c.Clock.MaxHeld, q, a.log, a.m)
	dialer := o.Dialer
	if dialer == nil {
		if dialer, err = pahoDialer(c); err != nil {
			q.Close()
			return nil, err
		}
	}
	if t := c.MQTT.TLS; t != nil && o.Dialer == nil {
		if err := watchCertificates(a.reg, t.CAFile, t.CertFile, t.KeyFile); err != nil {
			q.Close()
			return nil, fmt.Errorf("mqtt tls: %w", err)
		}
	}
	a.pub = publish.New(publish.Config{
		Gateway: c.Gateway, MaxBatch: c.MQTT.MaxBatch, MaxInflight: c.MQTT.MaxInflight, BatchWait: c.MQTT.BatchWait,
		AckTimeout: c.MQTT.AckTimeout, ReconnectMin: c.MQTT.ReconnectMin, ReconnectMax: c.MQTT.ReconnectMax,
		StatusInterval: c.MQTT.StatusInterval,
	}, dialer, q, a.Status, publish.Options{Clock: o.Clock, Logger: a.log, Registerer: a.reg})
	return a, nil
}

func pahoDialer(c *config.Config) (publish.Dialer, error) {
	pw, err := c.Password()
	if err != nil {
		return nil, fmt.Errorf("mqtt password_file: %w", err)
	}
	d := &publish.PahoDialer{URL: c.MQTT.URL, Gateway: c.Gateway, Username: c.MQTT.Username, Password: pw,
		KeepAlive: c.MQTT.KeepAlive, ConnectTimeout: c.MQTT.ConnectTimeout, WriteTimeout: c.MQTT.AckTimeout}
	if t := c.MQTT.TLS; t != nil {
		if d.TLS, err = publish.TLSFiles(t.CAFile, t.CertFile, t.KeyFile, t.ServerName, t.InsecureSkipVerify); err != nil {
			return nil, fmt.Errorf("mqtt tls: %w", err)
		}
	}
	return d, nil
}

// watchCertificates exports when the broker's CAs and the gateway's
// client certificate expire (chargewatch_tls_certificate_expiry_timestamp_seconds),
// so an expiring certificate raises the same self-monitoring alert as on
// the server instead of silently cutting the gateway off one day.
func watchCertificates(reg prometheus.Registerer, caFile, certFile, keyFile string) error {
	exp := tlsutil.NewExpiry()
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		var cas []*x509.Certificate
		for len(b) > 0 {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				cas = append(cas, c)
			}
		}
		exp.Watch(tlsutil.UseMQTTCA, func() []*x509.Certificate { return cas })
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		exp.Watch(tlsutil.UseMQTTClient, func() []*x509.Certificate { return []*x509.Certificate{pair.Leaf} })
	}
	return reg.Register(exp)
}

// checkDiskSpace warns when the queue may fill the disk before its bound.
func (a *Agent) checkDiskSpace(maxBytes int64) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(a.c.Queue.Dir, &fs); err != nil {
		return
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if free < maxBytes {
		a.log.Warn("the queue may grow beyond the free disk space: lower queue.max_bytes or free some space",
			"queue_max_bytes", maxBytes, "free_bytes", free, "dir", a.c.Queue.Dir)
	}
}

func (a *Agent) registerMetrics(maxBytes int64) *agentMetrics {
	m := &agentMetrics{
		readings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_readings_total", Help: "Readings stamped and appended to the queue.",
		}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_queue_append_errors_total", Help: "Readings lost because the queue could not be written (disk full or failing).",
		}),
		heldDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_held_dropped_readings_total", Help: "Readings dropped while holding them for an unsynchronised clock (beyond clock.max_held).",
		}),
		clockSynced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_edge_clock_synced", Help: "1 if the wall clock is believable (not before the floor), else 0.",
		}),
	}
	stats := func(f func(queue.Stats) float64) func() float64 {
		return func() float64 { return f(a.q.Stats()) }
	}
	dropped := func(reason string, f func(queue.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chargewatch_edge_queue_dropped_readings_total", ConstLabels: prometheus.Labels{"reason": reason},
			Help: "Queued readings dropped: size (max_bytes reached, oldest first), age (older than max_age), corrupt (unreadable on disk).",
		}, func() float64 { return float64(f(a.q.Stats())) })
	}
	a.reg.MustRegister(m.readings, m.appendErrors, m.heldDropped, m.clockSynced,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_queue_readings", Help: "Readings in the queue, not yet acknowledged by the broker."},
			stats(func(s queue.Stats) float64 { return float64(s.Records) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_queue_bytes", Help: "Size of the queue's files."},
			stats(func(s queue.Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_queue_max_bytes", Help: "The queue's size bound."},
			func() float64 { return float64(maxBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_queue_oldest_age_seconds", Help: "Age of the oldest reading in the queue; 0 when empty."},
			func() float64 { return a.queueAge().Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_held_readings", Help: "Readings held until the wall clock is synchronised."},
			func() float64 { return float64(a.st.heldCount()) }),
		dropped("size", func(s queue.Stats) int64 { return s.DroppedSize }),
		dropped("age", func(s queue.Stats) int64 { return s.DroppedAge }),
		dropped("corrupt", func(s queue.Stats) int64 { return s.DroppedBad }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chargewatch_edge_uptime_seconds", Help: "Seconds since the agent started."},
			func() float64 { return (a.clock.Mono() - a.started).Seconds() }),
	)
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chargewatch_edge_build_info", Help: "Always 1; the version is a label."}, []string{"version"})
	bi.WithLabelValues(a.o.Version).Set(1)
	a.reg.MustRegister(bi)
	return m
}

func (a *Agent) queueAge() time.Duration {
	st := a.q.Stats()
	if st.OldestTS == 0 {
		return 0
	}
	return max(0, a.clock.Now().Sub(time.UnixMilli(st.OldestTS)))
}

// Status returns the gateway's health fields for its status message.
func (a *Agent) Status() devices.Status {
	st := a.q.Stats()
	up := int64((a.clock.Mono() - a.started) / time.Second)
	depth := st.Records + a.st.heldCount()
	age := int64(a.queueAge() / time.Second)
	errs := a.mm.ErrorsTotal()
	clk := devices.ClockSynced
	if !a.st.isSynced() {
		clk = devices.ClockUnsynced
	}
	return devices.Status{Online: true, TS: a.clock.Now().UnixMilli(), UptimeS: &up, QueueDepth: &depth,
		QueueAgeS: &age, PollErrors: &errs, Clock: clk, Version: a.o.Version}
}

// MetricsAddr returns the address the metrics server listens on, once it does.
func (a *Agent) MetricsAddr(ctx context.Context) (string, error) {
	select {
	case addr := <-a.addr:
		a.addr <- addr
		return addr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Run runs the agent until ctx is done, then shuts down gracefully.
func (a *Agent) Run(ctx context.Context) error {
	defer a.q.Close()
	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()

	qdone := make(chan error, 1)
	go func() { qdone <- a.q.Run(bg) }()

	var srv *http.Server
	if l := a.c.Metrics.Listen; l != "off" {
		ln, err := net.Listen("tcp", l)
		if err != nil {
			stopBG()
			<-qdone
			return fmt.Errorf("metrics listen %s: %w", l, err)
		}
		a.addr <- ln.Addr().String()
		srv = &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("metrics server", "err", err)
			}
		})
	}

	pubCtx, stopPub := context.WithCancel(bg)
	defer stopPub()
	pubDone := make(chan error, 1)
	go func() { pubDone <- a.pub.Run(pubCtx) }()

	samples := make(chan modbus.Sample, 64)
	var buses sync.WaitGroup
	for _, b := range a.buses {
		buses.Go(func() {
			if err := b.Run(ctx, samples); err != nil {
				a.log.Error("bus stopped", "bus", b.Name(), "err", err)
			}
		})
	}
	go func() { buses.Wait(); close(samples) }()
	a.log.Info("cw-edge running", "buses", len(a.buses), "version", a.o.Version, "queue_readings", a.q.Stats().Records)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case s, ok := <-samples:
			if !ok {
				break loop
			}
			a.st.add(&s)
		case <-tick.C:
			a.st.tick()
		}
	}

	// Polling has stopped and every sample is queued: publish what the grace allows.
	a.drain()
	stopPub()
	<-pubDone
	stopBG()
	err := <-qdone
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	wg.Wait()
	st := a.q.Stats()
	a.log.Info("cw-edge stopped", "queue_readings", st.Records)
	return err
}

// drain waits, up to the grace period, for the publisher to empty the queue.
func (a *Agent) drain() {
	deadline := time.Now().Add(a.o.ShutdownGrace)
	for time.Now().Before(deadline) && a.pub.Connected() && a.q.Stats().Records > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		// The agent is healthy while it runs: a broker outage is its job to ride out.
		w.Header().Set("Content-Type", "application/json")
		w.Write(devices.AppendStatus(nil, a.Status()))
	})
	return mux
}
