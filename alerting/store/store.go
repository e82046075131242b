// Package store keeps the alerting engine's durable state in SQLite (the
// pure-Go driver): alerts and their audit log, the engine's checkpoints
// (detector state per device and gateway, and the input cursor), silences
// and hashed API tokens. The schema is created and moved forward by
// numbered migrations (migrations/NNNN_what.sql).
//
// The engine writes through Commit only, one transaction per call, so the
// alerts, their audit entries, the detector state that led to them and the
// cursor of the input they came from become durable together: after a
// crash (kill -9 included) the engine resumes from the last commit, and
// replaying the input from its cursor gives the same alerts, neither lost
// nor doubled. Readers (the API, the InfluxDB writer) use a separate pool
// and see committed data only.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/internal/sqlitedb"
)

// ErrNotFound is returned for an alert, silence or token that does not
// exist.
var ErrNotFound = alerting.ErrNotFound

// Store is the alerting database.
type Store struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // readers
	path string
}

// Options tune the database.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "NORMAL" (the default)
	// survives a crash of the process (kill -9) and loses at most the last
	// commits on a power cut; "FULL" survives a power cut too, at the cost
	// of an fsync per commit.
	Synchronous string
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

var schema = sqlitedb.Schema{FS: migrationFiles, Table: "schema_migrations", Name: "the alert database"}

// Open opens (creating and migrating if need be) the alerting database at
// path.
func Open(ctx context.Context, file string, opt Options) (*Store, error) {
	if file == "" {
		return nil, errors.New("open alert store: no database path: give one, e.g. --alerts-db /var/lib/chargewatch/alerts.db")
	}
	w, err := sqlitedb.Open(ctx, file, sqlitedb.Options{Synchronous: opt.Synchronous, MaxOpenConns: 1})
	if err != nil {
		return nil, fmt.Errorf("open alert store %q: %w", file, err)
	}
	if err := schema.Migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open alert store %q: %w", file, err)
	}
	r, err := sqlitedb.Open(ctx, file, sqlitedb.Options{Synchronous: opt.Synchronous, ReadOnly: true, MaxOpenConns: 4})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open alert store %q: %w", file, err)
	}
	return &Store{w: w, r: r, path: file}, nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.r.Close(), s.w.Close()) }

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int { return schema.Latest() }

// State is one checkpointed state blob: a device's or a gateway's. A nil
// Blob deletes it.
type State struct {
	ID   string
	Blob []byte
}

// Batch is what one engine commit writes, in one transaction.
type Batch struct {
	Alerts   []*alerting.Alert // inserted or replaced
	Audit    []alerting.Audit  // appended in order; their IDs are filled in
	Devices  []State
	Gateways []State
	Meta     map[string][]byte
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Alerts) == 0 && len(b.Audit) == 0 && len(b.Devices) == 0 && len(b.Gateways) == 0 && len(b.Meta) == 0
}

// Reset empties the batch, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.Alerts)
	b.Alerts = b.Alerts[:0]
	b.Audit = b.Audit[:0]
	clear(b.Devices)
	b.Devices = b.Devices[:0]
	clear(b.Gateways)
	b.Gateways = b.Gateways[:0]
	clear(b.Meta)
}

// Commit writes a batch in one transaction and fills in the audit entries'
// IDs. Alerts are written inactive first, so a key's old alert leaves the
// active set before its new one enters it.
func (s *Store) Commit(ctx context.Context, b *Batch) error {
	if b.Empty() {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit alerts: %w", err)
	}
	defer tx.Rollback()
	if len(b.Alerts) > 0 {
		// An upsert on the id only: a second active alert for a key is an
		// error, never a silent replacement (INSERT OR REPLACE would delete
		// the first).
		st, err := tx.PrepareContext(ctx, `INSERT INTO alerts
			(id, rule, severity, state, place, port, district, street, community, building, unit, device, started_at, updated_at, closed_at, outcome, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, severity = excluded.severity, state = excluded.state,
				place = excluded.place, port = excluded.port, district = excluded.district, street = excluded.street,
				community = excluded.community, building = excluded.building, unit = excluded.unit, device = excluded.device,
				started_at = excluded.started_at, updated_at = excluded.updated_at, closed_at = excluded.closed_at,
				outcome = excluded.outcome, doc = excluded.doc`)
		if err != nil {
			return fmt.Errorf("commit alerts: %w", err)
		}
		defer st.Close()
		order := slices.Clone(b.Alerts)
		slices.SortStableFunc(order, func(x, y *alerting.Alert) int {
			return boolInt(x.State.Active()) - boolInt(y.State.Active())
		})
		for _, a := range order {
			doc, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("commit alert %d: %w", a.ID, err)
			}
			l := &a.Location
			if _, err := st.ExecContext(ctx, a.ID, string(a.Rule), int(a.Severity), string(a.State), a.Place, a.Port,
				l.District, l.Street, l.Community, l.Building, l.Unit, l.Device,
				a.StartedAt, a.UpdatedAt, a.ClosedAt, string(a.Outcome), string(doc)); err != nil {
				return fmt.Errorf("commit alert %d (%s %s): %w", a.ID, a.Key(), a.State, err)
			}
		}
	}
	if len(b.Audit) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO audit
			(alert_id, at, event_ts, actor, action, from_state, to_state, outcome, note, severity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
		if err != nil {
			return fmt.Errorf("commit audit: %w", err)
		}
		defer st.Close()
		for i := range b.Audit {
			a := &b.Audit[i]
			if err := st.QueryRowContext(ctx, a.AlertID, a.At, a.EventTS, a.Actor, string(a.Action), string(a.From),
				string(a.To), string(a.Outcome), a.Note, int(a.Severity)).Scan(&a.ID); err != nil {
				return fmt.Errorf("commit audit of alert %d: %w", a.AlertID, err)
			}
		}
	}
	if err := putStates(ctx, tx, "device_state", "device", b.Devices); err != nil {
		return err
	}
	if err := putStates(ctx, tx, "gateway_state", "gateway", b.Gateways); err != nil {
		return err
	}
	for k, v := range b.Meta {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("commit meta %q: %w", k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit alerts: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func putStates(ctx context.Context, tx *sql.Tx, table, key string, states []State) error {
	if len(states) == 0 {
		return nil
	}
	// Upserts go in statements of up to statesPerStmt rows: a commit can
	// checkpoint every device of a city, and one statement per row cost
	// most of the commit's time in the statement round trips.
	upsert := func(n int) string {
		var q strings.Builder
		q.WriteString(`INSERT INTO ` + table + ` (` + key + `, state) VALUES `)
		for i := range n {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?)")
		}
		q.WriteString(` ON CONFLICT (` + key + `) DO UPDATE SET state = excluded.state`)
		return q.String()
	}
	var full *sql.Stmt
	var args []any
	var ids []string
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		var err error
		if len(ids) == statesPerStmt {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, upsert(statesPerStmt)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, upsert(len(ids)), args...)
		}
		if err != nil {
			return fmt.Errorf("%q to %q: %w", ids[0], ids[len(ids)-1], err)
		}
		args, ids = args[:0], ids[:0]
		return nil
	}
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	var del *sql.Stmt
	for _, x := range states {
		if x.Blob == nil {
			if del == nil {
				var err error
				if del, err = tx.PrepareContext(ctx, `DELETE FROM `+table+` WHERE `+key+` = ?`); err != nil {
					return fmt.Errorf("commit %s: %w", table, err)
				}
				defer del.Close()
			}
			// Upserts of this id queued before the delete go first.
			for _, id := range ids {
				if id == x.ID {
					if err := flush(); err != nil {
						return fmt.Errorf("commit %s of %w", table, err)
					}
					break
				}
			}
			if _, err := del.ExecContext(ctx, x.ID); err != nil {
				return fmt.Errorf("commit %s of %q: %w", table, x.ID, err)
			}
			continue
		}
		args = append(args, x.ID, x.Blob)
		ids = append(ids, x.ID)
		if len(ids) == statesPerStmt {
			if err := flush(); err != nil {
				return fmt.Errorf("commit %s of %w", table, err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("commit %s of %w", table, err)
	}
	return nil
}

// statesPerStmt is how many device or gateway states one upsert writes.
const statesPerStmt = 256

// Meta returns a value of the meta table, nil if not set.
func (s *Store) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta sets a value of the meta table outside an engine commit (for a
// reader's own cursor).
func (s *Store) SetMeta(ctx context.Context, key string, v []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("write meta %q: %w", key, err)
	}
	return nil
}

// States calls f for every checkpointed device (table "device") or gateway
// ("gateway") state. The blob is only valid during the call.
func (s *Store) States(ctx context.Context, of string, f func(id string, blob []byte) error) error {
	var q string
	switch of {
	case "device":
		q = `SELECT device, state FROM device_state`
	case "gateway":
		q = `SELECT gateway, state FROM gateway_state`
	default:
		return fmt.Errorf("unknown state table %q", of)
	}
	rows, err := s.w.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read %s states: %w", of, err)
	}
	defer rows.Close()
	var id string
	var blob sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&id, &blob); err != nil {
			return fmt.Errorf("read %s states: %w", of, err)
		}
		if err := f(id, blob); err != nil {
			return err
		}
	}
	return rows.Err()
}

// OpenAlerts returns every alert that is not closed or cancelled.
func (s *Store) OpenAlerts(ctx context.Context) ([]*alerting.Alert, error) {
	return s.queryAlerts(ctx, s.r, `SELECT doc FROM alerts WHERE state NOT IN ('closed', 'cancelled') ORDER BY id`)
}

// Rectified is a rectified close, for relapse detection.
type Rectified struct {
	Key      alerting.Key
	ID       int64
	ClosedAt int64
}

// RectifiedSince returns the alerts closed as rectified at or after since.
func (s *Store) RectifiedSince(ctx context.Context, since int64) ([]Rectified, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT id, rule, place, port, closed_at FROM alerts
		WHERE outcome = 'rectified' AND closed_at >= ? ORDER BY closed_at`, since)
	if err != nil {
		return nil, fmt.Errorf("read rectified alerts: %w", err)
	}
	defer rows.Close()
	var out []Rectified
	for rows.Next() {
		var r Rectified
		var rule string
		if err := rows.Scan(&r.ID, &rule, &r.Key.Place, &r.Key.Port, &r.ClosedAt); err != nil {
			return nil, fmt.Errorf("read rectified alerts: %w", err)
		}
		r.Key.Rule = alerting.Rule(rule)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MaxAlertID returns the highest alert id in use, 0 when there is none.
func (s *Store) MaxAlertID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.w.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM alerts`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read alert ids: %w", err)
	}
	return id, nil
}

// PurgeCancelled deletes cancelled alerts (and their audit entries) last
// updated before the given time, and returns how many it deleted.
func (s *Store) PurgeCancelled(ctx context.Context, before int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM alerts WHERE state = 'cancelled' AND updated_at < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("purge cancelled alerts: %w", err)
	}
	return res.RowsAffected()
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) queryAlerts(ctx context.Context, q queryer, query string, args ...any) ([]*alerting.Alert, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	defer rows.Close()
	var out []*alerting.Alert
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		a := new(alerting.Alert)
		if err := json.Unmarshal(doc, a); err != nil {
			return nil, fmt.Errorf("read alerts: corrupt alert document: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Filter selects alerts. Empty fields do not filter. Results are newest
// first (by id), at most Limit (default 100, at most 1000), with ids below
// Before when it is set: pass the last id of a page to get the next.
type Filter struct {
	States     []alerting.State
	Severities []alerting.Severity
	Rules      []alerting.Rule
	District   string
	Street     string
	Community  string
	Building   string
	Unit       string
	Device     string
	Since      int64 // started at or after, Unix ms
	Until      int64 // started before
	Before     int64 // id below
	Limit      int
	Scope      *alerting.Scope // nil: no scope restriction
}

// MaxLimit bounds Filter.Limit.
const MaxLimit = 1000

// Alerts returns the alerts that match f.
func (s *Store) Alerts(ctx context.Context, f *Filter) ([]*alerting.Alert, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	strs := func(n int, get func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = get(i)
		}
		return out
	}
	in("state", strs(len(f.States), func(i int) string { return string(f.States[i]) }))
	in("rule", strs(len(f.Rules), func(i int) string { return string(f.Rules[i]) }))
	if len(f.Severities) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(f.Severities)), ",")
		where = append(where, "severity IN ("+ph+")")
		for _, v := range f.Severities {
			args = append(args, int(v))
		}
	}
	eq("district", f.District)
	eq("street", f.Street)
	eq("community", f.Community)
	eq("building", f.Building)
	eq("unit", f.Unit)
	eq("device", f.Device)
	if f.Since != 0 {
		where = append(where, "started_at >= ?")
		args = append(args, f.Since)
	}
	if f.Until != 0 {
		where = append(where, "started_at < ?")
		args = append(args, f.Until)
	}
	if f.Before != 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	if sc := f.Scope; sc != nil && !sc.All {
		var or []string
		add := func(col string, vals []string) {
			if len(vals) == 0 {
				return
			}
			or = append(or, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
			for _, v := range vals {
				args = append(args, v)
			}
		}
		add("community", sc.Communities)
		add("street", sc.Streets)
		add("district", sc.Districts)
		if len(or) == 0 {
			return nil, nil
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxLimit)
	q := `SELECT doc FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit)
	return s.queryAlerts(ctx, s.r, q, args...)
}

// Alert returns one alert.
func (s *Store) Alert(ctx context.Context, id int64) (*alerting.Alert, error) {
	as, err := s.queryAlerts(ctx, s.r, `SELECT doc FROM alerts WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// Audit returns an alert's audit log, oldest first.
func (s *Store) Audit(ctx context.Context, alertID int64) ([]alerting.Audit, error) {
	return s.audit(ctx, `SELECT id, alert_id, at, event_ts, actor, action, from_state, to_state, outcome, note, severity
		FROM audit WHERE alert_id = ? ORDER BY id`, alertID)
}

// AuditSince returns up to limit audit entries (of all alerts) with ids
// above after, oldest first: the log that followers (the InfluxDB writer,
// the notifiers of the next issue) read with their own cursor.
func (s *Store) AuditSince(ctx context.Context, after int64, limit int) ([]alerting.Audit, error) {
	return s.audit(ctx, `SELECT id, alert_id, at, event_ts, actor, action, from_state, to_state, outcome, note, severity
		FROM audit WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func (s *Store) audit(ctx context.Context, q string, args ...any) ([]alerting.Audit, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []alerting.Audit
	for rows.Next() {
		var a alerting.Audit
		var action, from, to, outcome string
		var sev int
		if err := rows.Scan(&a.ID, &a.AlertID, &a.At, &a.EventTS, &a.Actor, &action, &from, &to, &outcome, &a.Note, &sev); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		a.Action, a.From, a.To, a.Outcome, a.Severity = alerting.Action(action), alerting.State(from), alerting.State(to), alerting.Outcome(outcome), alerting.Severity(sev)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertsByID returns the alerts with the given ids (missing ones are left
// out), for followers of the audit log.
func (s *Store) AlertsByID(ctx context.Context, ids []int64) (map[int64]*alerting.Alert, error) {
	out := make(map[int64]*alerting.Alert, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		as, err := s.queryAlerts(ctx, s.r, `SELECT doc FROM alerts WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out[a.ID] = a
		}
		ids = ids[n:]
	}
	return out, nil
}
