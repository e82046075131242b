package detect

// The fast path's dip veto at 5-min readings (round 26a; PhysicsParams.
// FastDip). Round 25e judged a dip by the persistence window's lowest
// power (the whole unit's, the last 45 minutes); here each open step keeps
// its own (the x flag xDip): a reading since it settled whose power over
// the step's power before it was under FastDip of its level.
//
// At 5-min readings the fast path's false alarms are mostly short loads (a
// fridge's run, a small appliance) whose down-edge went unseen in a
// reading where another load switched: the step is then held by a smaller
// load that came on as it went off, above the hold level (0.7) but not at
// its level. A charger at constant current draws its level on every
// reading; with nothing under the step no other load can take power away
// from under it, so a reading under its level is the step's own load
// drawing less.

// dipMark sets c's xDip on a reading of p under FastDip of its level over
// its power before it (FastDip on, at intervals over 90 s).
func (s *physCore) dipMark(c *cand, p float32) {
	if s.p.FastDip > 0 && s.iv > 90 && c.lvl > 0 && p-c.pre < float32(s.p.FastDip)*c.lvl {
		c.sf |= xDip
	}
}

// fastDipped reports whether the fast path refuses c for a dip: FastDip
// on, at intervals over 90 s, nothing under it (its power before it
// within dipFloorW of the unit's floor) and a dip seen (xDip).
func (s *physCore) fastDipped(c *cand) bool {
	if s.p.FastDip <= 0 || s.iv <= 90 || !c.openX(xDip) {
		return false
	}
	return c.pre-s.base < dipFloorW // something under it: its going off unseen is a dip too
}

// dipFloorW is how close (W) to the unit's floor a step's power before it
// must be for FastDip: the floor is the lowest power seen, the step's
// power before it a reading; both follow the same drops at once.
const dipFloorW = 1
