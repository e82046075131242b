package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/eval"
)

const fitScoreHelp = `
cw-sim fit-score fits the detector's learned confirmation score (detect.PhysicsParams.ScoreW): a
logistic regression of "the candidate step is a true charge's plug-in" on the features that
cw-sim eval --features wrote, with an L2 penalty, by Newton's method. It prints the coefficients
(and the --set line that evaluates them), the AUC of the rows, and what each threshold would fire:
candidates whose first row at or over it is a charge's, or not (on charger-free unit-days: false
alarms, unless another path fired first), on the training file and on --test.

  cw-sim eval --seeds tuning --days 10 --intervals 1m,5m --realdata none --no-plots --workers 2 --quiet \
    --set ScoreMin=0 --set ScoreVetoMin=0 --features /tmp/f1.csv
  cw-sim fit-score --in /tmp/f1.csv --test /tmp/f2.csv --interval 60

(--interval 300 for ScoreWLong; /tmp/f2.csv is the same eval on other seeds. ScoreMin=0 and
ScoreVetoMin=0 let every candidate through, so the rows are not only those the current score
passes.)

The drop-time coefficients (ScoreDropW, ScoreDropWLong) are fitted the same way on the rows that
eval writes with --set ScoreTrace=2 (a step's features at the reading it would be dropped as
fallen or not persistent), with --min-held 60; fit-score prints them as ScoreW: pass them as
--set ScoreDropW=... (or ScoreDropWLong for --interval 300).

--model gbdt fits gradient-boosted decision trees instead (the logistic loss; --trees, --depth,
--rate, --l2 on the leaves, --min-leaf, --min-hess, --bins), prints the AUC as trees are added, and
with --go FILE writes the forest as Go source for alerting/detect (--target names which of the
detector's five forests it is: ScoreW, ScoreWLong, ScoreDropW, ScoreDropWLong, or ScoreWEarly, the
young steps' forest of PhysicsParams.ScoreEarlyModel at readings up to 90 s, fitted on the rows of
steps held 10 to under 20 minutes, the early window's looks at 10 and 15, with --min-held 10
--max-held 20; or ScoreWYoungLong, the young steps' forest of PhysicsParams.ScoreYoungMinLong at
readings over 90 s, fitted on the rows of steps held 20 to under 65 minutes, with --min-held 20
--max-held 65; from --interval by default). Which score uses the forests is
PhysicsParams.ScoreModel, a sum of 1 (the confirmation score at readings up to 90 s), 2 (over 90
s), 4 (the drop-time score up to 90 s), 8 (over 90 s); the default is 11 since round 11, and --set
ScoreModel=0 is the logistic regression. Each forest's file names the command that made it, for
example:

  cw-sim fit-score --model gbdt --in /tmp/f1.csv --test /tmp/f2.csv --interval 60 \
    --trees 150 --depth 4 --go alerting/detect/charging_score_trees_w.go

--model current fits nothing: it judges the detector's own forest for --target (the same
tables: AUC and fires per threshold) on the rows of --in and --test, to compare with a refit on
rows of a changed detector or simulator.

See docs/detection-history.md (Tuning).
`

// readFeatureFile reads the rows cw-sim eval --features wrote.
func readFeatureFile(path string) (*eval.FeatureSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs, err := eval.ReadFeatures(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fs, nil
}

// readFeatureFiles reads the comma-separated feature files in paths as one
// set; a candidate's key is prefixed with its file's position from the
// second file on (two looks' seeds may share keys).
func readFeatureFiles(paths string) (*eval.FeatureSet, error) {
	var all *eval.FeatureSet
	for i, path := range strings.Split(paths, ",") {
		fs, err := readFeatureFile(path)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			all = fs
			continue
		}
		for _, k := range fs.Key {
			all.Key = append(all.Key, strconv.Itoa(i)+":"+k)
		}
		all.IntervalS = append(all.IntervalS, fs.IntervalS...)
		all.Held = append(all.Held, fs.Held...)
		all.Label = append(all.Label, fs.Label...)
		all.ChargingDay = append(all.ChargingDay, fs.ChargingDay...)
		all.InSpan = append(all.InSpan, fs.InSpan...)
		all.InSession = append(all.InSession, fs.InSession...)
		all.X = append(all.X, fs.X...)
	}
	return all, nil
}

// baseNames returns the base names of the comma-separated paths, joined
// by " + ".
func baseNames(paths string) string {
	var names []string
	for _, p := range strings.Split(paths, ",") {
		names = append(names, filepath.Base(p))
	}
	return strings.Join(names, " + ")
}

func cmdFitScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("fit-score", stderr, fitScoreHelp)
	in := fl.String("in", "", "training features (cw-sim eval --features; comma-separated files for several looks)")
	test := fl.String("test", "", "features to check the fit on (another look; comma-separated files for several)")
	l2 := fl.Float64("l2", 1, "L2 penalty on the coefficients")
	drop := fl.String("drop", "", "comma-separated features to leave out")
	minHeld := fl.Float64("min-held", 0, "rows of candidates held at least this many minutes")
	maxHeld := fl.Float64("max-held", 0, "rows of candidates held under this many minutes (0: no bound)")
	only := fl.Int("interval", 0, "rows of this reading interval (s) only (0: all)")
	ths := fl.String("thresholds", "0.5,0.7,0.8,0.9,0.95,0.97,0.98,0.99,0.995", "probabilities to count fires at")
	model := fl.String("model", "logistic", "logistic, gbdt (gradient-boosted trees) or current (no fit: the detector's forest for --target, judged on the rows)")
	gb := eval.DefaultGBDT()
	fl.IntVar(&gb.Trees, "trees", gb.Trees, "gbdt: number of trees")
	fl.IntVar(&gb.Depth, "depth", gb.Depth, "gbdt: depth of each tree (1-8)")
	fl.Float64Var(&gb.Rate, "rate", gb.Rate, "gbdt: shrinkage of each tree")
	fl.IntVar(&gb.MinLeaf, "min-leaf", gb.MinLeaf, "gbdt: fewest training rows in a leaf")
	fl.Float64Var(&gb.MinHess, "min-hess", gb.MinHess, "gbdt: least sum of p(1-p) in a leaf")
	fl.IntVar(&gb.Bins, "bins", gb.Bins, "gbdt: quantiles of each feature to take thresholds among (2-256)")
	goOut := fl.String("go", "", "gbdt: write the forest as Go source of package detect to this file")
	calib := fl.Bool("calibration", false, "print a reliability table per file: the rows' mean probability and the share of them that are charges, in bins of probability")
	note := fl.String("note", "", "gbdt: a line for the header of --go's file (how the rows were dumped)")
	target := fl.String("target", "", "gbdt, current: the detector's forest it is (or, with current, to judge): ScoreW, ScoreWLong, ScoreDropW, ScoreDropWLong, ScoreWEarly or ScoreWYoungLong (default from --interval)")
	if err := parse(fl, args); err != nil {
		return err
	}
	l2Set := false
	fl.Visit(func(f *flag.Flag) { l2Set = l2Set || f.Name == "l2" })
	if *model != "logistic" && *model != "gbdt" && *model != "current" {
		return usageErr("--model %q: logistic, gbdt or current", *model)
	}
	if *model != "gbdt" && (*goOut != "" || *note != "") {
		return usageErr("--go and --note are for --model gbdt")
	}
	if *model == "logistic" && *target != "" {
		return usageErr("--target is for --model gbdt or current")
	}
	if strings.ContainsAny(*note, "\r\n") {
		return usageErr("--note: one line (it becomes a comment line of --go's file)")
	}
	for _, list := range []struct{ flag, paths string }{{"--in", *in}, {"--test", *test}} {
		if list.paths != "" && slices.Contains(strings.Split(list.paths, ","), "") {
			return usageErr("%s %q: an empty file name; give comma-separated files without empty entries", list.flag, list.paths)
		}
	}
	if *target == "" {
		*target = "ScoreW"
		if *only > 90 {
			*target = "ScoreWLong"
		}
	}
	treeVars := map[string]string{"ScoreW": "scoreTreesW", "ScoreWLong": "scoreTreesWLong", "ScoreDropW": "scoreDropTreesW", "ScoreDropWLong": "scoreDropTreesWLong", "ScoreWEarly": "scoreTreesWEarly", "ScoreWYoungLong": "scoreTreesWYoungLong"}
	if treeVars[*target] == "" {
		return usageErr("--target %q: ScoreW, ScoreWLong, ScoreDropW, ScoreDropWLong, ScoreWEarly or ScoreWYoungLong", *target)
	}
	if *goOut != "" {
		// a forest the detector uses is for one class of reading
		// interval: the one its name says
		long := strings.HasSuffix(*target, "Long")
		switch {
		case *only == 0:
			return usageErr("--go needs --interval: each of the detector's forests is for readings up to 90 s (ScoreW, ScoreDropW, ScoreWEarly) or over (ScoreWLong, ScoreDropWLong, ScoreWYoungLong)")
		case *target == "ScoreWEarly" && *only > 90:
			return usageErr("--target ScoreWEarly is for readings up to 90 s, and --interval %d is not: the young steps' forest has no longer intervals' one", *only)
		case *target == "ScoreWYoungLong" && *only <= 90:
			return usageErr("--target ScoreWYoungLong is for readings over 90 s, and --interval %d is not: the young steps' 5-min forest has no shorter intervals' one (ScoreWEarly is the 1-min readings' young forest)", *only)
		case long != (*only > 90):
			return usageErr("--target %s is for readings %s 90 s, and --interval %d is not: use --target %s", *target, map[bool]string{true: "over", false: "up to"}[long], *only, map[bool]string{true: strings.TrimSuffix(*target, "Long"), false: *target + "Long"}[long])
		}
	}
	if *model == "gbdt" && !l2Set {
		*l2 = gb.L2
	}
	gb.L2 = *l2
	if *in == "" {
		return usageErr("--in is required")
	}
	if !(*l2 >= 0) || math.IsInf(*l2, 0) {
		return usageErr("--l2 %g: must be 0 or more (and finite)", *l2)
	}
	if !(*maxHeld >= 0) || math.IsInf(*maxHeld, 0) {
		return usageErr("--max-held %g: must be 0 (no bound) or more (and finite)", *maxHeld)
	}
	if *maxHeld > 0 && !(*maxHeld > *minHeld) {
		return usageErr("--max-held %g: must be over --min-held %g (rows held from --min-held to under --max-held)", *maxHeld, *minHeld)
	}
	// held reports whether a row of a candidate held h minutes is in
	// --min-held to under --max-held
	held := func(h float64) bool { return h >= *minHeld && (*maxHeld == 0 || h < *maxHeld) }
	var use [detect.ScoreFeatures]bool
	for i := range use {
		use[i] = true
	}
	if *drop != "" {
		for _, n := range strings.Split(*drop, ",") {
			i := slices.Index(detect.ScoreNames[:], strings.TrimSpace(n))
			if i < 0 {
				return usageErr("--drop: no feature %q (they are %s)", n, strings.Join(detect.ScoreNames[:], ", "))
			}
			use[i] = false
		}
	}
	var probs []float64
	for _, s := range strings.Split(*ths, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || p <= 0 || p >= 1 {
			return usageErr("--thresholds: %q is not a probability", s)
		}
		probs = append(probs, p)
	}
	tr, err := readFeatureFiles(*in)
	if err != nil {
		return err
	}
	var x [][detect.ScoreFeatures]float64
	var y []bool
	used := map[int]bool{} // intervals of the training rows
	for r := range tr.X {
		if held(tr.Held[r]) && (*only == 0 || tr.IntervalS[r] == *only) {
			x, y = append(x, tr.X[r]), append(y, tr.Label[r])
			used[tr.IntervalS[r]] = true
		}
	}
	if len(x) == 0 {
		if len(tr.X) == 0 {
			return fmt.Errorf("no rows in %s: re-dump them with cw-sim eval --features", *in)
		}
		all := map[int]bool{}
		oldest, youngest := math.Inf(-1), math.Inf(1)
		for r := range tr.X {
			all[tr.IntervalS[r]] = true
			oldest, youngest = max(oldest, tr.Held[r]), min(youngest, tr.Held[r])
		}
		if *maxHeld > 0 {
			return fmt.Errorf("no training rows in %s with --interval %d, --min-held %g min and --max-held %g min: the file has intervals %s s and ages from %g up to %g min",
				*in, *only, *minHeld, *maxHeld, joinInts(all), youngest, oldest)
		}
		return fmt.Errorf("no training rows in %s with --interval %d and --min-held %g min: the file has intervals %s s and ages up to %g min",
			*in, *only, *minHeld, joinInts(all), oldest)
	}
	if *only == 0 && len(used) > 1 {
		fmt.Fprintf(stderr, "cw-sim fit-score: warning: the training rows mix intervals %s s and --interval is 0: fitting one model across them (pass --interval 60 for ScoreW, --interval 300 for ScoreWLong)\n", joinInts(used))
	}
	for i := range use {
		if !use[i] {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for r := range x {
			lo, hi = min(lo, x[r][i]), max(hi, x[r][i])
		}
		if lo == hi {
			fmt.Fprintf(stdout, "feature %s is constant (%g) in the training rows: left out\n", detect.ScoreNames[i], lo)
			use[i] = false
		}
	}
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	var tes []*eval.FeatureSet // --test, one per file
	var testNames []string
	if *test != "" {
		testNames = strings.Split(*test, ",")
		for _, name := range testNames {
			te, err := readFeatureFile(name)
			if err != nil {
				return err
			}
			tes = append(tes, te)
		}
	}
	var score func(*[detect.ScoreFeatures]float64) float64
	if *model == "current" {
		forest, _ := detect.ScoreForestOf(*target)
		fmt.Fprintf(stdout, "rows %d (%d of charges); the detector's forest for %s: %s\n", len(y), pos, *target, eval.ForestSummary(&forest))
		score = forest.Logit
	} else if *model == "gbdt" {
		gb.Use = use
		fmt.Fprintf(stdout, "training rows %d (%d of charges); gradient-boosted trees: %d of depth %d, rate %g, L2 %g on the leaves, min leaf %d rows, min hessian %g, %d bins\n\n",
			len(y), pos, gb.Trees, gb.Depth, gb.Rate, gb.L2, gb.MinLeaf, gb.MinHess, gb.Bins)
		gb.Progress = treeProgress(ctx, stdout, x, y, tes, *only, held, gb.Trees)
		forest, err := eval.FitGBDT(x, y, gb)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s\n", eval.ForestSummary(forest))
		score = forest.Logit
		if *goOut != "" {
			bounds := fmt.Sprintf("--min-held %g", *minHeld)
			if *maxHeld > 0 {
				bounds += fmt.Sprintf(" --max-held %g", *maxHeld)
			}
			cmd := fmt.Sprintf("cw-sim fit-score --model gbdt --in %s --interval %d %s --trees %d --depth %d --rate %g --l2 %g --min-leaf %d --min-hess %g --bins %d",
				strings.ReplaceAll(baseNames(*in), " + ", ","), *only, bounds, gb.Trees, gb.Depth, gb.Rate, gb.L2, gb.MinLeaf, gb.MinHess, gb.Bins)
			if *drop != "" {
				cmd += " --drop " + *drop
			}
			what := fmt.Sprintf("%s is the forest of PhysicsParams.ScoreModel in place of %s: fitted by", treeVars[*target], *target)
			if *target == "ScoreWEarly" {
				what = fmt.Sprintf("%s is the young steps' forest of PhysicsParams.ScoreEarlyModel: fitted by", treeVars[*target])
			}
			if *target == "ScoreWYoungLong" {
				what = fmt.Sprintf("%s is the young steps' 5-min forest of PhysicsParams.ScoreYoungMinLong: fitted by", treeVars[*target])
			}
			comment := []string{
				what,
				fmt.Sprintf("%s --target %s", cmd, *target),
				fmt.Sprintf("on %d rows (%d of charges) of %s (docs/detection-history.md, Tuning).", len(y), pos, baseNames(*in)),
			}
			if *note != "" {
				comment = append(comment, *note)
			}
			// the source is made whole before the file is touched: a
			// failure leaves the forest the detector builds with
			var src bytes.Buffer
			if err := eval.WriteForestGo(&src, treeVars[*target], comment, forest); err != nil {
				return err
			}
			if err := os.WriteFile(*goOut, src.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s (%s)\n", *goOut, treeVars[*target])
		}
	} else {
		w, err := eval.FitLogistic(x, y, use, *l2)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "training rows %d (%d of charges), L2 %g\n\ncoefficients:\n  %-18s %+8.3f\n", len(y), pos, *l2, "intercept", w[0])
		for i, n := range detect.ScoreNames {
			fmt.Fprintf(stdout, "  %-18s %+8.3f\n", n, w[i+1])
		}
		var parts []string
		for _, v := range w {
			parts = append(parts, strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64))
		}
		name := "ScoreW"
		if *only > 90 {
			name = "ScoreWLong"
		}
		fmt.Fprintf(stdout, "\n--set %s=%s\n", name, strings.Join(parts, ","))
		score = func(x *[detect.ScoreFeatures]float64) float64 { return eval.Logit(&w, x) }
	}
	report := func(name string, fs *eval.FeatureSet) {
		ivs := map[int]bool{}
		for _, iv := range fs.IntervalS {
			ivs[iv] = true
		}
		fmt.Fprintf(stdout, "\n%s:\n", name)
		for _, iv := range slices.Sorted(func(yield func(int) bool) {
			for k := range ivs {
				if !yield(k) {
					return
				}
			}
		}) {
			var s []float64
			var l []bool
			sub := &eval.FeatureSet{}
			for r := range fs.X {
				if fs.IntervalS[r] != iv || !held(fs.Held[r]) || *only != 0 && iv != *only {
					continue
				}
				s = append(s, score(&fs.X[r]))
				l = append(l, fs.Label[r])
				sub.Key = append(sub.Key, fs.Key[r])
				sub.IntervalS = append(sub.IntervalS, iv)
				sub.Held = append(sub.Held, fs.Held[r])
				sub.Label = append(sub.Label, fs.Label[r])
				sub.ChargingDay = append(sub.ChargingDay, fs.ChargingDay[r])
				sub.InSpan = append(sub.InSpan, fs.InSpan[r])
				sub.InSession = append(sub.InSession, fs.InSession[r])
				sub.X = append(sub.X, fs.X[r])
			}
			if len(s) == 0 {
				continue
			}
			fmt.Fprintf(stdout, "  interval %ds: %d rows, AUC %.4f\n", iv, len(s), eval.AUC(s, l))
			if *calib {
				writeReliability(stdout, s, l)
			}
			fmt.Fprintf(stdout, "    %-8s %8s %8s %11s %12s %10s\n", "p >=", "charges", "others", "in session", "others free", "median age")
			for _, p := range probs {
				cf := sub.FiresBy(score, math.Log(p/(1-p)), *minHeld)
				med := math.NaN()
				if len(cf.HeldTrue) > 0 {
					slices.Sort(cf.HeldTrue)
					med = cf.HeldTrue[len(cf.HeldTrue)/2]
				}
				fmt.Fprintf(stdout, "    %-8g %8d %8d %11d %12d %10.0f\n", p, cf.True, cf.False, cf.InSession, cf.FalseFree, med)
			}
		}
	}
	report("training ("+*in+")", tr)
	for i, te := range tes {
		report("test ("+testNames[i]+")", te)
	}
	return nil
}

// treeProgress returns a FitGBDT progress callback that prints the AUC of
// the training rows and of the test rows (of interval only, when not 0,
// of an age in held's range: --min-held, --max-held) every 25 trees and at
// the last one, and stops the fit when ctx is cancelled (an interrupt).
func treeProgress(ctx context.Context, w io.Writer, x [][detect.ScoreFeatures]float64, y []bool, tes []*eval.FeatureSet, only int, held func(float64) bool, trees int) func(int, *detect.ScoreForest) error {
	var tx [][detect.ScoreFeatures]float64
	var ty []bool
	if len(tes) > 0 { // the first test file
		te := tes[0]
		for r := range te.X {
			if held(te.Held[r]) && (only == 0 || te.IntervalS[r] == only) {
				tx, ty = append(tx, te.X[r]), append(ty, te.Label[r])
			}
		}
	}
	zx, zt := make([]float64, len(x)), make([]float64, len(tx))
	return func(k int, f *detect.ScoreForest) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 1<<f.Depth - 1
		one := detect.ScoreForest{Depth: f.Depth, Feat: f.Feat[k*n:], Thr: f.Thr[k*n:], Leaf: f.Leaf[k*(n+1):]}
		for r := range x {
			if k == 0 {
				zx[r] = f.Base
			}
			zx[r] += one.Logit(&x[r])
		}
		for r := range tx {
			if k == 0 {
				zt[r] = f.Base
			}
			zt[r] += one.Logit(&tx[r])
		}
		if (k+1)%25 != 0 && k+1 != trees {
			return nil
		}
		fmt.Fprintf(w, "  %4d trees: AUC training %.4f", k+1, eval.AUC(zx, y))
		if len(tx) > 0 {
			fmt.Fprintf(w, ", test %.4f", eval.AUC(zt, ty))
		}
		fmt.Fprintln(w)
		return nil
	}
}

// joinInts lists the keys of m in order, comma-separated.
func joinInts(m map[int]bool) string {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, strconv.Itoa(k))
	}
	return strings.Join(parts, ", ")
}

// reliabilityEdges are the upper edges of writeReliability's bins of
// probability, finer where the score confirms (0.9 and over).
var reliabilityEdges = []float64{0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 1}

// writeReliability writes a reliability table of log-odds z against
// labels l: per bin of probability, the rows, their mean probability and
// the share of them labelled 1 (calibrated: the two agree).
func writeReliability(w io.Writer, z []float64, l []bool) {
	n := make([]int, len(reliabilityEdges))
	pos := make([]int, len(reliabilityEdges))
	sum := make([]float64, len(reliabilityEdges))
	for r, v := range z {
		if math.IsNaN(v) {
			continue
		}
		p := 1 / (1 + math.Exp(-v))
		b, _ := slices.BinarySearch(reliabilityEdges, p) // p ≤ edge b
		b = min(b, len(reliabilityEdges)-1)
		n[b]++
		sum[b] += p
		if l[r] {
			pos[b]++
		}
	}
	fmt.Fprintf(w, "    %-11s %8s %10s %10s\n", "p in", "rows", "mean p", "charges")
	lo := 0.0
	for b, hi := range reliabilityEdges {
		if n[b] > 0 {
			fmt.Fprintf(w, "    %-11s %8d %10.4f %10.4f\n", fmt.Sprintf("%g-%g", lo, hi), n[b], sum[b]/float64(n[b]), float64(pos[b])/float64(n[b]))
		}
		lo = hi
	}
}
