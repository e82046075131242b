package downsample

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPQuerier runs statements through InfluxDB's /query endpoint (1.8, or 2.x
// through its v1 compatibility API).
type HTTPQuerier struct {
	URL      string // http://127.0.0.1:8086
	Database string
	Username string // optional
	Password string
	Client   *http.Client // default: a client with a 5-minute timeout
}

var defaultClient = &http.Client{Timeout: 5 * time.Minute}

// FieldKeys implements FieldLister with SHOW FIELD KEYS.
func (h *HTTPQuerier) FieldKeys(ctx context.Context, rp, measurement string) ([]string, error) {
	body, err := h.do(ctx, fmt.Sprintf("SHOW FIELD KEYS FROM %s.%s", ident(rp), ident(measurement)))
	if err != nil {
		return nil, err
	}
	var r struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("influxdb %s: %w", h.URL, err)
	}
	var keys []string
	for _, res := range r.Results {
		for _, s := range res.Series {
			for _, v := range s.Values {
				if k, ok := v[0].(string); ok {
					keys = append(keys, k)
				}
			}
		}
	}
	return keys, nil
}

// Exec implements Querier. The credentials go in the form body, never in
// errors.
func (h *HTTPQuerier) Exec(ctx context.Context, q string) error {
	_, err := h.do(ctx, q)
	return err
}

// do runs q and returns the response body; an HTTP error or an error in
// any statement's result is an error.
func (h *HTTPQuerier) do(ctx context.Context, q string) ([]byte, error) {
	form := url.Values{"q": {q}, "db": {h.Database}}
	if h.Username != "" {
		form.Set("u", h.Username)
		form.Set("p", h.Password)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.URL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := h.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("influxdb: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	var r struct {
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK {
		msg := r.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return nil, fmt.Errorf("influxdb %s: %s: %s", h.URL, resp.Status, msg)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("influxdb %s: %s", h.URL, r.Error)
	}
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("influxdb %s: %s", h.URL, res.Error)
		}
	}
	return body, nil
}
