// Package influx writes alerts to InfluxDB so that dashboards can draw
// maps and tables from InfluxDB alone:
//
//   - alert: one point per alert transition, read from the store's audit
//     log with a cursor kept in the store, so a transition is written once
//     it is committed, even across restarts and InfluxDB outages;
//   - alert_open: every SnapshotInterval, one point per open alert;
//   - building: every SnapshotInterval, one point per building of the
//     registry with its position and worst open hazard.
//
// docs/alerting.md lists the tags and fields and shows InfluxQL queries.
package influx

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// PointWriter is the part of influxdb-client-go's blocking write API the
// writer uses; tests swap it.
type PointWriter interface {
	WritePoint(ctx context.Context, point ...*write.Point) error
}

// Registry gives the current registry snapshot; *registry.Store is one.
type Registry interface{ Current() *registry.Snapshot }

// ClientConfig says where InfluxDB is.
type ClientConfig struct {
	URL             string // e.g. http://127.0.0.1:8086
	Username        string // InfluxDB 1.8 auth; empty when off
	Password        string
	Database        string
	RetentionPolicy string // empty: the database's default
}

// NewClient returns a blocking point writer for InfluxDB 1.8 (through its
// v2-compatible write API) and a function that closes it.
func NewClient(c ClientConfig) (PointWriter, func()) {
	token := ""
	if c.Username != "" {
		token = c.Username + ":" + c.Password
	}
	bucket := c.Database
	if c.RetentionPolicy != "" {
		bucket += "/" + c.RetentionPolicy
	}
	cl := influxdb2.NewClientWithOptions(c.URL, token, influxdb2.DefaultOptions().SetHTTPRequestTimeout(30))
	return cl.WriteAPIBlocking("", bucket), cl.Close
}

// Options configure a Writer.
type Options struct {
	SnapshotInterval time.Duration // default 1 min
	PollInterval     time.Duration // how often the audit log is read; default 1 s
	BatchSize        int           // points per write; default 5000
	Now              func() time.Time
	Logger           *slog.Logger
	Registerer       prometheus.Registerer
}

// Writer writes alert points and snapshots.
type Writer struct {
	st  *store.Store
	reg Registry
	w   PointWriter
	o   Options
	log *slog.Logger

	points  *prometheus.CounterVec
	errs    prometheus.Counter
	lastSnp time.Time
}

// metaCursor is the store meta key of the audit log cursor.
const metaCursor = "influx_audit_cursor"

// New returns a writer.
func New(st *store.Store, reg Registry, w PointWriter, o Options) (*Writer, error) {
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	wr := &Writer{st: st, reg: reg, w: w, o: o, log: o.Logger}
	if wr.log == nil {
		wr.log = slog.New(slog.DiscardHandler)
	}
	wr.points = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chargewatch_alerting_influx_points_total",
		Help: "Points written to InfluxDB by measurement (alert, alert_open, building).",
	}, []string{"measurement"})
	wr.errs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "chargewatch_alerting_influx_write_errors_total",
		Help: "Failed writes to InfluxDB (retried).",
	})
	for _, m := range []string{"alert", "alert_open", "building"} {
		wr.points.WithLabelValues(m)
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{wr.points, wr.errs} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("influx writer: register metrics: %w", err)
			}
		}
	}
	return wr, nil
}

// Run writes transitions as they are committed and snapshots every
// SnapshotInterval until ctx is done. Failed writes are retried with
// exponential backoff up to a minute; nothing is skipped.
func (w *Writer) Run(ctx context.Context) error {
	t := time.NewTicker(w.o.PollInterval)
	defer t.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
		}
		err := w.Flush(ctx)
		switch {
		case err == nil:
			if backoff > 0 {
				w.log.Info("writing alerts to InfluxDB works again")
			}
			backoff = 0
		case ctx.Err() != nil:
			return nil
		default:
			if backoff == 0 {
				w.log.Error("writing alerts to InfluxDB failed; retrying", "err", err)
			}
			backoff = min(max(2*backoff, time.Second), time.Minute)
		}
	}
}

// Flush writes every committed transition not yet written, then a snapshot
// if SnapshotInterval has passed since the last one.
func (w *Writer) Flush(ctx context.Context) error {
	if err := w.transitions(ctx); err != nil {
		return err
	}
	now := w.o.Now()
	if now.Sub(w.lastSnp) >= w.o.SnapshotInterval {
		if err := w.Snapshot(ctx, now); err != nil {
			return err
		}
		// The aligned time, not now: a slow poll must not push every later
		// snapshot further past its minute (the "now" panels read the
		// minute that ends 10 s before the range's end).
		w.lastSnp = now.Truncate(w.o.SnapshotInterval)
	}
	return nil
}

func (w *Writer) write(ctx context.Context, measurement string, pts []*write.Point) error {
	for len(pts) > 0 {
		n := min(len(pts), w.o.BatchSize)
		if err := w.w.WritePoint(ctx, pts[:n]...); err != nil {
			w.errs.Inc()
			return fmt.Errorf("write %d %s points to InfluxDB: %w", n, measurement, err)
		}
		w.points.WithLabelValues(measurement).Add(float64(n))
		pts = pts[n:]
	}
	return nil
}

func (w *Writer) transitions(ctx context.Context) error {
	b, err := w.st.Meta(ctx, metaCursor)
	if err != nil {
		return err
	}
	var cursor int64
	if b != nil {
		if cursor, err = strconv.ParseInt(string(b), 10, 64); err != nil {
			return fmt.Errorf("influx writer: corrupt cursor %q", b)
		}
	}
	for {
		au, err := w.st.AuditSince(ctx, cursor, w.o.BatchSize)
		if err != nil || len(au) == 0 {
			return err
		}
		ids := make([]int64, 0, len(au))
		for _, x := range au {
			ids = append(ids, x.AlertID)
		}
		alerts, err := w.st.AlertsByID(ctx, ids)
		if err != nil {
			return err
		}
		pts := make([]*write.Point, 0, len(au))
		for _, x := range au {
			if a := alerts[x.AlertID]; a != nil { // purged cancelled alerts are skipped
				pts = append(pts, AlertPoint(a, &x))
			}
		}
		if err := w.write(ctx, "alert", pts); err != nil {
			return err
		}
		cursor = au[len(au)-1].ID
		if err := w.st.SetMeta(ctx, metaCursor, []byte(strconv.FormatInt(cursor, 10))); err != nil {
			return err
		}
	}
}

func locationTags(p *write.Point, l *alerting.Location) {
	for _, t := range []struct{ k, v string }{
		{"district", l.District}, {"street", l.Street}, {"community", l.Community}, {"building", l.Building},
		{"unit", l.Unit}, {"device", l.Device}, {"gateway", l.Gateway},
	} {
		if t.v != "" {
			p.AddTag(t.k, t.v)
		}
	}
}

// AlertPoint is the alert measurement's point for one transition. Its time
// is the transition's (wall) time plus the audit id's last six digits in
// nanoseconds, so that two transitions in one millisecond do not overwrite
// each other, and writing it again overwrites itself.
func AlertPoint(a *alerting.Alert, au *alerting.Audit) *write.Point {
	p := write.NewPointWithMeasurement("alert").
		AddTag("rule", string(a.Rule)).AddTag("severity", au.Severity.String()).
		AddTag("state", string(au.To)).AddTag("action", string(au.Action))
	locationTags(p, &a.Location)
	if a.Port != 0 {
		p.AddTag("port", strconv.Itoa(a.Port))
	}
	p.AddField("id", a.ID).AddField("audit_id", au.ID).AddField("actor", au.Actor).
		AddField("value", a.Value).AddField("limit", a.Limit).AddField("started_at", a.StartedAt).
		AddField("event_ts", au.EventTS).AddField("summary", a.Summary).
		AddField("relapse", a.Relapse).AddField("silenced", a.SilenceID != 0)
	if a.Location.Lat != 0 || a.Location.Lon != 0 {
		p.AddField("lat", a.Location.Lat).AddField("lon", a.Location.Lon)
	}
	if au.Outcome != "" {
		p.AddField("outcome", string(au.Outcome))
	}
	// What accountability dashboards need and InfluxQL cannot compute from
	// two points: seconds from firing to this acknowledgement or closing,
	// and whether a resolution came with nobody having acknowledged.
	if a.FiredAt > 0 && au.At >= a.FiredAt {
		switch au.Action {
		case alerting.ActionAck:
			p.AddField("ack_s", float64(au.At-a.FiredAt)/1000)
		case alerting.ActionClose:
			p.AddField("close_s", float64(au.At-a.FiredAt)/1000)
		}
	}
	if au.Action == alerting.ActionResolve {
		// The alert is the committed one, possibly acknowledged later: what
		// counts is whether it was acknowledged before this resolution.
		p.AddField("resolved_unacked", a.AckedAt == 0 || a.AckedAt > au.At)
	}
	if au.Note != "" {
		p.AddField("note", au.Note)
	}
	return p.SetTime(time.UnixMilli(au.At).Add(time.Duration(au.ID % 1_000_000)))
}

// Snapshot writes the alert_open and building snapshots at time now,
// aligned down to the snapshot interval: points of one snapshot share their
// millisecond (each a nanosecond apart), so `WHERE time > now() - 1m`
// selects the newest snapshot.
func (w *Writer) Snapshot(ctx context.Context, now time.Time) error {
	at := now.Truncate(w.o.SnapshotInterval)
	open, err := w.st.OpenAlerts(ctx)
	if err != nil {
		return err
	}
	pts := make([]*write.Point, 0, len(open))
	type worst struct {
		sev   alerting.Severity
		rule  alerting.Rule
		id    int64
		count int
	}
	byBuilding := map[string]*worst{}
	for i, a := range open {
		p := write.NewPointWithMeasurement("alert_open").
			AddTag("rule", string(a.Rule)).AddTag("severity", a.Severity.String()).AddTag("state", string(a.State))
		locationTags(p, &a.Location)
		if a.Port != 0 {
			p.AddTag("port", strconv.Itoa(a.Port))
		}
		p.AddField("id", a.ID).AddField("value", a.Value).AddField("limit", a.Limit).
			AddField("started_at", a.StartedAt).AddField("age_s", max(0, at.UnixMilli()-a.StartedAt)/1000).
			AddField("severity_level", int(a.Severity)).AddField("summary", a.Summary).
			AddField("silenced", a.SilenceID != 0).AddField("relapse", a.Relapse)
		if a.Location.Lat != 0 || a.Location.Lon != 0 {
			p.AddField("lat", a.Location.Lat).AddField("lon", a.Location.Lon)
		}
		pts = append(pts, p.SetTime(at.Add(time.Duration(i))))
		if b := a.Location.Building; b != "" && a.State != alerting.StateResolved {
			wb := byBuilding[b]
			if wb == nil {
				wb = &worst{}
				byBuilding[b] = wb
			}
			wb.count++
			if a.Severity > wb.sev || (a.Severity == wb.sev && a.ID < wb.id) {
				wb.sev, wb.rule, wb.id = a.Severity, a.Rule, a.ID
			}
		}
	}
	if err := w.write(ctx, "alert_open", pts); err != nil {
		return err
	}
	pts = pts[:0]
	i := 0
	for _, d := range w.reg.Current().Districts() {
		for _, st := range d.Streets {
			for _, c := range st.Communities {
				for _, b := range c.Buildings {
					wb := byBuilding[b.ID]
					if wb == nil {
						wb = &worst{}
					}
					rule := string(wb.rule)
					if rule == "" {
						rule = "none"
					}
					p := write.NewPointWithMeasurement("building").
						AddTag("building", b.ID).AddTag("community", c.ID).AddTag("street", st.ID).AddTag("district", d.ID).
						AddField("name", b.Name).AddField("lat", b.Lat).AddField("lon", b.Lon).
						AddField("open_alerts", wb.count).AddField("worst_severity", int(wb.sev)).
						AddField("worst_rule", rule).AddField("worst_alert_id", wb.id)
					pts = append(pts, p.SetTime(at.Add(time.Duration(i))))
					i++
				}
			}
		}
	}
	return w.write(ctx, "building", pts)
}
