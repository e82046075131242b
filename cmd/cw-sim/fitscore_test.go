package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// TestEvalFeaturesFitScore: eval --features writes the labelled feature
// rows, and fit-score fits them and prints the coefficients and the --set
// line; --features is refused with --baseline.
func TestEvalFeaturesFitScore(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.csv")
	code, _, errs := cli(t, "eval", "--seeds", "7", "--units", "20", "--days", "1", "--intervals", "5m",
		"--realdata", "none", "--no-plots", "--quiet", "--set", "ScoreMin=0", "--features", f)
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 10 || !strings.HasPrefix(lines[0], "seed,interval_s,") || !strings.HasSuffix(lines[0], ","+detect.ScoreNames[detect.ScoreFeatures-1]) {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	code, out, errs := cli(t, "fit-score", "--in", f, "--test", f, "--interval", "300", "--l2", "10")
	if code != 0 {
		t.Fatalf("fit-score exit %d: %s", code, errs)
	}
	for _, want := range []string{"coefficients:", "--set ScoreWLong=", "AUC", "test ("} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if code, _, _ := cli(t, "eval", "--baseline", "--features", f, "--realdata", "none"); code == 0 {
		t.Error("--features accepted with --baseline")
	}
	if code, _, _ := cli(t, "fit-score", "--in", f, "--drop", "nosuch"); code != 2 {
		t.Errorf("--drop of an unknown feature: exit %d, want 2", code)
	}
}

// TestSetParamScoreW: --set takes the score's coefficients as a comma-
// separated list of the intercept and one per feature, and refuses
// another count and the unexported fields.
func TestSetParamScoreW(t *testing.T) {
	p := detect.DefaultPhysicsParams()
	vals := make([]string, detect.ScoreFeatures+1)
	for i := range vals {
		vals[i] = "0.5"
	}
	vals[0] = "-3"
	if err := setParam(&p, "ScoreW="+strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	if p.ScoreW[0] != -3 || p.ScoreW[detect.ScoreFeatures] != 0.5 {
		t.Errorf("ScoreW %v", p.ScoreW)
	}
	if err := setParam(&p, "ScoreWLong=1,2"); err == nil {
		t.Error("two coefficients accepted")
	}
	if err := setParam(&p, "scoreZMin=1"); err == nil || strings.Contains(err.Error(), "scoreZMin,") {
		t.Errorf("an unexported field: %v", err)
	}
}
