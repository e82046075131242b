package detect

// A float end that came in one reading from the full level (round 26a;
// PhysicsParams.FloatJump). A confirmed charge whose power stays under its
// end level for EndAfter ends "float", and a float end always taught the
// memory "charger" (verdict: it tapered). A lamp switched off in a busy
// reading, its down-edge not seen (or not taken), ends so too, and taught
// its unit's memory a charger of its size evening after evening (round
// 25f). A charger reaches its float after a taper, a fall of a few watts
// a reading; a lamp's power goes from its full level to under the end
// level in one reading. The charge's record keeps which (the x flag
// xJump, set on the first reading under the end level, cleared when the
// power comes back over it).

// jumpMark sets or clears c's xJump on the first reading under its end
// level, p, after a reading of prev: set when FloatJump is on and prev was
// FloatJump times c's level or more over its reference (NaN: not).
func (s *physCore) jumpMark(c *cand, prev float32) {
	if s.p.FloatJump > 0 && s.floatIv() && c.lvl > 0 && prev-c.ref >= float32(s.p.FloatJump)*c.lvl {
		c.sf |= xJump
	} else {
		c.sf &^= xJump
	}
}

// taperMark sets c's xTaper on a reading of p, at or over its end level
// below, and under FloatTaper times its level (FloatTaper on).
func (s *physCore) taperMark(c *cand, p float32, below float64) {
	if l := p - c.ref; s.p.FloatTaper > 0 && s.floatIv() && float64(l) >= below && float64(l) < s.p.FloatTaper*float64(c.lvl) {
		c.sf |= xTaper
	}
}

// untapered reports whether c's float end is not a taper's: it came in
// one reading from its full level (FloatJump, xJump), or no reading was
// seen between its end level and FloatTaper of its level (xTaper clear).
func (s *physCore) untapered(c *cand) bool {
	return s.floatIv() && (s.p.FloatJump > 0 && c.chargeX(xJump) || s.p.FloatTaper > 0 && !c.chargeX(xTaper))
}

// floatIv reports whether FloatJump and FloatTaper apply at the core's
// reading interval: 30 to 90 s, as EndFullLearn (at 5 min a taper of 30-60
// minutes is a few readings: FloatTaper 0.7 lost 6 sessions for no false
// alarm on the wide pool).
func (s *physCore) floatIv() bool { return s.iv >= 30 && s.iv <= 90 }

// endVerdict is what the memory learns of a confirmed charge c that ended
// for why after run minutes; tapered: it ended in its float. A float end
// that came in one reading from the full level (xJump) is not a taper: a
// charger if its rise says so, otherwise nothing, never "not a charger"
// (a charger unplugged unseen on its plateau ends so too, and one lesson
// of "not a charger" closes the memory's known-charger paths to its size
// for good: round 25's review).
func (s *physCore) endVerdict(c *cand, tapered bool, why string, run float32) int {
	if tapered && s.untapered(c) {
		return max(0, s.verdict(c, false, run))
	}
	return s.confirmedVerdict(c, s.verdict(c, tapered, run), why, run, s.chg == 1)
}
