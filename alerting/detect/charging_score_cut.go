package detect

import "math"

// The trees' window score cut short (round 12): scored, at each window of
// an open step, needs the trees' log-odds only to compare it with the
// window's limit (ScoreTreeMin, ScoreTreeMinLong, ScoreEarlyMin) and to
// add it to the sequence (ScoreSeq), except when it confirms (the
// probability an alert carries). Most windows are of steps that are not
// chargers, whose log-odds lies far under both: ScoreForest.LogitCut stops
// summing the trees once those left cannot bring the sum up to the lower
// of the two, and scored then decides as it would have with the whole sum.

// scoreCut returns the confirmation score's log-odds of features f of
// candidate i (scoreLogit's), except that with the trees, where it is
// shown to lie under every limit that matters at this window, a bound
// under them: the window's limit and the sequence's zero (a CUSUM's sum
// falls to 0, a run ends). on, early and dump are scored's: the window is
// past ScoreHold or adding to the running sum before it (ScoreSeqFrom),
// past ScoreEarlyHold, traced; held: the held-long rule judges it too
// (heldLongOn), so HeldLongZ is a limit as well. ScoreTreeAll 1: the sum.
func (s *physCore) scoreCut(f *[ScoreFeatures]float64, i int, on, early, dump, held bool) float64 {
	pp := s.p
	iv := float64(s.iv)
	if dump || pp.ScoreTreeAll == 1 || !pp.scoreTrees(false, iv) {
		return pp.scoreLogit(f, iv)
	}
	lo := s.windowLimit(early)
	if early && s.earlyPFOn() {
		lo = min(lo, s.p.scoreZEarlyPF)
	}
	if held {
		lo = min(lo, pp.HeldLongZ)
	}
	if on && pp.ScoreSeq > 0 {
		mode, zRef, h := pp.ScoreSeq, pp.seqZ, pp.seqH
		if s.iv > 90 {
			mode, zRef, h = pp.seqModeLong, pp.seqZLong, pp.seqHLong
		}
		if !math.IsInf(h, 1) {
			if mode == seqCusum {
				// under zRef − (v+1)/seqUnit, the sum v rounds to 0 or less
				zRef -= float64(s.seqGet(i)+1) / seqUnit
			}
			lo = min(lo, zRef) // a run or a gate: under zRef, the run ends
		}
	}
	return scoreTreesOf(false, iv).LogitCut(f, lo, math.Inf(1))
}

// scoreNowCut is scoreNow cut short as LogitCut is: the log-odds where it
// lies in [lo, hi), else a bound on the same side of lo and of hi. With
// the logistic regression or ScoreTreeAll 1, the log-odds.
func (s *physCore) scoreNowCut(c *cand, ts int64, p float32, lo, hi float64) float64 {
	pp := s.p
	iv := float64(s.iv)
	if pp.ScoreTreeAll == 1 || !pp.scoreTrees(false, iv) {
		return s.scoreNow(c, ts, p)
	}
	var f [ScoreFeatures]float64
	s.scoreFeatures(c, ts-c.t0, s.noise(c), p, &f)
	return scoreTreesOf(false, iv).LogitCut(&f, lo, hi)
}

// scoreAtLeast reports whether open candidate c's confirmation score, as
// scoreNow computes it, is z or more (false for NaN): for the veto, the
// down-edge's and StayKeep's checks, which need only that side of z.
func (s *physCore) scoreAtLeast(c *cand, ts int64, p float32, z float64) bool {
	return s.scoreNowCut(c, ts, p, z, z) >= z
}
