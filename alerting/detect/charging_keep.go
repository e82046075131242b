package detect

import "math"

// stays reports whether an open step that a down-edge of d matches in size
// outlives it because its power is still there (StayKeep): at a reading
// interval over StayIv s, the power after the edge, p, stands
// StayKeep of the step's size or more over the step's reference, and the
// step, settled, scores StayScore or more as it stood before the edge. The
// load that went off came on after the step and was not followed (no slot,
// or its edge hidden in another's); had the step gone, the power would be
// back near its reference. Computed only at such edges.
func (s *physCore) stays(ts int64, c *cand, p, d float32) bool {
	pp := s.p
	if pp.StayKeep <= 0 || c.state() != cOpen || c.lvl <= 0 || float64(s.iv) <= pp.StayIv || p-c.ref < float32(pp.StayKeep)*c.lvl {
		return false
	}
	return pp.StayScore <= 0 || s.scoreAtLeast(c, ts, p-d, math.Log(pp.StayScore/(1-pp.StayScore)))
}
