package detect

// An evening lamp of PF 0.5-0.65 draws a charger's var per watt and, at
// the meter, is as quiet as a charger; on for hours and switched off at its
// full level, it teaches the non-active core's memory "charger" (its ends
// are unplugs) while the active core's memory learns it as a long load
// that did not rise. The non-active core's score then confirms it evening
// after evening (PhysicsParams.LampMem).

// lampMem reports whether the non-active core's score paths may not
// confirm c (PhysicsParams.LampMem), at intervals from LampMemMinIv s up
// to LampMemMaxIv s: the active core's memory knows the step's size in the
// active power (c.ws) as a load never seen as a charger, not a cycler, that
// ran LampMemRun minutes or more and, with LampMemRunMax over 0, never
// LampMemRunMax minutes or more (switched off after hours, not held until
// forgotten as too long). Chargers get such entries too: the active
// memory learns "not a charger" for a charger's step whose active power
// did not rise when it is dropped as not persistent in its taper, or when
// a charge it confirmed (by the taper, say) ends by falling; on the wide
// pool at 1 min the rule takes about ten sessions' var-score alerts
// (detected later, one by 3 h 10 min) for its six false alarms.
// LampMem's bits: 1 that alone; 2 also the non-active core's own memory
// knows the step's var as a load that ended, not only cycled, as no
// charger; 4 also the active core's memory knows no load as a charger.
func (s *physCore) lampMem(c *cand) bool {
	pp := s.p
	if pp.LampMem <= 0 || !s.nv || s.peer == nil {
		return false
	}
	if !s.ivIn(pp.LampMemMinIv, pp.LampMemMaxIv) {
		return false
	}
	if !longOther(s.peer, c.ws, float32(pp.LampMemRun), float32(pp.LampMemRunMax)) {
		return false
	}
	v := int(pp.LampMem)
	if v&2 != 0 {
		k := s.known(c.lvl)
		if k < 0 || s.mem[k].other <= s.mem[k].cycles {
			return false
		}
	}
	if v&4 != 0 && knowsCharger(s.peer) {
		return false
	}
	return true
}

// longOther reports whether q's memory knows a load the size of w that
// was never a charger, is not a cycler, and once ran run minutes or more
// (and never runMax minutes or more when runMax is over 0).
func longOther(q *physCore, w float32, run, runMax float32) bool {
	k := q.known(w)
	if k < 0 {
		return false
	}
	m := &q.mem[k]
	return m.charger == 0 && m.other > 0 && int(m.cycles)*2 <= int(m.other) && m.maxRun >= run && (runMax <= 0 || m.maxRun < runMax)
}

// knowsCharger reports whether q's memory knows any load as a charger
// (seen as one at least once, and as often as anything else).
func knowsCharger(q *physCore) bool {
	for i := range q.mem {
		if m := &q.mem[i]; m.w > 0 && m.charger > 0 && m.charger >= m.other {
			return true
		}
	}
	return false
}
