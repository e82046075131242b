package eval

import "math"

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson returns the Wilson score interval (95%) of a proportion of k
// successes in n trials, and the point estimate k/n. With n = 0 it returns
// NaN.
func Wilson(k, n int) (p, lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	nn := float64(n)
	p = float64(k) / nn
	z2 := z95 * z95
	den := 1 + z2/nn
	mid := (p + z2/(2*nn)) / den
	half := z95 * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn)) / den
	return p, math.Max(0, mid-half), math.Min(1, mid+half)
}

// PoissonCI returns the exact (Garwood) 95% interval of the mean of a
// Poisson count k.
func PoissonCI(k int) (lo, hi float64) {
	if k > 0 {
		// lo: P(X >= k; lo) = 0.025
		lo = bisect(func(m float64) float64 { return 1 - poissonCDF(k-1, m) - 0.025 }, 0, float64(k))
	}
	// hi: P(X <= k; hi) = 0.025
	hi = bisect(func(m float64) float64 { return 0.025 - poissonCDF(k, m) }, float64(k), float64(k)+20+10*math.Sqrt(float64(k)+1))
	return lo, hi
}

// poissonCDF returns P(X <= k) for X ~ Poisson(m).
func poissonCDF(k int, m float64) float64 {
	if m <= 0 {
		return 1
	}
	// Sum the terms in log space from the mode outwards is overkill at
	// these sizes: a forward sum with a running log term is exact enough.
	sum, lt := 0.0, -m
	for i := 0; i <= k; i++ {
		if i > 0 {
			lt += math.Log(m) - math.Log(float64(i))
		}
		sum += math.Exp(lt)
	}
	return math.Min(1, sum)
}

// bisect finds a root of an increasing f in [a, b].
func bisect(f func(float64) float64, a, b float64) float64 {
	for i := 0; i < 100; i++ {
		m := (a + b) / 2
		if f(m) < 0 {
			a = m
		} else {
			b = m
		}
	}
	return (a + b) / 2
}

// Quantile returns the q-quantile of sorted values (nearest rank).
func Quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(len(sorted)-1, i))]
}

// MedianCI returns a distribution-free 95% interval of the median of
// sorted values, from order statistics: the ranks whose binomial(n, 1/2)
// probability covers at least 95%. ok is false for fewer than 6 values.
func MedianCI(sorted []int64) (lo, hi int64, ok bool) {
	n := len(sorted)
	if n < 6 {
		return 0, 0, false
	}
	// the largest j with P(B <= j-1) <= 0.025, B ~ Bin(n, 1/2)
	cdf, j := 0.0, 0
	lp := float64(n) * math.Log(0.5)
	lc := 0.0 // log C(n, i)
	for i := 0; i < n; i++ {
		if i > 0 {
			lc += math.Log(float64(n-i+1)) - math.Log(float64(i))
		}
		pi := math.Exp(lc + lp)
		if cdf+pi > 0.025 {
			j = i
			break
		}
		cdf += pi
	}
	// ranks j+1 .. n-j (1-based) cover at least 95%
	return sorted[max(0, j-1)], sorted[min(n-1, n-j)], true
}
