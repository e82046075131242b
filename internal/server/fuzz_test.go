package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary bytes to the configuration loader: it
// never panics, and either accepts a configuration that passes Validate
// or reports problems that name the file.
func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		"data_dir: /var/lib/chargewatch\n",
		"mqtt: {url: ssl://broker:8883, client_id: cw, username: u, events_username: e, tls: {ca_file: /etc/ca.pem}}\n",
		"http: {listen: \"0.0.0.0:9466\", tls: {cert_file: c.pem, key_file: k.pem}}\n",
		"ingest: {telemetry_log_bytes: 4GiB, event_log_bytes: 99999999999999999999TiB, batch_points: -1}\n",
		"ingest: {max_past: 9999999h, max_future: -1s}\n",
		"alerting: {enabled: true, synchronous: OFF, snapshot_interval: 0s}\n",
		"mqtt: {url: \"tcp://u:p@host:1883\"}\n", "influxdb: {url: \"javascript:alert(1)\"}\n",
		"a: &a [x,x,x]\nb: [*a,*a,*a]\n", "\x00\xff", "", "---\n---\n", "mqtt: [1, 2]\n",
	} {
		f.Add([]byte(seed))
	}
	path := filepath.Join(f.TempDir(), "chargewatch.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted a configuration that does not validate: %v", err)
		}
	})
}
