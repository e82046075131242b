package charger

import (
	"errors"
	"math"
	"slices"
)

// Sample is one power reading of a charger: Unix ms and watts.
type Sample struct {
	T int64
	W float64
}

// Fit is the shape of one charging session as measured: the rising
// constant-current plateau, the constant-voltage taper and the float after
// it. The model is calibrated by fitting real traces with it, and tested by
// fitting the model's own curves with it.
//
// The taper is fitted two ways. The logistic fit
//
//	P(t) = floor + 2A/(1+exp((t-tc)/τ))
//
// is the model's own form: a knee, then an exponential tail with time
// constant τ (RMSE 1-3 W on the real traces). The single exponential
// floor + (P0-floor)·exp(-t/τe) from the first taper sample, with the floor
// in 2-6 W, is the textbook description (RMSE 2-7 W), reported as TauExpMin.
type Fit struct {
	PlateauW   float64 // mean power over the plateau; NaN when the trace starts in the taper
	SlopeWPerH float64 // slope of the plateau, W per hour; NaN when the plateau is shorter than 30 min
	PlateauH   float64 // hours of plateau in the trace
	TaperW     float64 // power where the taper starts (the peak)
	TauMin     float64 // logistic taper time constant τ, minutes
	Knee       float64 // (P0-floor)/2A of the logistic fit at the first taper sample: 0.5 is a sharp corner, 1 a flat start
	FloorW     float64 // asymptote of the logistic fit
	RMSE       float64 // of the logistic fit, W
	TauExpMin  float64 // single-exponential time constant, minutes
	RMSEExp    float64 // of the single-exponential fit, W
	CutoffW    float64 // last taper power before the charger dropped to float; 0 when it tapered smoothly
	FloatW     float64 // median power after the cut-off; NaN when there is none
}

// ErrNoTaper is returned for traces without a taper to fit.
var ErrNoTaper = errors.New("trace has no taper: fewer than 4 samples after the plateau")

// FitSession fits a charging session sampled in time order. Samples at or
// below 1 W (charger unplugged or idle) before the first charging sample are
// ignored.
func FitSession(s []Sample) (Fit, error) {
	f := Fit{PlateauW: math.NaN(), SlopeWPerH: math.NaN(), FloatW: math.NaN()}
	for len(s) > 0 && s[0].W <= 1 {
		s = s[1:]
	}
	if len(s) < 5 {
		return f, ErrNoTaper
	}
	// The cut-off: the first sudden drop to a low power (a lithium charger
	// switching to float); the float is what follows.
	end := len(s)
	for i := 1; i < len(s); i++ {
		if s[i].W < 0.5*s[i-1].W && s[i].W < 20 && s[i-1].W > 5 {
			end = i
			f.CutoffW = s[i-1].W
			fl := make([]float64, 0, len(s)-i)
			for _, x := range s[i:] {
				fl = append(fl, x.W)
			}
			slices.Sort(fl)
			f.FloatW = fl[len(fl)/2]
			break
		}
	}
	s = s[:end]
	// The plateau ends at the last sample within 3% of the peak.
	peak := 0.0
	for _, x := range s {
		peak = max(peak, x.W)
	}
	pe := 0
	for i, x := range s {
		if x.W >= 0.97*peak {
			pe = i
		}
	}
	const hour = 3_600_000.0
	f.TaperW = s[pe].W
	f.PlateauH = float64(s[pe].T-s[0].T) / hour
	if pe >= 1 {
		var sum float64
		for _, x := range s[:pe+1] {
			sum += x.W
		}
		f.PlateauW = sum / float64(pe+1)
	}
	if pe >= 2 && f.PlateauH >= 0.5 {
		f.SlopeWPerH = slope(s[:pe+1])
	}
	taper := s[pe:]
	if len(taper) < 4 {
		return f, ErrNoTaper
	}
	f.TauMin, f.Knee, f.FloorW, f.RMSE = fitLogistic(taper)
	f.TauExpMin, f.RMSEExp = fitExp(taper)
	return f, nil
}

// slope is the least-squares slope of power over time, W per hour.
func slope(s []Sample) float64 {
	const hour = 3_600_000.0
	var mx, my float64
	for _, x := range s {
		mx += float64(x.T-s[0].T) / hour
		my += x.W
	}
	n := float64(len(s))
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for _, x := range s {
		dx := float64(x.T-s[0].T)/hour - mx
		sxy += dx * (x.W - my)
		sxx += dx * dx
	}
	return sxy / sxx
}

// fitExp fits w = floor + (w0-floor)·exp(-(t-t0)/tau) with the floor in
// 2-6 W and w0 the first sample, by a grid over tau and floor.
func fitExp(s []Sample) (tauMin, rmse float64) {
	best := math.Inf(1)
	for tau := 5.0; tau <= 240; tau += 0.5 {
		for fl := 2.0; fl <= 6; fl++ {
			a := s[0].W - fl
			var sse float64
			for _, x := range s {
				d := x.W - fl - a*math.Exp(-float64(x.T-s[0].T)/60000/tau)
				sse += d * d
			}
			if sse < best {
				best, tauMin = sse, tau
			}
		}
	}
	return tauMin, math.Sqrt(best / float64(len(s)))
}

// fitLogistic fits w = floor + 2A/(1+exp((m-shift)/tau)), m in minutes
// since the first sample, by a grid over tau, floor and shift with A solved
// by least squares.
func fitLogistic(s []Sample) (tauMin, knee, floor, rmse float64) {
	lo := math.Inf(1)
	for _, x := range s {
		lo = min(lo, x.W)
	}
	m := make([]float64, len(s))
	for i, x := range s {
		m[i] = float64(x.T-s[0].T) / 60000
	}
	best := math.Inf(1)
	var bestA, bestShift float64
	e := make([]float64, len(s))
	for tau := 5.0; tau <= 150; tau++ {
		for sh := -40.0; sh <= 40; sh += 2 {
			for i := range m {
				e[i] = 2 / (1 + math.Exp((m[i]-sh)/tau))
			}
			for fl := 0.0; fl <= min(lo, 15); fl++ {
				var sxy, sxx float64
				for i, x := range s {
					sxy += e[i] * (x.W - fl)
					sxx += e[i] * e[i]
				}
				a := sxy / sxx
				var sse float64
				for i, x := range s {
					d := x.W - fl - a*e[i]
					sse += d * d
				}
				if sse < best {
					best, tauMin, floor, bestA, bestShift = sse, tau, fl, a, sh
				}
			}
		}
	}
	knee = 1 / (1 + math.Exp(-bestShift/tauMin))
	_ = bestA
	return tauMin, knee, floor, math.Sqrt(best / float64(len(s)))
}
