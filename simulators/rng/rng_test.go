package rng

import (
	"math"
	"testing"
)

func TestStreamsAreNamed(t *testing.T) {
	a, b := New(1, Key("u-1"), 7), New(1, Key("u-1"), 7)
	for i := 0; i < 100; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same name, different stream")
		}
	}
	if New(1, Key("u-1"), 7).Uint64() == New(1, Key("u-2"), 7).Uint64() || New(1, 7).Uint64() == New(2, 7).Uint64() {
		t.Fatal("different names, same stream")
	}
}

func TestDistributions(t *testing.T) {
	r := New(3)
	const n = 200000
	var sum, sq, pois float64
	for i := 0; i < n; i++ {
		x := Normal(Hash(3, uint64(i)))
		sum += x
		sq += x * x
		pois += float64(Poisson(r, 0.7))
		if u := Uniform(Hash(4, uint64(i))); u < 0 || u >= 1 {
			t.Fatalf("Uniform %v", u)
		}
	}
	if m := sum / n; math.Abs(m) > 0.01 {
		t.Errorf("Normal mean %v", m)
	}
	if v := sq / n; math.Abs(v-1) > 0.02 {
		t.Errorf("Normal variance %v", v)
	}
	if m := pois / n; math.Abs(m-0.7) > 0.01 {
		t.Errorf("Poisson mean %v", m)
	}
	w := [3]int{}
	for i := 0; i < 30000; i++ {
		w[Pick(r, 1, 2, 0)]++
	}
	if w[2] != 0 || math.Abs(float64(w[1])/float64(w[0])-2) > 0.1 {
		t.Errorf("Pick %v", w)
	}
}
