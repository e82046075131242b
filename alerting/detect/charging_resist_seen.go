package detect

// The resistive test's memory of a step (round 29; PhysicsParams.
// ResistSeen, the x flag xRes). resistive reads a step's var per watt on
// the reading it judges: the non-active power now less before the step,
// over its level. An electric blanket reads resistive only until a load
// with non-active power (a fridge) comes on during its step; from then
// on it reads like a charger and the score confirms it. A step that read
// resistive both ways (|q| under ResistMax) soon after it settled is
// marked, and the mark makes it resistive for the rest of its life.
//
// A charger reads resistive only when a load with non-active power of
// about the charger's own goes off in the reading it is read on: the
// window after settling (ResistSeen s), the reading before
// (ResistSeenMode 1) and a reading without an edge (ResistSeenMode 2)
// bound that.
//
// At 10 s the instant test is off (ResistIv 60: round 14 saw chargers'
// steps read resistive there). ResistSeenIv lets the mark alone read at
// 10 s (round 29c), ResistSeenDelay holds it off for a while after
// settling and ResistSeenShort shortens its window there; off by default
// (see PhysicsParams for what was measured).

// resMark sets c's xRes on a reading ts of the active core that reads the
// open, settled step resistive both ways within ResistSeen s of its
// settling (under ResistIv: ResistSeenShort s, from ResistSeenDelay s) (ResistSeenMode: 1 the reading before too; 2 not when the
// reading is an edge). It reads what resistive reads, under the same
// guards.
func (s *physCore) resMark(ts int64, c *cand, edge bool) {
	pp := s.p
	win := pp.ResistSeen
	if pp.ResistSeenShort > 0 && float64(s.iv) < pp.ResistIv {
		win = min(win, pp.ResistSeenShort)
	}
	if pp.ResistSeen <= 0 || c.openX(xRes) || c.lvl <= 0 || ts > c.t0+ms(pp.Settle)+int64(win*1000) {
		return
	}
	if ts <= c.t0+ms(pp.Settle) {
		return // still settling: its level measured early, when another step came on (open)
	}
	lim := s.resistLim()
	if lim <= 0 || !s.resSeenIv() || s.nv || !s.nxOK || c.fl&fNA == 0 || c.wb <= 0 {
		return
	}
	if float64(s.iv) < pp.ResistIv && ts < c.t0+ms(pp.Settle)+int64(pp.ResistSeenDelay*1000) {
		return // only the mark reads here: not in a charger's soft start
	}
	mode := int(pp.ResistSeenMode)
	if mode&2 != 0 && edge {
		return
	}
	if !resistRead(s.nx, c, lim, 1) {
		return
	}
	if mode&1 != 0 && (s.nxp < 0 || !resistRead(s.nxp, c, lim, 1)) {
		return
	}
	c.sf |= xRes
}

// resSeen reports whether c was marked resistive (xRes) with ResistSeen
// on at this interval.
func (s *physCore) resSeen(c *cand) bool {
	return s.p.ResistSeen > 0 && c.openX(xRes) && s.resSeenIv()
}

// resSeenIv reports whether the mark reads at this reading interval: at
// ResistSeenIv s and over when it is set, else at ResistIv s and over (as
// the instant test).
func (s *physCore) resSeenIv() bool {
	lo := s.p.ResistSeenIv
	if lo <= 0 {
		lo = s.p.ResistIv
	}
	return float64(s.iv) >= lo
}
