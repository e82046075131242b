package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Influx is a running (or stopped) InfluxDB 1.8.10 on 127.0.0.1. Besides the fields and the
// query helpers, it has the control methods Start, Stop, Kill, Pause, Resume, Pid, LogTail,
// LogPath and DataDir.
type Influx struct {
	URL     string // "http://127.0.0.1:port"
	Addr    string // "127.0.0.1:port"
	Port    int
	RPCPort int // backup/restore RPC, also on 127.0.0.1
	client  *http.Client
	proc
}

func newInflux(bin string, env []string) (*Influx, error) {
	base, err := newBaseDir("influxd")
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(base, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	confPath := filepath.Join(base, "influxdb.conf")
	i := &Influx{
		client: &http.Client{Timeout: 30 * time.Second},
		proc: proc{
			name:         "influxd",
			bin:          bin,
			args:         []string{"run", "-config", confPath},
			env:          influxEnv(env),
			base:         base,
			logPath:      filepath.Join(base, "influxd.log"),
			startTimeout: 60 * time.Second,
		},
	}
	i.ready = func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, i.URL+"/ping", nil)
		if err != nil {
			return err
		}
		resp, err := i.client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("GET /ping: %s", resp.Status)
		}
		return nil
	}
	for attempt := 1; ; attempt++ {
		i.Port, i.RPCPort = FreePort(), FreePort()
		for i.RPCPort == i.Port {
			i.RPCPort = FreePort()
		}
		i.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(i.Port))
		i.URL = "http://" + i.Addr
		conf, err := renderTemplate("deploy/influxdb/influxdb.conf", map[string]string{
			"HTTP_PORT": strconv.Itoa(i.Port),
			"RPC_PORT":  strconv.Itoa(i.RPCPort),
			"DATA_DIR":  dataDir,
		})
		if err != nil {
			os.RemoveAll(base)
			return nil, err
		}
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			os.RemoveAll(base)
			return nil, err
		}
		err = i.Start()
		if err == nil {
			return i, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			os.RemoveAll(base)
			return nil, fmt.Errorf("influxd: %v", err)
		}
	}
}

// FluxOn is the StartInflux override that turns Flux (/api/v2/query) back on. Test servers
// run with Flux off otherwise (see the package doc).
const FluxOn = "INFLUXDB_HTTP_FLUX_ENABLED=true"

// influxEnv is the environment for influxd: ours without INFLUXDB_* variables (influxd reads
// them as config overrides), then Flux off, then the caller's overrides (the last setting of a
// variable wins).
//
// Flux is off in tests because initialising it costs about 4.5 s of CPU at every start of
// influxd on the reference machine (0.1 s without), and nothing but /api/v2/query needs it:
// /api/v2/write, /health and InfluxQL work without it. Tests of Flux queries pass FluxOn.
func influxEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INFLUXDB_") {
			env = append(env, kv)
		}
	}
	env = append(env, "INFLUXDB_HTTP_FLUX_ENABLED=false")
	return append(env, extra...)
}

// Series is one series of an InfluxQL result. Values holds json.Number for numbers (a float
// field that happens to be whole comes back as e.g. 21, so use Float or Int), string, bool
// or nil. The time column is integer nanoseconds since the epoch (queries use epoch=ns).
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Col returns the index of column name, or -1.
func (s Series) Col(name string) int {
	for i, c := range s.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Value returns the value in row at column name; it panics if there is no such column or row.
func (s Series) Value(row int, column string) any {
	c := s.Col(column)
	if c < 0 {
		panic(fmt.Sprintf("testenv: series %q has no column %q (columns %v)", s.Name, column, s.Columns))
	}
	if row < 0 || row >= len(s.Values) {
		panic(fmt.Sprintf("testenv: series %q has %d rows, no row %d", s.Name, len(s.Values), row))
	}
	return s.Values[row][c]
}

// Float returns a numeric value as float64; it panics if the value is not a number.
func (s Series) Float(row int, column string) float64 {
	v := s.Value(row, column)
	n, ok := v.(json.Number)
	if !ok {
		panic(fmt.Sprintf("testenv: %s[%d].%s = %#v is not a number", s.Name, row, column, v))
	}
	f, err := n.Float64()
	if err != nil {
		panic(fmt.Sprintf("testenv: %s[%d].%s: %v", s.Name, row, column, err))
	}
	return f
}

// Int returns an integer value as int64; it panics if the value is not an integer.
func (s Series) Int(row int, column string) int64 {
	v := s.Value(row, column)
	n, ok := v.(json.Number)
	if !ok {
		panic(fmt.Sprintf("testenv: %s[%d].%s = %#v is not a number", s.Name, row, column, v))
	}
	i, err := n.Int64()
	if err != nil {
		panic(fmt.Sprintf("testenv: %s[%d].%s: %v", s.Name, row, column, err))
	}
	return i
}

// String returns a string value, or "" for null; it panics for other types.
func (s Series) String(row int, column string) string {
	switch v := s.Value(row, column).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		panic(fmt.Sprintf("testenv: %s[%d].%s = %#v is not a string", s.Name, row, column, v))
	}
}

// Time returns the time column of row.
func (s Series) Time(row int) time.Time {
	return time.Unix(0, s.Int(row, "time"))
}

// CreateDatabase creates database name (no error if it exists).
func (i *Influx) CreateDatabase(t testing.TB, name string) {
	t.Helper()
	if _, err := i.QueryErr("", "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
}

// NewDatabase creates a database with a name unique to t (see DBName) and returns the name.
func (i *Influx) NewDatabase(t testing.TB) string {
	t.Helper()
	name := DBName(t)
	i.CreateDatabase(t, name)
	return name
}

// Query runs InfluxQL against database db ("" for none) and returns the series of all
// statements; any error fails the test.
func (i *Influx) Query(t testing.TB, db, influxql string) []Series {
	t.Helper()
	series, err := i.QueryErr(db, influxql)
	if err != nil {
		t.Fatalf("testenv: query %q on %q: %v", influxql, db, err)
	}
	return series
}

// QueryErr is Query returning the error; safe to call from any goroutine.
func (i *Influx) QueryErr(db, influxql string) ([]Series, error) {
	form := url.Values{"q": {influxql}, "epoch": {"ns"}}
	if db != "" {
		form.Set("db", db)
	}
	resp, err := i.client.PostForm(i.URL+"/query", form)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
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
		return nil, fmt.Errorf("%s: %s", resp.Status, bytesHead(body))
	}
	if r.Error != "" {
		return nil, errors.New(r.Error)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, bytesHead(body))
	}
	var out []Series
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, errors.New(res.Error)
		}
		out = append(out, res.Series...)
	}
	return out, nil
}

// Write writes line protocol to database db through the 1.x /write endpoint. precision is
// "ns" (the default when ""), "u", "ms" or "s".
func (i *Influx) Write(t testing.TB, db, precision, lines string) {
	t.Helper()
	if err := i.WriteErr(db, precision, lines); err != nil {
		t.Fatalf("testenv: write to %s: %v", db, err)
	}
}

// WriteErr is Write returning the error; safe to call from any goroutine.
func (i *Influx) WriteErr(db, precision, lines string) error {
	q := url.Values{"db": {db}}
	if precision != "" {
		q.Set("precision", precision)
	}
	resp, err := i.client.Post(i.URL+"/write?"+q.Encode(), "text/plain; charset=utf-8", strings.NewReader(lines))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, bytesHead(body))
	}
	return nil
}

// WaitFor runs the query every 50 ms until ok accepts its result, and returns that result.
// It fails the test after timeout, reporting the last result or error. Use it for data that
// arrives asynchronously (ingest, downsampling).
func (i *Influx) WaitFor(t testing.TB, timeout time.Duration, db, influxql string, ok func([]Series) bool) []Series {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		series, err := i.QueryErr(db, influxql)
		if err == nil && ok(series) {
			return series
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("testenv: %q on %q not satisfied after %v; last error: %v", influxql, db, timeout, err)
			}
			b, _ := json.Marshal(series)
			t.Fatalf("testenv: %q on %q not satisfied after %v; last result: %s", influxql, db, timeout, bytesHead(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func bytesHead(b []byte) string {
	const max = 2000
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
