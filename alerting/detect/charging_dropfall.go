package detect

// dropFlat reports whether the drop-time score's confirmation of open
// candidate c is vetoed because its level did not decline
// (PhysicsParams.ScoreDropFall, ScoreDropFallLong over 90 s): its rise's
// t is over -ScoreDropFall. A charger's taper declines before it falls
// under its hold level.
func (s *physCore) dropFlat(c *cand) bool {
	pp := s.p
	lim := pp.ScoreDropFall
	if s.iv > 90 {
		lim = pp.ScoreDropFallLong
	}
	if lim <= 0 {
		return false
	}
	_, t := s.rise(c)
	return t > -lim
}
