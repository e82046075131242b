package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

// Receipt is the delivery record of one message to one contact: what the
// API shows. Addresses are redacted (URLs lose their query, phone numbers
// their middle digits); errors never hold secrets.
type Receipt struct {
	ID         int64   `json:"id"`
	Alerts     []int64 `json:"alerts"`
	Kind       string  `json:"kind"`  // firing, escalation, reminder, acknowledged, resolved, forward
	Level      int     `json:"level"` // escalation level
	Channel    string  `json:"channel"`
	Person     string  `json:"person,omitempty"`
	Address    string  `json:"address,omitempty"`
	Status     string  `json:"status"` // pending, sent, failed, cancelled
	Attempts   int     `json:"attempts"`
	CreatedAt  int64   `json:"created_at"` // Unix ms
	NextAt     int64   `json:"next_at,omitempty"`
	SentAt     int64   `json:"sent_at,omitempty"`
	DoneAt     int64   `json:"done_at,omitempty"`
	LastError  string  `json:"last_error,omitempty"`
	FallbackOf int64   `json:"fallback_of,omitempty"` // the receipt this one fell back from
	Title      string  `json:"title"`
}

// Receipt statuses.
const (
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// ReceiptFilter selects receipts; zero fields select everything.
type ReceiptFilter struct {
	AlertID int64
	Person  string
	Channel string
	Status  string
	Since   int64 // created at or after, Unix ms
	Before  int64 // id below, for paging (newest first)
	Limit   int   // default 100, at most 1000
}

// Receipts returns delivery receipts, newest first.
func (d *Dispatcher) Receipts(ctx context.Context, f ReceiptFilter) ([]Receipt, error) {
	var where []string
	var args []any
	if f.AlertID != 0 {
		where = append(where, `id IN (SELECT outbox_id FROM dispatch_outbox_alerts WHERE alert_id = ?)`)
		args = append(args, f.AlertID)
	}
	for _, c := range []struct {
		col, v string
	}{{"person", f.Person}, {"channel", f.Channel}, {"status", f.Status}} {
		if c.v != "" {
			where = append(where, c.col+` = ?`)
			args = append(args, c.v)
		}
	}
	if f.Since != 0 {
		where = append(where, `created_at >= ?`)
		args = append(args, f.Since)
	}
	if f.Before != 0 {
		where = append(where, `id < ?`)
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, kind, level, channel, person, address, status, attempts, created_at, next_at, sent_at, done_at,
		last_error, fallback_of, message FROM dispatch_outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		var r Receipt
		var msg []byte
		if err := rows.Scan(&r.ID, &r.Kind, &r.Level, &r.Channel, &r.Person, &r.Address, &r.Status, &r.Attempts,
			&r.CreatedAt, &r.NextAt, &r.SentAt, &r.DoneAt, &r.LastError, &r.FallbackOf, &msg); err != nil {
			return nil, fmt.Errorf("read receipts: %w", err)
		}
		if r.Status != StatusPending {
			r.NextAt = 0
		}
		r.Address = RedactAddress(r.Channel, r.Address)
		var m struct {
			Title string `json:"title"`
		}
		if json.Unmarshal(msg, &m) == nil {
			r.Title = m.Title
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	for i := range out {
		if out[i].Alerts, err = d.db.rowAlerts(ctx, out[i].ID); err != nil {
			return nil, fmt.Errorf("read receipts: %w", err)
		}
	}
	return out, nil
}

// AlertReceipts returns the receipts of one alert's messages, oldest
// first.
func (d *Dispatcher) AlertReceipts(ctx context.Context, alertID int64) ([]Receipt, error) {
	rs, err := d.Receipts(ctx, ReceiptFilter{AlertID: alertID, Limit: 1000})
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs, err
}

// Backlog is the state of the outbox.
type Backlog struct {
	Pending int       `json:"pending"`
	Oldest  time.Time `json:"oldest,omitzero"` // creation of the oldest pending message
}

// Backlog returns the number of pending messages and the oldest one's age.
func (d *Dispatcher) Backlog(ctx context.Context) (Backlog, error) {
	n, oldest, err := d.db.backlog(ctx)
	if err != nil {
		return Backlog{}, fmt.Errorf("read the outbox backlog: %w", err)
	}
	b := Backlog{Pending: n}
	if n > 0 {
		b.Oldest = time.UnixMilli(oldest)
	}
	return b, nil
}

// RedactAddress shows a contact address without its secrets: a URL
// without query values and user information, a phone number with its
// middle digits hidden.
func RedactAddress(channel, addr string) string {
	switch channel {
	case ChannelSMS:
		if len(addr) >= 8 {
			return addr[:len(addr)-8] + "****" + addr[len(addr)-4:]
		}
		return "****"
	case "":
		return ""
	}
	if strings.Contains(addr, "://") {
		return notify.RedactURL(addr)
	}
	return addr
}
