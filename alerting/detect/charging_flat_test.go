package detect

import "testing"

// TestPhysicsFlat: flat stops a step whose rise's t statistic is under
// FlatT, only over FlatIv s, for the paths FlatPaths holds, and with
// FlatNoise over 0 only when the step is at most that noisy.
func TestPhysicsFlat(t *testing.T) {
	for _, c := range []struct {
		name  string
		flatT float64
		paths float64
		noise float64 // FlatNoise
		iv    float32
		riseT float64 // the step's rise t statistic
		relNz float64 // the step's relative noise
		path  uint8
		want  bool
	}{
		{"off", 0, 2, 0, 300, 0, 0.004, pathFast, false},
		{"flat, 5 min", 0.25, 2, 0, 300, 0, 0.004, pathFast, true},
		{"sagging, 5 min", 0.25, 2, 0, 300, -3, 0.004, pathFast, true},
		{"rising, 5 min", 0.25, 2, 0, 300, 1, 0.004, pathFast, false},
		{"flat, 1 min: under FlatIv", 0.25, 2, 0, 60, 0, 0.004, pathFast, false},
		{"flat, a path not in FlatPaths", 0.25, 2, 0, 300, 0, 0.004, pathCycler, false},
		{"flat, the cycler in FlatPaths", 0.25, 8, 0, 300, 0, 0.004, pathCycler, true},
		{"flat, quiet under FlatNoise", 0.25, 2, 0.01, 300, 0, 0.004, pathFast, true},
		{"flat, noisier than FlatNoise", 0.25, 2, 0.01, 300, 0, 0.02, pathFast, false},
	} {
		p := DefaultPhysicsParams()
		p.FlatT, p.FlatPaths, p.FlatNoise = c.flatT, c.paths, c.noise
		s := &physCore{p: &p, iv: c.iv}
		// at 5-min readings t = sxy / sqrt(sxx); at 1 min the same
		// (one reading a minute); the step started after the segment
		const lvl = 100
		d := c.relNz * lvl
		cd := cand{lvl: lvl, sf: cOpen, t0: 1, n: 10, sxx: 1, sxy: float32(c.riseT), sd2: float32(2 * d * d * 10)}
		s.seg0 = 0
		if got := s.flat(&cd, c.path); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
