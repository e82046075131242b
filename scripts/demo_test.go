// Package scripts holds the test of the README's first command: make run
// (scripts/run.sh), the demo city end to end.
package scripts

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// TestDemo runs scripts/run.sh as a new user would (make run), on free
// ports and a temporary data directory, for DEMO_SECONDS: everything
// starts, the demo city's readings are ingested, its first hazards reach
// the workers' phones as SMS, and Ctrl-C's clean stop runs.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo for about two minutes")
	}
	runDir := t.TempDir()
	ports := map[string]int{}
	for _, k := range []string{"MQTT_PORT", "INFLUX_PORT", "INFLUX_RPC_PORT", "HTTP_PORT", "PROM_PORT", "PHONES_PORT"} {
		for {
			p := testenv.FreePort()
			dup := false
			for _, q := range ports {
				dup = dup || q == p
			}
			if !dup {
				ports[k] = p
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "scripts/run.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "RUN_DIR="+runDir, "DEMO_SECONDS=100")
	for k, p := range ports {
		cmd.Env = append(cmd.Env, k+"="+strconv.Itoa(p))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	logs := func() string {
		var b strings.Builder
		for _, name := range []string{"chargewatch", "cw-sim", "phones"} {
			l, _ := os.ReadFile(filepath.Join(runDir, "logs", name+".log"))
			b.WriteString("--- " + name + ".log (tail)\n" + tail(string(l), 1500) + "\n")
		}
		return b.String()
	}
	if err != nil {
		t.Fatalf("make run: %v\n%s\n%s", err, tail(out.String(), 3000), logs())
	}
	text := out.String()
	for _, want := range []string{"chargewatch is running with the demo city.", "stopped chargewatch", "stopped phones"} {
		if !strings.Contains(text, want) {
			t.Errorf("make run's output lacks %q:\n%s", want, tail(text, 3000))
		}
	}
	// Readings flowed: the last status line counts some.
	m := regexp.MustCompile(`readings +(\d+) \|`).FindAllStringSubmatch(text, -1)
	if len(m) == 0 {
		t.Fatalf("no status line in make run's output:\n%s", tail(text, 3000))
	}
	if n, _ := strconv.Atoi(m[len(m)-1][1]); n < 1000 {
		t.Errorf("only %d readings ingested during the demo", n)
	}
	// The demo's first hazards were routed to the grid worker on duty.
	phones, _ := os.ReadFile(filepath.Join(runDir, "phones.log"))
	if !strings.Contains(string(phones), "SMS to 138") {
		t.Errorf("no SMS reached the demo's phones:\n%s\n%s", phones, logs())
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
