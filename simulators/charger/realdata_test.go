package charger

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// realData finds ../shared/realdata next to the repository root.
func realData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "realdata")
			if _, err := os.Stat(p); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("real traces not found at %s: %v (CI has a copy of shared/ beside the clone)", p, err)
				}
				t.Skipf("real traces not found at %s: %v", p, err)
			}
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatal("repository root not found")
		}
	}
}

// readTraces parses a hilo *.power.csv (timestamp_local,plug,power_w) into
// one trace per plug, in plug order.
func readTraces(t testing.TB, path string) (plugs []string, traces map[string][]Sample) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	traces = map[string][]Sample{}
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		rec := strings.Split(sc.Text(), ",")
		if len(rec) != 3 {
			t.Fatalf("%s:%d: %d fields", path, line+1, len(rec))
		}
		ts, err := time.ParseInLocation("2006-01-02 15:04:05", rec[0], time.UTC)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line+1, err)
		}
		w, err := strconv.ParseFloat(rec[2], 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line+1, err)
		}
		if _, ok := traces[rec[1]]; !ok {
			plugs = append(plugs, rec[1])
		}
		traces[rec[1]] = append(traces[rec[1]], Sample{ts.UnixMilli(), w})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(plugs)
	return plugs, traces
}

// realFits fits the full-charge traces of the hilo data set: every plug
// that charged, except the ones with too little taper to fit.
func realFits(t testing.TB) (map[string]Fit, map[string][]Sample) {
	dir := filepath.Join(realData(t), "ebike-hilo")
	plugs, traces := readTraces(t, filepath.Join(dir, "sample_full_charge_ebike_battery_manager.power.csv"))
	fits := map[string]Fit{}
	for _, p := range plugs {
		f, err := FitSession(traces[p])
		if err != nil {
			continue // spare plug (0 W) and the 15.5 W maintenance charger
		}
		fits[p] = f
	}
	return fits, traces
}

// TestRealTraceFits pins what the real traces give, which the model's
// ranges and docs/simulators.md quote.
func TestRealTraceFits(t *testing.T) {
	fits, _ := realFits(t)
	for _, p := range []string{"lectric_battery_1", "lectric_battery_2", "rad_battery_1", "rad_battery_2"} {
		f, ok := fits[p]
		if !ok {
			t.Fatalf("no fit for %s", p)
		}
		t.Logf("%-18s plateau %6.1f W slope %5.2f W/h (%.1f h)  taper from %6.1f W  tau %4.1f min knee %.2f floor %4.1f W rmse %.2f W  exp tau %5.1f min rmse %.2f  cutoff %5.1f W float %5.2f W",
			p, f.PlateauW, f.SlopeWPerH, f.PlateauH, f.TaperW, f.TauMin, f.Knee, f.FloorW, f.RMSE, f.TauExpMin, f.RMSEExp, f.CutoffW, f.FloatW)
		if f.RMSE > 2 {
			t.Errorf("%s: logistic taper fit RMSE %.2f W, want <= 2 W", p, f.RMSE)
		}
		if f.TauMin < 20 || f.TauMin > 50 {
			t.Errorf("%s: tau %.1f min outside the documented 21-46 min", p, f.TauMin)
		}
	}
}
