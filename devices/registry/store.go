package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultPollInterval is how often a Store checks the registry for changes.
const DefaultPollInterval = 2 * time.Second

// Store holds the registry database and the current Snapshot of it, and
// swaps in a new Snapshot when the registry changes, whoever changed it: an
// import in another process, or a writer in this one. Readers call Current
// for every unit of work and keep nothing longer.
type Store struct {
	db      *sql.DB
	path    string
	log     *slog.Logger
	poll    time.Duration
	onSwap  func(old, new *Snapshot)
	metrics *storeMetrics

	current atomic.Pointer[Snapshot]
	// reloadMu serialises reloads (Run and Reload may race); it is never
	// held while a reader runs.
	reloadMu  sync.Mutex
	closeOnce sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithPollInterval sets how often Run checks the registry's generation; the
// default is DefaultPollInterval.
func WithPollInterval(d time.Duration) Option { return func(s *Store) { s.poll = d } }

// WithRegisterer registers the store's metrics (chargewatch_registry_*) on r.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(s *Store) { s.metrics = newStoreMetrics(r) }
}

// WithOnSwap sets a function called after a new snapshot has become current,
// with the one it replaced. It runs on the reloading goroutine and must not
// block.
func WithOnSwap(f func(old, new *Snapshot)) Option { return func(s *Store) { s.onSwap = f } }

// Open opens (creating and migrating if need be) the registry database at
// path and loads its first snapshot.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{path: path, poll: DefaultPollInterval, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	if s.poll <= 0 {
		return nil, fmt.Errorf("open registry: poll interval %s must be positive", s.poll)
	}
	if s.metrics != nil && s.metrics.err != nil {
		s.metrics.unregister()
		return nil, fmt.Errorf("open registry: register metrics: %w", s.metrics.err)
	}
	s.log = s.log.With("registry", path)
	db, err := OpenDB(ctx, path)
	if err != nil {
		s.metrics.unregister()
		return nil, err
	}
	s.db = db
	snap, err := Load(ctx, db)
	if err != nil {
		db.Close()
		s.metrics.unregister()
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	s.swap(snap, 0)
	c := snap.Counts()
	s.log.Info("registry loaded", "generation", snap.Generation(), "devices", c.Devices, "gateways", c.Gateways, "people", c.People)
	return s, nil
}

// Current returns the current snapshot. It never returns nil.
func (s *Store) Current() *Snapshot { return s.current.Load() }

// DB returns the registry database, for writers such as Import and Backup.
// A writer must bump the generation (Import does) for servers to reload.
func (s *Store) DB() *sql.DB { return s.db }

// Import imports a site into the registry and makes it current at once.
func (s *Store) Import(ctx context.Context, site *Site) (*Changes, error) {
	ch, err := Import(ctx, s.db, site)
	if err != nil {
		return nil, err
	}
	if _, err := s.Reload(ctx); err != nil {
		return ch, err
	}
	return ch, nil
}

// Backup writes a consistent copy of the registry to path.
func (s *Store) Backup(ctx context.Context, path string) error { return Backup(ctx, s.db, path) }

// Reload loads a new snapshot if the registry's generation differs from the
// current one's, and reports whether it did.
func (s *Store) Reload(ctx context.Context) (bool, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	gen, err := Generation(ctx, s.db)
	if err != nil {
		s.metrics.reloaded(false)
		return false, err
	}
	if gen == s.Current().Generation() {
		return false, nil
	}
	start := time.Now()
	snap, err := Load(ctx, s.db)
	if err != nil {
		s.metrics.reloaded(false)
		return false, err
	}
	old := s.swap(snap, time.Since(start))
	c := snap.Counts()
	s.log.Info("registry reloaded", "generation", snap.Generation(), "previous_generation", old.Generation(),
		"devices", c.Devices, "gateways", c.Gateways, "people", c.People, "duration", time.Since(start).Round(time.Millisecond))
	return true, nil
}

func (s *Store) swap(snap *Snapshot, took time.Duration) *Snapshot {
	old := s.current.Swap(snap)
	if old != nil {
		s.metrics.reloaded(true)
		s.metrics.took(took)
	}
	s.metrics.set(snap)
	if old != nil && s.onSwap != nil {
		s.onSwap(old, snap)
	}
	return old
}

// Run checks the registry's generation every poll interval and reloads when
// it changed, until ctx is done. A failed reload is logged and retried at
// the next tick; the current snapshot stays in use meanwhile. Run returns
// nil when ctx is done.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		_, err := s.Reload(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			// Log the first failure and the recovery, not every tick.
			s.log.Error("registry reload failed; serving the previous snapshot", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("registry reload works again")
			failing = false
		}
	}
}

// Close closes the database. The current snapshot stays usable.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.db.Close() })
	return err
}

// storeMetrics are the Store's metrics. A nil *storeMetrics records nothing.
type storeMetrics struct {
	reg        prometheus.Registerer
	registered []prometheus.Collector
	err        error
	reloads    *prometheus.CounterVec
	generation prometheus.Gauge
	devices    prometheus.Gauge
	gateways   prometheus.Gauge
	lastReload prometheus.Gauge
	duration   prometheus.Histogram
}

func newStoreMetrics(r prometheus.Registerer) *storeMetrics {
	m := &storeMetrics{
		reg: r,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_registry_reloads_total",
			Help: "Snapshot reloads after a registry change, by result (ok or error).",
		}, []string{"result"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_registry_generation",
			Help: "Registry generation of the snapshot in use.",
		}),
		devices: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_registry_devices",
			Help: "Devices in the snapshot in use.",
		}),
		gateways: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_registry_gateways",
			Help: "Gateways (including devices that connect by themselves) in the snapshot in use.",
		}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_registry_last_load_timestamp_seconds",
			Help: "Unix time the snapshot in use was loaded.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargewatch_registry_reload_duration_seconds",
			Help:    "Time to load a new snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	for _, c := range []prometheus.Collector{m.reloads, m.generation, m.devices, m.gateways, m.lastReload, m.duration} {
		if err := r.Register(c); err != nil {
			m.err = errors.Join(m.err, err)
		} else {
			m.registered = append(m.registered, c)
		}
	}
	return m
}

// unregister removes the metrics again when Open fails, so that a retry can
// register them.
func (m *storeMetrics) unregister() {
	if m == nil {
		return
	}
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}

func (m *storeMetrics) reloaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("error").Inc()
	}
}

func (m *storeMetrics) took(d time.Duration) {
	if m != nil {
		m.duration.Observe(d.Seconds())
	}
}

func (m *storeMetrics) set(s *Snapshot) {
	if m == nil {
		return
	}
	c := s.Counts()
	m.generation.Set(float64(s.Generation()))
	m.devices.Set(float64(c.Devices))
	m.gateways.Set(float64(c.Gateways))
	m.lastReload.Set(float64(s.LoadedAt().UnixNano()) / 1e9)
}
