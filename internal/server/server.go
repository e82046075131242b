// Package server wires chargewatch's parts into the server process: the
// registry with live reload, the ingester, the alerting engine, and the
// HTTP endpoints (metrics, health, API). It is the one place where the
// integrations are connected.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chargewatch/chargewatch/alerting/api"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/feed"
	alertinflux "github.com/chargewatch/chargewatch/alerting/influx"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/report"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
	"github.com/chargewatch/chargewatch/ingest/downsample"
	"github.com/chargewatch/chargewatch/internal/ratelimit"
	"github.com/chargewatch/chargewatch/internal/tlsutil"
)

// Directory adapts a registry snapshot to what ingest needs.
type Directory struct{ S *registry.Snapshot }

// Device implements ingest.Directory.
func (d Directory) Device(id string) (ingest.DeviceEntry, bool) {
	dev, ok := d.S.Device(id)
	if !ok {
		return ingest.DeviceEntry{}, false
	}
	b := dev.Building
	c := b.Community
	return ingest.DeviceEntry{Kind: dev.Kind, Gateway: dev.Gateway.ID, Ports: int(dev.PortCount), Loc: ingest.Location{
		District: c.Street.District.ID, Street: c.Street.ID, Community: c.ID, Building: b.ID, Unit: dev.UnitID(),
	}}, true
}

// GatewayKnown implements ingest.Directory.
func (d Directory) GatewayKnown(id string) bool {
	_, ok := d.S.Gateway(id)
	return ok
}

// Server is a running chargewatch server.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	reg      *prometheus.Registry
	registry *registry.Store
	ingester *ingest.Ingester
	listener net.Listener
	scheme   string // of the HTTP listener: http or https
	expiry   *tlsutil.Expiry

	// alerting, when enabled
	alerts      *store.Store
	engine      *engine.Engine
	feed        *feed.Feed
	alertInflux *alertinflux.Writer
	closeInflux func()
	api         http.Handler
	dispatcher  *dispatch.Dispatcher // nil without a notifications file
	reportRun   *report.Runner
	downsampler *downsample.Downsampler
	ackPath     string
}

// New opens the registry and the durable logs and binds the HTTP port, so
// that configuration problems surface before Run.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, logger: logger, reg: prometheus.NewRegistry(), scheme: "http"}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A device replaced under the same id restarts its seq counter: the
	// ingester is made below, so the hook reaches it late (the reload loop
	// that calls it starts in Run).
	var onReplace func(ids ...string)
	store, err := registry.Open(ctx, cfg.Registry, registry.WithLogger(logger), registry.WithPollInterval(cfg.RegistryPoll), registry.WithRegisterer(s.reg),
		registry.WithOnSwap(func(old, new *registry.Snapshot) {
			if ids := registry.ReplacedDevices(old, new); len(ids) > 0 && onReplace != nil {
				onReplace(ids...)
			}
		}))
	if err != nil {
		return nil, err
	}
	s.registry = store
	if err := cfg.CheckFiles(); err != nil {
		store.Close()
		return nil, fmt.Errorf("configuration files:\n%w", err)
	}
	mqttPass, err := readSecret("mqtt.password", cfg.MQTT.PasswordFile)
	if err != nil {
		store.Close()
		return nil, err
	}
	eventsPass, err := readSecret("mqtt.events_password", cfg.MQTT.EventsPasswordFile)
	if err != nil {
		store.Close()
		return nil, err
	}
	s.expiry = tlsutil.NewExpiry()
	s.reg.MustRegister(s.expiry)
	mqttTLS, err := s.mqttTLS()
	if err != nil {
		store.Close()
		return nil, err
	}
	influxPass, err := readSecret("influxdb.password", cfg.InfluxDB.PasswordFile)
	if err != nil {
		store.Close()
		return nil, err
	}
	limits := devices.DefaultLimits()
	limits.MaxPast, limits.MaxFuture = cfg.Ingest.MaxPast, cfg.Ingest.MaxFuture
	icfg := ingest.Config{
		Broker: ingest.BrokerConfig{URL: cfg.MQTT.URL, ClientID: cfg.MQTT.ClientID, Username: cfg.MQTT.Username, Password: mqttPass, KeepAlive: cfg.MQTT.KeepAlive, TLS: mqttTLS},
		// Its own account: the broker makes the username the client id.
		EventsBroker: ingest.BrokerConfig{Username: cfg.MQTT.EventsUsername, Password: eventsPass},
		Influx: ingest.InfluxConfig{URL: cfg.InfluxDB.URL, Database: cfg.InfluxDB.Database, RetentionPolicy: cfg.InfluxDB.RetentionPolicy,
			Username: cfg.InfluxDB.Username, Password: influxPass, Timeout: cfg.InfluxDB.Timeout},
		DataDir:           cfg.DataDir,
		TelemetryLogBytes: int64(cfg.Ingest.TelemetryLogBytes),
		EventLogBytes:     int64(cfg.Ingest.EventLogBytes),
		Limits:            limits,
		Writer:            ingest.WriterConfig{BatchPoints: cfg.Ingest.BatchPoints, BatchWait: batchWait(cfg.Ingest.BatchWait)},
		DrainGrace:        cfg.Ingest.DrainGrace,
		ExtraConsumers:    extraConsumers(cfg),
		// Test-only negative control of the crash tests (docs/ingest.md).
		UnsafeAckBeforeFsync: os.Getenv("CHARGEWATCH_TEST_UNSAFE_ACK_BEFORE_FSYNC") == "1",
	}
	if cfg.Ingest.Adapters != "" {
		router, err := loadAdapters(cfg.Ingest.Adapters, store.Current())
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("ingest.adapters: %w", err)
		}
		icfg.Adapters = router
	}
	if cfg.Ingest.Downsample {
		ds, err := downsample.New(downsample.Config{Database: cfg.InfluxDB.Database, RawRP: cfg.InfluxDB.RetentionPolicy,
			StatePath: filepath.Join(cfg.DataDir, "downsample.state")},
			&downsample.HTTPQuerier{URL: cfg.InfluxDB.URL, Database: cfg.InfluxDB.Database, Username: cfg.InfluxDB.Username, Password: influxPass},
			s.reg, logger.With("component", "downsample"))
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("downsampling: %w", err)
		}
		s.downsampler = ds
		icfg.Writer.Touch, icfg.Writer.Checkpoint = ds.Touch, ds.Checkpoint
	}
	ing, err := ingest.New(icfg, func() ingest.Directory { return Directory{S: store.Current()} }, s.reg, logger.With("component", "ingest"))
	if err != nil {
		store.Close()
		return nil, err
	}
	s.ingester = ing
	onReplace = ing.ForgetSeq
	if cfg.Alerting.Enabled {
		if err := s.newAlerting(ctx, influxPass); err != nil {
			store.Close()
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		s.closeAlerting()
		store.Close()
		return nil, fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	if t := cfg.HTTP.TLS; t.CertFile != "" {
		k, err := tlsutil.LoadKeyPair(t.CertFile, t.KeyFile, logger.With("component", "http"))
		if err != nil {
			ln.Close()
			s.closeAlerting()
			store.Close()
			return nil, fmt.Errorf("http.tls: %w", err)
		}
		s.expiry.WatchKeyPair(tlsutil.UseHTTP, k)
		ln = tls.NewListener(ln, tlsutil.ServerConfig(k))
		s.scheme = "https"
	}
	s.listener = ln
	return s, nil
}

// mqttTLS builds the broker connection's TLS configuration from mqtt.tls;
// nil (the defaults, with the system roots) when it is not set.
func (s *Server) mqttTLS() (*tls.Config, error) {
	t := s.cfg.MQTT.TLS
	if !t.set() {
		return nil, nil
	}
	c, err := tlsutil.NewClient(tlsutil.ClientFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName},
		s.logger.With("component", "mqtt"))
	if err != nil {
		return nil, fmt.Errorf("mqtt.tls: %w", err)
	}
	if len(c.CAs) > 0 {
		s.expiry.Watch(tlsutil.UseMQTTCA, func() []*x509.Certificate { return c.CAs })
	}
	if c.Pair != nil {
		s.expiry.WatchKeyPair(tlsutil.UseMQTTClient, c.Pair)
	}
	return c.Config, nil
}

// loadAdapters loads the adapter accounts and checks them against the
// registry: every account's gateway and devices must be registered.
func loadAdapters(path string, snap *registry.Snapshot) (*adapters.Router, error) {
	f, err := accounts.Load(path)
	if err != nil {
		return nil, err
	}
	if err := f.CheckRegistry(accounts.RegistryFunc{
		DeviceFunc: func(id string) (string, devices.Kind, bool) {
			d, ok := snap.Device(id)
			if !ok {
				return "", devices.KindUnknown, false
			}
			return d.Gateway.ID, d.Kind, true
		},
		GatewayFunc: func(id string) bool { _, ok := snap.Gateway(id); return ok },
	}); err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
	}
	return f.Build()
}

func extraConsumers(cfg Config) []string {
	if cfg.Alerting.Enabled {
		return []string{feed.Consumer}
	}
	return nil
}

// newAlerting opens the alert store and wires the engine to the ingest
// logs, the API and InfluxDB.
func (s *Server) newAlerting(ctx context.Context, influxPass string) error {
	cfg := s.cfg
	rules := engine.DefaultConfig()
	if cfg.Alerting.Rules != "" {
		var err error
		if rules, err = engine.LoadConfig(cfg.Alerting.Rules); err != nil {
			return fmt.Errorf("alerting.rules: %w", err)
		}
	}
	st, err := store.Open(ctx, cfg.Alerting.DB, store.Options{Synchronous: cfg.Alerting.Synchronous})
	if err != nil {
		return err
	}
	s.alerts = st
	logger := s.logger.With("component", "alerting")
	var notifier engine.Notifier
	if cfg.Alerting.Notifications != "" {
		dcfg, err := dispatch.LoadConfig(cfg.Alerting.Notifications)
		if err != nil {
			s.closeAlerting()
			return fmt.Errorf("alerting.notifications: %w", err)
		}
		d, err := dispatch.Open(ctx, cfg.Alerting.DispatchDB, dispatch.Options{Config: dcfg, Registry: s.registry, Audit: st,
			Logger: s.logger.With("component", "dispatch"), Registerer: s.reg})
		if err != nil {
			s.closeAlerting()
			return err
		}
		s.dispatcher, s.ackPath, notifier = d, dcfg.AckLink.Path, d
	}
	// Indoor charging: the physics-based detector. Measured on held-out
	// simulated cities (docs/detection.md; the first version's figures are in
	// docs/detection-history.md) it trades recall for precision:
	// the first version alarmed on ~600 charger-free unit-days in 1,000.
	// Checkpoints go in slices of device states (docs/alerting.md): an
	// alarm's commit then waits for one slice, not for a whole city.
	var fd *feed.Feed
	eng, err := engine.New(ctx, st, s.registry, engine.Options{Config: rules, Logger: logger, Registerer: s.reg, Notifier: notifier,
		ChargingModel: detect.PhysicsModel, CheckpointSlice: engine.DefaultCheckpointSlice, Marker: func() []byte { return fd.Mark() }})
	if err != nil {
		s.closeAlerting()
		return err
	}
	s.engine = eng
	fd, err = feed.New(eng, s.registry, s.ingester.Log(ingest.SessionTelemetry), s.ingester.Log(ingest.SessionEvents), feed.Options{Logger: logger})
	if err != nil {
		s.closeAlerting()
		return err
	}
	s.feed = fd
	pw, closeFn := alertinflux.NewClient(alertinflux.ClientConfig{URL: cfg.InfluxDB.URL, Username: cfg.InfluxDB.Username,
		Password: influxPass, Database: cfg.InfluxDB.Database, RetentionPolicy: cfg.InfluxDB.RetentionPolicy})
	s.closeInflux = closeFn
	aw, err := alertinflux.New(st, s.registry, pw, alertinflux.Options{SnapshotInterval: cfg.Alerting.SnapshotInterval, Logger: logger, Registerer: s.reg})
	if err != nil {
		s.closeAlerting()
		return err
	}
	s.alertInflux = aw
	// The ingester's loss list goes through the API: device ids are for
	// token holders, each seeing the devices of their places.
	aopts := api.Options{Logger: logger, Registerer: s.reg, IngestLoss: func() []ingest.DeviceLoss { return s.ingester.Loss(math.MaxInt) }}
	if s.dispatcher != nil {
		aopts.Deliveries = s.dispatcher
		aopts.Escalations = func(ctx context.Context, since int64) (report.Counts, error) {
			return report.EscalationsFromFile(ctx, cfg.Alerting.DispatchDB, since)
		}
	}
	s.api = api.New(st, eng, s.registry, aopts).Handler()
	// The accountability report's figures go to InfluxDB for the dashboards.
	iw := ingest.NewInfluxWriter(ingest.InfluxConfig{URL: cfg.InfluxDB.URL, Database: cfg.InfluxDB.Database,
		RetentionPolicy: cfg.InfluxDB.RetentionPolicy, Username: cfg.InfluxDB.Username, Password: influxPass, Timeout: cfg.InfluxDB.Timeout})
	s.reportRun = &report.Runner{Store: st, Escalations: aopts.Escalations,
		Write: func(ctx context.Context, lines []string) error {
			return iw.Write(ctx, []byte(strings.Join(lines, "\n")))
		},
		OnError: func(err error) {
			logger.Warn("writing the accountability report to InfluxDB failed; next round retries", "err", err)
		}}
	return nil
}

func (s *Server) closeAlerting() {
	if s.dispatcher != nil {
		s.dispatcher.Close()
	}
	if s.closeInflux != nil {
		s.closeInflux()
	}
	if s.alerts != nil {
		s.alerts.Close()
	}
}

// Addr returns the HTTP address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Run serves until ctx ends, then shuts down in order: HTTP, ingest
// (which drains), registry.
func (s *Server) Run(ctx context.Context) error {
	defer s.registry.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ingester.Ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// Profiling, for operators on the (loopback by default) HTTP address.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if s.api != nil {
		mux.Handle("/api/v1/", s.api)
		// The alert page of the robots' links: it holds no data and asks
		// for the reader's token.
		if s.dispatcher != nil {
			mux.Handle("GET /alerts/{id}", s.dispatcher.AlertPage())
		} else {
			mux.Handle("GET /alerts/{id}", dispatch.AlertPage(notify.LocaleZH))
		}
	} else {
		mux.HandleFunc("GET /api/v1/ingest/loss", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the loss list is served by the API, which needs alerting.enabled (its tokens); without it, watch chargewatch_ingest_seq_missing_total", http.StatusNotFound)
		})
	}
	if s.dispatcher != nil {
		eng := s.engine
		// Personal links need no token: their requests are limited per
		// client address (30 at once, then one every 2 s).
		mux.Handle(s.ackPath, ratelimit.Handler(ratelimit.New(0.5, 30, 0), s.dispatcher.AckHandler(func(ctx context.Context, id int64, person string) error {
			_, err := eng.Ack(ctx, id, person, "acknowledged from the personal link")
			return err
		}), nil))
	}
	// Bounded requests: headers in 10 s and 64 KiB, a whole request in
	// 30 s (API bodies are at most 64 KiB); no write timeout, so that
	// /debug/pprof/profile can take its 30 s.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.logger.With("component", "http").Handler(), slog.LevelDebug)}

	var wg sync.WaitGroup
	errc := make(chan error, 8)
	goRun := func(name string, ctx context.Context, run func(context.Context) error) <-chan struct{} {
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
		return done
	}
	goRun("http", ctx, func(context.Context) error {
		if err := srv.Serve(s.listener); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	// Shutdown order: ingest first (it drains its sessions and writers),
	// then the alerting feed (it commits what it fed), then the rest.
	rctx, rcancel := context.WithCancel(context.Background())
	goRun("registry", rctx, s.registry.Run)
	ictx, icancel := context.WithCancel(ctx)
	ingestDone := goRun("ingest", ictx, s.ingester.Run)
	if s.downsampler != nil {
		goRun("downsample", rctx, s.downsampler.Run)
	}
	actx, acancel := context.WithCancel(context.Background())
	if s.engine != nil {
		defer s.closeAlerting()
		goRun("alerting feed", actx, s.feed.Run)
		goRun("alerting engine", actx, s.engine.Run)
		goRun("alerting influx", actx, s.alertInflux.Run)
		if s.dispatcher != nil {
			goRun("dispatch", actx, s.dispatcher.Run)
		}
		goRun("accountability report", actx, s.reportRun.Run)
	}
	s.logger.Info("chargewatch serving", "http", s.scheme+"://"+s.Addr(), "mqtt", s.cfg.MQTT.URL, "influxdb", s.cfg.InfluxDB.URL,
		"data_dir", s.cfg.DataDir, "registry", s.cfg.Registry)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		s.logger.Error("stopping after a failure", "err", err)
	}
	icancel()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdownCtx)
	<-ingestDone
	acancel()
	rcancel()
	wg.Wait()
	return err
}

// batchWait maps the configured batch_wait onto the writer's: 0 in the
// configuration writes at once, which the writer spells as negative.
func batchWait(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
