package eval

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// TestFitLogistic: on rows drawn from a known logistic model (a
// deterministic generator), the fit recovers its coefficients; an unused
// feature gets 0.
func TestFitLogistic(t *testing.T) {
	var x [][detect.ScoreFeatures]float64
	var y []bool
	state := uint64(1)
	rnd := func() float64 { // xorshift, uniform in [0, 1)
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return float64(state>>11) / (1 << 53)
	}
	for range 20000 {
		var r [detect.ScoreFeatures]float64
		r[0], r[3] = 4*rnd()-2, 4*rnd()-2
		r[5] = 4*rnd() - 2 // not used in the fit
		z := -1 + 2*r[0] - 1.5*r[3]
		x = append(x, r)
		y = append(y, rnd() < 1/(1+math.Exp(-z)))
	}
	var use [detect.ScoreFeatures]bool
	use[0], use[3] = true, true
	w, err := FitLogistic(x, y, use, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]float64{0: -1, 1: 2, 4: -1.5, 6: 0} {
		if math.Abs(w[i]-want) > 0.1 {
			t.Errorf("coefficient %d: %.3f, want %.1f", i, w[i], want)
		}
	}
	if _, err := FitLogistic(nil, nil, use, 1); err == nil {
		t.Error("no rows: no error")
	}
}

func TestAUC(t *testing.T) {
	cases := []struct {
		s    []float64
		y    []bool
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []bool{false, false, true, true}, 1},
		{[]float64{4, 3, 2, 1}, []bool{false, false, true, true}, 0},
		{[]float64{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5},
		{[]float64{1, 2, 3, 4}, []bool{false, true, false, true}, 0.75},
	}
	for _, c := range cases {
		if got := AUC(c.s, c.y); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("AUC(%v, %v) = %v, want %v", c.s, c.y, got, c.want)
		}
	}
	if !math.IsNaN(AUC([]float64{1}, []bool{true})) {
		t.Error("one class: not NaN")
	}
}

// TestFeatureRows: the collector keeps a candidate's first scored
// judgement at or after each age, labels it by the truth, and the CSV
// reads back; Fires counts a threshold's candidates.
func TestFeatureRows(t *testing.T) {
	const min = int64(60000)
	fc := newFeatCollector()
	add := func(t0, held int64, z float64) {
		tr := &detect.ChargingTrace{Event: "score", Start: t0, TS: t0 + held*min, Held: time.Duration(held) * time.Minute, Score: z}
		tr.Feat[0] = float32(z)
		fc.add("u1", "m-u1", tr)
	}
	t0 := int64(1_767_225_600_000) + 10*60*min // 10:00 UTC
	for _, h := range []int64{5, 6, 7, 10, 12, 26} {
		add(t0, h, float64(h))
	}
	add(t0+3*60*min, 5, -1) // another step, three hours later
	fc.add("u1", "m-u1", &detect.ChargingTrace{Event: "judge", Start: t0, Held: 30 * time.Minute})
	o := &Outcome{Interval: time.Minute, From: t0 - 60*min, To: t0 + 24*60*min,
		Episodes: []Episode{{Unit: "u1", Start: t0 - min, End: t0 + 120*min, Starts: []int64{t0 - min}}},
		Units:    []UnitDays{{Unit: "u1"}}}
	rows := fc.label(o)
	var held []float32
	for _, r := range rows {
		held = append(held, r.Held)
	}
	if want := []float32{5, 10, 26, 5}; !slices.Equal(held, want) {
		t.Fatalf("rows at %v min, want %v", held, want)
	}
	if !rows[0].Label || !rows[0].InSession || rows[3].Label || rows[3].InSession {
		t.Errorf("labels %+v", rows)
	}
	o.Features = rows
	res := &Result{Set: Set{Cities: []City{{Seed: 9}}}, Intervals: []time.Duration{time.Minute}, Runs: map[time.Duration][]*Outcome{time.Minute: {o}}}
	var b bytes.Buffer
	if err := WriteFeatures(&b, res); err != nil {
		t.Fatal(err)
	}
	fs, err := ReadFeatures(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.X) != 4 || fs.X[2][0] != 26 || !fs.Label[0] || fs.Label[3] || fs.IntervalS[0] != 60 || fs.Key[0] == fs.Key[3] {
		t.Fatalf("read back %+v", fs)
	}
	var w [detect.ScoreFeatures + 1]float64
	w[1] = 1 // the log-odds is the first feature
	cf := fs.Fires(&w, 8, 0)
	if cf.True != 1 || cf.False != 0 || len(cf.HeldTrue) != 1 || cf.HeldTrue[0] != 10 {
		t.Errorf("fires at 8: %+v", cf)
	}
	if cf := fs.Fires(&w, -2, 0); cf.True != 1 || cf.False != 1 {
		t.Errorf("fires at -2: %+v", cf)
	}
}

// TestFitLogisticErrors: a negative L2, a singular system (naming the
// features) and a fit that blows up are errors that suggest --l2.
func TestFitLogisticErrors(t *testing.T) {
	rows := func(f func(r int, x *[detect.ScoreFeatures]float64) bool) ([][detect.ScoreFeatures]float64, []bool) {
		var x [][detect.ScoreFeatures]float64
		var y []bool
		for r := range 40 {
			var v [detect.ScoreFeatures]float64
			y = append(y, f(r, &v))
			x = append(x, v)
		}
		return x, y
	}
	var use01 [detect.ScoreFeatures]bool
	use01[0], use01[1] = true, true
	n0, n1 := detect.ScoreNames[0], detect.ScoreNames[1]
	cases := []struct {
		name string
		f    func(r int, x *[detect.ScoreFeatures]float64) bool
		l2   float64
		want []string
	}{
		{"negative l2", func(r int, x *[detect.ScoreFeatures]float64) bool {
			x[0], x[1] = float64(r%7), float64(r%5)
			return r%3 == 0
		}, -5, []string{"must be 0 or more"}},
		{"NaN l2", func(r int, x *[detect.ScoreFeatures]float64) bool {
			x[0], x[1] = float64(r%7), float64(r%5)
			return r%3 == 0
		}, math.NaN(), []string{"must be 0 or more"}},
		{"constant feature", func(r int, x *[detect.ScoreFeatures]float64) bool {
			x[0], x[1] = float64(r%7), 1
			return r%3 == 0
		}, 0, []string{"singular", n1 + " constant 1", "--l2"}},
		{"equal features", func(r int, x *[detect.ScoreFeatures]float64) bool {
			x[0], x[1] = float64(r%7), float64(r%7)
			return r%3 == 0
		}, 0, []string{"singular", n1 + " equal to " + n0, "--l2"}},
		{"overflow", func(r int, x *[detect.ScoreFeatures]float64) bool {
			x[0], x[1] = float64(r%7)*1e200, float64(r%5)
			return r%3 == 0
		}, 0, []string{"--l2"}},
	}
	for _, c := range cases {
		x, y := rows(c.f)
		_, err := FitLogistic(x, y, use01, c.l2)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestReadFeaturesNotFinite: a NaN or Inf in a feature file is refused,
// naming the line and column.
func TestReadFeaturesNotFinite(t *testing.T) {
	head := "seed,interval_s,unit,dev,var,t0,ts,held_min,label,charging_day,in_span,z,in_session"
	row := "1,60,u1,m-u1,0,0,0,5.0,1,1,1,0.0000,1"
	for _, n := range detect.ScoreNames {
		head += "," + n
		row += ",0.5"
	}
	last := detect.ScoreNames[detect.ScoreFeatures-1]
	cases := []struct {
		name string
		row  string
		want []string
	}{
		{"NaN feature", row[:strings.LastIndexByte(row, ',')] + ",NaN", []string{"line 3", fmt.Sprintf("column %d", 13+detect.ScoreFeatures), last, "not finite", "re-dump"}},
		{"Inf feature", row[:strings.LastIndexByte(row, ',')] + ",+Inf", []string{"line 3", last, "not finite"}},
		{"NaN age", strings.Replace(row, ",5.0,", ",NaN,", 1), []string{"line 3", "column 8", "held_min", "not finite"}},
		{"bad number", row[:strings.LastIndexByte(row, ',')] + ",x", []string{"line 3", last}},
	}
	for _, c := range cases {
		_, err := ReadFeatures(strings.NewReader(head + "\n" + row + "\n" + c.row + "\n"))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}
