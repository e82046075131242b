package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// FeatureSet is a CSV of WriteFeatures read back: per row, the candidate
// (city, interval, device, core, start), its age, the labels and the
// features.
type FeatureSet struct {
	Key         []string // seed/interval/dev/var/t0: one candidate
	IntervalS   []int
	Held        []float64
	Label       []bool
	ChargingDay []bool
	InSpan      []bool
	InSession   []bool
	X           [][detect.ScoreFeatures]float64
}

// ReadFeatures reads a CSV that WriteFeatures wrote.
func ReadFeatures(r io.Reader) (*FeatureSet, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	head = slices.Clone(head) // the reader reuses the record
	const fixed = 13
	if len(head) != fixed+detect.ScoreFeatures || head[0] != "seed" {
		return nil, fmt.Errorf("not a feature file of this version: %d columns, want %d", len(head), fixed+detect.ScoreFeatures)
	}
	for i, n := range detect.ScoreNames {
		if head[fixed+i] != n {
			return nil, fmt.Errorf("column %d is %q, want %q", fixed+i+1, head[fixed+i], n)
		}
	}
	fs := &FeatureSet{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		// num parses column c of the row as a finite number, naming the
		// line and column if it is not one.
		num := func(c int) (float64, error) {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
				err = fmt.Errorf("%s is not finite", rec[c])
			}
			if err != nil {
				line, _ := cr.FieldPos(c)
				return 0, fmt.Errorf("line %d, column %d (%s): %w: re-dump the rows with cw-sim eval --features", line, c+1, head[c], err)
			}
			return v, nil
		}
		iv, err := strconv.Atoi(rec[1])
		if err != nil {
			line, _ := cr.FieldPos(1)
			return nil, fmt.Errorf("line %d, column 2 (%s): %w", line, head[1], err)
		}
		held, err := num(7)
		if err != nil {
			return nil, err
		}
		var x [detect.ScoreFeatures]float64
		for i := range x {
			if x[i], err = num(fixed + i); err != nil {
				return nil, err
			}
		}
		fs.Key = append(fs.Key, rec[0]+"/"+rec[1]+"/"+rec[3]+"/"+rec[4]+"/"+rec[5])
		fs.IntervalS = append(fs.IntervalS, iv)
		fs.Held = append(fs.Held, held)
		fs.Label = append(fs.Label, rec[8] == "1")
		fs.ChargingDay = append(fs.ChargingDay, rec[9] == "1")
		fs.InSpan = append(fs.InSpan, rec[10] == "1")
		fs.InSession = append(fs.InSession, rec[12] == "1")
		fs.X = append(fs.X, x)
	}
	return fs, nil
}

// FitLogistic fits a logistic regression of y on the columns of x whose
// use is true (the others get 0), by Newton's method (iteratively
// reweighted least squares) with an L2 penalty l2 on the coefficients (not
// on the intercept). It returns the intercept then a coefficient per
// feature, as detect.PhysicsParams.ScoreW holds them. Deterministic.
func FitLogistic(x [][detect.ScoreFeatures]float64, y []bool, use [detect.ScoreFeatures]bool, l2 float64) ([detect.ScoreFeatures + 1]float64, error) {
	var w [detect.ScoreFeatures + 1]float64
	if len(x) != len(y) || len(x) == 0 {
		return w, errors.New("no rows")
	}
	if !(l2 >= 0) || math.IsInf(l2, 0) {
		return w, fmt.Errorf("L2 penalty %g: must be 0 or more (and finite)", l2)
	}
	idx := []int{0} // columns of the design: 0 the intercept, i+1 feature i
	for i, u := range use {
		if u {
			idx = append(idx, i+1)
		}
	}
	k := len(idx)
	row := make([]float64, k)
	design := func(r int) []float64 {
		row[0] = 1
		for j := 1; j < k; j++ {
			row[j] = x[r][idx[j]-1]
		}
		return row
	}
	beta := make([]float64, k)
	h := make([]float64, k*k)
	g := make([]float64, k)
	prevLL := math.Inf(-1)
	const maxIter = 50
	converged := false
	for it := 0; it < maxIter; it++ {
		clear(h)
		clear(g)
		ll := 0.0
		for r := range x {
			d := design(r)
			z := 0.0
			for j, v := range d {
				z += beta[j] * v
			}
			p := 1 / (1 + math.Exp(-z))
			yv := 0.0
			if y[r] {
				yv = 1
			}
			if y[r] {
				ll += math.Log(math.Max(p, 1e-300))
			} else {
				ll += math.Log(math.Max(1-p, 1e-300))
			}
			q := math.Max(p*(1-p), 1e-12)
			for a, va := range d {
				g[a] += (yv - p) * va
				for b := a; b < k; b++ {
					h[a*k+b] += q * va * d[b]
				}
			}
		}
		for a := 1; a < k; a++ {
			g[a] -= l2 * beta[a]
			h[a*k+a] += l2
			ll -= 0.5 * l2 * beta[a] * beta[a]
		}
		for a := 0; a < k; a++ {
			for b := 0; b < a; b++ {
				h[a*k+b] = h[b*k+a]
			}
		}
		step, err := solve(h, g, k)
		if err != nil {
			if names := degenerate(x, idx); names != "" {
				return w, fmt.Errorf("%w (%s over the rows): leave them out with --drop or try a larger --l2", err, names)
			}
			return w, fmt.Errorf("%w: try a larger --l2", err)
		}
		for j := range beta {
			beta[j] += step[j]
		}
		if math.Abs(ll-prevLL) < 1e-9*math.Max(1, math.Abs(ll)) {
			converged = true
			break
		}
		prevLL = ll
	}
	if !converged {
		return w, fmt.Errorf("the fit did not converge in %d iterations (the features may separate the labels, L2 %g): try a larger --l2", maxIter, l2)
	}
	for j, c := range idx {
		if math.IsNaN(beta[j]) || math.IsInf(beta[j], 0) {
			name := "the intercept"
			if c > 0 {
				name = detect.ScoreNames[c-1]
			}
			return w, fmt.Errorf("the fit gave a coefficient that is not finite (%s: %g): try a larger --l2", name, beta[j])
		}
		w[c] = beta[j]
	}
	return w, nil
}

// degenerate names the features of the design columns idx (0 the
// intercept, i+1 feature i) that are constant over the rows of x, or equal
// to an earlier one; "" if none.
func degenerate(x [][detect.ScoreFeatures]float64, idx []int) string {
	var out []string
	for a := 1; a < len(idx); a++ {
		i := idx[a] - 1
		constant := true
		for r := range x {
			if x[r][i] != x[0][i] {
				constant = false
				break
			}
		}
		if constant {
			out = append(out, fmt.Sprintf("%s constant %g", detect.ScoreNames[i], x[0][i]))
			continue
		}
		for b := 1; b < a; b++ {
			j := idx[b] - 1
			same := true
			for r := range x {
				if x[r][i] != x[r][j] {
					same = false
					break
				}
			}
			if same {
				out = append(out, fmt.Sprintf("%s equal to %s", detect.ScoreNames[i], detect.ScoreNames[j]))
				break
			}
		}
	}
	return strings.Join(out, ", ")
}

// solve solves the k×k system a·x = b (a symmetric positive definite) by
// Gaussian elimination with partial pivoting; a and b are overwritten.
func solve(a, b []float64, k int) ([]float64, error) {
	for c := 0; c < k; c++ {
		p := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[p*k+c]) {
				p = r
			}
		}
		if math.Abs(a[p*k+c]) < 1e-12 {
			return nil, errors.New("singular system: a feature is constant or collinear")
		}
		if p != c {
			for j := 0; j < k; j++ {
				a[c*k+j], a[p*k+j] = a[p*k+j], a[c*k+j]
			}
			b[c], b[p] = b[p], b[c]
		}
		for r := c + 1; r < k; r++ {
			f := a[r*k+c] / a[c*k+c]
			for j := c; j < k; j++ {
				a[r*k+j] -= f * a[c*k+j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < k; j++ {
			s -= a[r*k+j] * x[j]
		}
		x[r] = s / a[r*k+r]
	}
	return x, nil
}

// Logit returns the log-odds of coefficients w for features x.
func Logit(w *[detect.ScoreFeatures + 1]float64, x *[detect.ScoreFeatures]float64) float64 {
	z := w[0]
	for i, v := range x {
		z += w[i+1] * v
	}
	return z
}

// AUC is the area under the ROC curve of scores s for labels y: the
// chance that a positive scores over a negative (ties count half).
func AUC(s []float64, y []bool) float64 {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case s[a] < s[b]:
			return -1
		case s[a] > s[b]:
			return 1
		}
		return 0
	})
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean rank of the tie, 1-based
		for _, r := range idx[i:j] {
			if y[r] {
				pos++
				rankSum += mid
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// CandidateFires is what a score threshold does to the candidates of a
// feature set: a candidate fires at its first row at or after minHeld
// whose log-odds is at least z. Candidates are counted by label; the false
// ones by whether they started in a session (the alert would still be
// true) and whether that row was on a charger-free unit-day of the scored
// span (a false alarm, if no other path fired first).
type CandidateFires struct {
	True, False, InSession, FalseFree int
	HeldTrue                          []float64 // the age at which the true ones fired
}

// Fires counts the candidates of fs that the coefficients w fire at
// log-odds z from minHeld minutes on.
func (fs *FeatureSet) Fires(w *[detect.ScoreFeatures + 1]float64, z, minHeld float64) CandidateFires {
	return fs.FiresBy(func(x *[detect.ScoreFeatures]float64) float64 { return Logit(w, x) }, z, minHeld)
}

// FiresBy counts the candidates of fs that the log-odds score gives fire
// at z from minHeld minutes on (Fires for any model).
func (fs *FeatureSet) FiresBy(score func(*[detect.ScoreFeatures]float64) float64, z, minHeld float64) CandidateFires {
	var cf CandidateFires
	done := map[string]bool{}
	for r := range fs.X {
		if fs.Held[r] < minHeld || done[fs.Key[r]] || score(&fs.X[r]) < z {
			continue
		}
		done[fs.Key[r]] = true
		switch {
		case fs.Label[r]:
			cf.True++
			cf.HeldTrue = append(cf.HeldTrue, fs.Held[r])
		case fs.InSession[r]:
			cf.False++
			cf.InSession++
		case !fs.ChargingDay[r] && fs.InSpan[r]:
			cf.False++
			cf.FalseFree++
		default:
			cf.False++
		}
	}
	return cf
}
