package detect

import "math"

// A confirmation at 5-min readings by a forest fitted on young steps only
// (round 24; PhysicsParams.ScoreYoungMinLong and ScoreYoungHoldLong). Over
// 90 s the score path judges a step from ScoreHold (20 minutes) on, every
// 5 minutes, by the forest of every age (scoreTreesWLong, fitted on the
// rows of steps held 5 to 240 minutes). scoreTreesWYoungLong
// (charging_score_trees_wyounglong.go) is fitted on the 5-min rows of
// steps held 20 to under 65 minutes alone, the score's looks up to an hour
// (cw-sim fit-score --target ScoreWYoungLong --interval 300 --min-held 20
// --max-held 65): with both parameters over 0, a step held ScoreHold or
// more but under ScoreYoungHoldLong whose probability under it reaches
// ScoreYoungMinLong is confirmed as one whose window reaches
// ScoreTreeMinLong is, through the same sequence, resistance check and
// veto. Over 90 s only; on by default at 65 min and 0.9 (round 24;
// charging_physics.go).

// youngLongOn reports whether the young steps' 5-min forest confirms at
// this reading interval.
func (s *physCore) youngLongOn() bool {
	pp := s.p
	// ScoreMinLong 1, or with the trees ScoreTreeMinLong 1 (a window limit
	// of +Inf): no single window confirms (a sequence alone, ScoreSeq),
	// nor then one of this forest
	return s.iv > 90 && pp.ScoreYoungHoldLong > 0 && !math.IsInf(pp.scoreZYoungLong, 1) && !math.IsInf(pp.scoreZMinLong, 1)
}

// youngLong reports whether a step of features f held held ms, past
// ScoreHold, reaches ScoreYoungMinLong on the young steps' 5-min forest
// while under ScoreYoungHoldLong, and that forest's log-odds then (a bound
// under the limit otherwise).
func (s *physCore) youngLong(f *[ScoreFeatures]float64, held int64) (bool, float64) {
	if !s.youngLongOn() || held >= ms(s.p.ScoreYoungHoldLong) {
		return false, math.Inf(-1)
	}
	return s.forestReaches(&scoreTreesWYoungLong, f, s.p.scoreZYoungLong)
}
