package eval

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// GBDTOptions are the settings of FitGBDT.
type GBDTOptions struct {
	Trees   int     // number of trees
	Depth   int     // levels of each tree (1-8): 2^Depth leaves
	Rate    float64 // shrinkage: each tree's leaves are scaled by it
	L2      float64 // L2 penalty on the leaf values (λ of the Newton step)
	MinLeaf int     // fewest training rows in a leaf: a split that leaves fewer is not made
	MinHess float64 // least sum of p(1-p) in a leaf (a split whose child has less is not made)
	Bins    int     // thresholds are taken among this many quantiles of each feature (2-256)
	Use     [detect.ScoreFeatures]bool
	// Progress, if set, is called after each tree with its index (from 0)
	// and the forest so far, for reporting; an error it returns (a
	// cancellation) stops the fit.
	Progress func(k int, f *detect.ScoreForest) error
}

// DefaultGBDT are the defaults of cw-sim fit-score --model gbdt.
func DefaultGBDT() GBDTOptions {
	o := GBDTOptions{Trees: 150, Depth: 3, Rate: 0.1, L2: 10, MinLeaf: 200, MinHess: 1, Bins: 64}
	for i := range o.Use {
		o.Use[i] = true
	}
	return o
}

// FitGBDT fits gradient-boosted decision trees of y on the columns of x
// whose Use is true, with the logistic loss: each tree is grown level by
// level to its full depth, every node split where the second-order gain
// G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) is largest (a node with no split
// of positive gain that leaves MinLeaf rows and MinHess on each side
// sends every row left), and its leaves take the Newton step −G/(H+λ)
// times Rate. Thresholds lie halfway between neighbouring values among
// Bins quantiles of each feature (float32, as the detector compares them).
// The forest starts at the log-odds of the labels. Deterministic (the
// histograms are summed in row order, one feature per goroutine).
func FitGBDT(x [][detect.ScoreFeatures]float64, y []bool, o GBDTOptions) (*detect.ScoreForest, error) {
	switch {
	case len(x) != len(y) || len(x) == 0:
		return nil, errors.New("no rows")
	case o.Trees < 1:
		return nil, fmt.Errorf("trees %d: want 1 or more", o.Trees)
	case o.Depth < 1 || o.Depth > 8:
		return nil, fmt.Errorf("depth %d: want 1 to 8", o.Depth)
	case !(o.Rate > 0 && o.Rate <= 1):
		return nil, fmt.Errorf("rate %g: want over 0, at most 1", o.Rate)
	case !(o.L2 >= 0) || math.IsInf(o.L2, 0):
		return nil, fmt.Errorf("L2 %g: must be 0 or more (and finite)", o.L2)
	case o.MinLeaf < 1:
		return nil, fmt.Errorf("min leaf %d: want 1 or more", o.MinLeaf)
	case !(o.MinHess >= 0) || math.IsInf(o.MinHess, 0):
		return nil, fmt.Errorf("min hessian %g: must be 0 or more (and finite)", o.MinHess)
	case o.Bins < 2 || o.Bins > 256:
		return nil, fmt.Errorf("bins %d: want 2 to 256", o.Bins)
	}
	n := len(x)
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	if pos == 0 || pos == n {
		return nil, errors.New("the labels are all the same: nothing to fit")
	}
	var feats []int // the features split on
	for i, u := range o.Use {
		if u {
			feats = append(feats, i)
		}
	}
	// the thresholds of each feature and every row's bin: bin b holds the
	// values over cut[b-1] and at most cut[b]
	cuts := make([][]float32, detect.ScoreFeatures)
	bins := make([][]uint8, detect.ScoreFeatures)
	parallel(feats, func(j int) {
		cuts[j] = quantileCuts(x, j, o.Bins)
		b := make([]uint8, n)
		c := cuts[j]
		for r := range x {
			v := x[r][j]
			b[r] = uint8(sort.Search(len(c), func(i int) bool { return v <= float64(c[i]) }))
		}
		bins[j] = b
	})

	base := math.Log(float64(pos) / float64(n-pos))
	f := &detect.ScoreForest{Depth: o.Depth, Base: base}
	z := make([]float64, n)
	for r := range z {
		z[r] = base
	}
	g := make([]float64, n)
	h := make([]float64, n)
	node := make([]int32, n) // each row's node in the current level
	inner := 1<<o.Depth - 1
	type stat struct{ g, h, n float64 }
	// hist[j] holds, per node of the level, o.Bins sums for feature j
	hist := make([][]stat, detect.ScoreFeatures)
	for _, j := range feats {
		hist[j] = make([]stat, (1<<(o.Depth-1))*o.Bins)
	}
	for k := 0; k < o.Trees; k++ {
		for r := range z {
			p := 1 / (1 + math.Exp(-z[r]))
			if y[r] {
				g[r] = p - 1
			} else {
				g[r] = p
			}
			h[r] = max(p*(1-p), 1e-16)
		}
		clear(node)
		tFeat := make([]uint8, inner)
		tThr := make([]float32, inner)
		for d := 0; d < o.Depth; d++ {
			width := 1 << d // nodes of this level
			parallel(feats, func(j int) {
				hs := hist[j][:width*o.Bins]
				clear(hs)
				b := bins[j]
				for r := range b {
					s := &hs[int(node[r])*o.Bins+int(b[r])]
					s.g += g[r]
					s.h += h[r]
					s.n++
				}
			})
			split := make([]int, width) // the bin of the best split, -1 none
			for v := 0; v < width; v++ {
				var tot stat
				if len(feats) > 0 {
					for _, s := range hist[feats[0]][v*o.Bins : (v+1)*o.Bins] {
						tot.g += s.g
						tot.h += s.h
						tot.n += s.n
					}
				}
				best, bj, bb := 0.0, -1, -1
				parent := tot.g * tot.g / (tot.h + o.L2)
				for _, j := range feats {
					var l stat
					hs := hist[j][v*o.Bins : (v+1)*o.Bins]
					for b := 0; b < len(cuts[j]); b++ {
						l.g += hs[b].g
						l.h += hs[b].h
						l.n += hs[b].n
						rg, rh, rn := tot.g-l.g, tot.h-l.h, tot.n-l.n
						if l.n < float64(o.MinLeaf) || l.h < o.MinHess {
							continue
						}
						if rn < float64(o.MinLeaf) || rh < o.MinHess {
							break
						}
						gain := l.g*l.g/(l.h+o.L2) + rg*rg/(rh+o.L2) - parent
						if gain > best {
							best, bj, bb = gain, j, b
						}
					}
				}
				at := width - 1 + v // breadth-first index
				split[v] = -1
				if bj < 0 {
					tFeat[at], tThr[at] = 0, math.MaxFloat32
					continue
				}
				tFeat[at], tThr[at] = uint8(bj), cuts[bj][bb]
				split[v] = bb
			}
			for r := range node {
				v := node[r]
				at := width - 1 + int(v)
				right := split[v] >= 0 && int(bins[tFeat[at]][r]) > split[v]
				node[r] = 2 * v
				if right {
					node[r]++
				}
			}
		}
		leaves := 1 << o.Depth
		lg := make([]float64, leaves)
		lh := make([]float64, leaves)
		for r := range node {
			lg[node[r]] += g[r]
			lh[node[r]] += h[r]
		}
		tLeaf := make([]float32, leaves)
		for v := range tLeaf {
			if lh[v] > 0 {
				tLeaf[v] = float32(-lg[v] / (lh[v] + o.L2) * o.Rate)
			}
		}
		for r := range z {
			z[r] += float64(tLeaf[node[r]])
		}
		f.Feat = append(f.Feat, tFeat...)
		f.Thr = append(f.Thr, tThr...)
		f.Leaf = append(f.Leaf, tLeaf...)
		if o.Progress != nil {
			if err := o.Progress(k, f); err != nil {
				return nil, err
			}
		}
	}
	if err := f.Valid(); err != nil {
		return nil, err
	}
	return f, nil
}

// parallel runs fn on each of items, two goroutines at a time (each item
// touches only its own data).
func parallel(items []int, fn func(int)) {
	var wg sync.WaitGroup
	ch := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				fn(j)
			}
		}()
	}
	for _, j := range items {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// quantileCuts returns at most bins-1 thresholds of feature j over the
// rows: halfway (in float32) between neighbouring distinct values, every
// such gap when there are at most bins values, else at the quantiles.
func quantileCuts(x [][detect.ScoreFeatures]float64, j, bins int) []float32 {
	v := make([]float64, len(x))
	for r := range x {
		v[r] = x[r][j]
	}
	slices.Sort(v)
	d := slices.Compact(slices.Clone(v))
	var gaps [][2]float64 // neighbouring distinct values to cut between
	if len(d) <= bins {
		for i := 1; i < len(d); i++ {
			gaps = append(gaps, [2]float64{d[i-1], d[i]})
		}
	} else {
		for q := 1; q < bins; q++ {
			a := v[q*len(v)/bins]
			i, _ := slices.BinarySearch(d, a)
			if i+1 < len(d) && (len(gaps) == 0 || gaps[len(gaps)-1][0] < a) {
				gaps = append(gaps, [2]float64{a, d[i+1]})
			}
		}
	}
	var c []float32
	for _, gp := range gaps {
		a, b := gp[0], gp[1]
		t := float32(a + (b-a)/2)
		if float64(t) >= b {
			t = math.Nextafter32(t, float32(math.Inf(-1)))
		}
		if float64(t) < a {
			t = math.Nextafter32(t, float32(math.Inf(1)))
		}
		if float64(t) >= a && float64(t) < b && (len(c) == 0 || t > c[len(c)-1]) {
			c = append(c, t)
		}
	}
	return c
}

// Importance counts the splits made on each feature.
func Importance(f *detect.ScoreForest) [detect.ScoreFeatures]int {
	var out [detect.ScoreFeatures]int
	for i, t := range f.Thr {
		if t != math.MaxFloat32 {
			out[f.Feat[i]]++
		}
	}
	return out
}

// WriteForestGo writes forest f as a Go source file of package detect
// that declares variable name, with comment (a line each) above it.
func WriteForestGo(w io.Writer, name string, comment []string, f *detect.ScoreForest) error {
	if err := f.Valid(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by cw-sim fit-score --model gbdt; DO NOT EDIT.\n\npackage detect\n\n")
	for _, c := range comment {
		fmt.Fprintf(&b, "// %s\n", c)
	}
	fmt.Fprintf(&b, "var %s = ScoreForest{\n\tDepth: %d,\n\tBase:  %s,\n", name, f.Depth, strconv.FormatFloat(f.Base, 'g', -1, 64))
	list := func(field string, n int, item func(i int) string) {
		fmt.Fprintf(&b, "\t%s: []%s{", field, map[string]string{"Feat": "uint8", "Thr": "float32", "Leaf": "float32"}[field])
		per := (1 << f.Depth) - 1
		if field == "Leaf" {
			per++
		}
		for i := 0; i < n; i++ {
			if i%per == 0 {
				b.WriteString("\n\t\t")
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(item(i))
			b.WriteByte(',')
		}
		b.WriteString("\n\t},\n")
	}
	f32 := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	list("Feat", len(f.Feat), func(i int) string { return strconv.Itoa(int(f.Feat[i])) })
	list("Thr", len(f.Thr), func(i int) string { return f32(f.Thr[i]) })
	list("Leaf", len(f.Leaf), func(i int) string { return f32(f.Leaf[i]) })
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("generated source: %w", err)
	}
	_, err = w.Write(src)
	return err
}

// ForestSummary describes forest f in a line: trees, depth, splits made,
// and the features most split on.
func ForestSummary(f *detect.ScoreForest) string {
	imp := Importance(f)
	idx := make([]int, len(imp))
	total := 0
	for i := range idx {
		idx[i] = i
		total += imp[i]
	}
	slices.SortStableFunc(idx, func(a, b int) int { return imp[b] - imp[a] })
	var top []string
	for _, i := range idx[:min(8, len(idx))] {
		if imp[i] > 0 {
			top = append(top, fmt.Sprintf("%s %d", detect.ScoreNames[i], imp[i]))
		}
	}
	return fmt.Sprintf("%d trees of depth %d, base %.3f, %d splits; most split on: %s", f.Trees(), f.Depth, f.Base, total, strings.Join(top, ", "))
}
