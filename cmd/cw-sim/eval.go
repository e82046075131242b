package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/eval"
)

const evalHelp = `
cw-sim eval measures the indoor-charging detector: it simulates cities of households (with
look-alike appliances) and e-bike chargers, feeds every meter and plug reading to the detector
as the alerting engine does, matches alerts to the ground truth, and prints precision, recall,
F1, false alarms per 1,000 unit-days and time to detect, per reading interval and hard case,
with confidence intervals. A semi-synthetic set (real charges laid onto real household and
appliance traces from ../shared/realdata) is reported separately. Pictures of each hard case
go to --out.

  cw-sim eval                                  # the held-out seeds: the reported figures
  cw-sim eval --seeds tuning --set FastNoise=0.006
  cw-sim eval --seeds 7,8 --intervals 1m --units 50 --days 3 --no-plots

See docs/detection.md.
`

type evalFlags struct {
	seeds, intervals, out, realdata string
	units, days, workers            int
	sets                            multiFlag
	baseline, noPlots, quiet        bool
	explain, explainFalse           bool
	features                        string
	feedback                        time.Duration
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr, evalHelp)
	var f evalFlags
	fs.StringVar(&f.seeds, "seeds", "heldout", "heldout (the reported figures), tuning, regression, or comma-separated seeds")
	fs.StringVar(&f.intervals, "intervals", "10s,1m,5m", "reading intervals of meters and plugs")
	fs.IntVar(&f.units, "units", 0, "units per city (default: the set's)")
	fs.IntVar(&f.days, "days", 0, "scored days per city (default: the set's)")
	fs.IntVar(&f.workers, "workers", 0, "cities simulated at once (default: GOMAXPROCS)")
	fs.StringVar(&f.out, "out", "", "folder for the pictures (default: a new temporary folder)")
	fs.StringVar(&f.realdata, "realdata", "", `real traces for the semi-synthetic set (default: ../shared/realdata beside the repository; "none" to skip)`)
	fs.Var(&f.sets, "set", "detector parameter NAME=VALUE (detect.PhysicsParams), repeatable")
	fs.BoolVar(&f.baseline, "baseline", false, "evaluate the first-version detector (detect.StepModel) instead")
	fs.BoolVar(&f.noPlots, "no-plots", false, "draw no pictures")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	fs.BoolVar(&f.explain, "explain-misses", false, "say why each missed session was missed and which path fired each alert (slower)")
	fs.BoolVar(&f.explainFalse, "explain-false", false, "list each false alarm with the appliances the simulator ran at its start, and count them by cause and path; then the same for the alerts overlapping no session on days with charging, each after an unplug or unrelated")
	fs.StringVar(&f.features, "features", "", "write every candidate step's labelled score features to this CSV file (cw-sim fit-score)")
	fs.DurationVar(&f.feedback, "feedback", 0, "simulate the grid workers' verdicts: visit each alert this long after it fired (e.g. 12h) and close one that overlaps no charging as a false alarm, which the detector learns from; 0: the detector alone")
	if err := parse(fs, args); err != nil {
		return err
	}
	set, err := eval.ParseSet(f.seeds)
	if err != nil {
		return usageError{err}
	}
	if f.units > 0 {
		set.Units = f.units
	}
	if f.days > 0 {
		set.Days = f.days
	}
	var ivs []time.Duration
	for _, s := range strings.Split(f.intervals, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < time.Second {
			return usageErr("--intervals: %q is not a duration such as 10s, 1m or 5m", s)
		}
		ivs = append(ivs, d)
	}
	params := detect.DefaultPhysicsParams()
	for _, kv := range f.sets {
		if err := setParam(&params, kv); err != nil {
			return usageErr("--set %s: %v", kv, err)
		}
	}
	if f.features != "" && params.ScoreTrace == 0 {
		params.ScoreTrace = 1 // --set ScoreTrace=2: the drop-time rows
	}
	model := eval.Physics(params)
	if f.baseline {
		if len(f.sets) > 0 {
			return usageErr("--set applies to the physics detector, not to --baseline")
		}
		model = eval.Fixed(detect.StepModel)
	}
	realdata := f.realdata
	switch realdata {
	case "none":
		realdata = ""
	case "":
		realdata = findRealData()
		if realdata == "" {
			fmt.Fprintln(stderr, "cw-sim eval: ../shared/realdata not found beside the repository: no semi-synthetic set (give --realdata DIR)")
		}
	}
	if f.feedback < 0 {
		return usageErr("--feedback %s: give a delay of 0 (no verdicts) or more, such as 12h", f.feedback)
	}
	if f.baseline && f.feedback > 0 {
		return usageErr("--feedback applies to the physics detector, not to --baseline")
	}
	if f.baseline && f.features != "" {
		return usageErr("--features applies to the physics detector, not to --baseline")
	}
	var explain *detect.PhysicsParams
	if f.explain {
		if f.baseline {
			return usageErr("--explain-misses applies to the physics detector, not to --baseline")
		}
		explain = &params
	}
	// the rows' file is created before the run, so that a path that
	// cannot be written fails in a second, not after the evaluation
	var featOut *os.File
	if f.features != "" {
		var err error
		if featOut, err = os.Create(f.features); err != nil {
			return fmt.Errorf("--features: %w (give a file in a folder that exists and can be written)", err)
		}
		defer featOut.Close() // closed below; this is for the early returns
	}
	pr := newProgress(stderr, f.quiet)
	res, err := eval.Evaluate(ctx, eval.Options{
		Set: set, Intervals: ivs, Model: model, Workers: f.workers, RealData: realdata, Explain: explain, Features: f.features != "", Feedback: f.feedback,
		Progress: func(line string) { pr.print(true, "%s", line) },
	})
	if err != nil {
		return err
	}
	if f.baseline {
		fmt.Fprintln(stdout, "DETECTOR: the first-version StepModel (baseline)")
	} else if len(f.sets) > 0 {
		fmt.Fprintf(stdout, "DETECTOR: PhysicsModel with %s\n", strings.Join(f.sets, ", "))
	}
	eval.WriteReport(stdout, res)
	if f.explain {
		eval.WriteExplanation(stdout, res)
	}
	if f.explainFalse {
		eval.WriteFalseAlarms(stdout, res)
	}
	if featOut != nil {
		if err := eval.WriteFeatures(featOut, res); err != nil {
			return fmt.Errorf("--features %s: %w", f.features, err)
		}
		if err := featOut.Close(); err != nil {
			return fmt.Errorf("--features %s: %w", f.features, err)
		}
	}
	if f.noPlots {
		return nil
	}
	dir := f.out
	if dir == "" {
		if dir, err = eval.TempPlotDir(); err != nil {
			return err
		}
	}
	var paths []string
	for _, iv := range ivs {
		ps, err := eval.WritePlots(dir, "simulated", res.Runs[iv])
		if err != nil {
			return err
		}
		paths = append(paths, ps...)
		if semi := res.Semi[iv]; semi != nil {
			ps, err := eval.WritePlots(dir, "semi-synthetic", []*eval.Outcome{semi})
			if err != nil {
				return err
			}
			paths = append(paths, ps...)
		}
	}
	fmt.Fprintf(stdout, "\n%d pictures of the hard cases in %s\n", len(paths), dir)
	return nil
}

// setParam sets one field of the detector's parameters by name.
func setParam(p *detect.PhysicsParams, kv string) error {
	name, val, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE")
	}
	v := reflect.ValueOf(p).Elem()
	fv := v.FieldByName(name)
	if sf, ok := v.Type().FieldByName(name); !fv.IsValid() || name == "Trace" || ok && !sf.IsExported() {
		var names []string
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.Name != "Trace" && f.IsExported() {
				names = append(names, f.Name)
			}
		}
		return fmt.Errorf("unknown parameter %q; the parameters are %s", name, strings.Join(names, ", "))
	}
	switch fv.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(val)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
	case float64:
		x, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return err
		}
		fv.SetFloat(x)
	case int:
		x, err := strconv.Atoi(val)
		if err != nil {
			return err
		}
		fv.SetInt(int64(x))
	case [detect.ScoreFeatures + 1]float64:
		// ScoreW: the intercept, then a coefficient per feature, comma-separated
		parts := strings.Split(val, ",")
		if len(parts) != fv.Len() {
			return fmt.Errorf("want %d comma-separated numbers (the intercept, then %s)", fv.Len(), strings.Join(detect.ScoreNames[:], ", "))
		}
		for i, s := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return err
			}
			fv.Index(i).SetFloat(x)
		}
	default:
		return fmt.Errorf("parameter %s cannot be set", name)
	}
	return nil
}

// findRealData looks for ../shared/realdata beside the repository that
// holds the working directory.
func findRealData() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "realdata")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
