// Package rng derives the simulators' randomness from one scenario seed.
//
// Every random choice in the simulators is made by a generator (or a hash)
// named by the seed and by what it is for: a unit's appliances, one day of one
// unit, the noise of one reading. Nothing depends on the order in which
// things are simulated, on map iteration or on the wall clock, so the same
// seed gives the same traffic byte for byte, and a device simulated alone (a
// Modbus slave) reads exactly what it reads inside the whole city.
package rng

import (
	"math"
	"math/rand/v2"
)

// Key hashes a name (a unit or device id) to a stream key with 64-bit
// FNV-1a, finished by Mix so that similar names give unrelated keys.
func Key(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return Mix(h)
}

// Mix is the splitmix64 finaliser: a bijective scramble of x.
func Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Hash combines a seed and keys into one well-mixed value.
func Hash(seed uint64, keys ...uint64) uint64 {
	h := Mix(seed ^ 0x9e3779b97f4a7c15)
	for _, k := range keys {
		h = Mix(h ^ k + 0x9e3779b97f4a7c15)
	}
	return h
}

// New returns a PCG generator for the stream named by seed and keys.
func New(seed uint64, keys ...uint64) *rand.Rand {
	h := Hash(seed, keys...)
	return rand.New(rand.NewPCG(h, Mix(h^0x6a09e667f3bcc909)))
}

// Uniform maps a hash to [0, 1).
func Uniform(h uint64) float64 {
	return float64(h>>11) / (1 << 53)
}

// Signed maps a hash to [-1, 1).
func Signed(h uint64) float64 {
	return 2*Uniform(h) - 1
}

// Normal maps a hash to a standard normal value (Box-Muller on two halves
// of the mixed hash), bounded to about ±5.
func Normal(h uint64) float64 {
	u1 := (float64(h>>40) + 0.5) / (1 << 24)
	u2 := float64(Mix(h)>>40) / (1 << 24)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Between draws uniformly from [lo, hi).
func Between(r *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*r.Float64()
}

// Chance reports true with probability p.
func Chance(r *rand.Rand, p float64) bool {
	return r.Float64() < p
}

// Gauss draws from a normal distribution clipped to [lo, hi].
func Gauss(r *rand.Rand, mean, sd, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, mean+sd*r.NormFloat64()))
}

// Poisson draws a Poisson count with mean lambda (Knuth's method; the
// simulators only use small means).
func Poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return int(math.Max(0, math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Pick returns an index chosen with the given weights (which need not sum
// to one); -1 when all weights are zero.
func Pick(r *rand.Rand, weights ...float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		return -1
	}
	x := r.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
