package grafana

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AllValue is the value Grafana stores for the All option.
const AllValue = "$__all"

// varRE is templateSrv's variable pattern: $var, [[var]] or [[var:fmt]],
// ${var}, ${var.path} or ${var:fmt}.
var varRE = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// References returns the names of the variables a text refers to, in order,
// with repeats.
func References(text string) []string {
	var out []string
	for _, m := range varRE.FindAllStringSubmatch(text, -1) {
		out = append(out, firstNonEmpty(m[1], m[2], m[4]))
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// regexEscape is kbn.regexEscape / escapeRegex from @grafana/data.
func regexEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\^$*+?.()|[]{}/`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// format applies one of Grafana's variable formats to values.
func format(f string, values []string) string {
	switch f {
	case "regex":
		esc := make([]string, len(values))
		for i, v := range values {
			esc[i] = regexEscape(v)
		}
		if len(esc) == 1 {
			return esc[0]
		}
		return "(" + strings.Join(esc, "|") + ")"
	case "pipe":
		return strings.Join(values, "|")
	case "csv", "raw", "":
		return strings.Join(values, ",")
	}
	return strings.Join(values, ",")
}

// Selection is what a variable is set to: All, or some values.
type Selection struct {
	All    bool
	Values []string
}

// State is the resolved state of a dashboard's variables.
type State struct {
	vars     map[string]*Variable
	selected map[string]Selection
	options  map[string][]string // the variable's options (without All)
}

// Options returns the options a variable offered.
func (s *State) Options(name string) []string { return s.options[name] }

// Selected returns what a variable is set to.
func (s *State) Selected(name string) Selection { return s.selected[name] }

// value returns the interpolated value of variable name in format f, and
// whether the variable exists.
func (s *State) value(name, f string) (string, bool) {
	v, ok := s.vars[name]
	if !ok {
		return "", false
	}
	sel := s.selected[name]
	if sel.All {
		if v.AllValue != "" {
			return v.AllValue, true // a custom all value is not formatted
		}
		return format(f, s.options[name]), true
	}
	return format(f, sel.Values), true
}

// Interpolate replaces the dashboard's variables in text like
// templateSrv.replace(text, scopedVars, defaultFormat): ${__from} and ${__to}
// become the range's epoch milliseconds; variables that are neither defined
// nor built in (Grafana's macros, left for the backend) are left as they are.
func (s *State) Interpolate(text string, from, to time.Time, defaultFormat string) string {
	return varRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := firstNonEmpty(sub[1], sub[2], sub[4])
		f := firstNonEmpty(sub[3], sub[6], defaultFormat)
		switch name {
		case "__from":
			return strconv.FormatInt(from.UnixMilli(), 10)
		case "__to":
			return strconv.FormatInt(to.UnixMilli(), 10)
		}
		if s == nil {
			return m
		}
		if v, ok := s.value(name, f); ok {
			return v
		}
		return m
	})
}

// Builtins are the names Grafana or its datasources interpolate themselves.
var Builtins = map[string]bool{
	"__from": true, "__to": true, "__interval": true, "__interval_ms": true,
	"timeFilter": true, "interval": true, "__timeFilter": true,
	"__rate_interval": true, "__rate_interval_ms": true, "__range": true, "__range_s": true, "__range_ms": true,
}

// --- intervals ---------------------------------------------------------------------------------

// RoundInterval is rangeutil.roundInterval: a raw interval in milliseconds to
// a "nice" one.
func RoundInterval(ms float64) int64 {
	steps := []struct{ below, to float64 }{
		{10, 1}, {15, 10}, {35, 20}, {75, 50}, {150, 100}, {350, 200}, {750, 500},
		{1500, 1000}, {3500, 2000}, {7500, 5000}, {12500, 10000}, {17500, 15000}, {25000, 20000},
		{45000, 30000}, {90000, 60000}, {210000, 120000}, {450000, 300000}, {750000, 600000},
		{1050000, 900000}, {1500000, 1200000}, {2700000, 1800000}, {5400000, 3600000},
		{9000000, 7200000}, {16200000, 10800000}, {32400000, 21600000}, {86400000, 43200000},
		{604800000, 86400000}, {1814400000, 604800000}, {3628800000, 2592000000},
	}
	for _, s := range steps {
		if ms < s.below {
			return int64(s.to)
		}
	}
	return 31536000000
}

// CalculateInterval is rangeutil.calculateInterval: the panel's $__interval
// for a time range, its max data points and its lower limit (the panel's min
// interval, else the datasource's time interval; "" for none).
func CalculateInterval(from, to time.Time, maxDataPoints int, lowLimit string) (time.Duration, error) {
	if maxDataPoints <= 0 {
		return 0, fmt.Errorf("max data points must be positive, got %d", maxDataPoints)
	}
	ms := RoundInterval(float64(to.Sub(from).Milliseconds()) / float64(maxDataPoints))
	if lowLimit != "" {
		low, err := ParseInterval(lowLimit)
		if err != nil {
			return 0, err
		}
		if low.Milliseconds() > ms {
			ms = low.Milliseconds()
		}
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// ParseInterval parses Grafana interval strings: 30s, 1m, 1h, 1d, 1w
// (optionally with a ">" prefix, meaning a lower limit).
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimPrefix(s, ">")
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 7 * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// FormatInterval is gtime.FormatInterval: 1m, 2h, 3d, 500ms.
func FormatInterval(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d >= year:
		return fmt.Sprintf("%dy", d/year)
	case d >= day:
		return fmt.Sprintf("%dd", d/day)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second:
		return fmt.Sprintf("%ds", d/time.Second)
	case d >= time.Millisecond:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return "1ms"
}

// InfluxMacros applies the InfluxQL backend's macros to an interpolated raw
// query, in the backend's order.
func InfluxMacros(q string, from, to time.Time, interval time.Duration) string {
	text := FormatInterval(interval)
	q = strings.ReplaceAll(q, "$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli()))
	q = strings.ReplaceAll(q, "$interval", text)
	q = strings.ReplaceAll(q, "$__interval_ms", strconv.FormatInt(interval.Milliseconds(), 10))
	q = strings.ReplaceAll(q, "$__interval", text)
	return q
}

// RateInterval is the Prometheus datasource's $__rate_interval.
func RateInterval(interval, scrape time.Duration) time.Duration {
	return max(interval+scrape, 4*scrape)
}

// PromMacros applies the Prometheus datasource's range macros.
func PromMacros(q string, from, to time.Time, interval, scrape time.Duration) string {
	rate := RateInterval(interval, scrape)
	rng := to.Sub(from)
	for _, r := range []struct{ k, v string }{
		{"$__rate_interval_ms", strconv.FormatInt(rate.Milliseconds(), 10)},
		{"$__rate_interval", promDuration(rate)},
		{"$__interval_ms", strconv.FormatInt(interval.Milliseconds(), 10)},
		{"$__interval", promDuration(interval)},
		{"$__range_ms", strconv.FormatInt(rng.Milliseconds(), 10)},
		{"$__range_s", strconv.FormatInt(int64(rng.Seconds()), 10)},
		{"$__range", promDuration(rng)},
	} {
		q = strings.ReplaceAll(q, r.k, r.v)
	}
	return q
}

// promDuration renders a duration for PromQL: whole seconds as "90s",
// otherwise milliseconds.
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
