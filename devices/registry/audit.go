package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// timeNow is the clock of audit entries; tests replace it.
var timeNow = time.Now

// AuditAction is what a registry audit entry records.
type AuditAction string

// Audit actions.
const (
	ActionImport              AuditAction = "import"               // a site file import that changed something
	ActionReplaceDevice       AuditAction = "replace_device"       // new hardware took a device's place
	ActionMoveDevice          AuditAction = "move_device"          // a device moved to another place or gateway
	ActionDecommissionGateway AuditAction = "decommission_gateway" // a gateway left the registry
)

// AuditEntry is one entry of the registry's audit log.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         int64           `json:"at"` // Unix ms
	Actor      string          `json:"actor"`
	Action     AuditAction     `json:"action"`
	Subject    string          `json:"subject,omitempty"` // the device or gateway id
	Detail     json.RawMessage `json:"detail"`            // what changed, per action
	Note       string          `json:"note,omitempty"`
	Generation int64           `json:"generation"` // registry generation after the change
}

func insertAudit(ctx context.Context, tx *sql.Tx, e *AuditEntry) (int64, error) {
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO registry_audit (at, actor, action, subject, detail, note, generation)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.At, e.Actor, string(e.Action), e.Subject, string(detail), e.Note, e.Generation).Scan(&e.ID)
	if err != nil {
		return 0, fmt.Errorf("write the registry audit log: %w", err)
	}
	return e.ID, nil
}

func importDetail(ch *Changes) json.RawMessage {
	m := map[string]Count{}
	for _, e := range ch.Entities() {
		if e.Added+e.Updated+e.Removed > 0 {
			m[e.Name] = e.Count
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	Subject string // entries about this device or gateway id (either side of a replacement); "" for all
	Limit   int    // newest first; 0 means 100
}

// AuditLog returns audit entries, newest first.
func AuditLog(ctx context.Context, db *sql.DB, f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, at, actor, action, subject, detail, note, generation FROM registry_audit`
	args := []any{}
	if f.Subject != "" {
		q += ` WHERE subject = ? OR id IN (SELECT audit_id FROM device_lineage WHERE device_id = ? OR previous_id = ?)`
		args = append(args, f.Subject, f.Subject, f.Subject)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read the registry audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var action, detail string
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &action, &e.Subject, &detail, &e.Note, &e.Generation); err != nil {
			return nil, fmt.Errorf("read the registry audit log: %w", err)
		}
		e.Action, e.Detail = AuditAction(action), json.RawMessage(detail)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Replacement is one row of a device's lineage: Device took Previous's
// place at At (Unix ms). Device == Previous when only the hardware changed.
type Replacement struct {
	Device   string `json:"device"`
	Previous string `json:"previous"`
	At       int64  `json:"at"`
	AuditID  int64  `json:"audit_id"`
}

// Lineage returns the replacements that led to device id, newest first,
// following earlier ids back: the history of the place the device holds.
func Lineage(ctx context.Context, db *sql.DB, id string) ([]Replacement, error) {
	var out []Replacement
	seen := map[string]bool{}
	for cur := id; cur != "" && !seen[cur]; {
		seen[cur] = true
		rows, err := db.QueryContext(ctx, `SELECT device_id, previous_id, replaced_at, audit_id FROM device_lineage
			WHERE device_id = ? ORDER BY replaced_at DESC`, cur)
		if err != nil {
			return nil, fmt.Errorf("read the lineage of %q: %w", id, err)
		}
		next := ""
		for rows.Next() {
			var r Replacement
			if err := rows.Scan(&r.Device, &r.Previous, &r.At, &r.AuditID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the lineage of %q: %w", id, err)
			}
			out = append(out, r)
			if r.Previous != r.Device && next == "" {
				next = r.Previous
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		cur = next
	}
	return out, nil
}

// ReplacedDevices lists the devices of next whose hardware was replaced
// since prev was loaded, and the devices of prev that next no longer has.
// The ingester forgets the seq counters of these, so that the counter of
// new hardware starts cleanly instead of counting as duplicates or gaps.
// Call it from a Store's WithOnSwap function.
func ReplacedDevices(prev, next *Snapshot) []string {
	var out []string
	if prev == nil || next == nil {
		return nil
	}
	for id, at := range next.replacedAt {
		if prev.replacedAt[id] != at {
			out = append(out, id)
		}
	}
	for id := range prev.devices {
		if _, ok := next.devices[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// ReplacedAt returns when the device's hardware was last replaced (Unix
// ms), and whether it ever was.
func (s *Snapshot) ReplacedAt(id string) (int64, bool) {
	at, ok := s.replacedAt[id]
	return at, ok
}
