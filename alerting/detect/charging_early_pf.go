package detect

import "math"

// An early confirmation at a lower score for a step with a charger's
// power factor (round 22a; PhysicsParams.ScoreEarlyMinPF and
// ScoreEarlyPFGate). At 15 minutes the learned score separates a charge's
// young step from the others better than any other early signal, but
// ScoreEarlyMin (0.95) is reached by few charges. Where the step shows
// physical evidence a charger has (the var detector's step, or an active
// step whose var per watt is a non-PFC charger's), a lower score confirms
// it early.

// earlyPFOn reports whether the lower early threshold is in use at this
// reading interval (up to 90 s, under ScoreEarlyMin's).
func (s *physCore) earlyPFOn() bool {
	pp := s.p
	return s.iv <= 90 && pp.ScoreEarlyMinPF > 0 && !math.IsInf(pp.scoreZEarlyPF, 1) && pp.scoreZEarlyPF < pp.scoreZEarly
}

// earlyPF reports whether young candidate i, c, of features f and early
// score z (log-odds), is confirmed by ScoreEarlyMinPF: z reaches it and
// the evidence ScoreEarlyPFGate asks holds.
func (s *physCore) earlyPF(i int, c *cand, f *[ScoreFeatures]float64, z float64) bool {
	if !s.earlyPFOn() || !(z >= s.p.scoreZEarlyPF) {
		return false
	}
	g := int(s.p.ScoreEarlyPFGate)
	ok := g&3 == 0 || g&1 != 0 && s.nv || g&2 != 0 && s.nonPFC(c, s.nx) && (g&16 == 0 || s.nxp >= 0 && s.nonPFC(c, s.nxp))
	if ok && g&4 != 0 {
		// the memory: not a cycler's size, nor known as anything else
		ok = f[14] == 0 && !(f[13] > f[12])
	}
	if ok && g&8 != 0 {
		// the window before counted too: the running sum begun at
		// ScoreSeqFrom is over 0 (a window over ScoreSeqMin)
		ok = s.seqFromOn() && s.seqGet(i) > 0
	}
	return ok
}

// nonPFC reports whether a step of the active core drew, at a reading of
// non-active power nx, the non-active power per watt of a charger without
// power-factor correction (1.0-1.9, as the score's feature 11 reads it).
func (s *physCore) nonPFC(c *cand, nx float32) bool {
	if s.nv || !s.nxOK || c.fl&fNA == 0 || c.lvl <= 0 {
		return false
	}
	q := (nx - c.wb) / c.lvl
	return q >= 1.0 && q <= 1.9
}
