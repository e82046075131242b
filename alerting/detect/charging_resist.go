package detect

// resistive reports whether candidate c of the active core drew no non-
// active power (PhysicsParams.ResistMax, ResistMaxLong over 90 s; not under
// ResistIv s): a resistive load, which no charger is, so that the paths of
// mask (bits 1 << path) that ResistPaths holds do not confirm it. The step's var per
// watt is read as notChargerPF reads it: the non-active power now less
// before the step, over its level; a step marked resistive soon after it
// settled (ResistSeen, xRes) is resistive whatever it reads now.
func (s *physCore) resistive(c *cand, mask int) bool {
	pp := s.p
	if int(pp.ResistPaths)&mask == 0 || s.nv || c.lvl <= 0 {
		return false
	}
	if s.resSeen(c) {
		// read resistive soon after it settled (ResistSeen): for the
		// step's life, whatever this reading says or lacks (no non-
		// active power, an interval averaged over 90 s after a gap)
		return true
	}
	lim := s.resistLim()
	if lim <= 0 || float64(s.iv) < pp.ResistIv || !s.nxOK || c.fl&fNA == 0 {
		return false
	}
	if c.wb <= 0 {
		// no non-active power at all before the step: a home always
		// draws some (electronics, a fridge), so the meter may not be
		// measuring it (a current derived from the power, a power
		// factor fixed at 1)
		return false
	}
	r := resistRead(s.nx, c, lim, int(pp.ResistTwoSided))
	if r && int(pp.ResistTwoSided)&2 != 0 {
		// the reading before must say so too
		r = s.nxp >= 0 && resistRead(s.nxp, c, lim, int(pp.ResistTwoSided))
	}
	return r
}

// resistLim is the resistive test's bound on |var per watt| at this
// reading interval: ResistMax, ResistMaxLong over 90 s (0: off).
func (s *physCore) resistLim() float64 {
	if s.iv > 90 {
		return s.p.ResistMaxLong
	}
	return s.p.ResistMax
}

// resistRead reports whether non-active power nx, less c's before its
// step, per watt of its level, is under lim; with bit 1 of mode, also over
// -lim (less than before the step: a load that was on went off since, and
// the reading says nothing of the step's own).
func resistRead(nx float32, c *cand, lim float64, mode int) bool {
	q := (nx - c.wb) / c.lvl
	return q < float32(lim) && (mode&1 == 0 || q > -float32(lim))
}

// fastNewRecheck reports whether a step marked by the fast test (fFast)
// has, at FastNewHold, the non-active power per watt of no charger
// (PhysicsParams.FastNewPF; up to 90 s, with 2 at every interval), so
// that the mark does not confirm it.
func (s *physCore) fastNewRecheck(c *cand) bool {
	return (s.p.FastNewPF >= 2 || s.p.FastNewPF > 0 && s.iv <= 90) && s.notPF(c, 1<<pathFast)
}
