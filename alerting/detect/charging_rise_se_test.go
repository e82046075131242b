package detect

import "testing"

// TestPhysicsRiseVague: the rise path waits for a rise known to within
// RiseSEMax (VarRiseSEMax in the var detector) a standard error an hour.
func TestPhysicsRiseVague(t *testing.T) {
	cases := []struct {
		name    string
		se, vse float64
		nv      bool
		r, tt   float64
		want    bool
	}{
		{"a lamp's chance rise: 7.2 %/h at t 4.2 (se 1.7 %/h)", 0.015, 0.012, false, 0.072, 4.2, true},
		{"a charger's: 3 %/h at t 4 (se 0.75 %/h)", 0.015, 0.012, false, 0.03, 4, false},
		{"at the limit: kept", 0.015, 0.012, false, 0.06, 4, false},
		{"the var detector's own limit", 0.015, 0.012, true, 0.051, 3.8, true},
		{"the var detector: 3 %/h at t 3.8", 0.015, 0.012, true, 0.03, 3.8, false},
		{"off", 0, 0, false, 0.072, 4.2, false},
		{"off in var only", 0.015, 0, true, 0.072, 4.2, false},
		{"no regression yet", 0.015, 0.012, false, 0, 0, false},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.RiseSEMax, p.VarRiseSEMax = c.se, c.vse
		s := physCore{p: &p, iv: 60, nv: c.nv}
		if got := s.riseVague(c.r, c.tt); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
