package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Every error message is pinned by a golden file: testdata/errors/<case>.yaml
// gives <case>.golden. Run go test -update to rewrite them after a wording change.
func TestErrorsGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	if len(files) < 5 {
		t.Fatalf("only %d cases", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse("edge.yaml", "testdata", data)
			if err == nil {
				t.Fatal("config accepted")
			}
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error %T, want Errors", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("errors differ from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
			}
			if strings.Contains(got, "s3cr3t-pw") {
				t.Error("an error message shows the MQTT password")
			}
		})
	}
}

func TestSampleConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The sample names files of a real gateway; point them at something that exists.
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	s := strings.NewReplacer("/etc/cw-edge/mqtt-password", pw, "/etc/cw-edge/ca.pem", pw).Replace(string(data))
	c, err := Parse("sample.yaml", "testdata", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Password(); p != "secret" {
		t.Errorf("password %q", p)
	}
	buses := c.ModbusBuses()
	if len(buses) != 3 || len(buses[0].Devices) != 3 {
		t.Fatalf("buses %+v", buses)
	}
	m102 := buses[0].Devices[1]
	if m102.Profile.Registers[0].Function != 4 || m102.Retries != 2 || m102.Interval != 10*time.Second || m102.Timeout != time.Second {
		t.Errorf("m-102 = %+v", m102)
	}
	if d := buses[1].Devices[0]; d.Timeout != 2*time.Second || d.Interval != 10*time.Second {
		t.Errorf("bus timeout not inherited: %+v", d)
	}
	if d := buses[2].Devices[0]; d.Ports != 10 || d.Interval != 30*time.Second {
		t.Errorf("pile-1 = %+v", d)
	}
	if c.MQTT.Username != "gw-0001" || c.Queue.MaxAge != 7*24*time.Hour {
		t.Errorf("defaults: %+v %+v", c.MQTT, c.Queue)
	}
	// Four meters at 10 s, a monitor at 5 s, 10 pile ports at 30 s: 80,640 readings a day.
	if n := c.ReadingsPerDay(); n != 80640 {
		t.Errorf("readings per day %v", n)
	}
	b := c.QueueMaxBytes()
	if b < 50<<20 || b > 200<<20 {
		t.Errorf("queue bound %d bytes for 7 days", b)
	}
	t.Log("\n" + c.Summary())
}

func TestParseHelpers(t *testing.T) {
	for s, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "500ms": 500 * time.Millisecond} {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("parseDuration(%s) = %v, %v", s, got, err)
		}
	}
	for s, want := range map[string]int64{"512MiB": 512 << 20, "1GiB": 1 << 30, "100MB": 100e6, "4096": 4096} {
		if got, err := parseByteSize(s); err != nil || got != want {
			t.Errorf("parseByteSize(%s) = %v, %v", s, got, err)
		}
	}
}
