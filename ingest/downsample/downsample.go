// Package downsample keeps chargewatch's hourly rollups in InfluxDB up to date,
// including for readings that arrive late (a gateway replaying days of readings
// after an outage).
//
// A continuous query that re-reads a long window on every run does not scale,
// and one that reads only the last interval misses late data. The Downsampler
// does neither: the InfluxDB writer calls Touch for every point it has written,
// which marks the point's hour bucket of its measurement dirty (a set, so a
// batch of 5,000 points of one hour costs one map insert and 4,999 atomic
// loads). Run then recomputes every dirty bucket once it is complete, with
//
//	SELECT mean("power_w") AS "power_w_mean", ... INTO "db"."rollup"."meter_1h"
//	  FROM "db"."raw"."meter" WHERE time >= <bucket> AND time < <bucket+1h> GROUP BY time(1h), *
//
// A bucket touched again after it was downsampled (late data) is simply
// recomputed from raw: the rollup point of each series is overwritten, so the
// result is the same as if every reading had arrived on time.
//
// Memory is bounded: buckets older than MaxAge (the raw retention) and more
// than an hour ahead of the clock are ignored, so the set never holds more
// than MaxAge/1h + 3 buckets per measurement. A failed query puts its buckets
// back and Run retries with backoff; nothing is dropped. With StatePath set the
// set survives restarts (the writer calls Checkpoint before it commits its log
// cursor, so a crash cannot lose a bucket whose points were written).
package downsample

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Querier runs one InfluxQL statement whose result is not needed (SELECT ...
// INTO answers with the number of points written).
type Querier interface {
	Exec(ctx context.Context, influxql string) error
}

// FieldLister is implemented by a Querier that can list the field keys of a
// measurement (HTTPQuerier does). The Downsampler then leaves out aggregates
// of fields the measurement does not have: a meter vocabulary has 17 fields,
// a single-phase meter sends 6, and each missing aggregate would still cost
// an iterator per series.
type FieldLister interface {
	FieldKeys(ctx context.Context, rp, measurement string) ([]string, error)
}

// QuerierFunc adapts a function to Querier.
type QuerierFunc func(ctx context.Context, influxql string) error

// Exec calls f.
func (f QuerierFunc) Exec(ctx context.Context, q string) error { return f(ctx, q) }

// Config configures a Downsampler. Zero values take the defaults.
type Config struct {
	Database string   // required, e.g. "chargewatch"
	RawRP    string   // retention policy of the readings; default "raw"
	RollupRP string   // retention policy of the rollups; default "rollup"
	Rollups  []Rollup // default DefaultRollups()

	// Interval is how often Run looks for due buckets; default 1 minute.
	Interval time.Duration
	// Settle is how long after its end a bucket is first downsampled, so that
	// readings in flight at the turn of the hour are in; default 2 minutes.
	// Readings that arrive later make the bucket dirty again.
	Settle time.Duration
	// MaxAge: touches of buckets older than this are ignored (their raw data
	// is gone or about to be); default 30 days, the raw retention.
	MaxAge time.Duration
	// MaxBucketsPerQuery bounds the hours one SELECT ... INTO covers (adjacent
	// dirty buckets are merged into one query); default 6.
	MaxBucketsPerQuery int
	// BackfillBucketsPerQuery is the same for Backfill, which covers long
	// spans: larger queries cost less per hour; default 24.
	BackfillBucketsPerQuery int
	// Retries after a failed pass: MinBackoff doubling up to MaxBackoff;
	// defaults 1 s and 1 minute.
	MinBackoff, MaxBackoff time.Duration
	// StatePath, if set, is a file that keeps the dirty set across restarts.
	StatePath string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.Database == "" {
		return errors.New("downsample: database is required")
	}
	if c.RawRP == "" {
		c.RawRP = "raw"
	}
	if c.RollupRP == "" {
		c.RollupRP = "rollup"
	}
	if c.Rollups == nil {
		c.Rollups = DefaultRollups()
	}
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.Settle < 0 {
		return errors.New("downsample: settle cannot be negative")
	}
	if c.Settle == 0 {
		c.Settle = 2 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 30 * 24 * time.Hour
	}
	if c.MaxBucketsPerQuery <= 0 {
		c.MaxBucketsPerQuery = 6
	}
	if c.BackfillBucketsPerQuery <= 0 {
		c.BackfillBucketsPerQuery = 24
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(time.Minute, c.MinBackoff)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	seen := map[string]bool{}
	for _, r := range c.Rollups {
		if r.Measurement == "" || r.Into == "" || len(r.Queries) == 0 {
			return fmt.Errorf("downsample: rollup of %q needs a measurement, a target and queries", r.Measurement)
		}
		if seen[r.Measurement] {
			return fmt.Errorf("downsample: measurement %q has two rollups", r.Measurement)
		}
		seen[r.Measurement] = true
	}
	return nil
}

const noBucket = math.MinInt64

// flagRetry marks a bucket put back after a failed query, so that running it
// again is not counted as late data.
const flagRetry uint8 = 1

type measurement struct {
	rollup *Rollup
	// last is the bucket of the latest Touch that is in dirty (or noBucket):
	// a Touch of the same bucket returns after one atomic load.
	last atomic.Int64
	// dirty and running are guarded by Downsampler.mu. running holds buckets
	// taken by a pass and not yet done; both are persisted.
	dirty   map[int64]uint8
	running map[int64]uint8
}

// Downsampler recomputes hourly rollups of the buckets that Touch marked.
// Touch, Checkpoint, Flush, Backfill and Run are safe for concurrent use.
//
// Lock order: passMu, then saveMu, then mu.
type Downsampler struct {
	cfg    Config
	q      Querier
	logger *slog.Logger
	m      *metrics
	ms     []measurement

	// Bounds of the buckets Touch accepts, refreshed from the clock by every
	// pass (Touch does not read the clock).
	minBucket, maxBucket atomic.Int64

	passMu sync.Mutex // one pass (Flush or Backfill) at a time
	saveMu sync.Mutex // one state file write at a time

	mu          sync.Mutex
	changed     bool  // the persisted set changed since the last save
	prevHorizon int64 // buckets below it were due at the previous pass
}

// New returns a Downsampler that runs its statements through q and registers
// its metrics (chargewatch_downsample_*) on reg. It loads the dirty set from
// cfg.StatePath if that file exists, and marks the last two complete hours and
// the current one dirty, so that a restart without a state file still
// downsamples the hours that were pending when the process stopped.
func New(cfg Config, q Querier, reg prometheus.Registerer, logger *slog.Logger) (*Downsampler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Downsampler{cfg: cfg, q: q, logger: logger.With("component", "downsample"), m: newMetrics(reg)}
	d.ms = make([]measurement, len(cfg.Rollups))
	for i := range d.ms {
		d.ms[i].rollup = &d.cfg.Rollups[i]
		d.ms[i].last.Store(noBucket)
		d.ms[i].dirty = map[int64]uint8{}
		d.ms[i].running = map[int64]uint8{}
	}
	now := cfg.Now()
	d.updateBounds(now)
	if cfg.StatePath != "" {
		st, err := loadState(cfg.StatePath)
		if err != nil {
			return nil, err
		}
		for name, buckets := range st {
			if i := d.index(name); i >= 0 {
				for _, b := range buckets {
					if d.inBounds(b) {
						d.ms[i].dirty[b] = 0
					}
				}
			}
		}
	}
	cur := bucketOf(now.UnixMilli())
	for i := range d.ms {
		for b := cur - 2; b <= cur; b++ {
			d.ms[i].dirty[b] |= 0
		}
	}
	d.changed = true
	d.updateDirtyGauge()
	return d, nil
}

func (d *Downsampler) updateBounds(now time.Time) {
	ms := now.UnixMilli()
	d.minBucket.Store(bucketOf(ms - d.cfg.MaxAge.Milliseconds()))
	d.maxBucket.Store(bucketOf(ms) + 2)
}

func (d *Downsampler) inBounds(b int64) bool {
	return b >= d.minBucket.Load() && b <= d.maxBucket.Load()
}

func (d *Downsampler) index(name string) int {
	for i := range d.ms {
		if d.ms[i].rollup.Measurement == name {
			return i
		}
	}
	return -1
}

// Touch records that a point of measurement at tsMillis (Unix milliseconds)
// was written, so its hour bucket gets downsampled (again). Call it after
// InfluxDB accepted the point: a pass that runs between Touch and the write
// would miss the point. Measurements without a rollup (status, rejected) are
// ignored. It does not block on a running pass; the common case (a bucket
// already marked) is one atomic load.
func (d *Downsampler) Touch(measurement string, tsMillis int64) {
	i := d.index(measurement)
	if i < 0 {
		return
	}
	b := bucketOf(tsMillis)
	m := &d.ms[i]
	if m.last.Load() == b {
		return
	}
	d.touchSlow(m, b)
}

func (d *Downsampler) touchSlow(m *measurement, b int64) {
	switch {
	case b < d.minBucket.Load():
		d.m.ignored.WithLabelValues(ignoredTooOld).Inc()
		return
	case b > d.maxBucket.Load():
		d.m.ignored.WithLabelValues(ignoredTooNew).Inc()
		return
	}
	d.mu.Lock()
	if _, ok := m.dirty[b]; !ok {
		m.dirty[b] = 0
		d.changed = true
		d.updateDirtyGaugeLocked()
	}
	// Set under mu: a pass that takes b resets last under mu too, so last
	// never names a bucket that is not in dirty.
	m.last.Store(b)
	d.mu.Unlock()
}

func (d *Downsampler) updateDirtyGauge() {
	d.mu.Lock()
	d.updateDirtyGaugeLocked()
	d.mu.Unlock()
}

func (d *Downsampler) updateDirtyGaugeLocked() {
	n := 0
	for i := range d.ms {
		n += len(d.ms[i].dirty) + len(d.ms[i].running)
	}
	d.m.dirty.Set(float64(n))
}

// Dirty returns the number of buckets (per measurement) waiting or running.
func (d *Downsampler) Dirty() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for i := range d.ms {
		n += len(d.ms[i].dirty) + len(d.ms[i].running)
	}
	return n
}

// job is a run of adjacent buckets of one measurement, done by one query per
// rollup query.
type job struct {
	m        *measurement
	from, to int64 // buckets [from, to)
	flags    []uint8
}

// Flush downsamples every bucket that is due now: complete for Settle, and
// dirty. It returns the first error; the buckets not done are put back and the
// next Flush tries them again.
func (d *Downsampler) Flush(ctx context.Context) error {
	d.passMu.Lock()
	defer d.passMu.Unlock()
	now := d.cfg.Now()
	d.updateBounds(now)
	horizon := bucketOf(now.Add(-d.cfg.Settle).UnixMilli()) // buckets below it are due

	d.mu.Lock()
	prev := d.prevHorizon
	d.prevHorizon = horizon
	cur := bucketOf(now.UnixMilli())
	for i := range d.ms {
		if m := &d.ms[i]; m.rollup.Periodic {
			if _, ok := m.dirty[cur]; !ok {
				m.dirty[cur] = 0
				d.changed = true
			}
		}
	}
	var jobs []job
	oldest := int64(noBucket)
	for i := range d.ms {
		m := &d.ms[i]
		var due []int64
		for b := range m.dirty {
			if b < horizon {
				due = append(due, b)
			}
		}
		if len(due) == 0 {
			continue
		}
		slices.Sort(due)
		if oldest == noBucket || due[0] < oldest {
			oldest = due[0]
		}
		for _, b := range due {
			m.running[b] = m.dirty[b]
			delete(m.dirty, b)
			if m.last.Load() == b {
				m.last.Store(noBucket)
			}
		}
		jobs = append(jobs, d.splitJobs(m, due)...)
	}
	d.mu.Unlock()

	if oldest != noBucket {
		d.m.behind.Set(max(0, now.Sub(bucketTime(oldest+1).Add(d.cfg.Settle)).Seconds()))
	}
	fields := map[*measurement]func(string) bool{} // looked up once per pass
	for i, j := range jobs {
		if err := d.runJob(ctx, j, fields); err != nil {
			d.putBack(jobs[i:])
			return err
		}
		d.finish(j, prev)
	}
	d.m.behind.Set(0)
	d.m.lastSuccess.Set(float64(now.UnixMilli()) / 1000)
	return nil
}

// splitJobs groups sorted buckets into runs of adjacent buckets of at most
// MaxBucketsPerQuery. Called with mu held.
func (d *Downsampler) splitJobs(m *measurement, sorted []int64) []job {
	var out []job
	for i := 0; i < len(sorted); {
		j := job{m: m, from: sorted[i], to: sorted[i] + 1, flags: []uint8{m.running[sorted[i]]}}
		i++
		for i < len(sorted) && sorted[i] == j.to && int(j.to-j.from) < d.cfg.MaxBucketsPerQuery {
			j.flags = append(j.flags, m.running[sorted[i]])
			j.to++
			i++
		}
		out = append(out, j)
	}
	return out
}

// fieldSet returns which fields the raw measurement has, or nil (every
// aggregate) if the Querier cannot tell or the lookup fails.
func (d *Downsampler) fieldSet(ctx context.Context, m *measurement) func(string) bool {
	fl, ok := d.q.(FieldLister)
	if !ok {
		return nil
	}
	keys, err := fl.FieldKeys(ctx, d.cfg.RawRP, m.rollup.Measurement)
	if err != nil {
		return nil // the statements will report the error, or work
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return func(f string) bool { return set[f] }
}

func (d *Downsampler) runJob(ctx context.Context, j job, fields map[*measurement]func(string) bool) error {
	from, to := bucketTime(j.from), bucketTime(j.to)
	has, ok := fields[j.m]
	if !ok {
		has = d.fieldSet(ctx, j.m)
		fields[j.m] = has
	}
	for _, stmt := range j.m.rollup.Statements(d.cfg.Database, d.cfg.RawRP, d.cfg.RollupRP, from, to, has) {
		if err := d.exec(ctx, stmt); err != nil {
			return fmt.Errorf("downsampling %s from %s to %s: %w", j.m.rollup.Measurement,
				from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
	}
	return nil
}

func (d *Downsampler) exec(ctx context.Context, stmt string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	err := d.q.Exec(ctx, stmt)
	d.m.queryDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		d.m.queries.WithLabelValues("error").Inc()
		return err
	}
	d.m.queries.WithLabelValues("ok").Inc()
	return nil
}

// finish records a done job: its buckets leave the running set.
func (d *Downsampler) finish(j job, prevHorizon int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	late := 0
	for b := j.from; b < j.to; b++ {
		if b < prevHorizon && j.flags[b-j.from]&flagRetry == 0 {
			late++
		}
		delete(j.m.running, b)
	}
	d.changed = true
	d.m.buckets.Add(float64(j.to - j.from))
	d.m.lateBuckets.Add(float64(late))
	d.updateDirtyGaugeLocked()
}

// putBack returns the buckets of jobs not done to the dirty set.
func (d *Downsampler) putBack(jobs []job) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, j := range jobs {
		for b := j.from; b < j.to; b++ {
			delete(j.m.running, b)
			j.m.dirty[b] |= flagRetry
		}
	}
	d.changed = true
	d.updateDirtyGaugeLocked()
}

// Run downsamples due buckets every Interval until ctx ends, and returns nil
// then. A failed pass is retried with exponential backoff (MinBackoff to
// MaxBackoff); its buckets stay dirty meanwhile. With StatePath set, the dirty
// set is saved after every pass that changed it, and when Run returns.
func (d *Downsampler) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	defer func() {
		if err := d.Checkpoint(); err != nil {
			d.logger.Warn("saving the downsampling state", "err", err)
		}
	}()
	var backoff time.Duration
	attempt := 0
	for {
		err := d.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if cerr := d.Checkpoint(); cerr != nil {
			d.logger.Warn("saving the downsampling state", "err", cerr)
		}
		if err != nil {
			attempt++
			backoff = min(max(backoff*2, d.cfg.MinBackoff), d.cfg.MaxBackoff)
			d.logger.Warn("downsampling failed; buckets kept for a retry", "err", err,
				"attempt", attempt, "retry_in", backoff, "dirty_buckets", d.Dirty())
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.C:
			}
			continue
		}
		if attempt > 0 {
			d.logger.Info("downsampling recovered", "attempts", attempt+1)
		}
		attempt, backoff = 0, 0
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Backfill downsamples every hour bucket that overlaps [from, to) for all
// measurements, whether dirty or not: for operators (after restoring raw data,
// or after changing the rollups) and for the dashboard benchmark. Each query is
// retried with backoff until it succeeds or ctx ends. It logs its progress.
func (d *Downsampler) Backfill(ctx context.Context, from, to time.Time) error {
	d.passMu.Lock()
	defer d.passMu.Unlock()
	first := bucketOf(from.UnixMilli())
	last := bucketOf(to.UnixMilli() - 1) // inclusive
	if last < first {
		return nil
	}
	var jobs []job
	for i := range d.ms {
		for b := first; b <= last; b += int64(d.cfg.BackfillBucketsPerQuery) {
			jobs = append(jobs, job{m: &d.ms[i], from: b, to: min(b+int64(d.cfg.BackfillBucketsPerQuery), last+1)})
		}
	}
	start := time.Now()
	fields := map[*measurement]func(string) bool{}
	for i, j := range jobs {
		backoff := time.Duration(0)
		for {
			err := d.runJob(ctx, j, fields)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			backoff = min(max(backoff*2, d.cfg.MinBackoff), d.cfg.MaxBackoff)
			d.logger.Warn("backfill query failed; retrying", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
		}
		d.m.buckets.Add(float64(j.to - j.from))
		d.logger.Info("backfill", "measurement", j.m.rollup.Measurement,
			"from", bucketTime(j.from).Format(time.RFC3339), "to", bucketTime(j.to).Format(time.RFC3339),
			"done", i+1, "of", len(jobs), "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Checkpoint saves the dirty set to StatePath if it changed since the last
// save (a no-op without StatePath). The InfluxDB writer calls it after Touch
// and before it commits its log cursor, so that a crash never loses the mark
// of a bucket whose points were written. It is cheap when nothing changed;
// the set changes about once an hour per measurement, and on late data.
func (d *Downsampler) Checkpoint() error {
	if d.cfg.StatePath == "" {
		return nil
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	d.mu.Lock()
	if !d.changed {
		d.mu.Unlock()
		return nil
	}
	st := state{}
	for i := range d.ms {
		m := &d.ms[i]
		var bs []int64
		for b := range m.dirty {
			bs = append(bs, b)
		}
		for b := range m.running {
			bs = append(bs, b)
		}
		if len(bs) > 0 {
			slices.Sort(bs)
			st[m.rollup.Measurement] = slices.Compact(bs)
		}
	}
	d.changed = false
	d.mu.Unlock()
	if err := saveState(d.cfg.StatePath, st); err != nil {
		d.mu.Lock()
		d.changed = true
		d.mu.Unlock()
		return err
	}
	return nil
}
