package detect

import "testing"

// TestMemConfirmed: what a confirmed charge that ended teaches the unit's
// memory, by MemConfirmed's bits, verdict's k, how it ended, how long it
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
		{"off: verdict's not a charger", 0, -1, "unplugged", 90, true, 0, -1},
		{"1: none is a charger", 1, 0, "unplugged", 90, true, 0, 1},
		{"1: not a charger stays", 1, -1, "fell", 90, true, 0, -1},
		{"2: fell is a charger", 2, -1, "fell", 90, true, 0, 1},
		{"2: unplugged stays", 2, -1, "unplugged", 90, true, 0, -1},
		{"2: none stays", 2, 0, "fell", 90, true, 0, 0},
		{"4: unplugged is a charger", 4, -1, "unplugged", 90, true, 0, 1},
		{"4: fell stays", 4, -1, "fell", 90, true, 0, -1},
		{"6: float stays (verdict's own)", 6, 1, "float", 90, true, 0, 1},
		{"8: under an hour", 2 + 8, -1, "fell", 30, true, 0, 1},
		{"8: not an hour", 2 + 8, -1, "fell", 60, true, 0, -1},
		{"16: an hour", 2 + 16, -1, "fell", 60, true, 0, 1},
		{"16: not under it", 2 + 16, -1, "fell", 59, true, 0, -1},
		{"32: alone", 2 + 32, -1, "fell", 90, true, 0, 1},
		{"32: not with another charge", 2 + 32, -1, "fell", 90, false, 0, -1},
		{"64: rising", 2 + 64, -1, "fell", 90, true, 0.5, 1},
		{"64: not flat", 2 + 64, -1, "fell", 90, true, 0, -1},
		{"128: declined", 2 + 128, -1, "fell", 90, true, -2, 1},
		{"128: not flat", 2 + 128, -1, "fell", 90, true, -1.9, -1},
		{"default (179): a long charge alone that declined and fell", 179, -1, "fell", 200, true, -30, 1},
		{"default (179): not one that ran under an hour", 179, -1, "fell", 50, true, -30, -1},
		{"default (179): not a flat one (a lamp)", 179, -1, "fell", 200, true, 0.5, -1},
		{"default (179): not unplugged", 179, -1, "unplugged", 200, true, -30, -1},
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
