package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Datasource is a provisioned datasource as far as queries are concerned.
type Datasource struct {
	UID, Type string
	// TimeInterval is jsonData.timeInterval: the lower limit of $__interval
	// (InfluxDB), the scrape interval (Prometheus).
	TimeInterval string
	Influx       *Influx
	Prometheus   *Prometheus
}

// Query is one datasource request of a panel, ready to send.
type Query struct {
	RefID      string
	Datasource *Datasource
	Text       string // the query as sent
	Interval   time.Duration
	From, To   time.Time
	Instant    bool // Prometheus: instant query at To
	Format     string
}

// DefaultMaxDataPoints stands in for the panel's width in pixels when a panel
// does not set maxDataPoints (every InfluxDB panel here does).
const DefaultMaxDataPoints = 1000

// PanelQueries returns the requests Grafana would send for a panel.
func (d *Dashboard) PanelQueries(p *Panel, st *State, from, to time.Time, ds map[string]*Datasource) ([]Query, error) {
	var out []Query
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.Hide {
			continue
		}
		ref := p.DatasourceOf(t)
		if ref == nil {
			return nil, fmt.Errorf("panel %q target %s: no datasource", p.Title, t.RefID)
		}
		src := ds[ref.UID]
		if src == nil {
			return nil, fmt.Errorf("panel %q target %s: datasource %q is not provisioned", p.Title, t.RefID, ref.UID)
		}
		mdp := int(p.MaxDataPoints)
		if mdp == 0 {
			mdp = DefaultMaxDataPoints
		}
		low := p.Interval
		if low == "" {
			low = src.TimeInterval
		}
		interval, err := CalculateInterval(from, to, mdp, low)
		if err != nil {
			return nil, fmt.Errorf("panel %q: %w", p.Title, err)
		}
		q := Query{RefID: t.RefID, Datasource: src, Interval: interval, From: from, To: to, Format: t.ResultFormat}
		switch src.Type {
		case "influxdb":
			if !t.RawQuery {
				return nil, fmt.Errorf("panel %q target %s: only raw InfluxQL is supported", p.Title, t.RefID)
			}
			q.Text = InfluxMacros(st.Interpolate(t.Query, from, to, "regex"), from, to, interval)
		case "prometheus":
			scrape, err := ParseInterval(orDefault(src.TimeInterval, "15s"))
			if err != nil {
				return nil, err
			}
			interval = max(interval, scrape)
			q.Interval = interval
			q.Text = PromMacros(st.Interpolate(t.Expr, from, to, "regex"), from, to, interval, scrape)
			q.Instant = t.Instant && !t.Range
		default:
			return nil, fmt.Errorf("panel %q: datasource type %q not supported", p.Title, src.Type)
		}
		out = append(out, q)
	}
	return out, nil
}

// AnnotationQuery returns the request of an InfluxDB annotation: like
// annotationEvents, interpolated with the 'regex' format and sent as a raw
// query with the dashboard's range.
func (d *Dashboard) AnnotationQuery(a *Annotation, st *State, from, to time.Time, ds map[string]*Datasource) (Query, error) {
	if a.Target == nil || a.Datasource == nil || ds[a.Datasource.UID] == nil {
		return Query{}, fmt.Errorf("annotation %q: no target or datasource", a.Name)
	}
	src := ds[a.Datasource.UID]
	interval, err := CalculateInterval(from, to, DefaultMaxDataPoints, src.TimeInterval)
	if err != nil {
		return Query{}, err
	}
	return Query{RefID: a.Target.RefID, Datasource: src, From: from, To: to, Interval: interval,
		Text: InfluxMacros(st.Interpolate(a.Target.Query, from, to, "regex"), from, to, interval)}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Resolve evaluates the dashboard's variables in order, each query
// interpolated with the values of the variables before it. sel says what to
// select; a variable not in sel keeps its saved current value (All, or the
// first option if the saved value is not offered). Selecting a value that the
// variable does not offer is an error.
func (d *Dashboard) Resolve(ctx context.Context, ds map[string]*Datasource, from, to time.Time, sel map[string]Selection) (*State, error) {
	st := &State{vars: map[string]*Variable{}, selected: map[string]Selection{}, options: map[string][]string{}}
	for i := range d.Templating.List {
		v := &d.Templating.List[i]
		var opts []string
		switch v.Type {
		case "custom":
			for _, o := range strings.Split(v.Query(), ",") {
				if o = strings.TrimSpace(o); o != "" {
					opts = append(opts, o)
				}
			}
		case "query":
			if v.Datasource == nil || ds[v.Datasource.UID] == nil || ds[v.Datasource.UID].Influx == nil {
				return nil, fmt.Errorf("variable %s: its datasource is not a provisioned InfluxDB", v.Name)
			}
			src := ds[v.Datasource.UID]
			interval, err := CalculateInterval(from, to, DefaultMaxDataPoints, src.TimeInterval)
			if err != nil {
				return nil, err
			}
			q := InfluxMacros(st.Interpolate(v.Query(), from, to, "regex"), from, to, interval)
			res, err := src.Influx.Query(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", v.Name, err)
			}
			opts = metricFindValues(res)
		default:
			return nil, fmt.Errorf("variable %s: type %q not supported", v.Name, v.Type)
		}
		opts = sortOptions(opts, v.Sort)
		st.vars[v.Name] = v
		st.options[v.Name] = opts
		want, ok := sel[v.Name]
		if !ok {
			cur := v.Current.Values()
			switch {
			case len(cur) > 0 && cur[0] == AllValue && v.IncludeAll:
				want = Selection{All: true}
			case len(cur) > 0 && allIn(cur, opts):
				want = Selection{Values: cur}
			case len(opts) > 0:
				want = Selection{Values: opts[:1]}
			}
		}
		if want.All && !v.IncludeAll {
			return nil, fmt.Errorf("variable %s has no All option", v.Name)
		}
		if !want.All && !allIn(want.Values, opts) {
			return nil, fmt.Errorf("variable %s: %v not among its options %v", v.Name, want.Values, opts)
		}
		if len(want.Values) > 1 && !v.Multi {
			return nil, fmt.Errorf("variable %s takes one value, not %v", v.Name, want.Values)
		}
		st.selected[v.Name] = want
	}
	return st, nil
}

func allIn(vs, opts []string) bool {
	for _, v := range vs {
		if !slices.Contains(opts, v) {
			return false
		}
	}
	return len(vs) > 0
}

// metricFindValues takes the values of a variable query's result: the value
// column of SHOW TAG VALUES, else the first column after time; de-duplicated.
func metricFindValues(res []Series) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range res {
		col := s.Col("value")
		if col < 0 {
			col = 0
			if len(s.Columns) > 1 && s.Columns[0] == "time" {
				col = 1
			}
		}
		for _, row := range s.Values {
			v := fmt.Sprint(row[col])
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// sortOptions applies a variable's sort: 0 none, 1/2 alphabetical, 3/4
// numerical, 5/6 alphabetical case-insensitive (ascending/descending).
func sortOptions(opts []string, mode int) []string {
	out := slices.Clone(opts)
	switch mode {
	case 1, 2:
		sort.Strings(out)
	case 3, 4:
		sort.SliceStable(out, func(i, j int) bool {
			a, _ := strconv.ParseFloat(out[i], 64)
			b, _ := strconv.ParseFloat(out[j], 64)
			return a < b
		})
	case 5, 6:
		sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	}
	if mode == 2 || mode == 4 || mode == 6 {
		slices.Reverse(out)
	}
	return out
}

// --- InfluxDB ----------------------------------------------------------------------------------

// Series is one series of an InfluxQL result; numbers are json.Number.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Col returns the index of a column, or -1.
func (s Series) Col(name string) int { return slices.Index(s.Columns, name) }

// Influx sends InfluxQL like the datasource: POST /query with db, u, p and
// epoch=ms.
type Influx struct {
	URL, Database, User, Password string
	Client                        *http.Client
}

// Query runs one statement and returns its series.
func (c *Influx) Query(ctx context.Context, q string) ([]Series, error) {
	form := url.Values{"q": {q}, "db": {c.Database}, "epoch": {"ms"}}
	if c.User != "" {
		form.Set("u", c.User)
		form.Set("p", c.Password)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	body, status, err := do(c.Client, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("influxdb: %d: %s", status, head(body))
	}
	if r.Error != "" {
		return nil, fmt.Errorf("influxdb: %s", r.Error)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("influxdb: %d: %s", status, head(body))
	}
	var out []Series
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("influxdb: %s", res.Error)
		}
		out = append(out, res.Series...)
	}
	return out, nil
}

// --- Prometheus --------------------------------------------------------------------------------

// PromSeries is one series of a Prometheus result: one point for an instant
// query, many for a range query.
type PromSeries struct {
	Labels map[string]string
	Points []PromPoint
}

// PromPoint is one sample.
type PromPoint struct {
	T time.Time
	V float64
}

// Prometheus queries the HTTP API like the datasource (POST, form-encoded).
type Prometheus struct {
	URL    string
	Client *http.Client
}

// Run sends q: an instant query at q.To, or a range query over the aligned
// range with the interval as step.
func (c *Prometheus) Run(ctx context.Context, q Query) ([]PromSeries, error) {
	form := url.Values{"query": {q.Text}}
	path := "/api/v1/query"
	if q.Instant {
		form.Set("time", promTime(q.To))
	} else {
		path = "/api/v1/query_range"
		step := q.Interval
		// Grafana aligns the range to the step.
		start := q.From.Truncate(step)
		end := q.To.Truncate(step)
		form.Set("start", promTime(start))
		form.Set("end", promTime(end))
		form.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	body, status, err := do(c.Client, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("prometheus: %d: %s", status, head(body))
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus: %d: %s", status, r.Error)
	}
	var out []PromSeries
	for _, res := range r.Data.Result {
		s := PromSeries{Labels: res.Metric}
		samples := res.Values
		if res.Value != nil {
			samples = [][]any{res.Value}
		}
		for _, v := range samples {
			p, err := promPoint(v)
			if err != nil {
				return nil, err
			}
			s.Points = append(s.Points, p)
		}
		out = append(out, s)
	}
	return out, nil
}

func promPoint(v []any) (PromPoint, error) {
	if len(v) != 2 {
		return PromPoint{}, errors.New("prometheus: malformed sample")
	}
	ts, ok := v[0].(float64)
	vs, ok2 := v[1].(string)
	if !ok || !ok2 {
		return PromPoint{}, errors.New("prometheus: malformed sample")
	}
	f, err := strconv.ParseFloat(vs, 64)
	if err != nil {
		return PromPoint{}, err
	}
	return PromPoint{T: time.UnixMilli(int64(ts * 1000)), V: f}, nil
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

var defaultClient = &http.Client{Timeout: 2 * time.Minute}

func do(c *http.Client, req *http.Request) ([]byte, int, error) {
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

func head(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}
