package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
)

// InfluxConfig says where readings go. InfluxDB 1.8 serves the v2 write API
// that the client uses; the bucket is "database/retention-policy".
type InfluxConfig struct {
	URL             string // http://127.0.0.1:8086
	Database        string // chargewatch
	RetentionPolicy string // raw (the default policy when empty)
	Username        string
	Password        string
	Timeout         time.Duration
}

func (c InfluxConfig) bucket() string {
	if c.RetentionPolicy == "" {
		return c.Database
	}
	return c.Database + "/" + c.RetentionPolicy
}

func (c InfluxConfig) token() string {
	if c.Username == "" {
		return ""
	}
	return c.Username + ":" + c.Password
}

// InfluxWriter writes line protocol with influxdb-client-go's blocking
// write API and classifies its errors for the Writer's retry policy.
type InfluxWriter struct {
	client influxdb2.Client
	api    api.WriteAPIBlocking
}

// NewInfluxWriter returns a PointWriter for cfg.
func NewInfluxWriter(cfg InfluxConfig) *InfluxWriter {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := influxdb2.DefaultOptions().
		SetPrecision(time.Nanosecond).
		SetHTTPRequestTimeout(uint(timeout / time.Second)).
		SetMaxRetries(0)
	c := influxdb2.NewClientWithOptions(cfg.URL, cfg.token(), opts)
	return &InfluxWriter{client: c, api: c.WriteAPIBlocking("", cfg.bucket())}
}

// Close releases the client.
func (w *InfluxWriter) Close() { w.client.Close() }

// Write implements PointWriter.
func (w *InfluxWriter) Write(ctx context.Context, lines []byte) error {
	err := w.api.WriteRecord(ctx, string(trimNL(lines)))
	if err == nil {
		return nil
	}
	return classify(err)
}

// classify maps a client error onto the retry policy:
// 413 split the batch; 400/422 find and quarantine the refused points;
// 429 wait Retry-After; 5xx and network errors retry.
func classify(err error) *WriteError {
	var he *ihttp.Error
	if !errors.As(err, &he) {
		return &WriteError{Class: "network", Err: err}
	}
	we := &WriteError{Status: he.StatusCode, Err: err, RetryAfter: time.Duration(he.RetryAfter) * time.Second}
	var ne net.Error
	switch {
	case he.StatusCode == 0 || errors.As(he.Err, &ne):
		we.Class = "network"
	case he.StatusCode == http.StatusRequestEntityTooLarge:
		we.Class = "too_large"
	case he.StatusCode == http.StatusBadRequest || he.StatusCode == http.StatusUnprocessableEntity:
		we.Class = "bad_data"
	case he.StatusCode == http.StatusTooManyRequests:
		we.Class = "throttled"
	case he.StatusCode >= 500:
		we.Class = "server"
	default:
		we.Class = "other" // 401, 403, 404 (no database): retried, and logged
	}
	return we
}

// EnsureDatabase creates the database and its retention policies if they
// are missing: raw readings (default policy) and a longer one for
// downsampled data. It uses InfluxQL over /query, which 1.8 serves.
func EnsureDatabase(ctx context.Context, cfg InfluxConfig, raw, rollup time.Duration) error {
	rp := cfg.RetentionPolicy
	if rp == "" {
		rp = "raw"
	}
	// Each statement is idempotent on its own, so a database created by
	// hand (without our policies) is completed rather than refused.
	stmts := []string{
		fmt.Sprintf(`CREATE DATABASE %q`, cfg.Database),
		fmt.Sprintf(`CREATE RETENTION POLICY %q ON %q DURATION %s REPLICATION 1 DEFAULT`, rp, cfg.Database, influxDuration(raw)),
		fmt.Sprintf(`CREATE RETENTION POLICY "rollup" ON %q DURATION %s REPLICATION 1`, cfg.Database, influxDuration(rollup)),
	}
	for _, q := range stmts {
		if err := InfluxQL(ctx, cfg, q); err != nil {
			// Creating an existing policy with other settings is an error we
			// can live with: the operator may have tuned it.
			if strings.Contains(err.Error(), "already exists") {
				continue
			}
			return err
		}
	}
	return nil
}

func influxDuration(d time.Duration) string {
	return fmt.Sprintf("%dh", int(d.Hours()))
}

// InfluxQL runs one statement through /query and returns its error, if any.
func InfluxQL(ctx context.Context, cfg InfluxConfig, q string) error {
	form := url.Values{"q": {q}}
	if cfg.Username != "" {
		form.Set("u", cfg.Username)
		form.Set("p", cfg.Password)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cfg.URL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb %s: %w", cfg.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("influxdb %s: %s: %s", cfg.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	if i := strings.Index(string(body), `"error":`); i >= 0 {
		return fmt.Errorf("influxdb %s: %q: %s", cfg.URL, q, string(body[i:]))
	}
	return nil
}
