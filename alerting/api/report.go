package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/chargewatch/chargewatch/alerting/report"
)

// maxReportPeriod bounds a report's period, so that one request cannot
// read the whole history.
const maxReportPeriod = 400 * 24 * time.Hour

// getReport serves the accountability report over the alerts the caller
// may read: GET /api/v1/report?from=&to=&level=&format= (docs/api.md).
func (s *Server) getReport(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	if err := query(q, "from", "to", "level", "format"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := s.now()
	to, from := now.UnixMilli(), int64(0)
	for _, x := range []struct {
		name string
		dst  *int64
	}{{"to", &to}, {"from", &from}} {
		if v := q.Get(x.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, x.name+": "+err.Error())
				return
			}
			*x.dst = t
		}
	}
	if q.Get("from") == "" {
		from = to - (24 * time.Hour).Milliseconds()
	}
	if from >= to {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return
	}
	if to-from > maxReportPeriod.Milliseconds() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the period is longer than %d days: ask for less", int(maxReportPeriod.Hours()/24)))
		return
	}
	level, all := report.LevelCommunity, false
	switch v := q.Get("level"); v {
	case "":
	case "all":
		all = true
	default:
		l, err := report.ParseLevel(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error()+" (or all)")
			return
		}
		level = l
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown format %q: use json or csv", format))
		return
	}
	as, err := report.Load(r.Context(), s.st, &p.Read, from, to)
	if err != nil {
		s.fail(w, err)
		return
	}
	// Escalations come from the notification outbox when the server has
	// one; without it the report says so (escalations_counted false).
	var esc func(int64) int
	if s.escalations != nil {
		c, err := s.escalations(r.Context(), from)
		if err != nil {
			s.fail(w, err)
			return
		}
		esc = c.Get
	}
	rep := report.Compute(as, esc, time.UnixMilli(from).In(now.Location()), time.UnixMilli(to).In(now.Location()), now, nil)
	if !all {
		rep = rep.Only(level)
	}
	if format != "csv" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	var b bytes.Buffer
	if err := report.WriteCSV(&b, rep); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}
