package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

const smallScenario = `
seed: 5
clock: files
start: 2026-07-06T00:00:00+08:00
span: 8h
generate: {buildings: 3, units_per_building: 6, streets_per_district: 1, communities_per_street: 1}
hazards: {smoke_test: 1, overload: 0.2, leakage: 0.5}
ebikes: {indoor_units: 0.5}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestRunDeterministic: the files clock twice with the same seed writes the
// same bytes (readings, events, status and truth); another seed does not.
func TestRunDeterministic(t *testing.T) {
	sc := writeFile(t, "city.yaml", smallScenario)
	runTo := func(format string, extra ...string) map[string][]byte {
		dir := t.TempDir()
		args := append([]string{"run", "--scenario", sc, "--out", dir, "--format", format, "--truth", filepath.Join(dir, "truth.jsonl"), "--quiet"}, extra...)
		if code, _, stderr := cli(t, args...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return readDir(t, dir)
	}
	for _, format := range []string{"csv", "jsonl"} {
		a, b := runTo(format), runTo(format)
		if len(a) < 4 {
			t.Fatalf("%s: files %v", format, len(a))
		}
		for name, data := range a {
			if !bytes.Equal(data, b[name]) {
				t.Errorf("%s: %s differs between two runs with the same seed", format, name)
			}
		}
		c := runTo(format, "--seed", "6")
		same := 0
		for name, data := range a {
			if bytes.Equal(data, c[name]) {
				same++
			}
		}
		if same == len(a) {
			t.Errorf("%s: another seed wrote the same files", format)
		}
	}
}

// TestRunBackfillWindow: a backfill ending at --now has every timestamp in
// [now-span, now], and ground truth ends with the run record.
func TestRunBackfillWindow(t *testing.T) {
	sc := writeFile(t, "city.yaml", strings.Replace(smallScenario, "clock: files\nstart: 2026-07-06T00:00:00+08:00\nspan: 8h", "clock: backfill\nspan: 9d", 1))
	dir := t.TempDir()
	now := time.Date(2026, 8, 1, 9, 30, 0, 0, time.UTC)
	code, _, stderr := cli(t, "run", "--scenario", sc, "--span", "30h", "--now", now.Format(time.RFC3339), "--out", dir, "--format", "jsonl", "--truth", filepath.Join(dir, "truth.jsonl"), "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lo, hi := now.Add(-30*time.Hour).UnixMilli(), now.UnixMilli()
	for _, name := range []string{"readings.jsonl", "events.jsonl"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			var line struct {
				Reading struct{ TS int64 } `json:"reading"`
				Event   struct{ TS int64 } `json:"event"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			ts := line.Reading.TS + line.Event.TS
			if ts < lo || ts > hi {
				t.Fatalf("%s: ts %d outside [%d, %d]", name, ts, lo, hi)
			}
			n++
		}
		f.Close()
		if name == "readings.jsonl" && n < 10000 {
			t.Fatalf("%d readings", n)
		}
	}
	tf, _ := os.Open(filepath.Join(dir, "truth.jsonl"))
	defer tf.Close()
	recs, err := truth.Read(tf)
	if err != nil || len(recs) == 0 {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Kind != truth.Run || last.StartMS != lo || last.EndMS != hi {
		t.Fatalf("last record %+v", last)
	}
	if !strings.Contains(stderr, "summary:") || !strings.Contains(stderr, "episodes:") {
		t.Fatalf("no summary: %s", stderr)
	}
}

func TestSiteAndCheck(t *testing.T) {
	sc := writeFile(t, "city.yaml", smallScenario)
	out := filepath.Join(t.TempDir(), "site.yaml")
	if code, _, stderr := cli(t, "site", "--scenario", sc, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	site, err := registry.LoadSite(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Buildings) != 3 || len(site.Units) < 18 {
		t.Fatalf("site: %d buildings %d units", len(site.Buildings), len(site.Units))
	}
	code, stdout, _ := cli(t, "check", "--scenario", sc)
	if code != 0 || !strings.HasPrefix(stdout, "ok: files clock, seed 5") {
		t.Fatalf("check: %d %s", code, stdout)
	}
	bad := writeFile(t, "bad.yaml", "seed: x\nclock: weekly\nspan: 99d\n")
	code, _, stderr := cli(t, "check", "--scenario", bad)
	if code != 2 || !strings.Contains(stderr, "bad.yaml:1: seed:") || !strings.Contains(stderr, "bad.yaml:2: clock:") {
		t.Fatalf("invalid scenario: exit %d\n%s", code, stderr)
	}
	if code, stdout, _ := cli(t, "example"); code != 0 || !strings.Contains(stdout, "generate:") {
		t.Fatal("example")
	}
	if code, _, stderr := cli(t, "run", "--scenario", sc); code != 2 || !strings.Contains(stderr, "nothing to do") {
		t.Fatalf("run without outputs: %d %s", code, stderr)
	}
}

// TestRunDemoSiteToBroker runs the registry's demo site as a backfill to a
// real Mosquitto: everything published is acknowledged.
func TestRunDemoSiteToBroker(t *testing.T) {
	site := filepath.Join("..", "..", "examples", "demo-site.yaml")
	if _, err := os.Stat(site); err != nil {
		t.Fatal("examples/demo-site.yaml is missing")
	}
	mq := testenv.SharedMosquitto(t)
	code, _, stderr := cli(t, "run", "--site", site, "--clock", "backfill", "--span", "1h", "--broker", mq.URL, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var published, acked string
	for _, l := range strings.Split(stderr, "\n") {
		if f := strings.Fields(l); len(f) >= 6 && f[0] == "mqtt:" {
			published, acked = f[1], f[3]
		}
	}
	if published == "" || published != acked || published == "0" {
		t.Fatalf("published %q acked %q\n%s", published, acked, stderr)
	}
}

func TestLoadSiteOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "load-site.yaml")
	code, _, stderr := cli(t, "load", "--devices", "20", "--connections", "2", "--site-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	site, err := registry.LoadSite(out)
	if err != nil || len(site.Devices) != 20 || len(site.Gateways) != 2 {
		t.Fatalf("load site: %v", err)
	}
	if code, _, stderr := cli(t, "load", "--broker", "tcp://127.0.0.1:1", "--messages", "5"); code != 2 || !strings.Contains(stderr, "--rate R or --flat") {
		t.Fatalf("load without rate: %d %s", code, stderr)
	}
}

// TestEvalExplainMisses: --explain-misses prints why sessions were missed
// and the alerts by path after the report, and is refused with --baseline.
func TestEvalExplainMisses(t *testing.T) {
	code, out, errs := cli(t, "eval", "--seeds", "7", "--units", "10", "--days", "1", "--intervals", "5m",
		"--realdata", "none", "--no-plots", "--quiet", "--explain-misses")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"MISSED SESSIONS, readings every 5min", "missed in all", "ALERTS BY PATH, readings every 5min"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if code, _, _ := cli(t, "eval", "--baseline", "--explain-misses", "--realdata", "none"); code == 0 {
		t.Error("--explain-misses accepted with --baseline")
	}
}

// TestEvalExplainFalse: --explain-false lists the false alarms with the
// simulator's appliances and counts them by cause and path.
func TestEvalExplainFalse(t *testing.T) {
	code, out, errs := cli(t, "eval", "--seeds", "7", "--units", "10", "--days", "1", "--intervals", "5m",
		"--realdata", "none", "--no-plots", "--quiet", "--explain-false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"FALSE ALARMS, readings every 5min", "FALSE ALARMS BY CAUSE × PATH, readings every 5min",
		"NO SESSION ON CHARGING DAYS, readings every 5min", "NO SESSION ON CHARGING DAYS BY RELATION × CAUSE × PATH, readings every 5min"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestEvalFeedback: --feedback simulates the grid workers' verdicts and
// says so above the tables and under each interval's; a negative delay or
// --baseline is refused with what to give instead.
func TestEvalFeedback(t *testing.T) {
	code, out, errs := cli(t, "eval", "--seeds", "7", "--units", "10", "--days", "2", "--intervals", "5m",
		"--realdata", "none", "--no-plots", "--quiet", "--feedback", "2h", "--set", "Feedback=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"WITH GRID WORKERS' VERDICTS (simulated, --feedback 2h0m0s)", "grid workers' verdicts: "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	for _, args := range [][]string{{"--feedback", "-1h"}, {"--feedback", "2h", "--baseline"}} {
		code, _, errs := cli(t, append([]string{"eval", "--realdata", "none", "--no-plots", "--quiet"}, args...)...)
		if code != 2 || !strings.Contains(errs, "--feedback") {
			t.Errorf("%v: exit %d, %q; want a usage error about --feedback", args, code, errs)
		}
	}
}
