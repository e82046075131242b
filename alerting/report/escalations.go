package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // the dispatch database
)

// Escalations counts, per alert, the escalation levels its notifications
// reached since the given time (Unix ms): the distinct levels of its
// escalation messages in the dispatch outbox that were not cancelled
// (docs/notifications.md). db is the dispatch database, opened read-only
// by the caller. The result's Get method is Compute's escalations func.
func Escalations(ctx context.Context, db *sql.DB, since int64) (Counts, error) {
	rows, err := db.QueryContext(ctx, `SELECT a.alert_id, count(DISTINCT o.level)
		FROM dispatch_outbox o JOIN dispatch_outbox_alerts a ON a.outbox_id = o.id
		WHERE o.kind = 'escalation' AND o.status <> 'cancelled' AND o.created_at >= ?
		GROUP BY a.alert_id`, since)
	if err != nil {
		return nil, fmt.Errorf("count escalations: %w", err)
	}
	defer rows.Close()
	out := Counts{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count escalations: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count escalations: %w", err)
	}
	return out, nil
}

// Counts are escalations by alert id.
type Counts map[int64]int

// Get returns alert id's count (0 if none).
func (c Counts) Get(id int64) int { return c[id] }

// EscalationsFromFile counts escalations since a time (Unix ms) in the
// dispatch database file, opened read-only; nil when there is no database
// yet (notifications never ran).
func EscalationsFromFile(ctx context.Context, file string, since int64) (Counts, error) {
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("dispatch database %s: %w", file, err)
	}
	defer db.Close()
	c, err := Escalations(ctx, db, since)
	if err != nil {
		return nil, fmt.Errorf("dispatch database %s: %w", file, err)
	}
	return c, nil
}
