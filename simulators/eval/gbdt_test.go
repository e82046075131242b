package eval

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// xorRows draws rows (a deterministic generator) whose label depends on
// two features non-linearly: likely when exactly one of x0 > 0 and x3 > 0
// holds, which no logistic regression on x0, x3 can separate.
func xorRows(n int, seed uint64) ([][detect.ScoreFeatures]float64, []bool) {
	state := seed
	rnd := func() float64 { // xorshift, uniform in [0, 1)
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return float64(state>>11) / (1 << 53)
	}
	var x [][detect.ScoreFeatures]float64
	var y []bool
	for range n {
		var r [detect.ScoreFeatures]float64
		r[0], r[3], r[5] = 2*rnd()-1, 2*rnd()-1, 2*rnd()-1 // r[5]: noise
		r[7] = float64(int(3 * rnd()))                     // three values
		z := -2.0
		if (r[0] > 0) != (r[3] > 0) {
			z = 2
		}
		x = append(x, r)
		y = append(y, rnd() < 1/(1+math.Exp(-z)))
	}
	return x, y
}

// TestFitGBDT: on rows whose label is an XOR of two features, trees of
// depth 2 reach the AUC of the true model on fresh rows, where the
// logistic regression is no better than chance; the fit is deterministic
// and splits only on the features it may use.
func TestFitGBDT(t *testing.T) {
	x, y := xorRows(20000, 1)
	tx, ty := xorRows(20000, 7)
	o := DefaultGBDT()
	o.Trees, o.Depth, o.Rate, o.MinLeaf = 30, 2, 0.3, 50
	for i := range o.Use {
		o.Use[i] = i == 0 || i == 3 || i == 5 || i == 7
	}
	f, err := FitGBDT(x, y, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Valid(); err != nil {
		t.Fatal(err)
	}
	if f.Trees() != 30 || f.Depth != 2 || len(f.Feat) != 30*3 || len(f.Leaf) != 30*4 {
		t.Fatalf("%d trees of depth %d, %d nodes, %d leaves", f.Trees(), f.Depth, len(f.Feat), len(f.Leaf))
	}
	score := func(s func(*[detect.ScoreFeatures]float64) float64) float64 {
		z := make([]float64, len(tx))
		for r := range tx {
			z[r] = s(&tx[r])
		}
		return AUC(z, ty)
	}
	truth := score(func(r *[detect.ScoreFeatures]float64) float64 {
		if (r[0] > 0) != (r[3] > 0) {
			return 1
		}
		return 0
	})
	trees := score(f.Logit)
	var use [detect.ScoreFeatures]bool
	use[0], use[3], use[5] = true, true, true
	w, err := FitLogistic(x, y, use, 1)
	if err != nil {
		t.Fatal(err)
	}
	lin := score(func(r *[detect.ScoreFeatures]float64) float64 { return Logit(&w, r) })
	if trees < truth-0.03 || lin > 0.55 {
		t.Errorf("AUC on fresh rows: trees %.3f, logistic %.3f, the true model %.3f", trees, lin, truth)
	}
	for i, t0 := range f.Thr {
		if j := f.Feat[i]; t0 != math.MaxFloat32 && j != 0 && j != 3 && j != 5 && j != 7 {
			t.Errorf("split on feature %d, not in use", j)
		}
	}
	g, err := FitGBDT(x, y, o)
	if err != nil {
		t.Fatal(err)
	}
	if g.Base != f.Base || !slices.Equal(g.Feat, f.Feat) || !slices.Equal(g.Thr, f.Thr) || !slices.Equal(g.Leaf, f.Leaf) {
		t.Error("two fits of the same rows differ")
	}
	// the base is the labels' log-odds; a forest whose leaves cannot split
	// (every leaf would hold fewer than MinLeaf rows) sends every row left
	o.MinLeaf = len(x)
	o.Trees = 1
	h, err := FitGBDT(x, y, o)
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	if want := math.Log(float64(pos) / float64(len(y)-pos)); math.Abs(h.Base-want) > 1e-12 {
		t.Errorf("base %g, want %g", h.Base, want)
	}
	for i, v := range h.Thr {
		if v != math.MaxFloat32 {
			t.Errorf("node %d splits at %g with min leaf the whole set", i, v)
		}
	}
	if slices.ContainsFunc(h.Leaf, func(v float32) bool { return math.Abs(float64(v)) > 1e-9 }) {
		t.Errorf("leaves %v: want all 0 (the base is already the Newton step's optimum)", h.Leaf[:4])
	}
}

// TestFitGBDTErrors: bad settings and rows are refused.
func TestFitGBDTErrors(t *testing.T) {
	x, y := xorRows(100, 3)
	bad := map[string]func(o *GBDTOptions){
		"trees 0": func(o *GBDTOptions) { o.Trees = 0 },
		"depth 9": func(o *GBDTOptions) { o.Depth = 9 },
		"rate 0":  func(o *GBDTOptions) { o.Rate = 0 },
		"L2 NaN":  func(o *GBDTOptions) { o.L2 = math.NaN() },
		"leaf 0":  func(o *GBDTOptions) { o.MinLeaf = 0 },
		"bins 1":  func(o *GBDTOptions) { o.Bins = 1 },
	}
	for name, set := range bad {
		o := DefaultGBDT()
		set(&o)
		if _, err := FitGBDT(x, y, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := FitGBDT(nil, nil, DefaultGBDT()); err == nil {
		t.Error("no rows: no error")
	}
	if _, err := FitGBDT(x, make([]bool, len(x)), DefaultGBDT()); err == nil {
		t.Error("one label only: no error")
	}
}

// TestQuantileCuts: thresholds lie strictly between neighbouring values
// (in float32) and rise; few values get every gap, many at most bins-1.
func TestQuantileCuts(t *testing.T) {
	var x [][detect.ScoreFeatures]float64
	for i := range 1000 {
		var r [detect.ScoreFeatures]float64
		r[0] = float64(i % 3)
		r[1] = float64(i) / 7
		r[2] = 1 + float64(i%2)*1e-6 // two values a float32 ulp or so apart
		x = append(x, r)
	}
	if c := quantileCuts(x, 0, 16); !slices.Equal(c, []float32{0.5, 1.5}) {
		t.Errorf("three values: cuts %v", c)
	}
	c := quantileCuts(x, 1, 16)
	if len(c) == 0 || len(c) > 15 || !slices.IsSorted(c) {
		t.Errorf("1000 values, 16 bins: %d cuts %v", len(c), c)
	}
	for _, v := range c {
		k := float64(v) * 7
		if k == math.Trunc(k) {
			t.Errorf("cut %g on a value", v)
		}
	}
	if c := quantileCuts(x, 2, 16); len(c) != 1 || !(float64(c[0]) >= 1 && float64(c[0]) < 1+1e-6) {
		t.Errorf("1 and 1+1e-6: cuts %v", c)
	}
	if c := quantileCuts(x, 4, 16); len(c) != 0 {
		t.Errorf("a constant: cuts %v", c)
	}
}

// TestWriteForestGo: the generated source is gofmt'ed Go of package
// detect declaring the variable, with every number of the forest.
func TestWriteForestGo(t *testing.T) {
	x, y := xorRows(2000, 5)
	o := DefaultGBDT()
	o.Trees, o.Depth, o.MinLeaf = 3, 2, 20
	f, err := FitGBDT(x, y, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteForestGo(&b, "scoreTreesW", []string{"a comment"}, f); err != nil {
		t.Fatal(err)
	}
	src := b.String()
	for _, want := range []string{"// Code generated", "package detect", "// a comment\nvar scoreTreesW = ScoreForest{", "Depth: 2,", "Feat: []uint8{", "Thr: []float32{", "Leaf: []float32{"} {
		if !strings.Contains(src, want) {
			t.Errorf("no %q in:\n%s", want, src)
		}
	}
	if n := strings.Count(src, ","); n < len(f.Feat)+len(f.Thr)+len(f.Leaf) {
		t.Errorf("%d commas for %d numbers", n, len(f.Feat)+len(f.Thr)+len(f.Leaf))
	}
	bad := *f
	bad.Leaf = bad.Leaf[1:]
	if err := WriteForestGo(&b, "x", nil, &bad); err == nil {
		t.Error("a forest of partial trees written")
	}
}
