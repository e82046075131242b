package detect

// A compressor's step sags; a charger's plateau does not (round 42a;
// PhysicsParams.SagDrop, at 1 min). A compressor starts high and its draw
// keeps falling while it runs (the start-up excess decays in minutes,
// then the evaporator cools: a few percent in a quarter of an hour),
// while a charger's constant-current plateau is flat or rises with the
// pack's voltage from a few minutes after plug-in. The fast known-charger
// path confirms a step of a size the unit's memory counts as a charger
// from ten minutes on; sagged measures how far the step's level fell
// since it settled: its level at Settle (cand.lvl: one reading, the
// first after Settle) against the mean of the readings from RiseSkip
// after the step's edge on (the current stretch's mean, less the power
// before the step: the power before cancels, the drop is that reading
// less the mean, over the level), only when no edge came since the step
// (the stretch is the step's own) and the stretch has at least two
// readings (at 1 min, at ten minutes: those at nine and ten). A step that
// fell SagDrop or more of its level is not confirmed by that path, nor
// (since round 42b) by MemProof's reading of a slot's proof count on it (later
// paths may still confirm it, the next being the cycler's in judge's
// switch). No new state: the stretch's sums are the rise regression's.
// Only at SagMinIv-SagMaxIv s. Each core measures its own quantity: the
// non-active core's known path is vetoed by its var's sag, and a step
// whose watts sag but whose var does not is still confirmed by it
// (TestSagObserve).
//
// Measured (round 42a; found by round 41b's helper on the wide pool): on
// the fast known-charger path at 1 min, wide pool 6,590/211 -> 6,590/207,
// alerts outside sessions on charging days 187 -> 185, no set against,
// sessions within 20 / 30 / 60 minutes -4 / -3 / -1; cities 1121-1152
// (never used before) 5,251/182 -> 5,250/179, charging days 138 -> 134.
// Round 41b's use of it on MemProof's reading (a slot's proof count) did
// not stop the fridges that sank MemProof on cities 577-608
// (docs/detection-history.md, Tuning, rounds 41 and 42).

// sagOn reports whether SagDrop applies at this interval.
func (s *physCore) sagOn() bool {
	pp := s.p
	if pp == nil || pp.SagDrop <= 0 {
		return false
	}
	return s.ivIn(pp.SagMinIv, pp.SagMaxIv)
}

// sag returns how far step c's level fell since it settled, relative to
// it (negative: it rose), and whether it can be told: only when no edge
// came since the step and the stretch has two readings.
func (s *physCore) sag(c *cand) (float64, bool) {
	if c.lvl <= 0 || c.t0 != s.seg0 || s.sn < 2 {
		return 0, false
	}
	now := s.sp/s.sn - float64(c.pre)
	return (float64(c.lvl) - now) / float64(c.lvl), true
}

// sagged reports whether SagDrop vetoes the fast known-charger path for
// step c.
func (s *physCore) sagged(c *cand) bool {
	if !s.sagOn() {
		return false
	}
	d, ok := s.sag(c)
	return ok && d >= s.p.SagDrop
}
