package detect

// A person's verdict teaches the unit's memory. A grid worker who went to
// an indoor-charging alert and found no charging closes it as a false
// alarm; the load that raised it (a lamp every evening, a fridge the memory
// had learnt as a charger) would raise it again the next evening, by the
// same path or by the known-charger paths the first alert taught. The
// verdict (NotCharging, with the alert's step in watts) marks the active
// core's memory slot of that size refuted (its MemProof byte set to
// refuted, a value no count reaches; the slot is made if the memory has
// none of that size). A step of a refuted size is then confirmed only by
// the rise and the tapers: physical evidence of a charge curve, which a
// lamp or a fridge does not show and a charger of the same size still
// does, later. The fast, known-charger, score, band and cycler paths
// refuse it on either core (the non-active core by its step's active
// size). The lessons' counts are left as they are, a refuted slot stays
// refuted (a later charge's proof does not count on it), and it is kept
// in the memory over slots worth up to refutedWorth more. No new state:
// the slot's proof byte, written by checkpoint version 11 (an older
// binary reads the mark as a large proof count: do not run one on
// checkpoints written after a verdict). With Feedback turned back to 0 a
// mark teaches nothing: the slot reads as one with no proof count
// (MemProof's proofKnown, KnownProof's unproven), a confirmed charge
// counts its proof from 0, and it is kept as any other slot.

// refuted is the proof byte of a slot a person's verdict refuted; counts
// stop at 250.
const refuted = 255

// refutedWorth is what a refuted slot is worth over its lessons when the
// memory chooses a slot to replace (a slot's lessons count up to 10, less a
// day's worth per day unseen).
const refutedWorth = 10

// ChargingTeacher is implemented by a Charging detector that learns from a
// person's verdict on its alert.
type ChargingTeacher interface {
	// NotCharging says that the load of about stepW watts that raised an
	// alert was found, at ts, not to be charging, and reports whether the
	// detector learnt from it.
	NotCharging(ts int64, stepW float64) bool
}

// NotCharging implements ChargingTeacher: it refutes the size unless
// Feedback is 0 or the memory holds the size as the unit's charger.
func (s *physCharging) NotCharging(ts int64, stepW float64) bool {
	if s.p.Feedback <= 0 || stepW <= 0 {
		return false
	}
	return s.pc.refute(ts, float32(stepW))
}

// refute marks the slot of a load of w watts refuted, making one if the
// memory holds none of that size, unless the memory holds the size as a
// charger (its charger lessons at least its others, or a proof count): a
// worker who finds nothing at a charger's size may have come after the
// unplug, and refuting the unit's own charger would cost its sessions
// (round 44f: at 5 min, verdicts on known-charger alerts at the unit's
// charger's size cost 4 of its 27 known-charger detections on 209-212).
func (s *physCore) refute(ts int64, w float32) bool {
	k := s.known(w)
	if k < 0 {
		k = s.remember(w, 60, false) // a slot of its own, seen at the verdict (below)
	}
	if k < 0 {
		return false
	}
	m := &s.mem[k]
	if m.proof != refuted && (m.charger >= m.other || m.proof > 0) {
		return false // the unit's own charger's size, as far as the memory knows
	}
	m.proof = refuted
	m.last = max(m.last, int32(ts/60000))
	return true
}

// isMark reports whether slot m holds a verdict's mark that still counts:
// with Feedback 0 (turned off after a verdict) a mark teaches nothing, and
// the slot is read and taught as one with no proof count.
func (s *physCore) isMark(m *sig) bool {
	return m.proof == refuted && s.p.Feedback > 0
}

// countProof adds a confirmed charge's lesson to slot k's proof count
// (capped at 250): none to a slot a verdict refuted (it stays refuted),
// unless Feedback is 0, when a stale mark is counted from 0.
func (s *physCore) countProof(k int) {
	m := &s.mem[k]
	if m.proof == refuted {
		if s.isMark(m) {
			return
		}
		m.proof = 0
	}
	m.proof = min(m.proof+1, 250)
}

// isRefuted reports whether the active memory holds the size w refuted
// by a mark that counts.
func (s *physCore) isRefuted(w float32) bool {
	k := s.known(w)
	return k >= 0 && s.isMark(&s.mem[k])
}

// refutedStep reports whether step c is of a size a verdict refuted (the
// non-active core's by its active size).
func (s *physCore) refutedStep(c *cand) bool {
	if s.p.Feedback <= 0 {
		return false // no mark counts: skip the memory's search
	}
	act, w := s, c.lvl
	if s.nv {
		act, w = s.peer, c.ws
	}
	return act != nil && act.isRefuted(w)
}

// refutedVeto reports whether step i may not be confirmed by path: a path
// other than the rise and the tapers, on a size a verdict refuted. judge
// skips those paths for such a step; this stops the others (the score at
// the drop, the pair's).
func (s *physCore) refutedVeto(ts int64, i int, path uint8) bool {
	if path == pathRise || path == pathTaper || path == pathTaperFall || !s.refutedStep(&s.c[i]) {
		return false
	}
	if s.p.Trace != nil {
		s.trace(ts, "judge", "refuted", i)
	}
	return true
}

// NotCharging passes a person's verdict on the device's indoor-charging
// alert (no charging found at ts; the alert's step stepW watts) to its
// charging detector, and reports whether the detector learnt from it.
func (d *Device) NotCharging(ts int64, stepW float64) bool {
	t, ok := d.chg.(ChargingTeacher)
	return ok && t.NotCharging(ts, stepW)
}
