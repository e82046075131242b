package dispatch

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// schema records its versions in dispatch_migrations, not
// schema_migrations, so the dispatch tables can share the alert store's
// database file.
var schema = sqlitedb.Schema{FS: migrationFiles, Table: "dispatch_migrations", Name: "the dispatch database"}

// db is the dispatch database: one writer connection, a pool of readers.
type db struct {
	w, r *sql.DB
}

func openDB(ctx context.Context, file string) (*db, error) {
	if file == "" {
		return nil, errors.New("no database path: give one, e.g. /var/lib/chargewatch/dispatch.db")
	}
	w, err := sqlitedb.Open(ctx, file, sqlitedb.Options{MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	if err := schema.Migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sqlitedb.Open(ctx, file, sqlitedb.Options{ReadOnly: true, MaxOpenConns: 4})
	if err != nil {
		w.Close()
		return nil, err
	}
	return &db{w: w, r: r}, nil
}

func (d *db) close() error { return errors.Join(d.r.Close(), d.w.Close()) }

// SchemaVersion is the dispatch schema version this binary migrates to.
func SchemaVersion() int { return schema.Latest() }

func (d *db) meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := d.r.QueryRowContext(ctx, `SELECT value FROM dispatch_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

func (d *db) setMeta(ctx context.Context, key string, v []byte) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO dispatch_meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return err
}

// alertRow is a dispatch_alerts row.
type alertRow struct {
	id                           int64
	doc                          []byte
	ladder, phase                string
	dueAt, baseAt, nextRemind    int64
	startLevel, level, reminders int
	notified                     []byte
}

func (d *db) alerts(ctx context.Context) ([]alertRow, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT alert_id, doc, ladder, phase, due_at, start_level, base_at, level,
		next_remind, reminders, notified FROM dispatch_alerts ORDER BY alert_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []alertRow
	for rows.Next() {
		var r alertRow
		if err := rows.Scan(&r.id, &r.doc, &r.ladder, &r.phase, &r.dueAt, &r.startLevel, &r.baseAt, &r.level,
			&r.nextRemind, &r.reminders, &r.notified); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// newRow is an outbox row to insert.
type newRow struct {
	createdAt  int64
	kind       string
	channel    string
	person     string
	address    string
	level      int
	severity   int
	message    []byte
	fallback   []contact
	fallbackOf int64
	nextAt     int64
	alerts     []int64
}

// execer is a transaction or the writer.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func insertRow(ctx context.Context, x execer, r *newRow) (int64, error) {
	fb, err := json.Marshal(r.fallback)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := x.QueryRowContext(ctx, `INSERT INTO dispatch_outbox (created_at, kind, channel, person, address, level,
		severity, message, fallback, fallback_of, status, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id`,
		r.createdAt, r.kind, r.channel, r.person, r.address, r.level, r.severity, r.message, string(fb), r.fallbackOf, r.nextAt).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert outbox row: %w", err)
	}
	for _, a := range r.alerts {
		if _, err := x.ExecContext(ctx, `INSERT OR IGNORE INTO dispatch_outbox_alerts (alert_id, outbox_id) VALUES (?, ?)`, a, id); err != nil {
			return 0, fmt.Errorf("insert outbox row: %w", err)
		}
	}
	return id, nil
}

// commit writes one routing step in one transaction: alert states, the
// cancellation of messages that no longer need sending, new messages and
// the audit cursor. It returns the ids of the new rows.
func (d *db) commit(ctx context.Context, st *step) ([]int64, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, t := range st.dirty {
		doc, err := json.Marshal(t.a)
		if err != nil {
			return nil, err
		}
		notified, _ := json.Marshal(t.notified)
		if _, err := tx.ExecContext(ctx, `INSERT INTO dispatch_alerts (alert_id, doc, ladder, phase, due_at, start_level,
			base_at, level, next_remind, reminders, notified, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (alert_id) DO UPDATE SET doc = excluded.doc, ladder = excluded.ladder, phase = excluded.phase,
			due_at = excluded.due_at, start_level = excluded.start_level, base_at = excluded.base_at, level = excluded.level,
			next_remind = excluded.next_remind, reminders = excluded.reminders, notified = excluded.notified,
			updated_at = excluded.updated_at`,
			t.a.ID, string(doc), t.ladderKey, string(t.phase), t.dueAt, t.startLevel, t.base, t.level, t.nextRemind, t.reminders,
			string(notified), st.now); err != nil {
			return nil, fmt.Errorf("save alert %d: %w", t.a.ID, err)
		}
	}
	for _, id := range st.deleted {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dispatch_alerts WHERE alert_id = ?`, id); err != nil {
			return nil, fmt.Errorf("forget alert %d: %w", id, err)
		}
	}
	// Ladder messages still pending whose alerts no longer need anyone.
	for _, id := range st.cancel {
		if _, err := tx.ExecContext(ctx, `UPDATE dispatch_outbox SET status = 'cancelled', done_at = ?,
			last_error = 'not sent: its alerts were acknowledged, resolved or closed first'
			WHERE status = 'pending' AND kind IN ('firing', 'escalation', 'reminder')
			AND id IN (SELECT outbox_id FROM dispatch_outbox_alerts WHERE alert_id = ?)
			AND NOT EXISTS (SELECT 1 FROM dispatch_outbox_alerts x JOIN dispatch_alerts a ON a.alert_id = x.alert_id
				WHERE x.outbox_id = dispatch_outbox.id AND a.phase IN ('waiting', 'active'))`, st.now, id); err != nil {
			return nil, fmt.Errorf("cancel messages of alert %d: %w", id, err)
		}
	}
	var ids []int64
	for _, r := range st.rows {
		if r.kind == string(kindForward) {
			// A newer state of the alert replaces one not yet forwarded.
			if _, err := tx.ExecContext(ctx, `UPDATE dispatch_outbox SET status = 'cancelled', done_at = ?,
				last_error = 'not sent: superseded by a newer state of the alert'
				WHERE status = 'pending' AND kind = 'forward' AND channel = ?
				AND id IN (SELECT outbox_id FROM dispatch_outbox_alerts WHERE alert_id = ?)`, st.now, r.channel, r.alerts[0]); err != nil {
				return nil, fmt.Errorf("supersede forwards: %w", err)
			}
		}
		id, err := insertRow(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if st.cursorSet {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dispatch_meta (key, value) VALUES ('audit_cursor', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []byte(strconv.FormatInt(st.cursor, 10))); err != nil {
			return nil, fmt.Errorf("save the audit cursor: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return ids, nil
}

// outRow is a pending outbox row to send.
type outRow struct {
	id         int64
	createdAt  int64
	kind       string
	channel    string
	person     string
	address    string
	level      int
	severity   int
	message    []byte
	fallback   []contact
	attempts   int
	alerts     []int64
	fallbackOf int64
}

// due returns up to limit pending rows due at now, most severe first,
// leaving out the ids in skip (in flight).
func (d *db) due(ctx context.Context, now int64, skip []int64, limit int) ([]outRow, error) {
	q := `SELECT id, created_at, kind, channel, person, address, level, severity, message, fallback, attempts, fallback_of
		FROM dispatch_outbox WHERE status = 'pending' AND next_at <= ?` + notIn(len(skip)) + `
		ORDER BY severity DESC, next_at, id LIMIT ?`
	args := []any{now}
	for _, id := range skip {
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outRow
	for rows.Next() {
		var r outRow
		var fb string
		if err := rows.Scan(&r.id, &r.createdAt, &r.kind, &r.channel, &r.person, &r.address, &r.level, &r.severity,
			&r.message, &fb, &r.attempts, &r.fallbackOf); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fb), &r.fallback); err != nil {
			return nil, fmt.Errorf("outbox row %d: corrupt fallback list: %w", r.id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].alerts, err = d.rowAlerts(ctx, out[i].id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *db) rowAlerts(ctx context.Context, id int64) ([]int64, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT alert_id FROM dispatch_outbox_alerts WHERE outbox_id = ? ORDER BY alert_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var a int64
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func notIn(n int) string {
	if n == 0 {
		return ""
	}
	return ` AND id NOT IN (` + strings.TrimSuffix(strings.Repeat("?,", n), ",") + `)`
}

// nextDue returns the earliest next_at of the pending rows not in skip.
func (d *db) nextDue(ctx context.Context, skip []int64) (int64, bool, error) {
	args := make([]any, len(skip))
	for i, id := range skip {
		args[i] = id
	}
	var v sql.NullInt64
	err := d.r.QueryRowContext(ctx, `SELECT min(next_at) FROM dispatch_outbox WHERE status = 'pending'`+notIn(len(skip)), args...).Scan(&v)
	return v.Int64, v.Valid, err
}

func (d *db) markSent(ctx context.Context, id int64, attempts int, now int64) error {
	_, err := d.w.ExecContext(ctx, `UPDATE dispatch_outbox SET status = 'sent', attempts = ?, sent_at = ?, done_at = ?,
		last_error = '' WHERE id = ?`, attempts, now, now, id)
	return err
}

func (d *db) markRetry(ctx context.Context, id int64, attempts int, next int64, msg string) error {
	_, err := d.w.ExecContext(ctx, `UPDATE dispatch_outbox SET attempts = ?, next_at = ?, last_error = ?
		WHERE id = ? AND status = 'pending'`, attempts, next, msg, id)
	return err
}

func (d *db) reschedule(ctx context.Context, id int64, next int64) error {
	_, err := d.w.ExecContext(ctx, `UPDATE dispatch_outbox SET next_at = ? WHERE id = ? AND status = 'pending'`, next, id)
	return err
}

// markFailed fails a row and, with fb, inserts its fallback in the same
// transaction. It returns the fallback's id.
func (d *db) markFailed(ctx context.Context, id int64, attempts int, now int64, msg string, fb *newRow) (int64, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE dispatch_outbox SET status = 'failed', attempts = ?, done_at = ?, last_error = ?
		WHERE id = ? AND status = 'pending'`, attempts, now, msg, id)
	if err != nil {
		return 0, err
	}
	var fid int64
	if n, _ := res.RowsAffected(); n == 1 && fb != nil {
		if fid, err = insertRow(ctx, tx, fb); err != nil {
			return 0, err
		}
	}
	return fid, tx.Commit()
}

// backlog counts the pending rows and finds the oldest.
func (d *db) backlog(ctx context.Context) (n int, oldest int64, err error) {
	var o sql.NullInt64
	err = d.r.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM dispatch_outbox WHERE status = 'pending'`).Scan(&n, &o)
	return n, o.Int64, err
}

// purge deletes finished rows done before before, and used ack links
// that have expired.
func (d *db) purge(ctx context.Context, before, now int64) (int64, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM dispatch_outbox WHERE status <> 'pending' AND done_at < ?`, before)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := d.w.ExecContext(ctx, `DELETE FROM dispatch_outbox_alerts WHERE outbox_id NOT IN (SELECT id FROM dispatch_outbox)`); err != nil {
		return n, err
	}
	if _, err := d.w.ExecContext(ctx, `DELETE FROM dispatch_ack_used WHERE expires_at < ?`, now); err != nil {
		return n, err
	}
	return n, nil
}

// claimLink records a link as used; false if it already was.
func (d *db) claimLink(ctx context.Context, nonce []byte, person string, now, expires int64) (bool, error) {
	res, err := d.w.ExecContext(ctx, `INSERT OR IGNORE INTO dispatch_ack_used (nonce, person, used_at, expires_at) VALUES (?, ?, ?, ?)`,
		nonce, person, now, expires)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (d *db) releaseLink(ctx context.Context, nonce []byte) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM dispatch_ack_used WHERE nonce = ?`, nonce)
	return err
}

func (d *db) linkUsed(ctx context.Context, nonce []byte) (bool, error) {
	var x int
	err := d.r.QueryRowContext(ctx, `SELECT 1 FROM dispatch_ack_used WHERE nonce = ?`, nonce).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
