package detect

// endFullVerdict is what the memory learns (1 charger, 0 nothing, -1 not a
// charger) of a confirmed charge verdict cannot call either way, that
// ended for why after run minutes (PhysicsParams.EndFullLearn,
// EndFullRun): a charger (round 13c), unless it went at once from its full
// level ("unplugged" or "fell") after EndFullRun or more at reading
// intervals of 30 to 90 s, as a lamp switched off at bedtime does.
func (s *physCore) endFullVerdict(why string, run float32) int {
	pp := s.p
	if pp.EndFullLearn <= 0 || s.iv < 30 || s.iv > 90 || why != "unplugged" && why != "fell" ||
		float64(run) < pp.EndFullRun.Minutes() {
		return 1
	}
	if pp.EndFullLearn >= 2 {
		return -1
	}
	return 0
}
