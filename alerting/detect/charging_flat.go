package detect

// flat reports whether candidate c has held flat (its rise's t statistic
// under PhysicsParams.FlatT) at readings over FlatIv s apart, so that
// path, if FlatPaths holds it, does not confirm it.
func (s *physCore) flat(c *cand, path uint8) bool {
	pp := s.p
	if pp.FlatT <= 0 || float64(s.iv) <= pp.FlatIv || int(pp.FlatPaths)&(1<<path) == 0 {
		return false
	}
	if pp.FlatNoise > 0 && s.noise(c) > pp.FlatNoise {
		return false
	}
	_, t := s.rise(c)
	return t < pp.FlatT
}
