package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/eval"
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

// TestFitScoreErrors: fit-score refuses a negative --l2, a note of two
// lines and an empty file name, and says, when no row is left, what was
// asked and what the file has; it warns when one model is fitted across
// intervals.
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
		{"the young steps' forest for 5-min readings", []string{"--in", f300, "--model", "gbdt", "--interval", "300", "--target", "ScoreWEarly", "--go", filepath.Join(t.TempDir(), "f.go")}, 2,
			[]string{"--target ScoreWEarly is for readings up to 90 s", "no longer intervals' one"}, ""},
		{"the young steps' 5-min forest for 1-min readings", []string{"--in", f300, "--model", "gbdt", "--interval", "60", "--target", "ScoreWYoungLong", "--go", filepath.Join(t.TempDir(), "f.go")}, 2,
			[]string{"--target ScoreWYoungLong is for readings over 90 s", "no shorter intervals' one"}, ""},
		{"a note of two lines", []string{"--in", f300, "--model", "gbdt", "--interval", "300", "--note", "rows\nScoreMin=0", "--go", filepath.Join(t.TempDir(), "f.go")}, 2,
			[]string{"--note: one line"}, ""},
		{"an empty file name", []string{"--in", f300 + ","}, 2, []string{"--in", "an empty file name"}, ""},
		{"an empty test file name", []string{"--in", f300, "--test", "," + f300}, 2, []string{"--test", "an empty file name"}, ""},
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

// TestFitScoreLooks: --in takes several looks' files (their rows together:
// the same file twice, twice the rows), --go's file names them, the fit's
// command and --note; --calibration prints a reliability table per file.
func TestFitScoreLooks(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.csv")
	if code, _, errs := cli(t, "eval", "--seeds", "7", "--units", "20", "--days", "1", "--intervals", "5m",
		"--realdata", "none", "--no-plots", "--quiet", "--set", "ScoreMin=0", "--features", f); code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	rows := func(out string) string {
		i := strings.Index(out, "training rows ")
		if i < 0 {
			t.Fatalf("no training rows in:\n%s", out)
		}
		return strings.Fields(out[i:])[2]
	}
	_, one, _ := cli(t, "fit-score", "--model", "gbdt", "--in", f, "--interval", "300", "--trees", "2", "--depth", "1", "--min-leaf", "5")
	goFile := filepath.Join(t.TempDir(), "trees.go")
	code, two, errs := cli(t, "fit-score", "--model", "gbdt", "--in", f+","+f, "--test", f, "--interval", "300", "--trees", "2", "--depth", "1",
		"--min-leaf", "5", "--calibration", "--go", goFile, "--note", "rows: a note")
	if code != 0 {
		t.Fatalf("fit-score exit %d: %s", code, errs)
	}
	var n1, n2 int
	fmt.Sscan(rows(one), &n1)
	fmt.Sscan(rows(two), &n2)
	if n1 == 0 || n2 != 2*n1 {
		t.Errorf("rows: %d from one file, %d from it twice", n1, n2)
	}
	if strings.Count(two, "mean p") != 2 {
		t.Errorf("not a reliability table per file:\n%s", two)
	}
	b, err := os.ReadFile(goFile)
	if err != nil || !strings.Contains(string(b), "--in f.csv,f.csv --interval 300") || !strings.Contains(string(b), "of f.csv + f.csv (") ||
		!strings.Contains(string(b), "// rows: a note\n") {
		t.Errorf("the Go file: %v\n%s", err, b)
	}
	if code, _, _ := cli(t, "fit-score", "--in", f, "--note", "x"); code != 2 {
		t.Errorf("--note without --model gbdt: exit %d, want 2", code)
	}
}

// TestWriteReliability: rows fall in the bin of their probability (an
// edge in the bin under it), each bin's mean probability and share of
// charges; NaN rows and empty bins are left out.
func TestWriteReliability(t *testing.T) {
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	var b strings.Builder
	writeReliability(&b, []float64{logit(0.001), logit(0.003), logit(0.96), logit(0.97), logit(0.975), math.NaN(), math.Inf(1)},
		[]bool{false, true, true, false, true, true, true})
	got := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"p in            rows     mean p    charges",
		"0-0.01             2     0.0020     0.5000",
		"0.95-0.97          2     0.9650     0.5000",
		"0.97-0.98          1     0.9750     1.0000",
		"0.99-1             1     1.0000     1.0000",
	}
	if len(got) != len(want) {
		t.Fatalf("got\n%s", b.String())
	}
	for i := range want {
		if strings.TrimSpace(got[i]) != want[i] {
			t.Errorf("line %d: %q, want %q", i, strings.TrimSpace(got[i]), want[i])
		}
	}
}

// TestFitScoreCurrent: --model current fits nothing and prints, per file,
// the AUC of the detector's own forest for --target on the rows: the AUC
// that forest's Logit gives them; it takes no --go nor --note, and an
// unknown --target is refused.
func TestFitScoreCurrent(t *testing.T) {
	f := synthFeatures(t, 60, 300)
	fs, err := readFeatureFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		target string
		iv     int
	}{{"ScoreW", 60}, {"ScoreWLong", 300}, {"ScoreDropW", 60}, {"ScoreDropWLong", 300}, {"ScoreWEarly", 60}, {"ScoreWYoungLong", 300}} {
		forest, ok := detect.ScoreForestOf(c.target)
		if !ok || forest.Trees() == 0 {
			t.Fatalf("ScoreForestOf(%s): %d trees, %v", c.target, forest.Trees(), ok)
		}
		var s []float64
		var l []bool
		for r := range fs.X {
			if fs.IntervalS[r] == c.iv {
				s, l = append(s, forest.Logit(&fs.X[r])), append(l, fs.Label[r])
			}
		}
		code, out, errs := cli(t, "fit-score", "--model", "current", "--target", c.target, "--in", f, "--test", f, "--interval", strconv.Itoa(c.iv))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.target, code, errs)
		}
		want := fmt.Sprintf("interval %ds: %d rows, AUC %.4f", c.iv, len(s), eval.AUC(s, l))
		if strings.Count(out, want) != 2 || !strings.Contains(out, "the detector's forest for "+c.target+": ") {
			t.Errorf("%s: want %q for --in and --test in:\n%s", c.target, want, out)
		}
	}
	if _, ok := detect.ScoreForestOf("ScoreX"); ok {
		t.Error("ScoreForestOf(ScoreX) found a forest")
	}
	for _, bad := range [][]string{{"--target", "ScoreX"}, {"--go", filepath.Join(t.TempDir(), "f.go")}, {"--note", "x"}} {
		if code, _, _ := cli(t, append([]string{"fit-score", "--model", "current", "--in", f, "--interval", "60"}, bad...)...); code != 2 {
			t.Errorf("--model current %q: exit %d, want 2", bad, code)
		}
	}
}

// TestFitScoreYoungTargets: --target ScoreWEarly writes the young steps'
// forest (scoreTreesWEarly, PhysicsParams.ScoreEarlyModel's) at 1-min
// readings, and ScoreWYoungLong the young steps' 5-min forest
// (scoreTreesWYoungLong, PhysicsParams.ScoreYoungMinLong's) at 5-min
// readings; each file names what it is for.
func TestFitScoreYoungTargets(t *testing.T) {
	for _, c := range []struct {
		target, iv, name, what string
	}{
		{"ScoreWEarly", "60", "scoreTreesWEarly", "the young steps' forest of PhysicsParams.ScoreEarlyModel"},
		{"ScoreWYoungLong", "300", "scoreTreesWYoungLong", "the young steps' 5-min forest of PhysicsParams.ScoreYoungMinLong"},
	} {
		iv, _ := strconv.Atoi(c.iv)
		f := synthFeatures(t, iv)
		goFile := filepath.Join(t.TempDir(), "trees.go")
		code, out, errs := cli(t, "fit-score", "--model", "gbdt", "--in", f, "--interval", c.iv, "--trees", "2", "--depth", "1",
			"--min-leaf", "5", "--target", c.target, "--go", goFile)
		if code != 0 {
			t.Fatalf("%s: fit-score exit %d: %s", c.target, code, errs)
		}
		if !strings.Contains(out, "wrote "+goFile+" ("+c.name+")") {
			t.Errorf("%s: no wrote line in:\n%s", c.target, out)
		}
		b, err := os.ReadFile(goFile)
		if err != nil || !strings.Contains(string(b), "var "+c.name+" = ScoreForest{") ||
			!strings.Contains(string(b), c.name+" is "+c.what+": fitted by") ||
			!strings.Contains(string(b), "--target "+c.target) {
			t.Errorf("%s: the Go file: %v\n%s", c.target, err, b)
		}
	}
}

// TestFitScoreMaxHeld: --max-held keeps the rows of candidates held under
// it (--min-held those held at least it: the rows from one to under the
// other), in the training rows, the tables of every file and the test
// AUC as trees are added; --go's file names it only when it is given; it
// is refused negative, not a number, or not over --min-held, and when no
// row is left the error says both bounds and the file's ages.
func TestFitScoreMaxHeld(t *testing.T) {
	f := synthFeatures(t, 60) // rows held 5.0, 11.0, 17.1, 23.1, ... 240 min; every third a charge's, from the first
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-held", "11", "--max-held", "65.3"}, "training rows 9 (3 of charges)"},  // 11.0 to 59.2
		{[]string{"--min-held", "11", "--max-held", "65.4"}, "training rows 10 (3 of charges)"}, // and 65.3
		{[]string{"--max-held", "23.1"}, "training rows 3 (1 of charges)"},                      // 5.0 to 17.1
		{[]string{"--max-held", "0"}, "training rows 40 (14 of charges)"},                       // no bound
	} {
		code, out, errs := cli(t, append([]string{"fit-score", "--in", f, "--interval", "60"}, c.args...)...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d, want %q in:\n%s%s", c.args, code, c.want, out, errs)
		}
	}
	goFile := filepath.Join(t.TempDir(), "trees.go")
	code, out, errs := cli(t, "fit-score", "--model", "gbdt", "--in", f, "--test", f, "--interval", "60", "--min-held", "11", "--max-held", "65.3",
		"--trees", "2", "--depth", "1", "--min-leaf", "2", "--l2", "0", "--min-hess", "0", "--target", "ScoreWEarly", "--go", goFile)
	if code != 0 {
		t.Fatalf("fit-score exit %d: %s", code, errs)
	}
	// the test file is the training file: the same rows, the same AUC
	// (0.9167 on the 9 rows, 0.5632 on all 40)
	if i := strings.Index(out, "2 trees: AUC training "); i < 0 {
		t.Errorf("no AUC line in:\n%s", out)
	} else if v := strings.Fields(out[i:]); len(v) < 7 || v[4] == "0.5000," || strings.TrimSuffix(v[4], ",") != v[6] {
		t.Errorf("the test rows are not the training rows: %q", v[:min(len(v), 7)])
	}
	if n := strings.Count(out, "interval 60s: 9 rows"); n != 2 {
		t.Errorf("%d tables of 9 rows, want 2 (training and test):\n%s", n, out)
	}
	if b, err := os.ReadFile(goFile); err != nil || !strings.Contains(string(b), "--interval 60 --min-held 11 --max-held 65.3 --trees 2") {
		t.Errorf("the Go file: %v\n%s", err, b)
	}
	for _, c := range []struct {
		args    []string
		code    int
		wantErr []string
	}{
		{[]string{"--max-held", "-1"}, 2, []string{"--max-held -1: must be 0 (no bound) or more"}},
		{[]string{"--max-held", "NaN"}, 2, []string{"--max-held NaN: must be 0 (no bound) or more"}},
		{[]string{"--max-held", "+Inf"}, 2, []string{"--max-held +Inf: must be 0 (no bound) or more"}},
		{[]string{"--min-held", "10", "--max-held", "10"}, 2, []string{"--max-held 10: must be over --min-held 10"}},
		{[]string{"--min-held", "12", "--max-held", "13"}, 1, []string{"no training rows in " + f, "--min-held 12 min and --max-held 13 min", "ages from 5 up to 240 min"}},
	} {
		code, _, errs := cli(t, append([]string{"fit-score", "--in", f, "--interval", "60"}, c.args...)...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d: %s", c.args, code, c.code, errs)
			continue
		}
		for _, w := range c.wantErr {
			if !strings.Contains(errs, w) {
				t.Errorf("%q: stderr %q does not say %q", c.args, errs, w)
			}
		}
	}
}
