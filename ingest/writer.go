package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/record"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// PointWriter writes a batch of line protocol to the store. The InfluxDB
// implementation is in influx.go; errors it returns are *WriteError.
type PointWriter interface {
	Write(ctx context.Context, lines []byte) error
}

// WriteError is a store write failure, classified for the retry policy.
type WriteError struct {
	Class      string // one of WriteErrorClasses
	Status     int    // HTTP status, 0 for network errors
	RetryAfter time.Duration
	Err        error
}

func (e *WriteError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("influxdb write: %d %s: %v", e.Status, e.Class, e.Err)
	}
	return fmt.Sprintf("influxdb write: %s: %v", e.Class, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// WriterConfig configures the store writer.
type WriterConfig struct {
	BatchPoints int // points per write; default 5000
	// BatchWait is how long a batch waits to fill up to BatchPoints once
	// its first record is in: InfluxDB fsyncs its WAL and pays a request's
	// overhead per write, so a few large writes cost it far less CPU than
	// many small ones. Default 200 ms; negative writes what is there at once.
	BatchWait   time.Duration
	MaxBackoff  time.Duration // longest wait between retries; default 30 s
	MinBackoff  time.Duration // first wait; default 100 ms
	Concurrency int           // batches written at once; default 2
	// Touch, when set, is told the measurement and time of every reading
	// and event once it is in the store (the downsampler marks its hour
	// dirty, so late data is rolled up again).
	Touch func(measurement string, tsMillis int64)
	// Checkpoint, when set, is called after the Touch calls of a batch and
	// before the log cursor moves past it (the downsampler saves its dirty
	// hours): a crash then never loses the mark of an hour whose points are
	// written. While it fails the cursor stays put and the next batch
	// retries it; nothing is written twice but harmlessly.
	Checkpoint func() error
}

// Writer consumes a durable log into the store: batches bounded in points,
// retried with exponential backoff and jitter until they are written, and
// the log cursor committed only after a batch is in the store.
type Writer struct {
	cfg     WriterConfig
	log     *wal.Log
	logName string
	dir     func() Directory
	out     PointWriter
	metrics *Metrics
	logger  *slog.Logger
	now     func() time.Time
}

// ConsumerWriter is the writer's consumer name in the durable logs.
const ConsumerWriter = "writer"

// NewWriter returns a writer of l into out.
func NewWriter(cfg WriterConfig, l *wal.Log, logName string, dir func() Directory, out PointWriter, m *Metrics, logger *slog.Logger) *Writer {
	if cfg.BatchPoints <= 0 {
		cfg.BatchPoints = 5000
	}
	if cfg.BatchWait == 0 {
		cfg.BatchWait = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	return &Writer{cfg: cfg, log: l, logName: logName, dir: dir, out: out, metrics: m,
		logger: logger.With("log", logName, "consumer", ConsumerWriter), now: time.Now}
}

// Run writes until ctx ends. What is not written stays in the log for the
// next start.
func (w *Writer) Run(ctx context.Context) error {
	r, err := w.log.Reader(ConsumerWriter)
	if err != nil {
		return err
	}
	defer r.Close()
	backlog := w.metrics.Backlog.WithLabelValues(w.logName, ConsumerWriter)
	age := w.metrics.OldestAge.WithLabelValues(w.logName, ConsumerWriter)
	backlog.Set(float64(w.log.Backlog(ConsumerWriter)))

	// Up to Concurrency batches are written at once (InfluxDB uses a core
	// per request); the cursor only ever moves past batches that are all
	// written, in log order.
	n := w.cfg.Concurrency
	free := make(chan *batch, n+1)
	for range n + 1 {
		free <- &batch{}
	}
	jobs := make(chan *batch, n)
	done := make(chan *batch, n+1)
	wctx, cancel := context.WithCancel(ctx)
	var workers sync.WaitGroup
	// On return: no more jobs, abandon writes in progress, wait for them.
	defer workers.Wait()
	defer cancel()
	defer close(jobs)
	for range n {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for b := range jobs {
				if b.lp.points > 0 {
					b.err = w.writeAll(wctx, b.lp.buf)
				}
				done <- b
			}
		}()
	}

	var seq, nextCommit uint64
	pending := map[uint64]*batch{}
	commit := func(b *batch) error {
		pending[b.seq] = b
		for {
			b, ok := pending[nextCommit]
			if !ok {
				return nil
			}
			if b.err != nil {
				return b.err // ctx ended during an outage: the rest stays in the log
			}
			delete(pending, nextCommit)
			nextCommit++
			w.metrics.WritePoints.Add(float64(b.lp.points))
			now := w.now().UnixMilli()
			for i, ts := range b.lp.readingTS {
				w.metrics.Lag.Observe(float64(now-ts) / 1000)
				if w.cfg.Touch != nil {
					w.cfg.Touch(b.lp.readingK[i].String(), ts)
				}
			}
			if w.cfg.Touch != nil {
				for _, ts := range b.lp.eventTS {
					w.cfg.Touch("event", ts)
				}
			}
			if w.cfg.Checkpoint != nil {
				if err := w.cfg.Checkpoint(); err != nil {
					// Keep the cursor where it is: after a crash these
					// points are written again and their hours marked.
					w.logger.Warn("downsampling checkpoint failed; the log cursor waits for the next one", "err", err)
					free <- b
					continue
				}
			}
			if err := r.Commit(b.end); err != nil {
				return err
			}
			backlog.Set(float64(w.log.Backlog(ConsumerWriter)))
			if len(pending) == 0 {
				age.Set(0)
			}
			free <- b
		}
	}
	dec := record.NewDecoder()
	var spare []byte // sortSeries builds a batch here and leaves the old buffer
	for {
		// A free buffer first (finished batches give theirs back).
		var b *batch
		select {
		case b = <-free:
		case d := <-done:
			if err := commit(d); err != nil {
				return ignoreCancel(ctx, err)
			}
			continue
		}
		b.lp.reset()
		// Block for the first record (committing finished batches while
		// waiting), then take what is already durable.
		rec, err := w.next(ctx, r, done, commit, time.Time{})
		if err != nil {
			return ignoreCancel(ctx, err)
		}
		var oldest int64
		fillBy := time.Now().Add(w.cfg.BatchWait)
		for {
			rd, err := dec.Decode(rec)
			if err != nil {
				return fmt.Errorf("writer: corrupt record in log %s at %v: %w", w.logName, r.Pos(), err)
			}
			if oldest == 0 {
				oldest = rd.Received
			}
			w.appendRecord(&b.lp, rd)
			if b.lp.points >= w.cfg.BatchPoints {
				break
			}
			var ok bool
			if rec, ok, err = r.TryNext(); err != nil {
				return err
			}
			if !ok && w.cfg.BatchWait > 0 && time.Now().Before(fillBy) {
				// Wait for more until the batch's time is up.
				if rec, err = w.next(ctx, r, done, commit, fillBy); err != nil {
					return ignoreCancel(ctx, err)
				}
				ok = rec != nil
			}
			if !ok {
				break
			}
		}
		b.lp.sortSeries(&spare)
		b.seq, b.end, b.err = seq, r.Pos(), nil
		seq++
		backlog.Set(float64(w.log.Backlog(ConsumerWriter)))
		age.Set(w.now().Sub(time.Unix(0, oldest)).Seconds())
		select {
		case jobs <- b:
		case <-ctx.Done():
			return nil
		}
	}
}

// batch is one write in flight.
type batch struct {
	lp  lineBuilder
	seq uint64
	end wal.Pos
	err error
}

// next waits for the next durable record, handing finished batches to
// commit meanwhile. With a non-zero deadline it returns a nil record and no
// error when the deadline passes first.
func (w *Writer) next(ctx context.Context, r *wal.Reader, done <-chan *batch, commit func(*batch) error, deadline time.Time) ([]byte, error) {
	for {
		rec, ok, err := r.TryNext()
		if err != nil || ok {
			return rec, err
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil, nil
		}
		nctx, cancel := context.WithCancel(ctx)
		if !deadline.IsZero() {
			nctx, cancel = context.WithDeadline(ctx, deadline)
		}
		got := make(chan error, 1)
		var b []byte
		go func() {
			var err error
			b, _, err = r.Next(nctx)
			got <- err
		}()
		select {
		case err := <-got:
			cancel()
			if err != nil && !deadline.IsZero() && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return nil, nil
			}
			return b, err
		case d := <-done:
			cancel()
			<-got // the reader is ours again
			if err := commit(d); err != nil {
				return nil, err
			}
			if b != nil {
				return b, nil
			}
		}
	}
}

func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, wal.ErrClosed) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// writeAll writes lines until they are all in the store (or quarantined
// because the store refuses them), retrying whatever else fails. It returns
// an error only when ctx ends.
func (w *Writer) writeAll(ctx context.Context, lines []byte) error {
	backoff := w.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := w.out.Write(ctx, lines)
		w.metrics.WriteDuration.Observe(time.Since(start).Seconds())
		if err == nil {
			w.metrics.WriteBatches.WithLabelValues("ok").Inc()
			if attempt > 1 {
				w.logger.Info("InfluxDB write succeeded after retries", "attempts", attempt)
			}
			return nil
		}
		var we *WriteError
		if !errors.As(err, &we) {
			we = &WriteError{Class: "other", Err: err}
		}
		w.metrics.WriteErrors.WithLabelValues(we.Class).Inc()
		switch we.Class {
		case "too_large":
			w.metrics.WriteBatches.WithLabelValues("split").Inc()
			return w.split(ctx, lines)
		case "bad_data":
			w.metrics.WriteBatches.WithLabelValues("partial").Inc()
			return w.bisect(ctx, lines, we)
		}
		w.metrics.WriteBatches.WithLabelValues("retry").Inc()
		wait := backoff
		if we.RetryAfter > 0 {
			wait = we.RetryAfter
		} else {
			// Full jitter in [backoff/2, backoff].
			wait = backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
			backoff = min(backoff*2, w.cfg.MaxBackoff)
		}
		if attempt == 1 || attempt%10 == 0 {
			w.logger.Warn("InfluxDB write failed; retrying, nothing is dropped", "attempt", attempt, "wait", wait, "err", err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// split writes the two halves of a batch the store found too large.
func (w *Writer) split(ctx context.Context, lines []byte) error {
	a, b := halves(lines)
	if b == nil {
		// One line too large: the store will never take it.
		return w.quarantine(ctx, a, "the store refused a single point as too large")
	}
	if err := w.writeAll(ctx, a); err != nil {
		return err
	}
	return w.writeAll(ctx, b)
}

// bisect finds the lines the store refuses after a partial write: the good
// points were written, so re-writing a half that succeeds is harmless
// (points are keyed by time) and a refused single line is quarantined.
func (w *Writer) bisect(ctx context.Context, lines []byte, cause *WriteError) error {
	a, b := halves(lines)
	if b == nil {
		return w.quarantine(ctx, a, cause.Err.Error())
	}
	if err := w.writeAll(ctx, a); err != nil {
		return err
	}
	return w.writeAll(ctx, b)
}

func (w *Writer) quarantine(ctx context.Context, line []byte, why string) error {
	w.metrics.QuarantinedByDB.Inc()
	w.metrics.Rejected.WithLabelValues(string(ReasonStoreRefused)).Inc()
	w.logger.Error("InfluxDB refused a point; moved to quarantine", "err", why, "line", trunc(string(line), 200))
	var lp lineBuilder
	lp.rejected(w.now().UnixNano(), "", "", &record.Rejected{
		Reason: ReasonStoreRefused, Message: "InfluxDB refused the point: " + why, Payload: line, Size: len(line), Index: -1,
	})
	// The quarantine record is plain; if even it is refused, stop retrying
	// it but say so loudly rather than loop forever.
	if err := w.out.Write(ctx, lp.buf); err != nil {
		w.logger.Error("InfluxDB refused the quarantine record too", "err", err)
	}
	return nil
}

// ReasonStoreRefused is the quarantine reason for points InfluxDB refused.
const ReasonStoreRefused devices.Reason = "store_refused"

func halves(lines []byte) ([]byte, []byte) {
	lines = trimNL(lines)
	n := 0
	for _, c := range lines {
		if c == '\n' {
			n++
		}
	}
	if n == 0 {
		return lines, nil
	}
	// Cut at the newline nearest the middle line.
	want, seen := (n+1)/2, 0
	for i, c := range lines {
		if c == '\n' {
			seen++
			if seen == want {
				return lines[:i+1], lines[i+1:]
			}
		}
	}
	return lines, nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

func (w *Writer) appendRecord(lp *lineBuilder, rec *record.Record) {
	var loc Location
	if rec.Type != record.TypeRejected {
		if d, ok := w.dir().Device(rec.Device); ok {
			loc = d.Loc
		}
	}
	switch rec.Type {
	case record.TypeReadings:
		for i := range rec.Readings {
			lp.reading(rec, &rec.Readings[i], &loc)
		}
	case record.TypeEvents:
		for i := range rec.Events {
			lp.event(rec, &rec.Events[i], &loc)
		}
	case record.TypeStatus:
		lp.status(rec, &loc)
	case record.TypeRejected:
		lp.rejected(rec.Received, rec.Gateway, rec.Device, &rec.Rejected)
	}
}

// lineBuilder builds InfluxDB line protocol. Tags are in key order, as
// InfluxDB prefers; ids are validated ([a-z0-9._-]) so they need no
// escaping.
type lineBuilder struct {
	buf       []byte
	points    int
	ends      []int32 // where each line ends in buf (after its newline)
	readingTS []int64
	readingK  []devices.Kind // the measurement of each reading in readingTS
	eventTS   []int64        // times of the events (measurement "event")

	order []lineRef // for sortSeries
}

// lineRef is one line of a batch: buf[start:end], series key buf[start:key].
type lineRef struct{ start, key, end int32 }

func (lp *lineBuilder) reset() {
	lp.buf = lp.buf[:0]
	lp.points = 0
	lp.ends = lp.ends[:0]
	lp.readingTS = lp.readingTS[:0]
	lp.readingK = lp.readingK[:0]
	lp.eventTS = lp.eventTS[:0]
}

// sortSeries orders the batch's lines by series key (measurement and tags),
// keeping log order (so time order) within a series: InfluxDB then appends
// each series' values in one run to its cache and WAL entry instead of
// interleaving ten thousand devices. A batch already in order (a gateway's
// batch of one device) is left as it is. The sorted lines are built in
// *spare, which then holds the old buffer: one spare serves every batch.
func (lp *lineBuilder) sortSeries(spare *[]byte) {
	if len(lp.ends) < 2 {
		return
	}
	lp.order = lp.order[:0]
	start := int32(0)
	sorted := true
	for i, end := range lp.ends {
		line := lp.buf[start:end]
		key := bytes.IndexByte(line, ' ') // ids and tag values need no escaping
		if key < 0 {
			key = len(line)
		}
		r := lineRef{start: start, key: start + int32(key), end: end}
		if i > 0 && sorted {
			p := lp.order[i-1]
			sorted = bytes.Compare(lp.buf[p.start:p.key], lp.buf[r.start:r.key]) <= 0
		}
		lp.order = append(lp.order, r)
		start = end
	}
	if sorted {
		return
	}
	buf := lp.buf
	slices.SortStableFunc(lp.order, func(a, b lineRef) int {
		return bytes.Compare(buf[a.start:a.key], buf[b.start:b.key])
	})
	out := (*spare)[:0]
	for i, r := range lp.order {
		out = append(out, buf[r.start:r.end]...)
		lp.ends[i] = int32(len(out))
	}
	lp.buf, *spare = out, buf
}

func (lp *lineBuilder) tags(device, gateway string, loc *Location, port int, extra ...string) {
	b := lp.buf
	tag := func(k, v string) {
		if v != "" {
			b = append(b, ',')
			b = append(b, k...)
			b = append(b, '=')
			b = append(b, v...)
		}
	}
	tag("building", loc.Building)
	tag("community", loc.Community)
	tag("device", device)
	tag("district", loc.District)
	tag("gateway", gateway)
	if port > 0 {
		b = append(b, ",port="...)
		b = strconv.AppendInt(b, int64(port), 10)
	}
	tag("street", loc.Street)
	for i := 0; i+1 < len(extra); i += 2 {
		tag(extra[i], extra[i+1])
	}
	tag("unit", loc.Unit)
	lp.buf = b
}

func (lp *lineBuilder) end(tsNS int64) {
	lp.buf = append(lp.buf, ' ')
	lp.buf = strconv.AppendInt(lp.buf, tsNS, 10)
	lp.buf = append(lp.buf, '\n')
	lp.ends = append(lp.ends, int32(len(lp.buf)))
	lp.points++
}

func (lp *lineBuilder) reading(rec *record.Record, r *devices.Reading, loc *Location) {
	lp.buf = append(lp.buf, rec.Kind.String()...)
	port := 0
	if v, ok := r.Get(devices.FieldPort); ok {
		port = int(v)
	}
	lp.tags(rec.Device, rec.Gateway, loc, port)
	lp.buf = append(lp.buf, " seq="...)
	lp.buf = strconv.AppendUint(lp.buf, r.Seq, 10)
	lp.buf = append(lp.buf, 'i')
	for f := devices.Field(0); f < devices.NumFields; f++ {
		if !r.Set.Has(f) || f == devices.FieldPort {
			continue
		}
		sp := f.Spec()
		lp.buf = append(lp.buf, ',')
		lp.buf = append(lp.buf, sp.Name...)
		lp.buf = append(lp.buf, '=')
		v := r.Vals[f]
		switch sp.Type {
		case devices.TypeBool:
			lp.buf = strconv.AppendBool(lp.buf, v != 0)
		case devices.TypeState:
			lp.buf = append(lp.buf, '"')
			lp.buf = append(lp.buf, devices.PileState(v).String()...)
			lp.buf = append(lp.buf, '"')
		default:
			// Always a float, so a field never changes type between points.
			// (230 without a suffix is a float in line protocol.)
			lp.buf = strconv.AppendFloat(lp.buf, v, 'f', -1, 64)
		}
	}
	lp.end(r.TS * int64(time.Millisecond))
	lp.readingTS = append(lp.readingTS, r.TS)
	lp.readingK = append(lp.readingK, rec.Kind)
}

func (lp *lineBuilder) event(rec *record.Record, e *devices.Event, loc *Location) {
	lp.buf = append(lp.buf, "event"...)
	lp.tags(rec.Device, rec.Gateway, loc, e.Port, "type", e.Type.String())
	lp.buf = append(lp.buf, " seq="...)
	lp.buf = strconv.AppendUint(lp.buf, e.Seq, 10)
	lp.buf = append(lp.buf, 'i')
	lp.buf = append(lp.buf, ",kind="...)
	lp.str(rec.Kind.String())
	if e.Code != "" {
		lp.buf = append(lp.buf, ",code="...)
		lp.str(e.Code)
	}
	if e.Detail != "" {
		lp.buf = append(lp.buf, ",detail="...)
		lp.str(e.Detail)
	}
	lp.end(e.TS * int64(time.Millisecond))
	lp.eventTS = append(lp.eventTS, e.TS)
}

func (lp *lineBuilder) status(rec *record.Record, loc *Location) {
	st := &rec.Status
	lp.buf = append(lp.buf, "status"...)
	lp.tags(rec.Device, rec.Gateway, loc, 0)
	lp.buf = append(lp.buf, " online="...)
	lp.buf = strconv.AppendBool(lp.buf, st.Online)
	opt := func(name string, v *int64) {
		if v != nil {
			lp.buf = append(lp.buf, ',')
			lp.buf = append(lp.buf, name...)
			lp.buf = append(lp.buf, '=')
			lp.buf = strconv.AppendInt(lp.buf, *v, 10)
			lp.buf = append(lp.buf, 'i')
		}
	}
	opt("uptime_s", st.UptimeS)
	opt("queue_depth", st.QueueDepth)
	opt("queue_age_s", st.QueueAgeS)
	opt("poll_errors", st.PollErrors)
	if st.Clock != "" {
		lp.buf = append(lp.buf, ",clock="...)
		lp.str(string(st.Clock))
	}
	if st.Version != "" {
		lp.buf = append(lp.buf, ",version="...)
		lp.str(st.Version)
	}
	ts := st.TS * int64(time.Millisecond)
	if st.TS == 0 { // the Last Will has no ts: use the time it arrived
		ts = rec.Received
	}
	lp.end(ts)
}

func (lp *lineBuilder) rejected(tsNS int64, gw, dev string, rj *record.Rejected) {
	lp.buf = append(lp.buf, "rejected,reason="...)
	lp.buf = append(lp.buf, rj.Reason...) // a fixed set of [a-z_] words
	lp.buf = append(lp.buf, " message="...)
	lp.str(rj.Message)
	lp.buf = append(lp.buf, ",topic="...)
	lp.str(rj.Topic)
	if gw != "" {
		lp.buf = append(lp.buf, ",gateway="...)
		lp.str(gw)
	}
	if dev != "" {
		lp.buf = append(lp.buf, ",device="...)
		lp.str(dev)
	}
	if utf8.Valid(rj.Payload) {
		lp.buf = append(lp.buf, ",payload="...)
		lp.str(string(rj.Payload))
	} else {
		lp.buf = append(lp.buf, ",payload_b64="...)
		lp.str(base64.StdEncoding.EncodeToString(rj.Payload))
	}
	lp.buf = append(lp.buf, ",size="...)
	lp.buf = strconv.AppendInt(lp.buf, int64(rj.Size), 10)
	lp.buf = append(lp.buf, "i,index="...)
	lp.buf = strconv.AppendInt(lp.buf, int64(rj.Index), 10)
	lp.buf = append(lp.buf, 'i')
	lp.end(tsNS)
}

// str appends a line protocol string field value: quotes and backslashes
// are escaped; newlines are written as the two characters \n so that a
// point never spans lines.
func (lp *lineBuilder) str(s string) {
	lp.buf = append(lp.buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			lp.buf = append(lp.buf, '\\', c)
		case '\n':
			lp.buf = append(lp.buf, '\\', 'n')
		case '\r':
			lp.buf = append(lp.buf, '\\', 'r')
		default:
			lp.buf = append(lp.buf, c)
		}
	}
	lp.buf = append(lp.buf, '"')
}
