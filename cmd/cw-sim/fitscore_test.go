package main

import (
	"fmt"
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
	goFile := filepath.Join(t.TempDir(), "trees.go")
	code, out, errs = cli(t, "fit-score", "--model", "gbdt", "--in", f, "--test", f, "--interval", "300", "--trees", "5", "--depth", "2",
		"--min-leaf", "5", "--go", goFile)
	if code != 0 {
		t.Fatalf("fit-score --model gbdt exit %d: %s", code, errs)
	}
	for _, want := range []string{"gradient-boosted trees: 5 of depth 2", "5 trees: AUC training", "5 trees of depth 2", "AUC", "test (", "wrote " + goFile} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(goFile); err != nil || !strings.Contains(string(b), "var scoreTreesWLong = ScoreForest{") ||
		!strings.Contains(string(b), "--interval 300 --min-held 0 --trees 5 --depth 2 --rate 0.1 --l2 10 --min-leaf 5") {
		t.Errorf("the Go file: %v\n%s", err, b)
	}
	for _, bad := range [][]string{{"--model", "forest"}, {"--go", goFile}, {"--model", "gbdt", "--target", "ScoreX"}} {
		if code, _, _ := cli(t, append([]string{"fit-score", "--in", f}, bad...)...); code != 2 {
			t.Errorf("fit-score %q: exit %d, want 2", bad, code)
		}
	}
	if code, _, _ := cli(t, "fit-score", "--model", "gbdt", "--in", f, "--interval", "300", "--depth", "0"); code == 0 {
		t.Error("--depth 0 accepted")
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

// synthFeatures writes a small feature file (as eval --features would) of
// 40 rows per interval, ages 5 to 240 min.
func synthFeatures(t *testing.T, intervals ...int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("seed,interval_s,unit,dev,var,t0,ts,held_min,label,charging_day,in_span,z,in_session")
	for _, n := range detect.ScoreNames {
		b.WriteString("," + n)
	}
	b.WriteString("\n")
	for _, iv := range intervals {
		for r := range 40 {
			label := 0
			if r%3 == 0 {
				label = 1
			}
			fmt.Fprintf(&b, "1,%d,u%d,m-u%d,0,%d,%d,%.1f,%d,1,1,0.0000,%d", iv, r, r, r*1000, r*1000+60000, 5+float64(r%40)*235/39, label, label)
			for i := range detect.ScoreFeatures {
				fmt.Fprintf(&b, ",%g", float64((r*7+i*3+label*2)%11)/10)
			}
			b.WriteString("\n")
		}
	}
	f := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFitScoreErrors: fit-score refuses a negative --l2 and says, when no
// row is left, what was asked and what the file has; it warns when one
// model is fitted across intervals.
func TestFitScoreErrors(t *testing.T) {
	f300 := synthFeatures(t, 300)
	mixed := synthFeatures(t, 60, 300)
	cases := []struct {
		name    string
		args    []string
		code    int
		wantErr []string
		noErr   string
	}{
		{"negative l2", []string{"--in", f300, "--l2", "-5"}, 2, []string{"--l2", "must be 0 or more"}, ""},
		{"other interval", []string{"--in", f300, "--interval", "60"}, 1,
			[]string{"no training rows in " + f300, "--interval 60", "the file has intervals 300 s", "ages up to 240 min"}, ""},
		{"min-held over all", []string{"--in", f300, "--min-held", "9999"}, 1, []string{"--min-held 9999 min", "ages up to 240 min"}, ""},
		{"mixed intervals", []string{"--in", mixed}, 0, []string{"warning", "mix intervals 60, 300 s", "--interval"}, ""},
		{"one interval", []string{"--in", mixed, "--interval", "60"}, 0, nil, "warning"},
		{"a forest for no interval", []string{"--in", f300, "--model", "gbdt", "--go", filepath.Join(t.TempDir(), "f.go")}, 2,
			[]string{"--go needs --interval"}, ""},
		{"a forest for the other interval", []string{"--in", f300, "--model", "gbdt", "--interval", "300", "--target", "ScoreDropW", "--go", filepath.Join(t.TempDir(), "f.go")}, 2,
			[]string{"--target ScoreDropW is for readings up to 90 s", "use --target ScoreDropWLong"}, ""},
	}
	for _, c := range cases {
		code, out, errs := cli(t, append([]string{"fit-score"}, c.args...)...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d: %s%s", c.name, code, c.code, errs, out)
			continue
		}
		for _, w := range c.wantErr {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr %q does not say %q", c.name, errs, w)
			}
		}
		if c.noErr != "" && strings.Contains(errs, c.noErr) {
			t.Errorf("%s: stderr %q says %q", c.name, errs, c.noErr)
		}
	}
}
