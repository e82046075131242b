package eval

import (
	"math"
	"testing"
)

// series returns n minutes at level w, with the given (minute, level)
// changes applied from their minute on.
func series(n int, w float64, changes ...[2]float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = w
		for _, c := range changes {
			if float64(i) >= c[0] {
				out[i] = c[1]
			}
		}
	}
	return out
}

func TestBgHours(t *testing.T) {
	// Three 10-minute cycles of a 100 W load, on every 20 minutes.
	cyc := series(120, 200, [2]float64{5, 300}, [2]float64{15, 200}, [2]float64{25, 300}, [2]float64{35, 200},
		[2]float64{45, 300}, [2]float64{55, 200})
	for _, tc := range []struct {
		name string
		w    []float64
		want HourStats // of the first hour
	}{
		{"flat", series(120, 100), HourStats{Mean: 100}},
		{"one edge", series(120, 100, [2]float64{30, 200}), HourStats{Mean: 150, Edges: 1}},
		{"edge over the band", series(120, 100, [2]float64{30, 700}), HourStats{Mean: 400}},
		{"split in two stages of edge size", series(120, 100, [2]float64{20, 150}, [2]float64{21, 200}),
			HourStats{Mean: (20*100 + 150 + 39*200) / 60.0, Edges: 2, Splits: 1}},
		{"split in three stages under edge size", series(120, 100, [2]float64{20, 120}, [2]float64{21, 140}, [2]float64{22, 160}),
			HourStats{Mean: (20*100 + 120 + 140 + 38*160) / 60.0, Splits: 1}},
		{"edge and noise is not split", series(120, 100, [2]float64{20, 200}, [2]float64{21, 212}),
			HourStats{Mean: 100 + (100+39*112)/60.0, Edges: 1}},
		{"a ramp of four stages is not a step", series(120, 100, [2]float64{20, 120}, [2]float64{21, 140}, [2]float64{22, 160}, [2]float64{23, 180}),
			HourStats{Mean: 100 + (20+40+60+37*80)/60.0}},
		{"split too small", series(120, 100, [2]float64{20, 120}, [2]float64{21, 140}), HourStats{Mean: 100 + (20+39*40)/60.0}},
		{"cycling", cyc, HourStats{Mean: 250, Edges: 6, Cycles: 3}},
		{"on and off of other sizes", series(120, 200, [2]float64{5, 300}, [2]float64{15, 250}, [2]float64{40, 200}),
			HourStats{Mean: (5*200 + 10*300 + 25*250 + 20*200) / 60.0, Edges: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := BgHours(tc.w)
			if len(got) != 2 {
				t.Fatalf("%d hours, want 2", len(got))
			}
			g := got[0]
			if g.Edges != tc.want.Edges || g.Splits != tc.want.Splits || g.Cycles != tc.want.Cycles || g.SD != tc.want.SD {
				t.Errorf("got %+v, want %+v", g, tc.want)
			}
			if math.Abs(g.Mean-tc.want.Mean) > 1e-9 {
				t.Errorf("mean %.3f, want %.3f", g.Mean, tc.want.Mean)
			}
		})
	}
}

func TestBgHoursSD(t *testing.T) {
	// Changes -2, -1, 0, 1, 2 repeated: median 0, absolute deviations
	// 2, 1, 0, 1, 2 with median 1: robust SD 1.4826.
	pat := []float64{-2, -1, 0, 1, 2}
	w := []float64{500}
	for i := 1; i < 120; i++ {
		w = append(w, w[i-1]+pat[i%5])
	}
	hs := BgHours(w)
	if math.Abs(hs[1].SD-1.4826) > 1e-9 {
		t.Errorf("robust SD %.4f, want 1.4826", hs[1].SD)
	}
	// A gap breaks the changes around it: the hour's changes are the others.
	w[70] = math.NaN()
	if hs := BgHours(w); math.IsNaN(hs[1].SD) || hs[1].SD <= 0 {
		t.Errorf("robust SD with a gap: %v", hs[1].SD)
	}
}

func TestSummarize(t *testing.T) {
	hs := []HourStats{{SD: 1, Edges: 1, Cycles: 2, Mean: 100}, {SD: 2, Splits: 2, Mean: 200}, {SD: 3, Edges: 3, Mean: 300}, {SD: 4, Cycles: 3}, {SD: 5, Mean: 400}}
	s := Summarize(hs, []bool{true, true, false, false, false})
	if s.Hours != 5 || s.SD != [3]float64{2, 3, 4} || s.Edges != 0.8 || s.Splits != 0.4 || s.Cycling != 0.4 || s.Mean != 200 {
		t.Errorf("got %+v", s)
	}
	if s.Night[1] != 1.5 {
		t.Errorf("night median %v, want 1.5", s.Night[1])
	}
}

func TestOnFluct(t *testing.T) {
	// Off, then on around 100 W with changes -2, -1, 0, 1, 2: 1.48% of the
	// level; then off again.
	pat := []float64{-2, -1, 0, 1, 2}
	bins := make([]float64, 10)
	w := 100.0
	for i := range 200 {
		w += pat[i%5]
		bins = append(bins, w)
	}
	bins = append(bins, make([]float64, 10)...)
	level, rel, n := onFluct(bins)
	if math.Abs(level-100) > 3 || math.Abs(rel*level-1.4826) > 1e-9 || n < 190 {
		t.Errorf("level %.1f, relative SD %.5f, %d changes", level, rel, n)
	}
	// Bin means: two samples a bin, a bin without samples is NaN.
	m := binMeans([]int32{0, 5, 10, 15, 30}, []float32{1, 3, 5, 7, 9}, 10)
	if len(m) != 4 || m[0] != 2 || m[1] != 6 || !math.IsNaN(m[2]) || m[3] != 9 {
		t.Errorf("bin means %v", m)
	}
}
