package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadConfigRefuses: inputs the loader once took wrongly (found by
// FuzzLoadConfig) are refused with an error naming the key and the fix,
// and a URL's password never appears in the error.
func TestLoadConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // in the error
	}{
		{"fraction of a unit", "ingest: {telemetry_log_bytes: 1.5GiB}\n", []string{`"1.5GiB" is not a size`, "1536MiB"}},
		{"size overflows", "ingest: {telemetry_log_bytes: 16777217TiB}\n", []string{`"16777217TiB" is too large`}},
		{"negative size", "ingest: {event_log_bytes: -5MiB}\n", []string{`"-5MiB" is not a size`}},
		{"trailing junk", "ingest: {event_log_bytes: 64MiBx}\n", []string{`is not a size`}},
		{"second document", "data_dir: /tmp/a\n---\ndata_dir: /tmp/b\n", []string{"more than one YAML document", `remove the "---" line`}},
		{"password in the broker URL", "mqtt: {url: \"tcp://gw:s3cret@broker:1883\"}\n", []string{"mqtt.url: carries a user name or password", "mqtt.password_file"}},
		{"password in the InfluxDB URL", "influxdb: {url: \"http://admin:s3cret@db:8086\"}\n", []string{"influxdb.url: carries a user name or password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chargewatch.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the password:\n%v", err)
			}
		})
	}
	// Whole sizes in every unit still load.
	path := filepath.Join(t.TempDir(), "chargewatch.yaml")
	os.WriteFile(path, []byte("ingest: {telemetry_log_bytes: 1536MiB, event_log_bytes: 17179869184B}\n---\n"), 0o600)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest.TelemetryLogBytes != 1536<<20 || c.Ingest.EventLogBytes != 16<<30 {
		t.Errorf("sizes %d and %d", c.Ingest.TelemetryLogBytes, c.Ingest.EventLogBytes)
	}
}
