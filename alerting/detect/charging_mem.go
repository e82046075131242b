package detect

// The unit's memory taught by confirmed charges (round 13c;
// PhysicsParams.MemConfirmed). A charge confirmed in a busy home rarely
// ends with the rise of t 2 or the float that verdict needs to call it a
// charger, and one whose regression takes in its taper (a decline) or
// that was unplugged within the hour is called not a charger, so the
// unit's memory seldom learns its own charger's size, and the paths and
// score features that read the memory (fast known charger, known charger
// held, the early score's gate) stay closed for its next charges.

// confirmedVerdict is what the memory learns of a confirmed charge that
// ended (why: "fell", "unplugged" or "float") after run minutes, given
// verdict's k; alone: no other charge of the core was on. With
// MemConfirmed on, a charge verdict cannot call either way (k 0) is a
// charger (unless endFullVerdict says otherwise: one that went at once
// from its full level after EndFullRun at 30-90 s readings, round 25d),
// and so is one it calls not a charger that ran an hour or more
// alone, whose level declined (a rise's t of -2 or less: a lamp stays
// flat) and that a down-edge took from its plateau to under half its
// level with no matching size ("fell").
func (s *physCore) confirmedVerdict(c *cand, k int, why string, run float32, alone bool) int {
	switch {
	case s.p.MemConfirmed == 0 || k > 0:
		return k
	case k == 0:
		return s.endFullVerdict(why, run)
	case why != "fell" || run < 60 || !alone:
		return k
	}
	if _, t := s.rise(c); t > -2 {
		return k
	}
	return 1
}
