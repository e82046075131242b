package downsample

import (
	"fmt"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Bucket is the width of a rollup bucket. Every rollup point stands for one
// hour of raw points of one series.
const Bucket = time.Hour

const bucketMillis = int64(Bucket / time.Millisecond)

// Agg is one aggregate of one raw field, written to the rollup as field As.
type Agg struct {
	Func  string // InfluxQL function: mean, max, min, last, count
	Field string // raw field
	As    string // rollup field
}

// Query is one SELECT ... INTO of a rollup. Where, if set, is an extra
// condition ANDed to the time range (InfluxQL cannot filter inside one
// aggregate, so counting only some points takes a query of its own).
type Query struct {
	Aggs  []Agg
	Where string
}

// Rollup says how one raw measurement is downsampled: into measurement Into
// of the rollup retention policy, by one or more queries whose results
// merge into the same points (same series, same bucket time).
type Rollup struct {
	Measurement string // raw measurement, e.g. "meter"
	Into        string // rollup measurement, e.g. "meter_1h"
	Queries     []Query
	// Periodic marks a measurement that chargewatch itself writes at a
	// steady pace and in time order (the alerting engine's snapshots): its
	// current hour is always dirty, so nobody needs to Touch it.
	Periodic bool
}

// Field returns the rollup field name of aggregate fn over raw field f:
// "power_w_mean", "smoke_max", "state_last".
func Field(f, fn string) string { return f + "_" + fn }

// Rollup field names that do not follow Field.
const (
	FieldReadings         = "readings"          // count of raw points in the bucket (any field; seq is always there)
	FieldChargingReadings = "charging_readings" // pile points with state "charging"
	FieldEvents           = "events"            // count of events (the type is a tag)
	FieldPoints           = "points"            // count of snapshot points (open alerts x snapshots)
)

// RollupName returns the rollup measurement of raw measurement m.
func RollupName(m string) string { return m + "_1h" }

// aggregates returns the aggregate functions kept for a reading field. The
// choice follows what the dashboards ask of long ranges:
//   - power and current: mean (energy-like averages) and max (overload peaks);
//   - voltage and frequency: mean and both extremes (over- and under-voltage);
//   - power factor: mean and min;
//   - energy: last (it is a running total; the difference of two hours' last
//     values is the energy used in between);
//   - leakage and temperatures: mean and max (the hazard is the peak);
//   - battery: min and last; radio: mean and min (the weak moments matter);
//   - booleans (smoke, battery_low, tamper, fault, relay_on): max, which is
//     true if the flag was set at any time in the hour, and last. InfluxQL
//     cannot average a boolean; max and last accept one;
//   - pile state (a string): last, plus a count of "charging" points from a
//     query of its own (FieldChargingReadings).
func aggregates(f devices.Field) []string {
	switch f {
	case devices.FieldPower, devices.FieldPowerL1, devices.FieldPowerL2, devices.FieldPowerL3,
		devices.FieldCurrent, devices.FieldCurrentL1, devices.FieldCurrentL2, devices.FieldCurrentL3,
		devices.FieldReactivePower:
		return []string{"mean", "max"}
	case devices.FieldVoltage, devices.FieldVoltageL1, devices.FieldVoltageL2, devices.FieldVoltageL3,
		devices.FieldFreq:
		return []string{"mean", "min", "max"}
	case devices.FieldPF:
		return []string{"mean", "min"}
	case devices.FieldEnergy:
		return []string{"last"}
	case devices.FieldLeak, devices.FieldTemp, devices.FieldTemp1, devices.FieldTemp2, devices.FieldTemp3, devices.FieldTemp4:
		return []string{"mean", "max"}
	case devices.FieldBatteryPct:
		return []string{"min", "last"}
	case devices.FieldRSSI, devices.FieldLinkQuality:
		return []string{"mean", "min"}
	case devices.FieldPort:
		return nil // a tag, not a field
	}
	switch f.Spec().Type {
	case devices.TypeBool:
		return []string{"max", "last"}
	case devices.TypeState:
		return []string{"last"}
	}
	return []string{"mean", "max"} // a field added to the contract later: a safe default for numbers
}

// DefaultRollups returns the rollups of every device kind's measurement
// (fields from the kind's vocabulary in the devices package), of events and
// of the alerting engine's open-alert snapshots.
func DefaultRollups() []Rollup {
	var out []Rollup
	for _, k := range devices.Kinds() {
		m := k.String()
		q := Query{Aggs: []Agg{{Func: "count", Field: "seq", As: FieldReadings}}}
		for _, f := range k.Vocabulary().Fields() {
			for _, fn := range aggregates(f) {
				q.Aggs = append(q.Aggs, Agg{Func: fn, Field: f.String(), As: Field(f.String(), fn)})
			}
		}
		r := Rollup{Measurement: m, Into: RollupName(m), Queries: []Query{q}}
		if k.Vocabulary().Has(devices.FieldState) {
			r.Queries = append(r.Queries, Query{
				Aggs:  []Agg{{Func: "count", Field: "seq", As: FieldChargingReadings}},
				Where: `"state" = '` + devices.PileCharging.String() + `'`,
			})
		}
		out = append(out, r)
	}
	// Events are counted per type and hour. They are Periodic too (a city
	// sends events every hour), and the writer touches the hours of the
	// events it writes, so late events are counted again.
	out = append(out, Rollup{Measurement: "event", Into: RollupName("event"), Periodic: true, Queries: []Query{
		{Aggs: []Agg{{Func: "count", Field: "seq", As: FieldEvents}}},
	}})
	// The snapshots of open alerts (alerting/influx: one point per open alert
	// per minute, tagged with rule, severity, state and location): the number
	// of points per hour and tag set, from which the dashboards compute the
	// average number of open alerts over long ranges, reading 60 times fewer
	// points.
	out = append(out, Rollup{Measurement: "alert_open", Into: RollupName("alert_open"), Periodic: true, Queries: []Query{
		{Aggs: []Agg{{Func: "count", Field: "id", As: FieldPoints}}},
	}})
	return out
}

// Statements returns the InfluxQL statements that (re)compute the rollup
// of r for the hour buckets in [from, to) (both multiples of Bucket).
// GROUP BY * keeps every tag, so each raw series gets its own rollup series.
// If has is not nil, aggregates of fields it does not report are left out:
// an aggregate of a field the measurement never had still costs InfluxDB an
// iterator per series.
func (r *Rollup) Statements(db, rawRP, rollupRP string, from, to time.Time, has func(field string) bool) []string {
	out := make([]string, 0, len(r.Queries))
	for _, q := range r.Queries {
		var b strings.Builder
		b.WriteString("SELECT ")
		n := 0
		for _, a := range q.Aggs {
			if has != nil && !has(a.Field) {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s(%s) AS %s", a.Func, ident(a.Field), ident(a.As))
			n++
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, " INTO %s.%s.%s FROM %s.%s.%s WHERE time >= '%s' AND time < '%s'",
			ident(db), ident(rollupRP), ident(r.Into), ident(db), ident(rawRP), ident(r.Measurement),
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
		if q.Where != "" {
			b.WriteString(" AND ")
			b.WriteString(q.Where)
		}
		b.WriteString(" GROUP BY time(1h), *")
		out = append(out, b.String())
	}
	return out
}

// ident quotes an InfluxQL identifier.
func ident(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// bucketOf returns the index of the hour bucket holding tsMillis (floor
// division, so times before 1970 land in the right bucket too).
func bucketOf(tsMillis int64) int64 {
	b := tsMillis / bucketMillis
	if tsMillis%bucketMillis < 0 {
		b--
	}
	return b
}

func bucketTime(b int64) time.Time { return time.UnixMilli(b * bucketMillis).UTC() }
