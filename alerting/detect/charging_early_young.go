package detect

import "math"

// An early confirmation by a forest fitted on young steps only (round 23;
// PhysicsParams.ScoreEarlyModel and ScoreEarlyMinYoung). The early window
// (ScoreEarlyHold to ScoreHold) judges a step at 10 and 15 minutes of its age
// by the confirmation score's forest (scoreTreesW), fitted on the rows of
// every age (5-240 minutes), where what tells a charge at 10 minutes weighs
// little beside what tells it at an hour. scoreTreesWEarly
// (charging_score_trees_wearly.go) is fitted on the rows of steps held 10 to
// under 20 minutes alone, the early window's looks (cw-sim fit-score --target
// ScoreWEarly --min-held 10 --max-held 20): with ScoreEarlyModel over 0, a
// young step whose probability under it reaches ScoreEarlyMinYoung is
// confirmed early too, as one that reaches ScoreEarlyMin (or ScoreEarlyMinPF
// with its evidence) on the other forest is: through the same early run,
// gate, resistance check and veto. Up to 90 s only (the forest is of 1-min
// rows); on by default at 0.93 (round 23; charging_physics.go).

// earlyYoungOn reports whether the young steps' forest confirms in the
// early window at this reading interval.
func (s *physCore) earlyYoungOn() bool {
	pp := s.p
	return s.iv <= 90 && pp.ScoreEarlyModel > 0 && !math.IsInf(pp.scoreZEarlyYoung, 1)
}

// earlyYoung reports whether a young step of features f, in its early
// window, reaches ScoreEarlyMinYoung on the young steps' forest, and that
// forest's log-odds then (a bound under the limit otherwise).
func (s *physCore) earlyYoung(f *[ScoreFeatures]float64) (bool, float64) {
	if !s.earlyYoungOn() {
		return false, math.Inf(-1)
	}
	return s.forestReaches(&scoreTreesWEarly, f, s.p.scoreZEarlyYoung)
}

// forestReaches reports whether forest t gives features f log-odds of
// zMin or more, and those log-odds, exact then; a bound under zMin
// otherwise (the sum cut short there, charging_score_cut.go; every tree
// with ScoreTreeAll 1). The young steps' forests' test, at 1 min
// (earlyYoung) and over 90 s (youngLong, charging_score_young5.go).
func (s *physCore) forestReaches(t *ScoreForest, f *[ScoreFeatures]float64, zMin float64) (bool, float64) {
	lo := zMin
	if s.p.ScoreTreeAll == 1 {
		lo = math.Inf(-1)
	}
	z := t.LogitCut(f, lo, math.Inf(1))
	return z >= zMin, z // NaN never confirms
}
