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

// heldLongOn reports whether the held-long rule judges the window of an
// open step of features f held held ms, past ScoreHold: HeldLongHold over
// 0, a reading interval of HeldLongMinIv s or more, held HeldLongHold or
// more, a quiet share (the score's quiet_share) of HeldLongQuiet or more,
// and a window limit a single window can reach (not with ScoreMinLong or
// ScoreTreeMinLong 1, where a sequence alone confirms: then no window of
// this rule either, as with the young steps' 5-min forest). The window's
// log-odds is then computed down to HeldLongZ (scoreCut), so that the
// rule is judged on the window's own log-odds: z >= HeldLongZ confirms
// (NaN never does), with no second pass over the forest.
func (s *physCore) heldLongOn(f *[ScoreFeatures]float64, held int64) bool {
	pp := s.p
	return pp.HeldLongHold > 0 && float64(s.iv) >= pp.HeldLongMinIv && held >= ms(pp.HeldLongHold) &&
		f[23] >= pp.HeldLongQuiet && // NaN quiet share: off
		!math.IsInf(s.windowLimit(false), 1)
}
