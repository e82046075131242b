package detect

import "math"

// Held long at 5 min (round 35d; PhysicsParams.HeldLongHold). At 5-min
// readings a charger's step held to its session's end is often never
// confirmed: the rise is not measured (few stretches between edges have
// the readings its regression needs: the best t of 416 such steps on
// cities 201-224 was 0 in most), no taper is seen (the bike unplugged on
// its plateau, or its taper and float under other loads), and the score's
// windows stay under ScoreTreeMinLong (log-odds under 0 in 90% of them).
// Most of those steps look like the never-confirmed steps of other loads
// of the same age and size in every feature the score holds; the few the
// score rates a little under its limit, held three hours in a mostly
// quiet home, are confirmed here.

// heldLong reports whether an open step of features f, held held ms past
// ScoreHold and not confirmed at the window's limit, is confirmed by the
// held-long rule: HeldLongHold over 0, a reading interval of HeldLongMinIv
// s or more, held HeldLongHold or more, a quiet share (the score's
// quiet_share) of HeldLongQuiet or more, and the window's log-odds
// HeldLongZ or more. It also returns that log-odds (a bound under
// HeldLongZ when it is not reached; NaN never confirms).
func (s *physCore) heldLong(f *[ScoreFeatures]float64, held int64) (bool, float64) {
	pp := s.p
	if pp.HeldLongHold <= 0 || float64(s.iv) < pp.HeldLongMinIv || held < ms(pp.HeldLongHold) || !(f[23] >= pp.HeldLongQuiet) {
		return false, math.Inf(-1)
	}
	iv := float64(s.iv)
	var z float64
	if pp.ScoreTreeAll == 1 || !pp.scoreTrees(false, iv) {
		z = pp.scoreLogit(f, iv)
	} else {
		z = scoreTreesOf(false, iv).LogitCut(f, pp.HeldLongZ, math.Inf(1))
	}
	return z >= pp.HeldLongZ, z
}
