package detect

import (
	"math"
	"slices"
)

// The learned score's other model (PhysicsParams.ScoreModel; the default
// since round 11 for the confirmation score and, over 90 s, the drop):
// gradient-boosted decision trees on the same features (ScoreNames),
// fitted with the logistic loss by cw-sim fit-score --model gbdt, which
// writes each forest as a generated file (charging_score_trees_*.go:
// scoreTreesW, scoreTreesWLong, scoreDropTreesW, scoreDropTreesWLong).
// docs/detection-history.md, Tuning.

// ScoreForest is a forest of complete binary trees of depth Depth: the
// log-odds of features f is Base plus, per tree, the value of the leaf f
// reaches. Tree k's internal nodes are Feat and Thr[k*(2^Depth-1):] in
// breadth-first order (node j's children 2j+1 and 2j+2), its leaves
// Leaf[k*2^Depth:]. A node sends f left when f[Feat] <= Thr (a node that
// does not split has Thr math.MaxFloat32: every feature goes left; a
// NaN feature may go either way, the features are never NaN).
type ScoreForest struct {
	Depth int
	Base  float64
	Feat  []uint8
	Thr   []float32
	Leaf  []float32
	// rest[g] is the least and the greatest sum of the leaves of trees 4g
	// on (one per group of four trees that Logit sums at once, and one
	// for the trees after the last group): the bounds LogitCut stops on.
	// Set by bound, once; nil: LogitCut sums every tree.
	rest [][2]float64
}

// Trees is the number of trees.
func (t *ScoreForest) Trees() int {
	if t.Depth <= 0 {
		return 0
	}
	return len(t.Leaf) >> t.Depth
}

// Logit returns the forest's log-odds for features f: one comparison per
// level of each tree, without a branch (a tree's comparisons are a coin
// toss to the processor), four trees at a time (their chains of loads
// overlap); no allocation. NaN when a feature is NaN.
func (t *ScoreForest) Logit(f *[ScoreFeatures]float64) float64 {
	return t.LogitCut(f, math.Inf(-1), math.Inf(1))
}

// cutSlack is the margin LogitCut keeps over the rounding of its sums (a
// forest's sum of at most a few hundred leaves of a few units, in float64,
// is within 1e-12 of the exact one).
const cutSlack = 1e-9

// LogitCut returns the forest's log-odds for features f as Logit does
// (the same value, summed in the same order) where it lies in [lo, hi)
// (lo at most hi). It stops summing the trees as soon as the sum so far
// and the least and greatest leaves of the trees left show the log-odds
// under lo, and returns then a bound that is under lo too (the sum so far
// and the greatest leaves), or at or over hi, and returns then a bound
// at or over hi too (the sum so far and the least leaves). So the
// log-odds and what LogitCut returns are on the same side of lo and of
// hi: exact for any decision made against lo or hi, for a fraction of
// the trees when it is clear early (charging_score_cut.go). Each bound
// keeps cutSlack to the limit, more than the sums' rounding. NaN when a
// feature is NaN. A forest without bounds (bound) sums every tree.
func (t *ScoreForest) LogitCut(f *[ScoreFeatures]float64, lo, hi float64) float64 {
	for _, v := range f {
		if v != v {
			// a NaN would go left or right by its sign bit: the score is
			// NaN instead, which never confirms and is always vetoed, as
			// the logistic regression's is
			return math.NaN()
		}
	}
	z := t.Base
	if t.Depth <= 0 {
		return z
	}
	n := 1<<t.Depth - 1
	feat, thr, leaf := t.Feat, t.Thr, t.Leaf
	// right when f > Thr: the sign bit of Thr − f
	next := func(feat []uint8, thr []float32, j int) int {
		return 2*j + 1 + int(math.Float64bits(float64(thr[j])-f[feat[j]])>>63)
	}
	rest := t.rest
	lo, hi = lo-cutSlack, hi+cutSlack
	for g := 0; len(leaf) >= 4*(n+1) && len(feat) >= 4*n && len(thr) >= 4*n; g++ {
		if g < len(rest) {
			if b := z + rest[g][1]; b < lo {
				return b
			}
			if b := z + rest[g][0]; b >= hi {
				return b
			}
		}
		f1, f2, f3 := feat[n:], feat[2*n:], feat[3*n:]
		t1, t2, t3 := thr[n:], thr[2*n:], thr[3*n:]
		j0, j1, j2, j3 := 0, 0, 0, 0
		for d := 0; d < t.Depth; d++ {
			j0, j1, j2, j3 = next(feat, thr, j0), next(f1, t1, j1), next(f2, t2, j2), next(f3, t3, j3)
		}
		z += float64(leaf[j0-n]) + float64(leaf[n+1+j1-n]) + float64(leaf[2*(n+1)+j2-n]) + float64(leaf[3*(n+1)+j3-n])
		feat, thr, leaf = feat[4*n:], thr[4*n:], leaf[4*(n+1):]
	}
	if g := len(rest) - 1; g >= 0 && len(leaf) > n {
		if b := z + rest[g][1]; b < lo {
			return b
		}
		if b := z + rest[g][0]; b >= hi {
			return b
		}
	}
	for len(leaf) > n && len(feat) >= n && len(thr) >= n {
		j := 0
		for j < n {
			j = next(feat, thr, j)
		}
		z += float64(leaf[j-n])
		feat, thr, leaf = feat[n:], thr[n:], leaf[n+1:]
	}
	return z
}

// bound sets the forest's bounds of the trees left (rest) for LogitCut;
// a forest that is not Valid gets none.
func (t *ScoreForest) bound() {
	if t.Valid() != nil || t.Trees() == 0 {
		t.rest = nil
		return
	}
	leaves := 1 << t.Depth
	k := t.Trees()
	groups := k / 4
	t.rest = make([][2]float64, groups+1)
	var acc [2]float64
	for i := k - 1; i >= 0; i-- {
		l := t.Leaf[i*leaves : (i+1)*leaves]
		acc[0] += float64(slices.Min(l))
		acc[1] += float64(slices.Max(l))
		if i%4 == 0 && i/4 < groups {
			t.rest[i/4] = acc
		}
		if i == 4*groups {
			t.rest[groups] = acc // the trees after the last group (none: 0, 0)
		}
	}
}

func init() {
	for _, f := range []*ScoreForest{&scoreTreesW, &scoreTreesWLong, &scoreDropTreesW, &scoreDropTreesWLong, &scoreTreesWEarly, &scoreTreesWYoungLong} {
		f.bound()
	}
}

// Valid reports an error if the forest's arrays do not hold whole trees
// of its depth over features ScoreFeatures; nil for an empty forest.
func (t *ScoreForest) Valid() error {
	if t.Depth == 0 && len(t.Feat) == 0 && len(t.Thr) == 0 && len(t.Leaf) == 0 {
		return nil
	}
	if t.Depth < 1 || t.Depth > 8 {
		return errForest("depth out of 1-8")
	}
	n := 1<<t.Depth - 1
	k := len(t.Leaf) >> t.Depth
	if len(t.Leaf) != k<<t.Depth || len(t.Feat) != k*n || len(t.Thr) != k*n {
		return errForest("arrays do not hold whole trees")
	}
	for _, v := range t.Feat {
		if int(v) >= ScoreFeatures {
			return errForest("feature index out of range")
		}
	}
	for _, v := range t.Thr {
		if math.IsNaN(float64(v)) {
			return errForest("NaN threshold")
		}
	}
	for _, v := range t.Leaf {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return errForest("leaf not finite")
		}
	}
	if math.IsNaN(t.Base) || math.IsInf(t.Base, 0) {
		return errForest("base not finite")
	}
	return nil
}

type errForest string

func (e errForest) Error() string { return "score forest: " + string(e) }

// scoreTreesOf returns the forest of the confirmation score (drop false)
// or of the drop-time score at reading interval iv s: the ≤ 90 s forest
// or the longer intervals' one.
func scoreTreesOf(drop bool, iv float64) *ScoreForest {
	switch {
	case drop && iv > 90:
		return &scoreDropTreesWLong
	case drop:
		return &scoreDropTreesW
	case iv > 90:
		return &scoreTreesWLong
	}
	return &scoreTreesW
}

// ScoreForestOf returns a copy of the detector's built-in forest that
// stands in for the PhysicsParams field name (ScoreW, ScoreWLong,
// ScoreDropW or ScoreDropWLong; ScoreWEarly: the young steps' forest of
// ScoreEarlyModel), for cw-sim fit-score --model current
// to judge the forest in use on new rows; false for another name. The
// copy shares the forest's slices: read them only.
func ScoreForestOf(name string) (ScoreForest, bool) {
	switch name {
	case "ScoreW":
		return *scoreTreesOf(false, 60), true
	case "ScoreWLong":
		return *scoreTreesOf(false, 300), true
	case "ScoreDropW":
		return *scoreTreesOf(true, 60), true
	case "ScoreDropWLong":
		return *scoreTreesOf(true, 300), true
	case "ScoreWEarly":
		return scoreTreesWEarly, true
	case "ScoreWYoungLong":
		return scoreTreesWYoungLong, true
	}
	return ScoreForest{}, false
}
