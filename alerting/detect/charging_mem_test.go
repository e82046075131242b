package detect

import "testing"

// TestMemConfirmed: what a confirmed charge that ended teaches the unit's
// memory, with MemConfirmed off and on, by verdict's k, how it ended, how long it
// ran, whether another charge was on and the t of its rise.
func TestMemConfirmed(t *testing.T) {
	cases := []struct {
		name  string
		mem   float64
		k     int
		why   string
		run   float32
		alone bool
		t     float32 // the rise's t (sxy over a sxx of 1 at 1-min readings)
		want  int
	}{
		{"off: verdict's charger", 0, 1, "unplugged", 90, true, 0, 1},
		{"off: verdict's none", 0, 0, "fell", 90, true, 0, 0},
		{"off: verdict's not a charger", 0, -1, "fell", 200, true, -30, -1},
		{"on: verdict's charger stays", 1, 1, "float", 90, true, 0, 1},
		{"on: none is a charger", 1, 0, "unplugged", 90, true, 0, 1},
		{"on: a long charge alone that declined and fell", 1, -1, "fell", 200, true, -30, 1},
		{"on: an hour is enough", 1, -1, "fell", 60, true, -2, 1},
		{"on: not one that ran under an hour", 1, -1, "fell", 59, true, -30, -1},
		{"on: not with another charge on", 1, -1, "fell", 200, false, -30, -1},
		{"on: not a flat one (a lamp)", 1, -1, "fell", 200, true, -1.9, -1},
		{"on: not a rising one", 1, -1, "fell", 200, true, 0.5, -1},
		{"on: not unplugged", 1, -1, "unplugged", 200, true, -30, -1},
		{"on: not at the float", 1, -1, "float", 200, true, -30, -1},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.MemConfirmed = c.mem
		s := physCore{p: &p, iv: 60}
		cd := cand{t0: 1, lvl: 100, sxx: 1, sxy: c.t}
		if got := s.confirmedVerdict(&cd, c.k, c.why, c.run, c.alone); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
