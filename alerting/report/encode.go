package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

// WriteJSON writes the report as one JSON object.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// CSVHeader is the header row of WriteCSV: the figures, then one column
// per hazard rule (alerting.Rules order) named hazard_RULE.
func CSVHeader() []string {
	h := []string{"level", "place", "total", "acked", "acked_median_s", "acked_p90_s", "closed", "closed_median_s",
		"closed_p90_s", "resolved_unacked", "overdue", "escalations", "relapses"}
	for _, r := range alerting.Rules() {
		h = append(h, "hazard_"+string(r))
	}
	return h
}

// WriteCSV writes the report as CSV (RFC 4180): a header row (CSVHeader),
// then one row per place. Time figures without alerts to measure, and
// escalations when they were not counted, are empty cells.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	for _, row := range r.Rows {
		esc := ""
		if r.EscalationsCounted {
			esc = strconv.Itoa(row.Escalations)
		}
		rec := []string{string(row.Level), row.Place, strconv.Itoa(row.Total), strconv.Itoa(row.Acked),
			num(row.AckedMedianS), num(row.AckedP90S), strconv.Itoa(row.Closed), num(row.ClosedMedianS), num(row.ClosedP90S),
			strconv.Itoa(row.ResolvedUnacked), strconv.Itoa(row.Overdue), esc, strconv.Itoa(row.Relapses)}
		for _, rule := range alerting.Rules() {
			rec = append(rec, strconv.Itoa(row.Hazards[rule]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// Points returns the report as InfluxDB line protocol, one line per row,
// measurement "accountability", tags level and place, timestamp at in
// nanoseconds. Time figures without alerts to measure are left out, and so
// are escalations when they were not counted.
func Points(r Report, at time.Time) []string {
	out := make([]string, 0, len(r.Rows))
	ts := strconv.FormatInt(at.UnixNano(), 10)
	for _, row := range r.Rows {
		var b strings.Builder
		b.WriteString("accountability,level=")
		b.WriteString(escape.Replace(string(row.Level)))
		b.WriteString(",place=")
		b.WriteString(escape.Replace(row.Place))
		b.WriteString(" total=" + strconv.Itoa(row.Total) + "i")
		for _, f := range []struct {
			name string
			v    *float64
		}{{"acked_median_s", row.AckedMedianS}, {"acked_p90_s", row.AckedP90S},
			{"closed_median_s", row.ClosedMedianS}, {"closed_p90_s", row.ClosedP90S}} {
			if f.v != nil {
				b.WriteString("," + f.name + "=" + num(f.v))
			}
		}
		b.WriteString(",resolved_unacked=" + strconv.Itoa(row.ResolvedUnacked) + "i")
		b.WriteString(",overdue=" + strconv.Itoa(row.Overdue) + "i")
		if r.EscalationsCounted {
			b.WriteString(",escalations=" + strconv.Itoa(row.Escalations) + "i")
		}
		b.WriteString(",relapses=" + strconv.Itoa(row.Relapses) + "i")
		b.WriteString(" " + ts)
		out = append(out, b.String())
	}
	return out
}
