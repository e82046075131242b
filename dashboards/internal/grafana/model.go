// Package grafana stands in for the parts of Grafana that turn a dashboard
// into datasource requests, so that tests and the benchmark can run every
// panel's queries the way Grafana would, without Grafana (which cannot be
// installed here). It reads the dashboard JSON (not the Go builders), and
// reproduces, from Grafana's sources (v10/v11, InfluxDB backend mode):
//
//   - template variables: query variables evaluated in order against the
//     datasource, each interpolated with the values chosen above it; options
//     de-duplicated and sorted; All as the custom all value or as every option;
//   - interpolation (templateSrv.replace with the InfluxDB datasource's
//     'regex' format): $var, ${var}, ${var:format}, [[var]]; values regex-escaped
//     like kbn.regexEscape, several values as (a|b), a custom all value as is;
//     ${__from} and ${__to} as epoch milliseconds; unknown variables left alone;
//   - the InfluxQL backend's macros (pkg/tsdb/influxdb/models/query.go):
//     $timeFilter as `time >= <from>ms and time <= <to>ms`, $interval,
//     $__interval_ms and $__interval;
//   - the interval (rangeutil.calculateInterval and roundInterval): range /
//     max data points, rounded, at least the panel's min interval or the
//     datasource's time interval; formatted like gtime.FormatInterval;
//   - Prometheus' $__rate_interval (max(interval + scrape, 4 x scrape)),
//     $__interval, $__range; instant queries at the end of the range, range
//     queries with the interval as step.
//
// What it does not do: render panels, apply transformations, or evaluate
// anything in the browser (field overrides, reducers are left to the caller).
package grafana

import (
	"encoding/json"
	"fmt"
)

// Ref is a datasource reference.
type Ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Dashboard is the part of a dashboard's JSON model that decides its queries.
type Dashboard struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Panels      []Panel
	Templating  struct{ List []Variable } `json:"templating"`
	Annotations struct {
		List []Annotation `json:"list"`
	} `json:"annotations"`
}

// Panel is one panel (rows are flattened by Parse).
type Panel struct {
	ID            int      `json:"id"`
	Type          string   `json:"type"`
	Title         string   `json:"title"`
	Datasource    *Ref     `json:"datasource"`
	Targets       []Target `json:"targets"`
	MaxDataPoints float64  `json:"maxDataPoints"`
	Interval      string   `json:"interval"`
	Panels        []Panel  `json:"panels"` // a row's panels
}

// Target is one query of a panel or an annotation.
type Target struct {
	RefID      string `json:"refId"`
	Datasource *Ref   `json:"datasource"`
	Hide       bool   `json:"hide"`
	// InfluxDB (InfluxQL)
	Query        string `json:"query"`
	RawQuery     bool   `json:"rawQuery"`
	ResultFormat string `json:"resultFormat"`
	Alias        string `json:"alias"`
	TextColumn   string `json:"textColumn"`
	TagsColumn   string `json:"tagsColumn"`
	// Prometheus
	Expr         string `json:"expr"`
	Instant      bool   `json:"instant"`
	Range        bool   `json:"range"`
	LegendFormat string `json:"legendFormat"`
}

// Annotation is an annotation query of the dashboard.
type Annotation struct {
	Name       string  `json:"name"`
	Datasource *Ref    `json:"datasource"`
	Enable     bool    `json:"enable"`
	BuiltIn    float64 `json:"builtIn"`
	Target     *Target `json:"target"`
}

// Variable is a template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"` // query, custom, ...
	Label      string          `json:"label"`
	RawQuery   json.RawMessage `json:"query"`
	Datasource *Ref            `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Regex      string          `json:"regex"`
	Sort       int             `json:"sort"`
	Refresh    int             `json:"refresh"`
	Options    []Option        `json:"options"`
	Current    Option          `json:"current"`
}

// Option is a variable option; Text and Value are a string or a list.
type Option struct {
	Text     any  `json:"text"`
	Value    any  `json:"value"`
	Selected bool `json:"selected"`
}

// Values returns the option's value(s) as a list.
func (o Option) Values() []string {
	switch v := o.Value.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// Query returns the variable's query text (for query variables) or its
// comma-separated values (custom variables).
func (v *Variable) Query() string {
	var s string
	if json.Unmarshal(v.RawQuery, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(v.RawQuery, &m) == nil {
		if q, ok := m["query"].(string); ok {
			return q
		}
	}
	return ""
}

// Parse reads a dashboard's JSON and flattens its rows.
func Parse(js []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(js, &d); err != nil {
		return nil, err
	}
	var flat []Panel
	for _, p := range d.Panels {
		flat = append(flat, p)
		flat = append(flat, p.Panels...)
	}
	d.Panels = flat
	return &d, nil
}

// Variable returns the named variable, or nil.
func (d *Dashboard) Variable(name string) *Variable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// Panel returns the panel with the given title, or nil.
func (d *Dashboard) Panel(title string) *Panel {
	for i := range d.Panels {
		if d.Panels[i].Title == title {
			return &d.Panels[i]
		}
	}
	return nil
}

// DatasourceOf returns the datasource a target uses: its own, or the panel's.
func (p *Panel) DatasourceOf(t *Target) *Ref {
	if t.Datasource != nil && t.Datasource.UID != "" {
		return t.Datasource
	}
	return p.Datasource
}
