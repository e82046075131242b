package detect

import "math"

// False-alarm vetoes of round 12 (PhysicsParams RiseTGrow, PeakVeto,
// MemVerdict): the false alarms of the tuning looks, listed with the
// appliances the simulator ran (cw-sim eval --explain-false), were at
// 1 min mostly lamps, and lamps switched on as a fridge cycle ended,
// confirmed by the rise path.

// peakVetoed reports whether path may not confirm step c because the step
// began with a compressor's start-up peak (PeakVeto): a charger has none.
// The peak is read only at intervals up to 90 s and on a step that
// settled without another edge (fClean), as the fast path reads it; a
// split step is not vetoed (its first reading held the other load too).
func (s *physCore) peakVetoed(c *cand, path uint8) bool {
	return int(s.p.PeakVeto)&(1<<path) != 0 && s.iv <= 90 && c.fl&fClean != 0 && c.fl&fSplit == 0 &&
		overshoot(c) > max(s.p.PeakVetoMin, s.p.MaxOvershoot)
}

// riseT is the rise's t threshold for a step held held ms: RiseT, raised
// by RiseTGrow (RiseTGrowLong over 90 s) with the time held past
// RiseTGrowFrom (SlowHold when 0), at reading intervals over
// RiseTGrowMinIv.
func (s *physCore) riseT(held int64) float64 {
	g := s.p.RiseTGrow
	switch {
	case s.iv > 90:
		g = s.p.RiseTGrowLong
	case float64(s.iv) <= s.p.RiseTGrowMinIv:
		g = 0
	}
	core := 1
	if s.nv {
		core = 2
	}
	if int(s.p.RiseTGrowCores)&core == 0 {
		g = 0
	}
	from := ms(s.p.SlowHold)
	if s.p.RiseTGrowFrom > 0 {
		from = ms(s.p.RiseTGrowFrom)
	}
	if g <= 0 || held <= from {
		return s.p.RiseT
	}
	return s.p.RiseT * math.Pow(float64(held)/float64(from), g)
}

// riseTeaches reports whether a rise of r per hour with t statistic t, on
// a step that ran run minutes, may teach the memory a charger (MemVerdict).
func (s *physCore) riseTeaches(r, t float64, run float32) bool {
	v := int(s.p.MemVerdict)
	maxRise := s.p.MaxRise
	if s.nv {
		maxRise = s.p.VarMaxRise
	}
	return (v&1 == 0 || r <= maxRise) && (v&2 == 0 || float64(run) >= s.p.SlowHold.Minutes()) &&
		(v&4 == 0 || t >= s.p.MemVerdictT)
}
