package detect

import "math"

// A known charger's drop at 1 min (round 36c; PhysicsParams.DropMem). At
// 1-min readings the largest group of missed sessions after "no room" is a
// charger's step held through its plateau and lost in its taper or float:
// the power under it no longer stays over its hold level ("fell", "not
// persistent") and the drop-time score (ScoreDropMin) rates it under its
// limit or the step is younger than ScoreDropHold (a later step that
// carried the charge). A lower drop-time limit for every step confirms
// lamps and small loads as well (wide pool at 1 min: ScoreDropMin 0.1
// +210 sessions for +82 false alarms); here it is lowered only for a step
// whose size the unit's memory has learnt as a charger.

// dropMemOn reports whether the known-charger drop rule judges the drop of
// an open step of features f held held ms: DropMem over 0, a reading
// interval from DropMemMinIv s up to DropMemMaxIv s (0: no upper bound),
// held DropMemHold or more, and the unit's memory holding the step's size
// as a charger DropMemCount times or more (f[12], the log of one more than
// the count) and, with DropMemWin 1, more often than as other loads (f[13]),
// and with DropMemFall over 0 a rise's t of -DropMemFall or less (a taper's
// decline, not a load gone off at once). f[7] is clipped at -3 (a t of
// -12): a DropMemFall over 12 shuts the rule. The interval is s.iv, the
// readings' running mean: at 10 s a gap of 6 to 20 minutes (MaxGap) brings
// it into 45-90 s for a few readings, and the rule with it.
func (s *physCore) dropMemOn(f *[ScoreFeatures]float64, held int64) bool {
	pp := s.p
	if !s.dropMemMay(held) {
		return false
	}
	if f[12] < math.Log(1+max(pp.DropMemCount, 1))-1e-9 {
		return false
	}
	if pp.DropMemFall > 0 && f[7] > -pp.DropMemFall/4 { // f[7]: the rise's t ÷ 4
		return false
	}
	return pp.DropMemWin != 1 || f[12] > f[13]
}

// dropMemMay reports whether the rule may judge a drop of a step held held
// ms, before its features are computed: DropMem over 0, held DropMemHold
// or more, the interval from DropMemMinIv s up to DropMemMaxIv s (0: no
// upper bound). scoredDrop asks it first, so that a drop the rule cannot
// judge (every drop at 5 min and 10 s) computes no features for it.
func (s *physCore) dropMemMay(held int64) bool {
	pp := s.p
	if pp.DropMem <= 0 || held < ms(pp.DropMemHold) {
		return false
	}
	return s.ivIn(pp.DropMemMinIv, pp.DropMemMaxIv)
}

// dropMemZ is the log-odds DropMem gives (+Inf when off or not in (0, 1)).
func (p *PhysicsParams) dropMemZ() float64 {
	if p.DropMem <= 0 || p.DropMem >= 1 {
		return math.Inf(1)
	}
	return math.Log(p.DropMem / (1 - p.DropMem))
}

// dropMemCalm reports whether a step the known-charger drop rule would
// judge is calm enough for it (round 37a): with DropMemNoise over 0 its
// noise since the start (f[2], the log of the noise over 0.8% of the
// step, as scoreFeatures makes it, clipped at 5: a DropMemNoise over
// 1.19 bounds nothing) is DropMemNoise or less. A charger's
// plateau and taper are smooth; the wide pool's false alarms the rule
// added without it were a busy home's steps (noise 15% and 38%). The
// noise is s.noise's: the home's reading-to-reading noise over the step's
// quiet readings (the drop's own reading included when it is no edge),
// over the step's level, not the step's own.
func (s *physCore) dropMemCalm(f *[ScoreFeatures]float64) bool {
	pp := s.p
	return pp.DropMemNoise <= 0 || f[2] <= math.Log(pp.DropMemNoise/0.008)+1e-9
}
