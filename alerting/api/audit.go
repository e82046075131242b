package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/chargewatch/chargewatch/alerting"
)

// auditEntry is one transition of an alert, with what it was about.
type auditEntry struct {
	alerting.Audit
	Rule      alerting.Rule `json:"rule"`
	Place     string        `json:"place"`
	Community string        `json:"community,omitempty"`
	Street    string        `json:"street,omitempty"`
}

type auditResponse struct {
	Entries []auditEntry `json:"entries"`
	// NextAfter, when set, continues the scan: ?after=NextAfter. The scan
	// may stop before limit entries when it has looked at many entries
	// outside the caller's scope.
	NextAfter int64 `json:"next_after,omitempty"`
}

const (
	auditBatch   = 500
	auditMaxScan = 20 * auditBatch // entries looked at per request
)

// listAudit answers who did what to which alert, and when: the audit log
// of the alerts in the caller's read scope, oldest first, from an entry id
// on. Filters: actor (a person id, "token:NAME" or "engine"), people=true
// (every actor but the engine), alert (one alert's log).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	if err := query(q, "after", "limit", "actor", "people", "alert"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var after, alertID int64
	limit := 100
	for _, x := range []struct {
		name string
		max  int64
		set  func(int64)
	}{
		{"after", 1 << 62, func(v int64) { after = v }},
		{"alert", 1 << 62, func(v int64) { alertID = v }},
		{"limit", 1000, func(v int64) { limit = int(v) }},
	} {
		v := q.Get(x.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		lo := int64(1)
		if x.name == "after" {
			lo = 0
		}
		if err != nil || n < lo || n > x.max {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %q must be an integer from %d to %d", x.name, v, lo, x.max))
			return
		}
		x.set(n)
	}
	actor := q.Get("actor")
	people := false
	switch q.Get("people") {
	case "", "false":
	case "true":
		people = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("people %q: use true or false", q.Get("people")))
		return
	}
	keep := func(e *alerting.Audit) bool {
		return (actor == "" || e.Actor == actor) && (!people || e.Actor != alerting.ActorEngine)
	}
	res := auditResponse{Entries: []auditEntry{}}
	entry := func(e alerting.Audit, a *alerting.Alert) auditEntry {
		return auditEntry{Audit: e, Rule: a.Rule, Place: a.Place, Community: a.Location.Community, Street: a.Location.Street}
	}

	if alertID != 0 {
		a, ok := s.visible(w, r, p, alertID)
		if !ok {
			return
		}
		log, err := s.st.Audit(r.Context(), alertID)
		if err != nil {
			s.fail(w, err)
			return
		}
		for _, e := range log {
			if e.ID <= after || !keep(&e) {
				continue
			}
			if len(res.Entries) == limit {
				res.NextAfter = res.Entries[len(res.Entries)-1].ID
				break
			}
			res.Entries = append(res.Entries, entry(e, a))
		}
		writeJSON(w, http.StatusOK, res)
		return
	}

	cursor, scanned := after, 0
	alerts := map[int64]*alerting.Alert{}
scan:
	for scanned < auditMaxScan {
		batch, err := s.st.AuditSince(r.Context(), cursor, auditBatch)
		if err != nil {
			s.fail(w, err)
			return
		}
		if len(batch) == 0 {
			cursor = 0 // the end of the log
			break
		}
		var missing []int64
		for _, e := range batch {
			if _, ok := alerts[e.AlertID]; !ok {
				missing = append(missing, e.AlertID)
				alerts[e.AlertID] = nil
			}
		}
		if len(missing) > 0 {
			found, err := s.st.AlertsByID(r.Context(), missing)
			if err != nil {
				s.fail(w, err)
				return
			}
			for id, a := range found {
				alerts[id] = a
			}
		}
		for _, e := range batch {
			if len(res.Entries) == limit {
				break scan
			}
			cursor = e.ID
			scanned++
			a := alerts[e.AlertID]
			if a == nil || !p.Read.Covers(&a.Location) || !keep(&e) {
				continue
			}
			res.Entries = append(res.Entries, entry(e, a))
		}
		if len(batch) < auditBatch {
			if len(res.Entries) < limit {
				cursor = 0 // read to the end
			}
			break
		}
	}
	res.NextAfter = cursor
	writeJSON(w, http.StatusOK, res)
}
