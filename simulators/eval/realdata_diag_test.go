package eval

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// TestRealTaperStart: a real charge's taper begins at its highest sample
// before the first under 95% of the highest so far; at its first sample
// when it begins in its taper; at its last when it never falls.
func TestRealTaperStart(t *testing.T) {
	m := int64(60000)
	for _, c := range []struct {
		name string
		w    []float64
		want int64
	}{
		{"plateau rising, then a taper", []float64{100, 101, 102, 103, 101, 80, 40, 5}, 15 * m},
		{"begins in its taper", []float64{93, 79, 72, 50, 5}, 0},
		{"never falls (cut on its plateau)", []float64{102, 102.5, 103, 104}, 15 * m},
		{"a dip under 5% does not end the plateau", []float64{100, 96, 104, 105, 90}, 15 * m},
	} {
		r := realSession{}
		for i, w := range c.w {
			r.t = append(r.t, int64(i)*5*m)
			r.w = append(r.w, w)
		}
		if got := r.taperStart(); got != c.want {
			t.Errorf("%s: taper at %d min, want %d", c.name, got/m, c.want/m)
		}
	}
}

// TestSemiSyntheticExplain: with Explain the semi-synthetic set is explained
// like a city (every missed session classified, sessions listed with how
// findable each is), and its episodes carry their taper's start and every
// charger of a two-bike session.
func TestSemiSyntheticExplain(t *testing.T) {
	dir := realDataDir(t)
	p := detect.DefaultPhysicsParams()
	r, err := Evaluate(context.Background(), Options{Set: Set{Name: "none", Units: 1, Days: 1}, Intervals: []time.Duration{5 * time.Minute},
		Model: Physics(p), RealData: dir, Explain: &p})
	if err != nil {
		t.Fatal(err)
	}
	o := r.Semi[5*time.Minute]
	if o == nil || o.Explain == nil || len(o.Explain.Class) != len(o.Episodes) || len(o.semi) != len(o.Episodes) {
		t.Fatal("semi-synthetic set not explained")
	}
	f := Score(o, 0)
	n := 0
	for _, v := range o.Explain.Misses {
		n += v
	}
	if n != f.Sessions-f.Detected {
		t.Errorf("%d misses explained, want %d", n, f.Sessions-f.Detected)
	}
	two, taperFirst := 0, 0
	for _, e := range o.Episodes {
		if e.PlateauEnd < e.Start || e.PlateauEnd > e.End {
			t.Errorf("%s %d-%d: PlateauEnd %d outside the session", e.Unit, e.Start, e.End, e.PlateauEnd)
		}
		if e.PlateauEnd == e.Start {
			taperFirst++
		}
		if len(e.Chargers) != e.Bikes || len(e.Starts) != e.Bikes {
			t.Errorf("%s: %d bikes, chargers %v, starts %v", e.Unit, e.Bikes, e.Chargers, e.Starts)
		}
		if e.Bikes > 1 {
			two++
		}
	}
	if two == 0 || taperFirst == 0 {
		t.Errorf("%d two-bike sessions, %d beginning in their taper; want some of each", two, taperFirst)
	}
	var b strings.Builder
	WriteExplanation(&b, r)
	for _, want := range []string{"SEMI-SYNTHETIC MISSED SESSIONS", "SEMI-SYNTHETIC SESSIONS", "SEMI-SYNTHETIC FINDABILITY", "no plateau: the trace begins in its taper"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("explanation without %q", want)
		}
	}
}
